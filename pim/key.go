package pim

import (
	"net/netip"

	"github.com/pim6sd/pim6sd/internal/engine"
)

// addrKey is the engines' address key (engine.Key): a compact map key that
// sorts like netip.Addr.
type addrKey = engine.Key

func keyOf(a netip.Addr) addrKey { return engine.KeyOf(a) }

// sgKey names an (S,G) entry. The group comes first so that entries sort
// as routing tables list them: by group, then by source.
type sgKey struct{ g, s addrKey }

func (k sgKey) compare(o sgKey) int {
	if c := k.g.Compare(o.g); c != 0 {
		return c
	}
	return k.s.Compare(o.s)
}

// isLinkLocal6 reports whether a is an IPv6 link-local unicast address (not
// an IPv4-mapped one).
func isLinkLocal6(a netip.Addr) bool {
	return a.Is6() && !a.Is4In6() && a.IsLinkLocalUnicast()
}

// validSource reports whether a can be the source S of an (S,G) channel: a
// routable IPv6 unicast address.
func validSource(a netip.Addr) bool {
	return a.Is6() && !a.Is4In6() && !a.IsUnspecified() && !a.IsLoopback() &&
		!a.IsMulticast() && !a.IsLinkLocalUnicast()
}

// validGroup reports whether g can be routed: IPv6 multicast of scope 3 or
// more (RFC 4291 section 2.7: scopes 0 to 2 never leave the link).
func validGroup(g netip.Addr) bool {
	if !g.Is6() || g.Is4In6() || !g.IsMulticast() {
		return false
	}
	return g.As16()[1]&0x0f >= 3
}
