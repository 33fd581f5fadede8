package authzpolicy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// DefaultTTL is how long a Guard trusts what it read: a policy installed (or
// removed) takes at most this long to be noticed.
const DefaultTTL = 30 * time.Second

// Guard tells whether the admission policy is in force as shipped, so that Courier
// may take over objects (conflictPolicy Adopt and Overwrite) on behalf of a
// propagation's author. It reads the policy, its binding and the parameter
// ConfigMap live (they are three small objects) and caches what it read for TTL.
type Guard struct {
	// Reader reads the policy objects; an uncached reader (the manager's API reader).
	Reader client.Reader
	// Mapper maps kinds to their resources, to check the parameter ConfigMap.
	Mapper meta.RESTMapper
	// TTL bounds how long a read is trusted (DefaultTTL when zero).
	TTL time.Duration

	mu      sync.Mutex
	read    time.Time
	err     error             // why the policy or binding is not in force
	kinds   map[string]string // the parameter ConfigMap's data
	kindsAt types.NamespacedName
}

// ErrNotInForce wraps every reason Verify gives.
var ErrNotInForce = errors.New("the admission policy " + PolicyName + " is not in force")

// Verify returns nil when the policy and its binding are installed as shipped and
// the parameter ConfigMap maps every kind in gks to its real resource; otherwise an
// error wrapping ErrNotInForce that says what is missing (safe to show in status).
func (g *Guard) Verify(ctx context.Context, gks ...schema.GroupKind) error {
	kinds, at, err := g.state(ctx)
	if err != nil {
		return err
	}
	for _, gk := range gks {
		mapping, err := g.Mapper.RESTMapping(gk)
		if err != nil {
			return fmt.Errorf("%w: kind %s: %w", ErrNotInForce, KindKey(gk), err)
		}
		got, want := kinds[KindKey(gk)], mapping.Resource.Resource
		if got != want {
			return fmt.Errorf("%w: ConfigMap %s maps kind %s to %q, not to its resource %q, so the policy checks its authors' rights on the wrong resource",
				ErrNotInForce, at, KindKey(gk), got, want)
		}
	}
	return nil
}

// state returns the parameter ConfigMap's data and name, or why the policy is not
// in force, reading again once the last read is older than TTL.
func (g *Guard) state(ctx context.Context) (map[string]string, types.NamespacedName, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	ttl := g.TTL
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	if !g.read.IsZero() && time.Since(g.read) < ttl {
		return g.kinds, g.kindsAt, g.err
	}
	g.kinds, g.kindsAt, g.err = g.load(ctx)
	inForce.Set(boolGauge(g.err == nil))
	if g.err != nil && !errors.Is(g.err, ErrNotInForce) {
		// A failed read says nothing about the policy: do not trust it for TTL.
		g.read = time.Time{}
		return nil, types.NamespacedName{}, g.err
	}
	g.read = time.Now()
	return g.kinds, g.kindsAt, g.err
}

func (g *Guard) load(ctx context.Context) (map[string]string, types.NamespacedName, error) {
	var none types.NamespacedName
	var policy admissionregistrationv1.ValidatingAdmissionPolicy
	if err := g.Reader.Get(ctx, types.NamespacedName{Name: PolicyName}, &policy); err != nil {
		return nil, none, notInForce("reading ValidatingAdmissionPolicy", err)
	}
	if why := policyDiffers(&policy); why != "" {
		return nil, none, fmt.Errorf("%w: ValidatingAdmissionPolicy %s %s", ErrNotInForce, PolicyName, why)
	}
	var binding admissionregistrationv1.ValidatingAdmissionPolicyBinding
	if err := g.Reader.Get(ctx, types.NamespacedName{Name: PolicyName}, &binding); err != nil {
		return nil, none, notInForce("reading ValidatingAdmissionPolicyBinding", err)
	}
	if why := bindingDiffers(&binding); why != "" {
		return nil, none, fmt.Errorf("%w: ValidatingAdmissionPolicyBinding %s %s", ErrNotInForce, PolicyName, why)
	}
	at := types.NamespacedName{Namespace: binding.Spec.ParamRef.Namespace, Name: binding.Spec.ParamRef.Name}
	var cm corev1.ConfigMap
	if err := g.Reader.Get(ctx, at, &cm); err != nil {
		return nil, none, notInForce("reading its parameter ConfigMap "+at.String(), err)
	}
	return cm.Data, at, nil
}

// notInForce turns a failed read into a reason: NotFound and Forbidden mean the
// policy cannot be shown to be in force; anything else is a transient error.
func notInForce(what string, err error) error {
	if apierrors.IsNotFound(err) || apierrors.IsForbidden(err) {
		return fmt.Errorf("%w: %s: %w", ErrNotInForce, what, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// policyDiffers says how a live policy differs from Policy() in anything that
// decides who is let through ("" when it does not).
func policyDiffers(live *admissionregistrationv1.ValidatingAdmissionPolicy) string {
	want := Policy()
	if rev := live.Annotations[RevisionAnnotation]; rev != Revision {
		return fmt.Sprintf("has revision %q, this Courier needs revision %q (reinstall it)", rev, Revision)
	}
	ls, ws := live.Spec, want.Spec
	switch {
	case ls.FailurePolicy != nil && *ls.FailurePolicy != admissionregistrationv1.Fail:
		return "does not fail closed (failurePolicy is not Fail)"
	case !equality.Semantic.DeepEqual(ls.ParamKind, ws.ParamKind):
		return "has another paramKind"
	case !equality.Semantic.DeepEqual(ls.MatchConditions, ws.MatchConditions):
		return "has other matchConditions"
	case !equality.Semantic.DeepEqual(ls.Variables, ws.Variables):
		return "has other variables"
	case !equality.Semantic.DeepEqual(ls.Validations, ws.Validations):
		return "has other validations"
	case ls.MatchConstraints == nil || !sameRules(ls.MatchConstraints.ResourceRules, ws.MatchConstraints.ResourceRules):
		return "matches other requests"
	case !emptySelectors(ls.MatchConstraints):
		return "is narrowed by a namespace or object selector"
	}
	return ""
}

// bindingDiffers says how a live binding fails to put Policy() in force with a
// parameter ConfigMap ("" when it does not).
func bindingDiffers(live *admissionregistrationv1.ValidatingAdmissionPolicyBinding) string {
	s := live.Spec
	switch {
	case s.PolicyName != PolicyName:
		return "binds another policy"
	case !slices.Contains(s.ValidationActions, admissionregistrationv1.Deny):
		return "does not deny (validationActions lacks Deny)"
	case s.ParamRef == nil || s.ParamRef.Name != KindsName || s.ParamRef.Namespace == "" || s.ParamRef.Selector != nil:
		return "does not name the parameter ConfigMap " + KindsName
	case s.ParamRef.ParameterNotFoundAction == nil || *s.ParamRef.ParameterNotFoundAction != admissionregistrationv1.DenyAction:
		return "lets requests through when its parameter ConfigMap is missing"
	case s.MatchResources != nil && (len(s.MatchResources.ResourceRules) > 0 || len(s.MatchResources.ExcludeResourceRules) > 0 || !emptySelectors(s.MatchResources)):
		return "is narrowed by matchResources"
	}
	return ""
}

// sameRules compares resource rules by what they match (the API server defaults
// scope, so it is not compared).
func sameRules(a, b []admissionregistrationv1.NamedRuleWithOperations) bool {
	key := func(rs []admissionregistrationv1.NamedRuleWithOperations) []string {
		var out []string
		for _, r := range rs {
			ops := make([]string, len(r.Operations))
			for i, o := range r.Operations {
				ops[i] = string(o)
			}
			sort.Strings(ops)
			out = append(out, strings.Join([]string{strings.Join(r.APIGroups, ","), strings.Join(r.APIVersions, ","),
				strings.Join(r.Resources, ","), strings.Join(ops, ","), strings.Join(r.ResourceNames, ",")}, "|"))
		}
		sort.Strings(out)
		return out
	}
	return slices.Equal(key(a), key(b))
}

// emptySelectors reports whether m selects every namespace and object (the API
// server defaults both selectors to {}).
func emptySelectors(m *admissionregistrationv1.MatchResources) bool {
	return selectsAll(m.NamespaceSelector) && selectsAll(m.ObjectSelector)
}

func selectsAll(s *metav1.LabelSelector) bool {
	return s == nil || len(s.MatchLabels) == 0 && len(s.MatchExpressions) == 0
}

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
