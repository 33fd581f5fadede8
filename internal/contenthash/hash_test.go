package contenthash

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The digests are persisted in workload annotations: if the encoding ever changed,
// every opted-in workload would roll once after an upgrade. These golden values lock
// it; they were cross-checked with an independent implementation of the documented
// encoding (8-byte big-endian length before every field, entry counts before maps).
func TestGoldenDigests(t *testing.T) {
	cm := &corev1.ConfigMap{Data: map[string]string{"b": "2", "a": "1"}, BinaryData: map[string][]byte{"bin": {0, 1}}}
	sec := &corev1.Secret{Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"password": []byte("hunter2")}}
	for name, c := range map[string]struct{ got, want string }{
		"configmap": {ConfigMap(cm), "76731202527e7f605f0da5d171c00c585d61b31581997f7ba5ac3604151bc081"},
		"secret":    {Secret(sec), "512fc0120fed7a64c1d2b623bea5a63af8d1da22a2f63036d835f312b491b315"},
		"combine":   {Combine([]Entry{{"secret/b", Absent}, {"configmap/a", "x"}}), "a9b45a776f5f59ae502ff5853eb56c5bff8df6b1c4c823a225933a2f8f7fe1fb"},
	} {
		if c.got != c.want {
			t.Errorf("%s digest = %s, want %s", name, c.got, c.want)
		}
	}
}

func TestMetadataDoesNotCount(t *testing.T) {
	a := &corev1.ConfigMap{Data: map[string]string{"k": "v"}}
	b := a.DeepCopy()
	b.ObjectMeta = metav1.ObjectMeta{Name: "other", Labels: map[string]string{"x": "y"}, ResourceVersion: "42",
		Annotations: map[string]string{"note": "changed"}}
	if ConfigMap(a) != ConfigMap(b) {
		t.Fatal("metadata changed the ConfigMap digest")
	}
	s := &corev1.Secret{Data: map[string][]byte{"k": []byte("v")}}
	s2 := s.DeepCopy()
	s2.Labels = map[string]string{"x": "y"}
	if Secret(s) != Secret(s2) {
		t.Fatal("metadata changed the Secret digest")
	}
}

func TestContentCounts(t *testing.T) {
	base := &corev1.ConfigMap{Data: map[string]string{"k": "v"}}
	variants := map[string]*corev1.ConfigMap{
		"value":      {Data: map[string]string{"k": "w"}},
		"key":        {Data: map[string]string{"j": "v"}},
		"extra key":  {Data: map[string]string{"k": "v", "l": ""}},
		"binaryData": {BinaryData: map[string][]byte{"k": []byte("v")}},
		"boundary":   {Data: map[string]string{"kv": ""}},
	}
	for name, v := range variants {
		if ConfigMap(v) == ConfigMap(base) {
			t.Errorf("%s change not detected", name)
		}
	}
	if ConfigMap(&corev1.ConfigMap{}) != ConfigMap(&corev1.ConfigMap{Data: map[string]string{}}) {
		t.Error("nil and empty data must hash the same")
	}
	if ConfigMap(nil) != Absent || Secret(nil) != Absent {
		t.Error("nil objects must be Absent")
	}
}

func TestSecretTypeAndStringData(t *testing.T) {
	opaque := &corev1.Secret{Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"k": []byte("v")}}
	tls := opaque.DeepCopy()
	tls.Type = corev1.SecretTypeTLS
	if Secret(opaque) == Secret(tls) {
		t.Error("type change not detected")
	}
	viaString := &corev1.Secret{Type: corev1.SecretTypeOpaque, StringData: map[string]string{"k": "v"}}
	if Secret(viaString) != Secret(opaque) {
		t.Error("stringData must hash like the data the API server stores")
	}
	overridden := &corev1.Secret{Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"k": []byte("old")}, StringData: map[string]string{"k": "v"}}
	if Secret(overridden) != Secret(opaque) {
		t.Error("stringData must win over data for the same key")
	}
	if overridden.Data["k"] == nil || string(overridden.Data["k"]) != "old" {
		t.Error("Secret must not modify its input")
	}
	if Secret(&corev1.Secret{Data: map[string][]byte{"k": []byte("v")}}) == ConfigMap(&corev1.ConfigMap{Data: map[string]string{"k": "v"}}) {
		t.Error("a Secret and a ConfigMap with the same data must differ")
	}
}

func TestCombine(t *testing.T) {
	a := Combine([]Entry{{"configmap/a", "1"}, {"secret/b", "2"}})
	if a != Combine([]Entry{{"secret/b", "2"}, {"configmap/a", "1"}}) {
		t.Error("order must not matter")
	}
	if a == Combine([]Entry{{"configmap/a", "1"}, {"secret/c", "2"}}) {
		t.Error("renaming an input must change the digest")
	}
	if a == Combine([]Entry{{"configmap/a", "1"}}) {
		t.Error("dropping an input must change the digest")
	}
	if Combine(nil) != Combine([]Entry{}) {
		t.Error("nil and empty must match")
	}
}

// TestKeysDigestsSeeOnlyTheirKeys: a keyed digest changes with a read key (its
// value, its move between data and binaryData, its removal) and with nothing else.
func TestKeysDigestsSeeOnlyTheirKeys(t *testing.T) {
	cm := &corev1.ConfigMap{Data: map[string]string{"read": "1", "other": "x"}}
	base := ConfigMapKeys(cm, []string{"read"})
	for name, changed := range map[string]*corev1.ConfigMap{
		"value":      {Data: map[string]string{"read": "2", "other": "x"}},
		"binaryData": {Data: map[string]string{"other": "x"}, BinaryData: map[string][]byte{"read": []byte("1")}},
		"removed":    {Data: map[string]string{"other": "x"}},
	} {
		if ConfigMapKeys(changed, []string{"read"}) == base {
			t.Errorf("ConfigMap: a %s change of a read key was not seen", name)
		}
	}
	if ConfigMapKeys(&corev1.ConfigMap{Data: map[string]string{"read": "1", "other": "y", "new": "z"}}, []string{"read"}) != base {
		t.Error("ConfigMap: a change of a key that is not read changed the digest")
	}
	if ConfigMapKeys(nil, []string{"read"}) != Absent || ConfigMapKeys(cm, []string{"read"}) == ConfigMap(cm) {
		t.Error("ConfigMap: nil must be Absent, and a keyed digest is not the whole object's")
	}

	s := &corev1.Secret{Type: "Opaque", Data: map[string][]byte{"token": []byte("t1"), "other": []byte("x")}}
	sb := SecretKeys(s, []string{"token"})
	if SecretKeys(&corev1.Secret{Type: "kubernetes.io/opaque-ish", Data: map[string][]byte{"token": []byte("t1")}}, []string{"token"}) != sb {
		t.Error("Secret: the type or another key changed a keyed digest")
	}
	if SecretKeys(&corev1.Secret{StringData: map[string]string{"token": "t1"}}, []string{"token"}) != sb {
		t.Error("Secret: stringData must count as data")
	}
	if SecretKeys(&corev1.Secret{Data: map[string][]byte{"token": []byte("t2")}}, []string{"token"}) == sb ||
		SecretKeys(&corev1.Secret{}, []string{"token"}) == sb || SecretKeys(nil, nil) != Absent {
		t.Error("Secret: a change or removal of a read key was not seen, or nil is not Absent")
	}
}
