package reliability

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/api/v1alpha1"
	"github.com/courier-operator/courier/test/fixtures"
)

// uniq returns a fresh DNS-safe name, so specs never share objects.
var uniq = fixtures.Uniq

// Source tooling metadata that must never reach a copy.
const (
	lastApplied = "kubectl.kubernetes.io/last-applied-configuration"
	helmLabel   = "helm.sh/chart"
	argoLabel   = "app.kubernetes.io/instance"
)

// mkNamespace creates a namespace and returns its name.
func mkNamespace(ctx context.Context, name string, labels map[string]string) string {
	return fixtures.Namespace(ctx, admin, name, labels).Name
}

// mkNamespaces creates n namespaces prefix-0..n-1 with labels.
func mkNamespaces(ctx context.Context, prefix string, n int, labels map[string]string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = mkNamespace(ctx, fmt.Sprintf("%s-%d", prefix, i), labels)
	}
	return out
}

// secretData returns data that holds the suite's leak marker plus random content.
func secretData(extra map[string]string) map[string][]byte {
	d := map[string][]byte{"marker": []byte("value-with-" + marker), "random": []byte(randomHex(16))}
	for k, v := range extra {
		d[k] = []byte(v)
	}
	return d
}

// mkSecret creates a Secret carrying the leak marker and the tooling metadata a
// copy must not inherit.
func mkSecret(ctx context.Context, ns, name string, mutate ...func(*corev1.Secret)) *corev1.Secret {
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns,
			Labels:      map[string]string{helmLabel: "x-1.0", argoLabel: "argo-app", "app": "demo"},
			Annotations: map[string]string{lastApplied: `{"data":{"marker":"` + marker + `"}}`, "team": "a"}},
		Type: corev1.SecretTypeOpaque,
		Data: secretData(nil),
	}
	return fixtures.Create(ctx, admin, s, mutate...)
}

// mkConfigMap creates a ConfigMap with text and binary data (and the marker).
func mkConfigMap(ctx context.Context, ns, name string, mutate ...func(*corev1.ConfigMap)) *corev1.ConfigMap {
	c := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{helmLabel: "x-1.0"},
			Annotations: map[string]string{lastApplied: `{"data":{"marker":"` + marker + `"}}`}},
		Data:       map[string]string{"marker": "cm-" + marker, "config.yaml": "a: 1\n"},
		BinaryData: map[string][]byte{"blob": {0, 1, 2, 0xff, byte(rand.IntN(256))}},
	}
	return fixtures.Create(ctx, admin, c, mutate...)
}

var (
	secretRef    = fixtures.SecretRef
	configMapRef = fixtures.ConfigMapRef
)

func matchLabels(kv ...string) *v1alpha1.LabelSelector {
	m := map[string]v1alpha1.LabelValue{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = v1alpha1.LabelValue(kv[i+1])
	}
	return &v1alpha1.LabelSelector{MatchLabels: m}
}

func mkCluster(ctx context.Context, name string, spec v1alpha1.ClusterPropagationSpec) *v1alpha1.ClusterPropagation {
	return fixtures.Cluster(ctx, admin, name, spec)
}

func mkPull(ctx context.Context, ns, name string, spec v1alpha1.PropagationSpec) *v1alpha1.Propagation {
	return fixtures.Create(ctx, admin, &v1alpha1.Propagation{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: spec})
}

// conditionOf returns "<status>/<reason>: <message>" of a condition of a propagation,
// "" when absent or the object is gone.
func conditionOf(ctx context.Context, obj client.Object, typ string) string {
	if err := admin.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
		return ""
	}
	return fixtures.Condition(obj, typ)
}

// gone reports whether obj no longer exists.
func gone(ctx context.Context, obj client.Object) func() bool { return fixtures.Gone(ctx, admin, obj) }

// deleteAndWait deletes obj and waits until it is gone (finalizer released).
func deleteAndWait(ctx context.Context, obj client.Object) {
	fixtures.DeleteAndWait(ctx, admin, obj)
}

// getSecret reads a Secret; nil when absent.
func getSecret(ctx context.Context, ns, name string) *corev1.Secret {
	return fixtures.GetSecret(ctx, admin, ns, name)
}

// pollUntil calls f every interval until it returns true or timeout passes.
func pollUntil(timeout, interval time.Duration, f func() bool) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if f() {
			return true
		}
		time.Sleep(interval)
	}
	return false
}

func keyOf(ns, name string) types.NamespacedName {
	return types.NamespacedName{Namespace: ns, Name: name}
}

func objMeta(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: name} }

// dataOf returns one data value of a Secret, "" when the Secret or key is absent.
func dataOf(ctx context.Context, ns, name, key string) string {
	if s := getSecret(ctx, ns, name); s != nil {
		return string(s.Data[key])
	}
	return ""
}
