package migrate

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// maxNameLength is the longest name a propagation may have: its name is the value
// of the label on every copy, and a label value holds 63 characters.
const maxNameLength = 63

// hashLength is how many hex digits of a hash make a shortened name unique.
const hashLength = 8

// dnsName joins parts into a DNS label: lower case, every character other than a
// letter or digit turned into '-', runs of '-' collapsed, no '-' at either end. A
// result longer than 63 characters is cut and ends with a hash of the whole, so two
// long names that share their start stay apart and the same parts always give the
// same name.
func dnsName(parts ...string) string {
	full := strings.Join(parts, "-")
	var sb strings.Builder
	dash := true // suppresses a leading '-'
	for _, r := range strings.ToLower(full) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			sb.WriteRune(r)
			dash = false
			continue
		}
		if !dash {
			sb.WriteByte('-')
			dash = true
		}
	}
	name := strings.TrimRight(sb.String(), "-")
	if name == "" {
		name = "migrated"
	}
	if len(name) <= maxNameLength {
		return name
	}
	return withHash(name, full)
}

// withHash cuts name to leave room for "-" and a hash of identity, and appends it.
func withHash(name, identity string) string {
	sum := sha256.Sum256([]byte(identity))
	keep := maxNameLength - 1 - hashLength
	if len(name) > keep {
		name = strings.TrimRight(name[:keep], "-")
	}
	return name + "-" + hex.EncodeToString(sum[:])[:hashLength]
}

// claimName returns a name for a planned object of kind in namespace (empty for a
// cluster-scoped one), derived from base. identity says what the object is for (the
// peer and the source it converts): when another object already took base, the
// name gets a hash of identity, so it stays the same however many other objects
// the input holds.
func (b *builder) claimName(kind, namespace, base, identity string) string {
	name := base
	for {
		key := kind + "/" + namespace + "/" + name
		owner, taken := b.names[key]
		if !taken || owner == identity {
			b.names[key] = identity
			return name
		}
		// A hash of the identity, then of the identity and the clashing name, until free.
		identity2 := identity + "/" + name
		name = withHash(base, identity2)
		identity = identity2
	}
}
