// Package pimmsg is the wire format of PIM version 2 for IPv6: it parses and
// builds the messages a PIM-SM router exchanges, and computes their checksums.
//
// References:
//
//   - RFC 7761 section 4.9 (PIM-SM): the common header and checksum (4.9),
//     encoded unicast/group/source addresses (4.9.1), Hello and its options
//     (4.9.2), Register (4.9.3), Register-Stop (4.9.4), Join/Prune (4.9.5)
//     and Assert (4.9.6).
//   - RFC 5059 (BSR): the Bootstrap message with its fragment tag and
//     semantic fragmentation (sections 3.6 and 4.1), and the
//     Candidate-RP-Advertisement (section 4.2).
//   - RFC 3956 (Embedded-RP): no message of its own, but RP addresses taken
//     from group addresses travel in the messages above; the codec therefore
//     keeps group masks and flags exactly as received.
//   - RFC 8736, obsoleted by RFC 9436: the byte after the type is a field of
//     per-type flag bits, not a reserved byte. Bootstrap uses its top bit as
//     the No-Forward (N) bit; other types' bits are not kept.
//   - RFC 5015 (BIDIR-PIM) for the B bit of encoded groups and the Hello
//     option 22, RFC 3973 (PIM-DM) for the Graft, Graft-Ack and State Refresh
//     layouts, which this package checks but keeps raw (Unknown).
//
// Addresses are netip.Addr values copied out of the input: Parse never keeps
// a reference to the buffer it was given. Only IPv6 is supported: an encoded
// address of any other family or encoding type is ErrAddressFamily.
//
// # Odd and malformed input
//
// Parse returns an error wrapping one of the sentinel errors (ErrTruncated,
// ErrVersion, ErrLength, ErrOption, ErrAddressFamily, ErrAddress), usable as
// a drop-counter reason, and never panics. Where a choice had to be made:
//
//   - Bytes after the last field a count announces (a Join/Prune's groups,
//     a C-RP-Adv's prefix count, an Assert's metric) are ignored, as tcpdump
//     ignores them (frame 146 of its PIM test capture is such a
//     C-RP-Adv); such a message re-encodes shorter.
//     Messages without a count (Hello options, Bootstrap ranges) must end
//     on an item boundary.
//   - A Hello option of a known type with the wrong length, and a repeated
//     known option, is kept raw in Hello.Unknown rather than failing the
//     Hello (see Hello).
//   - Reserved bits and the flag bits of types that define none are
//     dropped; the first re-encoding clears them.
//   - A Register must carry at least an IPv6 header, and a data Register
//     the payload that header announces.
//   - Messages longer than 65535 bytes are refused both ways: an IPv6
//     payload without a jumbo option cannot carry them.
//
// Parse does not check the checksum; VerifyChecksum does, and also accepts
// the whole-message Register checksums some senders use.
//
// The package is pure computation: no sockets, no clock, no goroutines. The
// caller supplies the IPv6 source and destination, which the checksum's
// pseudo-header covers.
package pimmsg
