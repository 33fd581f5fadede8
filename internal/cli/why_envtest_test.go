package cli_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/courier-operator/courier/internal/cli"
)

// whyJSON is `why -o json` as a script reads it.
type whyJSON struct {
	Object string
	Exists bool
	Copy   *struct {
		Owner, Source, Reason string
		InSync                bool
	}
	Propagations []struct{ Propagation, Source, Reason string }
	Workload     *struct{ Action, Waiting string }
	Unreadable   []string
	Answer       []string
}

// TestWhy asks about every kind of object the fixture holds: copies, objects
// that are not copies, missing copies for each reason a propagation makes none,
// and workloads. The table output of all of them is one golden file, so a
// reader sees every answer in one place (docs/cli.md shows the same).
func TestWhy(t *testing.T) {
	fixture(t)
	cases := []struct {
		args []string
		// check is a fact of the JSON answer.
		check func(whyJSON) bool
	}{
		{[]string{"secret/metrics-token", "-n", "team-a"}, func(w whyJSON) bool {
			return w.Copy != nil && w.Copy.Owner == "Propagation/team-a/metrics-token" && w.Copy.Source == "platform/metrics-token" && w.Copy.InSync
		}},
		{[]string{"cm/shared-config", "-n", "team-b"}, func(w whyJSON) bool {
			return w.Copy != nil && w.Copy.Owner == "ClusterPropagation/shared-config" && w.Copy.InSync
		}},
		{[]string{"secret/registry-pull", "-n", "team-b"}, func(w whyJSON) bool {
			return w.Exists && w.Copy == nil && reason(w, "ClusterPropagation/registry-pull", "reports Unmanaged")
		}},
		{[]string{"secret/registry-pull", "-n", "platform"}, func(w whyJSON) bool {
			return w.Exists && reason(w, "ClusterPropagation/registry-pull", "the source's own namespace")
		}},
		{[]string{"secret/registry-pull", "-n", "other"}, func(w whyJSON) bool {
			return !w.Exists && reason(w, "ClusterPropagation/registry-pull", "labels do not match targets.namespaceSelector (team=true)")
		}},
		{[]string{"secret/registry-pull", "-n", "kube-public"}, func(w whyJSON) bool {
			return reason(w, "ClusterPropagation/registry-pull", "--excluded-namespaces")
		}},
		{[]string{"configmap/ca", "-n", "team-b"}, func(w whyJSON) bool {
			return reason(w, "ClusterPropagation/ca-bundle", "matches targets.excludeNamespaces (team-b)")
		}},
		{[]string{"configmap/ca", "-n", "other"}, func(w whyJSON) bool {
			return reason(w, "ClusterPropagation/ca-bundle", "matches none of targets.namespaces (team-*)")
		}},
		{[]string{"secret/private-token", "-n", "team-b"}, func(w whyJSON) bool {
			return reason(w, "Propagation/team-b/private-token", "carries neither the courier.dev/share-with-namespaces nor")
		}},
		{[]string{"secret/bad-consent", "-n", "team-b"}, func(w whyJSON) bool {
			return reason(w, "Propagation/team-b/bad-consent", "courier.dev/share-with-namespace-selector")
		}},
		{[]string{"secret/nothing", "-n", "team-a"}, func(w whyJSON) bool {
			return !w.Exists && len(w.Propagations) == 0 && strings.HasPrefix(w.Answer[1], "No propagation copies a Secret named nothing")
		}},
		{[]string{"secret/registry-pull", "-n", "team-a", "--as", "dev"}, func(w whyJSON) bool {
			return len(w.Unreadable) > 0 && w.Copy != nil && w.Copy.Reason == "OwnerUnreadable"
		}},
		{[]string{"deployment/paused", "-n", "team-a"}, func(w whyJSON) bool {
			return w.Workload != nil && w.Workload.Action == "paused" && w.Workload.Waiting == "Paused"
		}},
		{[]string{"deploy/worker", "-n", "team-a"}, func(w whyJSON) bool {
			return w.Workload != nil && w.Workload.Action == "none"
		}},
		{[]string{"statefulset/nightly", "-n", "team-a"}, func(w whyJSON) bool {
			return w.Workload != nil && w.Workload.Waiting == "OutsideSchedule"
		}},
		{[]string{"deployment/plain", "-n", "team-a"}, func(w whyJSON) bool {
			return w.Workload != nil && w.Workload.Action == ""
		}},
	}
	var all strings.Builder
	for _, c := range cases {
		res := kubectlCourier(t, append([]string{"why"}, c.args...)...)
		if res.code != cli.ExitOK {
			t.Errorf("why %v: exit code %d: %s", c.args, res.code, res.stderr)
		}
		all.WriteString("$ kubectl courier why " + strings.Join(c.args, " ") + "\n" + res.stdout + "\n")

		js := kubectlCourier(t, append([]string{"why", "-o", "json"}, c.args...)...)
		var w whyJSON
		if err := json.Unmarshal([]byte(js.stdout), &w); err != nil {
			t.Errorf("why %v -o json: %v\n%s", c.args, err, js.stdout)
			continue
		}
		if !c.check(w) {
			t.Errorf("why %v: the answer misses its fact:\n%s", c.args, js.stdout)
		}
		if strings.Contains(js.stdout, "platform-token") || strings.Contains(js.stdout, "hand-made") {
			t.Errorf("why %v prints content:\n%s", c.args, js.stdout)
		}
	}
	golden(t, "why", all.String())

	for _, c := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"why"}, cli.ExitUsage, "want one KIND/NAME argument"},
		{[]string{"why", "nosuchkind/x"}, cli.ExitUsage, `"nosuchkind" is not a kind this cluster serves`},
	} {
		res := kubectlCourier(t, c.args...)
		if res.code != c.code || !strings.Contains(res.stderr, c.stderr) {
			t.Errorf("%v: exit code %d, stderr %q; want %d and %q", c.args, res.code, res.stderr, c.code, c.stderr)
		}
	}
}

// reason reports whether the answer gives propagation p a reason containing want.
func reason(w whyJSON, p, want string) bool {
	for _, c := range w.Propagations {
		if c.Propagation == p && strings.Contains(c.Reason, want) {
			return true
		}
	}
	return false
}
