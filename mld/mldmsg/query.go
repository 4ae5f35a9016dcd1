package mldmsg

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"
)

// Query lengths (RFC 3810 section 8.1): exactly 24 octets is MLDv1, 28 or
// more is MLDv2, and anything else is not a Query at all.
const (
	queryV1Len    = 24
	queryV2MinLen = 28
)

// QueryV1 is an MLDv1 Multicast Listener Query (RFC 2710 section 3).
type QueryV1 struct {
	// MaxRespDelay is in milliseconds. The 16 bits are taken literally in
	// MLDv1; only MLDv2 has the floating-point form.
	MaxRespDelay uint16
	// Group is :: in a General Query, else the group of a
	// Multicast-Address-Specific Query.
	Group netip.Addr
}

// QueryV2 is an MLDv2 Multicast Listener Query (RFC 3810 section 5.1).
type QueryV2 struct {
	// MaxRespCode is the Maximum Response Code, decoded by MaxRespDelay.
	MaxRespCode uint16
	// Group is :: in a General Query.
	Group netip.Addr
	// SuppressRouterSide is the S flag (section 5.1.7): routers that hear
	// the Query do not lower their timers.
	SuppressRouterSide bool
	// QRV is the Querier's Robustness Variable, 0..7; 0 means the value
	// was too large to fit (section 5.1.8), which the engine handles.
	QRV uint8
	// QQIC is the Querier's Query Interval Code, decoded by QueryInterval.
	QQIC uint8
	// Sources makes a Multicast Address and Source Specific Query.
	Sources []netip.Addr
}

// Type returns TypeQuery.
func (*QueryV1) Type() uint8 { return TypeQuery }

// Type returns TypeQuery.
func (*QueryV2) Type() uint8 { return TypeQuery }

// MaxRespDelay decodes MaxRespCode (RFC 3810 section 5.1.3).
func (q *QueryV2) MaxRespDelay() time.Duration { return DecodeMaxRespCode(q.MaxRespCode) }

// QueryInterval decodes QQIC (RFC 3810 section 5.1.9).
func (q *QueryV2) QueryInterval() time.Duration { return DecodeQQIC(q.QQIC) }

func parseQuery(b []byte) (Message, error) {
	switch {
	case len(b) < queryV1Len:
		return nil, fmt.Errorf("mldmsg: query of %d octets, shorter than %d: %w", len(b), queryV1Len, ErrTruncated)
	case len(b) == queryV1Len:
		return &QueryV1{
			MaxRespDelay: binary.BigEndian.Uint16(b[4:6]),
			Group:        addrAt(b, 8),
		}, nil
	case len(b) < queryV2MinLen:
		return nil, fmt.Errorf("mldmsg: query of %d octets, neither MLDv1 (%d) nor MLDv2 (%d or more): %w",
			len(b), queryV1Len, queryV2MinLen, ErrLength)
	}
	n := int(binary.BigEndian.Uint16(b[26:28]))
	if need := queryV2MinLen + 16*n; len(b) < need {
		return nil, fmt.Errorf("mldmsg: query with %d sources needs %d octets, has %d: %w", n, need, len(b), ErrTruncated)
	}
	q := &QueryV2{
		MaxRespCode:        binary.BigEndian.Uint16(b[4:6]),
		Group:              addrAt(b, 8),
		SuppressRouterSide: b[24]&0x08 != 0,
		QRV:                b[24] & 0x07,
		QQIC:               b[25],
	}
	if n > 0 {
		q.Sources = make([]netip.Addr, n)
		for i := range q.Sources {
			q.Sources[i] = addrAt(b, queryV2MinLen+16*i)
		}
	}
	// Octets past the last source are ignored (section 5.1.10).
	return q, nil
}

func (q *QueryV1) wireLen() int { return queryV1Len }

func (q *QueryV1) check() error { return checkAddr("query group", q.Group) }

func (q *QueryV1) put(b []byte) {
	b[0] = TypeQuery
	binary.BigEndian.PutUint16(b[4:6], q.MaxRespDelay)
	putAddr(b, 8, q.Group)
}

func (q *QueryV2) wireLen() int { return queryV2MinLen + 16*len(q.Sources) }

func (q *QueryV2) check() error {
	if err := checkAddr("query group", q.Group); err != nil {
		return err
	}
	if q.QRV > 7 {
		return fmt.Errorf("mldmsg: query QRV %d does not fit in 3 bits: %w", q.QRV, ErrRange)
	}
	if len(q.Sources) > 0xffff {
		return fmt.Errorf("mldmsg: query with %d sources, more than 65535: %w", len(q.Sources), ErrLength)
	}
	if i := firstInvalid(q.Sources); i >= 0 {
		return checkAddr(fmt.Sprintf("query source %d", i), q.Sources[i])
	}
	return nil
}

func (q *QueryV2) put(b []byte) {
	b[0] = TypeQuery
	binary.BigEndian.PutUint16(b[4:6], q.MaxRespCode)
	putAddr(b, 8, q.Group)
	flags := q.QRV
	if q.SuppressRouterSide {
		flags |= 0x08
	}
	b[24] = flags
	b[25] = q.QQIC
	binary.BigEndian.PutUint16(b[26:28], uint16(len(q.Sources)))
	for i, s := range q.Sources {
		putAddr(b, queryV2MinLen+16*i, s)
	}
}
