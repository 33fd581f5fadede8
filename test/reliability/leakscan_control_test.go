package reliability

import (
	"encoding/base64"
	"strings"
	"testing"
)

// TestLeakScanFindsPlantedLeaks is the scanner's positive control: a scan that
// finds nothing proves something only if it finds what was planted. Every form of
// the marker (as is, and base64 at each of the three offsets it can have inside a
// longer value), a denied request and an empty log must each be reported; a clean
// log must not.
func TestLeakScanFindsPlantedLeaks(t *testing.T) {
	secret := "courier-leak-marker-0123456789abcdef"
	clean := `{"level":"info","msg":"child created","child":"team-a/creds"}` + "\n"
	planted := map[string]string{
		"as is":    `{"level":"debug","msg":"applying","data":"` + secret + `"}`,
		"base64 0": `{"data":{"password":"` + base64.StdEncoding.EncodeToString([]byte(secret)) + `"}}`,
		"base64 1": `{"data":{"password":"` + base64.StdEncoding.EncodeToString([]byte("x"+secret)) + `"}}`,
		"base64 2": `{"data":{"password":"` + base64.StdEncoding.EncodeToString([]byte("xy"+secret)) + `"}}`,
		"denied": `{"level":"error","error":"secrets is forbidden: User \"system:serviceaccount:` + installNamespace + ":" + managerSA +
			`\" cannot list resource \"secrets\""}`,
	}
	if got := scanLog("clean", clean, secret); len(got) != 0 {
		t.Fatalf("a clean log reported: %v", got)
	}
	for name, line := range planted {
		if got := scanLog(name, clean+line+"\n"+clean, secret); len(got) != 1 {
			t.Errorf("%s: planted, found %d problems: %v", name, len(got), got)
		}
	}
	if got := scanLog("empty", "\n", secret); len(got) != 1 || !strings.Contains(got[0], "empty") {
		t.Errorf("an empty log passed the scan: %v", got)
	}
}
