package authzpolicy

import (
	"fmt"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
)

// Names of the objects as installed. config/default's kustomization prefixes every
// object with "courier-", so config/admission carries the base names (BaseName) and
// the chart and the manager use the prefixed ones.
const (
	// NamePrefix is the prefix config/default gives every object.
	NamePrefix = "courier-"
	// PolicyName names both the ValidatingAdmissionPolicy and its binding.
	PolicyName = NamePrefix + "propagation-authorization"
	// KindsName names the parameter ConfigMap listing the kinds Courier may propagate.
	KindsName = NamePrefix + "propagation-kinds"
	// RevisionAnnotation carries the policy's revision: the manager's Guard refuses
	// a policy of another revision (an older release's, or one edited by hand).
	RevisionAnnotation = "courier.dev/policy-revision"
	// Revision is the revision of the policy this package builds. Bump it whenever
	// Policy changes.
	Revision = "1"
)

// MaxKinds is how many different kinds one propagation may name. Every kind costs
// up to four authorization checks and the API server allows a policy about 28 per
// request (a check costs 350,000 of the 10,000,000 CEL budget), so the policy refuses
// more kinds with a clear message instead of running out of budget.
const MaxKinds = 5

// maxSources is spec.sources' maxItems in every served API version: the policy
// walks source indexes up to it.
const maxSources = 16

// BaseName returns the name config/admission gives an object named name (without
// config/default's prefix).
func BaseName(name string) string { return strings.TrimPrefix(name, NamePrefix) }

// KindKey is the key of a kind in the parameter ConfigMap: "Kind" for the core group,
// "Kind.group" otherwise (e.g. "NetworkPolicy.networking.k8s.io").
func KindKey(gk schema.GroupKind) string {
	if gk.Group == "" {
		return gk.Kind
	}
	return gk.Kind + "." + gk.Group
}

// DefaultKinds are the kinds every installation may propagate: the parameter
// ConfigMap always lists them.
var DefaultKinds = map[string]string{"Secret": "secrets", "ConfigMap": "configmaps"}

// verbCheck is one authorization check the policy makes per kind.
type verbCheck struct {
	verb string
	// when is a CEL condition under which the check applies ("" for always).
	when string
	// why ends the denial message.
	why string
}

var verbChecks = []verbCheck{
	{verb: "create", why: "a propagation creates its copies there, so its author must be allowed to create them"},
	{verb: "get", when: "variables.cluster", why: "a ClusterPropagation copies its sources, so its author must be allowed to read them"},
	{verb: "update", when: "variables.takeover", why: "conflictPolicy Adopt and Overwrite take over existing objects, so their author must be allowed to update them"},
	{verb: "delete", when: "variables.takeover", why: "conflictPolicy Adopt and Overwrite take over existing objects and delete them with the propagation, so their author must be allowed to delete them"},
}

// Policy returns the ValidatingAdmissionPolicy (see the package documentation).
func Policy() *admissionregistrationv1.ValidatingAdmissionPolicy {
	indexes := make([]string, maxSources)
	for i := range indexes {
		indexes[i] = fmt.Sprint(i)
	}
	variables := []admissionregistrationv1.Variable{
		{Name: "cluster", Expression: "request.resource.resource == 'clusterpropagations'"},
		{Name: "takeover", Expression: "has(object.spec.conflictPolicy) && (object.spec.conflictPolicy == 'Adopt' || object.spec.conflictPolicy == 'Overwrite')"},
		// The parameter key of every source's kind (KindKey).
		{Name: "keys", Expression: "object.spec.sources.map(s, s.apiVersion.contains('/') ? s.kind + '.' + s.apiVersion.split('/')[0] : s.kind)"},
		// The distinct keys, in order of first appearance (CEL of every supported
		// Kubernetes version lacks distinct()).
		{Name: "kinds", Expression: "[" + strings.Join(indexes, ", ") + "].filter(i, i < size(variables.keys) && variables.keys.indexOf(variables.keys[i]) == i).map(i, variables.keys[i])"},
		{Name: "resources", Expression: "variables.kinds.map(k, has(params.data) && k in params.data ? params.data[k] : '')"},
		{Name: "groups", Expression: "variables.kinds.map(k, k.contains('.') ? k.substring(k.indexOf('.') + 1) : '')"},
		// A cluster-scoped request has no namespace: the checks are then cluster-wide.
		{Name: "scope", Expression: "has(request.namespace) ? request.namespace : ''"},
		{Name: "where", Expression: "variables.scope == '' ? 'in every namespace (a ClusterPropagation may target any namespace, including ones created later)' : 'in namespace ' + variables.scope"},
	}
	forbidden := ptr.To(metav1.StatusReasonForbidden)
	validations := []admissionregistrationv1.Validation{
		{
			Expression: "variables.resources.all(r, r != '')",
			MessageExpression: "'kind(s) ' + variables.kinds.filter(k, !(has(params.data) && k in params.data)).join(', ') + " +
				"' may not be propagated: an administrator lists every kind Courier may propagate in ConfigMap ' + " +
				"params.metadata.namespace + '/' + params.metadata.name + ' (docs/security.md)'",
			Reason: forbidden,
		},
		{
			Expression: fmt.Sprintf("size(variables.kinds) <= %d", MaxKinds),
			Message: fmt.Sprintf("a propagation may name at most %d different kinds: each costs up to four authorization checks of its author, "+
				"and the API server bounds how many one admission request may make", MaxKinds),
			Reason: ptr.To(metav1.StatusReasonInvalid),
		},
	}
	for j := 0; j < MaxKinds; j++ {
		for _, v := range verbChecks {
			guard := fmt.Sprintf("size(variables.kinds) <= %d || variables.resources[%d] == ''", j, j)
			if v.when != "" {
				guard += " || !" + v.when
			}
			validations = append(validations, admissionregistrationv1.Validation{
				Expression: fmt.Sprintf("%s || authorizer.group(variables.groups[%d]).resource(variables.resources[%d]).namespace(variables.scope).check('%s').allowed()",
					guard, j, j, v.verb),
				MessageExpression: fmt.Sprintf("request.userInfo.username + ' may not %s ' + variables.resources[%d] + "+
					"(variables.groups[%d] == '' ? '' : '.' + variables.groups[%d]) + ' ' + variables.where + ': %s (docs/security.md)'",
					v.verb, j, j, j, v.why),
				Reason: forbidden,
			})
		}
	}
	// Copying RBAC objects hands out permissions: RBAC asks the author of a Role for
	// escalate and of a RoleBinding for bind unless they hold every permission it
	// grants. The policy cannot compare permissions, so it asks for the verbs.
	rbacGroup := "rbac.authorization.k8s.io"
	validations = append(validations,
		admissionregistrationv1.Validation{
			Expression: fmt.Sprintf("!('Role.%s' in variables.kinds) || authorizer.group('%s').resource('roles').namespace(variables.scope).check('escalate').allowed()", rbacGroup, rbacGroup),
			MessageExpression: "request.userInfo.username + ' may not escalate roles ' + variables.where + " +
				"': copying Roles hands out their permissions, so their author must be allowed to escalate (docs/security.md)'",
			Reason: forbidden,
		},
		admissionregistrationv1.Validation{
			Expression: fmt.Sprintf("!('RoleBinding.%s' in variables.kinds) || (authorizer.group('%s').resource('roles').namespace(variables.scope).check('bind').allowed() && "+
				"authorizer.group('%s').resource('clusterroles').namespace(variables.scope).check('bind').allowed())", rbacGroup, rbacGroup, rbacGroup),
			MessageExpression: "request.userInfo.username + ' may not bind roles and clusterroles ' + variables.where + " +
				"': copying RoleBindings hands out the roles they bind, so their author must be allowed to bind them (docs/security.md)'",
			Reason: forbidden,
		},
	)

	return &admissionregistrationv1.ValidatingAdmissionPolicy{
		TypeMeta: metav1.TypeMeta{APIVersion: admissionregistrationv1.SchemeGroupVersion.String(), Kind: "ValidatingAdmissionPolicy"},
		ObjectMeta: metav1.ObjectMeta{
			Name:        PolicyName,
			Annotations: map[string]string{RevisionAnnotation: Revision},
		},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: ptr.To(admissionregistrationv1.Fail),
			ParamKind:     &admissionregistrationv1.ParamKind{APIVersion: "v1", Kind: "ConfigMap"},
			MatchConstraints: &admissionregistrationv1.MatchResources{
				// Requests through any served version are converted to v1alpha1
				// (matchPolicy Equivalent), so the expressions read one shape.
				MatchPolicy: ptr.To(admissionregistrationv1.Equivalent),
				ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{{
					RuleWithOperations: admissionregistrationv1.RuleWithOperations{
						Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
						Rule: admissionregistrationv1.Rule{
							APIGroups:   []string{"courier.dev"},
							APIVersions: []string{"v1alpha1"},
							Resources:   []string{"propagations", "clusterpropagations"},
						},
					},
				}},
			},
			MatchConditions: []admissionregistrationv1.MatchCondition{{
				// Metadata-only updates (labels, the manager's own finalizer patches)
				// change no right a propagation exercises.
				Name:       "spec-changed",
				Expression: "request.operation == 'CREATE' || object.spec != oldObject.spec",
			}},
			Variables:   variables,
			Validations: validations,
		},
	}
}

// Binding returns the policy's binding; namespace is where the parameter ConfigMap
// (Kinds) lives, Courier's own namespace.
func Binding(namespace string) *admissionregistrationv1.ValidatingAdmissionPolicyBinding {
	return &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: admissionregistrationv1.SchemeGroupVersion.String(), Kind: "ValidatingAdmissionPolicyBinding"},
		ObjectMeta: metav1.ObjectMeta{Name: PolicyName},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        PolicyName,
			ValidationActions: []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny},
			ParamRef: &admissionregistrationv1.ParamRef{
				Name:      KindsName,
				Namespace: namespace,
				// Without the list nothing can be checked: refuse every propagation.
				ParameterNotFoundAction: ptr.To(admissionregistrationv1.DenyAction),
			},
		},
	}
}

// Kinds returns the parameter ConfigMap with the DefaultKinds, in namespace.
// Administrators add a key per further kind (KindKey → plural resource name).
func Kinds(namespace string) *corev1.ConfigMap {
	data := make(map[string]string, len(DefaultKinds))
	for k, v := range DefaultKinds {
		data[k] = v
	}
	return &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: KindsName, Namespace: namespace},
		Data:       data,
	}
}
