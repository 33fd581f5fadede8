package contenthash

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// FuzzConfigMap checks determinism (two maps built in different orders hash alike),
// and that moving bytes between a key and its value, or between data and binaryData,
// always changes the digest: the length prefixes make the encoding injective.
func FuzzConfigMap(f *testing.F) {
	f.Add("a", "bc", "x", "y")
	f.Add("ab", "c", "", "")
	f.Add("k", "", "k2", "v")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		if k1 == k2 {
			return
		}
		m1 := &corev1.ConfigMap{Data: map[string]string{k1: v1, k2: v2}}
		m2 := &corev1.ConfigMap{Data: map[string]string{k2: v2, k1: v1}}
		if ConfigMap(m1) != ConfigMap(m2) {
			t.Fatal("not deterministic")
		}
		if len(v1) > 0 && k1+v1[:1] != k2 {
			shifted := &corev1.ConfigMap{Data: map[string]string{k1 + v1[:1]: v1[1:], k2: v2}}
			if ConfigMap(shifted) == ConfigMap(m1) {
				t.Fatal("moving a byte from value to key was not detected")
			}
		}
		bin := &corev1.ConfigMap{BinaryData: map[string][]byte{k1: []byte(v1), k2: []byte(v2)}}
		if ConfigMap(bin) == ConfigMap(m1) {
			t.Fatal("data and binaryData collide")
		}
	})
}

// FuzzSecret checks that stringData is folded in exactly like data and that any
// change of one value is detected.
func FuzzSecret(f *testing.F) {
	f.Add("Opaque", "password", []byte("hunter2"), []byte("hunter3"))
	f.Add("", "", []byte{}, []byte{0})
	f.Fuzz(func(t *testing.T, typ, key string, v, w []byte) {
		a := &corev1.Secret{Type: corev1.SecretType(typ), Data: map[string][]byte{key: v}}
		b := &corev1.Secret{Type: corev1.SecretType(typ), StringData: map[string]string{key: string(v)}}
		if Secret(a) != Secret(b) {
			t.Fatal("stringData differs from data")
		}
		c := &corev1.Secret{Type: corev1.SecretType(typ), Data: map[string][]byte{key: w}}
		if (string(v) == string(w)) != (Secret(a) == Secret(c)) {
			t.Fatal("value change detection is wrong")
		}
	})
}

// FuzzCombine checks that Combine ignores order and sees a change of either a key or
// a digest, including moving bytes across the key/digest boundary.
func FuzzCombine(f *testing.F) {
	f.Add("configmap/a", "d1", "secret/b", "d2")
	f.Add("x", "", "xy", "")
	f.Fuzz(func(t *testing.T, k1, d1, k2, d2 string) {
		ab := Combine([]Entry{{k1, d1}, {k2, d2}})
		if ab != Combine([]Entry{{k2, d2}, {k1, d1}}) {
			t.Fatal("order matters")
		}
		// {(k1+c, rest), (k2, d2)} and {(k1, d1), (k2, d2)} are never the same multiset.
		if d1 != "" && Combine([]Entry{{k1 + d1[:1], d1[1:]}, {k2, d2}}) == ab {
			t.Fatal("boundary shift not detected")
		}
	})
}
