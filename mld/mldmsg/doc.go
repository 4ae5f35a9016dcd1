// Package mldmsg is the wire format of Multicast Listener Discovery: the
// MLDv1 messages of RFC 2710 (Query, Report, Done) and the MLDv2 messages of
// RFC 3810 section 5 (Query with sources, Report with Multicast Address
// Records), plus the Maximum Response Code and QQIC floating-point codes
// (RFC 3810 sections 5.1.3 and 5.1.9). RFC 4604 changes nothing on the wire
// for SSM; it only restricts which records a router acts on, which is the
// engine's business (package mld).
//
// Messages are the ICMPv6 message itself, from its Type byte; the IPv6
// header, the hop-by-hop Router Alert and the hop limit are checked by the
// caller. Parse returns one of *QueryV1, *QueryV2, *ReportV1, *Done or
// *ReportV2; Append and Marshal encode them with the ICMPv6 checksum over
// the IPv6 pseudo-header filled in.
//
// # What Parse rejects and what it leaves to the engine
//
// The codec rejects only what it cannot represent, so that a message the
// engine must ignore for protocol reasons is still seen, counted and logged
// by the engine with the RFC's words:
//
//   - An empty message or one that ends before its fixed fields or before the
//     records and sources its counts announce: ErrTruncated.
//   - A Query of 25 to 27 octets, neither MLDv1 (exactly 24) nor MLDv2 (28
//     or more); RFC 3810 section 8.1 says to ignore it: ErrLength. (Shorter
//     than 24 is ErrTruncated, as for every message too short for its
//     fixed fields.)
//   - A message over 65535 octets (more than an IPv6 payload can hold, and
//     more than Marshal could write back): ErrLength.
//   - A type other than 130, 131, 132, 143: ErrType.
//
// Accepted as they are, for the engine to judge: any address (a Report for
// a non-multicast group, a Done for ::, a link-local source), unknown record
// types (RFC 3810 section 5.2.12 says such records are ignored, which is a
// protocol decision), any QRV and QQIC values, and the S flag in any Query.
//
// Ignored, as the RFCs require: the Code and Reserved fields; octets past
// the 24 of an MLDv1 message (RFC 2710 section 3: a longer message may be
// a future version, and everything past 24 octets MUST be ignored); octets
// past the last source of an MLDv2 Query (RFC 3810 section 5.1.10) and past
// the last record of an MLDv2 Report (section 5.2.11). The checksum covers
// them all the same, so VerifyChecksum takes the whole received message.
//
// Auxiliary Data of a record is kept raw (RFC 3810 section 5.2.10 defines
// none, and a receiver MUST ignore it), so that parse then marshal loses
// nothing the engine might want to log.
//
// Parse copies everything it returns: addresses are netip.Addr values and
// AuxData is a fresh slice, so the receive buffer can be reused at once.
// Empty Sources, AuxData and Records come back nil.
//
// Parse does not verify the checksum: the kernel usually has (an ICMPv6
// raw socket checks it, RFC 3542 section 3.1), and where it has not, only
// the caller knows the addresses VerifyChecksum needs.
//
// Marshal and Append refuse, with an error and never a panic, any value the
// wire cannot carry: a missing (zero) or non-IPv6 address, an address with a
// zone, QRV over 7, more than 65535 sources or records, Auxiliary Data that is
// not a whole number of 32-bit words or longer than 255 words, and a message
// longer than 65535 octets.
package mldmsg
