// Package catalog edits and checks the upgrade graph of Courier's file-based
// catalog (catalog/courier-operator/channels.yaml): adding a version makes it the
// new head of its channels, replacing the previous head and skipping every older
// version through olm.skipRange, so each channel stays one linear chain with a
// single head, no cycle and no stranded bundle.
package catalog
