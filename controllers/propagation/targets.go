package propagation

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/courier-operator/courier/api/v1alpha1"
	"github.com/courier-operator/courier/internal/glob"
)

// targetMatcher decides whether a namespace is a ClusterPropagation target.
type targetMatcher struct {
	selector labels.Selector // nil: no selector constraint
	include  []v1alpha1.NamespacePattern
	exclude  []v1alpha1.NamespacePattern
	global   []string // the manager's excluded namespaces
}

func newTargetMatcher(t v1alpha1.ClusterTargets, global []string) (targetMatcher, error) {
	m := targetMatcher{include: t.Namespaces, exclude: t.ExcludeNamespaces, global: global}
	if t.NamespaceSelector != nil {
		sel, err := t.NamespaceSelector.AsSelector()
		if err != nil {
			return m, err
		}
		m.selector = sel
	}
	return m, nil
}

// matches reports whether ns is a target, ignoring which source it is for (the
// source's own namespace is removed per source, see isTargetFor).
func (m targetMatcher) matches(ns *corev1.Namespace) bool { return m.mismatch(ns) == "" }

// mismatch says why ns is not a target, or "" when it is one: the one rule behind
// matches and kubectl-courier's answers (WhyNotTarget).
func (m targetMatcher) mismatch(ns *corev1.Namespace) string {
	switch {
	case ns.Status.Phase == corev1.NamespaceTerminating || !ns.DeletionTimestamp.IsZero():
		return "the namespace is being deleted"
	case glob.MatchAny(m.global, ns.Name):
		return "the namespace is excluded from every propagation by the manager's --excluded-namespaces (" + strings.Join(m.global, ",") + ")"
	case glob.MatchAny(m.exclude, ns.Name):
		return "the namespace matches targets.excludeNamespaces (" + patterns(m.exclude) + ")"
	case m.selector == nil && len(m.include) == 0:
		return "the targets select no namespace"
	case m.selector != nil && !m.selector.Matches(labels.Set(ns.Labels)):
		return "the namespace's labels do not match targets.namespaceSelector (" + m.selector.String() + ")"
	case len(m.include) > 0 && !glob.MatchAny(m.include, ns.Name):
		return "the namespace matches none of targets.namespaces (" + patterns(m.include) + ")"
	}
	return ""
}

func patterns(ps []v1alpha1.NamespacePattern) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = string(p)
	}
	return strings.Join(s, ",")
}
