package mldmsg

import (
	"fmt"
	"net/netip"
)

// v1Len is the length of every MLDv1 message (RFC 2710 section 3).
const v1Len = 24

// ReportV1 is an MLDv1 Multicast Listener Report (RFC 2710 section 3). Its
// Maximum Response Delay is zero when sent and ignored when received, so it
// is not kept.
type ReportV1 struct {
	Group netip.Addr
}

// Done is an MLDv1 Multicast Listener Done (RFC 2710 section 3), which a
// listener sends when it leaves Group. Like ReportV1 it keeps no delay.
type Done struct {
	Group netip.Addr
}

// Type returns TypeReportV1.
func (*ReportV1) Type() uint8 { return TypeReportV1 }

// Type returns TypeDone.
func (*Done) Type() uint8 { return TypeDone }

// parseV1 returns the Multicast Address of a Report or Done. A message
// longer than 24 octets is accepted and the rest ignored: RFC 2710 section 3
// reserves it for a future backwards-compatible version and says a receiver
// MUST ignore anything past the first 24 octets.
func parseV1(b []byte, what string) (netip.Addr, error) {
	if len(b) < v1Len {
		return netip.Addr{}, fmt.Errorf("mldmsg: %s of %d octets, shorter than %d: %w", what, len(b), v1Len, ErrTruncated)
	}
	return addrAt(b, 8), nil
}

func (m *ReportV1) wireLen() int { return v1Len }
func (m *Done) wireLen() int     { return v1Len }

func (m *ReportV1) check() error { return checkAddr("report group", m.Group) }
func (m *Done) check() error     { return checkAddr("done group", m.Group) }

func (m *ReportV1) put(b []byte) {
	b[0] = TypeReportV1
	putAddr(b, 8, m.Group)
}

func (m *Done) put(b []byte) {
	b[0] = TypeDone
	putAddr(b, 8, m.Group)
}
