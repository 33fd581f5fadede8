// Package nsscope holds the namespaces a namespaced install of Courier is limited
// to (--watch-namespaces): the only namespaces its caches and watches read, its
// propagations target and its rollouts touch. The zero Scope is every namespace,
// the cluster-wide install.
package nsscope
