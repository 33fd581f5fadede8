package rollout

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/internal/schedule"
)

// policyFor is the rollout policy of obj: the options', with the workload's own
// windows and minimum interval where its annotations set them. As with the
// reference annotations, invalid entries are ignored (and returned, to be
// reported): the valid windows still count, and a value with none valid, or an
// invalid interval, leaves the option in force.
func (r *syncer) policyFor(obj client.Object) (policy, error) {
	p := policy{Window: r.opts.Window, MaxDelay: r.opts.MaxDelay, Windows: r.opts.Windows, MinInterval: r.opts.MinInterval}
	ann := obj.GetAnnotations()
	var errs []error
	if v, ok := ann[AnnotationWindows]; ok {
		switch ws, err := schedule.ParseWindows(v); {
		case strings.TrimSpace(v) == "*":
			p.Windows = nil
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: %w", AnnotationWindows, err))
			if len(ws) > 0 {
				p.Windows = ws
			}
		default:
			p.Windows = ws
		}
	}
	if v, ok := ann[AnnotationMinInterval]; ok {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil || d < 0 {
			errs = append(errs, fmt.Errorf("%s: %q is not a duration such as 30m or 2h", AnnotationMinInterval, v))
		} else {
			p.MinInterval = d
		}
	}
	return p, errors.Join(errs...)
}
