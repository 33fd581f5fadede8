package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/courier-operator/courier/controllers/rollout"
)

// printAnswer writes a: its sentences, one per line, or the whole answer as JSON
// or YAML.
func printAnswer(out io.Writer, format string, a whyAnswer) error {
	if done, err := printData(out, format, a); done {
		return err
	}
	_, err := fmt.Fprintln(out, strings.Join(a.Answer, "\n"))
	return err
}

// workloadSentences says in sentences what the rollout controller makes of x.
func workloadSentences(x rollout.Explanation) []string {
	var out []string
	say := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	subject := x.Kind + " " + x.Namespace + "/" + x.Name
	switch {
	case !x.OptedIn:
		say("%s is not opted in to rollout on change: label it %s=true (opting in rolls nothing).", subject, rollout.LabelOptIn)
		return out
	case x.TemplateIn != "":
		say("%s takes its pod template from %s: opt %s in instead; this one is left alone.", subject, x.TemplateIn, x.TemplateIn)
		return out
	}
	if len(x.Inputs) == 0 {
		say("%s is opted in and consumes no ConfigMap or Secret: no change can roll it.", subject)
	} else {
		say("%s is opted in and consumes %d input(s): %s.", subject, len(x.Inputs), inputList(x.Inputs))
	}
	if len(x.Problems) > 0 {
		say("Ignored annotation entries (fix them; the valid ones count): %s.", strings.Join(x.Problems, "; "))
	}
	if len(x.Missing) > 0 {
		say("Required input(s) missing: %s; a change does not roll it until they exist (pods could not start).", strings.Join(x.Missing, ", "))
	}
	switch {
	case x.AppliedHash == "":
		say("Courier has not recorded its inputs yet: the first look records them and rolls nothing.")
	case x.LastRollout != nil:
		say("Courier recorded input hash %s and last rolled it at %s.", x.AppliedHash, x.LastRollout.UTC().Format(time.RFC3339))
	default:
		say("Courier recorded input hash %s and has not rolled it since it opted in.", x.AppliedHash)
	}
	changed := strings.Join(x.Changed, ", ")
	since := ""
	if x.Pending != nil {
		since = " since " + x.Pending.Since.UTC().Format(time.RFC3339)
	}
	switch x.Action {
	case "wait":
		say("A change of %s is pending%s: it rolls once no input has changed for the coalescing window (%s).", changed, since, x.Waiting)
	case "paused":
		say("A change of %s is pending%s and rollouts are paused: it rolls once when %s is removed (%s).", changed, since, rollout.AnnotationPaused, x.Waiting)
	case "scheduled":
		at := "no window of its schedule ever opens"
		if x.RollsAt != nil {
			at = "its schedule lets it roll at " + x.RollsAt.UTC().Format(time.RFC3339)
		}
		say("A change of %s is pending%s: %s (%s).", changed, since, at, x.Waiting)
	case "hold":
		say("A change of %s waits for the missing input(s), and rolls once when they exist (%s).", changed, x.Waiting)
	case "rollout":
		if x.Waiting != "" {
			say("A change of %s is due, and as many workloads as --rollout-max-concurrent allows are rolling: it rolls when a slot is free (%s).", changed, x.Waiting)
		} else {
			say("A change of %s is due: the controller rolls it now.", changed)
		}
	case "rebaseline":
		say("Its set of inputs changed but no content did: the controller records the new set and rolls nothing.")
	case "already-rolled":
		say("Its template already carries the new hash: the controller records it and rolls nothing more.")
	case "none":
		say("Nothing is pending. %s", nextChange(x))
	}
	return out
}

// nextChange says what the next content change of an input does.
func nextChange(x rollout.Explanation) string {
	s := "The next content change of one of its inputs rolls it once, after the coalescing window"
	if x.Windows != "" {
		s += ", inside its windows (" + x.Windows + ")"
	}
	if x.MinInterval != "" {
		s += ", at least " + x.MinInterval + " after the last rollout"
	}
	if x.Paused {
		s += "; its rollouts are paused, so it waits until " + rollout.AnnotationPaused + " is removed"
	}
	return s + "."
}

// inputList names inputs with the keys read and whether they exist.
func inputList(ins []rollout.Input) string {
	names := make([]string, 0, len(ins))
	for _, in := range ins {
		n := in.Ref
		if len(in.Keys) > 0 {
			n += " (keys " + strings.Join(in.Keys, ", ") + ")"
		}
		switch {
		case !in.Exists && in.Optional:
			n += " (optional, absent)"
		case !in.Exists:
			n += " (missing)"
		}
		names = append(names, n)
	}
	return strings.Join(names, ", ")
}
