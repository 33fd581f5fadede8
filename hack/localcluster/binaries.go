package localcluster

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// Binary names the cluster runs.
const (
	Etcd                  = "etcd"
	KubeAPIServer         = "kube-apiserver"
	KubeControllerManager = "kube-controller-manager"
	KubeScheduler         = "kube-scheduler"
	Kubectl               = "kubectl"
	Kwok                  = "kwok"
	Opm                   = "opm"
	OLM                   = "olm"
	Catalog               = "catalog"
)

var (
	controlPlaneBins = []string{Etcd, KubeAPIServer, Kubectl, KubeControllerManager, KubeScheduler}
	olmBins          = []string{Opm, OLM, Catalog}
)

// findBinaries returns the path of every binary the cluster needs. Each one is
// looked up in binDir first (when set); the rest come from the repository's
// hack/control-plane-bins.sh and hack/olm-bins.sh, which build once and cache.
func findBinaries(ctx context.Context, root, binDir string, withOLM bool, log io.Writer) (map[string]string, error) {
	want := map[string][]string{
		"hack/control-plane-bins.sh": controlPlaneBins,
		"hack/olm-bins.sh":           {Kwok},
	}
	if withOLM {
		want["hack/olm-bins.sh"] = append([]string{Kwok}, olmBins...)
	}
	found := map[string]string{}
	for _, script := range []string{"hack/control-plane-bins.sh", "hack/olm-bins.sh"} {
		var missing []string
		for _, b := range want[script] {
			if p := filepath.Join(binDir, b); binDir != "" && isExecutable(p) {
				found[b] = p
				continue
			}
			missing = append(missing, b)
		}
		if len(missing) == 0 {
			continue
		}
		if root == "" {
			return nil, fmt.Errorf("binaries %v not in BinDir and no repository root to build them", missing)
		}
		cmd := exec.CommandContext(ctx, filepath.Join(root, script), missing...)
		cmd.Dir = root
		cmd.Stderr = log
		var out bytes.Buffer
		cmd.Stdout = &out
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("%s %s: %w", script, strings.Join(missing, " "), err)
		}
		dirs := strings.Fields(out.String())
		for i, b := range missing {
			// control-plane-bins.sh prints one directory for all; olm-bins.sh one per tool.
			d := dirs[len(dirs)-1]
			if len(dirs) == len(missing) {
				d = dirs[i]
			}
			p := filepath.Join(d, b)
			if !isExecutable(p) {
				return nil, fmt.Errorf("%s did not produce %s", script, p)
			}
			found[b] = p
		}
	}
	return found, nil
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// repoRoot finds the repository holding hack/control-plane-bins.sh: upwards from
// the working directory, else from this source file's location.
func repoRoot() string {
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			if isExecutable(filepath.Join(d, "hack", "control-plane-bins.sh")) {
				return d
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		d := filepath.Join(filepath.Dir(file), "..", "..")
		if isExecutable(filepath.Join(d, "hack", "control-plane-bins.sh")) {
			return d
		}
	}
	return ""
}
