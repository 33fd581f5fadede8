package migrate

import (
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/courier-operator/courier/api/v1alpha1"
)

// kubernetes-replicator's annotations (its README and replicate/common/consts.go).
// Every namespace list is a comma-separated list of regular expressions, each
// anchored at both ends (common.BuildStrictRegex).
const (
	rpPrefix                = "replicator.v1.mittwald.de/"
	rpReplicateFrom         = rpPrefix + "replicate-from"
	rpReplicateTo           = rpPrefix + "replicate-to"
	rpReplicateToMatching   = rpPrefix + "replicate-to-matching"
	rpReplicationAllowed    = rpPrefix + "replication-allowed"
	rpReplicationAllowedNss = rpPrefix + "replication-allowed-namespaces"
	rpStripLabels           = rpPrefix + "strip-labels"
	rpKeepOwnerReferences   = rpPrefix + "keep-owner-references"
	rpReplicatedAt          = rpPrefix + "replicated-at"
	rpReplicatedFromVersion = rpPrefix + "replicated-from-version"
	rpReplicatedKeys        = rpPrefix + "replicated-keys"
)

// rpStateKeys are the replicator's bookkeeping on the objects it writes.
var rpStateKeys = []string{rpReplicatedAt, rpReplicatedFromVersion, rpReplicatedKeys}

// prefixedKeys returns the keys of ann starting with prefix, sorted.
func prefixedKeys(ann map[string]string, prefix string) []string {
	var keys []string
	for k := range ann {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// replicator converts the replicator's annotations. The replicator reads its
// annotations independently of each other (an object may both pull and push), so
// each is converted on its own.
func (b *builder) replicator() {
	for _, o := range b.objs {
		ref := RefOf(o)
		ann := o.GetAnnotations()
		keys := prefixedKeys(ann, rpPrefix)
		if ref.Namespace == "" || len(keys) == 0 {
			continue
		}
		if _, ok := ann[rpReplicateFrom]; ok {
			b.pull(pullSpec{
				peer: PeerReplicator, target: o, annotation: rpReplicateFrom, stateKeys: rpStateKeys,
				consent:   replicatorConsent,
				behaviour: "copied only the source's data into this object, and left its other keys, labels and annotations alone",
			})
		}
		pushed := b.replicatorPush(o, ref, ann)
		b.replicatorConsent(ref, ann)
		c := b.change(ref, PeerReplicator)
		for _, k := range keys {
			switch k {
			case rpReplicateFrom, rpReplicateTo, rpReplicateToMatching, rpReplicationAllowed, rpReplicationAllowedNss,
				rpReplicatedAt, rpReplicatedFromVersion, rpReplicatedKeys:
				// Converted above; the bookkeeping on a pushed copy goes when Courier
				// adopts the copy (it drops the peers' keys from its copies).
			case rpStripLabels:
				c.remove(k)
				if labels := nonToolingKeys(o.GetLabels()); pushed && len(labels) > 0 {
					b.find(ref, PeerReplicator, k, SeverityUnsupported,
						"the replicator pushed copies without labels; Courier's copies keep the source's labels except tooling ones (app.kubernetes.io/managed-by, Argo CD's instance label, ...), so the copies will carry %s: an operator that garbage-collects by those labels (Strimzi) may delete them",
						quoteList(labels))
				}
			case rpKeepOwnerReferences:
				c.remove(k)
				if pushed && ann[k] == "true" && len(o.GetOwnerReferences()) > 0 {
					b.find(ref, PeerReplicator, k, SeverityUnsupported,
						"the replicator kept the source's ownerReferences on its copies; Courier never copies them (an owner in another namespace is invalid and the garbage collector would delete the copy), so the copies have no owner")
				}
			default:
				b.find(ref, PeerReplicator, k, SeverityUnsupported,
					"the replicator's README does not document this key; nothing was converted and the annotation is kept")
			}
		}
	}
}

// replicatorPush converts replicate-to (namespace regexes) and replicate-to-matching
// (a namespace label selector): the replicator pushes to the namespaces matching
// either, so each becomes a ClusterPropagation of its own.
func (b *builder) replicatorPush(o *unstructured.Unstructured, ref ObjectRef, ann map[string]string) bool {
	to, hasTo := ann[rpReplicateTo]
	matching, hasMatching := ann[rpReplicateToMatching]
	if !hasTo && !hasMatching {
		return false
	}
	set := nsSet{}
	if hasTo {
		globs, _ := b.convertPatterns(ref, PeerReplicator, rpReplicateTo, to, "targeted")
		set = set.union(globSet(globs))
	}
	if hasMatching {
		sel, err := parseSelector(matching)
		if err != nil {
			b.find(ref, PeerReplicator, rpReplicateToMatching, SeverityApproximate,
				"not a label selector Courier can express (%v), so the replicator pushed nothing by it (it ignores a selector it cannot parse); it is left out", err)
		} else {
			set = set.union(selectorSet(sel))
		}
	}
	if set.empty() {
		return false // every entry was reported above; the annotations are kept
	}
	key := rpReplicateTo
	if !hasTo {
		key = rpReplicateToMatching
	}
	refs := b.push(PeerReplicator, key, o, set)
	c := b.change(ref, PeerReplicator)
	if hasTo {
		c.remove(rpReplicateTo)
		b.pushFinding(ref, PeerReplicator, rpReplicateTo, "named by this annotation", refs)
	}
	if hasMatching {
		c.remove(rpReplicateToMatching)
		b.pushFinding(ref, PeerReplicator, rpReplicateToMatching, "whose labels match this annotation", refs)
	}
	b.find(ref, PeerReplicator, key, SeverityApproximate,
		"the replicator overwrote an existing object of the same name in a target namespace; %s takes over only one whose content already equals the source's (conflictPolicy Adopt) and reports the others as conflicts: set conflictPolicy Overwrite to replace them",
		refNames(refs))
	if annotations := nonToolingKeys(ann); len(annotations) > 0 {
		b.find(ref, PeerReplicator, key, SeverityApproximate,
			"the replicator's copies carried none of the source's annotations; Courier's carry them (tooling keys dropped): %s", quoteList(annotations))
	}
	return true
}

// replicatorConsent converts replication-allowed and replication-allowed-namespaces
// (the source's consent to pulls) into courier.dev/share-with-namespaces.
func (b *builder) replicatorConsent(ref ObjectRef, ann map[string]string) {
	allowedRaw, hasAllowed := ann[rpReplicationAllowed]
	namespaces, hasNamespaces := ann[rpReplicationAllowedNss]
	if !hasAllowed && !hasNamespaces {
		return
	}
	c := b.change(ref, PeerReplicator)
	allowed, _ := strconv.ParseBool(allowedRaw)
	switch {
	case !allowed:
		// Without replication-allowed: "true" the replicator allows no pull (bar
		// --allow-all, which no annotation says): nothing to carry over.
		c.remove(rpReplicationAllowed, rpReplicationAllowedNss)
	case !hasNamespaces:
		c.remove(rpReplicationAllowed)
		b.find(ref, PeerReplicator, rpReplicationAllowed, SeverityApproximate,
			"without %s the replicator refuses every pull of this object, so no Courier consent is set", rpReplicationAllowedNss)
	default:
		globs, _ := b.convertPatterns(ref, PeerReplicator, rpReplicationAllowedNss, namespaces, "allowed to pull it")
		if len(globs) == 0 && len(splitList(namespaces)) > 0 {
			return // nothing could be converted; reported above, annotations kept
		}
		c.remove(rpReplicationAllowed, rpReplicationAllowedNss)
		b.setConsent(ref, PeerReplicator, globs, "")
	}
}

// replicatorConsent is the replicator's own consent check for a pull
// (GenericReplicator.IsReplicationPermitted).
func replicatorConsent(src *unstructured.Unstructured, namespace string) (bool, string, string) {
	ann := src.GetAnnotations()
	allowed, _ := strconv.ParseBool(ann[rpReplicationAllowed])
	ref := RefOf(src)
	if !allowed {
		return false, SeverityUnsafe,
			"the source " + ref.String() + " carries no " + rpReplicationAllowed + `: "true", so the replicator copied it here only if it runs with --allow-all, which lets any namespace pull any Secret; Courier needs the source's owner to consent, so the Propagation reports NotShared until the source carries ` +
				v1alpha1.AnnotationShareWithNamespaces + ` naming "` + namespace + `" (this plan does not grant it on the owner's behalf)`
	}
	if !matchesRegexList(ann[rpReplicationAllowedNss], namespace) {
		return false, SeverityApproximate,
			"the source " + ref.String() + "'s " + rpReplicationAllowedNss + " does not match namespace " + namespace +
				", so the replicator refused this pull (unless it runs with --allow-all); Courier refuses it likewise (Ready=False, reason NotShared)"
	}
	return true, "", ""
}
