package reconciler

import (
	"encoding/json"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
)

func TestIsSubset(t *testing.T) {
	for _, tc := range []struct {
		name          string
		desired, live any
		want          bool
	}{
		{"equal scalars", "a", "a", true},
		{"different scalars", "a", "b", false},
		{"int vs float", int64(3), float64(3), true},
		{"int32 vs int64", int32(3), int64(3), true},
		{"int vs int", 3, int64(4), false},
		{"number vs string", int64(3), "3", false},
		{"float32", float32(1.5), float64(1.5), true},
		{"extra key in live", map[string]any{"a": "1"}, map[string]any{"a": "1", "b": "2"}, true},
		{"missing key in live", map[string]any{"a": "1"}, map[string]any{}, false},
		{"empty map matches absent", map[string]any{"a": map[string]any{}}, map[string]any{}, true},
		{"empty list matches absent", map[string]any{"a": []any{}}, map[string]any{}, true},
		{"nil matches absent", map[string]any{"a": nil}, map[string]any{}, true},
		{"map vs scalar", map[string]any{"a": "1"}, "x", false},
		{"empty map vs nil", map[string]any{}, nil, true},
		{"list vs scalar", []any{"a"}, "a", false},
		{"empty list vs nil", []any{}, nil, true},
		{"list length differs", []any{"a"}, []any{"a", "b"}, false},
		{"list element subset", []any{map[string]any{"name": "c"}}, []any{map[string]any{"name": "c", "image": "x"}}, true},
		{"list element differs", []any{map[string]any{"name": "c"}}, []any{map[string]any{"name": "d"}}, false},
		{"bool", true, true, true},
	} {
		if got := isSubset(tc.desired, tc.live); got != tc.want {
			t.Errorf("%s: isSubset = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func fieldsJSON(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestFieldsCovered(t *testing.T) {
	obj := map[string]any{
		"metadata": map[string]any{"labels": map[string]any{"l": "1"}},
		"spec": map[string]any{
			"containers": []any{map[string]any{"name": "app", "image": "x", "ports": []any{map[string]any{"containerPort": int64(80)}}}},
			"finalizers": []any{"a", "b"},
			"args":       []any{"x", "y"},
		},
	}
	for _, tc := range []struct {
		name, fields string
		want         bool
	}{
		{"simple", `{"f:metadata":{"f:labels":{"f:l":{}}}}`, true},
		{"dropped label", `{"f:metadata":{"f:labels":{"f:l":{},"f:gone":{}}}}`, false},
		{"keyed list", `{"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{".":{},"f:image":{},"f:name":{}}}}}`, true},
		{"keyed list, field gone", `{"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{"f:command":{}}}}}`, false},
		{"keyed list, element gone", `{"f:spec":{"f:containers":{"k:{\"name\":\"other\"}":{}}}}`, false},
		{"key field defaulted by the server, absent in desired", `{"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{"f:ports":{"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{}}}}}}`, true},
		{"nested keyed list with number", `{"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{"f:ports":{"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{}}}}}}`, true},
		{"bad key json", `{"f:spec":{"f:containers":{"k:{bad":{}}}}`, false},
		{"keyed on non-list", `{"f:spec":{"k:{\"name\":\"app\"}":{}}}`, false},
		{"set value", `{"f:spec":{"f:finalizers":{"v:\"a\"":{}}}}`, true},
		{"set value gone", `{"f:spec":{"f:finalizers":{"v:\"z\"":{}}}}`, false},
		{"index", `{"f:spec":{"f:args":{"i:1":{}}}}`, true},
		{"index with subfields", `{"f:spec":{"f:containers":{"i:0":{"f:image":{}}}}}`, true},
		{"index out of range", `{"f:spec":{"f:args":{"i:5":{}}}}`, false},
		{"field on scalar", `{"f:spec":{"f:args":{"f:x":{}}}}`, false},
	} {
		if got := fieldsCovered(fieldsJSON(t, tc.fields), obj); got != tc.want {
			t.Errorf("%s: fieldsCovered = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestDefaultMatchesTyped(t *testing.T) {
	desired := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "d", Namespace: "ns", Labels: map[string]string{"app": "d"}},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "d"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "d"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx"}}},
			},
		},
	}
	// live: what an API server returns: defaults everywhere, status, managedFields.
	live := desired.DeepCopy()
	live.ResourceVersion, live.UID, live.Generation = "12", "uid", 1
	live.Spec.Replicas = ptr.To[int32](1)
	live.Spec.RevisionHistoryLimit = ptr.To[int32](10)
	live.Spec.Template.Spec.Containers[0].ImagePullPolicy = corev1.PullAlways
	live.Spec.Template.Spec.Containers[0].TerminationMessagePath = "/dev/termination-log"
	live.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyAlways
	live.Status.Replicas = 1
	live.ManagedFields = []metav1.ManagedFieldsEntry{{
		Manager: "courier", Operation: metav1.ManagedFieldsOperationApply, FieldsType: "FieldsV1",
		FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:selector":{},"f:template":{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{".":{},"f:image":{},"f:name":{}}}}}}}`)},
	}, {
		Manager: "kube-controller-manager", Operation: metav1.ManagedFieldsOperationUpdate, Subresource: "status",
		FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:status":{"f:replicas":{}}}`)},
	}}
	if mismatch(desired, live, "courier") != "" {
		t.Fatal("defaulted live object does not match its desired state")
	}
	drift := live.DeepCopy()
	drift.Spec.Template.Spec.Containers[0].Image = "evil"
	if mismatch(desired, drift, "courier") == "" {
		t.Fatal("drift not detected")
	}
	// An env var we applied before and no longer want must be removed.
	prev := live.DeepCopy()
	prev.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "OLD", Value: "1"}}
	prev.ManagedFields[0].FieldsV1.Raw = []byte(`{"f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{"f:env":{"k:{\"name\":\"OLD\"}":{}}}}}}}}`)
	if mismatch(desired, prev, "courier") == "" {
		t.Fatal("a field applied before and no longer desired was not noticed")
	}
	// The same field owned by another manager is none of our business.
	if mismatch(desired, prev, "someone-else") != "" {
		t.Fatal("fields of other managers must not matter")
	}
	// Unstructured desired and live work the same.
	du, _ := toUnstructuredMap(desired)
	lu, _ := toUnstructuredMap(live)
	if mismatch(&unstructured.Unstructured{Object: du}, &unstructured.Unstructured{Object: lu}, "courier") != "" {
		t.Fatal("unstructured compare differs from typed")
	}
}

func TestApplyPayload(t *testing.T) {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "n", ResourceVersion: "3", UID: "u"}, Data: map[string]string{"k": "v"}}
	u, err := applyPayload(cm, corev1.SchemeGroupVersion.WithKind("ConfigMap"))
	if err != nil {
		t.Fatal(err)
	}
	md := u.Object["metadata"].(map[string]any)
	if _, ok := md["creationTimestamp"]; ok {
		t.Error("creationTimestamp sent")
	}
	if _, ok := md["resourceVersion"]; ok {
		t.Error("resourceVersion sent")
	}
	if u.GetAPIVersion() != "v1" || u.GetKind() != "ConfigMap" || u.GetName() != "c" {
		t.Errorf("payload = %v", u.Object)
	}
	if cm.ResourceVersion != "3" {
		t.Error("desired object modified")
	}
}

func TestSanitizeAndTruncate(t *testing.T) {
	for in, want := range map[string]string{
		"Ready":          "Ready",
		"source-missing": "sourcemissing",
		"9lives":         "lives",
		"a:b,":           "a:b",
		"":               "Unknown",
		"--":             "Unknown",
		"Has_Under_9":    "Has_Under_9",
	} {
		if got := sanitizeReason(in); got != want {
			t.Errorf("sanitizeReason(%q) = %q, want %q", in, got, want)
		}
	}
	if got := Bound("héllo world", 5); got != "h..." {
		t.Errorf("truncate = %q", got)
	}
	if got := Bound("short", 10); got != "short" {
		t.Errorf("truncate = %q", got)
	}
}

func TestMismatch(t *testing.T) {
	desired := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c", Labels: map[string]string{"l": "1"}},
		Data: map[string]string{"a": "1", "b": "2"}}
	live := desired.DeepCopy()
	if m := mismatch(desired, live, "courier"); m != "" {
		t.Fatalf("equal objects mismatch at %q", m)
	}
	live.Data["b"] = "secret-value"
	if m := mismatch(desired, live, "courier"); m != ".data.b" {
		t.Fatalf("Mismatch = %q", m)
	}
	live = desired.DeepCopy()
	delete(live.Labels, "l")
	if m := mismatch(desired, live, "courier"); m != ".metadata.labels" {
		t.Fatalf("Mismatch = %q", m)
	}
	for _, tc := range []struct {
		d, l any
		want string
	}{
		{[]any{"a"}, []any{"a", "b"}, ".x"},
		{[]any{map[string]any{"n": "1"}}, []any{map[string]any{"n": "2"}}, ".x[0].n"},
		{map[string]any{"a": "1"}, "s", ".x"},
		{map[string]any{}, nil, ""},
		{"a", "a", ""},
		{map[string]any{"e": map[string]any{}}, map[string]any{}, ""},
	} {
		if got := mismatchPath(tc.d, tc.l, ".x"); got != tc.want {
			t.Errorf("mismatchPath(%v, %v) = %q, want %q", tc.d, tc.l, got, tc.want)
		}
	}
	live = desired.DeepCopy()
	live.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "courier", Operation: metav1.ManagedFieldsOperationApply,
		FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:data":{"f:gone":{}}}`)}}}
	if m := mismatch(desired, live, "courier"); m == "" {
		t.Fatal("dropped field not explained")
	}
}
