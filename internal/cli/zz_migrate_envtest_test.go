package cli_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/api/v1alpha1"
	"github.com/courier-operator/courier/controllers/rollout"
	"github.com/courier-operator/courier/internal/cli"
)

// TestMigrate converts what kubernetes-replicator, Reflector and Reloader left in a
// cluster, applies the plan to a control plane running Courier, and checks the
// outcome the peers gave: the same copies (exact data, in the same namespaces, the
// mirror taken over), the Deployments rolled by exactly the inputs Reloader
// followed, and a Kyverno generate rule's clones.
//
// It runs last (go test runs a package's tests file by file, in name order: hence
// this file's name): the objects it adds are not in the status and why goldens.
func TestMigrate(t *testing.T) {
	fixture(t) // the controllers are running; the shared fixture is left alone
	apply(t, "testdata/migrate.yaml", nil)

	// A dry run changes nothing, and prints the objects and the findings.
	dry := kubectlCourier(t, "migrate")
	if dry.code != cli.ExitOK || !strings.Contains(dry.stdout, "kind: ClusterPropagation") ||
		!strings.Contains(dry.stdout, "kind: Propagation") || !strings.Contains(dry.stdout, "[unsafe] Secret mig-platform/pushed") {
		t.Fatalf("dry run: exit code %d\n%s\n%s", dry.code, dry.stdout, dry.stderr)
	}
	for _, leak := range []string{"pushed-value", "reflected-value"} {
		if strings.Contains(dry.stdout+dry.stderr, leak) {
			t.Fatalf("the plan prints Secret data %q", leak)
		}
	}
	var cps v1alpha1.ClusterPropagationList
	must(t, admin.List(t.Context(), &cps))
	for _, p := range cps.Items {
		if strings.HasPrefix(p.Name, "secret-mig-") {
			t.Fatalf("the dry run created %s", p.Name)
		}
	}

	res := kubectlCourier(t, "migrate", "--apply")
	if res.code != cli.ExitOK {
		t.Fatalf("migrate --apply: exit code %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	t.Logf("migrate --apply:\n%s", res.stdout)

	// The replicator's push: a copy in each env=mig namespace, with the source's data.
	for _, ns := range []string{"mig-app-1", "mig-app-2"} {
		copyHas(t, ns, "pushed", "token", "pushed-value")
	}
	// Reflector's mirror, taken over by a Propagation and kept in sync.
	copyHas(t, "mig-app-1", "reflected", "password", "reflected-value")
	var src corev1.Secret
	must(t, admin.Get(t.Context(), client.ObjectKey{Namespace: "mig-platform", Name: "reflected"}, &src))
	if src.Annotations[v1alpha1.AnnotationShareWithNamespaces] != "mig-app-1" {
		t.Errorf("the source's consent: %v", src.Annotations)
	}
	src.StringData = map[string]string{"password": "rotated"}
	must(t, admin.Update(t.Context(), &src))
	copyHas(t, "mig-app-1", "reflected", "password", "rotated")
	var none corev1.Secret
	if err := admin.Get(t.Context(), client.ObjectKey{Namespace: "mig-app-2", Name: "reflected"}, &none); !apierrors.IsNotFound(err) {
		t.Errorf("reflected reached mig-app-2, which its source does not share with: %v", err)
	}

	// Reloader's Deployment: opted in, its baseline recorded, and one change rolls it once.
	key := client.ObjectKey{Namespace: "mig-app-1", Name: "web"}
	eventually(t, "the Deployment opted in and baselined", func() (bool, string) {
		var d appsv1.Deployment
		must(t, admin.Get(t.Context(), key, &d))
		return d.Labels[v1alpha1.LabelRolloutOnChange] == "true" && d.Annotations["courier.dev/applied-config-hash"] != "" &&
			d.Annotations["reloader.stakater.com/auto"] == "", fmt.Sprint(d.Labels, d.Annotations)
	})
	setData(t, "mig-app-1", "app-config", "LOG_LEVEL", "debug")
	var rolledHash string
	eventually(t, "the Deployment rolled", func() (bool, string) {
		var d appsv1.Deployment
		must(t, admin.Get(t.Context(), key, &d))
		rolledHash = d.Spec.Template.Annotations[v1alpha1.AnnotationConfigHash]
		return rolledHash != "", fmt.Sprint(d.Annotations)
	})
	// Reloader's reload list: only the listed input rolls the workload.
	api := client.ObjectKey{Namespace: "mig-app-2", Name: "api"}
	eventually(t, "api opted in and baselined", func() (bool, string) {
		var d appsv1.Deployment
		must(t, admin.Get(t.Context(), api, &d))
		return d.Annotations["courier.dev/applied-config-hash"] != "", fmt.Sprint(d.Annotations)
	})
	setData(t, "mig-app-2", "api-extra", "COLOR", "blue")
	time.Sleep(rolloutSettle)
	var d appsv1.Deployment
	must(t, admin.Get(t.Context(), api, &d))
	if h := d.Spec.Template.Annotations[v1alpha1.AnnotationConfigHash]; h != "" {
		t.Errorf("a change of api-extra, which Reloader did not follow, rolled api (%s)", h)
	}
	setData(t, "mig-app-2", "api-main", "MODE", "green")
	eventually(t, "api rolled for api-main", func() (bool, string) {
		must(t, admin.Get(t.Context(), api, &d))
		return d.Spec.Template.Annotations[v1alpha1.AnnotationConfigHash] != "", fmt.Sprint(d.Annotations)
	})

	// Kyverno's generate rule, read from its manifest: the plan's ClusterPropagation,
	// applied, clones the ConfigMap into the namespaces the rule matched.
	ky := kubectlCourier(t, "migrate", "-f", "testdata/migrate-kyverno.yaml", "-o", "json")
	var plan struct {
		Objects []map[string]any `json:"objects"`
	}
	if err := json.Unmarshal([]byte(ky.stdout), &plan); err != nil || len(plan.Objects) != 1 {
		t.Fatalf("migrate -f kyverno: %v, %d objects\n%s\n%s", err, len(plan.Objects), ky.stdout, ky.stderr)
	}
	must(t, admin.Create(t.Context(), &unstructured.Unstructured{Object: plan.Objects[0]}))
	for _, ns := range []string{"mig-app-1", "mig-app-2"} {
		eventually(t, "kyverno-settings in "+ns, func() (bool, string) {
			var cm corev1.ConfigMap
			err := admin.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "kyverno-settings"}, &cm)
			return err == nil && cm.Data["region"] == "eu" && cm.Labels[v1alpha1.LabelManagedBy] == v1alpha1.ManagedByValue, fmt.Sprint(err)
		})
	}

	w, _ := readStatus(t, "-n", "mig-app-1")
	for _, wl := range w.Workloads {
		if wl.Name == "web" && wl.Action != "none" {
			t.Errorf("after the rollout, web: %+v", wl)
		}
	}
}

// rolloutSettle is longer than the manager's coalescing window (the default, 5 s):
// a change that would roll has rolled by then.
const rolloutSettle = rollout.DefaultWindow + 3*time.Second

// setData sets one key of the ConfigMap ns/name.
func setData(t *testing.T, ns, name, key, value string) {
	t.Helper()
	var cm corev1.ConfigMap
	must(t, admin.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, &cm))
	cm.Data[key] = value
	must(t, admin.Update(t.Context(), &cm))
}

// copyHas waits until ns/name is a Courier copy whose key holds value.
func copyHas(t *testing.T, ns, name, key, value string) {
	t.Helper()
	eventually(t, "copy "+ns+"/"+name, func() (bool, string) {
		var s corev1.Secret
		if err := admin.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, &s); err != nil {
			return false, err.Error()
		}
		why := kubectlCourier(t, "why", "secret/"+name, "-n", ns) // says why not, on failure
		return s.Labels[v1alpha1.LabelManagedBy] == v1alpha1.ManagedByValue && string(s.Data[key]) == value, why.stdout
	})
}
