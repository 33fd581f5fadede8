package reliability

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// vulnDB returns the vulnerability database govulncheck would use.
func vulnDB() string {
	if db := os.Getenv("GOVULNDB"); db != "" {
		return db
	}
	return "https://vuln.go.dev"
}

// vulnDBReachable checks the database's index: a file:// database must exist, an
// http(s) one must answer.
func vulnDBReachable(db string) error {
	u, err := url.Parse(db)
	if err != nil {
		return err
	}
	if u.Scheme == "file" {
		_, err := os.Stat(filepath.Join(u.Path, "index", "db.json"))
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, strings.TrimSuffix(db, "/")+"/index/db.json", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", db, resp.Status)
	}
	return nil
}

// TestGovulncheck runs the pinned govulncheck (hack/tools/vuln) over the module when
// the vulnerability database is reachable. Without it the test is skipped, loudly:
// it never reports a pass it did not earn.
func TestGovulncheck(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIP govulncheck: -short")
	}
	db := vulnDB()
	if err := vulnDBReachable(db); err != nil {
		msg := fmt.Sprintf("SKIP govulncheck: vulnerability database %s unreachable (%v); run `make vulncheck` where it is reachable, or set GOVULNDB to a local copy", db, err)
		fmt.Println(msg)
		t.Skip(msg)
	}
	cmd := exec.Command("go", "-C", filepath.Join(repoRoot, "hack", "tools", "vuln"), "tool", "govulncheck", "-db", db, "-C", repoRoot, "./...")
	out, err := cmd.CombinedOutput()
	t.Logf("govulncheck -db %s ./...:\n%s", db, out)
	if err != nil {
		t.Fatalf("govulncheck found vulnerabilities or failed: %v", err)
	}
}
