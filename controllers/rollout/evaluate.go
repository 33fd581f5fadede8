package rollout

import (
	"context"
	"errors"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/internal/workloadrefs"
)

// evaluation is one look at a workload: its inputs as they are now, the state stored
// on it, and what the rollout policy decides from them. The controller acts on it
// (syncWorkload); kubectl-courier reports it (Explain). Both go through evaluate, so
// what the CLI says is what the controller does.
type evaluation struct {
	// refs are the inputs the workload consumes.
	refs []workloadrefs.Reference
	// obs is what was read of them (digests only).
	obs observation
	// placement is where a rollout of the workload writes.
	placement placement
	// cur is the state stored on the workload.
	cur record
	// policy is when the workload's changes roll.
	policy policy
	// decision is what the policy decides now.
	decision decision
	// problems are the workload's invalid annotations (references, schedule,
	// strategy), one error per entry; the valid parts still count.
	problems error
}

// evaluate reads obj's inputs through reader and decides, at now, what the rollout
// policy does with obj.
func evaluate[T client.Object](ctx context.Context, r *syncer, k workloadKind[T], obj T, reader client.Reader, now time.Time) (evaluation, error) {
	refs, annErr := k.inputs(obj)
	obs, err := observe(ctx, reader, obj.GetNamespace(), refs, onKeys(obj))
	if err != nil {
		return evaluation{}, err
	}
	p, policyErr := r.policyFor(obj)
	pl, placementErr := k.placementOf(obj)
	cur := readRecord(obj.GetAnnotations(), pl.markers(obj, k.template(obj)))
	return evaluation{
		refs: refs, obs: obs, placement: pl, cur: cur, policy: p,
		decision: decide(cur, obs, paused(obj), now, p),
		problems: errors.Join(annErr, policyErr, placementErr),
	}, nil
}
