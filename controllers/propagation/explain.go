package propagation

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/courier-operator/courier/api/v1alpha1"
)

// WhyNotTarget says why the ClusterPropagation p copies nothing into ns, or ""
// when ns is one of its targets, for a manager excluding the excluded namespaces:
// the controller's own targeting rule, for kubectl-courier. (A source's own
// namespace is never a target either; the caller knows the sources.)
func WhyNotTarget(p *v1alpha1.ClusterPropagation, ns *corev1.Namespace, excluded []string) (string, error) {
	m, err := newTargetMatcher(p.Spec.Targets, excluded)
	if err != nil {
		return "", fmt.Errorf("targets.namespaceSelector: %w", err)
	}
	return m.mismatch(ns), nil
}

// WhyNotPulled says why a Propagation in ns gets no copy of a source (in another
// namespace) carrying these annotations, or "" when it may pull it, for a manager
// excluding the excluded namespaces: the controller's own consent rule.
func WhyNotPulled(sourceAnnotations map[string]string, ns *corev1.Namespace, excluded []string) string {
	_, why := pullRefusal(sourceAnnotations, ns, excluded)
	return why
}
