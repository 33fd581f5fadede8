package e2e

import (
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/courier-operator/courier/hack/localcluster"
	"github.com/courier-operator/courier/test/e2e/framework"
)

// The OLM path on its own, with a throwaway bundle: install from an embedded
// catalog, RBAC for the operator's ServiceAccount, upgrade by subscription,
// uninstall. It needs a locally served catalog, so it runs on the local cluster
// only.
var _ = Describe("OLM on the local cluster", Ordered, Label("olm"), func() {
	const (
		pkg     = "e2e-operator"
		group   = "e2e.courier.dev"
		catalog = "e2e-olm"
		sub     = "e2e-operator"
		v1Name  = pkg + ".v0.1.0"
		v2Name  = pkg + ".v0.2.0"
	)
	var (
		bundle *framework.Catalog
		v1     framework.Blob
	)

	BeforeAll(func(ctx SpecContext) {
		if framework.Existing() {
			Skip("needs a catalog served from this machine (local cluster only)")
		}
		dir := filepath.Join(workDir, "olm-bundle-v0.1.0")
		Expect(framework.WriteTestBundle(dir, pkg, group, "0.1.0")).To(Succeed())
		var err error
		v1, err = framework.RenderBundle(ctx, env.Opm, dir)
		Expect(err).NotTo(HaveOccurred())
		Expect(v1).NotTo(HaveKey("image"), "bundle content is embedded, no image to unpack")
		bundle = framework.NewPackageCatalog(pkg, "stable", v1)
	})

	It("installs a bundle from an embedded file-based catalog", func(ctx SpecContext) {
		start := time.Now()
		catDir := filepath.Join(workDir, "olm-catalog-1")
		Expect(bundle.Write(ctx, env.Opm, catDir)).To(Succeed())
		Expect(env.Local.ServeCatalog(ctx, catalog, catDir)).To(Succeed())
		Expect(env.Subscribe(ctx, sub, pkg, "stable", catalog)).To(Succeed())
		csv, err := env.WaitInstalled(ctx, sub, v1Name, 3*time.Minute)
		Expect(err).NotTo(HaveOccurred())
		timed("OLM install (throwaway bundle, catalog served to CSV Succeeded)", start)

		_, err = env.Kube.CoreV1().ServiceAccounts(localcluster.OperatorsNamespace).Get(ctx, pkg, metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred(), "OLM created the CSV's ServiceAccount")
		dep, err := env.Kube.AppsV1().Deployments(localcluster.OperatorsNamespace).Get(ctx, framework.CSVDeploymentName(csv), metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(dep.Status.AvailableReplicas).To(BeEquivalentTo(1), "kwok runs the operator's pod")
	})

	It("gives the operator's ServiceAccount exactly the CSV's RBAC", func(ctx SpecContext) {
		kc, err := env.ServiceAccountKubeconfig(ctx, localcluster.OperatorsNamespace, pkg, workDir)
		Expect(err).NotTo(HaveOccurred())
		cfg, err := clientcmd.BuildConfigFromFlags("", kc)
		Expect(err).NotTo(HaveOccurred())
		asSA, err := kubernetes.NewForConfig(cfg)
		Expect(err).NotTo(HaveOccurred())

		_, err = asSA.CoreV1().ConfigMaps("default").List(ctx, metav1.ListOptions{})
		Expect(err).NotTo(HaveOccurred(), "configmaps are granted by the CSV")
		_, err = asSA.CoreV1().Secrets("default").List(ctx, metav1.ListOptions{})
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "secrets are not granted: %v", err)

		review, err := asSA.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
			Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
				Group: group, Resource: "widgets", Verb: "watch",
			}},
		}, metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(review.Status.Allowed).To(BeTrue())
	})

	It("upgrades by subscription when the catalog publishes a replacing version", func(ctx SpecContext) {
		v2, err := framework.NextVersion(v1, "0.2.0", func(csv *unstructured.Unstructured) {
			deps, _, _ := unstructured.NestedSlice(csv.Object, "spec", "install", "spec", "deployments")
			d := deps[0].(map[string]any)
			containers, _, _ := unstructured.NestedSlice(d, "spec", "template", "spec", "containers")
			containers[0].(map[string]any)["image"] = "example.invalid/e2e-operator:0.2.0"
			Expect(unstructured.SetNestedSlice(d, containers, "spec", "template", "spec", "containers")).To(Succeed())
			Expect(unstructured.SetNestedSlice(csv.Object, deps, "spec", "install", "spec", "deployments")).To(Succeed())
		})
		Expect(err).NotTo(HaveOccurred())
		bundle.Bundles = append(bundle.Bundles, v2)
		bundle.AddToChannel("stable", v2Name, v1Name)
		catDir := filepath.Join(workDir, "olm-catalog-2")
		Expect(bundle.Write(ctx, env.Opm, catDir)).To(Succeed())

		start := time.Now()
		Expect(env.Local.ServeCatalog(ctx, catalog, catDir)).To(Succeed())
		_, err = env.WaitInstalled(ctx, sub, v2Name, 3*time.Minute)
		Expect(err).NotTo(HaveOccurred())
		Expect(env.WaitGone(ctx, v1Name, 2*time.Minute)).To(Succeed(), "the replaced CSV is removed")
		timed("OLM upgrade (throwaway bundle, catalog republished to new CSV Succeeded)", start)

		dep, err := env.Kube.AppsV1().Deployments(localcluster.OperatorsNamespace).Get(ctx, pkg, metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(dep.Spec.Template.Spec.Containers[0].Image).To(Equal("example.invalid/e2e-operator:0.2.0"))
	})

	It("uninstalls: deleting Subscription and CSV removes the operator, keeps its CRD", func(ctx SpecContext) {
		Expect(env.Uninstall(ctx, sub, v2Name)).To(Succeed())
		Eventually(func() bool {
			_, err := env.Kube.AppsV1().Deployments(localcluster.OperatorsNamespace).Get(ctx, pkg, metav1.GetOptions{})
			return apierrors.IsNotFound(err)
		}).WithTimeout(time.Minute).Should(BeTrue(), "the operator's Deployment is garbage-collected with its CSV")
		_, err := env.Dyn.Resource(localcluster.CRDGVR).Get(ctx, "widgets."+group, metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred(), "OLM never deletes CRDs (nor the objects in them) on uninstall")
	})
})
