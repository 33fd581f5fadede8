package testenv

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/api/v1alpha1"
	"github.com/courier-operator/courier/internal/authzpolicy"
)

// ListKinds lists kinds (authzpolicy.KindKey → plural resource) in the admission
// policy's parameter ConfigMap in namespace, as an administrator enabling them does,
// and waits until the API server admits propagations of them (its policy machinery
// reads parameters from an informer). c must be allowed to create ClusterPropagations
// (an admin client).
func ListKinds(ctx context.Context, c client.Client, namespace string, kinds map[string]string) error {
	var cm corev1.ConfigMap
	if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: authzpolicy.KindsName}, &cm); err != nil {
		return err
	}
	if cm.Data == nil {
		cm.Data = map[string]string{}
	}
	var refs []v1alpha1.SourceReference
	for key, resource := range kinds {
		cm.Data[key] = resource
		kind, group, _ := strings.Cut(key, ".")
		apiVersion := "v1"
		if group != "" {
			apiVersion = group + "/v1"
		}
		refs = append(refs, v1alpha1.SourceReference{APIVersion: apiVersion, Kind: kind, Namespace: "default", Name: "probe"})
	}
	if err := c.Update(ctx, &cm); err != nil {
		return err
	}
	probe := &v1alpha1.ClusterPropagation{
		ObjectMeta: metav1.ObjectMeta{Name: "list-kinds-probe"},
		Spec: v1alpha1.ClusterPropagationSpec{Sources: refs,
			Targets: v1alpha1.ClusterTargets{Namespaces: []v1alpha1.NamespacePattern{"probe"}}},
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := c.Create(ctx, probe.DeepCopy(), client.DryRunAll)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the API server does not admit the kinds listed: %w", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
