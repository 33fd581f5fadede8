package scheme

import (
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	courierv1alpha1 "github.com/courier-operator/courier/api/v1alpha1"
	courierv1beta1 "github.com/courier-operator/courier/api/v1beta1"
)

// New returns a new scheme with client-go's built-in kinds and every courier.dev
// version. Registering them fails only on a programming error (two Go types for one
// kind), which is why New panics instead of returning an error.
func New() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(courierv1alpha1.AddToScheme(s))
	utilruntime.Must(courierv1beta1.AddToScheme(s))
	return s
}
