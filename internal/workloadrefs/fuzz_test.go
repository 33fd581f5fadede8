package workloadrefs

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// FuzzParseList checks that any annotation value parses without panicking into a
// sorted, duplicate-free list that survives a FormatList/ParseList round trip.
func FuzzParseList(f *testing.F) {
	f.Add("configmap/foo,secret/bar")
	f.Add(" cm/a , , secrets/b,")
	f.Add("pod/x,configmap/")
	f.Fuzz(func(t *testing.T, in string) {
		refs, _ := ParseList(in)
		if !slices.IsSortedFunc(refs, Ref.Compare) {
			t.Fatalf("not sorted: %v", refs)
		}
		if len(slices.Compact(slices.Clone(refs))) != len(refs) {
			t.Fatalf("duplicates: %v", refs)
		}
		back, err := ParseList(FormatList(refs))
		if err != nil {
			t.Fatalf("formatted list %q does not parse: %v", FormatList(refs), err)
		}
		if len(refs) > 0 && !reflect.DeepEqual(back, refs) {
			t.Fatalf("round trip: %v -> %v", refs, back)
		}
	})
}

// FuzzCollect feeds arbitrary pod specs (as JSON) and annotation values to Collect:
// it must not panic, must be deterministic, must return sorted references with
// non-empty names, and must honour exclusions.
func FuzzCollect(f *testing.F) {
	seed, _ := json.Marshal(fullSpec())
	f.Add(seed, "configmap/extra", "secret/vol-sec")
	f.Add([]byte(`{"volumes":[{"name":"v","projected":{"sources":[{"secret":{"name":"s"}},{"configMap":{"name":"c","optional":true}}]}}]}`), "", "configmap/c")
	f.Add([]byte(`{}`), "bogus", "")
	f.Fuzz(func(t *testing.T, specJSON []byte, extra, exclude string) {
		var spec corev1.PodSpec
		if json.Unmarshal(specJSON, &spec) != nil {
			return
		}
		a, _ := Collect(&spec, extra, exclude)
		b, _ := Collect(&spec, extra, exclude)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("not deterministic: %v vs %v", a, b)
		}
		if !slices.IsSortedFunc(Refs(a), Ref.Compare) {
			t.Fatalf("not sorted: %v", a)
		}
		excluded, _ := ParseList(exclude)
		for _, r := range a {
			if r.Name == "" {
				t.Fatalf("empty name in %v", a)
			}
			if slices.Contains(excluded, r.Ref) {
				t.Fatalf("%v is excluded but returned", r)
			}
		}
	})
}
