package authzpolicy

import (
	"context"
	"fmt"
	"time"

	"github.com/go-logr/logr"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// FieldManager is the field manager Install writes with.
const FieldManager = "courier-admission-policy"

// Install makes the policy and its binding exactly as shipped (created, or replaced
// whole, so a hand edit is undone) and applies the parameter ConfigMap in namespace
// with server-side apply, owning only the DefaultKinds: keys an administrator added
// are kept.
//
// The manager calls it at start when installed through OLM, whose bundles cannot
// carry admission policies (--install-admission-policy); kustomize and the Helm
// chart install the same objects declaratively (config/admission).
func Install(ctx context.Context, c client.Client, namespace string) error {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(Kinds(namespace))
	if err != nil {
		return err
	}
	kinds := &unstructured.Unstructured{Object: m}
	unstructured.RemoveNestedField(kinds.Object, "metadata", "creationTimestamp")
	if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(kinds), client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return fmt.Errorf("applying ConfigMap %s/%s: %w", namespace, KindsName, err)
	}
	for _, obj := range []client.Object{Policy(), Binding(namespace)} {
		if err := replace(ctx, c, obj); err != nil {
			return fmt.Errorf("installing %s %s: %w", obj.GetObjectKind().GroupVersionKind().Kind, obj.GetName(), err)
		}
	}
	return nil
}

// replace creates want, or overwrites the live object with it (keeping only its
// resourceVersion).
func replace(ctx context.Context, c client.Client, want client.Object) error {
	live := want.DeepCopyObject().(client.Object)
	err := c.Get(ctx, client.ObjectKeyFromObject(want), live)
	if apierrors.IsNotFound(err) {
		return c.Create(ctx, want, client.FieldOwner(FieldManager))
	}
	if err != nil {
		return err
	}
	want.SetResourceVersion(live.GetResourceVersion())
	return c.Update(ctx, want, client.FieldOwner(FieldManager))
}

// Installer is a manager Runnable that runs Install until it succeeds, retrying
// with capped exponential backoff: right after an install or an upgrade the
// manager's own RBAC may not be in force yet (OLM replaces a CSV's roles and
// bindings as it upgrades), which must delay the install, not crash the manager.
// Until it succeeds, the Guard finds the policy missing and no takeover happens.
type Installer struct {
	Client    client.Client
	Namespace string
	// Log reports each failed attempt.
	Log logr.Logger
	// MaxBackoff caps the wait between attempts (30 s when zero).
	MaxBackoff time.Duration
}

// Start implements manager.Runnable.
func (i *Installer) Start(ctx context.Context) error {
	maxWait := i.MaxBackoff
	if maxWait <= 0 {
		maxWait = 30 * time.Second
	}
	wait := 500 * time.Millisecond
	for {
		err := Install(ctx, i.Client, i.Namespace)
		if err == nil {
			i.Log.Info("admission policy installed", "policy", PolicyName, "parameters", i.Namespace+"/"+KindsName)
			return nil
		}
		i.Log.Info("installing the admission policy failed; retrying", "error", err.Error(), "after", wait)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		wait = min(2*wait, maxWait)
	}
}
