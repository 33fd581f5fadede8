package apiconversion

import (
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/conversion"

	"github.com/courier-operator/courier/api/v1beta1"
)

// Hubs are the hub types of every courier.dev kind that has more than one version.
func Hubs() []client.Object {
	return []client.Object{&v1beta1.ClusterPropagation{}, &v1beta1.Propagation{}}
}

// Setup registers the conversion of every kind in Hubs with mgr's webhook server.
// mgr's scheme must hold every version of those kinds (internal/scheme does). A kind
// that is not convertible is an error here: controller-runtime's builder would skip
// it without a word, and the API server would then fail every request for it.
func Setup(mgr ctrl.Manager) error {
	for _, hub := range Hubs() {
		ok, err := conversion.IsConvertible(mgr.GetScheme(), hub)
		if err != nil {
			return fmt.Errorf("checking that %T converts: %w", hub, err)
		}
		if !ok {
			return fmt.Errorf("%T is not convertible: it needs a hub with a spoke for every other version in the scheme", hub)
		}
		if err := ctrl.NewWebhookManagedBy(mgr, hub).Complete(); err != nil {
			return fmt.Errorf("registering the conversion webhook for %T: %w", hub, err)
		}
	}
	return nil
}
