package rollout

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/internal/contenthash"
	"github.com/courier-operator/courier/internal/workloadrefs"
)

// observe reads every input of a workload from reader (the uncached API reader: the
// content of ConfigMaps and Secrets is never cached) and hashes it. Only digests
// leave this function; the objects are dropped at once.
//
// With keyed, an input the workload reads only named keys of is hashed on those
// keys alone, under its name and keys ("configmap/app:LOG_LEVEL+PORT"): switching
// keyed on or off changes the set of inputs, not their content, so it rolls
// nothing.
func observe(ctx context.Context, reader client.Reader, namespace string, refs []workloadrefs.Reference, keyed bool) (observation, error) {
	obs := observation{Digests: make(map[string]string, len(refs))}
	entries := make([]contenthash.Entry, 0, len(refs))
	for _, ref := range refs {
		key, keys := inputKey(ref, keyed)
		digest, err := digestOf(ctx, reader, types.NamespacedName{Namespace: namespace, Name: ref.Name}, ref.Kind, keys)
		if err != nil {
			return observation{}, fmt.Errorf("reading %s: %w", ref, err)
		}
		obs.Digests[key] = digest
		entries = append(entries, contenthash.Entry{Key: key, Digest: digest})
		if digest == contenthash.Absent && !ref.Optional {
			obs.MissingRequired = append(obs.MissingRequired, key)
		}
	}
	obs.Hash = contenthash.Combine(entries)
	return obs, nil
}

// inputKey is how ref is named in an observation, and the keys it is hashed on:
// with keyed, an input read by named keys only is "configmap/app:LOG_LEVEL+PORT",
// hashed on those keys; otherwise "configmap/app", hashed whole.
func inputKey(ref workloadrefs.Reference, keyed bool) (string, []string) {
	if !keyed || len(ref.Keys) == 0 {
		return ref.String(), nil
	}
	return ref.String() + ":" + strings.Join(ref.Keys, "+"), ref.Keys // keys hold neither ",", "=" nor "+"
}

// digestOf reads one input and returns the digest of its content (of keys only,
// when there are any), or Absent if it does not exist.
func digestOf(ctx context.Context, reader client.Reader, key types.NamespacedName, kind workloadrefs.Kind, keys []string) (string, error) {
	switch kind {
	case workloadrefs.ConfigMap:
		return readDigest(ctx, reader, key, &corev1.ConfigMap{}, keys, contenthash.ConfigMap, contenthash.ConfigMapKeys)
	case workloadrefs.Secret:
		return readDigest(ctx, reader, key, &corev1.Secret{}, keys, contenthash.Secret, contenthash.SecretKeys)
	default:
		return "", fmt.Errorf("unsupported input kind %q", kind)
	}
}

// readDigest reads key into obj and digests it whole, or its keys when there are any.
func readDigest[T client.Object](ctx context.Context, reader client.Reader, key types.NamespacedName, obj T, keys []string,
	whole func(T) string, keyed func(T, []string) string) (string, error) {
	if err := reader.Get(ctx, key, obj); err != nil {
		return absentIfNotFound(err)
	}
	if len(keys) > 0 {
		return keyed(obj, keys), nil
	}
	return whole(obj), nil
}

func absentIfNotFound(err error) (string, error) {
	if apierrors.IsNotFound(err) {
		return contenthash.Absent, nil
	}
	return "", err
}
