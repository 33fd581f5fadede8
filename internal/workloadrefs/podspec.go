package workloadrefs

import (
	corev1 "k8s.io/api/core/v1"
)

// collector accumulates references; a reference stays optional only while every
// mention of it is optional, and keyed only while every mention reads named keys.
type collector map[Ref]*mention

// mention is what the mentions of one reference so far say.
type mention struct {
	optional bool
	// keys are the keys read, while no mention reads the whole object (whole).
	keys  map[string]bool
	whole bool
}

// add records a mention of kind/name reading keys (none: the whole object).
func (c collector) add(kind Kind, name string, optional *bool, keys ...string) {
	if name == "" {
		return // an invalid template; the API server rejects it, nothing to watch
	}
	r := Ref{Kind: kind, Name: name}
	opt := optional != nil && *optional
	m, ok := c[r]
	if !ok {
		m = &mention{optional: opt, keys: map[string]bool{}}
		c[r] = m
	}
	m.optional = m.optional && opt
	if len(keys) == 0 {
		m.whole = true
	}
	for _, k := range keys {
		m.keys[k] = true
	}
}

// addRequired adds a reference that is required whatever other mentions say, and
// read as a whole (the extra-refs annotation names objects, not keys).
func (c collector) addRequired(r Ref) {
	c.add(r.Kind, r.Name, nil)
}

// addPodSpec adds every ConfigMap and Secret the pod spec consumes: env and envFrom of
// containers, init containers (sidecars included, they are init containers with
// restartPolicy Always) and ephemeral containers, and configMap, secret and projected
// volumes.
func (c collector) addPodSpec(spec *corev1.PodSpec) {
	if spec == nil {
		return
	}
	for i := range spec.InitContainers {
		c.addContainer(spec.InitContainers[i].Env, spec.InitContainers[i].EnvFrom)
	}
	for i := range spec.Containers {
		c.addContainer(spec.Containers[i].Env, spec.Containers[i].EnvFrom)
	}
	for i := range spec.EphemeralContainers {
		c.addContainer(spec.EphemeralContainers[i].Env, spec.EphemeralContainers[i].EnvFrom)
	}
	for i := range spec.Volumes {
		c.addVolume(&spec.Volumes[i].VolumeSource)
	}
}

func (c collector) addContainer(env []corev1.EnvVar, envFrom []corev1.EnvFromSource) {
	for _, e := range env {
		if e.ValueFrom == nil {
			continue
		}
		if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
			c.add(ConfigMap, r.Name, r.Optional, r.Key)
		}
		if r := e.ValueFrom.SecretKeyRef; r != nil {
			c.add(Secret, r.Name, r.Optional, r.Key)
		}
	}
	for _, e := range envFrom {
		if r := e.ConfigMapRef; r != nil {
			c.add(ConfigMap, r.Name, r.Optional)
		}
		if r := e.SecretRef; r != nil {
			c.add(Secret, r.Name, r.Optional)
		}
	}
}

func (c collector) addVolume(v *corev1.VolumeSource) {
	if v.ConfigMap != nil {
		c.add(ConfigMap, v.ConfigMap.Name, v.ConfigMap.Optional, itemKeys(v.ConfigMap.Items)...)
	}
	if v.Secret != nil {
		c.add(Secret, v.Secret.SecretName, v.Secret.Optional, itemKeys(v.Secret.Items)...)
	}
	if v.Projected == nil {
		return
	}
	for _, src := range v.Projected.Sources {
		if src.ConfigMap != nil {
			c.add(ConfigMap, src.ConfigMap.Name, src.ConfigMap.Optional, itemKeys(src.ConfigMap.Items)...)
		}
		if src.Secret != nil {
			c.add(Secret, src.Secret.Name, src.Secret.Optional, itemKeys(src.Secret.Items)...)
		}
	}
}

// itemKeys are the keys a volume's items project: none (the whole object) without
// items.
func itemKeys(items []corev1.KeyToPath) []string {
	keys := make([]string, len(items))
	for i, it := range items {
		keys[i] = it.Key
	}
	return keys
}
