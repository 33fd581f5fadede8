// Package framework is the end-to-end suite's toolkit: it builds file-based
// catalogs with embedded bundle content (from the repository's bundle/ and
// catalog/, or a throwaway test bundle), drives OLM (subscriptions, CSVs,
// upgrades), and runs the operator binary as a local process authenticated as the
// ServiceAccount OLM created for it.
package framework
