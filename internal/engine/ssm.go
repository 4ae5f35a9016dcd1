package engine

import "net/netip"

// DefaultSSMRange returns ff30::/32 .. ff3f::/32, the SSM range FF3x::/32 of
// RFC 4607 section 1 for every scope x. Each call returns a new slice.
func DefaultSSMRange() []netip.Prefix {
	out := make([]netip.Prefix, 16)
	for x := range out {
		var a [16]byte
		a[0], a[1] = 0xff, 0x30|byte(x)
		out[x] = netip.PrefixFrom(netip.AddrFrom16(a), 32)
	}
	return out
}

// IsSSM reports whether group g is in the SSM range ssm (a configuration's
// list of prefixes): then only (S,G) joins apply to it (RFC 4607 section 1).
func IsSSM(ssm []netip.Prefix, g netip.Addr) bool {
	for _, p := range ssm {
		if p.Contains(g) {
			return true
		}
	}
	return false
}
