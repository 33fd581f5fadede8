package cli

import (
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// denied reports whether err is the API server refusing the caller, with its
// message: the server names the user, the verb, the resource and the scope
// ("User "dev" cannot list resource "clusterpropagations" in API group
// "courier.dev" at the cluster scope"), which is the permission to ask for.
func denied(err error) (string, bool) {
	if apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) {
		return err.Error(), true
	}
	return "", false
}
