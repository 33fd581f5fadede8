package propagation

import (
	"github.com/courier-operator/courier/api/v1alpha1"
)

// view is what the shared engine needs from either kind of propagation.
type view struct {
	// ownerLabel/ownerName stamp and select the copies.
	ownerLabel, ownerName string
	// namespace is the Propagation's namespace ("" for ClusterPropagation).
	namespace      string
	sources        []v1alpha1.SourceReference
	template       *v1alpha1.CopyTemplate
	conflictPolicy v1alpha1.ConflictPolicy
	deletionPolicy v1alpha1.DeletionPolicy
	status         *v1alpha1.PropagationStatus
	// metricName identifies the propagation in metrics.
	metricName string
}

func clusterView(p *v1alpha1.ClusterPropagation) view {
	return view{
		ownerLabel: v1alpha1.LabelClusterPropagation, ownerName: p.Name,
		sources: p.Spec.Sources, template: p.Spec.Template,
		conflictPolicy: p.Spec.ConflictPolicy, deletionPolicy: p.Spec.DeletionPolicy,
		status: &p.Status, metricName: "cluster/" + p.Name,
	}
}

func namespacedView(p *v1alpha1.Propagation) view {
	return view{
		ownerLabel: v1alpha1.LabelPropagation, ownerName: p.Name, namespace: p.Namespace,
		sources: p.Spec.Sources, template: p.Spec.Template,
		conflictPolicy: p.Spec.ConflictPolicy, deletionPolicy: p.Spec.DeletionPolicy,
		status: &p.Status, metricName: p.Namespace + "/" + p.Name,
	}
}

// ownership returns the labels that mark (and select) this propagation's copies.
func (v view) ownership() map[string]string {
	return map[string]string{v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue, v.ownerLabel: v.ownerName}
}
