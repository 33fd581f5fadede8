package localcluster

import (
	"context"
	"crypto/tls"
	_ "embed"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
)

// kwokStages are kwok's fast node/pod lifecycle stages: nodes become Ready and keep
// a lease, pods become Running/Ready at once, complete, and delete.
//
//go:embed kwok-stages.yaml
var kwokStages string

const (
	// ServiceCIDR is the cluster's service IP range; the apiserver's first IP is
	// in the serving certificate.
	ServiceCIDR = "10.0.0.0/24"
	// NodeName is the fake node kwok manages.
	NodeName = "kwok-node-0"
	// kwokNodeAnnotation marks nodes kwok manages.
	kwokNodeAnnotation = "kwok.x-k8s.io/node"
)

// startControlPlane writes PKI and kubeconfigs, starts every component and waits for
// the fake node to be Ready and the default ServiceAccount to exist.
func (c *Cluster) startControlPlane(ctx context.Context) error {
	p, err := newPKI(c.path("pki"))
	if err != nil {
		return err
	}
	c.pki = p
	ports, err := freePorts(6)
	if err != nil {
		return err
	}
	etcdClient, etcdPeer, api, kcm, sched, kwokSrv := ports[0], ports[1], ports[2], ports[3], ports[4], ports[5]
	c.apiPort = api
	server := "https://" + hostPort(api)

	serving, err := p.serving("apiserver", "127.0.0.1", "10.0.0.1", "localhost",
		"kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local")
	if err != nil {
		return err
	}
	kubeconfigs := map[string][]string{ // file -> CN, groups
		"admin":                   {"kubernetes-admin", "system:masters"},
		"kube-controller-manager": {"system:kube-controller-manager"},
		"kube-scheduler":          {"system:kube-scheduler"},
		// kwok writes node and pod status and node leases for every fake node.
		"kwok": {"kwok", "system:masters"},
	}
	for name, id := range kubeconfigs {
		kp, err := p.client(name+"-client", id[0], id[1:]...)
		if err != nil {
			return err
		}
		if err := writeKubeconfig(c.path(name+".kubeconfig"), server, p.CA().Cert, kp); err != nil {
			return err
		}
	}
	c.kubeconfig = c.path("admin.kubeconfig")
	if err := c.loadRESTConfig(); err != nil {
		return err
	}

	etcdURL := "http://" + hostPort(etcdClient)
	peerURL := "http://" + hostPort(etcdPeer)
	if err := c.run(c.newProcess(Etcd,
		"--name=localcluster", "--data-dir="+c.path("etcd"),
		"--listen-client-urls="+etcdURL, "--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=localcluster="+peerURL,
		"--unsafe-no-fsync", "--log-level=warn",
	)); err != nil {
		return err
	}
	if err := waitHTTP(ctx, "etcd", etcdURL+"/health", nil, c.procs[0]); err != nil {
		return err
	}

	c.api = c.newProcess(KubeAPIServer,
		"--etcd-servers="+etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", api),
		"--tls-cert-file="+serving.Cert, "--tls-private-key-file="+serving.Key,
		"--client-ca-file="+p.CA().Cert,
		"--authorization-mode=RBAC,Node",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+p.path("sa.pub"),
		"--service-account-signing-key-file="+p.path("sa.key"),
		"--service-cluster-ip-range="+ServiceCIDR,
		// Endpoint reconciliation publishes the advertise address as the kubernetes
		// Service endpoint, which is rejected for loopback addresses.
		"--endpoint-reconciler-type=none",
		"--enable-admission-plugins=NamespaceLifecycle,ServiceAccount,ResourceQuota,NodeRestriction",
		"--allow-privileged=true",
		"--profiling=false",
	)
	if err := c.run(c.api); err != nil {
		return err
	}
	if err := c.waitAPIServer(ctx); err != nil {
		return err
	}

	kcmKubeconfig := c.path("kube-controller-manager.kubeconfig")
	schedKubeconfig := c.path("kube-scheduler.kubeconfig")
	kwokConfig := c.path("kwok.yaml")
	if err := os.WriteFile(kwokConfig, []byte(kwokStages), 0o600); err != nil {
		return err
	}
	components := []*process{
		c.newProcess(KubeControllerManager,
			"--kubeconfig="+kcmKubeconfig,
			"--authentication-kubeconfig="+kcmKubeconfig, "--authorization-kubeconfig="+kcmKubeconfig,
			"--bind-address=127.0.0.1", fmt.Sprintf("--secure-port=%d", kcm), "--cert-dir="+c.path("kcm"),
			"--controllers=*", "--use-service-account-credentials=true",
			"--service-account-private-key-file="+p.path("sa.key"),
			"--root-ca-file="+p.CA().Cert,
			"--cluster-signing-cert-file="+p.CA().Cert, "--cluster-signing-key-file="+p.CA().Key,
			"--service-cluster-ip-range="+ServiceCIDR,
			"--leader-elect=false", "--profiling=false",
		),
		c.newProcess(KubeScheduler,
			"--kubeconfig="+schedKubeconfig,
			"--authentication-kubeconfig="+schedKubeconfig, "--authorization-kubeconfig="+schedKubeconfig,
			"--bind-address=127.0.0.1", fmt.Sprintf("--secure-port=%d", sched), "--cert-dir="+c.path("scheduler"),
			"--leader-elect=false", "--profiling=false",
		),
		c.newProcess(Kwok,
			"--kubeconfig="+c.path("kwok.kubeconfig"),
			"--config="+kwokConfig,
			"--manage-all-nodes=false",
			"--manage-nodes-with-annotation-selector="+kwokNodeAnnotation+"=fake",
			"--cidr=10.244.0.0/16", "--node-ip=10.1.0.1",
			"--node-lease-duration-seconds=40",
			"--server-address="+hostPort(kwokSrv),
		),
	}
	for _, p := range components {
		if err := c.run(p); err != nil {
			return err
		}
	}
	insecure := &tls.Config{InsecureSkipVerify: true} //nolint:gosec // self-signed health endpoints on loopback
	if err := waitHTTP(ctx, KubeControllerManager, fmt.Sprintf("https://%s/healthz", hostPort(kcm)), insecure, components[0]); err != nil {
		return err
	}
	if err := waitHTTP(ctx, KubeScheduler, fmt.Sprintf("https://%s/healthz", hostPort(sched)), insecure, components[1]); err != nil {
		return err
	}
	if err := c.createFakeNode(ctx); err != nil {
		return err
	}
	return c.waitNodeReady(ctx, components[2])
}

// waitAPIServer polls /readyz with admin credentials until it answers ok.
func (c *Cluster) waitAPIServer(ctx context.Context) error {
	cs, err := c.clientset()
	if err != nil {
		return err
	}
	var last string
	err = wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		if done, perr := c.api.exited(); done {
			return false, c.api.exitError(perr)
		}
		body, err := cs.RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		last = fmt.Sprint(err)
		return err == nil && strings.TrimSpace(string(body)) == "ok", nil
	})
	if err != nil {
		return fmt.Errorf("kube-apiserver not ready (last: %s): %w\n%s", last, err, c.api.tail(2000))
	}
	return nil
}

// createFakeNode registers the node kwok manages. No taints, so any pod (OLM's
// deployments included) schedules onto it.
func (c *Cluster) createFakeNode(ctx context.Context) error {
	cs, err := c.clientset()
	if err != nil {
		return err
	}
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        NodeName,
			Annotations: map[string]string{kwokNodeAnnotation: "fake", "node.alpha.kubernetes.io/ttl": "0"},
			Labels: map[string]string{
				"kubernetes.io/hostname": NodeName, "kubernetes.io/os": "linux",
				"kubernetes.io/arch": "amd64", "type": "kwok",
			},
		},
		Status: corev1.NodeStatus{
			Capacity: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse("64"), corev1.ResourceMemory: resource.MustParse("256Gi"),
				corev1.ResourcePods: resource.MustParse("500"),
			},
			Allocatable: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse("64"), corev1.ResourceMemory: resource.MustParse("256Gi"),
				corev1.ResourcePods: resource.MustParse("500"),
			},
		},
	}
	_, err = cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// waitNodeReady waits for kwok to mark the fake node Ready and for
// kube-controller-manager to create the default ServiceAccount, without which no
// pod can be created.
func (c *Cluster) waitNodeReady(ctx context.Context, kwok *process) error {
	cs, err := c.clientset()
	if err != nil {
		return err
	}
	err = wait.PollUntilContextCancel(ctx, 50*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		if done, perr := kwok.exited(); done {
			return false, kwok.exitError(perr)
		}
		n, err := cs.CoreV1().Nodes().Get(ctx, NodeName, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		ready := false
		for _, cond := range n.Status.Conditions {
			if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
				ready = true
			}
		}
		if !ready {
			return false, nil
		}
		_, err = cs.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	})
	if err != nil {
		return fmt.Errorf("node %s not Ready: %w\nkwok log:\n%s", NodeName, err, kwok.tail(2000))
	}
	return nil
}

// waitHTTP polls url until it answers 200, failing early if p exits.
func waitHTTP(ctx context.Context, name, url string, tlsConfig *tls.Config, p *process) error {
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsConfig}}
	defer client.CloseIdleConnections()
	err := wait.PollUntilContextCancel(ctx, 50*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		if done, perr := p.exited(); done {
			return false, p.exitError(perr)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return false, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return false, nil
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil {
		return fmt.Errorf("%s not healthy at %s: %w\n%s", name, url, err, p.tail(2000))
	}
	return nil
}
