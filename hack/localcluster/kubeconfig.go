package localcluster

import (
	"os"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// writeKubeconfig writes a kubeconfig for server authenticated with the client
// certificate kp, trusting the cluster CA. Certificates are embedded so the file
// stands alone.
func writeKubeconfig(path, server, caFile string, kp keyPair) error {
	ca, err := os.ReadFile(caFile)
	if err != nil {
		return err
	}
	crt, err := os.ReadFile(kp.Cert)
	if err != nil {
		return err
	}
	key, err := os.ReadFile(kp.Key)
	if err != nil {
		return err
	}
	return clientcmd.WriteToFile(*kubeconfigFor(server, ca, &clientcmdapi.AuthInfo{
		ClientCertificateData: crt, ClientKeyData: key,
	}), path)
}

// BearerTokenKubeconfig returns a kubeconfig for cfg's server and CA that
// authenticates with token — for a process that must act as a ServiceAccount.
func BearerTokenKubeconfig(cfg *rest.Config, token string) ([]byte, error) {
	return clientcmd.Write(*kubeconfigFor(cfg.Host, cfg.CAData, &clientcmdapi.AuthInfo{Token: token}))
}

func kubeconfigFor(server string, ca []byte, user *clientcmdapi.AuthInfo) *clientcmdapi.Config {
	const name = "localcluster"
	c := clientcmdapi.NewConfig()
	c.Clusters[name] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: ca}
	c.AuthInfos[name] = user
	c.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name, Namespace: "default"}
	c.CurrentContext = name
	return c
}
