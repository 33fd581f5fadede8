package apiconversion_test

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/api/v1alpha1"
)

// legacyObjects are created through 0.1's CRDs, before the upgrade, and no test
// changes them: the storage migration test counts them.
func legacyObjects() []client.Object {
	return []client.Object{
		alphaCP("legacy-ca"),
		&v1alpha1.ClusterPropagation{
			ObjectMeta: metav1.ObjectMeta{Name: "legacy-pull"},
			Spec: v1alpha1.ClusterPropagationSpec{
				Sources: []v1alpha1.SourceReference{{APIVersion: "v1", Kind: "Secret", Namespace: "platform", Name: "registry-pull"}},
				Targets: v1alpha1.ClusterTargets{Namespaces: []v1alpha1.NamespacePattern{"team-*"}},
			},
		},
		&v1alpha1.Propagation{
			ObjectMeta: metav1.ObjectMeta{Name: "legacy-config", Namespace: "default"},
			Spec: v1alpha1.PropagationSpec{
				Sources:  []v1alpha1.SourceReference{{APIVersion: "v1", Kind: "ConfigMap", Namespace: "platform", Name: "settings"}},
				Template: &v1alpha1.CopyTemplate{ExcludeKeys: []v1alpha1.KeyPattern{"*.secret"}},
			},
		},
	}
}

func createLegacyObjects(ctx context.Context) error {
	for _, obj := range legacyObjects() {
		if err := c.Create(ctx, obj); err != nil {
			return err
		}
	}
	return nil
}
