package mldmsg

import (
	"net/netip"
	"strconv"
)

// RecordType is the type of a Multicast Address Record (RFC 3810 section
// 5.2.12). Values outside 1..6 are kept as received: the RFC has the engine
// ignore such records, and the codec must not lose them.
type RecordType uint8

// Record types, RFC 3810 section 5.2.12.
const (
	// Current-State Records, sent in reply to a Query.
	ModeIsInclude RecordType = 1
	ModeIsExclude RecordType = 2
	// Filter-Mode-Change Records.
	ChangeToInclude RecordType = 3
	ChangeToExclude RecordType = 4
	// Source-List-Change Records.
	AllowNewSources RecordType = 5
	BlockOldSources RecordType = 6
)

var recordTypeNames = [...]string{
	ModeIsInclude:   "IS_IN",
	ModeIsExclude:   "IS_EX",
	ChangeToInclude: "TO_IN",
	ChangeToExclude: "TO_EX",
	AllowNewSources: "ALLOW",
	BlockOldSources: "BLOCK",
}

// String returns the abbreviation of RFC 3810 section 7.4 (IS_IN, TO_EX,
// ALLOW, ...), or type(N) for a type the RFC does not define.
func (t RecordType) String() string {
	if int(t) < len(recordTypeNames) && recordTypeNames[t] != "" {
		return recordTypeNames[t]
	}
	return "type(" + strconv.Itoa(int(t)) + ")"
}

// Record is a Multicast Address Record (RFC 3810 section 5.2.4).
type Record struct {
	Type    RecordType
	Group   netip.Addr
	Sources []netip.Addr
	// AuxData is the raw Auxiliary Data (section 5.2.10), a whole number
	// of 32-bit words. MLDv2 defines none; it is kept so nothing is lost.
	AuxData []byte
}

// recordHeaderLen is Record Type, Aux Data Len, Number of Sources and the
// Multicast Address.
const recordHeaderLen = 20

// maxAuxData is the most Auxiliary Data one octet of 32-bit words counts.
const maxAuxData = 0xff * 4

func (r *Record) wireLen() int {
	return recordHeaderLen + 16*len(r.Sources) + len(r.AuxData)
}
