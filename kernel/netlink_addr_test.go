package kernel

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Addrs lists the IPv6 addresses of every link with their flags, and no
// IPv4 address.
func TestNetlinkAddrs(t *testing.T) {
	p := newNLPair(t)
	p.a.AddAddr("v0", "2001:db8:5::1/64")
	p.a.MustRun("ip", "-6", "addr", "add", "2001:db8:7::1/64", "dev", "v0", "nodad", "preferred_lft", "0", "valid_lft", "3600")
	p.a.MustRun("ip", "-4", "addr", "add", "192.0.2.1/24", "dev", "v0")
	lladdr := nlLinkLocal(t, p)

	addrs, err := p.n.Addrs()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Addr{
		"::1/128":          {LinkIndex: 1, Prefix: nlPrefix("::1/128")},
		"2001:db8:5::1/64": {LinkIndex: p.v0, Prefix: nlPrefix("2001:db8:5::1/64")},
		"2001:db8:7::1/64": {LinkIndex: p.v0, Prefix: nlPrefix("2001:db8:7::1/64"), Deprecated: true},
		lladdr.String():    {LinkIndex: p.v0, Prefix: lladdr, LinkLocal: true},
	}
	got := map[string]Addr{}
	for _, a := range addrs {
		if a.LinkIndex == p.d0 {
			continue // its link-local address, if the kind has one
		}
		got[a.Prefix.String()] = a
	}
	if diff := cmp.Diff(want, got, nlCmp); diff != "" {
		t.Errorf("Addrs() (-want +got):\n%s", diff)
	}
}

// Adding and removing a global address gives AddrEvents; an address added
// while DAD is on is reported tentative, then again when DAD clears it.
func TestNetlinkSubscribeAddrEvents(t *testing.T) {
	p := newNLPair(t)
	ev := nlSubscribe(t, p.n, nil, nil)

	t.Run("add and remove", func(t *testing.T) {
		ev.t = t
		p.a.AddAddr("v0", "2001:db8:5::1/64")
		a := ev.waitForAddr("2001:db8:5::1/64", "added", func(e AddrEvent) bool { return !e.Deleted })
		if want := (Addr{LinkIndex: p.v0, Prefix: nlPrefix("2001:db8:5::1/64")}); a.Addr != want {
			t.Errorf("added: %+v, want %+v", a.Addr, want)
		}
		p.a.MustRun("ip", "-6", "addr", "del", "2001:db8:5::1/64", "dev", "v0")
		a = ev.waitForAddr("2001:db8:5::1/64", "deleted", func(e AddrEvent) bool { return e.Deleted })
		if a.Addr.LinkIndex != p.v0 {
			t.Errorf("deleted: %+v", a)
		}
	})

	t.Run("tentative until DAD is done", func(t *testing.T) {
		ev.t = t
		// DAD on, one probe, 100 ms apart, no random start delay.
		p.a.Sysctl("net.ipv6.conf.v0.accept_dad", "1")
		p.a.Sysctl("net.ipv6.conf.v0.dad_transmits", "1")
		p.a.Sysctl("net.ipv6.conf.v0.router_solicitation_delay", "0")
		p.a.Sysctl("net.ipv6.neigh.v0.retrans_time_ms", "100")
		p.a.MustRun("ip", "-6", "addr", "add", "2001:db8:6::1/64", "dev", "v0")
		a := ev.waitForAddr("2001:db8:6::1/64", "tentative", func(e AddrEvent) bool { return !e.Deleted })
		if !a.Addr.Tentative || a.Addr.DADFailed {
			t.Errorf("first AddrEvent: %+v, want Tentative", a)
		}
		a = ev.waitForAddr("2001:db8:6::1/64", "after DAD", func(e AddrEvent) bool { return !e.Addr.Tentative })
		if a.Deleted || a.Addr.DADFailed || a.Addr.LinkIndex != p.v0 {
			t.Errorf("after DAD: %+v", a)
		}
	})

	t.Run("DAD fails", func(t *testing.T) {
		ev.t = t
		p.b.AddAddr("p0", "2001:db8:6::2/64") // the peer has it already
		p.a.MustRun("ip", "-6", "addr", "add", "2001:db8:6::2/64", "dev", "v0")
		a := ev.waitForAddr("2001:db8:6::2/64", "DAD failed", func(e AddrEvent) bool { return e.Addr.DADFailed })
		if !a.Addr.Tentative || a.Deleted {
			t.Errorf("DAD failed: %+v, want still Tentative", a)
		}
	})

	t.Run("flushed by admin down", func(t *testing.T) {
		ev.t = t
		p.a.AddAddr("v0", "2001:db8:8::1/64")
		ev.waitForAddr("2001:db8:8::1/64", "added", func(e AddrEvent) bool { return !e.Deleted })
		p.a.MustRun("ip", "link", "set", "v0", "down")
		ev.waitForAddr("2001:db8:8::1/64", "removed by link down", func(e AddrEvent) bool { return e.Deleted })
	})
}

// nlLinkLocal is the link-local address of v0.
func nlLinkLocal(t *testing.T, p *nlPair) netip.Prefix {
	t.Helper()
	addrs, err := p.n.Addrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if a.LinkIndex == p.v0 && a.Prefix.Addr().IsLinkLocalUnicast() {
			return a.Prefix
		}
	}
	t.Fatalf("no link-local address on v0: %+v", addrs)
	return netip.Prefix{}
}
