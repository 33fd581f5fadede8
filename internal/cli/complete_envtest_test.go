package cli_test

import (
	"slices"
	"strings"
	"testing"
)

// TestCompletion asks the shell-completion entry point (what bash, zsh and fish
// call) for arguments, and checks it offers the cluster's objects.
func TestCompletion(t *testing.T) {
	fixture(t)
	offered := func(args ...string) []string {
		t.Helper()
		res := kubectlCourier(t, append([]string{"__complete"}, args...)...)
		var out []string
		for _, l := range strings.Split(res.stdout, "\n") {
			if l != "" && !strings.HasPrefix(l, ":") {
				out = append(out, strings.SplitN(l, "\t", 2)[0])
			}
		}
		return out
	}
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"status", ""}, []string{"clusterpropagation/shared-config", "clusterpropagation/registry-pull"}},
		{[]string{"status", "-n", "team-b", ""}, []string{"propagation/private-token", "propagation/bad-consent"}},
		{[]string{"why", ""}, []string{"secret/", "deployment/"}},
		{[]string{"why", "-n", "team-a", "deployment/"}, []string{"deployment/web", "deployment/paused", "deployment/plain"}},
		{[]string{"why", "-n", "team-b", "secret/"}, []string{"secret/registry-pull"}},
	} {
		got := offered(c.args...)
		for _, w := range c.want {
			if !slices.Contains(got, w) {
				t.Errorf("completing %q: %v does not offer %s", c.args, got, w)
			}
		}
	}
}
