package propagation

import (
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
func (m targetMatcher) matches(ns *corev1.Namespace) bool {
	if ns.Status.Phase == corev1.NamespaceTerminating || !ns.DeletionTimestamp.IsZero() {
		return false
	}
	if glob.MatchAny(m.global, ns.Name) || glob.MatchAny(m.exclude, ns.Name) {
		return false
	}
	if m.selector == nil && len(m.include) == 0 {
		return false
	}
	if m.selector != nil && !m.selector.Matches(labels.Set(ns.Labels)) {
		return false
	}
	return len(m.include) == 0 || glob.MatchAny(m.include, ns.Name)
}
