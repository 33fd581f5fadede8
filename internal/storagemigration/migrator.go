package storagemigration

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/go-logr/logr"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// pageSize bounds each list: a migration of many objects never holds them all.
const pageSize = 250

// Migrator is a manager Runnable that migrates the objects of CRDs to their storage
// version, once, when it starts on the leader, retrying until it is done or the
// manager stops (the conversion webhook may not be serving yet when it starts).
type Migrator struct {
	// Client reads and writes without a cache. It must know apiextensions/v1.
	Client client.Client
	// CRDs are the names of the CRDs to migrate.
	CRDs []string
	// Log receives one line per migrated CRD and every retry.
	Log logr.Logger
	// Backoff paces the retries; zero means 1 s doubling to 1 min.
	Backoff wait.Backoff
}

// NeedLeaderElection makes only the leader migrate.
func (m *Migrator) NeedLeaderElection() bool { return true }

// Start migrates every CRD in m.CRDs, retrying each until it succeeds or ctx ends.
// It returns nil when ctx ends: a migration left for the next leader is no error.
func (m *Migrator) Start(ctx context.Context) error {
	for _, name := range m.CRDs {
		backoff := m.Backoff
		if backoff.Steps == 0 {
			backoff = wait.Backoff{Duration: time.Second, Factor: 2, Steps: 1 << 30, Cap: time.Minute}
		}
		err := wait.ExponentialBackoffWithContext(ctx, backoff, func(ctx context.Context) (bool, error) {
			res, err := m.Migrate(ctx, name)
			if err != nil {
				m.Log.Info("storage migration will be retried", "crd", name, "error", err.Error())
				return false, nil
			}
			if res.Rewritten > 0 || res.Changed {
				m.Log.Info("storage migrated", "crd", name, "storageVersion", res.StorageVersion, "objects", res.Objects, "rewritten", res.Rewritten)
			}
			return true, nil
		})
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return fmt.Errorf("migrating the storage of %s: %w", name, err)
		}
	}
	return nil
}

// Result says what one migration did.
type Result struct {
	// StorageVersion is the version objects are stored in now.
	StorageVersion string
	// Objects is how many objects were read; Rewritten how many of those the
	// write moved (their resourceVersion changed).
	Objects, Rewritten int
	// Changed is whether status.storedVersions was set.
	Changed bool
}

// Migrate migrates one CRD: when status.storedVersions lists a version other than
// the storage version, every object is written back in the storage version, then
// storedVersions is set to it alone.
func (m *Migrator) Migrate(ctx context.Context, name string) (Result, error) {
	var crd apiextensionsv1.CustomResourceDefinition
	if err := m.Client.Get(ctx, client.ObjectKey{Name: name}, &crd); err != nil {
		return Result{}, err
	}
	storage := storageVersion(&crd)
	res := Result{StorageVersion: storage}
	if storage == "" {
		return res, fmt.Errorf("%s has no storage version", name)
	}
	if slices.Equal(crd.Status.StoredVersions, []string{storage}) {
		return res, nil
	}
	gvk := schema.GroupVersionKind{Group: crd.Spec.Group, Version: storage, Kind: crd.Spec.Names.ListKind}
	continueToken := ""
	for {
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(gvk)
		if err := m.Client.List(ctx, list, client.Limit(pageSize), client.Continue(continueToken)); err != nil {
			return res, fmt.Errorf("listing %s in %s: %w", crd.Spec.Names.Plural, storage, err)
		}
		for i := range list.Items {
			obj := &list.Items[i]
			before := obj.GetResourceVersion()
			res.Objects++
			// The object as read, resourceVersion included: a write that lost a race
			// is a conflict, and the racing write stored the object in this version.
			switch err := m.Client.Update(ctx, obj); {
			case apierrors.IsConflict(err), apierrors.IsNotFound(err):
			case err != nil:
				return res, fmt.Errorf("rewriting %s %s: %w", crd.Spec.Names.Kind, client.ObjectKeyFromObject(obj), err)
			case obj.GetResourceVersion() != before:
				res.Rewritten++
			}
		}
		if continueToken = list.GetContinue(); continueToken == "" {
			break
		}
	}
	crd.Status.StoredVersions = []string{storage}
	if err := m.Client.Status().Update(ctx, &crd); err != nil {
		return res, fmt.Errorf("setting %s status.storedVersions: %w", name, err)
	}
	res.Changed = true
	return res, nil
}

// storageVersion is the name of crd's storage version.
func storageVersion(crd *apiextensionsv1.CustomResourceDefinition) string {
	for _, v := range crd.Spec.Versions {
		if v.Storage {
			return v.Name
		}
	}
	return ""
}
