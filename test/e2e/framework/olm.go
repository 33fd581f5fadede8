package framework

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/courier-operator/courier/hack/localcluster"
)

// Subscribe creates a Subscription in the all-namespaces operators namespace for
// pkg on channel from catalog (in the olm namespace), with automatic approval.
func (e *Env) Subscribe(ctx context.Context, name, pkg, channel, catalog string) error {
	sub := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "operators.coreos.com/v1alpha1",
		"kind":       "Subscription",
		"metadata":   map[string]any{"name": name, "namespace": localcluster.OperatorsNamespace},
		"spec": map[string]any{
			"name": pkg, "channel": channel,
			"source": catalog, "sourceNamespace": localcluster.OLMNamespace,
			"installPlanApproval": "Automatic",
		},
	}}
	_, err := e.Apply.ApplyObject(ctx, sub)
	return err
}

// WaitInstalled waits until Subscription name reports installedCSV csv (any CSV
// when csv is "") and that CSV's phase is Succeeded; it returns the CSV.
func (e *Env) WaitInstalled(ctx context.Context, name, csv string, timeout time.Duration) (*unstructured.Unstructured, error) {
	subs := e.Dyn.Resource(localcluster.SubscriptionGVR).Namespace(localcluster.OperatorsNamespace)
	csvs := e.Dyn.Resource(localcluster.CSVGVR).Namespace(localcluster.OperatorsNamespace)
	var got *unstructured.Unstructured
	var last string
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		sub, err := subs.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			last = err.Error()
			return false, nil
		}
		installed, _, _ := unstructured.NestedString(sub.Object, "status", "installedCSV")
		state, _, _ := unstructured.NestedString(sub.Object, "status", "state")
		last = fmt.Sprintf("subscription state=%q installedCSV=%q", state, installed)
		if installed == "" || (csv != "" && installed != csv) {
			return false, nil
		}
		c, err := csvs.Get(ctx, installed, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		phase, _, _ := unstructured.NestedString(c.Object, "status", "phase")
		reason, _, _ := unstructured.NestedString(c.Object, "status", "reason")
		msg, _, _ := unstructured.NestedString(c.Object, "status", "message")
		last += fmt.Sprintf("; CSV %s phase=%q reason=%q message=%q", installed, phase, reason, msg)
		got = c
		return phase == "Succeeded", nil
	})
	if err != nil {
		return nil, fmt.Errorf("subscription %s not installed (%s): %w", name, last, err)
	}
	return got, nil
}

// WaitGone waits until the CSV named csv no longer exists in the operators
// namespace (replaced by an upgrade, or uninstalled).
func (e *Env) WaitGone(ctx context.Context, csv string, timeout time.Duration) error {
	csvs := e.Dyn.Resource(localcluster.CSVGVR).Namespace(localcluster.OperatorsNamespace)
	return wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		_, err := csvs.Get(ctx, csv, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
}

// Uninstall deletes Subscription sub and CSV csv, the documented OLM uninstall.
func (e *Env) Uninstall(ctx context.Context, sub, csv string) error {
	err := e.Dyn.Resource(localcluster.SubscriptionGVR).Namespace(localcluster.OperatorsNamespace).
		Delete(ctx, sub, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	err = e.Dyn.Resource(localcluster.CSVGVR).Namespace(localcluster.OperatorsNamespace).
		Delete(ctx, csv, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	return e.WaitGone(ctx, csv, 2*time.Minute)
}

// CSVServiceAccount returns the ServiceAccount of the CSV's first deployment.
func CSVServiceAccount(csv *unstructured.Unstructured) (string, error) {
	deps, _, _ := unstructured.NestedSlice(csv.Object, "spec", "install", "spec", "deployments")
	if len(deps) == 0 {
		return "", fmt.Errorf("CSV %s has no deployments", csv.GetName())
	}
	d, _ := deps[0].(map[string]any)
	sa, _, _ := unstructured.NestedString(d, "spec", "template", "spec", "serviceAccountName")
	if sa == "" {
		sa = "default"
	}
	return sa, nil
}

// CSVDeploymentName returns the name of the CSV's first deployment.
func CSVDeploymentName(csv *unstructured.Unstructured) string {
	deps, _, _ := unstructured.NestedSlice(csv.Object, "spec", "install", "spec", "deployments")
	if len(deps) == 0 {
		return ""
	}
	d, _ := deps[0].(map[string]any)
	return fmt.Sprint(d["name"])
}

// CSVManagerArgs returns the arguments of the manager container of the CSV's first
// deployment, so a local process runs with the flags OLM would give the pod.
func CSVManagerArgs(csv *unstructured.Unstructured) []string {
	deps, _, _ := unstructured.NestedSlice(csv.Object, "spec", "install", "spec", "deployments")
	if len(deps) == 0 {
		return nil
	}
	d, _ := deps[0].(map[string]any)
	containers, _, _ := unstructured.NestedSlice(d, "spec", "template", "spec", "containers")
	for _, c := range containers {
		m, _ := c.(map[string]any)
		if m["name"] != "manager" {
			continue
		}
		args, _, _ := unstructured.NestedStringSlice(m, "args")
		return args
	}
	return nil
}
