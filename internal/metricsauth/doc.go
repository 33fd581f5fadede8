// Package metricsauth protects the manager's metrics endpoint: a request must carry a
// bearer token the API server accepts (TokenReview) for a user the API server allows
// to GET the path (SubjectAccessReview on the non-resource URL, e.g. /metrics), the
// same checks as controller-runtime's metrics/filters.WithAuthenticationAndAuthorization.
//
// It exists because that filter is built on k8s.io/apiserver's delegating
// authenticator and authorizer, which link the API server's CEL, OpenTelemetry and
// gRPC stacks into the manager: 20 MB of a 55 MB binary, and about a third of the
// manager's resident memory is the executable's own pages (see docs/performance.md).
// Two review calls and a small cache do the same job.
package metricsauth
