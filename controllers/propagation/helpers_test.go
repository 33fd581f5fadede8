package propagation

import (
	"context"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/api/v1alpha1"
	"github.com/courier-operator/courier/test/fixtures"
)

// uniq returns a fresh DNS-safe name with a prefix, so specs never share objects.
var uniq = fixtures.Uniq

func mkNamespace(ctx context.Context, name string, labels map[string]string) *corev1.Namespace {
	return fixtures.Namespace(ctx, admin, name, labels)
}

func mkSecret(ctx context.Context, ns, name string, data map[string]string, mutate ...func(*corev1.Secret)) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Data: map[string][]byte{}}
	for k, v := range data {
		s.Data[k] = []byte(v)
	}
	return fixtures.Create(ctx, admin, s, mutate...)
}

var (
	named     = fixtures.SourceRef
	secretRef = fixtures.SecretRef
)

func bySelector(key, value string) *v1alpha1.LabelSelector {
	return &v1alpha1.LabelSelector{MatchLabels: map[string]v1alpha1.LabelValue{key: v1alpha1.LabelValue(value)}}
}

func mkCluster(ctx context.Context, name string, spec v1alpha1.ClusterPropagationSpec) *v1alpha1.ClusterPropagation {
	return fixtures.Cluster(ctx, admin, name, spec)
}

// getSecret reads a Secret from the API server; nil when absent.
func getSecret(ctx context.Context, ns, name string) *corev1.Secret {
	return fixtures.GetSecret(ctx, admin, ns, name)
}

// secretData returns the data of a Secret as strings, or nil when absent.
func secretData(ctx context.Context, ns, name string) func() map[string]string {
	return func() map[string]string {
		s := getSecret(ctx, ns, name)
		if s == nil {
			return nil
		}
		out := map[string]string{}
		for k, v := range s.Data {
			out[k] = string(v)
		}
		return out
	}
}

func exists(ctx context.Context, obj client.Object, ns, name string) func() bool {
	return func() bool {
		err := admin.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, obj)
		if apierrors.IsNotFound(err) {
			return false
		}
		Expect(err).NotTo(HaveOccurred())
		return true
	}
}

// readyOf returns "<status>/<reason>: <message>" of the Ready condition of a propagation.
func readyOf(ctx context.Context, obj client.Object) func() string {
	return func() string {
		Expect(admin.Get(ctx, client.ObjectKeyFromObject(obj), obj)).To(Succeed())
		return fixtures.Condition(obj, "Ready")
	}
}

func clusterStatus(ctx context.Context, name string) func() v1alpha1.PropagationStatus {
	return func() v1alpha1.PropagationStatus {
		var p v1alpha1.ClusterPropagation
		Expect(admin.Get(ctx, types.NamespacedName{Name: name}, &p)).To(Succeed())
		return p.Status
	}
}

// deleteAndWait deletes obj and waits until it is gone (finalizer released).
func deleteAndWait(ctx context.Context, obj client.Object) {
	fixtures.DeleteAndWait(ctx, admin, obj)
}

func copyOf(owner string) map[string]string {
	return map[string]string{v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue, v1alpha1.LabelClusterPropagation: owner}
}

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
