package mldmsg

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// reportHeaderLen is Type, Reserved, Checksum, Reserved and the number of
// records (RFC 3810 section 5.2).
const reportHeaderLen = 8

// ReportV2 is an MLDv2 Multicast Listener Report (RFC 3810 section 5.2).
type ReportV2 struct {
	Records []Record
}

// Type returns TypeReportV2.
func (*ReportV2) Type() uint8 { return TypeReportV2 }

// parseReportV2 walks the records twice: once to check every count against
// the length and total the sources and auxiliary data, so that a count in a
// short message cannot make us allocate, then to copy them into one backing
// array each, which costs three allocations however many records there are.
func parseReportV2(b []byte) (Message, error) {
	if len(b) < reportHeaderLen {
		return nil, fmt.Errorf("mldmsg: report of %d octets, shorter than %d: %w", len(b), reportHeaderLen, ErrTruncated)
	}
	m := int(binary.BigEndian.Uint16(b[6:8]))
	nsrc, naux := 0, 0
	off := reportHeaderLen
	for i := range m {
		if len(b)-off < recordHeaderLen {
			return nil, fmt.Errorf("mldmsg: report record %d of %d at octet %d: header runs past %d octets: %w",
				i, m, off, len(b), ErrTruncated)
		}
		aux := 4 * int(b[off+1])
		n := int(binary.BigEndian.Uint16(b[off+2 : off+4]))
		size := recordHeaderLen + 16*n + aux
		if len(b)-off < size {
			return nil, fmt.Errorf("mldmsg: report record %d of %d at octet %d with %d sources and %d octets of aux data runs past %d octets: %w",
				i, m, off, n, aux, len(b), ErrTruncated)
		}
		nsrc += n
		naux += aux
		off += size
	}
	// Octets past the last record are ignored (section 5.2.11).
	r := &ReportV2{}
	if m == 0 {
		return r, nil
	}
	r.Records = make([]Record, m)
	var srcs []netip.Addr
	if nsrc > 0 {
		srcs = make([]netip.Addr, nsrc)
	}
	var auxs []byte
	if naux > 0 {
		auxs = make([]byte, naux)
	}
	off = reportHeaderLen
	for i := range r.Records {
		rec := &r.Records[i]
		rec.Type = RecordType(b[off])
		aux := 4 * int(b[off+1])
		n := int(binary.BigEndian.Uint16(b[off+2 : off+4]))
		rec.Group = addrAt(b, off+4)
		off += recordHeaderLen
		if n > 0 {
			// The full slice expression caps each record's slice, so an
			// append to one record's Sources cannot overwrite the next.
			rec.Sources = srcs[:n:n]
			srcs = srcs[n:]
			for j := range rec.Sources {
				rec.Sources[j] = addrAt(b, off)
				off += 16
			}
		}
		if aux > 0 {
			rec.AuxData = auxs[:aux:aux]
			auxs = auxs[aux:]
			off += copy(rec.AuxData, b[off:off+aux])
		}
	}
	return r, nil
}

func (r *ReportV2) wireLen() int {
	n := reportHeaderLen
	for i := range r.Records {
		n += r.Records[i].wireLen()
	}
	return n
}

func (r *ReportV2) check() error {
	if len(r.Records) > 0xffff {
		return fmt.Errorf("mldmsg: report with %d records, more than 65535: %w", len(r.Records), ErrLength)
	}
	for i := range r.Records {
		rec := &r.Records[i]
		if !validAddr(rec.Group) {
			return checkAddr(fmt.Sprintf("report record %d group", i), rec.Group)
		}
		if len(rec.Sources) > 0xffff {
			return fmt.Errorf("mldmsg: report record %d with %d sources, more than 65535: %w", i, len(rec.Sources), ErrLength)
		}
		if j := firstInvalid(rec.Sources); j >= 0 {
			return checkAddr(fmt.Sprintf("report record %d source %d", i, j), rec.Sources[j])
		}
		if len(rec.AuxData)%4 != 0 || len(rec.AuxData) > maxAuxData {
			return fmt.Errorf("mldmsg: report record %d with %d octets of aux data, not a multiple of 4 up to %d: %w",
				i, len(rec.AuxData), maxAuxData, ErrAuxData)
		}
	}
	return nil
}

func (r *ReportV2) put(b []byte) {
	b[0] = TypeReportV2
	binary.BigEndian.PutUint16(b[6:8], uint16(len(r.Records)))
	off := reportHeaderLen
	for i := range r.Records {
		rec := &r.Records[i]
		b[off] = byte(rec.Type)
		b[off+1] = byte(len(rec.AuxData) / 4)
		binary.BigEndian.PutUint16(b[off+2:off+4], uint16(len(rec.Sources)))
		putAddr(b, off+4, rec.Group)
		off += recordHeaderLen
		for _, s := range rec.Sources {
			putAddr(b, off, s)
			off += 16
		}
		off += copy(b[off:], rec.AuxData)
	}
}
