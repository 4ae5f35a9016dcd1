package kernel

import (
	"encoding/binary"
	"net/netip"

	"golang.org/x/sys/unix"
)

// Ancillary data (RFC 3542 section 20, cmsg(3)) for the MLD and PIM raw
// sockets, built and walked in place so that the per-packet path allocates
// nothing. A control message is a struct cmsghdr (cmsg_len, cmsg_level,
// cmsg_type; cmsg_len is a size_t, 8 octets on 64-bit Linux and 4 on 32-bit)
// followed by its data, each message aligned to the size of a long. The
// header fields are in host byte order.

// cmsgLenSize is the width of cmsg_len: the header is cmsg_len plus two
// 32-bit ints.
const cmsgLenSize = unix.SizeofCmsghdr - 8

// Sizes of the data of the control messages we use.
const (
	sizeofPktinfo  = unix.SizeofInet6Pktinfo // struct in6_pktinfo: 16-octet address, 32-bit ifindex
	sizeofHopLimit = 4                       // an int
)

// Hop-by-hop option types and the Router Alert value (RFC 2711 section 2;
// RFC 2710 section 3 and RFC 3810 section 5 use value 0, "MLD").
const (
	optPad1        = 0
	optPadN        = 1
	optRouterAlert = 5
	routerAlertMLD = 0
)

// hopOptsRouterAlertMLD is a whole hop-by-hop options header carrying the
// Router Alert option with value 0 (MLD), padded with a PadN of two octets
// to the 8-octet unit the header length counts in. The first octet (Next
// Header) is filled in by the kernel; Hdr Ext Len 0 means 8 octets.
var hopOptsRouterAlertMLD = [8]byte{
	0, 0, // Next Header, Hdr Ext Len
	optRouterAlert, 2, 0, routerAlertMLD, // Router Alert, value 0
	optPadN, 0, // PadN with no data octets
}

// cmsgPutHeader writes a cmsghdr for dataLen octets of data at b[0:] and
// returns the offset of the data. b must hold cmsgSpace(dataLen) octets.
func cmsgPutHeader(b []byte, level, typ, dataLen int) int {
	l := uint64(unix.CmsgLen(dataLen))
	if cmsgLenSize == 8 {
		binary.NativeEndian.PutUint64(b, l)
	} else {
		binary.NativeEndian.PutUint32(b, uint32(l))
	}
	binary.NativeEndian.PutUint32(b[cmsgLenSize:], uint32(int32(level)))
	binary.NativeEndian.PutUint32(b[cmsgLenSize+4:], uint32(int32(typ)))
	return unix.CmsgLen(0)
}

// cmsgAppendPktinfo appends an IPV6_PKTINFO control message choosing the
// source address (ipi6_addr; :: or the zero Addr lets the kernel choose)
// and the outgoing interface (ipi6_ifindex; 0 lets routing choose), RFC
// 3542 section 6.1.
func cmsgAppendPktinfo(b []byte, src netip.Addr, ifindex int) []byte {
	start := len(b)
	space := unix.CmsgSpace(sizeofPktinfo)
	b = append(b, make([]byte, space)...)
	m := b[start:]
	off := cmsgPutHeader(m, unix.IPPROTO_IPV6, unix.IPV6_PKTINFO, sizeofPktinfo)
	if src.IsValid() {
		a := src.As16()
		copy(m[off:off+16], a[:])
	}
	binary.NativeEndian.PutUint32(m[off+16:], uint32(int32(ifindex)))
	return b
}

// cmsgInfo is what recvmsg's ancillary data told about one packet.
type cmsgInfo struct {
	pktinfo     bool // IPV6_PKTINFO was present (Dst and IfIndex are valid)
	dst         netip.Addr
	ifIndex     int
	hopLimit    int // -1 if IPV6_HOPLIMIT was absent
	hopOpts     bool
	routerAlert bool
	raValue     uint16
}

// cmsgParse walks the control messages in oob. Malformed trailing data (a
// header that claims more than there is) ends the walk; what was parsed
// before it is kept.
func cmsgParse(oob []byte) cmsgInfo {
	ci := cmsgInfo{hopLimit: -1}
	hdr := unix.CmsgLen(0)
	for len(oob) >= hdr {
		var l int
		if cmsgLenSize == 8 {
			l = int(binary.NativeEndian.Uint64(oob))
		} else {
			l = int(binary.NativeEndian.Uint32(oob))
		}
		if l < hdr || l > len(oob) {
			break
		}
		level := int32(binary.NativeEndian.Uint32(oob[cmsgLenSize:]))
		typ := int32(binary.NativeEndian.Uint32(oob[cmsgLenSize+4:]))
		data := oob[hdr:l]
		if level == unix.IPPROTO_IPV6 {
			switch typ {
			case unix.IPV6_PKTINFO:
				if len(data) >= sizeofPktinfo {
					ci.pktinfo = true
					ci.dst = netip.AddrFrom16([16]byte(data[:16]))
					ci.ifIndex = int(int32(binary.NativeEndian.Uint32(data[16:20])))
				}
			case unix.IPV6_HOPLIMIT:
				if len(data) >= sizeofHopLimit {
					ci.hopLimit = int(int32(binary.NativeEndian.Uint32(data)))
				}
			case unix.IPV6_HOPOPTS:
				ci.hopOpts = true
				ci.raValue, ci.routerAlert = hopOptsRouterAlert(data)
			}
		}
		next := unix.CmsgSpace(l - hdr)
		if next > len(oob) {
			break
		}
		oob = oob[next:]
	}
	return ci
}

// hopOptsRouterAlert looks for the Router Alert option (RFC 2711) in a
// hop-by-hop options header h (Next Header, Hdr Ext Len, options), as
// IPV6_HOPOPTS ancillary data delivers it, and returns its value.
func hopOptsRouterAlert(h []byte) (value uint16, ok bool) {
	if len(h) < 2 {
		return 0, false
	}
	end := min((int(h[1])+1)*8, len(h))
	for i := 2; i < end; {
		t := h[i]
		if t == optPad1 {
			i++
			continue
		}
		if i+2 > end {
			return 0, false
		}
		l := int(h[i+1])
		if i+2+l > end {
			return 0, false
		}
		if t == optRouterAlert && l == 2 {
			return binary.BigEndian.Uint16(h[i+2:]), true
		}
		i += 2 + l
	}
	return 0, false
}
