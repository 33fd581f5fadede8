package e2e

import (
	"context"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/blang/semver/v4"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"

	courierv1alpha1 "github.com/courier-operator/courier/api/v1alpha1"
	"github.com/courier-operator/courier/hack/localcluster"
	"github.com/courier-operator/courier/test/e2e/framework"
)

const (
	courierPackage = "courier-operator"
	courierChannel = "stable"
	courierCatalog = "courier-e2e"
	courierSub     = "courier-operator"
	// upgradeMarker is the visible change the suite's next bundle version carries.
	upgradeMarker = "courier.dev/e2e-upgraded-from"
)

var (
	clusterPropagationGVR = schema.GroupVersionResource{Group: courierv1alpha1.GroupVersion.Group, Version: courierv1alpha1.GroupVersion.Version, Resource: "clusterpropagations"}
	propagationGVR        = schema.GroupVersionResource{Group: courierv1alpha1.GroupVersion.Group, Version: courierv1alpha1.GroupVersion.Version, Resource: "propagations"}
)

// Courier installed by OLM from a catalog rendered from the repository's bundle/
// (and catalog/, when present), running as a local process with the RBAC OLM
// granted its ServiceAccount.
var _ = Describe("Courier through OLM", Ordered, ContinueOnFailure, Label("courier"), func() {
	var (
		catalog *framework.Catalog
		current framework.Blob
		csvName string
		saName  string
		// deploymentName is the operator Deployment in the CSV.
		deploymentName string
		// csvArgs are the manager's arguments in the CSV.
		csvArgs   []string
		courier   string
		operator  *framework.Process
		asCourier kubernetes.Interface
		copies    []copyRef
	)

	// startOperator runs the courier binary with a fresh token of the CSV's
	// ServiceAccount, as the pod OLM deployed would.
	// extra flags follow the CSV's and the local ones (later flags win).
	startOperator := func(ctx SpecContext, tag string, extra ...string) {
		kc, err := env.ServiceAccountKubeconfig(ctx, localcluster.OperatorsNamespace, saName, workDir)
		Expect(err).NotTo(HaveOccurred())
		cfg, err := clientcmd.BuildConfigFromFlags("", kc)
		Expect(err).NotTo(HaveOccurred())
		asCourier, err = kubernetes.NewForConfig(cfg)
		Expect(err).NotTo(HaveOccurred())
		if framework.Existing() {
			// On a real cluster the Deployment OLM created is the operator; a second,
			// local instance would compete with it.
			waitRollout(ctx, localcluster.OperatorsNamespace, deploymentName)
			return
		}
		probe := freePort()
		// The CSV's own flags (--install-admission-policy among them), then what a
		// local process needs instead of the pod's: later flags win.
		args := append(append([]string{}, csvArgs...),
			"--metrics-bind-address=0", "--leader-elect=false",
			"--health-probe-bind-address="+probe, "--rollout-coalesce-window=1s")
		args = append(args, extra...)
		operator, err = framework.StartProcess(courier, args,
			[]string{"KUBECONFIG=" + kc, "POD_NAMESPACE=" + localcluster.OperatorsNamespace},
			filepath.Join(workDir, "courier-"+tag+".log"))
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() error {
			if !operator.Running() {
				return StopTrying("courier exited:\n" + operator.Tail(4000))
			}
			resp, err := http.Get("http://" + probe + "/readyz")
			if err != nil {
				return err
			}
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("readyz %d", resp.StatusCode)
			}
			return nil
		}).WithTimeout(time.Minute).Should(Succeed())
	}

	BeforeAll(func(ctx SpecContext) {
		bundleDir := filepath.Join(root, "bundle")
		_, err := os.Stat(filepath.Join(bundleDir, "manifests"))
		Expect(err).NotTo(HaveOccurred(), "bundle/manifests (make bundle-offline)")
		if framework.Existing() && os.Getenv("E2E_CATALOG_SOURCE") == "" {
			Skip("PENDING on an existing cluster: set E2E_CATALOG_SOURCE to a CatalogSource in olm serving courier-operator")
		}
		current, err = framework.RenderBundle(ctx, env.Opm, bundleDir)
		Expect(err).NotTo(HaveOccurred())
		csvName = fmt.Sprint(current["name"])
		if _, err := os.Stat(filepath.Join(root, "catalog")); err == nil {
			catalog, err = framework.LoadCatalog(filepath.Join(root, "catalog"), courierPackage)
			Expect(err).NotTo(HaveOccurred())
			catalog.UseBundles(current)
			if !catalog.InChannel(courierChannel, csvName) {
				catalog.AddToChannel(courierChannel, csvName, "")
			}
		} else {
			GinkgoWriter.Printf("catalog/ not in the tree yet: using a one-bundle catalog for %s\n", csvName)
			catalog = framework.NewPackageCatalog(courierPackage, courierChannel, current)
		}
		out, err := framework.GoBuild(ctx, root, "./cmd/courier", workDir)
		Expect(err).NotTo(HaveOccurred())
		courier = out
	})

	AfterEach(func() {
		// The operator's own log explains most failures (a Forbidden here means the
		// bundle's RBAC is stale against the code's markers).
		if CurrentSpecReport().Failed() && operator != nil {
			GinkgoWriter.Printf("courier log (tail):\n%s\n", operator.Tail(4000))
		}
	})

	AfterAll(func() {
		operator.Stop()
	})

	It("1. installs from the catalog: Subscription on stable, CSV Succeeded", func(ctx SpecContext) {
		start := time.Now()
		source := courierCatalog
		if framework.Existing() {
			source = os.Getenv("E2E_CATALOG_SOURCE")
		} else {
			dir := filepath.Join(workDir, "courier-catalog-1")
			Expect(catalog.Write(ctx, env.Opm, dir)).To(Succeed())
			Expect(env.Local.ServeCatalog(ctx, courierCatalog, dir)).To(Succeed())
		}
		Expect(env.Subscribe(ctx, courierSub, courierPackage, courierChannel, source)).To(Succeed())
		csv, err := env.WaitInstalled(ctx, courierSub, csvName, 5*time.Minute)
		Expect(err).NotTo(HaveOccurred())
		timed("OLM install of Courier (catalog served to CSV Succeeded)", start)
		saName, err = framework.CSVServiceAccount(csv)
		Expect(err).NotTo(HaveOccurred())
		deploymentName = framework.CSVDeploymentName(csv)
		csvArgs = framework.CSVManagerArgs(csv)
		Expect(csvArgs).To(ContainElement("--install-admission-policy"), "under OLM the manager installs the admission policy")
		for _, crd := range []string{"clusterpropagations.courier.dev", "propagations.courier.dev"} {
			_, err := env.Dyn.Resource(localcluster.CRDGVR).Get(ctx, crd, metav1.GetOptions{})
			Expect(err).NotTo(HaveOccurred(), "OLM installed CRD %s", crd)
		}
	})

	It("2. runs the courier binary as the ServiceAccount OLM created (locally; in-cluster on an existing cluster)", func(ctx SpecContext) {
		startOperator(ctx, "v1")
		// The token carries the CSV's RBAC and nothing more.
		_, err := asCourier.CoreV1().Namespaces().List(ctx, metav1.ListOptions{Limit: 1})
		Expect(err).NotTo(HaveOccurred(), "courier follows namespaces")
		_, err = asCourier.Discovery().RESTClient().Get().
			AbsPath("/apis/operators.coreos.com/v1alpha1/catalogsources").DoRaw(ctx)
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "courier's ServiceAccount must not read OLM objects: %v", err)

		By("with the rights OLM granted, the manager installed the admission policy, which refuses a user without rights")
		createNamespace(ctx, "e2e-deputy", nil)
		cfg := rest.CopyConfig(env.Config)
		cfg.Impersonate = rest.ImpersonationConfig{UserName: "e2e-nobody", Groups: []string{"system:authenticated"}}
		nobody, err := dynamic.NewForConfig(cfg)
		Expect(err).NotTo(HaveOccurred())
		_, err = env.Kube.RbacV1().RoleBindings("e2e-deputy").Create(ctx, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "nobody-edits-propagations"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "courier-propagation-editor-role"},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "e2e-nobody"}},
		}, metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		prop := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "courier.dev/v1alpha1", "kind": "Propagation",
			"metadata": map[string]any{"name": "steal", "namespace": "e2e-deputy"},
			"spec": map[string]any{
				"sources":        []any{map[string]any{"apiVersion": "v1", "kind": "Secret", "namespace": "kube-system", "name": "anything"}},
				"conflictPolicy": "Overwrite",
			},
		}}
		Eventually(func() error {
			_, err := nobody.Resource(propagationGVR).Namespace("e2e-deputy").Create(ctx, prop, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
			return err
		}).WithTimeout(30 * time.Second).Should(MatchError(ContainSubstring("e2e-nobody may not create secrets in namespace e2e-deputy")))
	})

	It("3a. propagates a Secret to matching namespaces, follows new ones, repairs drift", func(ctx SpecContext) {
		for _, ns := range []string{"e2e-src", "e2e-team-a", "e2e-team-b", "e2e-other"} {
			labels := map[string]string{}
			if strings.HasPrefix(ns, "e2e-team-") {
				labels["e2e-target"] = "yes"
			}
			createNamespace(ctx, ns, labels)
		}
		_, err := env.Kube.CoreV1().Secrets("e2e-src").Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "shared", Namespace: "e2e-src", Labels: map[string]string{"team": "platform"}},
			Data:       map[string][]byte{"token": []byte("s3cr3t"), "ca.crt": []byte("-----BEGIN CERTIFICATE-----")},
		}, metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		apply(ctx, `
apiVersion: courier.dev/v1alpha1
kind: ClusterPropagation
metadata: {name: e2e-shared}
spec:
  sources:
  - {apiVersion: v1, kind: Secret, namespace: e2e-src, name: shared}
  targets:
    namespaceSelector: {matchLabels: {e2e-target: "yes"}}
`)
		start := time.Now()
		for _, ns := range []string{"e2e-team-a", "e2e-team-b"} {
			waitSecretData(ctx, ns, "shared", map[string]string{"token": "s3cr3t", "ca.crt": "-----BEGIN CERTIFICATE-----"})
		}
		timed("fan-out to 2 namespaces", start)
		Consistently(func() bool {
			_, err := env.Kube.CoreV1().Secrets("e2e-other").Get(ctx, "shared", metav1.GetOptions{})
			return apierrors.IsNotFound(err)
		}).WithTimeout(2*time.Second).Should(BeTrue(), "a namespace that does not match gets no copy")

		cp, err := env.Kube.CoreV1().Secrets("e2e-team-a").Get(ctx, "shared", metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(cp.Labels).To(HaveKeyWithValue(courierv1alpha1.LabelManagedBy, courierv1alpha1.ManagedByValue))
		Expect(cp.Labels).To(HaveKeyWithValue(courierv1alpha1.LabelClusterPropagation, "e2e-shared"))
		Expect(cp.Annotations).To(HaveKeyWithValue(courierv1alpha1.AnnotationSource, "e2e-src/shared"))

		By("a namespace that starts matching gets a copy")
		createNamespace(ctx, "e2e-team-c", map[string]string{"e2e-target": "yes"})
		waitSecretData(ctx, "e2e-team-c", "shared", map[string]string{"token": "s3cr3t", "ca.crt": "-----BEGIN CERTIFICATE-----"})

		By("drift on a copy is repaired")
		cp.Data["token"] = []byte("tampered")
		_, err = env.Kube.CoreV1().Secrets("e2e-team-a").Update(ctx, cp, metav1.UpdateOptions{})
		Expect(err).NotTo(HaveOccurred())
		waitSecretData(ctx, "e2e-team-a", "shared", map[string]string{"token": "s3cr3t", "ca.crt": "-----BEGIN CERTIFICATE-----"})

		By("a deleted copy is recreated")
		Expect(env.Kube.CoreV1().Secrets("e2e-team-b").Delete(ctx, "shared", metav1.DeleteOptions{})).To(Succeed())
		waitSecretData(ctx, "e2e-team-b", "shared", map[string]string{"token": "s3cr3t", "ca.crt": "-----BEGIN CERTIFICATE-----"})

		By("a source change reaches every copy")
		setSharedToken(ctx, "rotated")
		for _, ns := range sharedCopyNamespaces {
			copies = append(copies, copyRef{kind: "Secret", ns: ns, name: "shared"})
		}
	})

	It("3b. pulls a ConfigMap into a namespace only with the source owner's consent", func(ctx SpecContext) {
		_, err := env.Kube.CoreV1().ConfigMaps("e2e-src").Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: "pullable", Namespace: "e2e-src",
				Annotations: map[string]string{courierv1alpha1.AnnotationShareWithNamespaces: "e2e-team-*"}},
			Data: map[string]string{"endpoint": "https://api.example.com"},
		}, metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		_, err = env.Kube.CoreV1().ConfigMaps("e2e-src").Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: "private", Namespace: "e2e-src"},
			Data:       map[string]string{"x": "y"},
		}, metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		// Two pulls into e2e-team-a, one per ConfigMap of e2e-src.
		for name, source := range map[string]string{"pull-endpoint": "pullable", "pull-private": "private"} {
			apply(ctx, fmt.Sprintf(`
apiVersion: courier.dev/v1alpha1
kind: Propagation
metadata: {name: %s, namespace: e2e-team-a}
spec:
  sources:
  - {apiVersion: v1, kind: ConfigMap, namespace: e2e-src, name: %s}
`, name, source))
		}
		Eventually(func(g Gomega) {
			cm, err := env.Kube.CoreV1().ConfigMaps("e2e-team-a").Get(ctx, "pullable", metav1.GetOptions{})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(cm.Data).To(Equal(map[string]string{"endpoint": "https://api.example.com"}))
			g.Expect(cm.Labels).To(HaveKeyWithValue(courierv1alpha1.LabelPropagation, "pull-endpoint"))
		}).WithTimeout(time.Minute).Should(Succeed())
		copies = append(copies, copyRef{kind: "ConfigMap", ns: "e2e-team-a", name: "pullable"})
		Consistently(func() bool {
			_, err := env.Kube.CoreV1().ConfigMaps("e2e-team-a").Get(ctx, "private", metav1.GetOptions{})
			return apierrors.IsNotFound(err)
		}).WithTimeout(3*time.Second).Should(BeTrue(), "no consent, no copy")
	})

	It("3c. rolls an opted-in Deployment exactly once when its ConfigMap changes", func(ctx SpecContext) {
		_, err := env.Kube.CoreV1().ConfigMaps("e2e-team-b").Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: "app-config", Namespace: "e2e-team-b"},
			Data:       map[string]string{"LOG_LEVEL": "info"},
		}, metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		dep := &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "e2e-team-b",
				Labels: map[string]string{courierv1alpha1.LabelRolloutOnChange: "true"}},
			Spec: appsv1.DeploymentSpec{
				Replicas: ptr.To[int32](2),
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{
						// A real, tiny image: on an existing cluster the pods must actually run.
						Name: "web", Image: "registry.k8s.io/pause:3.10",
						EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{
							LocalObjectReference: corev1.LocalObjectReference{Name: "app-config"}}}},
					}}},
				},
			},
		}
		_, err = env.Kube.AppsV1().Deployments("e2e-team-b").Create(ctx, dep, metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		waitRollout(ctx, "e2e-team-b", "web")
		Consistently(func() int { return replicaSets(ctx, "e2e-team-b", "app=web") }).
			WithTimeout(4*time.Second).Should(Equal(1), "opting in does not roll the workload")

		start := time.Now()
		cm, err := env.Kube.CoreV1().ConfigMaps("e2e-team-b").Get(ctx, "app-config", metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred())
		cm.Data["LOG_LEVEL"] = "debug"
		_, err = env.Kube.CoreV1().ConfigMaps("e2e-team-b").Update(ctx, cm, metav1.UpdateOptions{})
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() int { return replicaSets(ctx, "e2e-team-b", "app=web") }).
			WithTimeout(time.Minute).Should(Equal(2), "kube-controller-manager created a new ReplicaSet")
		waitRollout(ctx, "e2e-team-b", "web")
		timed("rollout on change (ConfigMap update to rollout complete)", start)
		d, err := env.Kube.AppsV1().Deployments("e2e-team-b").Get(ctx, "web", metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(d.Spec.Template.Annotations).To(HaveKey(courierv1alpha1.AnnotationConfigHash))
		Consistently(func() int { return replicaSets(ctx, "e2e-team-b", "app=web") }).
			WithTimeout(4*time.Second).Should(Equal(2), "one change, one rollout")
	})

	It("3d. rolls a CronJob: one run-now Job with the new configuration, and the next scheduled Job runs it", func(ctx SpecContext) {
		const ns = "e2e-team-b"
		_, err := env.Kube.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: "report-config", Namespace: ns},
			Data:       map[string]string{"LEVEL": "info"},
		}, metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		cj := &batchv1.CronJob{
			ObjectMeta: metav1.ObjectMeta{Name: "report", Namespace: ns,
				Labels:      map[string]string{courierv1alpha1.LabelRolloutOnChange: "true"},
				Annotations: map[string]string{"courier.dev/rollout-run-now": "true"}},
			Spec: batchv1.CronJobSpec{
				Schedule: "* * * * *", // kube-controller-manager schedules one Job a minute
				JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{
					Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{
						Name: "report", Image: "registry.k8s.io/pause:3.10",
						Env: []corev1.EnvVar{{Name: "LEVEL", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
							LocalObjectReference: corev1.LocalObjectReference{Name: "report-config"}, Key: "LEVEL"}}}},
					}}},
				}}},
			},
		}
		_, err = env.Kube.BatchV1().CronJobs(ns).Create(ctx, cj, metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		Eventually(func(g Gomega) {
			cur, err := env.Kube.BatchV1().CronJobs(ns).Get(ctx, "report", metav1.GetOptions{})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(cur.Annotations).To(HaveKey("courier.dev/applied-config-hash"))
		}).WithTimeout(time.Minute).Should(Succeed(), "Courier tracks the CronJob")
		// jobs returns the config hash of the namespace's Jobs of this CronJob, started
		// by hand (run-now) or by its schedule.
		jobs := func(manual bool) []string {
			l, err := env.Kube.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{})
			Expect(err).NotTo(HaveOccurred())
			var out []string
			for _, j := range l.Items {
				if len(j.OwnerReferences) == 1 && j.OwnerReferences[0].Name == "report" &&
					(j.Annotations["cronjob.kubernetes.io/instantiate"] == "manual") == manual {
					out = append(out, j.Spec.Template.Annotations[courierv1alpha1.AnnotationConfigHash])
				}
			}
			return out
		}
		Expect(jobs(true)).To(BeEmpty(), "opting in starts no Job")

		start := time.Now()
		cm, err := env.Kube.CoreV1().ConfigMaps(ns).Get(ctx, "report-config", metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred())
		cm.Data["LEVEL"] = "debug"
		_, err = env.Kube.CoreV1().ConfigMaps(ns).Update(ctx, cm, metav1.UpdateOptions{})
		Expect(err).NotTo(HaveOccurred())
		var hash string
		Eventually(func(g Gomega) {
			cur, err := env.Kube.BatchV1().CronJobs(ns).Get(ctx, "report", metav1.GetOptions{})
			g.Expect(err).NotTo(HaveOccurred())
			hash = cur.Spec.JobTemplate.Spec.Template.Annotations[courierv1alpha1.AnnotationConfigHash]
			g.Expect(hash).NotTo(BeEmpty())
		}).WithTimeout(time.Minute).Should(Succeed(), "the Job template rolled")
		Eventually(func() []string { return jobs(true) }).WithTimeout(time.Minute).Should(Equal([]string{hash}))
		timed("CronJob rollout (ConfigMap update to the run-now Job)", start)
		Consistently(func() []string { return jobs(true) }).WithTimeout(4*time.Second).Should(HaveLen(1), "one change, one Job")
		Eventually(func() []string { return jobs(false) }).WithTimeout(150*time.Second).WithPolling(time.Second).
			Should(ContainElement(hash), "the next scheduled Job runs with the new configuration")
		timed("CronJob rollout (ConfigMap update to the next scheduled Job)", start)
	})

	It("3e. rolls a capped wave of Deployments: each exactly once, never more than the cap at once", func(ctx SpecContext) {
		if framework.Existing() {
			Skip("PENDING on an existing cluster: this spec restarts the local manager with --rollout-max-concurrent")
		}
		const ns, n, limit = "e2e-wave", 6, 2
		operator.Stop()
		startOperator(ctx, "v1-capped", fmt.Sprintf("--rollout-max-concurrent=%d", limit))
		DeferCleanup(func(ctx SpecContext) {
			operator.Stop()
			startOperator(ctx, "v1")
		})
		createNamespace(ctx, ns, nil)
		_, err := env.Kube.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: "wave-config", Namespace: ns}, Data: map[string]string{"MODE": "a"},
		}, metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		for i := range n {
			name := fmt.Sprintf("wave-%d", i)
			_, err := env.Kube.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{
				ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{courierv1alpha1.LabelRolloutOnChange: "true"}},
				Spec: appsv1.DeploymentSpec{
					Replicas: ptr.To[int32](1),
					Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
					Template: corev1.PodTemplateSpec{
						ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
						Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.k8s.io/pause:3.10",
							EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{
								LocalObjectReference: corev1.LocalObjectReference{Name: "wave-config"}}}}}}},
					},
				},
			}, metav1.CreateOptions{})
			Expect(err).NotTo(HaveOccurred())
		}
		Eventually(func(g Gomega) {
			l, err := env.Kube.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(l.Items).To(HaveLen(n))
			for _, d := range l.Items {
				g.Expect(d.Annotations).To(HaveKey("courier.dev/applied-config-hash"), "Courier tracks %s", d.Name)
			}
		}).WithTimeout(time.Minute).Should(Succeed())
		for i := range n {
			waitRollout(ctx, ns, fmt.Sprintf("wave-%d", i))
		}

		// Counted from one watch, in the API server's order: a Deployment rolls from
		// the event showing its template change until the one where
		// kube-controller-manager reports every replica updated and available.
		wave := watchWave(ctx, ns)
		start := time.Now()
		cm, err := env.Kube.CoreV1().ConfigMaps(ns).Get(ctx, "wave-config", metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred())
		cm.Data["MODE"] = "b"
		_, err = env.Kube.CoreV1().ConfigMaps(ns).Update(ctx, cm, metav1.UpdateOptions{})
		Expect(err).NotTo(HaveOccurred())
		Eventually(wave.done).WithTimeout(3*time.Minute).WithPolling(100*time.Millisecond).Should(Equal(n), "every Deployment rolled and finished")
		timed(fmt.Sprintf("capped wave: %d Deployments, at most %d at once (ConfigMap update to the last rollout done)", n, limit), start)
		Consistently(wave.changes).WithTimeout(4*time.Second).Should(HaveEach(1), "one change, one rollout each")
		Expect(wave.changes()).To(HaveLen(n))
		Expect(wave.peak()).To(Equal(limit), "the cap is used, and never exceeded")
	})

	It("4. passes the bundle's custom scorecard tests against this cluster", func(ctx SpecContext) {
		tests, err := framework.CustomScorecardTests(filepath.Join(root, "bundle"), "courier-scorecard-tests")
		Expect(err).NotTo(HaveOccurred())
		Expect(tests).NotTo(BeEmpty(), "bundle/tests/scorecard/config.yaml has no courier-scorecard-tests entries")
		bin, err := framework.GoBuild(ctx, root, "./test/scorecard/cmd/courier-scorecard-tests", workDir)
		Expect(err).NotTo(HaveOccurred())
		for _, args := range tests {
			start := time.Now()
			status, err := framework.RunScorecardTest(ctx, bin, args, filepath.Join(root, "bundle"), env.Kubeconfig)
			Expect(err).NotTo(HaveOccurred())
			for _, r := range status.Results {
				Expect(string(r.State)).To(Equal("pass"), "scorecard test %s: errors %v\nlog:\n%s", r.Name, r.Errors, r.Log)
			}
			timed("scorecard "+strings.Join(args, " "), start)
		}
	})

	It("5. upgrades by subscription; propagations and copies survive untouched and keep working", func(ctx SpecContext) {
		if framework.Existing() {
			Skip("upgrade needs the suite to publish a new bundle to a catalog it serves (local cluster only)")
		}
		before := snapshot(ctx, copies)
		crsBefore := crSnapshot(ctx)

		csv, err := framework.CSV(current)
		Expect(err).NotTo(HaveOccurred())
		v, _, _ := unstructured.NestedString(csv.Object, "spec", "version")
		sv, err := semver.ParseTolerant(v)
		Expect(err).NotTo(HaveOccurred())
		next := sv
		next.Patch++
		next.Pre, next.Build = nil, nil
		nextBundle, err := framework.NextVersion(current, next.String(), func(csv *unstructured.Unstructured) {
			ann := csv.GetAnnotations()
			if ann == nil {
				ann = map[string]string{}
			}
			ann[upgradeMarker] = csvName
			csv.SetAnnotations(ann)
		})
		Expect(err).NotTo(HaveOccurred())
		nextName := fmt.Sprint(nextBundle["name"])
		catalog.Bundles = append(catalog.Bundles, nextBundle)
		catalog.AddToChannel(courierChannel, nextName, csvName)
		dir := filepath.Join(workDir, "courier-catalog-2")
		Expect(catalog.Write(ctx, env.Opm, dir)).To(Succeed())

		start := time.Now()
		Expect(env.Local.ServeCatalog(ctx, courierCatalog, dir)).To(Succeed())
		upgraded, err := env.WaitInstalled(ctx, courierSub, nextName, 5*time.Minute)
		Expect(err).NotTo(HaveOccurred())
		Expect(env.WaitGone(ctx, csvName, 2*time.Minute)).To(Succeed())
		timed("OLM upgrade of Courier (catalog republished to new CSV Succeeded)", start)
		Expect(upgraded.GetAnnotations()).To(HaveKeyWithValue(upgradeMarker, csvName))

		// The new operator pod replaces the old one.
		operator.Stop()
		saName, err = framework.CSVServiceAccount(upgraded)
		Expect(err).NotTo(HaveOccurred())
		csvName = nextName
		startOperator(ctx, "v2")
		Consistently(func() map[string]string { return snapshot(ctx, copies) }).
			WithTimeout(5*time.Second).Should(Equal(before), "copies untouched by upgrade and restart (same UID and resourceVersion)")
		Expect(crSnapshot(ctx)).To(Equal(crsBefore), "propagations untouched (same UID and generation)")

		By("the upgraded operator keeps working")
		setSharedToken(ctx, "after-upgrade")
	})

	It("6. uninstall (delete Subscription and CSV) leaves copies in place", func(ctx SpecContext) {
		// Documented policy: OLM removes the operator and its RBAC but never CRDs or
		// custom resources, and Courier does not delete copies on its way out;
		// copies stay, unmanaged-in-practice, until their propagations are deleted
		// with a running operator.
		before := snapshot(ctx, copies)
		operator.Stop()
		Expect(env.Uninstall(ctx, courierSub, csvName)).To(Succeed())
		Expect(snapshot(ctx, copies)).To(Equal(before), "copies survive uninstall unchanged")
		Expect(crSnapshot(ctx)).NotTo(BeEmpty(), "propagations survive uninstall")
		Eventually(func() bool {
			_, err := asCourier.CoreV1().Secrets("e2e-team-a").List(ctx, metav1.ListOptions{})
			return apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err)
		}).WithTimeout(time.Minute).Should(BeTrue(), "the operator's permissions are gone")
	})
})

// copyRef names a managed copy.
type copyRef struct{ kind, ns, name string }

// snapshot maps each copy to "<uid>/<resourceVersion>": equal snapshots mean no
// object was rewritten or recreated.
func snapshot(ctx SpecContext, refs []copyRef) map[string]string {
	out := map[string]string{}
	for _, r := range refs {
		var m metav1.Object
		var err error
		switch r.kind {
		case "Secret":
			m, err = env.Kube.CoreV1().Secrets(r.ns).Get(ctx, r.name, metav1.GetOptions{})
		default:
			m, err = env.Kube.CoreV1().ConfigMaps(r.ns).Get(ctx, r.name, metav1.GetOptions{})
		}
		key := r.kind + " " + r.ns + "/" + r.name
		if err != nil {
			out[key] = err.Error()
			continue
		}
		out[key] = string(m.GetUID()) + "/" + m.GetResourceVersion()
	}
	return out
}

// crSnapshot maps every ClusterPropagation and Propagation to "<uid>/<generation>".
func crSnapshot(ctx SpecContext) map[string]string {
	out := map[string]string{}
	for _, gvr := range []schema.GroupVersionResource{clusterPropagationGVR, propagationGVR} {
		list, err := env.Dyn.Resource(gvr).List(ctx, metav1.ListOptions{})
		Expect(err).NotTo(HaveOccurred())
		for _, o := range list.Items {
			out[gvr.Resource+" "+o.GetNamespace()+"/"+o.GetName()] = fmt.Sprintf("%s/%d", o.GetUID(), o.GetGeneration())
		}
	}
	return out
}

func apply(ctx SpecContext, manifests string) {
	_, err := env.Apply.Apply(ctx, []byte(manifests))
	Expect(err).NotTo(HaveOccurred())
}

func createNamespace(ctx SpecContext, name string, labels map[string]string) {
	_, err := env.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
	}, metav1.CreateOptions{})
	Expect(err).NotTo(HaveOccurred())
}

// sharedCopyNamespaces hold a copy of e2e-src/shared once spec 3a has made
// e2e-team-c match too.
var sharedCopyNamespaces = []string{"e2e-team-a", "e2e-team-b", "e2e-team-c"}

// setSharedToken changes the token of the source Secret e2e-src/shared and waits
// until every copy (sharedCopyNamespaces) holds it.
func setSharedToken(ctx SpecContext, token string) {
	GinkgoHelper()
	src, err := env.Kube.CoreV1().Secrets("e2e-src").Get(ctx, "shared", metav1.GetOptions{})
	Expect(err).NotTo(HaveOccurred())
	src.Data["token"] = []byte(token)
	_, err = env.Kube.CoreV1().Secrets("e2e-src").Update(ctx, src, metav1.UpdateOptions{})
	Expect(err).NotTo(HaveOccurred())
	for _, ns := range sharedCopyNamespaces {
		waitSecretData(ctx, ns, "shared", map[string]string{"token": token, "ca.crt": "-----BEGIN CERTIFICATE-----"})
	}
}

func waitSecretData(ctx SpecContext, ns, name string, want map[string]string) {
	GinkgoHelper()
	Eventually(func(g Gomega) {
		s, err := env.Kube.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
		g.Expect(err).NotTo(HaveOccurred())
		got := map[string]string{}
		for k, v := range s.Data {
			got[k] = string(v)
		}
		g.Expect(got).To(Equal(want))
	}).WithTimeout(time.Minute).WithPolling(100 * time.Millisecond).Should(Succeed())
}

func waitRollout(ctx SpecContext, ns, name string) {
	GinkgoHelper()
	Eventually(func(g Gomega) {
		d, err := env.Kube.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		g.Expect(err).NotTo(HaveOccurred())
		want := *d.Spec.Replicas
		g.Expect(d.Status.ObservedGeneration).To(Equal(d.Generation))
		g.Expect(d.Status.UpdatedReplicas).To(Equal(want))
		g.Expect(d.Status.AvailableReplicas).To(Equal(want))
		g.Expect(d.Status.Replicas).To(Equal(want))
	}).WithTimeout(time.Minute).WithPolling(100 * time.Millisecond).Should(Succeed())
}

func replicaSets(ctx SpecContext, ns, selector string) int {
	l, err := env.Kube.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
	Expect(err).NotTo(HaveOccurred())
	return len(l.Items)
}

func freePort() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	defer l.Close()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
}

// wave watches the Deployments of a namespace from now on and counts their
// template changes and how many roll at once.
type wave struct {
	mu      sync.Mutex
	hash    map[string]string
	change  map[string]int
	rolling map[string]bool
	max     int
}

func watchWave(ctx SpecContext, ns string) *wave {
	GinkgoHelper()
	l, err := env.Kube.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
	Expect(err).NotTo(HaveOccurred())
	w := &wave{hash: map[string]string{}, change: map[string]int{}, rolling: map[string]bool{}}
	for _, d := range l.Items {
		w.hash[d.Name] = fmt.Sprint(d.Spec.Template.Annotations)
	}
	wctx, cancel := context.WithCancel(context.Background())
	DeferCleanup(cancel)
	watcher, err := env.Kube.AppsV1().Deployments(ns).Watch(wctx, metav1.ListOptions{ResourceVersion: l.ResourceVersion})
	Expect(err).NotTo(HaveOccurred())
	go func() {
		defer watcher.Stop()
		for ev := range watcher.ResultChan() {
			if d, ok := ev.Object.(*appsv1.Deployment); ok {
				w.observe(d)
			}
		}
	}()
	return w
}

func (w *wave) observe(d *appsv1.Deployment) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if h := fmt.Sprint(d.Spec.Template.Annotations); h != w.hash[d.Name] {
		w.hash[d.Name] = h
		w.change[d.Name]++
		w.rolling[d.Name] = true
		w.max = max(w.max, len(w.rolling))
		return
	}
	want, s := *d.Spec.Replicas, d.Status
	if s.ObservedGeneration >= d.Generation && s.UpdatedReplicas == want && s.AvailableReplicas == want && s.Replicas == want {
		delete(w.rolling, d.Name)
	}
}

// done is the number of Deployments that rolled and finished.
func (w *wave) done() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for name := range w.change {
		if !w.rolling[name] {
			n++
		}
	}
	return n
}

func (w *wave) changes() map[string]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return maps.Clone(w.change)
}

func (w *wave) peak() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.max
}
