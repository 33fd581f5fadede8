package copies

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
)

// Secret types whose keys the API server checks (k8s.io/api/core/v1 names them;
// spelled out here so this package needs no typed API).
const (
	secretTypeDockercfg        = "kubernetes.io/dockercfg"
	secretTypeDockerConfigJSON = "kubernetes.io/dockerconfigjson"
	secretTypeBasicAuth        = "kubernetes.io/basic-auth"
	secretTypeSSHAuth          = "kubernetes.io/ssh-auth"
	secretTypeTLS              = "kubernetes.io/tls"
)

// checkSecretTypeOverride checks a template's Secret type before anything is
// built: it only applies to Secrets, and never to the types Refuse keeps from
// being sources, because writing one would mint what Courier refuses to copy.
func checkSecretTypeOverride(typ string, isSecret bool) error {
	switch {
	case !isSecret:
		return templateErrorf(ReasonInvalidTemplate, "the copy template sets Secret type %s, but the source is not a Secret", typ)
	case typ == SecretTypeServiceAccountToken:
		return templateErrorf(ReasonSecretTypeRefused, "Courier never writes Secrets of type %s", typ)
	case typ == SecretTypeHelmRelease:
		return templateErrorf(ReasonSecretTypeRefused, "Courier never writes Helm release Secrets (type %s)", typ)
	}
	return nil
}

// checkSecretFits reports (ReasonSecretTypeMismatch) when the copy's keys do not
// fit typ the way the API server's ValidateSecret checks a Secret on create, so
// the propagation says which key is missing instead of relaying a write error.
// Like the API server it reads data after stringData is written over it. Messages
// name the type and keys only: unlike the API server's, they never quote a JSON
// parser's error, which can contain bytes of the value.
func checkSecretFits(obj map[string]any, typ string) error {
	var problems []string
	switch typ {
	case secretTypeDockercfg, secretTypeDockerConfigJSON:
		key := ".dockercfg"
		if typ == secretTypeDockerConfigJSON {
			key = ".dockerconfigjson"
		}
		v, present, decoded := secretValue(obj, key)
		switch {
		case !present:
			problems = append(problems, fmt.Sprintf("key %s is missing", key))
		case !decoded:
			problems = append(problems, fmt.Sprintf("key %s is not valid base64", key))
		case json.Unmarshal(v, &map[string]any{}) != nil: // the API server's own test
			problems = append(problems, fmt.Sprintf("key %s does not hold a JSON object", key))
		}
	case secretTypeBasicAuth:
		// Either may be empty, but one must be there.
		_, user, _ := secretValue(obj, "username")
		_, pass, _ := secretValue(obj, "password")
		if !user && !pass {
			problems = append(problems, "key username or password is missing")
		}
	case secretTypeSSHAuth:
		v, present, decoded := secretValue(obj, "ssh-privatekey")
		switch {
		case !present:
			problems = append(problems, "key ssh-privatekey is missing")
		case !decoded:
			problems = append(problems, "key ssh-privatekey is not valid base64")
		case len(v) == 0:
			problems = append(problems, "key ssh-privatekey is empty")
		}
	case secretTypeTLS:
		for _, key := range []string{"tls.crt", "tls.key"} {
			if _, present, _ := secretValue(obj, key); !present {
				problems = append(problems, fmt.Sprintf("key %s is missing", key))
			}
		}
	}
	// Opaque, "" and types the API server does not know need nothing.
	if len(problems) > 0 {
		return templateErrorf(ReasonSecretTypeMismatch, "the copy does not fit Secret type %s: %s", typ, strings.Join(problems, "; "))
	}
	return nil
}

// secretValue returns the bytes of a Secret key as the API server will store
// them: stringData (plain text) wins over data (base64). present says whether
// the key exists; decoded whether its value could be read.
func secretValue(obj map[string]any, key string) (value []byte, present, decoded bool) {
	if m, ok := obj["stringData"].(map[string]any); ok {
		if v, ok := m[key]; ok {
			s, isString := v.(string)
			return []byte(s), true, isString
		}
	}
	m, _ := obj["data"].(map[string]any)
	v, ok := m[key]
	if !ok {
		return nil, false, false
	}
	s, isString := v.(string)
	if !isString {
		return nil, true, false
	}
	b, err := base64.StdEncoding.DecodeString(s)
	return b, true, err == nil
}
