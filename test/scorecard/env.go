package scorecard

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/operator-framework/api/pkg/apis/scorecard/v1alpha3"
	"github.com/operator-framework/api/pkg/operators/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/rand"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// Env is what a test runs against.
type Env struct {
	// Client talks to the cluster with Courier installed; the rollout test watches.
	Client client.WithWatch
	// BundleDir is the bundle directory (manifests/, metadata/); /bundle in the
	// scorecard pod.
	BundleDir string
	// Timeout bounds each wait for Courier to act.
	Timeout time.Duration
	// Settle is how long the rollout test watches for a second, unwanted rollout.
	Settle time.Duration
}

// run is one test's log and errors while it runs.
type run struct {
	name   string
	log    strings.Builder
	errors []string
	hints  []string
}

func (r *run) logf(format string, args ...any) {
	fmt.Fprintf(&r.log, time.Now().UTC().Format("15:04:05.000")+" "+format+"\n", args...)
}

func (r *run) failf(hint, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.logf("FAIL: %s", msg)
	r.errors = append(r.errors, msg)
	if hint != "" {
		r.hints = append(r.hints, hint)
	}
}

// runTest runs body as the scorecard test name, which reports through its run,
// and returns the result in the scorecard contract.
func runTest(ctx context.Context, env Env, name string, body func(context.Context, Env, *run)) v1alpha3.TestStatus {
	r := &run{name: name}
	body(ctx, env, r)
	return r.status()
}

// status converts the run into the scorecard contract.
func (r *run) status() v1alpha3.TestStatus {
	state := v1alpha3.PassState
	if len(r.errors) > 0 {
		state = v1alpha3.FailState
	}
	return v1alpha3.TestStatus{Results: []v1alpha3.TestResult{{
		Name: r.name, State: state, Log: r.log.String(), Errors: r.errors, Suggestions: r.hints,
	}}}
}

// ALMExamples reads the alm-examples of the bundle's CSV.
func ALMExamples(bundleDir string) ([]*unstructured.Unstructured, error) {
	paths, err := filepath.Glob(filepath.Join(bundleDir, "manifests", "*.clusterserviceversion.yaml"))
	if err != nil {
		return nil, err
	}
	if len(paths) != 1 {
		return nil, fmt.Errorf("want one CSV in %s/manifests, found %d", bundleDir, len(paths))
	}
	data, err := os.ReadFile(paths[0])
	if err != nil {
		return nil, err
	}
	csv := &v1alpha1.ClusterServiceVersion{}
	if err := yaml.Unmarshal(data, csv); err != nil {
		return nil, err
	}
	var raw []map[string]any
	if err := json.Unmarshal([]byte(csv.Annotations["alm-examples"]), &raw); err != nil {
		return nil, fmt.Errorf("alm-examples: %w", err)
	}
	out := make([]*unstructured.Unstructured, len(raw))
	for i, m := range raw {
		out[i] = &unstructured.Unstructured{Object: m}
	}
	return out, nil
}

// poll calls fn every 200 ms until it returns true or an error, or the timeout.
func poll(ctx context.Context, timeout time.Duration, fn func(context.Context) (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		ok, err := fn(ctx)
		if ok {
			return nil
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("timed out after %s: %w", timeout, last)
			}
			return fmt.Errorf("timed out after %s", timeout)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// createNamespace creates a uniquely named namespace with labels.
func createNamespace(ctx context.Context, c client.Client, prefix string, labels map[string]string) (*corev1.Namespace, error) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: prefix + rand.String(5), Labels: labels}}
	return ns, c.Create(ctx, ns)
}

// ensureNamespace creates a namespace unless it exists; it reports whether it did.
func ensureNamespace(ctx context.Context, c client.Client, name string) (bool, error) {
	err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
	if apierrors.IsAlreadyExists(err) {
		return false, nil
	}
	return err == nil, err
}

// cleanup deletes objects best effort, in the background (namespaces terminate
// asynchronously).
func cleanup(ctx context.Context, c client.Client, r *run, objs ...client.Object) {
	for _, o := range objs {
		if o == nil {
			continue
		}
		if err := c.Delete(ctx, o, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil && !apierrors.IsNotFound(err) {
			r.logf("cleanup of %T %s: %v", o, o.GetName(), err)
		}
	}
}
