package daemon

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"slices"
	"testing"
	"time"

	"golang.org/x/net/ipv6"

	"github.com/pim6sd/pim6sd/conf"
	"github.com/pim6sd/pim6sd/internal/netns"
	"github.com/pim6sd/pim6sd/mld"
)

// startDaemon runs a daemon inside ns until the test ends.
func startDaemon(t *testing.T, ns *netns.NS, cfg *conf.Config) *Daemon {
	t.Helper()
	var k *Linux
	if err := ns.Do(func() (err error) { k, err = OpenLinux(0); return err }); err != nil {
		t.Fatalf("open kernel in %s: %v", ns.Name, err)
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	d, err := New(cfg, k, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	ready := make(chan struct{})
	go func() { errc <- d.Run(ctx, ready) }()
	select {
	case <-ready:
	case err := <-errc:
		t.Fatalf("daemon: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("daemon shutdown: %v", err)
		}
	})
	return d
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	if os.Getenv("PIM6SD_TEST_LOG") != "" {
		w.t.Logf("%s", p)
	}
	return len(p), nil
}

// host is a Linux host namespace that joins groups with real sockets, so
// its kernel sends the MLD Reports.
type host struct {
	t      *testing.T
	ns     *netns.NS
	ifname string
	conn   *ipv6.PacketConn
	ifi    *net.Interface
}

func newHost(t *testing.T, ns *netns.NS, ifname string) *host {
	h := &host{t: t, ns: ns, ifname: ifname}
	if err := ns.Do(func() error {
		c, err := net.ListenPacket("udp6", "[::]:0")
		if err != nil {
			return err
		}
		h.conn = ipv6.NewPacketConn(c)
		h.ifi, err = net.InterfaceByName(ifname)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.conn.Close() })
	return h
}

func (h *host) join(group string, source ...string) {
	h.t.Helper()
	g := &net.UDPAddr{IP: net.ParseIP(group)}
	var err error
	if len(source) == 0 {
		err = h.conn.JoinGroup(h.ifi, g)
	} else {
		err = h.conn.JoinSourceSpecificGroup(h.ifi, g, &net.UDPAddr{IP: net.ParseIP(source[0])})
	}
	if err != nil {
		h.t.Fatalf("join %s %v: %v", group, source, err)
	}
}

func (h *host) leave(group string, source ...string) {
	h.t.Helper()
	g := &net.UDPAddr{IP: net.ParseIP(group)}
	var err error
	if len(source) == 0 {
		err = h.conn.LeaveGroup(h.ifi, g)
	} else {
		err = h.conn.LeaveSourceSpecificGroup(h.ifi, g, &net.UDPAddr{IP: net.ParseIP(source[0])})
	}
	if err != nil {
		h.t.Fatalf("leave %s %v: %v", group, source, err)
	}
}

// listener returns the daemon's listener state for (ifindex, group).
func listener(t *testing.T, d *Daemon, ifindex int, group string) (mld.ListenerUpdate, bool) {
	t.Helper()
	ls, err := d.Listeners()
	if err != nil {
		t.Fatal(err)
	}
	g := netip.MustParseAddr(group)
	for _, l := range ls {
		if l.IfIndex == ifindex && l.Group == g {
			return l, true
		}
	}
	return mld.ListenerUpdate{}, false
}

// waitListener polls until cond holds for (ifindex, group) and returns how
// long that took.
func waitListener(t *testing.T, d *Daemon, ifindex int, group string, within time.Duration, what string, cond func(mld.ListenerUpdate, bool) bool) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		l, ok := listener(t, d, ifindex, group)
		if cond(l, ok) {
			return time.Since(start)
		}
		if time.Since(start) > within {
			t.Fatalf("%s: not within %v; state now: present=%v %+v", what, within, ok, l)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func sourcesAre(l mld.ListenerUpdate, want ...string) bool {
	var got []string
	for _, s := range l.Sources {
		got = append(got, s.String())
	}
	slices.Sort(got)
	slices.Sort(want)
	return slices.Equal(got, want)
}

// Real Linux hosts join and leave with MLDv2 (any-source and
// source-specific) and MLDv1; the daemon's listener state follows, and
// leaves are seen within the Last Listener Query Time.
func TestMLDRealHosts(t *testing.T) {
	r := netns.New(t, "mldr")
	h2 := netns.New(t, "mldh2")
	h1 := netns.New(t, "mldh1")
	netns.Veth(t, r, "to-h2", h2, "to-r")
	netns.Veth(t, r, "to-h1", h1, "to-r")
	h1.Sysctl("net.ipv6.conf.to-r.force_mld_version", "1")
	// Wait for link-local addresses so the daemon sees eligible links.
	r.LinkLocal("to-h2")
	r.LinkLocal("to-h1")
	h2.LinkLocal("to-r")
	h1.LinkLocal("to-r")

	cfg := conf.Default()
	d := startDaemon(t, r, cfg)
	ifV2, ifV1 := r.IfIndex("to-h2"), r.IfIndex("to-h1")
	mcfg, _ := cfg.InterfaceMLD("to-h2")
	llqt := time.Duration(mcfg.LastListenerQueryCount) * mcfg.LastListenerQueryInterval

	v2 := newHost(t, h2, "to-r")
	v1 := newHost(t, h1, "to-r")

	t.Run("v2 any-source join", func(t *testing.T) {
		v2.join("ff0e::4321:1")
		waitListener(t, d, ifV2, "ff0e::4321:1", 3*time.Second, "EXCLUDE({}) after the join", func(l mld.ListenerUpdate, ok bool) bool {
			return ok && l.Mode == mld.Exclude && len(l.Sources) == 0
		})
	})
	t.Run("v2 source-specific join", func(t *testing.T) {
		v2.join("ff3e::4321:2", "2001:db8:1::10")
		v2.join("ff3e::4321:2", "2001:db8:1::11")
		waitListener(t, d, ifV2, "ff3e::4321:2", 3*time.Second, "INCLUDE({S1,S2})", func(l mld.ListenerUpdate, ok bool) bool {
			return ok && l.Mode == mld.Include && sourcesAre(l, "2001:db8:1::10", "2001:db8:1::11")
		})
		v2.leave("ff3e::4321:2", "2001:db8:1::11")
		took := waitListener(t, d, ifV2, "ff3e::4321:2", llqt+time.Second, "INCLUDE({S1}) after BLOCK(S2)", func(l mld.ListenerUpdate, ok bool) bool {
			return ok && l.Mode == mld.Include && sourcesAre(l, "2001:db8:1::10")
		})
		t.Logf("source leave seen after %v (LLQT %v)", took, llqt)
	})
	t.Run("v2 leave", func(t *testing.T) {
		v2.leave("ff0e::4321:1")
		took := waitListener(t, d, ifV2, "ff0e::4321:1", llqt+time.Second, "group gone after the leave", func(_ mld.ListenerUpdate, ok bool) bool { return !ok })
		t.Logf("leave seen after %v (LLQT %v)", took, llqt)
	})
	t.Run("v1 join and leave", func(t *testing.T) {
		v1.join("ff0e::4321:3")
		waitListener(t, d, ifV1, "ff0e::4321:3", 3*time.Second, "EXCLUDE({}) after an MLDv1 Report", func(l mld.ListenerUpdate, ok bool) bool {
			return ok && l.Mode == mld.Exclude && len(l.Sources) == 0
		})
		st, err := d.MLDState()
		if err != nil {
			t.Fatal(err)
		}
		if !groupInCompat(st, ifV1, "ff0e::4321:3") {
			t.Errorf("the group joined by an MLDv1 host is not in v1 compatibility mode: %+v", st)
		}
		v1.leave("ff0e::4321:3")
		took := waitListener(t, d, ifV1, "ff0e::4321:3", llqt+time.Second, "group gone after the MLDv1 Done", func(_ mld.ListenerUpdate, ok bool) bool { return !ok })
		t.Logf("v1 leave seen after %v (LLQT %v)", took, llqt)
	})
	t.Run("SSM group with MLDv1 makes no state", func(t *testing.T) {
		v1.join("ff3e::4321:4")
		time.Sleep(500 * time.Millisecond)
		if l, ok := listener(t, d, ifV1, "ff3e::4321:4"); ok {
			t.Fatalf("an MLDv1 report for an SSM group created state: %+v", l)
		}
	})
}

func groupInCompat(st []mld.InterfaceState, ifindex int, group string) bool {
	for _, i := range st {
		if i.IfIndex != ifindex {
			continue
		}
		for _, g := range i.Groups {
			if g.Group.String() == group {
				return g.Compat == mld.V1
			}
		}
	}
	return false
}
