package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/cli-runtime/pkg/printers"
	"sigs.k8s.io/yaml"
)

// printStatus writes r as format (table, wide, json, yaml). ns is the namespace
// shown ("" for all), now the clock the ages are measured against.
func printStatus(out io.Writer, format, ns string, r statusReport, now time.Time) error {
	if done, err := printData(out, format, r); done {
		return err
	}
	wide := format == "wide"
	if len(r.ClusterPropagations)+len(r.Propagations)+len(r.Workloads) == 0 {
		where := "namespace " + ns
		if ns == "" {
			where = "any namespace"
		}
		_, err := fmt.Fprintf(out, "No propagations or opted-in workloads found in %s.\n", where)
		return err
	}
	var sections []func(*tableWriter)
	if len(r.ClusterPropagations) > 0 {
		sections = append(sections, func(t *tableWriter) { propagationTable(t, r.ClusterPropagations, false, wide, now) })
	}
	if len(r.Propagations) > 0 {
		sections = append(sections, func(t *tableWriter) { propagationTable(t, r.Propagations, true, wide, now) })
	}
	if failing := failingTargets(r); len(failing) > 0 {
		sections = append(sections, func(t *tableWriter) {
			t.row("FAILING TARGET", "OF", "REASON", "MESSAGE")
			for _, f := range failing {
				t.row(f...)
			}
		})
	}
	if len(r.Workloads) > 0 {
		sections = append(sections, func(t *tableWriter) { workloadTable(t, r.Workloads, wide, now) })
	}
	for i, s := range sections {
		if i > 0 {
			if _, err := fmt.Fprintln(out); err != nil {
				return err
			}
		}
		t := &tableWriter{w: printers.GetNewTabWriter(out)}
		s(t)
		if err := t.w.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// printData writes v as JSON or YAML when format asks for one, and reports
// whether it did.
func printData(out io.Writer, format string, v any) (bool, error) {
	var b []byte
	var err error
	switch format {
	case "json":
		b, err = json.MarshalIndent(v, "", "  ")
		b = append(b, '\n')
	case "yaml":
		b, err = yaml.Marshal(v)
	default:
		return false, nil
	}
	if err != nil {
		return true, err
	}
	_, err = out.Write(b)
	return true, err
}

// tableWriter writes tab-separated rows through kubectl's own tab writer.
type tableWriter struct {
	w interface {
		io.Writer
		Flush() error
	}
}

// row writes one row; a write error shows at Flush, which buffers every row.
func (t *tableWriter) row(cells ...string) { _, _ = fmt.Fprintln(t.w, strings.Join(cells, "\t")) }

func propagationTable(t *tableWriter, ps []propagationStatus, namespaced, wide bool, now time.Time) {
	head := []string{strings.ToUpper(ps[0].Kind), "READY", "DESIRED", "SYNCED", "CONFLICTING", "FAILED", "REASON"}
	if namespaced {
		head = append([]string{"NAMESPACE"}, head...)
	}
	if wide {
		head = append(head, "LAST SYNC", "MESSAGE")
	}
	t.row(head...)
	for _, p := range ps {
		cells := []string{p.Name, p.Ready, itoa(p.Desired), itoa(p.Synced), itoa(p.Conflicting), itoa(p.Failed), p.Reason}
		if namespaced {
			cells = append([]string{p.Namespace}, cells...)
		}
		if wide {
			last := "-"
			if p.LastSync != nil {
				last = age(p.LastSync.Time, now) + " ago"
			}
			cells = append(cells, last, p.Message)
		}
		t.row(cells...)
	}
}

// failingTargets are the rows of the failing-targets table: each failure the
// propagations report, with whose it is.
func failingTargets(r statusReport) [][]string {
	var rows [][]string
	for _, p := range slices.Concat(r.ClusterPropagations, r.Propagations) {
		of := p.Kind + "/" + p.Name
		if p.Namespace != "" {
			of = p.Kind + "/" + p.Namespace + "/" + p.Name
		}
		for _, f := range p.Failures {
			rows = append(rows, []string{f.Namespace + "/" + f.Name, of, f.Reason, f.Message})
		}
	}
	return rows
}

func workloadTable(t *tableWriter, ws []workloadStatus, wide bool, now time.Time) {
	head := []string{"NAMESPACE", "WORKLOAD", "READY", "INPUTS", "APPLIED", "PENDING", "STATE"}
	if wide {
		head = append(head, "LAST ROLLOUT", "INPUT NAMES")
	}
	t.row(head...)
	for _, w := range ws {
		applied, pending := dash(w.AppliedHash), "-"
		if w.Pending != nil {
			pending = w.Pending.Hash + " (" + age(w.Pending.Since, now) + ")"
		}
		ready := "True"
		if !w.Ready {
			ready = "False"
		}
		cells := []string{w.Namespace, w.Kind + "/" + w.Name, ready, fmt.Sprint(len(w.Inputs)), applied, pending, workloadState(w, wide)}
		if wide {
			last := "-"
			if w.LastRollout != nil {
				last = age(*w.LastRollout, now) + " ago"
			}
			cells = append(cells, last, inputNames(w))
		}
		t.row(cells...)
	}
}

// workloadState says in a reason and a few words what the rollout controller does
// with w; wide names invalid annotation entries in full.
func workloadState(w workloadStatus, wide bool) string {
	switch {
	case w.Error != "":
		return "Error: " + w.Error
	case w.TemplateIn != "":
		return "TemplateElsewhere: opt " + w.TemplateIn + " in instead"
	case len(w.Problems) > 0 && wide:
		return "InvalidAnnotation: " + strings.Join(w.Problems, "; ")
	case len(w.Problems) > 0:
		return fmt.Sprintf("InvalidAnnotation: %d invalid entries ignored (-o wide names them)", len(w.Problems))
	}
	changed := strings.Join(w.Changed, ",") + " changed"
	switch w.Action {
	case "hold":
		return "MissingInput: " + strings.Join(w.Missing, ",") + "; " + changed + ", rolls once it exists"
	case "wait":
		return "CoalescingChanges: " + changed
	case "paused":
		return "Paused: " + changed + ", rolls once when unpaused"
	case "scheduled":
		if w.RollsAt == nil {
			return "OutsideSchedule: " + changed + ", no window ever opens"
		}
		return "OutsideSchedule: " + changed + ", rolls at " + w.RollsAt.UTC().Format(time.RFC3339)
	case "rollout", "already-rolled":
		if w.Waiting != "" {
			return w.Waiting + ": " + changed + ", waits for a slot under --rollout-max-concurrent"
		}
		return "RollingOut: " + changed
	case "baseline", "rebaseline":
		return "NotSeenYet: the controller records its inputs first (rolls nothing)"
	}
	if len(w.Missing) > 0 {
		return "MissingInput: " + strings.Join(w.Missing, ",")
	}
	return "UpToDate"
}

// inputNames lists w's inputs, marking the missing ones.
func inputNames(w workloadStatus) string {
	names := make([]string, 0, len(w.Inputs))
	for _, in := range w.Inputs {
		n := in.Ref
		if len(in.Keys) > 0 {
			n += "[" + strings.Join(in.Keys, ",") + "]"
		}
		if !in.Exists {
			n += "(missing)"
		}
		names = append(names, n)
	}
	return dash(strings.Join(names, ","))
}

func age(t, now time.Time) string { return duration.HumanDuration(now.Sub(t)) }

func itoa(n int32) string { return fmt.Sprint(n) }

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
