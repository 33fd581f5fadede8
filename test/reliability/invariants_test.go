package reliability

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/api/v1alpha1"
)

// fanout is one ClusterPropagation scenario and everything the invariants need to
// know about it.
type fanout struct {
	name      string   // the ClusterPropagation
	srcNS     string   // namespace of every source
	secrets   []string // source Secret names
	configMap string   // source ConfigMap name ("" for none)
	targets   []string // namespaces that must hold a copy of every source
	// untouched are objects Courier must never modify or delete (unmanaged objects
	// sitting where a copy would go, and unrelated Secrets), with their
	// resourceVersion when the scenario started.
	untouched map[types.NamespacedName]string
}

// newFanout creates the sources, n target namespaces, an unrelated Secret in every
// third target, unmanaged conflicting objects, and the ClusterPropagation.
func newFanout(ctx context.Context, prefix string, n int) *fanout {
	f := &fanout{name: uniq(prefix), untouched: map[types.NamespacedName]string{}}
	f.srcNS = mkNamespace(ctx, f.name+"-src", nil)
	f.secrets = []string{"creds", "tls"}
	for _, s := range f.secrets {
		mkSecret(ctx, f.srcNS, s)
	}
	f.configMap = "settings"
	mkConfigMap(ctx, f.srcNS, f.configMap)
	f.targets = mkNamespaces(ctx, f.name, n, map[string]string{"fanout": f.name})
	for i, ns := range f.targets {
		if i%3 == 0 {
			u := mkSecret(ctx, ns, "unrelated")
			f.untouched[client.ObjectKeyFromObject(u)] = u.ResourceVersion
		}
	}
	// An unmanaged object with a copy's name in the first two targets, there before
	// Courier: conflictPolicy Skip leaves it alone, so those targets get no "tls" copy.
	for _, ns := range f.targets[:min(2, n)] {
		u := mkSecret(ctx, ns, "tls")
		f.untouched[client.ObjectKeyFromObject(u)] = u.ResourceVersion
	}
	mkCluster(ctx, f.name, v1alpha1.ClusterPropagationSpec{
		Sources: []v1alpha1.SourceReference{secretRef(f.srcNS, "creds"), secretRef(f.srcNS, "tls"), configMapRef(f.srcNS, f.configMap)},
		Targets: v1alpha1.ClusterTargets{NamespaceSelector: matchLabels("fanout", f.name)},
	})
	return f
}

// expected returns the copies that must exist: kind/ns/name.
func (f *fanout) expected() map[string]bool {
	out := map[string]bool{}
	for _, ns := range f.targets {
		for _, s := range f.secrets {
			if _, conflict := f.untouched[types.NamespacedName{Namespace: ns, Name: s}]; !conflict {
				out["Secret/"+ns+"/"+s] = true
			}
		}
		if f.configMap != "" {
			out["ConfigMap/"+ns+"/"+f.configMap] = true
		}
	}
	return out
}

// ownedBy is the label selector of the copies of this propagation.
func (f *fanout) ownedBy() client.MatchingLabels {
	return client.MatchingLabels{v1alpha1.LabelClusterPropagation: f.name}
}

// copies lists every object labelled as a copy of this propagation, anywhere.
func (f *fanout) copies(ctx context.Context, g Gomega) (map[string]*corev1.Secret, map[string]*corev1.ConfigMap) {
	var sl corev1.SecretList
	g.Expect(admin.List(ctx, &sl, f.ownedBy())).To(Succeed())
	var cl corev1.ConfigMapList
	g.Expect(admin.List(ctx, &cl, f.ownedBy())).To(Succeed())
	secrets, cms := map[string]*corev1.Secret{}, map[string]*corev1.ConfigMap{}
	for i := range sl.Items {
		secrets["Secret/"+sl.Items[i].Namespace+"/"+sl.Items[i].Name] = &sl.Items[i]
	}
	for i := range cl.Items {
		cms["ConfigMap/"+cl.Items[i].Namespace+"/"+cl.Items[i].Name] = &cl.Items[i]
	}
	return secrets, cms
}

// copyUIDs returns the uid of every copy (a copy deleted and re-created, instead of
// updated in place, changes uid).
func (f *fanout) copyUIDs(ctx context.Context) map[string]types.UID {
	secrets, cms := f.copies(ctx, Default)
	out := map[string]types.UID{}
	for k, s := range secrets {
		out[k] = s.UID
	}
	for k, c := range cms {
		out[k] = c.UID
	}
	return out
}

// progress counts copies that exist and match the sources' current content.
func (f *fanout) progress(ctx context.Context) int {
	srcS, srcC := f.sourceContent(ctx, Default)
	secrets, cms := f.copies(ctx, Default)
	n := 0
	for k, s := range secrets {
		if src, ok := srcS[k[len("Secret/"+s.Namespace+"/"):]]; ok && bytesMapEqual(src.Data, s.Data) {
			n++
		}
	}
	for _, c := range cms {
		if srcC != nil && maps.Equal(srcC.Data, c.Data) {
			n++
		}
	}
	return n
}

func (f *fanout) sourceContent(ctx context.Context, g Gomega) (map[string]*corev1.Secret, *corev1.ConfigMap) {
	out := map[string]*corev1.Secret{}
	for _, name := range f.secrets {
		var s corev1.Secret
		g.Expect(admin.Get(ctx, types.NamespacedName{Namespace: f.srcNS, Name: name}, &s)).To(Succeed())
		out[name] = &s
	}
	if f.configMap == "" {
		return out, nil
	}
	var c corev1.ConfigMap
	g.Expect(admin.Get(ctx, types.NamespacedName{Namespace: f.srcNS, Name: f.configMap}, &c)).To(Succeed())
	return out, &c
}

// expectConverged waits until every invariant of a live propagation holds: exactly
// the expected copies exist (no orphans, no duplicates), each byte-identical to its
// source with Courier's labels and none of the source's tooling metadata, and no
// unmanaged object was touched.
func (f *fanout) expectConverged(ctx context.Context) {
	Eventually(func(g Gomega) {
		srcS, srcC := f.sourceContent(ctx, g)
		secrets, cms := f.copies(ctx, g)
		want := f.expected()
		got := map[string]bool{}
		for k, s := range secrets {
			got[k] = true
			src := srcS[s.Name]
			g.Expect(src).NotTo(BeNil(), "copy %s has no source", k)
			g.Expect(sortedKeys(s.Data)).To(Equal(sortedKeys(src.Data)), "data keys of copy %s differ from its source's", k)
			g.Expect(bytesMapEqual(s.Data, src.Data)).To(BeTrue(), "copy %s differs from its source", k)
			g.Expect(s.Type).To(Equal(src.Type), "type of %s", k)
			f.expectCopyMeta(g, k, s.ObjectMeta, src.ObjectMeta)
		}
		for k, c := range cms {
			got[k] = true
			g.Expect(c.Data).To(Equal(srcC.Data), "copy %s differs from its source", k)
			g.Expect(c.BinaryData).To(Equal(srcC.BinaryData), "binaryData of %s", k)
			f.expectCopyMeta(g, k, c.ObjectMeta, srcC.ObjectMeta)
		}
		g.Expect(sortedKeys(got)).To(Equal(sortedKeys(want)), "copies (missing or orphaned/duplicated)")
		f.expectUntouched(ctx, g)
	}).Should(Succeed())
	figures.copiesVerified.Add(int64(len(f.expected())))
}

func (f *fanout) expectCopyMeta(g Gomega, key string, copyMeta, src metav1.ObjectMeta) {
	g.Expect(copyMeta.Labels).To(HaveKeyWithValue(v1alpha1.LabelManagedBy, v1alpha1.ManagedByValue), key)
	g.Expect(copyMeta.Labels).To(HaveKeyWithValue(v1alpha1.LabelClusterPropagation, f.name), key)
	g.Expect(copyMeta.Annotations).To(HaveKeyWithValue(v1alpha1.AnnotationSource, src.Namespace+"/"+src.Name), key)
	g.Expect(copyMeta.Annotations).NotTo(HaveKey(lastApplied), key)
	g.Expect(copyMeta.Labels).NotTo(HaveKey(helmLabel), key)
	g.Expect(copyMeta.OwnerReferences).To(BeEmpty(), key)
}

// expectUntouched checks that no unmanaged object changed.
func (f *fanout) expectUntouched(ctx context.Context, g Gomega) {
	for key, rv := range f.untouched {
		var s corev1.Secret
		g.Expect(admin.Get(ctx, key, &s)).To(Succeed(), "unmanaged %s was deleted", key)
		g.Expect(s.ResourceVersion).To(Equal(rv), "unmanaged %s was modified", key)
		g.Expect(s.Labels).NotTo(HaveKey(v1alpha1.LabelClusterPropagation), "unmanaged %s was adopted", key)
	}
}

// expectCleanedUp waits until the propagation is gone (finalizer released) and no
// copy of it is left anywhere, and checks no unmanaged object was touched.
func (f *fanout) expectCleanedUp(ctx context.Context) {
	Eventually(gone(ctx, &v1alpha1.ClusterPropagation{ObjectMeta: metav1.ObjectMeta{Name: f.name}})).
		Should(BeTrue(), "ClusterPropagation %s still exists: finalizer not released", f.name)
	Eventually(func(g Gomega) {
		secrets, cms := f.copies(ctx, g)
		g.Expect(len(secrets)+len(cms)).To(BeZero(), "orphaned copies: %v %v", sortedKeys(secrets), sortedKeys(cms))
		f.expectUntouched(ctx, g)
	}).Should(Succeed())
}

// updateSources changes the data of every source.
func (f *fanout) updateSources(ctx context.Context) {
	for _, name := range f.secrets {
		var s corev1.Secret
		Expect(admin.Get(ctx, types.NamespacedName{Namespace: f.srcNS, Name: name}, &s)).To(Succeed())
		s.Data["random"] = []byte(randomHex(16))
		s.Data["added"] = []byte(fmt.Sprintf("v-%s", randomHex(4)))
		Expect(admin.Update(ctx, &s)).To(Succeed())
	}
	var c corev1.ConfigMap
	Expect(admin.Get(ctx, types.NamespacedName{Namespace: f.srcNS, Name: f.configMap}, &c)).To(Succeed())
	c.Data["config.yaml"] = "a: " + randomHex(4) + "\n"
	Expect(admin.Update(ctx, &c)).To(Succeed())
}

func bytesMapEqual(a, b map[string][]byte) bool {
	return maps.EqualFunc(a, b, bytes.Equal)
}

func sortedKeys[V any](m map[string]V) []string {
	k := slices.Collect(maps.Keys(m))
	sort.Strings(k)
	return k
}
