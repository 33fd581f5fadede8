package scorecard

import (
	"context"
	"fmt"
	"reflect"
	"strings"

	"github.com/operator-framework/api/pkg/apis/scorecard/v1alpha3"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/rand"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/api/v1alpha1"
)

// PropagationTestName is the scorecard test name (label test=courier-propagation-test).
const PropagationTestName = "courier-propagation"

// Propagation takes the first ClusterPropagation of alm-examples that copies a
// named Secret or ConfigMap, provides its source and a matching target namespace,
// creates it under a unique name, and expects Courier to make a managed copy with
// the source's data, report Ready, and remove the copy when the propagation is
// deleted.
func Propagation(ctx context.Context, env Env) v1alpha3.TestStatus {
	return runTest(ctx, env, PropagationTestName, propagation)
}

func propagation(ctx context.Context, env Env, r *run) {
	c := env.Client
	examples, err := ALMExamples(env.BundleDir)
	if err != nil {
		r.failf("mount the bundle at /bundle or pass --bundle", "reading alm-examples: %v", err)
		return
	}
	var cp *unstructured.Unstructured
	var src map[string]any
	for _, ex := range examples {
		if ex.GetKind() != "ClusterPropagation" {
			continue
		}
		sources, _, _ := unstructured.NestedSlice(ex.Object, "spec", "sources")
		if len(sources) == 0 {
			continue
		}
		s, _ := sources[0].(map[string]any)
		if s["apiVersion"] == "v1" && (s["kind"] == "Secret" || s["kind"] == "ConfigMap") && s["name"] != nil {
			cp, src = ex.DeepCopy(), s
			break
		}
	}
	if cp == nil {
		r.failf("add a ClusterPropagation of a named Secret or ConfigMap to config/samples", "alm-examples has no ClusterPropagation copying a named Secret or ConfigMap")
		return
	}
	kind, srcNS, srcName := src["kind"].(string), src["namespace"].(string), src["name"].(string)
	cp.SetName(cp.GetName() + "-scorecard-" + rand.String(5))
	r.logf("using alm-example ClusterPropagation as %s: %s %s/%s", cp.GetName(), kind, srcNS, srcName)

	// The source: reuse it when it exists (for example the demo's), create it otherwise.
	created, err := ensureNamespace(ctx, c, srcNS)
	if err != nil {
		r.failf("", "source namespace %s: %v", srcNS, err)
		return
	}
	var cleanups []client.Object
	defer func() { cleanup(context.WithoutCancel(ctx), c, r, cleanups...) }()
	if created {
		cleanups = append(cleanups, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: srcNS}})
	}
	source := &unstructured.Unstructured{}
	source.SetAPIVersion("v1")
	source.SetKind(kind)
	err = c.Get(ctx, client.ObjectKey{Namespace: srcNS, Name: srcName}, source)
	if apierrors.IsNotFound(err) {
		source.SetNamespace(srcNS)
		source.SetName(srcName)
		if kind == "Secret" {
			source.Object["type"] = "Opaque"
			source.Object["data"] = map[string]any{"scorecard": "Y291cmllcg=="} // "courier"
		} else {
			source.Object["data"] = map[string]any{"scorecard": "courier"}
		}
		err = c.Create(ctx, source)
		cleanups = append(cleanups, source)
		r.logf("created source %s %s/%s", kind, srcNS, srcName)
	}
	if err != nil {
		r.failf("", "source %s %s/%s: %v", kind, srcNS, srcName, err)
		return
	}

	// A target namespace the example selects.
	labels, _, _ := unstructured.NestedStringMap(cp.Object, "spec", "targets", "namespaceSelector", "matchLabels")
	patterns, _, _ := unstructured.NestedStringSlice(cp.Object, "spec", "targets", "namespaces")
	prefix := "courier-scorecard-"
	if len(patterns) > 0 {
		prefix = strings.NewReplacer("*", "", "?", "x").Replace(patterns[0]) + "-"
	}
	target, err := createNamespace(ctx, c, prefix, labels)
	if err != nil {
		r.failf("", "target namespace: %v", err)
		return
	}
	cleanups = append(cleanups, target)
	r.logf("created target namespace %s with labels %v", target.Name, labels)

	if err := c.Create(ctx, cp); err != nil {
		r.failf("is Courier installed (its CRDs)?", "creating ClusterPropagation %s: %v", cp.GetName(), err)
		return
	}
	cleanups = append([]client.Object{cp}, cleanups...) // deleted first

	copyName := srcName
	if n, ok, _ := unstructured.NestedString(cp.Object, "spec", "template", "name"); ok && n != "" {
		copyName = n
	}
	copied := &unstructured.Unstructured{}
	copied.SetAPIVersion("v1")
	copied.SetKind(kind)
	err = poll(ctx, env.Timeout, func(ctx context.Context) (bool, error) {
		err := c.Get(ctx, client.ObjectKey{Namespace: target.Name, Name: copyName}, copied)
		return err == nil, err
	})
	if err != nil {
		r.failf("check that the Courier manager is running and its logs", "no copy %s %s/%s: %v", kind, target.Name, copyName, err)
		return
	}
	r.logf("copy %s/%s exists", target.Name, copyName)
	if got := copied.GetLabels()[v1alpha1.LabelManagedBy]; got != v1alpha1.ManagedByValue {
		r.failf("", "copy label %s=%q, want %q", v1alpha1.LabelManagedBy, got, v1alpha1.ManagedByValue)
	}
	if got := copied.GetAnnotations()[v1alpha1.AnnotationSource]; got != srcNS+"/"+srcName {
		r.failf("", "copy annotation %s=%q, want %q", v1alpha1.AnnotationSource, got, srcNS+"/"+srcName)
	}
	if !reflect.DeepEqual(copied.Object["data"], source.Object["data"]) {
		r.failf("", "copy data differs from the source's (keys %v vs %v)", keys(copied.Object["data"]), keys(source.Object["data"]))
	}

	// Status: Ready with the copy counted.
	err = poll(ctx, env.Timeout, func(ctx context.Context) (bool, error) {
		got := &v1alpha1.ClusterPropagation{}
		if err := c.Get(ctx, client.ObjectKey{Name: cp.GetName()}, got); err != nil {
			return false, err
		}
		for _, cond := range got.Status.Conditions {
			if cond.Type == "Ready" && cond.Status == metav1.ConditionTrue && got.Status.Synced >= 1 {
				return true, nil
			}
		}
		return false, fmt.Errorf("status %+v", got.Status.Conditions)
	})
	if err != nil {
		r.failf("", "ClusterPropagation %s not Ready with a synced copy: %v", cp.GetName(), err)
	} else {
		r.logf("ClusterPropagation %s is Ready", cp.GetName())
	}

	// deletionPolicy Delete (the default): deleting the propagation removes the copy.
	if err := c.Delete(ctx, cp); err != nil {
		r.failf("", "deleting ClusterPropagation: %v", err)
		return
	}
	cleanups = cleanups[1:]
	err = poll(ctx, env.Timeout, func(ctx context.Context) (bool, error) {
		err := c.Get(ctx, client.ObjectKey{Namespace: target.Name, Name: copyName}, copied.DeepCopy())
		return apierrors.IsNotFound(err), nil
	})
	if err != nil {
		r.failf("", "copy %s/%s still exists after its ClusterPropagation was deleted: %v", target.Name, copyName, err)
		return
	}
	r.logf("copy removed after the ClusterPropagation was deleted")
}

// keys lists map keys only: data values are never logged.
func keys(v any) []string {
	m, _ := v.(map[string]any)
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
