package propagation

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/api/v1alpha1"
)

// The copy cache keeps a copy's metadata and the digest of its content, never the
// content (CacheByObject). These specs prove that, and that every kind of hand edit
// is still seen and repaired with one write.
var _ = Describe("the copy cache", func() {
	ctx := context.Background()

	It("holds a copy's metadata and content digest, not its data, and the digest never reaches the API server", func() {
		f := newFixture(ctx, 1)
		mkSecret(ctx, f.srcNS, "creds", map[string]string{"k": "v"})
		p := mkCluster(ctx, uniq("cached"), f.spec(secretRef(f.srcNS, "creds")))
		key := types.NamespacedName{Namespace: f.targets[0], Name: "creds"}
		Eventually(secretData(ctx, key.Namespace, key.Name)).Should(Equal(map[string]string{"k": "v"}))

		var cached corev1.Secret
		Eventually(func() error { return mgr.GetCache().Get(ctx, key, &cached) }).Should(Succeed())
		Expect(cached.Data).To(BeNil())
		Expect(cached.Type).To(BeEmpty())
		Expect(cached.Labels).To(Equal(copyOf(p.Name)))
		Expect(cached.Annotations).To(HaveKey(copyDigest))
		Expect(cached.Annotations).To(HaveKey(v1alpha1.AnnotationCopyHash))
		Expect(cached.ManagedFields).To(BeEmpty())

		live := getSecret(ctx, key.Namespace, key.Name)
		Expect(live.Annotations).NotTo(HaveKey(copyDigest))
		Expect(live.Type).To(Equal(corev1.SecretTypeOpaque))
	})

	// Each edit is made with a full-object Update, as kubectl edit does; the copy
	// must come back to exactly what it was, with one write by Courier.
	DescribeTable("repairs every kind of hand edit with one write",
		func(kind string, edit func(client.Object)) {
			f := newFixture(ctx, 1)
			src := sourceOfKind(kind, f.srcNS)
			Expect(admin.Create(ctx, src)).To(Succeed())
			mkCluster(ctx, uniq("edit"), f.spec(named("v1", kind, f.srcNS, src.GetName())))
			key := types.NamespacedName{Namespace: f.targets[0], Name: src.GetName()}

			want := sourceOfKind(kind, "")
			Eventually(func() error { return admin.Get(ctx, key, want) }).Should(Succeed())
			isCopy := func(w write) bool { return w.kind == kind && w.namespace == key.Namespace && w.name == key.Name }
			before := writes.count(isCopy)

			edited := sourceOfKind(kind, "")
			Expect(admin.Get(ctx, key, edited)).To(Succeed())
			edit(edited)
			Expect(admin.Update(ctx, edited)).To(Succeed())

			Eventually(func() map[string]any { return contentAndMeta(ctx, key, kind) }).Should(Equal(withoutLifecycle(want)))
			Consistently(func() []string { return writes.since(before, isCopy) }).Should(Equal([]string{"update " + kind + " " + key.String()}))
		},
		Entry("Secret: a value changed", "Secret", func(o client.Object) { o.(*corev1.Secret).Data["k"] = []byte("tampered") }),
		Entry("Secret: a key added", "Secret", func(o client.Object) { o.(*corev1.Secret).Data["added"] = []byte("by hand") }),
		Entry("Secret: a key removed", "Secret", func(o client.Object) { delete(o.(*corev1.Secret).Data, "other") }),
		Entry("Secret: every key removed", "Secret", func(o client.Object) { o.(*corev1.Secret).Data = nil }),
		Entry("Secret: a label added", "Secret", func(o client.Object) { o.SetLabels(with(o.GetLabels(), "added", "by-hand")) }),
		Entry("Secret: a copied label changed", "Secret", func(o client.Object) { o.SetLabels(with(o.GetLabels(), "team-of-source", "other")) }),
		Entry("Secret: an annotation added", "Secret", func(o client.Object) { o.SetAnnotations(with(o.GetAnnotations(), "added", "by hand")) }),
		Entry("Secret: an annotation removed", "Secret", func(o client.Object) { o.SetAnnotations(without(o.GetAnnotations(), v1alpha1.AnnotationSource)) }),
		Entry("Secret: the copy hash changed", "Secret", func(o client.Object) { o.SetAnnotations(with(o.GetAnnotations(), v1alpha1.AnnotationCopyHash, "0")) }),
		Entry("Secret: the cache's digest key set by hand", "Secret", func(o client.Object) { o.SetAnnotations(with(o.GetAnnotations(), copyDigest, "forged")) }),
		Entry("ConfigMap: a value changed", "ConfigMap", func(o client.Object) { o.(*corev1.ConfigMap).Data["k"] = "tampered" }),
		Entry("ConfigMap: a key added", "ConfigMap", func(o client.Object) { o.(*corev1.ConfigMap).Data["added"] = "by hand" }),
		Entry("ConfigMap: binaryData added", "ConfigMap", func(o client.Object) {
			o.(*corev1.ConfigMap).BinaryData = map[string][]byte{"bin": {0, 1}}
		}),
		Entry("ConfigMap: a key removed", "ConfigMap", func(o client.Object) { delete(o.(*corev1.ConfigMap).Data, "other") }),
		Entry("ConfigMap: a label removed", "ConfigMap", func(o client.Object) { o.SetLabels(without(o.GetLabels(), "team-of-source")) }),
	)
})

// sourceOfKind returns a source Secret or ConfigMap (two keys and a label) in ns;
// with ns "" an empty object of that kind to read into.
func sourceOfKind(kind, ns string) client.Object {
	meta := metav1.ObjectMeta{Name: "cfg", Namespace: ns, Labels: map[string]string{"team-of-source": "a"}}
	if ns == "" {
		meta = metav1.ObjectMeta{}
	}
	if kind == "Secret" {
		return &corev1.Secret{ObjectMeta: meta, Data: map[string][]byte{"k": []byte("v"), "other": []byte("o")}}
	}
	return &corev1.ConfigMap{ObjectMeta: meta, Data: map[string]string{"k": "v", "other": "o"}}
}

// contentAndMeta reads the copy key and returns what Exact keeps equal to the
// desired state (withoutLifecycle).
func contentAndMeta(ctx context.Context, key types.NamespacedName, kind string) map[string]any {
	obj := sourceOfKind(kind, "")
	Expect(admin.Get(ctx, key, obj)).To(Succeed())
	return withoutLifecycle(obj)
}

// withoutLifecycle is obj's labels, annotations and content: what a copy must keep
// exactly, without the metadata the API server changes on every write.
func withoutLifecycle(obj client.Object) map[string]any {
	out := map[string]any{"labels": obj.GetLabels(), "annotations": obj.GetAnnotations()}
	switch o := obj.(type) {
	case *corev1.Secret:
		out["data"], out["type"], out["immutable"] = o.Data, o.Type, o.Immutable
	case *corev1.ConfigMap:
		out["data"], out["binaryData"], out["immutable"] = o.Data, o.BinaryData, o.Immutable
	}
	return out
}

func with(m map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for mk, mv := range m {
		if mk != k {
			out[mk] = mv
		}
	}
	return out
}

func without(m map[string]string, k string) map[string]string {
	out := map[string]string{}
	for mk, mv := range m {
		if mk != k {
			out[mk] = mv
		}
	}
	return out
}
