// Package authzpolicy holds the admission policy that stops a propagation from
// borrowing Courier's rights: what a user may not do directly, Courier does not do
// for them.
//
// Courier's ServiceAccount may write every Secret and ConfigMap in the cluster. A
// ValidatingAdmissionPolicy (Policy, bound by Binding) makes the API server check, on
// every create and every spec change of a Propagation or ClusterPropagation, that the
// requesting user holds the rights the propagation will exercise:
//
//   - create the copies' kind where they land (the Propagation's namespace; for a
//     ClusterPropagation every namespace, since its targets may include namespaces
//     created later);
//   - for a ClusterPropagation, read (get) the sources' kind in every namespace;
//   - for conflictPolicy Adopt or Overwrite, which take over objects Courier did not
//     create (and delete them with the propagation), update and delete that kind
//     there too;
//   - for RBAC kinds, escalate (Roles) and bind (RoleBindings), as RBAC itself would
//     ask of the user.
//
// The policy runs inside the API server: no webhook, no certificate, nothing that can
// be down. It needs the kind's resource name, which CEL cannot look up, so the
// kinds Courier may propagate are listed in a parameter ConfigMap (Kinds): a kind
// that is not listed is refused at admission.
//
// Guard is the manager's side: Courier never takes over an unmanaged object
// (Adopt, Overwrite) unless the policy, its binding and the kind's entry in the
// parameter ConfigMap are in force as shipped (fail closed). Install creates them
// (the OLM bundle cannot carry admission policies, so there the manager installs
// them itself, with --install-admission-policy).
//
// config/admission is rendered from this package (make manifests) for kustomize and
// the Helm chart; a test fails when it drifts.
package authzpolicy
