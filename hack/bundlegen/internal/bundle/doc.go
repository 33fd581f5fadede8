// Package bundle assembles Courier's OLM bundle (registry+v1) from what config/
// produces: the CSV base, the CRDs, the manager Deployment, the RBAC bound to its
// ServiceAccount, the other cluster objects, the samples and the scorecard
// configuration. The result is a set of files keyed by their path in the bundle
// directory, so a generator can write them and a test can compare them with the
// committed bundle byte for byte.
package bundle
