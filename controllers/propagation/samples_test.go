package propagation

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/courier-operator/courier/test/testenv"
)

// The samples in config/samples are applied as a user would (every resource listed
// in their kustomization), and must produce the copies they promise.
var _ = Describe("config/samples", func() {
	ctx := context.Background()

	It("apply cleanly and show propagation working", func() {
		dir := filepath.Join(testenv.RepoRoot(), "config", "samples")
		raw, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
		Expect(err).NotTo(HaveOccurred())
		var k struct {
			Resources []string `json:"resources"`
		}
		Expect(yaml.Unmarshal(raw, &k)).To(Succeed())
		Expect(k.Resources).NotTo(BeEmpty())
		for _, f := range k.Resources {
			data, err := os.ReadFile(filepath.Join(dir, f))
			Expect(err).NotTo(HaveOccurred())
			r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
			for {
				doc, err := r.Read()
				if errors.Is(err, io.EOF) {
					break
				}
				Expect(err).NotTo(HaveOccurred())
				if len(bytes.TrimSpace(doc)) == 0 {
					continue
				}
				u := &unstructured.Unstructured{}
				Expect(yaml.Unmarshal(doc, &u.Object)).To(Succeed())
				Expect(admin.Create(ctx, u)).To(Succeed(), "creating %s %s from %s", u.GetKind(), u.GetName(), f)
			}
		}

		for _, ns := range []string{"courier-demo-team-a", "courier-demo-team-b"} {
			Eventually(secretData(ctx, ns, "registry-pull")).Should(HaveKey(".dockerconfigjson"))
			Eventually(func() map[string]string {
				var cm corev1.ConfigMap
				if !exists(ctx, &cm, ns, "trusted-ca")() {
					return nil
				}
				return cm.Data
			}).Should(HaveKey("ca.crt"))
		}
		Eventually(secretData(ctx, "courier-demo-team-a", "metrics-token")).Should(HaveKeyWithValue("token", "example-token"))
		Consistently(exists(ctx, &corev1.Secret{}, "courier-demo-team-b", "metrics-token")).Should(BeFalse(), "team-b has no Propagation")
	})
})
