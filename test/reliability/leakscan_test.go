package reliability

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/courier-operator/courier/api/v1alpha1"
)

// leakForms returns the strings whose presence means the secret s leaked: s itself
// and its base64 at each of the three alignments it can have inside a longer value
// (the characters of a base64 rendering depend on the offset modulo 3; only the
// whole 3-byte groups inside s are stable, so those are what is searched).
func leakForms(s string) []string {
	forms := []string{s}
	for k := 0; k < 3; k++ {
		n := (len(s) - k) / 3 * 3
		forms = append(forms, base64.StdEncoding.EncodeToString([]byte(s[k:k+n])))
	}
	return forms
}

// findLeak returns a description of the first leak form of secret found in text.
func findLeak(what, text, secret string) string {
	figures.leakScanBytes.Add(int64(len(text)))
	for _, f := range leakForms(secret) {
		if i := strings.Index(text, f); i >= 0 {
			lo, hi := max(0, i-200), min(len(text), i+len(f)+200)
			return fmt.Sprintf("%s contains %q (a form of the secret marker) at %d: ...%s...", what, f, i, text[lo:hi])
		}
	}
	return ""
}

// scanManagerLogs fails when the debug log of any manager process the suite ran
// contains the suite's marker, or shows the API server denying the manager a
// request: running with exactly config/rbac, Courier must never be refused (it
// checks access to optional kinds with SelfSubjectAccessReviews instead). A log
// that cannot be read, or is empty, fails too: there would be nothing to scan.
func scanManagerLogs() {
	managersMu.Lock()
	ms := append([]*manager(nil), managers...)
	managersMu.Unlock()
	for _, m := range ms {
		log, err := os.ReadFile(m.logPath)
		if err != nil {
			anyFailed = true
			Fail(fmt.Sprintf("reading the log of %s: %v", m.name, err))
		}
		if problems := scanLog(m.name, string(log), marker); len(problems) > 0 {
			anyFailed = true
			Fail(strings.Join(problems, "\n"))
		}
	}
}

// scanLog returns what is wrong with one manager's log: empty, a form of the
// secret in it, or a request the API server denied the manager (outside API
// server restarts).
func scanLog(name, log, secret string) []string {
	if strings.TrimSpace(log) == "" {
		return []string{"the log of " + name + " is empty: nothing was scanned"}
	}
	var problems []string
	if leak := findLeak("log of "+name, log, secret); leak != "" {
		problems = append(problems, leak)
	}
	denied := "is forbidden: User \"system:serviceaccount:" + installNamespace + ":" + managerSA + "\""
	for _, line := range strings.Split(log, "\n") {
		if !strings.Contains(strings.ReplaceAll(line, `\"`, `"`), denied) || duringAPIRestart(line) {
			continue
		}
		problems = append(problems, fmt.Sprintf("%s was denied a request by its RBAC (config/rbac):\n%s", name, line[:min(len(line), 600)]))
	}
	return problems
}

// apiRestarts are the periods around API server restarts: a freshly started API
// server denies requests until its RBAC authorizer has synced, which is not a
// missing permission.
var apiRestarts []struct{ from, to time.Time }

var klogTime = regexp.MustCompile(`^[IWE](\d{4} \d{2}:\d{2}:\d{2})`)
var jsonTime = regexp.MustCompile(`"ts":"([^"]+)"`)

// duringAPIRestart reports whether a log line was written during an API server
// restart.
func duringAPIRestart(line string) bool {
	var ts time.Time
	if m := jsonTime.FindStringSubmatch(line); m != nil {
		ts, _ = time.Parse(time.RFC3339Nano, m[1])
	} else if m := klogTime.FindStringSubmatch(line); m != nil {
		t, err := time.Parse("0102 15:04:05", m[1])
		if err == nil {
			now := time.Now().UTC()
			ts = time.Date(now.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.UTC)
		}
	}
	for _, w := range apiRestarts {
		if !ts.Before(w.from) && !ts.After(w.to) {
			return true
		}
	}
	return false
}

// emitted returns everything Courier wrote that users can read besides copies:
// Events (both APIs, all namespaces) and the status of every propagation.
func emitted(ctx context.Context) map[string]string {
	out := map[string]string{}
	if l, err := kube.EventsV1().Events("").List(ctx, metav1.ListOptions{}); err == nil {
		b, _ := json.Marshal(l)
		out["events.k8s.io events"] = string(b)
	}
	if l, err := kube.CoreV1().Events("").List(ctx, metav1.ListOptions{}); err == nil {
		b, _ := json.Marshal(l)
		out["core events"] = string(b)
	}
	var cps v1alpha1.ClusterPropagationList
	if admin.List(ctx, &cps) == nil {
		for _, p := range cps.Items {
			b, _ := json.Marshal(p.Status)
			out["status of ClusterPropagation "+p.Name] = string(b)
		}
	}
	var ps v1alpha1.PropagationList
	if admin.List(ctx, &ps) == nil {
		for _, p := range ps.Items {
			b, _ := json.Marshal(p.Status)
			out["status of Propagation "+p.Namespace+"/"+p.Name] = string(b)
		}
	}
	return out
}
