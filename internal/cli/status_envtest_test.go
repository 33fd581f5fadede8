package cli_test

import (
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/internal/cli"
)

// statusJSON is `status -o json` as a script reads it.
type statusJSON struct {
	Ready               bool `json:"ready"`
	ClusterPropagations []struct {
		Name, Ready, Reason                  string
		Desired, Synced, Conflicting, Failed int32
		Failures                             []struct{ Namespace, Name, Reason string }
	} `json:"clusterPropagations"`
	Propagations []struct {
		Namespace, Name, Ready string
		Synced                 int32
	} `json:"propagations"`
	Workloads []struct {
		Kind, Namespace, Name string
		Ready                 bool
		AppliedHash           string
		Action, Waiting       string
		Changed, Missing      []string
		Problems              []string
		RollsAt               *time.Time
		Pending               *struct{ Hash string }
		Inputs                []struct {
			Ref    string
			Keys   []string
			Exists bool
		}
	} `json:"workloads"`
	Unreadable []string `json:"unreadable"`
}

func readStatus(t *testing.T, args ...string) (statusJSON, result) {
	t.Helper()
	res := kubectlCourier(t, append([]string{"status", "-o", "json"}, args...)...)
	var s statusJSON
	if err := json.Unmarshal([]byte(res.stdout), &s); err != nil {
		t.Fatalf("status -o json: %v\nstdout: %s\nstderr: %s", err, res.stdout, res.stderr)
	}
	return s, res
}

// fixture creates testdata/cluster.yaml, waits for the controllers to reconcile
// it, creates testdata/workloads.yaml, waits for every workload's baseline, then
// changes what the paused and the nightly workload read and waits for both changes
// to wait. It runs once per process and returns the weekday of the closed window.
func fixture(t *testing.T) string {
	t.Helper()
	fixtureOnce.Do(func() { closedDay = makeFixture(t) })
	if closedDay == "" {
		t.Fatal("the fixture could not be made (see the first test that tried)")
	}
	return closedDay
}

var (
	fixtureOnce sync.Once
	closedDay   string
)

func makeFixture(t *testing.T) string {
	apply(t, "testdata/cluster.yaml", nil)
	eventually(t, "the propagations reconciled", func() (bool, string) {
		s, res := readStatus(t, "-A")
		reasons := map[string]string{}
		for _, p := range s.ClusterPropagations {
			reasons["ClusterPropagation/"+p.Name] = p.Reason
		}
		for _, p := range s.Propagations {
			reasons["Propagation/"+p.Namespace+"/"+p.Name] = p.Ready
		}
		ok := len(reasons) == 6 && reasons["Propagation/team-a/metrics-token"] == "True" && reasons["ClusterPropagation/registry-pull"] == "ChildConflict"
		for _, r := range reasons {
			ok = ok && r != "NotReconciled" && r != "Unknown"
		}
		return ok, res.stdout
	})
	closed := time.Now().UTC().Add(48 * time.Hour).Weekday().String()[:3]
	apply(t, "testdata/workloads.yaml", strings.NewReplacer("CLOSED_DAY", closed))
	eventually(t, "every workload baselined", func() (bool, string) {
		s, res := readStatus(t, "-A")
		for _, w := range s.Workloads {
			if w.AppliedHash == "" {
				return false, res.stdout
			}
		}
		return len(s.Workloads) == 6, res.stdout
	})

	// Change what the paused and the nightly workload read: both changes wait.
	var settings corev1.ConfigMap
	must(t, admin.Get(t.Context(), client.ObjectKey{Namespace: "team-a", Name: "app-settings"}, &settings))
	settings.Data["mode"] = "green"
	must(t, admin.Update(t.Context(), &settings))
	eventually(t, "the paused and the nightly change wait", func() (bool, string) {
		s, res := readStatus(t, "-A")
		actions := map[string]string{}
		for _, w := range s.Workloads {
			actions[w.Name] = w.Action
		}
		return actions["paused"] == "paused" && actions["nightly"] == "scheduled", res.stdout
	})

	return closed
}

// TestStatus runs `status` against propagations and workloads in every state the
// controllers report, made by the controllers themselves.
func TestStatus(t *testing.T) {
	closed := fixture(t)
	t.Run("table, all namespaces", func(t *testing.T) {
		res := kubectlCourier(t, "status", "-A")
		if res.code != cli.ExitNotReady {
			t.Errorf("exit code %d, want %d (not Ready): %s", res.code, cli.ExitNotReady, res.stderr)
		}
		golden(t, "status-all", res.stdout)
	})
	t.Run("wide", func(t *testing.T) {
		res := kubectlCourier(t, "status", "-A", "-o", "wide")
		golden(t, "status-all-wide", res.stdout)
	})
	t.Run("json", func(t *testing.T) {
		s, res := readStatus(t, "-A")
		if s.Ready || res.code != cli.ExitNotReady {
			t.Errorf("ready %v, exit code %d; want false, %d", s.Ready, res.code, cli.ExitNotReady)
		}
		cp := map[string]int{}
		for i, p := range s.ClusterPropagations {
			cp[p.Name] = i
		}
		shared, pull := s.ClusterPropagations[cp["shared-config"]], s.ClusterPropagations[cp["registry-pull"]]
		if shared.Ready != "True" || shared.Desired != 2 || shared.Synced != 2 {
			t.Errorf("shared-config: %+v; want Ready True, 2 desired, 2 synced", shared)
		}
		if pull.Conflicting != 1 || len(pull.Failures) != 1 || pull.Failures[0].Namespace != "team-b" || pull.Failures[0].Reason != "Unmanaged" {
			t.Errorf("registry-pull: %+v; want one conflict in team-b", pull)
		}
		want := map[string]struct {
			ready           bool
			action, waiting string
			missing         []string
			problems        int
		}{
			"web":     {ready: true, action: "none"},
			"worker":  {action: "none", missing: []string{"secret/db-password"}},
			"paused":  {ready: true, action: "paused", waiting: "Paused"},
			"nightly": {ready: true, action: "scheduled", waiting: "OutsideSchedule"},
			"agent":   {action: "none", problems: 1},
			"report":  {ready: true, action: "none"},
		}
		for _, w := range s.Workloads {
			exp := want[w.Name]
			if w.Ready != exp.ready || w.Action != exp.action || w.Waiting != exp.waiting ||
				strings.Join(w.Missing, ",") != strings.Join(exp.missing, ",") || len(w.Problems) != exp.problems {
				t.Errorf("%s/%s: ready %v, action %q, waiting %q, missing %v, problems %v; want %+v",
					w.Kind, w.Name, w.Ready, w.Action, w.Waiting, w.Missing, w.Problems, exp)
			}
			if w.Waiting != "" && (w.Pending == nil || strings.Join(w.Changed, ",") != "configmap/app-settings") {
				t.Errorf("%s: pending %+v, changed %v; want a pending change of configmap/app-settings", w.Name, w.Pending, w.Changed)
			}
			if w.Name == "nightly" && (w.RollsAt == nil || w.RollsAt.UTC().Weekday().String()[:3] != closed) {
				t.Errorf("nightly rolls at %v; want the next %s", w.RollsAt, closed)
			}
		}
		if data, _ := json.Marshal(s); strings.Contains(string(data), "platform-token") || strings.Contains(string(data), "green") {
			t.Errorf("status output carries content: %s", data)
		}
	})
	t.Run("one namespace, the app team's own permissions", func(t *testing.T) {
		res := kubectlCourier(t, "status", "-n", "team-a", "--as", "dev")
		if res.code != cli.ExitNotReady {
			t.Errorf("exit code %d, want %d", res.code, cli.ExitNotReady)
		}
		golden(t, "status-team-a-dev", res.stdout)
		if !strings.Contains(res.stderr, `User "dev" cannot list resource "clusterpropagations" in API group "courier.dev" at the cluster scope`) {
			t.Errorf("stderr does not name the missing permission:\n%s", res.stderr)
		}
	})
	t.Run("one propagation, Ready", func(t *testing.T) {
		res := kubectlCourier(t, "status", "cprop/shared-config")
		if res.code != cli.ExitOK {
			t.Errorf("exit code %d, want 0: %s", res.code, res.stderr)
		}
		golden(t, "status-shared-config", res.stdout)
	})
	t.Run("errors", func(t *testing.T) {
		for _, c := range []struct {
			args   []string
			code   int
			stderr string
		}{
			{[]string{"status", "cprop/nope"}, cli.ExitError, `ClusterPropagation "nope" not found`},
			{[]string{"status", "deployment/web"}, cli.ExitUsage, `want clusterpropagation/NAME or propagation/NAME`},
			{[]string{"status", "-o", "xml"}, cli.ExitUsage, `--output "xml": want table, wide, json or yaml`},
			{[]string{"status", "--no-such-flag"}, cli.ExitUsage, `unknown flag: --no-such-flag`},
			{[]string{"status", "--rollout-kind", "nonsense"}, cli.ExitUsage, `--rollout-kind`},
		} {
			res := kubectlCourier(t, c.args...)
			if res.code != c.code || !strings.Contains(res.stderr, c.stderr) {
				t.Errorf("%v: exit code %d, stderr %q; want %d and %q", c.args, res.code, res.stderr, c.code, c.stderr)
			}
		}
	})
}

// apply creates every object of a manifest file as the admin, with r's
// replacements (nil: none).
func apply(t *testing.T, path string, r *strings.Replacer) {
	t.Helper()
	data, err := os.ReadFile(path)
	must(t, err)
	text := string(data)
	if r != nil {
		text = r.Replace(text)
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(text), 4096)
	for {
		var u unstructured.Unstructured
		if err := dec.Decode(&u.Object); err != nil {
			if err.Error() == "EOF" {
				return
			}
			t.Fatal(err)
		}
		if len(u.Object) == 0 {
			continue
		}
		must(t, admin.Create(t.Context(), &u))
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
