package workloadrefs

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func ptr[T any](v T) *T { return &v }

func cmRef(name string, optional *bool) *corev1.ConfigMapKeySelector {
	return &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: "k", Optional: optional}
}

func secRef(name string, optional *bool) *corev1.SecretKeySelector {
	return &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: "k", Optional: optional}
}

// fullSpec mentions every supported reference site once.
func fullSpec() *corev1.PodSpec {
	return &corev1.PodSpec{
		InitContainers: []corev1.Container{
			{Name: "init", Env: []corev1.EnvVar{{Name: "A", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: cmRef("init-env-cm", nil)}}}},
			{Name: "sidecar", RestartPolicy: ptr(corev1.ContainerRestartPolicyAlways),
				EnvFrom: []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "sidecar-sec"}}}}},
		},
		Containers: []corev1.Container{{
			Name: "app",
			Env: []corev1.EnvVar{
				{Name: "PLAIN", Value: "x"},
				{Name: "FIELD", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
				{Name: "CM", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: cmRef("env-cm", nil)}},
				{Name: "SEC", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: secRef("env-sec", ptr(true))}},
			},
			EnvFrom: []corev1.EnvFromSource{
				{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "envfrom-cm"}, Optional: ptr(false)}},
			},
		}},
		EphemeralContainers: []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
			Name: "debug", Env: []corev1.EnvVar{{Name: "D", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: secRef("debug-sec", nil)}}},
		}}},
		Volumes: []corev1.Volume{
			{Name: "v1", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "vol-cm"}, Optional: ptr(true)}}},
			{Name: "v2", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "vol-sec"}}},
			{Name: "v3", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
				{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "proj-cm"}}},
				{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "proj-sec"}, Optional: ptr(true)}},
				{DownwardAPI: &corev1.DownwardAPIProjection{}},
				{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"}},
			}}}},
			{Name: "v4", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		},
	}
}

func TestCollectFindsEverySite(t *testing.T) {
	got, err := Collect(fullSpec(), "", "")
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
	want := []Reference{
		{Ref{ConfigMap, "env-cm"}, false, []string{"k"}},
		{Ref{ConfigMap, "envfrom-cm"}, false, nil},
		{Ref{ConfigMap, "init-env-cm"}, false, []string{"k"}},
		{Ref{ConfigMap, "proj-cm"}, false, nil},
		{Ref{ConfigMap, "vol-cm"}, true, nil},
		{Ref{Secret, "debug-sec"}, false, []string{"k"}},
		{Ref{Secret, "env-sec"}, true, []string{"k"}},
		{Ref{Secret, "proj-sec"}, true, nil},
		{Ref{Secret, "sidecar-sec"}, false, nil},
		{Ref{Secret, "vol-sec"}, false, nil},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Collect:\n got %v\nwant %v", got, want)
	}
}

func TestCollectOptionalOnlyWhenEveryMentionIsOptional(t *testing.T) {
	spec := &corev1.PodSpec{
		Containers: []corev1.Container{{Name: "a", Env: []corev1.EnvVar{
			{Name: "X", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: cmRef("shared", ptr(true))}},
			{Name: "Y", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: cmRef("shared", nil)}},
			{Name: "Z", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: cmRef("opt", ptr(true))}},
			{Name: "W", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: cmRef("opt", ptr(true))}},
		}}},
	}
	got, _ := Collect(spec, "", "")
	want := []Reference{{Ref{ConfigMap, "opt"}, true, []string{"k"}}, {Ref{ConfigMap, "shared"}, false, []string{"k"}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestCollectExtraAndExclude(t *testing.T) {
	got, err := Collect(fullSpec(), "configmap/extra, secret/vol-cm, ConfigMap/vol-cm", "secret/vol-sec,configmap/env-cm,cm/not-there")
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
	names := map[string]bool{}
	for _, r := range got {
		names[r.String()] = r.Optional
	}
	for _, gone := range []string{"secret/vol-sec", "configmap/env-cm"} {
		if _, ok := names[gone]; ok {
			t.Errorf("%s should be excluded", gone)
		}
	}
	if opt, ok := names["configmap/extra"]; !ok || opt {
		t.Errorf("configmap/extra should be a required reference, got present=%v optional=%v", ok, opt)
	}
	// vol-cm is optional in the volume but listed in extra: extra makes it required.
	if opt := names["configmap/vol-cm"]; opt {
		t.Errorf("configmap/vol-cm listed in extra must be required")
	}
	if _, ok := names["secret/vol-cm"]; !ok {
		t.Errorf("secret/vol-cm listed in extra missing")
	}
}

func TestCollectReportsBadAnnotationsButKeepsValidEntries(t *testing.T) {
	got, err := Collect(nil, "configmap/ok,bogus,deployment/x", "secret/UPPER")
	if err == nil {
		t.Fatal("want an error for the invalid entries")
	}
	if len(got) != 1 || got[0].String() != "configmap/ok" {
		t.Fatalf("got %v, want only configmap/ok", got)
	}
}

func TestCollectSkipsEmptyNames(t *testing.T) {
	spec := &corev1.PodSpec{Volumes: []corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{}}}}}
	got, err := Collect(spec, "", "")
	if err != nil || len(got) != 0 {
		t.Fatalf("got %v, %v; want nothing", got, err)
	}
}

// TestCollectKeysReadOnlyWhileEveryMentionNamesKeys: env key references and volume
// items name keys; envFrom, a volume without items and extra-refs read the whole
// object, which then wins over every key mention.
func TestCollectKeysReadOnlyWhileEveryMentionNamesKeys(t *testing.T) {
	keyRef := func(cm, key string) corev1.EnvVar {
		return corev1.EnvVar{Name: key, ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: cm}, Key: key}}}
	}
	spec := &corev1.PodSpec{
		Containers: []corev1.Container{{Name: "a",
			Env:     []corev1.EnvVar{keyRef("keyed", "b"), keyRef("keyed", "a"), keyRef("mixed", "x"), keyRef("extra", "y")},
			EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "mixed"}}}},
		}},
		Volumes: []corev1.Volume{
			{Name: "items", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
				LocalObjectReference: corev1.LocalObjectReference{Name: "keyed"}, Items: []corev1.KeyToPath{{Key: "c", Path: "c.conf"}, {Key: "a", Path: "a"}}}}},
			{Name: "projected", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
				{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "tls"}, Items: []corev1.KeyToPath{{Key: "tls.crt", Path: "crt"}}}},
			}}}},
		},
	}
	got, err := Collect(spec, "configmap/extra", "")
	if err != nil {
		t.Fatal(err)
	}
	want := []Reference{
		{Ref{ConfigMap, "extra"}, false, nil},
		{Ref{ConfigMap, "keyed"}, false, []string{"a", "b", "c"}},
		{Ref{ConfigMap, "mixed"}, false, nil},
		{Ref{Secret, "tls"}, false, []string{"tls.crt"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Collect:\n got %+v\nwant %+v", got, want)
	}
}
