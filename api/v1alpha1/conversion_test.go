package v1alpha1

import (
	"encoding/json"
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/diff"
	"sigs.k8s.io/controller-runtime/pkg/conversion"
	"sigs.k8s.io/randfill"

	"github.com/courier-operator/courier/api/v1beta1"
)

// fuzzRounds is how many random objects each round trip converts, per kind.
const fuzzRounds = 10000

// fuzzer fills objects the way the API server could hand them to the conversion
// webhook: no apiVersion and kind (the webhook sets them), metadata a client can set (never AnnotationConversionData, which only
// the conversion writes), times at the second, v1beta1 key rules that often take
// the shapes v1alpha1 can say exactly, so both the exact and the recorded path
// run, and a sourceNamespace that is set, as the API server's default sets it.
func fuzzer(seed int64) *randfill.Filler {
	return randfill.NewWithSeed(seed).NilChance(0.25).NumElements(0, 3).Funcs(
		func(*metav1.TypeMeta, randfill.Continue) {}, // the webhook sets apiVersion and kind
		func(m *metav1.ObjectMeta, c randfill.Continue) {
			m.Name, m.Namespace = c.String(12), c.String(8)
			m.UID, m.ResourceVersion, m.Generation = types.UID(c.String(8)), c.String(6), c.Int63()
			c.Fill(&m.Labels)
			c.Fill(&m.Annotations)
			delete(m.Annotations, AnnotationConversionData)
		},
		func(t *metav1.Time, c randfill.Continue) {
			*t = metav1.Unix(c.Int63n(1<<33), 0)
		},
		func(p *v1beta1.SourceNamespacePolicy, c randfill.Continue) {
			// Never unset: the API server defaults it, and unset converts back as Exclude.
			*p = []v1beta1.SourceNamespacePolicy{v1beta1.SourceNamespaceExclude, v1beta1.SourceNamespaceInclude, v1beta1.SourceNamespacePolicy("x" + c.String(6))}[c.Intn(3)]
		},
		func(rules *[]v1beta1.KeyRule, c randfill.Continue) {
			if c.Bool() {
				c.FillNoCustom(rules) // any shape, renames and invalid ones included
				return
			}
			var include, exclude []v1beta1.KeyPattern
			c.Fill(&include)
			c.Fill(&exclude)
			*rules = nil
			if len(include) > 0 {
				*rules = append(*rules, v1beta1.KeyRule{Include: include})
			}
			if len(exclude) > 0 {
				*rules = append(*rules, v1beta1.KeyRule{Exclude: exclude})
			}
		},
	)
}

// viaJSON encodes obj and decodes it into a new object of the same type, as the
// API server does between a conversion and the next.
func viaJSON[T any](t *testing.T, obj *T) *T {
	t.Helper()
	raw, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	out := new(T)
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// roundTrip fills fuzzRounds random objects, converts each there (then through
// JSON, as the API server sends it on) and back, and fails on any difference. It
// returns how many of the converted objects carried AnnotationConversionData.
func roundTrip[A, B any](t *testing.T, there func(*A) (*B, error), back func(*B) (*A, error)) (recorded int) {
	t.Helper()
	for i := range fuzzRounds {
		in := new(A)
		fuzzer(int64(i)).Fill(in)
		mid, err := there(in)
		if err != nil {
			t.Fatalf("round %d: converting there: %v", i, err)
		}
		if _, ok := any(mid).(metav1.Object).GetAnnotations()[AnnotationConversionData]; ok {
			recorded++
		}
		out, err := back(viaJSON(t, mid))
		if err != nil {
			t.Fatalf("round %d: converting back: %v", i, err)
		}
		if !equality.Semantic.DeepEqual(in, out) {
			t.Fatalf("round %d: the round trip lost something:\n%s", i, diff.Diff(in, out))
		}
	}
	return recorded
}

// fromHub and toHub run roundTrip from the hub and from v1alpha1. From the hub,
// both paths must have run: objects v1alpha1 says exactly (no annotation) and
// objects it cannot (recorded). Converted to the hub, no object keeps the
// annotation.
func fromHub[A, B any](t *testing.T, there func(*A) (*B, error), back func(*B) (*A, error)) {
	t.Helper()
	if n := roundTrip(t, there, back); n == 0 || n == fuzzRounds {
		t.Fatalf("%d of %d objects recorded v1beta1 fields: the fuzzer does not reach both paths", n, fuzzRounds)
	}
}

func toHub[A, B any](t *testing.T, there func(*A) (*B, error), back func(*B) (*A, error)) {
	t.Helper()
	if n := roundTrip(t, there, back); n != 0 {
		t.Fatalf("%d hub objects carry %s", n, AnnotationConversionData)
	}
}

// to and from convert one object between v1alpha1 and the hub.
func to[S conversion.Convertible, H conversion.Hub](newHub func() H) func(S) (H, error) {
	return func(s S) (H, error) { h := newHub(); return h, s.ConvertTo(h) }
}

func from[S conversion.Convertible, H conversion.Hub](newSpoke func() S) func(H) (S, error) {
	return func(h H) (S, error) { s := newSpoke(); return s, s.ConvertFrom(h) }
}

func newHubCP() *v1beta1.ClusterPropagation { return &v1beta1.ClusterPropagation{} }
func newHubP() *v1beta1.Propagation         { return &v1beta1.Propagation{} }
func newCP() *ClusterPropagation            { return &ClusterPropagation{} }
func newP() *Propagation                    { return &Propagation{} }

func TestClusterPropagationFromHubRoundTrip(t *testing.T) {
	fromHub(t, from[*ClusterPropagation, *v1beta1.ClusterPropagation](newCP), to[*ClusterPropagation](newHubCP))
}

func TestPropagationFromHubRoundTrip(t *testing.T) {
	fromHub(t, from[*Propagation, *v1beta1.Propagation](newP), to[*Propagation](newHubP))
}

func TestClusterPropagationToHubRoundTrip(t *testing.T) {
	toHub(t, to[*ClusterPropagation](newHubCP), from[*ClusterPropagation, *v1beta1.ClusterPropagation](newCP))
}

func TestPropagationToHubRoundTrip(t *testing.T) {
	toHub(t, to[*Propagation](newHubP), from[*Propagation, *v1beta1.Propagation](newP))
}
