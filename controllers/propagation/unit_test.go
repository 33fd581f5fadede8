package propagation

import (
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/courier-operator/courier/api/v1alpha1"
	"github.com/courier-operator/courier/pkg/reconciler"
)

func ns(name string, labels map[string]string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
}

func TestTargetMatcher(t *testing.T) {
	sel := &v1alpha1.LabelSelector{MatchLabels: map[string]v1alpha1.LabelValue{"team": "a"}}
	cases := []struct {
		name    string
		targets v1alpha1.ClusterTargets
		ns      *corev1.Namespace
		want    bool
	}{
		{"selector match", v1alpha1.ClusterTargets{NamespaceSelector: sel}, ns("x", map[string]string{"team": "a"}), true},
		{"selector miss", v1alpha1.ClusterTargets{NamespaceSelector: sel}, ns("x", map[string]string{"team": "b"}), false},
		{"glob match", v1alpha1.ClusterTargets{Namespaces: []v1alpha1.NamespacePattern{"team-*"}}, ns("team-1", nil), true},
		{"glob miss", v1alpha1.ClusterTargets{Namespaces: []v1alpha1.NamespacePattern{"team-*"}}, ns("web", nil), false},
		{"selector AND glob", v1alpha1.ClusterTargets{NamespaceSelector: sel, Namespaces: []v1alpha1.NamespacePattern{"team-*"}}, ns("web", map[string]string{"team": "a"}), false},
		{"excluded by spec", v1alpha1.ClusterTargets{NamespaceSelector: &v1alpha1.LabelSelector{}, ExcludeNamespaces: []v1alpha1.NamespacePattern{"*-sandbox"}}, ns("x-sandbox", nil), false},
		{"excluded globally", v1alpha1.ClusterTargets{NamespaceSelector: &v1alpha1.LabelSelector{}}, ns("kube-system", nil), false},
		{"empty selector selects all", v1alpha1.ClusterTargets{NamespaceSelector: &v1alpha1.LabelSelector{}}, ns("anything", nil), true},
		{"no constraint selects nothing", v1alpha1.ClusterTargets{}, ns("anything", nil), false},
		{"terminating", v1alpha1.ClusterTargets{NamespaceSelector: &v1alpha1.LabelSelector{}},
			&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "t"}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceTerminating}}, false},
	}
	for _, c := range cases {
		m, err := newTargetMatcher(c.targets, DefaultExcludedNamespaces)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := m.matches(c.ns); got != c.want {
			t.Errorf("%s: matches = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestRefersTo(t *testing.T) {
	obj := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: "creds", Namespace: "src"}}
	refs := []v1alpha1.SourceReference{{APIVersion: "v1", Kind: "Secret", Namespace: "src", Name: "creds"}}
	if !refersTo(refs, secretGVK, obj) {
		t.Error("named reference not found")
	}
	if refersTo(refs, configMapGVK, obj) {
		t.Error("kind ignored")
	}
	obj.Name = "other"
	if refersTo(refs, secretGVK, obj) {
		t.Error("name ignored")
	}
	sel := []v1alpha1.SourceReference{{APIVersion: "v1", Kind: "Secret", Namespace: "src", Selector: &v1alpha1.LabelSelector{}}}
	if !refersTo(sel, secretGVK, obj) {
		t.Error("a selector reference must map every object of its namespace")
	}
	if got := sourceKeys(refs); len(got) != 1 || got[0] != "/v1/Secret/src" {
		t.Errorf("sourceKeys = %v", got)
	}
}

func TestCopyPolicy(t *testing.T) {
	unmanaged := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: "a"}}
	otherCopy := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: "a",
		Labels: map[string]string{v1alpha1.LabelManagedBy: "courier", v1alpha1.LabelPropagation: "other"}}}
	for policy, want := range map[v1alpha1.ConflictPolicy]reconciler.ConflictAction{
		"": reconciler.ConflictSkip, v1alpha1.ConflictSkip: reconciler.ConflictSkip,
		v1alpha1.ConflictAdopt: reconciler.ConflictAdopt, v1alpha1.ConflictOverwrite: reconciler.ConflictOverwrite,
	} {
		p := copyPolicy{conflict: policy}
		if got, why := p.onConflict(unmanaged); got != want || why != "" {
			t.Errorf("%q: onConflict = %v %q, want %v", policy, got, why, want)
		}
		if got, why := p.onConflict(otherCopy); got != reconciler.ConflictSkip || why != "a/x is a copy managed by Propagation a/other" {
			t.Errorf("%q: another propagation's copy must be skipped, and its owner named: got %v %q", policy, got, why)
		}
	}
	orphan := copyPolicy{deletion: v1alpha1.DeletionOrphan, withdrawn: map[types.NamespacedName]bool{{Namespace: "a", Name: "w"}: true}}
	if orphan.prune(unmanaged) != reconciler.PruneOrphan {
		t.Error("Orphan must orphan")
	}
	if orphan.prune(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "w", Namespace: "a"}}) != reconciler.PruneDelete {
		t.Error("a copy whose consent was withdrawn must be deleted even under Orphan")
	}
	if (copyPolicy{}).prune(unmanaged) != reconciler.PruneDelete {
		t.Error("Delete is the default")
	}
}

func TestTallyBoundsFailuresAndKeepsLastSyncOnSteadyState(t *testing.T) {
	var r reconciler.ChildReport
	for i := 0; i < 30; i++ {
		r.Outcomes = append(r.Outcomes, reconciler.ChildOutcome{Key: types.NamespacedName{Namespace: fmt.Sprint("ns", i), Name: "c"},
			Action: reconciler.ChildConflict, Reason: "Unmanaged", Message: strings.Repeat("m", 2000)})
	}
	r.Desired = 30
	var tl tally
	tl.add(r)
	st := v1alpha1.PropagationStatus{}
	tl.apply(&st, time.Now())
	if len(st.Failures) != v1alpha1.MaxReportedFailures || st.Conflicting != 30 || st.Desired != 30 {
		t.Fatalf("status = %+v", st)
	}
	if len(st.Failures[0].Message) > 1024 {
		t.Error("failure message not truncated")
	}
	if st.LastSyncTime != nil {
		t.Error("lastSyncTime set although nothing was written")
	}
	var wrote tally
	wrote.add(reconciler.ChildReport{Desired: 1, Outcomes: []reconciler.ChildOutcome{{Action: reconciler.ChildCreated}}})
	wrote.apply(&st, time.Now())
	if st.LastSyncTime == nil || st.Synced != 1 {
		t.Errorf("after a create: %+v", st)
	}
}
