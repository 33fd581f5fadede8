package cli

import (
	"fmt"
	"io"

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

// unreadable collects what the caller's permissions do not let a command read: the
// API server's refusals, each naming the missing permission.
type unreadable []string

// note records err if it is a refusal, and reports whether it was.
func (u *unreadable) note(err error) bool {
	msg, ok := denied(err)
	if ok {
		*u = append(*u, msg)
	}
	return ok
}

// warn writes each refusal to w as a warning; failing to write one changes nothing.
func (u unreadable) warn(w io.Writer) {
	for _, msg := range u {
		_, _ = fmt.Fprintf(w, "warning: left out, not readable with your permissions: %s\n", msg)
	}
}
