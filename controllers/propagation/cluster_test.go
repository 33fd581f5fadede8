package propagation

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/api/v1alpha1"
)

// fixture is one spec's world: a source namespace with a source Secret and a team
// label that selects the targets.
type fixture struct {
	team, srcNS string
	targets     []string
}

func newFixture(ctx context.Context, nTargets int) fixture {
	f := fixture{team: uniq("team"), srcNS: uniq("src")}
	// The source namespace carries the team label too: it must still never be a target.
	mkNamespace(ctx, f.srcNS, map[string]string{"team": f.team})
	for i := 0; i < nTargets; i++ {
		ns := uniq("tgt")
		mkNamespace(ctx, ns, map[string]string{"team": f.team})
		f.targets = append(f.targets, ns)
	}
	return f
}

func (f fixture) spec(sources ...v1alpha1.SourceReference) v1alpha1.ClusterPropagationSpec {
	return v1alpha1.ClusterPropagationSpec{
		Sources: sources,
		Targets: v1alpha1.ClusterTargets{NamespaceSelector: bySelector("team", f.team)},
	}
}

// syncedCopy is the most common start of a spec: a ClusterPropagation named after
// prefix copies the Secret creds {k: v} into one target namespace; it returns once
// the copy is there, with the fixture, the propagation and the copy's key.
func syncedCopy(ctx context.Context, prefix string) (fixture, *v1alpha1.ClusterPropagation, types.NamespacedName) {
	f := newFixture(ctx, 1)
	mkSecret(ctx, f.srcNS, "creds", map[string]string{"k": "v"})
	p := mkCluster(ctx, uniq(prefix), f.spec(secretRef(f.srcNS, "creds")))
	key := types.NamespacedName{Namespace: f.targets[0], Name: "creds"}
	Eventually(secretData(ctx, key.Namespace, key.Name)).Should(Equal(map[string]string{"k": "v"}))
	return f, p, key
}

var _ = Describe("ClusterPropagation", func() {
	ctx := context.Background()

	It("writes every count, zeros included, so kubectl get shows no blank column", func() {
		f := newFixture(ctx, 0)
		mkSecret(ctx, f.srcNS, "creds", map[string]string{"k": "v"})
		p := mkCluster(ctx, uniq("zeros"), f.spec(secretRef(f.srcNS, "creds")))
		Eventually(readyOf(ctx, p)).Should(HavePrefix("True/"))
		stored := &unstructured.Unstructured{}
		stored.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind("ClusterPropagation"))
		Expect(admin.Get(ctx, client.ObjectKeyFromObject(p), stored)).To(Succeed())
		for _, field := range []string{"desired", "synced", "conflicting", "failed"} {
			n, found, err := unstructured.NestedInt64(stored.Object, "status", field)
			Expect(err).NotTo(HaveOccurred())
			Expect(found).To(BeTrue(), "status.%s is not stored", field)
			Expect(n).To(BeZero())
		}
		deleteAndWait(ctx, p)
	})

	It("fans a Secret out to every matching namespace, never into the source's namespace or a non-matching one", func() {
		f := newFixture(ctx, 3)
		other := uniq("other")
		mkNamespace(ctx, other, map[string]string{"team": "someone-else"})
		src := mkSecret(ctx, f.srcNS, "creds", map[string]string{"user": "u", "pass": "p"}, func(s *corev1.Secret) {
			s.Labels = map[string]string{"app": "web", "helm.sh/chart": "web-1"}
			s.Annotations = map[string]string{"kubectl.kubernetes.io/last-applied-configuration": "{}", "note": "n"}
		})
		p := mkCluster(ctx, uniq("fan"), f.spec(secretRef(f.srcNS, "creds")))

		for _, ns := range f.targets {
			Eventually(secretData(ctx, ns, "creds")).Should(Equal(map[string]string{"user": "u", "pass": "p"}))
			c := getSecret(ctx, ns, "creds")
			Expect(c.Labels).To(Equal(map[string]string{"app": "web", v1alpha1.LabelManagedBy: "courier", v1alpha1.LabelClusterPropagation: p.Name}))
			Expect(c.Annotations).To(HaveKey(v1alpha1.AnnotationCopyHash))
			delete(c.Annotations, v1alpha1.AnnotationCopyHash)
			Expect(c.Annotations).To(Equal(map[string]string{"note": "n", v1alpha1.AnnotationSource: f.srcNS + "/creds", v1alpha1.AnnotationSourceKind: "v1/Secret"}))
			Expect(c.Type).To(Equal(src.Type))
			Expect(c.OwnerReferences).To(BeEmpty())
		}
		Eventually(readyOf(ctx, p)).Should(HavePrefix("True/"))
		st := clusterStatus(ctx, p.Name)()
		Expect(st.Desired).To(BeEquivalentTo(3))
		Expect(st.Synced).To(BeEquivalentTo(3))
		Expect(st.ObservedGeneration).To(Equal(p.Generation))
		Expect(st.LastSyncTime).NotTo(BeNil())
		Consistently(exists(ctx, &corev1.Secret{}, other, "creds")).Should(BeFalse())
		// The source itself is untouched (still unmanaged).
		Expect(getSecret(ctx, f.srcNS, "creds").Labels).NotTo(HaveKey(v1alpha1.LabelManagedBy))
	})

	It("copies into a namespace created after the propagation", func() {
		f, _, _ := syncedCopy(ctx, "late")

		late := uniq("late-ns")
		mkNamespace(ctx, late, map[string]string{"team": f.team})
		Eventually(secretData(ctx, late, "creds")).Should(Equal(map[string]string{"k": "v"}))
	})

	It("removes copies from a namespace relabelled out of the selector", func() {
		f := newFixture(ctx, 2)
		mkSecret(ctx, f.srcNS, "creds", map[string]string{"k": "v"})
		p := mkCluster(ctx, uniq("relabel"), f.spec(secretRef(f.srcNS, "creds")))
		Eventually(secretData(ctx, f.targets[1], "creds")).ShouldNot(BeNil())

		var ns corev1.Namespace
		Expect(admin.Get(ctx, client.ObjectKey{Name: f.targets[1]}, &ns)).To(Succeed())
		ns.Labels["team"] = "moved"
		Expect(admin.Update(ctx, &ns)).To(Succeed())
		Eventually(exists(ctx, &corev1.Secret{}, f.targets[1], "creds")).Should(BeFalse())
		Expect(getSecret(ctx, f.targets[0], "creds")).NotTo(BeNil())
		Eventually(func() int32 { return clusterStatus(ctx, p.Name)().Desired }).Should(BeEquivalentTo(1))
	})

	It("brings a source update to every copy, byte for byte", func() {
		f := newFixture(ctx, 3)
		src := mkSecret(ctx, f.srcNS, "creds", map[string]string{"k": "v1"})
		mkCluster(ctx, uniq("update"), f.spec(secretRef(f.srcNS, "creds")))
		for _, ns := range f.targets {
			Eventually(secretData(ctx, ns, "creds")).Should(Equal(map[string]string{"k": "v1"}))
		}
		binary := string([]byte{0, 1, 2, 255, 254})
		src.Data = map[string][]byte{"k": []byte("v2"), "bin": []byte(binary)}
		Expect(admin.Update(ctx, src)).To(Succeed())
		for _, ns := range f.targets {
			Eventually(secretData(ctx, ns, "creds")).Should(Equal(map[string]string{"k": "v2", "bin": binary}))
		}
		// A key removed from the source disappears from every copy.
		Expect(admin.Get(ctx, client.ObjectKeyFromObject(src), src)).To(Succeed())
		delete(src.Data, "k")
		Expect(admin.Update(ctx, src)).To(Succeed())
		for _, ns := range f.targets {
			Eventually(secretData(ctx, ns, "creds")).Should(Equal(map[string]string{"bin": binary}))
		}
	})

	It("deletes the copies when the source is deleted (deletionPolicy Delete) and says SourceNotFound", func() {
		f := newFixture(ctx, 2)
		src := mkSecret(ctx, f.srcNS, "creds", map[string]string{"k": "v"})
		p := mkCluster(ctx, uniq("srcdel"), f.spec(secretRef(f.srcNS, "creds")))
		Eventually(secretData(ctx, f.targets[0], "creds")).ShouldNot(BeNil())
		Expect(admin.Delete(ctx, src)).To(Succeed())
		for _, ns := range f.targets {
			Eventually(exists(ctx, &corev1.Secret{}, ns, "creds")).Should(BeFalse())
		}
		Eventually(readyOf(ctx, p)).Should(HavePrefix("False/" + ReasonSourceNotFound))
	})

	It("orphans the copies when the source is deleted under deletionPolicy Orphan", func() {
		f := newFixture(ctx, 1)
		src := mkSecret(ctx, f.srcNS, "creds", map[string]string{"k": "v"})
		spec := f.spec(secretRef(f.srcNS, "creds"))
		spec.DeletionPolicy = v1alpha1.DeletionOrphan
		mkCluster(ctx, uniq("srcorphan"), spec)
		Eventually(secretData(ctx, f.targets[0], "creds")).ShouldNot(BeNil())
		Expect(admin.Delete(ctx, src)).To(Succeed())
		Eventually(func() map[string]string { return getSecret(ctx, f.targets[0], "creds").Labels }).ShouldNot(HaveKey(v1alpha1.LabelManagedBy))
		Expect(secretData(ctx, f.targets[0], "creds")()).To(Equal(map[string]string{"k": "v"}))
	})

	It("repairs a copy edited by hand and recreates one deleted by hand", func() {
		_, _, key := syncedCopy(ctx, "repair")
		ns := key.Namespace

		c := getSecret(ctx, ns, "creds")
		c.Data["k"] = []byte("tampered")
		Expect(admin.Update(ctx, c)).To(Succeed())
		Eventually(secretData(ctx, ns, "creds")).Should(Equal(map[string]string{"k": "v"}))

		Expect(admin.Delete(ctx, getSecret(ctx, ns, "creds"))).To(Succeed())
		Eventually(secretData(ctx, ns, "creds")).Should(Equal(map[string]string{"k": "v"}))
	})

	// Server-side apply cannot remove a field another field manager added (here a
	// `kubectl edit`-style Update): the ChildSet's Exact mode repairs the copy with
	// one full-object Update.
	It("removes a data key, label and annotation added to a copy by hand, with one write", func() {
		_, _, key := syncedCopy(ctx, "extra")
		ns := key.Namespace
		want := getSecret(ctx, ns, "creds")
		isCopy := func(w write) bool { return w.kind == "Secret" && w.namespace == ns && w.name == "creds" }
		before := writes.count(isCopy)

		c := want.DeepCopy()
		c.Data["added"] = []byte("by hand")
		c.Labels["added"] = "by-hand"
		c.Annotations["added"] = "by hand"
		Expect(admin.Update(ctx, c)).To(Succeed())
		Eventually(secretData(ctx, ns, "creds")).Should(Equal(map[string]string{"k": "v"}))
		got := getSecret(ctx, ns, "creds")
		Expect(got.Labels).To(Equal(want.Labels))
		Expect(got.Annotations).To(Equal(want.Annotations))
		Expect(got.Type).To(Equal(want.Type))
		// One repair write (a full-object Update, no apply before it), then nothing.
		Consistently(func() []string { return writes.since(before, isCopy) }).Should(Equal([]string{"update Secret " + ns + "/creds"}))
	})

	Describe("conflict policy", func() {
		conflicting := func(policy v1alpha1.ConflictPolicy, existing map[string]string) (fixture, *v1alpha1.ClusterPropagation) {
			f := newFixture(ctx, 1)
			mkSecret(ctx, f.srcNS, "creds", map[string]string{"k": "v"})
			mkSecret(ctx, f.targets[0], "creds", existing, func(s *corev1.Secret) { s.Labels = map[string]string{"mine": "yes"} })
			spec := f.spec(secretRef(f.srcNS, "creds"))
			spec.ConflictPolicy = policy
			return f, mkCluster(ctx, uniq("conflict"), spec)
		}

		It("Skip (the default) leaves an unmanaged object alone and reports the conflict", func() {
			f, p := conflicting("", map[string]string{"k": "theirs"})
			Eventually(func() int32 { return clusterStatus(ctx, p.Name)().Conflicting }).Should(BeEquivalentTo(1))
			Expect(p.Spec.ConflictPolicy).To(Equal(v1alpha1.ConflictSkip)) // defaulted by the schema
			st := clusterStatus(ctx, p.Name)()
			Expect(st.Failures).To(HaveLen(1))
			Expect(st.Failures[0].Namespace).To(Equal(f.targets[0]))
			Expect(st.Failures[0].Reason).To(Equal("Unmanaged"))
			Expect(readyOf(ctx, p)()).To(HavePrefix("False/"))
			Consistently(secretData(ctx, f.targets[0], "creds")).Should(Equal(map[string]string{"k": "theirs"}))
			Expect(getSecret(ctx, f.targets[0], "creds").Labels).To(Equal(map[string]string{"mine": "yes"}))
		})

		It("Adopt takes over an object whose content already equals the copy", func() {
			f, p := conflicting(v1alpha1.ConflictAdopt, map[string]string{"k": "v"})
			Eventually(func() map[string]string { return getSecret(ctx, f.targets[0], "creds").Labels }).
				Should(HaveKeyWithValue(v1alpha1.LabelClusterPropagation, p.Name))
			Eventually(readyOf(ctx, p)).Should(HavePrefix("True/"))
		})

		It("Adopt leaves an object with different content alone and reports it", func() {
			f, p := conflicting(v1alpha1.ConflictAdopt, map[string]string{"k": "theirs"})
			Eventually(func() int32 { return clusterStatus(ctx, p.Name)().Conflicting }).Should(BeEquivalentTo(1))
			Consistently(secretData(ctx, f.targets[0], "creds")).Should(Equal(map[string]string{"k": "theirs"}))
		})

		It("Overwrite replaces the content of an unmanaged object and manages it", func() {
			f, p := conflicting(v1alpha1.ConflictOverwrite, map[string]string{"k": "theirs"})
			Eventually(secretData(ctx, f.targets[0], "creds")).Should(Equal(map[string]string{"k": "v"}))
			Expect(getSecret(ctx, f.targets[0], "creds").Labels).To(HaveKeyWithValue(v1alpha1.LabelClusterPropagation, p.Name))
		})

		It("never takes over another propagation's copy, even with Overwrite", func() {
			f := newFixture(ctx, 1)
			mkSecret(ctx, f.srcNS, "creds", map[string]string{"k": "first"})
			first := mkCluster(ctx, uniq("first"), f.spec(secretRef(f.srcNS, "creds")))
			Eventually(secretData(ctx, f.targets[0], "creds")).Should(Equal(map[string]string{"k": "first"}))
			src2 := uniq("src2")
			mkNamespace(ctx, src2, nil)
			mkSecret(ctx, src2, "creds", map[string]string{"k": "second"})
			spec := f.spec(secretRef(src2, "creds"))
			spec.ConflictPolicy = v1alpha1.ConflictOverwrite
			// Keep the first propagation's source out of reach: Overwrite would
			// legitimately take over that unmanaged object.
			spec.Targets.ExcludeNamespaces = []v1alpha1.NamespacePattern{v1alpha1.NamespacePattern(f.srcNS)}
			second := mkCluster(ctx, uniq("second"), spec)
			Eventually(func() int32 { return clusterStatus(ctx, second.Name)().Conflicting }).Should(BeEquivalentTo(1))
			Consistently(secretData(ctx, f.targets[0], "creds")).Should(Equal(map[string]string{"k": "first"}))
			Expect(getSecret(ctx, f.targets[0], "creds").Labels).To(HaveKeyWithValue(v1alpha1.LabelClusterPropagation, first.Name))
		})
	})

	Describe("deletion policy", func() {
		It("Delete (the default) removes every copy when the propagation is deleted", func() {
			f := newFixture(ctx, 2)
			mkSecret(ctx, f.srcNS, "creds", map[string]string{"k": "v"})
			p := mkCluster(ctx, uniq("del"), f.spec(secretRef(f.srcNS, "creds")))
			Eventually(secretData(ctx, f.targets[1], "creds")).ShouldNot(BeNil())
			Eventually(func() []string { _ = readyOf(ctx, p)(); return p.Finalizers }).Should(ContainElement(v1alpha1.Finalizer))
			deleteAndWait(ctx, p)
			for _, ns := range f.targets {
				Expect(getSecret(ctx, ns, "creds")).To(BeNil())
			}
			Expect(getSecret(ctx, f.srcNS, "creds")).NotTo(BeNil())
		})

		It("Orphan leaves the copies, without Courier's management labels and copy hash, with their provenance", func() {
			f := newFixture(ctx, 2)
			mkSecret(ctx, f.srcNS, "creds", map[string]string{"k": "v"}, func(s *corev1.Secret) { s.Labels = map[string]string{"app": "x"} })
			spec := f.spec(secretRef(f.srcNS, "creds"))
			spec.DeletionPolicy = v1alpha1.DeletionOrphan
			p := mkCluster(ctx, uniq("orphan"), spec)
			Eventually(secretData(ctx, f.targets[1], "creds")).ShouldNot(BeNil())
			Eventually(func() []string { _ = readyOf(ctx, p)(); return p.Finalizers }).Should(ContainElement(v1alpha1.Finalizer))
			deleteAndWait(ctx, p)
			for _, ns := range f.targets {
				c := getSecret(ctx, ns, "creds")
				Expect(c).NotTo(BeNil())
				Expect(c.Labels).To(Equal(map[string]string{"app": "x"}))
				Expect(string(c.Data["k"])).To(Equal("v"))
				// What the API documents: the hash only Courier reads goes, the record
				// of where the object came from stays.
				Expect(c.Annotations).NotTo(HaveKey(v1alpha1.AnnotationCopyHash))
				Expect(c.Annotations).To(HaveKeyWithValue(v1alpha1.AnnotationSource, f.srcNS+"/creds"))
				Expect(c.Annotations).To(HaveKeyWithValue(v1alpha1.AnnotationSourceKind, "v1/Secret"))
			}
		})
	})

	It("renames the copy and filters data keys", func() {
		f := newFixture(ctx, 1)
		mkSecret(ctx, f.srcNS, "tls", map[string]string{"tls.crt": "c", "tls.key": "k", "ca.crt": "ca"})
		spec := f.spec(secretRef(f.srcNS, "tls"))
		spec.Template = &v1alpha1.CopyTemplate{
			Name:        "public-cert",
			Labels:      map[string]v1alpha1.LabelValue{"purpose": "trust"},
			Annotations: map[string]v1alpha1.AnnotationValue{"owner": "platform"},
			IncludeKeys: []v1alpha1.KeyPattern{"*.crt"},
			ExcludeKeys: []v1alpha1.KeyPattern{"ca.*"},
		}
		mkCluster(ctx, uniq("rename"), spec)
		Eventually(secretData(ctx, f.targets[0], "public-cert")).Should(Equal(map[string]string{"tls.crt": "c"}))
		c := getSecret(ctx, f.targets[0], "public-cert")
		Expect(c.Labels).To(HaveKeyWithValue("purpose", "trust"))
		Expect(c.Annotations).To(HaveKeyWithValue("owner", "platform"))
		Expect(getSecret(ctx, f.targets[0], "tls")).To(BeNil())
	})

	It("copies every object a label selector picks, ConfigMaps included", func() {
		f := newFixture(ctx, 2)
		for _, n := range []string{"ca-a", "ca-b"} {
			Expect(admin.Create(ctx, &corev1.ConfigMap{
				ObjectMeta: metav1.ObjectMeta{Name: n, Namespace: f.srcNS, Labels: map[string]string{"bundle": "ca"}},
				Data:       map[string]string{"ca.pem": n},
			})).To(Succeed())
		}
		mkCluster(ctx, uniq("sel"), f.spec(v1alpha1.SourceReference{APIVersion: "v1", Kind: "ConfigMap", Namespace: f.srcNS, Selector: bySelector("bundle", "ca")}))
		for _, ns := range f.targets {
			for _, n := range []string{"ca-a", "ca-b"} {
				Eventually(func() string {
					var cm corev1.ConfigMap
					if !exists(ctx, &cm, ns, n)() {
						return ""
					}
					return cm.Data["ca.pem"]
				}).Should(Equal(n))
			}
		}
	})

	It("never targets excluded namespaces: the manager's list and spec.targets.excludeNamespaces", func() {
		f := newFixture(ctx, 1)
		restricted := uniq("restricted") // matches the manager's "restricted-*"
		mkNamespace(ctx, restricted, map[string]string{"team": f.team})
		skipped := uniq("skipme")
		mkNamespace(ctx, skipped, map[string]string{"team": f.team})
		mkSecret(ctx, f.srcNS, "creds", map[string]string{"k": "v"})
		spec := f.spec(secretRef(f.srcNS, "creds"))
		spec.Targets.ExcludeNamespaces = []v1alpha1.NamespacePattern{"skipme-*"}
		p := mkCluster(ctx, uniq("excl"), spec)
		Eventually(secretData(ctx, f.targets[0], "creds")).ShouldNot(BeNil())
		Eventually(readyOf(ctx, p)).Should(HavePrefix("True/"))
		Expect(getSecret(ctx, restricted, "creds")).To(BeNil())
		Expect(getSecret(ctx, skipped, "creds")).To(BeNil())
		Expect(clusterStatus(ctx, p.Name)().Desired).To(BeEquivalentTo(1))
	})

	It("also targets namespaces by glob", func() {
		prefix := uniq("glob")
		src := uniq("src")
		mkNamespace(ctx, src, nil)
		mkNamespace(ctx, prefix+"-a", nil)
		mkNamespace(ctx, prefix+"-b", nil)
		mkSecret(ctx, src, "creds", map[string]string{"k": "v"})
		mkCluster(ctx, uniq("glob"), v1alpha1.ClusterPropagationSpec{
			Sources: []v1alpha1.SourceReference{secretRef(src, "creds")},
			Targets: v1alpha1.ClusterTargets{Namespaces: []v1alpha1.NamespacePattern{v1alpha1.NamespacePattern(prefix + "-*")}},
		})
		Eventually(secretData(ctx, prefix+"-a", "creds")).ShouldNot(BeNil())
		Eventually(secretData(ctx, prefix+"-b", "creds")).ShouldNot(BeNil())
	})

	DescribeTable("refuses sources that must never be propagated",
		func(reason string, mutate func(*corev1.Secret)) {
			f := newFixture(ctx, 1)
			mkSecret(ctx, f.srcNS, "danger", map[string]string{"token": "t"}, mutate)
			p := mkCluster(ctx, uniq("refuse"), f.spec(secretRef(f.srcNS, "danger")))
			Eventually(readyOf(ctx, p)).Should(HavePrefix("False/" + reason))
			Consistently(exists(ctx, &corev1.Secret{}, f.targets[0], "danger")).Should(BeFalse())
		},
		Entry("a service-account token Secret", "SourceRefused", func(s *corev1.Secret) {
			s.Type = corev1.SecretTypeServiceAccountToken
			s.Annotations = map[string]string{corev1.ServiceAccountNameKey: "default"}
		}),
		Entry("a Helm release Secret (type)", "SourceRefused", func(s *corev1.Secret) { s.Type = "helm.sh/release.v1" }),
		Entry("a Helm release Secret (owner=helm label)", "SourceRefused", func(s *corev1.Secret) { s.Labels = map[string]string{"owner": "helm"} }),
	)

	It("refuses a managed copy as a source", func() {
		f, _, _ := syncedCopy(ctx, "orig")

		loopTarget := uniq("loop")
		mkNamespace(ctx, loopTarget, map[string]string{"loop": loopTarget})
		p := mkCluster(ctx, uniq("loop"), v1alpha1.ClusterPropagationSpec{
			Sources: []v1alpha1.SourceReference{secretRef(f.targets[0], "creds")},
			Targets: v1alpha1.ClusterTargets{NamespaceSelector: bySelector("loop", loopTarget)},
		})
		Eventually(readyOf(ctx, p)).Should(HavePrefix("False/SourceIsCopy"))
		Consistently(exists(ctx, &corev1.Secret{}, loopTarget, "creds")).Should(BeFalse())
	})

	// The copy cache keeps a copy's metadata and the digest of its content, never
	// the content (CacheByObject). These specs prove that, and that every kind of
	// hand edit is still seen and repaired with one write.
	Describe("the copy cache", func() {
		It("holds a copy's metadata and content digest, not its data, and the digest never reaches the API server", func() {
			_, p, key := syncedCopy(ctx, "cached")

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
})
