package localcluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
)

const (
	// OLMModule and OLMVersion are the OLM release whose CRDs are applied; keep in
	// step with OLM_VERSION in hack/olm-bins.sh, which builds its operators.
	OLMModule  = "github.com/operator-framework/operator-lifecycle-manager"
	OLMVersion = "v0.38.0"
	// OLMNamespace runs OLM and holds global catalogs.
	OLMNamespace = "olm"
	// OperatorsNamespace has the all-namespaces OperatorGroup; subscribe there.
	OperatorsNamespace = "operators"
	// GlobalOperatorGroup is the AllNamespaces OperatorGroup in OperatorsNamespace.
	GlobalOperatorGroup = "global-operators"
)

// GVRs of the OLM resources the package and its users touch.
var (
	CatalogSourceGVR = schema.GroupVersionResource{Group: "operators.coreos.com", Version: "v1alpha1", Resource: "catalogsources"}
	SubscriptionGVR  = schema.GroupVersionResource{Group: "operators.coreos.com", Version: "v1alpha1", Resource: "subscriptions"}
	CSVGVR           = schema.GroupVersionResource{Group: "operators.coreos.com", Version: "v1alpha1", Resource: "clusterserviceversions"}
	InstallPlanGVR   = schema.GroupVersionResource{Group: "operators.coreos.com", Version: "v1alpha1", Resource: "installplans"}
	OperatorGroupGVR = schema.GroupVersionResource{Group: "operators.coreos.com", Version: "v1", Resource: "operatorgroups"}
	// CRDGVR is CustomResourceDefinitions.
	CRDGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
)

// errNoCRDs reports an OLM module without deploy/chart/crds.
var errNoCRDs = errors.New("no CRD manifests")

// olmState is what installOLM set up.
type olmState struct {
	catalogs map[string]*catalogServer
}

// olmBootstrap is the cluster-side setup upstream OLM's manifests create besides
// the CRDs and deployments.
const olmBootstrap = `
apiVersion: v1
kind: Namespace
metadata: {name: olm}
---
apiVersion: v1
kind: Namespace
metadata: {name: operators}
---
apiVersion: operators.coreos.com/v1
kind: OperatorGroup
metadata: {name: global-operators, namespace: operators}
---
apiVersion: operators.coreos.com/v1
kind: OperatorGroup
metadata: {name: olm-operators, namespace: olm}
spec: {targetNamespaces: [olm]}
---
apiVersion: operators.coreos.com/v1
kind: OLMConfig
metadata: {name: cluster}
`

// installOLM applies OLM's CRDs (server-side: the CSV CRD is too large for the
// last-applied annotation), bootstraps namespaces, OperatorGroups and OLMConfig, and
// runs the olm and catalog operators as local processes with admin credentials.
func (c *Cluster) installOLM(ctx context.Context) error {
	c.olm = &olmState{catalogs: map[string]*catalogServer{}}
	modDir, err := moduleDir(ctx, OLMModule, OLMVersion)
	if err != nil {
		return err
	}
	crdDir := filepath.Join(modDir, "deploy", "chart", "crds")
	files, err := filepath.Glob(filepath.Join(crdDir, "*.yaml"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no OLM CRDs in %s: %w", crdDir, errors.Join(err, errNoCRDs))
	}
	sort.Strings(files)
	a, err := NewApplier(c.RESTConfig())
	if err != nil {
		return err
	}
	var names []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		objs, err := a.Apply(ctx, data)
		if err != nil {
			return err
		}
		for _, o := range objs {
			names = append(names, o.GetName())
		}
	}
	dyn, err := dynamic.NewForConfig(c.RESTConfig())
	if err != nil {
		return err
	}
	if err := waitCRDsEstablished(ctx, dyn, names); err != nil {
		return err
	}
	if _, err := a.Apply(ctx, []byte(olmBootstrap)); err != nil {
		return err
	}

	// olm serves health and metrics on :8443 with TLS, catalog on :8080; both
	// merely log if the port is taken (another local cluster), so nothing else is
	// configured.
	serving, err := c.pki.serving("olm-metrics", "127.0.0.1", "localhost")
	if err != nil {
		return err
	}
	env := []string{"KUBECONFIG=" + c.kubeconfig, "OPERATOR_NAMESPACE=" + OLMNamespace, "OPERATOR_NAME=olm-operator"}
	olm := c.newProcess(OLM,
		"--namespace="+OLMNamespace, "--writeStatusName=", "--writePackageServerStatusName=",
		"--tls-cert="+serving.Cert, "--tls-key="+serving.Key, "--client-ca="+c.pki.CA().Cert,
		"--interval=5m",
	)
	olm.env = env
	catalog := c.newProcess(Catalog,
		"--namespace="+OLMNamespace, "--kubeconfig="+c.kubeconfig, "--writeStatusName=",
		"--interval=5m",
	)
	catalog.env = env
	for _, p := range []*process{olm, catalog} {
		if err := c.run(p); err != nil {
			return err
		}
	}
	// The olm operator is working once it has resolved the global OperatorGroup's
	// namespaces.
	err = wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		for _, p := range []*process{olm, catalog} {
			if done, perr := p.exited(); done {
				return false, p.exitError(perr)
			}
		}
		og, err := dyn.Resource(OperatorGroupGVR).Namespace(OperatorsNamespace).Get(ctx, GlobalOperatorGroup, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		ns, _, _ := unstructured.NestedStringSlice(og.Object, "status", "namespaces")
		return len(ns) > 0, nil
	})
	if err != nil {
		return fmt.Errorf("olm operator did not reconcile OperatorGroup %s/%s: %w\n%s", OperatorsNamespace, GlobalOperatorGroup, err, olm.tail(2000))
	}
	return nil
}

func waitCRDsEstablished(ctx context.Context, dyn dynamic.Interface, names []string) error {
	return wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		for _, n := range names {
			crd, err := dyn.Resource(CRDGVR).Get(ctx, n, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return false, nil
			} else if err != nil {
				return false, nil
			}
			if !hasCondition(crd, "Established", "True") {
				return false, nil
			}
		}
		return true, nil
	})
}

// hasCondition reports whether o has status.conditions[type=typ].status == status.
func hasCondition(o *unstructured.Unstructured, typ, status string) bool {
	conds, _, _ := unstructured.NestedSlice(o.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == typ && m["status"] == status {
			return true
		}
	}
	return false
}

// moduleDir returns the module cache directory of module@version, downloading it
// through the module proxy if needed (the olm-bins.sh build already did).
func moduleDir(ctx context.Context, module, version string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", module+"@"+version)
	cmd.Dir = os.TempDir()
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go mod download %s@%s: %w", module, version, err)
	}
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(out, &info); err != nil {
		return "", err
	}
	if info.Error != "" || info.Dir == "" {
		return "", fmt.Errorf("go mod download %s@%s: %s", module, version, info.Error)
	}
	return info.Dir, nil
}
