package reliability

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/api/v1alpha1"
	"github.com/courier-operator/courier/hack/localcluster"
)

// A namespaced install, as the Helm chart renders it for watchNamespaces: the
// manager runs as the chart's ServiceAccount with exactly the chart's RBAC (no
// ClusterRole for Secrets, ConfigMaps or workloads) and the chart's
// --watch-namespaces. Every propagation and rollout case inside the set works;
// what reaches outside it says so; the manager makes no request the RBAC denies.
var _ = Describe("namespaced install: the chart's watchNamespaces RBAC", Ordered, func() {
	ctx := context.Background()
	const release = "courier-scoped" // fullnameOverride; installed into installNamespace
	var (
		id             string
		inA, inB, out  string // two namespaces of the set, one outside it
		m              *manager
		rendered       []*unstructured.Unstructured
		managerSAName  = release + "-controller-manager"
		scopeSelectorK = "courier-scope-test"
	)

	BeforeAll(func() {
		id = uniq("scoped")
		inA = mkNamespace(ctx, id+"-a", map[string]string{scopeSelectorK: id})
		inB = mkNamespace(ctx, id+"-b", map[string]string{scopeSelectorK: id})
		out = mkNamespace(ctx, id+"-out", map[string]string{scopeSelectorK: id})

		By("rendering the chart with helm template for watchNamespaces [" + inA + ", " + inB + "]")
		rendered = helmTemplate(ctx, "--namespace", installNamespace, "--set", "fullnameOverride="+release,
			"--set", "watchNamespaces={"+inA+","+inB+"}")
		var args []string
		for _, o := range rendered {
			switch o.GetKind() {
			case "ServiceAccount", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding":
				Expect(admin.Create(ctx, o)).To(Succeed(), "applying %s %s/%s", o.GetKind(), o.GetNamespace(), o.GetName())
				DeferCleanup(func() { _ = admin.Delete(context.Background(), o) })
			case "Deployment":
				containers, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
				for _, a := range containers[0].(map[string]any)["args"].([]any) {
					if s := a.(string); strings.HasPrefix(s, "--watch-namespaces=") || strings.HasPrefix(s, "--excluded-namespaces=") {
						args = append(args, s)
					}
				}
			}
		}
		Expect(args).To(ContainElement("--watch-namespaces="+inA+","+inB), "the chart's Deployment does not pass watchNamespaces")
		m = startManagerWith(serviceAccountKubeconfig(ctx, installNamespace, managerSAName), args...)
		DeferCleanup(func() { m.kill() })
	})

	It("grants Secrets, ConfigMaps and workloads only through Roles in the set", func() {
		content := []string{"secrets", "configmaps", "deployments", "statefulsets", "daemonsets", "cronjobs", "jobs", "rollouts"}
		roleNamespaces := map[string][]string{}
		for _, o := range rendered {
			rules, _, _ := unstructured.NestedSlice(o.Object, "rules")
			for _, r := range rules {
				resources, _, _ := unstructured.NestedStringSlice(r.(map[string]any), "resources")
				for _, res := range resources {
					if !slices.Contains(content, res) {
						continue
					}
					Expect(o.GetKind()).To(Equal("Role"), "%s %s grants %s", o.GetKind(), o.GetName(), res)
					names, _, _ := unstructured.NestedStringSlice(r.(map[string]any), "resourceNames")
					if len(names) == 0 { // the admission policy's parameter ConfigMap is one named object
						roleNamespaces[res] = append(roleNamespaces[res], o.GetNamespace())
					}
				}
			}
		}
		for _, res := range []string{"secrets", "configmaps", "deployments"} {
			Expect(roleNamespaces[res]).To(ConsistOf(inA, inB), "namespaces with a Role for %s", res)
		}
	})

	It("copies, pulls and rolls out inside the set, and says so for what is outside it", func() {
		By("a ClusterPropagation whose selector also matches a namespace outside the set")
		mkSecret(ctx, inA, "ca")
		cp := mkCluster(ctx, id, v1alpha1.ClusterPropagationSpec{
			Sources: []v1alpha1.SourceReference{secretRef(inA, "ca")},
			Targets: v1alpha1.ClusterTargets{NamespaceSelector: matchLabels(scopeSelectorK, id)},
		})
		Eventually(func() string { return dataOf(ctx, inB, "ca", "random") }).
			Should(Equal(dataOf(ctx, inA, "ca", "random")), "no copy in %s", inB)
		Eventually(func() string { return conditionOf(ctx, cp, "Ready") }).
			Should(And(HavePrefix("False/OutsideWatchedNamespaces: "), ContainSubstring(out)))
		Consistently(func() *corev1.Secret { return getSecret(ctx, out, "ca") }, 3*time.Second).Should(BeNil(),
			"a copy was written outside the set")

		By("a ClusterPropagation whose source is outside the set")
		mkSecret(ctx, out, "elsewhere")
		outside := mkCluster(ctx, id+"-src-out", v1alpha1.ClusterPropagationSpec{
			Sources: []v1alpha1.SourceReference{secretRef(out, "elsewhere")},
			Targets: v1alpha1.ClusterTargets{Namespaces: []v1alpha1.NamespacePattern{v1alpha1.NamespacePattern(inB)}},
		})
		Eventually(func() string { return conditionOf(ctx, outside, "Ready") }).
			Should(HavePrefix("False/OutsideWatchedNamespaces: source namespace " + out))

		By("a pull inside the set, with the owner's consent")
		mkConfigMap(ctx, inB, "shared", func(c *corev1.ConfigMap) {
			c.Annotations[v1alpha1.AnnotationShareWithNamespaces] = inA
		})
		pull := mkPull(ctx, inA, "pull", v1alpha1.PropagationSpec{Sources: []v1alpha1.SourceReference{configMapRef(inB, "shared")}})
		Eventually(func() string { return conditionOf(ctx, pull, "Ready") }).Should(HavePrefix("True/"))
		var copied corev1.ConfigMap
		Expect(admin.Get(ctx, keyOf(inA, "shared"), &copied)).To(Succeed())
		Expect(copied.Data["config.yaml"]).To(Equal("a: 1\n"))

		By("a Propagation outside the set is not served")
		ignored := mkPull(ctx, out, "pull", v1alpha1.PropagationSpec{Sources: []v1alpha1.SourceReference{configMapRef(inB, "shared")}})
		Consistently(func() string { return conditionOf(ctx, ignored, "Ready") }, 3*time.Second).Should(BeEmpty())

		By("a rollout inside the set: rolled once; one outside: untouched")
		mkConfigMap(ctx, inB, "app-config")
		mkConfigMap(ctx, out, "app-config")
		in := mkDeployment(ctx, inB, "app", "app-config")
		far := mkDeployment(ctx, out, "app", "app-config")
		Eventually(func() string { return deployment(ctx, inB, in.Name).Annotations[annAppliedHash] }).ShouldNot(BeEmpty())
		h := watchDeployment(ctx, inB, in.Name)
		defer h.stop()
		bumpConfigMap(ctx, inB, "app-config")
		bumpConfigMap(ctx, out, "app-config")
		Eventually(h.rollouts).Should(Equal(1), "the Deployment in the set did not roll: %s", h)
		Consistently(h.rollouts, 3*time.Second).Should(Equal(1), "rolled more than once: %s", h)
		var untouched appsv1.Deployment
		Expect(admin.Get(ctx, client.ObjectKeyFromObject(far), &untouched)).To(Succeed())
		Expect(untouched.Generation).To(Equal(int64(1)))
		Expect(courierKeys(untouched.Annotations)).To(BeEmpty(), "Courier wrote to a Deployment outside the set")

		By("deleting the propagations: their copies in the set go")
		deleteAndWait(ctx, cp)
		deleteAndWait(ctx, outside)
		deleteAndWait(ctx, pull)
		Eventually(func() *corev1.Secret { return getSecret(ctx, inB, "ca") }).Should(BeNil())

		By("the manager's log: no request the RBAC denied, start to finish")
		log := m.log()
		Expect(log).To(ContainSubstring(`"namespaces":"`+inA+","+inB+`"`), "the manager did not start limited to the set")
		for _, line := range strings.Split(log, "\n") {
			Expect(strings.ToLower(line)).NotTo(ContainSubstring("forbidden"), "the manager was denied a request")
		}
	})
})

// helmTemplate renders charts/courier with the pinned helm (hack/tools/helm, built
// into the work directory on first use) for the suite's API server version.
func helmTemplate(ctx context.Context, args ...string) []*unstructured.Unstructured {
	helm := filepath.Join(workDir, "helm")
	if _, err := os.Stat(helm); err != nil {
		build := exec.CommandContext(ctx, "go", "-C", filepath.Join(repoRoot, "hack", "tools", "helm"), "build", "-o", helm, "helm.sh/helm/v3/cmd/helm")
		outb, err := build.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), "building helm: %s", outb)
	}
	v, err := kube.Discovery().ServerVersion()
	Expect(err).NotTo(HaveOccurred())
	cmd := exec.CommandContext(ctx, helm, append([]string{"template", "courier", filepath.Join(repoRoot, "charts", "courier"),
		"--kube-version", v.GitVersion}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	outb, err := cmd.Output()
	Expect(err).NotTo(HaveOccurred(), "helm template: %s", stderr.String())
	objs, err := localcluster.DecodeManifests(outb)
	Expect(err).NotTo(HaveOccurred())
	return objs
}
