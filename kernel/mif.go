package kernel

import (
	"math/bits"
	"strconv"
	"strings"
)

// MaxMIFs is the kernel's limit on multicast interfaces (MAXMIFS).
const MaxMIFs = 32

// MIF is a multicast interface index in the kernel's MIF table.
type MIF uint16

// MIFSet is a set of MIFs, one bit per MIF (bit i = MIF i).
type MIFSet uint32

// Add returns s with m added.
func (s MIFSet) Add(m MIF) MIFSet { return s | 1<<m }

// Remove returns s without m.
func (s MIFSet) Remove(m MIF) MIFSet { return s &^ (1 << m) }

// Has reports whether m is in s.
func (s MIFSet) Has(m MIF) bool { return m < MaxMIFs && s&(1<<m) != 0 }

// Len is the number of MIFs in s.
func (s MIFSet) Len() int { return bits.OnesCount32(uint32(s)) }

// MIFs lists the members of s in increasing order.
func (s MIFSet) MIFs() []MIF {
	var out []MIF
	for v := uint32(s); v != 0; v &= v - 1 {
		out = append(out, MIF(bits.TrailingZeros32(v)))
	}
	return out
}

// String lists the members, e.g. "{0,2,5}".
func (s MIFSet) String() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, m := range s.MIFs() {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(int(m)))
	}
	b.WriteByte('}')
	return b.String()
}
