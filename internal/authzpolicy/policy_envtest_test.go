package authzpolicy_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/yaml"

	"github.com/courier-operator/courier/api/v1alpha1"
	"github.com/courier-operator/courier/internal/authzpolicy"
	courierscheme "github.com/courier-operator/courier/internal/scheme"
	"github.com/courier-operator/courier/test/testenv"
)

// The policy against a real API server (RBAC authorization, the policy installed
// with Install): every path by which a propagation could make Courier act beyond
// its author's rights, each once allowed and once refused, with the refusal's
// message.

const (
	team     = "team"
	platform = "platform"
	courier  = "courier-system"
)

type env struct {
	cfg    *rest.Config
	scheme *runtime.Scheme
	admin  client.Client
}

func (e env) as(t *testing.T, user string) client.Client {
	t.Helper()
	cfg := rest.CopyConfig(e.cfg)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: []string{"system:authenticated"}}
	c, err := client.New(cfg, client.Options{Scheme: e.scheme})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// shippedRole reads one of config/rbac's helper ClusterRoles as installed (with
// config/default's prefix).
func shippedRole(t *testing.T, file string) *rbacv1.ClusterRole {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "rbac", file))
	must(t, err)
	var r rbacv1.ClusterRole
	must(t, yaml.Unmarshal(raw, &r))
	r.Name = authzpolicy.NamePrefix + r.Name
	return &r
}

func setup(t *testing.T) env {
	t.Helper()
	cfg, _ := testenv.Start(t)
	scheme := courierscheme.New()
	admin, err := client.New(cfg, client.Options{Scheme: scheme})
	must(t, err)
	e := env{cfg: cfg, scheme: scheme, admin: admin}
	ctx := context.Background()
	for _, ns := range []string{team, platform, courier} {
		must(t, admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	}
	must(t, authzpolicy.Install(ctx, admin, courier))

	editor, clusterEditor := shippedRole(t, "propagation_editor_role.yaml"), shippedRole(t, "clusterpropagation_editor_role.yaml")
	must(t, admin.Create(ctx, editor))
	must(t, admin.Create(ctx, clusterEditor))
	// Namespaced grants in team; cluster-wide ones through ClusterRoleBindings.
	grant := func(user, role string, namespaces ...string) {
		subjects := []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}
		ref := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role}
		if len(namespaces) == 0 {
			must(t, admin.Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: user + "-" + role}, RoleRef: ref, Subjects: subjects}))
			return
		}
		for _, ns := range namespaces {
			must(t, admin.Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: user + "-" + role, Namespace: ns}, RoleRef: ref, Subjects: subjects}))
		}
	}
	rules := func(name, group string, resources []string, verbs ...string) string {
		must(t, admin.Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{group}, Resources: resources, Verbs: verbs}}}))
		return name
	}
	create := rules("create-config", "", []string{"secrets", "configmaps"}, "create")
	getCreate := rules("get-create-config", "", []string{"secrets", "configmaps"}, "get", "create")
	own := rules("own-config", "", []string{"secrets", "configmaps"}, "get", "create", "update", "delete")
	createNP := rules("create-networkpolicies", "networking.k8s.io", []string{"networkpolicies"}, "create")
	createRB := rules("create-rolebindings", "rbac.authorization.k8s.io", []string{"rolebindings"}, "create")
	bind := rules("bind-roles", "rbac.authorization.k8s.io", []string{"roles", "clusterroles"}, "bind")

	grant("editor", editor.Name, team)
	grant("writer", editor.Name, team)
	grant("writer", create, team)
	grant("owner", editor.Name, team)
	grant("owner", own, team)
	grant("np-writer", editor.Name, team)
	grant("np-writer", createNP, team)
	grant("rb-writer", editor.Name, team)
	grant("rb-writer", createRB, team)
	grant("rb-binder", editor.Name, team)
	grant("rb-binder", createRB, team)
	grant("rb-binder", bind, team)
	grant("cluster-editor", clusterEditor.Name)
	grant("cluster-creator", clusterEditor.Name)
	grant("cluster-creator", create)
	grant("cluster-writer", clusterEditor.Name)
	grant("cluster-writer", getCreate)
	grant("cluster-owner", clusterEditor.Name)
	grant("cluster-owner", own)
	grant("everywhere-writer", clusterEditor.Name)
	grant("everywhere-writer", getCreate, team, platform, courier, "default")
	return e
}

func pull(name string, policy v1alpha1.ConflictPolicy, refs ...v1alpha1.SourceReference) *v1alpha1.Propagation {
	return &v1alpha1.Propagation{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: team},
		Spec:       v1alpha1.PropagationSpec{Sources: refs, ConflictPolicy: policy},
	}
}

func push(name string, policy v1alpha1.ConflictPolicy, refs ...v1alpha1.SourceReference) *v1alpha1.ClusterPropagation {
	return &v1alpha1.ClusterPropagation{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1alpha1.ClusterPropagationSpec{Sources: refs, ConflictPolicy: policy,
			Targets: v1alpha1.ClusterTargets{Namespaces: []v1alpha1.NamespacePattern{team}}},
	}
}

func ref(apiVersion, kind, name string) v1alpha1.SourceReference {
	return v1alpha1.SourceReference{APIVersion: apiVersion, Kind: kind, Namespace: platform, Name: name}
}

var (
	secret    = ref("v1", "Secret", "shared")
	configMap = ref("v1", "ConfigMap", "shared")
	netpol    = ref("networking.k8s.io/v1", "NetworkPolicy", "default-deny")
	binding   = ref("rbac.authorization.k8s.io/v1", "RoleBinding", "readers")
)

// admissionCase is one request and what the policy must answer: "" to let it
// through, or a fragment of the refusal.
type admissionCase struct {
	name   string
	user   string
	obj    client.Object
	denied string
}

func runCases(t *testing.T, e env, cases []admissionCase) {
	t.Helper()
	ctx := context.Background()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := e.as(t, tc.user).Create(ctx, tc.obj.DeepCopyObject().(client.Object))
			checkAnswer(t, err, tc.denied)
			if err == nil {
				must(t, e.admin.Delete(ctx, tc.obj))
			}
		})
	}
}

func checkAnswer(t *testing.T, err error, denied string) {
	t.Helper()
	switch {
	case denied == "" && err != nil:
		t.Fatalf("refused, want allowed: %v", err)
	case denied != "" && err == nil:
		t.Fatalf("allowed, want refused with %q", denied)
	case denied != "" && !strings.Contains(err.Error(), denied):
		t.Fatalf("refused with %q, want a message containing %q", err, denied)
	case denied != "" && !strings.Contains(err.Error(), authzpolicy.PolicyName):
		t.Fatalf("refused by something else than the policy: %v", err)
	}
}

func TestPolicyAgainstAPIServer(t *testing.T) {
	e := setup(t)
	ctx := context.Background()

	t.Run("namespaced pull", func(t *testing.T) {
		runCases(t, e, []admissionCase{
			// The reproduction: the shipped editor role alone must not let a user write
			// Secrets through Courier.
			{"editor role alone, Skip", "editor", pull("p", v1alpha1.ConflictSkip, secret), "editor may not create secrets in namespace team"},
			{"editor role alone, Overwrite", "editor", pull("p", v1alpha1.ConflictOverwrite, secret), "editor may not create secrets in namespace team"},
			{"create right, Skip", "writer", pull("p", v1alpha1.ConflictSkip, secret), ""},
			{"create right, ConfigMap", "writer", pull("p", v1alpha1.ConflictSkip, configMap), ""},
			{"create right, Overwrite", "writer", pull("p", v1alpha1.ConflictOverwrite, secret), "writer may not update secrets in namespace team"},
			{"create right, Adopt", "writer", pull("p", v1alpha1.ConflictAdopt, secret), "writer may not update secrets in namespace team"},
			{"update and delete rights, Overwrite", "owner", pull("p", v1alpha1.ConflictOverwrite, secret, configMap), ""},
			{"update and delete rights, Adopt", "owner", pull("p", v1alpha1.ConflictAdopt, configMap), ""},
			{"one kind without the right", "writer", pull("p", v1alpha1.ConflictSkip, secret, netpol), "may not be propagated"},
		})
	})

	t.Run("cluster push", func(t *testing.T) {
		runCases(t, e, []admissionCase{
			{"editor role alone", "cluster-editor", push("c", v1alpha1.ConflictSkip, secret), "cluster-editor may not create secrets in every namespace"},
			{"rights in some namespaces only", "everywhere-writer", push("c", v1alpha1.ConflictSkip, secret), "everywhere-writer may not create secrets in every namespace"},
			{"create but not read", "cluster-creator", push("c", v1alpha1.ConflictSkip, secret), "cluster-creator may not get secrets in every namespace"},
			{"read and create", "cluster-writer", push("c", v1alpha1.ConflictSkip, secret, configMap), ""},
			{"read and create, Overwrite", "cluster-writer", push("c", v1alpha1.ConflictOverwrite, configMap), "cluster-writer may not update configmaps in every namespace"},
			{"read and create, Adopt", "cluster-writer", push("c", v1alpha1.ConflictAdopt, secret), "cluster-writer may not update secrets"},
			{"every right, Overwrite", "cluster-owner", push("c", v1alpha1.ConflictOverwrite, secret), ""},
			{"every right, Adopt", "cluster-owner", push("c", v1alpha1.ConflictAdopt, secret, configMap), ""},
		})
	})

	t.Run("extra kinds", func(t *testing.T) {
		runCases(t, e, []admissionCase{
			{"not listed", "np-writer", pull("p", v1alpha1.ConflictSkip, netpol),
				"kind(s) NetworkPolicy.networking.k8s.io may not be propagated: an administrator lists every kind Courier may propagate in ConfigMap courier-system/courier-propagation-kinds"},
			{"not listed, even for a cluster admin", "cluster-owner", push("c", v1alpha1.ConflictSkip, netpol), "may not be propagated"},
		})
		addKinds(t, e, map[string]string{
			"NetworkPolicy.networking.k8s.io":       "networkpolicies",
			"RoleBinding.rbac.authorization.k8s.io": "rolebindings",
			"Role.rbac.authorization.k8s.io":        "roles",
			"LimitRange":                            "limitranges",
			"ResourceQuota":                         "resourcequotas",
			"ServiceAccount":                        "serviceaccounts",
		})
		runCases(t, e, []admissionCase{
			{"listed, with the right", "np-writer", pull("p", v1alpha1.ConflictSkip, netpol), ""},
			{"listed, without the right", "writer", pull("p", v1alpha1.ConflictSkip, netpol), "writer may not create networkpolicies.networking.k8s.io in namespace team"},
			{"listed, Overwrite without update", "np-writer", pull("p", v1alpha1.ConflictOverwrite, netpol), "np-writer may not update networkpolicies.networking.k8s.io"},
			// RBAC would ask the author of a RoleBinding for bind: so does the policy.
			{"RoleBinding without bind", "rb-writer", pull("p", v1alpha1.ConflictSkip, binding), "rb-writer may not bind roles and clusterroles in namespace team"},
			{"RoleBinding with bind", "rb-binder", pull("p", v1alpha1.ConflictSkip, binding), ""},
			{"more kinds than one request can check", "cluster-owner", push("c", v1alpha1.ConflictSkip, secret, configMap, netpol,
				ref("v1", "LimitRange", "l"), ref("v1", "ResourceQuota", "q"), ref("v1", "ServiceAccount", "s")), "at most 5 different kinds"},
		})
	})

	t.Run("updates are checked against the updating user", func(t *testing.T) {
		p := pull("upd", v1alpha1.ConflictSkip, secret)
		must(t, e.as(t, "owner").Create(ctx, p))
		key := client.ObjectKeyFromObject(p)
		update := func(user string, mutate func(*v1alpha1.Propagation)) error {
			var cur v1alpha1.Propagation
			must(t, e.admin.Get(ctx, key, &cur))
			mutate(&cur)
			return e.as(t, user).Update(ctx, &cur)
		}
		// Metadata changes exercise no right: anyone who may edit propagations may make them.
		checkAnswer(t, update("editor", func(p *v1alpha1.Propagation) { p.Labels = map[string]string{"team": "a"} }), "")
		// A spec change is checked against the user who makes it, not the creator.
		checkAnswer(t, update("editor", func(p *v1alpha1.Propagation) { p.Spec.Sources = []v1alpha1.SourceReference{configMap} }), "editor may not create configmaps")
		checkAnswer(t, update("writer", func(p *v1alpha1.Propagation) { p.Spec.ConflictPolicy = v1alpha1.ConflictOverwrite }), "writer may not update secrets")
		checkAnswer(t, update("writer", func(p *v1alpha1.Propagation) {
			p.Spec.Template = &v1alpha1.CopyTemplate{Name: "someone-elses-secret"}
		}), "")
		checkAnswer(t, update("owner", func(p *v1alpha1.Propagation) { p.Spec.ConflictPolicy = v1alpha1.ConflictOverwrite }), "")
		// Once it is Overwrite, retargeting it needs update and delete too.
		checkAnswer(t, update("writer", func(p *v1alpha1.Propagation) { p.Spec.Template.Name = "another-secret" }), "writer may not update secrets")
	})

	t.Run("without its parameter ConfigMap nothing is let through", func(t *testing.T) {
		kinds := authzpolicy.Kinds(courier)
		must(t, e.admin.Delete(ctx, kinds))
		runCases(t, e, []admissionCase{
			{"cluster admin", "cluster-owner", push("c", v1alpha1.ConflictSkip, secret), "no params found"},
		})
		must(t, authzpolicy.Install(ctx, e.admin, courier))
		runCases(t, e, []admissionCase{{"restored", "cluster-owner", push("c", v1alpha1.ConflictSkip, secret), ""}})
	})
}

// addKinds lists more kinds in the parameter ConfigMap, as an administrator would,
// and waits until the API server's policy machinery (which reads parameters from an
// informer) sees them.
func addKinds(t *testing.T, e env, kinds map[string]string) {
	t.Helper()
	ctx := context.Background()
	var cm corev1.ConfigMap
	must(t, e.admin.Get(ctx, types.NamespacedName{Namespace: courier, Name: authzpolicy.KindsName}, &cm))
	for k, v := range kinds {
		cm.Data[k] = v
	}
	must(t, e.admin.Update(ctx, &cm))
	probe := pull("probe", v1alpha1.ConflictSkip, netpol)
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := e.as(t, "np-writer").Create(ctx, probe.DeepCopy(), client.DryRunAll)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the API server never saw the new kinds: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestGuardAgainstAPIServer(t *testing.T) {
	cfg, httpClient := testenv.Start(t)
	scheme := courierscheme.New()
	admin, err := client.New(cfg, client.Options{Scheme: scheme})
	must(t, err)
	mapper, err := apiutil.NewDynamicRESTMapper(cfg, httpClient)
	must(t, err)
	ctx := context.Background()
	must(t, admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: courier}}))
	g := &authzpolicy.Guard{Reader: admin, Mapper: mapper, TTL: time.Nanosecond}
	secrets, netpols := schema.GroupKind{Kind: "Secret"}, schema.GroupKind{Group: "networking.k8s.io", Kind: "NetworkPolicy"}

	notInForce := func(step, want string) {
		t.Helper()
		err := g.Verify(ctx, secrets, netpols)
		if !errors.Is(err, authzpolicy.ErrNotInForce) || !strings.Contains(err.Error(), want) {
			t.Fatalf("%s: Verify = %v, want not in force because %q", step, err, want)
		}
	}
	notInForce("nothing installed", "not found")
	must(t, authzpolicy.Install(ctx, admin, courier))
	if err := g.Verify(ctx, secrets); err != nil {
		t.Fatalf("installed: %v", err)
	}
	notInForce("kind not listed", `maps kind NetworkPolicy.networking.k8s.io to "", not to its resource "networkpolicies"`)

	var cm corev1.ConfigMap
	must(t, admin.Get(ctx, types.NamespacedName{Namespace: courier, Name: authzpolicy.KindsName}, &cm))
	cm.Data["NetworkPolicy.networking.k8s.io"] = "networkpolicies"
	cm.Data["Secret"] = "configmaps" // a mapping that would check the wrong rights
	must(t, admin.Update(ctx, &cm))
	notInForce("wrong resource", `maps kind Secret to "configmaps", not to its resource "secrets"`)
	cm.Data["Secret"] = "secrets"
	must(t, admin.Update(ctx, &cm))
	if err := g.Verify(ctx, secrets, netpols); err != nil {
		t.Fatalf("mapped: %v", err)
	}

	edit := func(step, want string, mutate func(p *admissionregistrationv1.ValidatingAdmissionPolicy, b *admissionregistrationv1.ValidatingAdmissionPolicyBinding)) {
		t.Helper()
		var p admissionregistrationv1.ValidatingAdmissionPolicy
		var b admissionregistrationv1.ValidatingAdmissionPolicyBinding
		must(t, admin.Get(ctx, types.NamespacedName{Name: authzpolicy.PolicyName}, &p))
		must(t, admin.Get(ctx, types.NamespacedName{Name: authzpolicy.PolicyName}, &b))
		mutate(&p, &b)
		must(t, admin.Update(ctx, &p))
		must(t, admin.Update(ctx, &b))
		notInForce(step, want)
		must(t, authzpolicy.Install(ctx, admin, courier))
		if err := g.Verify(ctx, secrets, netpols); err != nil {
			t.Fatalf("%s, reinstalled: %v", step, err)
		}
	}
	edit("a validation dropped", "has other validations", func(p *admissionregistrationv1.ValidatingAdmissionPolicy, _ *admissionregistrationv1.ValidatingAdmissionPolicyBinding) {
		p.Spec.Validations = p.Spec.Validations[:1]
	})
	edit("fails open", "does not fail closed", func(p *admissionregistrationv1.ValidatingAdmissionPolicy, _ *admissionregistrationv1.ValidatingAdmissionPolicyBinding) {
		ignore := admissionregistrationv1.Ignore
		p.Spec.FailurePolicy = &ignore
	})
	edit("audit only", "does not deny", func(_ *admissionregistrationv1.ValidatingAdmissionPolicy, b *admissionregistrationv1.ValidatingAdmissionPolicyBinding) {
		b.Spec.ValidationActions = []admissionregistrationv1.ValidationAction{admissionregistrationv1.Audit}
	})
	edit("narrowed", "is narrowed by matchResources", func(_ *admissionregistrationv1.ValidatingAdmissionPolicy, b *admissionregistrationv1.ValidatingAdmissionPolicyBinding) {
		b.Spec.MatchResources = &admissionregistrationv1.MatchResources{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"x": "y"}}}
	})
	edit("another revision", `has revision "0"`, func(p *admissionregistrationv1.ValidatingAdmissionPolicy, _ *admissionregistrationv1.ValidatingAdmissionPolicyBinding) {
		p.Annotations[authzpolicy.RevisionAnnotation] = "0"
	})

	must(t, admin.Delete(ctx, authzpolicy.Binding(courier)))
	notInForce("binding deleted", "reading ValidatingAdmissionPolicyBinding")
	if err := admin.Delete(ctx, authzpolicy.Binding(courier)); !apierrors.IsNotFound(err) {
		t.Fatalf("binding still there: %v", err)
	}
}
