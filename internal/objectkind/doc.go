// Package objectkind declares a Kubernetes kind by its Go types (or, for a kind with
// none, by its GroupVersionKind, read as unstructured objects): an empty object, an
// empty list and the objects of a list, which controllers need for every kind they
// watch, index or list, and would otherwise write as three closures per kind.
package objectkind
