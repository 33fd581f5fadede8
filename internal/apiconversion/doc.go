// Package apiconversion serves the conversion webhook of the courier.dev CRDs: the
// API server sends it objects in one version and gets them back in another, through
// the hub (api/v1beta1) and each spoke's ConvertTo and ConvertFrom
// (api/v1alpha1/conversion.go). controller-runtime's conversion handler does the
// serving at /convert; this package says which kinds it converts.
//
// The manager registers it once the CRDs list v1beta1 as their storage version
// with conversion strategy Webhook in every install path (issue 15). Its envtest
// suite runs it against config/crd/next, the CRDs as they will then be.
package apiconversion
