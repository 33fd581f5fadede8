package reliability

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
)

// The path between the manager and the API server, made faulty on purpose, all on
// loopback and in this process:
//
//	courier ──TCP──▶ toxiproxy (latency, resets, blackholes, half-open links)
//	        ──TLS──▶ faultProxy (HTTP: 429 and 5xx in bursts, cut bodies, expired watches)
//	        ──TLS──▶ kube-apiserver
//
// toxiproxy (github.com/Shopify/toxiproxy, embedded) handles the TCP faults. The
// HTTP faults need the requests: faultProxy terminates TLS with a certificate of its
// own (the manager's kubeconfig trusts it) and forwards to the API server, passing
// the manager's bearer token through, so RBAC still applies to the manager's own
// identity.

// faultProxy is the HTTP layer: a reverse proxy with injectable faults.
type faultProxy struct {
	upstream *url.URL
	proxy    *httputil.ReverseProxy
	server   *http.Server
	addr     string
	caPEM    []byte

	mu sync.Mutex
	// status answers the next n non-watch requests with code.
	status struct {
		code int
		left int
	}
	// cut answers the next n list requests with half of their body, then closes.
	cut int
	// expire ends the next n watches with a 410 Gone (Expired) event, as the API
	// server does when the watch's resourceVersion is too old.
	expire int

	// conns are the open client connections (dropConnections).
	conns map[net.Conn]struct{}

	// injected counts the faults served, per kind.
	injected struct{ status, cut, expire atomic.Int64 }
}

func newFaultProxy(api *rest.Config) (*faultProxy, error) {
	up, err := url.Parse(api.Host)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(api.CAData)
	f := &faultProxy{upstream: up, conns: map[net.Conn]struct{}{}}
	f.proxy = httputil.NewSingleHostReverseProxy(up)
	f.proxy.FlushInterval = -1 // watches stream
	f.proxy.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2: true}
	quiet := log.New(io.Discard, "", 0) // resets are the point; their errors are noise
	f.proxy.ErrorLog = quiet
	cert, caPEM, err := selfSigned("127.0.0.1")
	if err != nil {
		return nil, err
	}
	f.caPEM = caPEM
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f.addr = l.Addr().String()
	f.server = &http.Server{Handler: f, ReadHeaderTimeout: 10 * time.Second, ErrorLog: quiet, ConnState: f.track,
		// HTTP/2, as the API server speaks it: every request of the manager shares
		// one connection, so a reset cuts all its watches at once.
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}}
	go func() { _ = f.server.ServeTLS(l, "", "") }()
	return f, nil
}

func (f *faultProxy) close() { _ = f.server.Close() }

// track keeps the set of open connections.
func (f *faultProxy) track(c net.Conn, state http.ConnState) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch state {
	case http.StateNew:
		f.conns[c] = struct{}{}
	case http.StateClosed, http.StateHijacked:
		delete(f.conns, c)
	}
}

// dropConnections closes every open connection at once, in the middle of whatever
// it carries (watches, lists, writes).
func (f *faultProxy) dropConnections() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for c := range f.conns {
		_ = c.Close()
	}
}

// statusBurst answers the next n requests (watches excepted) with code.
func (f *faultProxy) statusBurst(code, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status.code, f.status.left = code, n
}

// cutLists cuts the body of the next n list responses in half.
func (f *faultProxy) cutLists(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cut = n
}

// expireWatches ends the next n watch requests with 410 Gone.
func (f *faultProxy) expireWatches(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.expire = n
}

// take uses up one of the faults left in counter, if any, and counts it.
func (f *faultProxy) take(counter *int, served *atomic.Int64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if *counter <= 0 {
		return false
	}
	*counter--
	served.Add(1)
	return true
}

func (f *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	watching := r.URL.Query().Get("watch") == "true"
	switch {
	case watching && f.take(&f.expire, &f.injected.expire):
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		gone := metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusFailure,
			Reason: metav1.StatusReasonExpired, Code: http.StatusGone, Message: "too old resource version (injected)"}
		_ = json.NewEncoder(w).Encode(map[string]any{"type": "ERROR", "object": gone})
		return
	case !watching:
		f.mu.Lock()
		code := f.status.code
		f.mu.Unlock()
		if f.take(&f.status.left, &f.injected.status) {
			if code == http.StatusTooManyRequests {
				w.Header().Set("Retry-After", "1")
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			_ = json.NewEncoder(w).Encode(metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
				Status: metav1.StatusFailure, Code: int32(code), Message: fmt.Sprintf("injected %d", code)})
			return
		}
		if r.Method == http.MethodGet && isList(r) && f.take(&f.cut, &f.injected.cut) {
			f.serveCut(w, r)
			return
		}
	}
	f.proxy.ServeHTTP(w, r)
}

// serveCut forwards the request and sends back half of the response, then breaks
// the connection: a list that came back partial.
func (f *faultProxy) serveCut(w http.ResponseWriter, r *http.Request) {
	rec := &capture{header: http.Header{}}
	f.proxy.ServeHTTP(rec, r)
	for k, v := range rec.header {
		if k != "Content-Length" {
			w.Header()[k] = v
		}
	}
	w.WriteHeader(rec.code)
	_, _ = w.Write(rec.body[:len(rec.body)/2])
	if fl, ok := w.(http.Flusher); ok {
		fl.Flush()
	}
	// Abort the response: HTTP/2 resets the stream, HTTP/1.1 closes the connection.
	panic(http.ErrAbortHandler)
}

// isList reports whether r lists a collection (a GET whose last path segment is a
// resource, not a name).
func isList(r *http.Request) bool {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	// /api/v1/<resource>, /api/v1/namespaces/<ns>/<resource>, /apis/<g>/<v>/... likewise
	n := len(parts)
	switch {
	case parts[0] == "api" && (n == 3 || n == 5 && parts[2] == "namespaces"):
		return true
	case parts[0] == "apis" && (n == 4 || n == 6 && parts[3] == "namespaces"):
		return true
	}
	return false
}

type capture struct {
	header http.Header
	code   int
	body   []byte
}

func (c *capture) Header() http.Header         { return c.header }
func (c *capture) WriteHeader(code int)        { c.code = code }
func (c *capture) Write(b []byte) (int, error) { c.body = append(c.body, b...); return len(b), nil }

// selfSigned returns a serving certificate for host and its (self-signed) PEM.
func selfSigned(host string) (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "fault-proxy"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP(host)}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	cert, err := tls.X509KeyPair(certPEM, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	return cert, certPEM, err
}

// tcpFaults is the TCP layer: an embedded toxiproxy in front of the fault proxy.
type tcpFaults struct {
	proxy *toxiproxy.Proxy
}

func newTCPFaults(upstream string) (*tcpFaults, error) {
	server := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.New(io.Discard))
	p := toxiproxy.NewProxy(server, "courier-apiserver", "127.0.0.1:0", upstream)
	if err := p.Start(); err != nil {
		return nil, err
	}
	return &tcpFaults{proxy: p}, nil
}

func (t *tcpFaults) addr() string { return t.proxy.Listen }

// add adds a toxic (see toxiproxy's README: latency, reset_peer, timeout...) to
// both directions.
func (t *tcpFaults) add(name, typ string, attributes map[string]any) error {
	for _, stream := range []string{"downstream", "upstream"} {
		data, _ := json.Marshal(map[string]any{"name": name + "-" + stream, "type": typ, "stream": stream, "attributes": attributes})
		if _, err := t.proxy.Toxics.AddToxicJson(strings.NewReader(string(data))); err != nil {
			return err
		}
	}
	return nil
}

func (t *tcpFaults) remove(name string) {
	for _, stream := range []string{"downstream", "upstream"} {
		_ = t.proxy.Toxics.RemoveToxic(context.Background(), name+"-"+stream)
	}
}

func (t *tcpFaults) close() { t.proxy.Stop() }
