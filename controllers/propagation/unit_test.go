package propagation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/go-logr/logr/funcr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/courier-operator/courier/api/v1alpha1"
	"github.com/courier-operator/courier/internal/nsscope"
	courierscheme "github.com/courier-operator/courier/internal/scheme"
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
		// why is the start of the reason WhyNotTarget gives; "" for a target.
		why string
	}{
		{"selector match", v1alpha1.ClusterTargets{NamespaceSelector: sel}, ns("x", map[string]string{"team": "a"}), ""},
		{"selector miss", v1alpha1.ClusterTargets{NamespaceSelector: sel}, ns("x", map[string]string{"team": "b"}),
			"the namespace's labels do not match targets.namespaceSelector (team=a)"},
		{"glob match", v1alpha1.ClusterTargets{Namespaces: []v1alpha1.NamespacePattern{"team-*"}}, ns("team-1", nil), ""},
		{"glob miss", v1alpha1.ClusterTargets{Namespaces: []v1alpha1.NamespacePattern{"team-*"}}, ns("web", nil),
			"the namespace matches none of targets.namespaces (team-*)"},
		{"selector AND glob", v1alpha1.ClusterTargets{NamespaceSelector: sel, Namespaces: []v1alpha1.NamespacePattern{"team-*"}}, ns("web", map[string]string{"team": "a"}),
			"the namespace matches none of targets.namespaces (team-*)"},
		{"excluded by spec", v1alpha1.ClusterTargets{NamespaceSelector: &v1alpha1.LabelSelector{}, ExcludeNamespaces: []v1alpha1.NamespacePattern{"*-sandbox"}}, ns("x-sandbox", nil),
			"the namespace matches targets.excludeNamespaces (*-sandbox)"},
		{"excluded globally", v1alpha1.ClusterTargets{NamespaceSelector: &v1alpha1.LabelSelector{}}, ns("kube-system", nil),
			"the namespace is excluded from every propagation by the manager's --excluded-namespaces (kube-system,kube-public,kube-node-lease)"},
		{"empty selector selects all", v1alpha1.ClusterTargets{NamespaceSelector: &v1alpha1.LabelSelector{}}, ns("anything", nil), ""},
		{"no constraint selects nothing", v1alpha1.ClusterTargets{}, ns("anything", nil), "the targets select no namespace"},
		{"terminating", v1alpha1.ClusterTargets{NamespaceSelector: &v1alpha1.LabelSelector{}},
			&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "t"}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceTerminating}},
			"the namespace is being deleted"},
	}
	for _, c := range cases {
		m, err := newTargetMatcher(c.targets, DefaultExcludedNamespaces)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := m.matches(c.ns); got != (c.why == "") {
			t.Errorf("%s: matches = %v, want %v", c.name, got, c.why == "")
		}
		why, err := WhyNotTarget(&v1alpha1.ClusterPropagation{Spec: v1alpha1.ClusterPropagationSpec{Targets: c.targets}}, c.ns, DefaultExcludedNamespaces)
		if err != nil || why != c.why {
			t.Errorf("%s: WhyNotTarget = %q, %v; want %q", c.name, why, err, c.why)
		}
	}
}

func TestWhyNotPulled(t *testing.T) {
	shared := map[string]string{v1alpha1.AnnotationShareWithNamespaces: "team-*"}
	for _, c := range []struct {
		name string
		ann  map[string]string
		ns   *corev1.Namespace
		why  string
	}{
		{"shared", shared, ns("team-a", nil), ""},
		{"not shared", nil, ns("team-a", nil), "the source carries neither"},
		{"not with this namespace", shared, ns("web", nil), `namespace "web" matches neither`},
		{"excluded by the manager", map[string]string{v1alpha1.AnnotationShareWithNamespaces: "*"}, ns("kube-public", nil),
			"the namespace is excluded from every propagation by the manager's --excluded-namespaces"},
	} {
		if why := WhyNotPulled(c.ann, c.ns, DefaultExcludedNamespaces); !strings.HasPrefix(why, c.why) || (c.why == "") != (why == "") {
			t.Errorf("%s: WhyNotPulled = %q; want it to start with %q", c.name, why, c.why)
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

// TestStartWatchesResumesAfterAFailure: when a later controller's watch fails to
// start, the retry must not start the earlier controllers' watches again.
func TestStartWatchesResumesAfterAFailure(t *testing.T) {
	k := newKindRegistry(nil, nil)
	gvk := schema.GroupVersionKind{Group: "networking.k8s.io", Version: "v1", Kind: "NetworkPolicy"}
	var first, second int
	k.onNewKind(func(schema.GroupVersionKind) error { first++; return nil })
	k.onNewKind(func(schema.GroupVersionKind) error {
		second++
		if second == 1 {
			return errors.New("not yet")
		}
		return nil
	})
	if err := k.startWatches(gvk); err == nil {
		t.Fatal("the failing starter's error was lost")
	}
	if len(k.known()) != 0 {
		t.Fatal("a kind whose watches do not all run counts as watched")
	}
	for range 2 {
		if err := k.startWatches(gvk); err != nil {
			t.Fatal(err)
		}
	}
	if first != 1 || second != 2 {
		t.Fatalf("starters ran %d and %d times, want 1 and 2 (no duplicate watch)", first, second)
	}
	if got := k.known(); len(got) != 1 || got[0] != gvk {
		t.Fatalf("known = %v", got)
	}
}

// TestFailureMessagesCutAtARuneBoundary: a long message with multi-byte
// characters is cut to the field's limit without splitting a character.
func TestFailureMessagesCutAtARuneBoundary(t *testing.T) {
	msg := strings.Repeat("é", 600) // 1,200 bytes
	var tl tally
	tl.add(reconciler.ChildReport{Desired: 1, Outcomes: []reconciler.ChildOutcome{{
		Key: types.NamespacedName{Namespace: "a", Name: "c"}, Action: reconciler.ChildFailed, Reason: "Invalid", Message: msg}}})
	got := tl.failures[0].Message
	if len(got) > maxFailureMessage || !utf8.ValidString(got) || !strings.HasSuffix(got, "...") {
		t.Fatalf("message of %d bytes, valid UTF-8 %v: %q", len(got), utf8.ValidString(got), got[len(got)-8:])
	}
}

// TestMapFunctionsLogFailedLookups: a map function whose lookup fails drops the
// event (it has nothing to enqueue) but says so; before, the error vanished.
func TestMapFunctionsLogFailedLookups(t *testing.T) {
	var logged []string
	ctx := logf.IntoContext(context.Background(), funcr.New(func(prefix, args string) { logged = append(logged, args) }, funcr.Options{}))
	failing := fake.NewClientBuilder().WithScheme(courierscheme.New()).WithInterceptorFuncs(interceptor.Funcs{
		List: func(context.Context, client.WithWatch, client.ObjectList, ...client.ListOption) error {
			return errors.New("cache stopped")
		},
	}).Build()
	m := mapper{c: failing}
	src := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: "src", Name: "creds"}}
	for name, mapFn := range map[string]func(context.Context, client.Object) []reconcile.Request{
		"cluster source": forSource(m, clusterVariant, secretGVK),
		"pull source":    forSource(m, pullVariant, secretGVK),
		"cluster ns":     m.clusterForNamespace,
		"pull ns":        m.pullForNamespace,
	} {
		logged = nil
		var obj client.Object = src
		if strings.HasSuffix(name, "ns") {
			obj = ns("team", nil)
		}
		if got := mapFn(ctx, obj); len(got) != 0 {
			t.Errorf("%s: mapped to %v on a failed lookup", name, got)
		}
		if len(logged) == 0 || !strings.Contains(strings.Join(logged, " "), "cache stopped") {
			t.Errorf("%s: the failed lookup was not logged: %v", name, logged)
		}
	}
}

// TestScopeLimitsTargetsSourcesAndLookups: a namespaced install targets only its
// namespaces and says which it left out, never reads a source outside them, and
// lists nothing of a namespace outside them (its cache would refuse).
func TestScopeLimitsTargetsSourcesAndLookups(t *testing.T) {
	scope := nsscope.New("team-a", "team-b")
	team := map[string]string{"team": "yes"}
	var listedIn []string
	c := fake.NewClientBuilder().WithScheme(courierscheme.New()).
		WithObjects(ns("team-a", team), ns("team-b", team), ns("prod", team), ns("web", nil)).
		WithInterceptorFuncs(interceptor.Funcs{
			List: func(ctx context.Context, cl client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
				o := (&client.ListOptions{}).ApplyOptions(opts)
				if o.Namespace != "" {
					listedIn = append(listedIn, o.Namespace)
				}
				return cl.List(ctx, list, opts...)
			},
			Get: func(ctx context.Context, cl client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
				if key.Namespace != "" && !scope.Contains(key.Namespace) {
					t.Errorf("read %s outside scope", key)
				}
				return cl.Get(ctx, key, obj, opts...)
			},
		}).Build()
	var facts []string
	notReady := func(reason, format string, args ...any) {
		facts = append(facts, reason+": "+fmt.Sprintf(format, args...))
	}
	p := &v1alpha1.ClusterPropagation{Spec: v1alpha1.ClusterPropagationSpec{Targets: v1alpha1.ClusterTargets{
		NamespaceSelector: &v1alpha1.LabelSelector{MatchLabels: map[string]v1alpha1.LabelValue{"team": "yes"}}}}}
	src := &unstructured.Unstructured{}
	src.SetNamespace("team-a")
	got, err := clusterTargeting(c, p, nil, scope, notReady)(context.Background(), src)
	if err != nil || fmt.Sprint(got) != "[team-b]" {
		t.Errorf("targets %v (%v), want [team-b]", got, err)
	}
	want := "OutsideWatchedNamespaces: targets outside the namespaces this Courier is installed for (team-a,team-b) get no copy (1): prod"
	if len(facts) != 1 || facts[0] != want {
		t.Errorf("facts %q, want %q", facts, want)
	}

	facts = nil
	v := view{sources: []v1alpha1.SourceReference{
		{APIVersion: "v1", Kind: "Secret", Namespace: "prod", Name: "db"},
		{APIVersion: "v1", Kind: "Secret", Namespace: "prod", Selector: &v1alpha1.LabelSelector{}},
	}}
	sources, err := resolveSources(context.Background(), c, v, secretGVK, scope, notReady)
	if err != nil || len(sources) != 0 || len(facts) != 2 || !strings.HasPrefix(facts[0], "OutsideWatchedNamespaces: source namespace prod is outside") {
		t.Errorf("sources outside scope: %v, %v, facts %q", sources, err, facts)
	}

	listedIn = nil
	m := mapper{c: c, scope: scope}
	m.clusterForNamespace(context.Background(), ns("prod", team))
	if reqs := m.pullForNamespace(context.Background(), ns("prod", nil)); len(reqs) != 0 || len(listedIn) != 0 {
		t.Errorf("namespace events outside scope listed in %v (pull requests %v)", listedIn, reqs)
	}
	m.clusterForNamespace(context.Background(), ns("team-b", team))
	if fmt.Sprint(listedIn) != "[team-b team-b]" {
		t.Errorf("a namespace in scope: copies listed in %v, want team-b twice (Secrets, ConfigMaps)", listedIn)
	}
}
