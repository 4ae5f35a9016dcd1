package pimmsg

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

const (
	joinPruneHeaderLen = encUnicastLen + 4   // upstream neighbor, reserved, group count, holdtime
	jpGroupHeaderLen   = encGroupLen + 2 + 2 // group, joined and pruned source counts
	maxJPGroups        = 255
	maxJPSources       = 65535
)

// JoinPrune is a PIM Join/Prune message (RFC 7761 section 4.9.5). The
// group and source counts on the wire come from the slice lengths.
type JoinPrune struct {
	// UpstreamNeighbor is the RPF neighbor the message is addressed to
	// (the message itself is multicast to ALL-PIM-ROUTERS).
	UpstreamNeighbor netip.Addr
	// Holdtime is how long, in seconds, the receiver keeps the state.
	Holdtime uint16
	Groups   []JoinPruneGroup
}

// JoinPruneGroup is one group set of a Join/Prune message.
type JoinPruneGroup struct {
	Group  Group
	Joins  []Source
	Prunes []Source
}

// Type returns TypeJoinPrune.
func (*JoinPrune) Type() Type { return TypeJoinPrune }

func (*JoinPrune) flagBits() uint8 { return 0 }

func (jp *JoinPrune) bodyLen() int {
	if jp == nil {
		return 0
	}
	n := joinPruneHeaderLen
	for i := range jp.Groups {
		g := &jp.Groups[i]
		n += jpGroupHeaderLen + encSourceLen*(len(g.Joins)+len(g.Prunes))
	}
	return n
}

func (jp *JoinPrune) appendBody(b []byte) ([]byte, error) {
	if jp == nil {
		return b, ErrType
	}
	return appendJoinPruneBody(b, jp.UpstreamNeighbor, jp.Holdtime, jp.Groups)
}

// appendJoinPruneBody is shared with the Graft and Graft-Ack layout checks.
func appendJoinPruneBody(b []byte, upstream netip.Addr, holdtime uint16, groups []JoinPruneGroup) ([]byte, error) {
	if len(groups) > maxJPGroups {
		return b, fmt.Errorf("%d groups: %w", len(groups), ErrLength)
	}
	b, err := appendUnicast(b, upstream)
	if err != nil {
		return b, fieldErr("upstream neighbor", err)
	}
	b = append(b, 0, uint8(len(groups)))
	b = binary.BigEndian.AppendUint16(b, holdtime)
	for i := range groups {
		g := &groups[i]
		if len(g.Joins) > maxJPSources || len(g.Prunes) > maxJPSources {
			return b, fmt.Errorf("group %d: %d joins, %d prunes: %w", i, len(g.Joins), len(g.Prunes), ErrLength)
		}
		if b, err = appendGroup(b, g.Group); err != nil {
			return b, fmt.Errorf("group %d: %w", i, err)
		}
		b = binary.BigEndian.AppendUint16(b, uint16(len(g.Joins)))
		b = binary.BigEndian.AppendUint16(b, uint16(len(g.Prunes)))
		for j := range g.Joins {
			if b, err = appendSource(b, &g.Joins[j]); err != nil {
				return b, fmt.Errorf("group %d join %d: %w", i, j, err)
			}
		}
		for j := range g.Prunes {
			if b, err = appendSource(b, &g.Prunes[j]); err != nil {
				return b, fmt.Errorf("group %d prune %d: %w", i, j, err)
			}
		}
	}
	return b, nil
}

func parseJoinPrune(b []byte) (*JoinPrune, error) {
	jp := new(JoinPrune)
	var err error
	jp.UpstreamNeighbor, jp.Holdtime, jp.Groups, err = parseJoinPruneBody(b)
	if err != nil {
		return nil, err
	}
	return jp, nil
}

// parseJoinPruneBody decodes the Join/Prune layout, which Graft and
// Graft-Ack share. A first pass checks the lengths and counts the sources,
// so that all of them go into one backing array: a message of a thousand
// sources costs three allocations, not a thousand.
func parseJoinPruneBody(b []byte) (upstream netip.Addr, holdtime uint16, groups []JoinPruneGroup, err error) {
	upstream, b, err = parseUnicast(b)
	if err != nil {
		return upstream, 0, nil, fieldErr("upstream neighbor", err)
	}
	if len(b) < 4 {
		return upstream, 0, nil, fieldErr("header", ErrTruncated)
	}
	numGroups := int(b[1])
	holdtime = binary.BigEndian.Uint16(b[2:])
	b = b[4:]

	total := 0
	rest := b
	for i := 0; i < numGroups; i++ {
		if len(rest) < jpGroupHeaderLen {
			return upstream, 0, nil, fmt.Errorf("group %d of %d: %w", i, numGroups, ErrTruncated)
		}
		n := int(binary.BigEndian.Uint16(rest[encGroupLen:])) + int(binary.BigEndian.Uint16(rest[encGroupLen+2:]))
		if len(rest)-jpGroupHeaderLen < n*encSourceLen {
			return upstream, 0, nil, fmt.Errorf("group %d: %d sources: %w", i, n, ErrTruncated)
		}
		total += n
		rest = rest[jpGroupHeaderLen+n*encSourceLen:]
	}
	if numGroups == 0 {
		return upstream, holdtime, nil, nil
	}

	groups = make([]JoinPruneGroup, numGroups)
	sources := make([]Source, total)
	for i := range groups {
		g := &groups[i]
		if g.Group, b, err = parseGroup(b); err != nil {
			return upstream, 0, nil, fmt.Errorf("group %d: %w", i, err)
		}
		nj := int(binary.BigEndian.Uint16(b))
		np := int(binary.BigEndian.Uint16(b[2:]))
		b = b[4:]
		// Full slice expressions: appending to one group's list must not
		// overwrite the next list in the shared array.
		if nj > 0 {
			g.Joins = sources[:nj:nj]
		}
		if np > 0 {
			g.Prunes = sources[nj : nj+np : nj+np]
		}
		for j := range nj + np {
			if sources[j], err = parseSource(b); err != nil {
				return upstream, 0, nil, fmt.Errorf("group %d source %d: %w", i, j, err)
			}
			b = b[encSourceLen:]
		}
		sources = sources[nj+np:]
	}
	return upstream, holdtime, groups, nil
}
