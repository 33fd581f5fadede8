// Package consent parses the annotations a source's owner sets to share it with
// other namespaces (courier.dev/share-with-namespaces and
// courier.dev/share-with-namespace-selector) and decides whether a given namespace
// may pull the source. It is pure: the caller supplies the annotations and the
// pulling namespace's name and labels.
package consent
