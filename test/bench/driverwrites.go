package bench

import (
	"net/http"
	"strings"
	"sync"
)

// driverWrites counts the driver's own requests (writes and reads) by verb and
// resource, spelled the way apiserver_request_total spells them, so they can be
// subtracted from the API server's counts.
type driverWrites struct {
	mu     sync.Mutex
	counts writeCounts
}

func newDriverWrites() *driverWrites { return &driverWrites{counts: writeCounts{}} }

func (d *driverWrites) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := rt.RoundTrip(req)
		// Count only requests the API server answered: one that never reached it is
		// not in its metrics either.
		if err == nil {
			if k, ok := classify(req); ok {
				d.mu.Lock()
				d.counts[k]++
				d.mu.Unlock()
			}
		}
		return resp, err
	})
}

// snapshot returns the counts of the verbs in verbs (mutatingVerbs, readVerbs).
func (d *driverWrites) snapshot(verbs map[string]bool) writeCounts {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(writeCounts, len(d.counts))
	for k, v := range d.counts {
		if verbs[k.Verb] {
			out[k] = v
		}
	}
	return out
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// classify maps a request to its apiserver_request_total key.
func classify(req *http.Request) (writeKey, bool) {
	verb := req.Method
	switch verb {
	case http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodGet:
	case http.MethodPatch:
		// Exactly what the API server's CleanVerb checks.
		if req.Header.Get("Content-Type") == "application/apply-patch+yaml" {
			verb = "APPLY"
		}
	default:
		return writeKey{}, false
	}
	segs := strings.Split(strings.Trim(req.URL.Path, "/"), "/")
	switch {
	case len(segs) >= 2 && segs[0] == "api":
		segs = segs[2:]
	case len(segs) >= 3 && segs[0] == "apis":
		segs = segs[3:]
	default:
		return writeKey{}, false
	}
	// namespaces/<ns>/<resource>[/<name>[/<sub>]] versus <resource>[/<name>[/<sub>]]
	if len(segs) >= 3 && segs[0] == "namespaces" && segs[2] != "status" && segs[2] != "finalize" {
		segs = segs[2:]
	}
	if len(segs) == 0 {
		return writeKey{}, false
	}
	k := writeKey{Verb: verb, Resource: segs[0]}
	if len(segs) >= 3 {
		k.Subresource = segs[2]
	}
	if verb == http.MethodGet && len(segs) == 1 {
		// A collection: the API server's CleanVerb says LIST, or WATCH.
		k.Verb = "LIST"
		if req.URL.Query().Get("watch") == "true" || req.URL.Query().Get("watch") == "1" {
			k.Verb = "WATCH"
		}
	}
	if strings.HasSuffix(k.Resource, "reviews") || apiServerOwn[k.Resource] {
		return writeKey{}, false
	}
	return k, true
}
