// Package markers reads the Operator SDK CSV markers
// (`+operator-sdk:csv:customresourcedefinitions:...`) from the API types' source and
// turns them into the owned-CRD descriptions of a ClusterServiceVersion: display
// name, description, resources, and a spec or status descriptor for every marked
// field, with the JSON path the OLM console expects (`sources[0].name`).
//
// It is a small go/ast scanner rather than the Operator SDK's generator, which is
// not available as a Go module here; it understands the marker keys Courier uses:
// type, displayName, xDescriptors and resources.
package markers
