package copies

import "fmt"

// Reasons of a *TemplateError, CamelCase for conditions, events and
// status.failures. They are part of Courier's reporting contract (the v1beta1 API
// names KeyConflict and SecretTypeMismatch), so they are exported constants.
const (
	// ReasonInvalidTemplate: the template contradicts itself or does not apply to
	// the source's kind (for example a Secret type on a ConfigMap, or key rules
	// together with IncludeKeys).
	ReasonInvalidTemplate = "InvalidTemplate"
	// ReasonKeyConflict: a rename gives a key a name the copy already has.
	ReasonKeyConflict = "KeyConflict"
	// ReasonSecretTypeMismatch: the copy's keys do not fit its Secret type the way
	// the API server checks them.
	ReasonSecretTypeMismatch = "SecretTypeMismatch"
	// ReasonSecretTypeRefused: the template asks for a Secret type Courier never
	// writes (service-account tokens, Helm release records).
	ReasonSecretTypeRefused = "SecretTypeRefused"
	// ReasonInvalidCopyName: the copy's name (with prefix and suffix) is not a
	// name the API server accepts for the kind.
	ReasonInvalidCopyName = "InvalidCopyName"
	// ReasonCopyIsSource: the copy would have its source's namespace and name, so
	// writing it would overwrite the source.
	ReasonCopyIsSource = "CopyIsSource"
)

// TemplateError says why a template cannot make a copy of a source. It is a
// separate type from *RefusedError on purpose: a refusal is about the source alone
// (it is never propagated, whatever the template, and callers drop it before
// building), while a TemplateError is about this template applied to this source,
// so callers report it for the copy and keep building the others. errors.As tells
// the two apart.
type TemplateError struct {
	// Reason is one of the Reason constants.
	Reason string
	// Message explains the error. It names keys, types and names, never any part
	// of the object's data, because it ends up in status and events.
	Message string
}

func (e *TemplateError) Error() string { return e.Message }

func templateErrorf(reason, format string, args ...any) *TemplateError {
	return &TemplateError{Reason: reason, Message: fmt.Sprintf(format, args...)}
}
