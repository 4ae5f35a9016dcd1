package pimmsg

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

const (
	assertRPT        = 0x80000000
	maxMetricPref    = 1<<31 - 1
	assertMetricsLen = 8
)

// Assert is a PIM Assert message (RFC 7761 section 4.9.6). Source is the
// unspecified address (::) in a (*,G) assert, which also sets RPT.
type Assert struct {
	Group            Group
	Source           netip.Addr
	RPT              bool   // R: the metrics are those of the path to the RP
	MetricPreference uint32 // 31 bits
	Metric           uint32
}

// Type returns TypeAssert.
func (*Assert) Type() Type { return TypeAssert }

func (*Assert) flagBits() uint8 { return 0 }

func (a *Assert) bodyLen() int {
	if a == nil {
		return 0
	}
	return encGroupLen + encUnicastLen + assertMetricsLen
}

func (a *Assert) appendBody(b []byte) ([]byte, error) {
	if a == nil {
		return b, ErrType
	}
	if a.MetricPreference > maxMetricPref {
		return b, fmt.Errorf("metric preference %d: %w", a.MetricPreference, ErrRange)
	}
	b, err := appendGroup(b, a.Group)
	if err != nil {
		return b, fieldErr("group", err)
	}
	if b, err = appendUnicast(b, a.Source); err != nil {
		return b, fieldErr("source", err)
	}
	w := a.MetricPreference
	if a.RPT {
		w |= assertRPT
	}
	b = binary.BigEndian.AppendUint32(b, w)
	return binary.BigEndian.AppendUint32(b, a.Metric), nil
}

func parseAssert(b []byte) (*Assert, error) {
	g, b, err := parseGroup(b)
	if err != nil {
		return nil, fieldErr("group", err)
	}
	s, b, err := parseUnicast(b)
	if err != nil {
		return nil, fieldErr("source", err)
	}
	if len(b) < assertMetricsLen {
		return nil, fieldErr("metrics", ErrTruncated)
	}
	w := binary.BigEndian.Uint32(b)
	return &Assert{
		Group:            g,
		Source:           s,
		RPT:              w&assertRPT != 0,
		MetricPreference: w &^ assertRPT,
		Metric:           binary.BigEndian.Uint32(b[4:]),
	}, nil
}
