package contenthash

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
)

// Absent is the digest of an object that does not exist. It is a fixed marker rather
// than a hash so that "missing" is readable in the workload's annotations, and so that
// an optional object appearing (or disappearing) changes the combined digest.
const Absent = "absent"

// encoder writes length-prefixed fields into a hash.
type encoder struct{ h hash.Hash }

func newEncoder() *encoder { return &encoder{h: sha256.New()} }

// field writes one length-prefixed byte string.
func (e *encoder) field(b []byte) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(b)))
	e.h.Write(n[:])
	e.h.Write(b)
}

func (e *encoder) str(s string) { e.field([]byte(s)) }

// count writes a number of entries, so a section's extent is unambiguous.
func (e *encoder) count(n int) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(n))
	e.h.Write(b[:])
}

// section writes a named map with its keys in sorted order.
func section[V ~string | ~[]byte](e *encoder, name string, m map[string]V) {
	e.str(name)
	e.count(len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		e.str(k)
		e.field([]byte(m[k]))
	}
}

func (e *encoder) sum() string { return hex.EncodeToString(e.h.Sum(nil)) }

// ConfigMap returns the digest of a ConfigMap's content (data and binaryData).
// A nil ConfigMap is Absent.
func ConfigMap(cm *corev1.ConfigMap) string {
	if cm == nil {
		return Absent
	}
	e := newEncoder()
	e.str("ConfigMap")
	section(e, "data", cm.Data)
	section(e, "binaryData", cm.BinaryData)
	return e.sum()
}

// Secret returns the digest of a Secret's content: its type and its data, with
// stringData merged over data exactly as the API server resolves it on write (so an
// object built with stringData hashes like the same object read back). A nil Secret
// is Absent. The digest is a one-way hash; it reveals nothing about the data beyond
// equality, which is what it exists to tell.
func Secret(s *corev1.Secret) string {
	if s == nil {
		return Absent
	}
	data := s.Data
	if len(s.StringData) > 0 {
		data = maps.Clone(s.Data)
		if data == nil {
			data = map[string][]byte{}
		}
		for k, v := range s.StringData {
			data[k] = []byte(v)
		}
	}
	e := newEncoder()
	e.str("Secret")
	e.str(string(s.Type))
	section(e, "data", data)
	return e.sum()
}

// ConfigMapKeys returns the digest of the given keys of a ConfigMap only (in data or
// binaryData; a key in neither counts as absent), for a workload that reads only
// them: a change of any other key leaves it unchanged. A nil ConfigMap is Absent.
func ConfigMapKeys(cm *corev1.ConfigMap, keys []string) string {
	if cm == nil {
		return Absent
	}
	return keyed("ConfigMap keys", keys, in("data", cm.Data), in("binaryData", cm.BinaryData))
}

// SecretKeys returns the digest of the given keys of a Secret only, stringData
// merged over data as in Secret (a missing key counts as absent). The type does not
// count: a workload that reads named keys does not see it. A nil Secret is Absent.
func SecretKeys(s *corev1.Secret, keys []string) string {
	if s == nil {
		return Absent
	}
	return keyed("Secret keys", keys, in("data", s.StringData), in("data", s.Data))
}

// lookup finds a key in one map of an object's content, and names the map.
type lookup func(key string) (where string, value []byte, ok bool)

// in is the lookup of a key in m, named where.
func in[V ~string | ~[]byte](where string, m map[string]V) lookup {
	return func(key string) (string, []byte, bool) {
		v, ok := m[key]
		return where, []byte(v), ok
	}
}

// keyed digests the keys of one object's content: each key, then where the first
// lookup that has it finds it and its value, or Absent.
func keyed(name string, keys []string, lookups ...lookup) string {
	e := newEncoder()
	e.str(name)
	e.count(len(keys))
next:
	for _, k := range keys {
		e.str(k)
		for _, l := range lookups {
			if where, v, ok := l(k); ok {
				e.str(where)
				e.field(v)
				continue next
			}
		}
		e.str(Absent)
	}
	return e.sum()
}

// Entry is one named input of a combined digest.
type Entry struct {
	// Key names the input, e.g. "configmap/app-config".
	Key string
	// Digest is the input's digest (from ConfigMap, Secret, or Absent).
	Digest string
}

// Combine returns one digest for a set of inputs, independent of their order.
// Both keys and digests contribute, so renaming an input changes the result even when
// its content did not. Duplicate keys are kept as given (callers pass unique keys).
func Combine(entries []Entry) string {
	sorted := slices.SortedFunc(slices.Values(entries), func(a, b Entry) int {
		return cmp.Or(cmp.Compare(a.Key, b.Key), cmp.Compare(a.Digest, b.Digest))
	})
	e := newEncoder()
	e.str("inputs")
	e.count(len(sorted))
	for _, en := range sorted {
		e.str(en.Key)
		e.str(en.Digest)
	}
	return e.sum()
}
