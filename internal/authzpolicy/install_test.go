package authzpolicy

import (
	"context"
	"errors"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	courierscheme "github.com/courier-operator/courier/internal/scheme"
)

// TestInstallerRetriesUntilAllowed: right after an OLM upgrade the manager's RBAC
// may lag; the Installer must keep trying (not crash) and then install everything.
func TestInstallerRetriesUntilAllowed(t *testing.T) {
	scheme := courierscheme.New()
	refusals := 3
	c := fake.NewClientBuilder().WithScheme(scheme).WithInterceptorFuncs(interceptor.Funcs{
		Apply: func(ctx context.Context, c client.WithWatch, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
			if refusals > 0 {
				refusals--
				return apierrors.NewForbidden(schema.GroupResource{Resource: "configmaps"}, KindsName, errors.New("RBAC not there yet"))
			}
			return c.Apply(ctx, obj, opts...)
		},
	}).Build()
	i := &Installer{Client: c, Namespace: "courier-system", Log: zap.New(), MaxBackoff: time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := i.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if refusals != 0 {
		t.Fatalf("the Installer gave up with %d refusals left", refusals)
	}
	var policy admissionregistrationv1.ValidatingAdmissionPolicy
	var binding admissionregistrationv1.ValidatingAdmissionPolicyBinding
	var kinds corev1.ConfigMap
	for _, get := range []struct {
		key client.ObjectKey
		obj client.Object
	}{{client.ObjectKey{Name: PolicyName}, &policy}, {client.ObjectKey{Name: PolicyName}, &binding}, {client.ObjectKey{Namespace: "courier-system", Name: KindsName}, &kinds}} {
		if err := c.Get(ctx, get.key, get.obj); err != nil {
			t.Fatalf("%T not installed: %v", get.obj, err)
		}
	}
	if policyDiffers(&policy) != "" || bindingDiffers(&binding) != "" || kinds.Data["Secret"] != "secrets" {
		t.Fatalf("installed objects differ: %q %q %v", policyDiffers(&policy), bindingDiffers(&binding), kinds.Data)
	}
	// A stopped manager stops the retries.
	refusals = 1 << 30
	stopped, stop := context.WithCancel(context.Background())
	stop()
	if err := i.Start(stopped); err != nil {
		t.Fatal(err)
	}
}
