package workloadrefs

import (
	corev1 "k8s.io/api/core/v1"
)

// collector accumulates references; a reference stays optional only while every
// mention of it is optional.
type collector map[Ref]bool // value: optional

func (c collector) add(kind Kind, name string, optional *bool) {
	if name == "" {
		return // an invalid template; the API server rejects it, nothing to watch
	}
	r := Ref{Kind: kind, Name: name}
	opt := optional != nil && *optional
	if prev, ok := c[r]; ok {
		c[r] = prev && opt
		return
	}
	c[r] = opt
}

// addRequired adds a reference that is required whatever other mentions say.
func (c collector) addRequired(r Ref) { c[r] = false }

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
			c.add(ConfigMap, r.Name, r.Optional)
		}
		if r := e.ValueFrom.SecretKeyRef; r != nil {
			c.add(Secret, r.Name, r.Optional)
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
		c.add(ConfigMap, v.ConfigMap.Name, v.ConfigMap.Optional)
	}
	if v.Secret != nil {
		c.add(Secret, v.Secret.SecretName, v.Secret.Optional)
	}
	if v.Projected == nil {
		return
	}
	for _, src := range v.Projected.Sources {
		if src.ConfigMap != nil {
			c.add(ConfigMap, src.ConfigMap.Name, src.ConfigMap.Optional)
		}
		if src.Secret != nil {
			c.add(Secret, src.Secret.Name, src.Secret.Optional)
		}
	}
}
