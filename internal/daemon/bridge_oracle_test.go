package daemon

// The Linux bridge has its own MLDv2 router-side state machine (multicast
// snooping with mcast_querier on). Fed the same Report sequences, its
// per-port filter mode and source lists must agree with our mld engine's.
// It is an implementation we did not write: a differential oracle for the
// RFC 3810 section 7.4 tables.

import (
	"encoding/json"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/netns"
	"github.com/pim6sd/pim6sd/internal/timerq"
	"github.com/pim6sd/pim6sd/kernel"
	"github.com/pim6sd/pim6sd/mld"
	"github.com/pim6sd/pim6sd/mld/mldmsg"
)

// bridgeLab is a bridge acting as MLDv2 querier with one port toward a
// host namespace from which we send hand-made Reports.
type bridgeLab struct {
	t      *testing.T
	br     *netns.NS
	hostLL netip.Addr
	hostIf int
	conn   *kernel.MLDConn
}

// bridgeLLQI is the Last Listener Query Interval of both the bridge and
// our engine in this test: long enough that no timer lowered by a specific
// Query runs out while the steps of a sequence run, however slowly (in an
// emulated VM a step takes about 0.15 s; LLQT is twice this). Expiry is
// tested by steps that wait past LLQT on purpose, so both sides have
// expired before the next Report. With the default 1 s, a slow step could
// land within the few milliseconds between the bridge's and our engine's
// expiry of the same timer, where each side is right about a different
// order of events and their states part for good.
const bridgeLLQI = 5 * time.Second

func newBridgeLab(t *testing.T) *bridgeLab {
	br := netns.New(t, "mdbbr")
	h := netns.New(t, "mdbh")
	br.MustRun("ip", "link", "add", "br0", "type", "bridge", "mcast_snooping", "1", "mcast_querier", "1", "mcast_mld_version", "2",
		"mcast_last_member_interval", strconv.Itoa(int(bridgeLLQI/(10*time.Millisecond))), "mcast_last_member_count", "2")
	netns.Veth(t, br, "p1", h, "eth0")
	br.MustRun("ip", "link", "set", "p1", "master", "br0")
	br.Sysctl("net.ipv6.conf.br0.accept_dad", "0")
	br.LinkUp("br0")
	l := &bridgeLab{t: t, br: br, hostLL: h.LinkLocal("eth0"), hostIf: h.IfIndex("eth0")}
	if err := h.Do(func() (err error) { l.conn, err = kernel.OpenMLD(); return err }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.conn.Close() })
	return l
}

func (l *bridgeLab) send(b []byte) {
	l.t.Helper()
	if err := l.conn.WriteTo(b, l.hostIf, l.hostLL, netip.MustParseAddr("ff02::16")); err != nil {
		l.t.Fatal(err)
	}
}

// mdbState is one group's state on the bridge port: filter mode, sources
// with a running timer, and sources whose timer is 0 (EXCLUDE's Y list).
type mdbState struct {
	Mode    string
	Running []string
	Zero    []string
}

func (l *bridgeLab) state(group netip.Addr) (mdbState, bool) {
	l.t.Helper()
	out := l.br.MustRun("bridge", "-j", "-d", "-s", "mdb", "show", "dev", "br0")
	var doc []struct {
		MDB []struct {
			Port       string `json:"port"`
			Grp        string `json:"grp"`
			Src        string `json:"src"`
			FilterMode string `json:"filter_mode"`
			SourceList []struct {
				Address string `json:"address"`
				Timer   string `json:"timer"`
			} `json:"source_list"`
		} `json:"mdb"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		l.t.Fatalf("bridge mdb JSON: %v\n%s", err, out)
	}
	for _, d := range doc {
		for _, e := range d.MDB {
			if e.Port != "p1" || e.Src != "" || e.Grp != group.String() {
				continue
			}
			s := mdbState{Mode: e.FilterMode}
			for _, src := range e.SourceList {
				if v, _ := strconv.ParseFloat(strings.TrimSpace(src.Timer), 64); v > 0 {
					s.Running = append(s.Running, src.Address)
				} else {
					s.Zero = append(s.Zero, src.Address)
				}
			}
			slices.Sort(s.Running)
			slices.Sort(s.Zero)
			return s, true
		}
	}
	return mdbState{}, false
}

// engineState is the same view of our engine.
func engineState(t *testing.T, st []mld.InterfaceState, group netip.Addr) (mdbState, bool) {
	t.Helper()
	for _, i := range st {
		for _, g := range i.Groups {
			if g.Group != group {
				continue
			}
			s := mdbState{Mode: strings.ToLower(g.Mode.String())}
			for _, src := range g.Sources {
				if src.Left > 0 {
					s.Running = append(s.Running, src.Source.String())
				} else {
					s.Zero = append(s.Zero, src.Source.String())
				}
			}
			slices.Sort(s.Running)
			slices.Sort(s.Zero)
			return s, true
		}
	}
	return mdbState{}, false
}

func TestMLDAgainstLinuxBridge(t *testing.T) {
	l := newBridgeLab(t)
	var ids timerq.IDs
	r := mld.New(&ids)
	self := netip.MustParseAddr("fe80::ffff")
	now := time.Now()
	cfg := mld.DefaultConfig()
	cfg.LastListenerQueryInterval, cfg.LastListenerQueryCount = bridgeLLQI, 2
	llqt := 2 * bridgeLLQI
	if _, err := r.AddInterface(now, 1, "p1", self, cfg); err != nil {
		t.Fatal(err)
	}

	src := func(n int) netip.Addr { return netip.MustParseAddr("2001:db8:5::" + strconv.Itoa(n)) }
	srcs := func(ns ...int) []netip.Addr {
		var out []netip.Addr
		for _, n := range ns {
			out = append(out, src(n))
		}
		return out
	}
	type step struct {
		name string
		rec  mldmsg.RecordType
		srcs []netip.Addr
		wait time.Duration // no Report: let the lowered timers run out
	}
	// expire waits past LLQT and a second more (the bridge's and our
	// processing of the last Report differ by milliseconds).
	expire := step{name: "timers-lowered-by-queries-expire", wait: llqt + time.Second}
	// Each sequence walks rows of RFC 3810 7.4.1 and 7.4.2 on its own group.
	seqs := []struct {
		group string
		steps []step
	}{
		{"ff0e::100", []step{
			{"INCLUDE+IS_IN", mldmsg.ModeIsInclude, srcs(1, 2), 0},
			{"INCLUDE+ALLOW", mldmsg.AllowNewSources, srcs(3), 0},
			{"INCLUDE+BLOCK", mldmsg.BlockOldSources, srcs(1), 0},
			{"INCLUDE+TO_IN", mldmsg.ChangeToInclude, srcs(4), 0},
			{"INCLUDE+TO_EX", mldmsg.ChangeToExclude, srcs(2, 5), 0},
			{"EXCLUDE+IS_IN", mldmsg.ModeIsInclude, srcs(6), 0},
			{"EXCLUDE+BLOCK", mldmsg.BlockOldSources, srcs(5, 7), 0},
			{"EXCLUDE+ALLOW", mldmsg.AllowNewSources, srcs(5), 0},
			{"EXCLUDE+TO_IN", mldmsg.ChangeToInclude, srcs(8), 0},
			{"EXCLUDE+IS_EX", mldmsg.ModeIsExclude, srcs(2, 9), 0},
			{"EXCLUDE+TO_EX", mldmsg.ChangeToExclude, srcs(9, 10), 0},
			{"EXCLUDE+TO_IN", mldmsg.ChangeToInclude, srcs(11), 0},
			// Q(G) and Q(G,X-A) lowered the Filter Timer and the timers of
			// 9 and 10 to LLQT: 9 and 10 join the Exclude List (7.2.3),
			// then the Filter Timer switches the group to INCLUDE with the
			// sources still running (11), dropping the Exclude List (7.5).
			expire,
			{"INCLUDE+IS_EX", mldmsg.ModeIsExclude, srcs(9, 12), 0},
		}},
		{"ff0e::101", []step{
			{"INCLUDE+IS_EX", mldmsg.ModeIsExclude, srcs(1, 2), 0},
			{"EXCLUDE+IS_EX", mldmsg.ModeIsExclude, srcs(2, 3), 0},
		}},
		{"ff0e::102", []step{
			{"INCLUDE({})+TO_EX({})", mldmsg.ChangeToExclude, nil, 0},
			{"EXCLUDE+IS_IN", mldmsg.ModeIsInclude, srcs(1), 0},
			{"EXCLUDE+ALLOW", mldmsg.AllowNewSources, srcs(2), 0},
		}},
	}
	for _, seq := range seqs {
		g := netip.MustParseAddr(seq.group)
		for _, s := range seq.steps {
			t.Run(seq.group+"/"+s.name, func(t *testing.T) {
				if s.wait > 0 {
					time.Sleep(s.wait)
				} else {
					rep := &mldmsg.ReportV2{Records: []mldmsg.Record{{Type: s.rec, Group: g, Sources: s.srcs}}}
					b, err := mldmsg.Marshal(rep, l.hostLL, netip.MustParseAddr("ff02::16"))
					if err != nil {
						t.Fatal(err)
					}
					l.send(b)
					now := time.Now()
					r.Expire(now)
					r.Receive(now, 1, mld.Packet{Src: l.hostLL, Dst: netip.MustParseAddr("ff02::16"), HopLimit: 1, RouterAlert: true, Data: b})
				}
				// The bridge processes the report asynchronously; poll
				// briefly. Both sides' timers run on the same clock: ours is
				// read at the time of each look at the bridge.
				var got, want mdbState
				var present, ok bool
				for deadline := time.Now().Add(2 * time.Second); ; {
					got, present = l.state(g)
					now := time.Now()
					r.Expire(now)
					want, ok = engineState(t, r.Snapshot(now), g)
					if present == ok && slices.Equal(got.Running, want.Running) && slices.Equal(got.Zero, want.Zero) && got.Mode == want.Mode {
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("after %s %v:\n ours:   present=%v %+v\n bridge: present=%v %+v", s.rec, s.srcs, ok, want, present, got)
					}
					time.Sleep(20 * time.Millisecond)
				}
				t.Logf("both: present=%v %+v", ok, want)
			})
		}
	}
}
