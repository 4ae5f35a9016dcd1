package pim

import (
	"net/netip"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/timerq"
	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// TestHelloMessage checks our Hello on the wire: the options of 4.9.2 with
// the configured values, decoded from the bytes the daemon would send.
func TestHelloMessage(t *testing.T) {
	cfg := DefaultIfConfig()
	cfg.HelloHoldtime = 90 * time.Second
	cfg.DRPriority = 7
	cfg.PropagationDelay = 750 * time.Millisecond
	cfg.OverrideInterval = 3 * time.Second
	r, err := New(new(timerq.IDs), testConfig(seqRand(0xdeadbeef, 0)))
	if err != nil {
		t.Fatal(err)
	}
	globals := []netip.Addr{addr("2001:db8:1::10"), addr("fe80::99"), addr("2001:db8:0::10")}
	if _, err := r.AddInterface(tR, ifD, "eth0", selfD, globals, cfg); err != nil {
		t.Fatal(err)
	}
	acts := r.Expire(tR)
	if len(acts) != 1 {
		t.Fatalf("got %v, want one Hello", render(acts))
	}
	a := acts[0].(SendPIM)
	diff(t, "addressing", SendPIM{IfIndex: ifD, Src: selfD, Dst: addr("ff02::d")}, SendPIM{IfIndex: a.IfIndex, Src: a.Src, Dst: a.Dst})
	b, err := pimmsg.Marshal(a.Msg, a.Src, a.Dst)
	if err != nil {
		t.Fatal(err)
	}
	if v := pimmsg.VerifyChecksum(b, a.Src, a.Dst); v != pimmsg.ChecksumOK {
		t.Errorf("checksum %v", v)
	}
	m, err := pimmsg.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	want := &pimmsg.Hello{
		Holdtime:      u16(90),
		LANPruneDelay: &pimmsg.LANPruneDelay{T: false, PropagationDelay: 750, OverrideInterval: 3000},
		DRPriority:    u32(7),
		GenerationID:  u32(0xdeadbeef),
		// Link-local addresses are not secondary addresses; sorted.
		AddressList: []netip.Addr{addr("2001:db8::10"), addr("2001:db8:1::10")},
	}
	diff(t, "Hello", want, m)

	// Without global addresses there is no Address List option.
	r2 := newRouter(t)
	acts = r2.Expire(at(30))
	if h := acts[0].(SendPIM).Msg.(*pimmsg.Hello); h.AddressList != nil {
		t.Errorf("Address List %v, want none", h.AddressList)
	}
}

// TestFirstHelloDelay: the first Hello goes out rand(0,
// Triggered_Hello_Delay) after the interface starts (4.3.1); Rand is drawn
// for the Generation ID first, then for the delay.
func TestFirstHelloDelay(t *testing.T) {
	for _, tc := range []struct {
		name  string
		rand  uint32
		delay time.Duration
	}{
		{"zero", 0, 0},
		{"half", half, 2500 * time.Millisecond},
		{"quarter", 1 << 30, 1250 * time.Millisecond},
		{"max", 0xffffffff, 5*time.Second - 2}, // just below 5 s
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := New(new(timerq.IDs), testConfig(seqRand(42, tc.rand)))
			acts := mustAdd(t, r, tR, ifD, selfD)
			diff(t, "start-up", []string{"dr(2) fe80::d:1 self=true"}, render(acts))
			d, ok := r.NextDeadline()
			if !ok || d.Sub(tR) != tc.delay {
				t.Fatalf("first Hello at %v, want %v", d.Sub(tR), tc.delay)
			}
			if tc.delay > 0 {
				if acts := r.Expire(d.Add(-1)); len(acts) != 0 {
					t.Errorf("before the delay: %v", render(acts))
				}
			}
			diff(t, "at the delay", []string{"hello(2) from fe80::d:1 ht=105"}, render(r.Expire(d)))
			if st := ifaceState(r, d, ifD); st.GenerationID != 42 {
				t.Errorf("GenID %d, want 42", st.GenerationID)
			}
		})
	}
}

// TestPeriodicHello: Hellos every Hello_Period after the first.
func TestPeriodicHello(t *testing.T) {
	r, _ := New(new(timerq.IDs), testConfig(constRand(half)))
	cfg := DefaultIfConfig()
	cfg.HelloPeriod = 10 * time.Second
	cfg.HelloHoldtime = 35 * time.Second
	if _, err := r.AddInterface(tR, ifD, "eth0", selfD, nil, cfg); err != nil {
		t.Fatal(err)
	}
	diff(t, "Hellos", []string{
		"2.5 hello(2) from fe80::d:1 ht=35",
		"12.5 hello(2) from fe80::d:1 ht=35",
		"22.5 hello(2) from fe80::d:1 ht=35",
		"32.5 hello(2) from fe80::d:1 ht=35",
	}, runUntil(r, tR, at(40)))
}

// TestTriggeredHello: a new neighbor, or a known one with a new
// Generation ID, brings our next Hello forward to a random delay (4.3.1);
// a refresh does not. Periodic Hellos follow from the triggered one.
func TestTriggeredHello(t *testing.T) {
	// Rand: GenID, first Hello (0: at tR), then the triggered delays.
	r, _ := New(new(timerq.IDs), testConfig(seqRand(9, 0, half, half, 0xffffffff)))
	mustAdd(t, r, tR, ifD, selfD)
	r.Expire(tR)
	diff(t, "new neighbor", []string{"nbr(2) fe80::1 up new"}, render(hello(t, r, at(10), ifD, nbr1)))
	diff(t, "triggered", []string{"12.5 hello(2) from fe80::d:1 ht=105"}, runUntil(r, at(10), at(20)))
	diff(t, "refresh", []string(nil), render(hello(t, r, at(20), ifD, nbr1)))
	diff(t, "periodic after it", []string{"42.5 hello(2) from fe80::d:1 ht=105"}, runUntil(r, at(20), at(43)))
	diff(t, "restart", []string{"nbr(2) fe80::1 up restarted"}, render(hello(t, r, at(50), ifD, nbr1, withGenID(2))))
	diff(t, "triggered again", []string{"52.5 hello(2) from fe80::d:1 ht=105"}, runUntil(r, at(50), at(60)))
	// A triggered delay later than the periodic Hello leaves it alone.
	hello(t, r, at(80), ifD, nbr2)
	diff(t, "periodic wins", []string{"82.5 hello(2) from fe80::d:1 ht=105"}, runUntil(r, at(80), at(85)))
}

// TestHelloBeforeJoinPrune: a Join/Prune on an interface whose neighbors
// have not heard a Hello from us goes right after one (4.3.1).
func TestHelloBeforeJoinPrune(t *testing.T) {
	r, _ := New(new(timerq.IDs), testConfig(constRand(half))) // first Hellos at 2.5 s
	mustAdd(t, r, tR, ifD, selfD)
	mustAdd(t, r, tR, ifU, selfU)
	hello(t, r, at(0.1), ifD, nbr1)
	hello(t, r, at(0.1), ifU, nbr2)
	joinPrune(t, r, at(0.2), ifD, nbr1, selfD, 210, join(g1, s1))
	diff(t, "hello first", []string{
		"hello(3) from fe80::e:1 ht=105",
		"jp(3) to fe80::2 ht=210 G1 join[S1] prune[]",
		"route S1,G1 iif=3 oifs=[2]",
	}, render(rpf(r, at(0.3), s1, ifU, nbr2)))
	// The Hello Timer restarted: the next Hello is a Hello_Period later;
	// ifD still sends its own first Hello.
	diff(t, "next Hellos", []string{"2.5 hello(2) from fe80::d:1 ht=105", "30.3 hello(3) from fe80::e:1 ht=105"},
		runUntil(r, at(0.3), at(31)))
}

// TestGoodbye: Hello with Holdtime 0 on RemoveInterface and on Shutdown
// (4.3.1), and nothing after Shutdown.
func TestGoodbye(t *testing.T) {
	r := newRouter(t)
	hello(t, r, at(1), ifD, nbr1)
	diff(t, "remove", []string{"hello(2) from fe80::d:1 ht=0", "nbr(2) fe80::1 down interface-removed"},
		render(r.RemoveInterface(at(2), ifD)))
	diff(t, "interfaces", []int{ifU}, r.Interfaces())
	mustAdd(t, r, at(3), ifD, selfD)
	diff(t, "shutdown", []string{"hello(2) from fe80::d:1 ht=0", "hello(3) from fe80::e:1 ht=0"}, render(r.Shutdown(at(4))))
	if acts := r.Expire(at(1000)); acts != nil {
		t.Errorf("Expire after Shutdown: %v", render(acts))
	}
	if acts := hello(t, r, at(1000), ifD, nbr1); acts != nil {
		t.Errorf("Receive after Shutdown: %v", render(acts))
	}
	if _, ok := r.NextDeadline(); ok {
		t.Error("a deadline after Shutdown")
	}
	if _, err := r.AddInterface(at(1000), 9, "x", selfX, nil, DefaultIfConfig()); err != ErrShutdown {
		t.Errorf("AddInterface after Shutdown: %v", err)
	}
}

// TestSetAddresses: a new link-local address says goodbye from the old one
// and sends a Hello from the new one after a random delay; new global
// addresses alone go out at once in the Address List (4.3.1).
func TestSetAddresses(t *testing.T) {
	r, _ := New(new(timerq.IDs), testConfig(seqRand(1, 0, half)))
	mustAdd(t, r, tR, ifD, selfD)
	r.Expire(tR)
	diff(t, "globals", []string{"hello(2) from fe80::d:1 ht=105"},
		render(r.SetAddresses(at(1), ifD, selfD, []netip.Addr{addr("2001:db8::77")})))
	if st := ifaceState(r, at(1), ifD); len(st.Globals) != 1 {
		t.Errorf("globals %v", st.Globals)
	}
	diff(t, "no change", []string(nil), render(r.SetAddresses(at(2), ifD, selfD, []netip.Addr{addr("2001:db8::77")})))
	newSelf := addr("fe80::d:2")
	diff(t, "new primary", []string{"hello(2) from fe80::d:1 ht=0", "dr(2) fe80::d:2 self=true"},
		render(r.SetAddresses(at(3), ifD, newSelf, nil)))
	diff(t, "Hello from the new address", []string{"5.5 hello(2) from fe80::d:2 ht=105"}, runUntil(r, at(3), at(6)))
	diff(t, "not link-local", []string(nil), render(r.SetAddresses(at(7), ifD, addr("2001:db8::1"), nil)))
}

// TestSetInterfaceConfig: what our Hello says changed: a triggered Hello
// and a new DR election; a shorter Hello_Period brings the next Hello
// forward; an invalid configuration is refused whole.
func TestSetInterfaceConfig(t *testing.T) {
	r, _ := New(new(timerq.IDs), testConfig(seqRand(1, 0, half)))
	mustAdd(t, r, tR, ifD, selfD)
	r.Expire(tR)
	hello(t, r, at(1), ifD, addr("fe80::ff:1"), withPrio(5)) // wins at priority 5
	runUntil(r, at(1), at(3.5))
	cfg := DefaultIfConfig()
	cfg.DRPriority = 10
	acts, err := r.SetInterfaceConfig(at(10), ifD, cfg)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "priority", []string{"dr(2) fe80::d:1 self=true"}, render(acts))
	diff(t, "triggered", []string{"12.5 hello(2) from fe80::d:1 ht=105"}, runUntil(r, at(10), at(13)))
	cfg.HelloPeriod = 5 * time.Second
	cfg.HelloHoldtime = 18 * time.Second
	if _, err := r.SetInterfaceConfig(at(14), ifD, cfg); err != nil {
		t.Fatal(err)
	}
	// The next Hello was due at 42.5: now by 19 (the new period) and, as
	// the Holdtime changed, triggered at 14 + 2.5.
	diff(t, "shorter period", []string{"16.5 hello(2) from fe80::d:1 ht=18", "21.5 hello(2) from fe80::d:1 ht=18"}, runUntil(r, at(14), at(22)))
	bad := cfg
	bad.HelloHoldtime = cfg.HelloPeriod
	if _, err := r.SetInterfaceConfig(at(30), ifD, bad); err == nil {
		t.Error("holdtime = period accepted")
	}
	if got := ifaceState(r, at(30), ifD).Config; got != cfg {
		t.Errorf("config after a refused change: %+v", got)
	}
}
