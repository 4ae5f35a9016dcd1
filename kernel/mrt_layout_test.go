package kernel

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"unsafe"
)

// The Go mirrors of the kernel's structs must have the C layout of
// include/uapi/linux/mroute6.h. Sizes and offsets are checked here; the
// integration tests check what the kernel makes of them (/proc and
// `ip -6 mroute` show the iif and each oif installed).
func TestMRTStructLayout(t *testing.T) {
	ulong := unsafe.Sizeof(uint(0)) // C unsigned long
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"sizeof(struct sockaddr_in6)", unsafe.Sizeof(mrtSockaddrIn6{}), 28},
		{"offsetof(sockaddr_in6, sin6_addr)", unsafe.Offsetof(mrtSockaddrIn6{}.Addr), 8},
		{"offsetof(sockaddr_in6, sin6_scope_id)", unsafe.Offsetof(mrtSockaddrIn6{}.ScopeID), 24},

		{"sizeof(struct mif6ctl)", unsafe.Sizeof(mrtMIF6ctl{}), 12},
		{"offsetof(mif6ctl, mif6c_flags)", unsafe.Offsetof(mrtMIF6ctl{}.Flags), 2},
		{"offsetof(mif6ctl, vifc_threshold)", unsafe.Offsetof(mrtMIF6ctl{}.Threshold), 3},
		{"offsetof(mif6ctl, mif6c_pifi)", unsafe.Offsetof(mrtMIF6ctl{}.Pifi), 4},
		{"offsetof(mif6ctl, vifc_rate_limit)", unsafe.Offsetof(mrtMIF6ctl{}.RateLimit), 8},

		{"sizeof(struct mf6cctl)", unsafe.Sizeof(mrtMF6cctl{}), 92},
		{"offsetof(mf6cctl, mf6cc_mcastgrp)", unsafe.Offsetof(mrtMF6cctl{}.Group), 28},
		{"offsetof(mf6cctl, mf6cc_parent)", unsafe.Offsetof(mrtMF6cctl{}.Parent), 56},
		{"offsetof(mf6cctl, mf6cc_ifset)", unsafe.Offsetof(mrtMF6cctl{}.IfSet), 60},

		{"sizeof(struct sioc_sg_req6)", unsafe.Sizeof(mrtSiocSGReq6{}), 56 + 3*ulong},
		{"offsetof(sioc_sg_req6, pktcnt)", unsafe.Offsetof(mrtSiocSGReq6{}.PktCnt), 56},
		{"offsetof(sioc_sg_req6, wrong_if)", unsafe.Offsetof(mrtSiocSGReq6{}.WrongIf), 56 + 2*ulong},

		{"sizeof(struct sioc_mif_req6)", unsafe.Sizeof(mrtSiocMIFReq6{}), 5 * ulong},
		{"offsetof(sioc_mif_req6, icount)", unsafe.Offsetof(mrtSiocMIFReq6{}.ICount), ulong},
		{"offsetof(sioc_mif_req6, obytes)", unsafe.Offsetof(mrtSiocMIFReq6{}.OBytes), 4 * ulong},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	if ulong == 8 {
		// The sizes of the brief, for the 64-bit machines we run on.
		if s := unsafe.Sizeof(mrtSiocSGReq6{}); s != 80 {
			t.Errorf("sizeof(struct sioc_sg_req6) = %d on a 64-bit machine, want 80", s)
		}
		if s := unsafe.Sizeof(mrtSiocMIFReq6{}); s != 40 {
			t.Errorf("sizeof(struct sioc_mif_req6) = %d on a 64-bit machine, want 40", s)
		}
	}
}

// The bytes handed to MRT6_ADD_MFC: where each field lands.
func TestMRTMF6cctlBytes(t *testing.T) {
	src := netip.MustParseAddr("2001:db8:1::2")
	grp := netip.MustParseAddr("ff3e::4321:1234")
	c := mrtMFC(src, grp, 7, MIFSet(0).Add(1).Add(3).Add(31))
	b := unsafe.Slice((*byte)(unsafe.Pointer(&c)), unsafe.Sizeof(c))
	ne := binary.NativeEndian
	if got := ne.Uint16(b[0:]); got != 10 {
		t.Errorf("origin sin6_family = %d, want AF_INET6 (10)", got)
	}
	if got := netip.AddrFrom16([16]byte(b[8:24])); got != src {
		t.Errorf("origin sin6_addr = %v, want %v", got, src)
	}
	if got := ne.Uint16(b[28:]); got != 10 {
		t.Errorf("group sin6_family = %d, want 10", got)
	}
	if got := netip.AddrFrom16([16]byte(b[36:52])); got != grp {
		t.Errorf("group sin6_addr = %v, want %v", got, grp)
	}
	if got := ne.Uint16(b[56:]); got != 7 {
		t.Errorf("mf6cc_parent = %d, want 7", got)
	}
	if b[58] != 0 || b[59] != 0 {
		t.Errorf("padding before the if_set = % x, want zero", b[58:60])
	}
	if got, want := ne.Uint32(b[60:]), uint32(1<<1|1<<3|1<<31); got != want {
		t.Errorf("if_set word 0 = %#x, want %#x", got, want)
	}
	for i := 64; i < 92; i++ {
		if b[i] != 0 {
			t.Fatalf("if_set beyond MIF 31: byte %d = %#x, want 0", i, b[i])
		}
	}
}
