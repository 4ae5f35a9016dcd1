package sim

import (
	"maps"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/pim6sd/pim6sd/mld/mldmsg"
)

// The host's MLD values (RFC 3810 section 9 defaults; RFC 2710 for v1).
const (
	hostRobustness   = 2
	hostURIv2        = time.Second      // Unsolicited Report Interval, MLDv2
	hostURIv1        = 10 * time.Second // Unsolicited Report Interval, MLDv1
	olderQuerierTime = hostRobustness*125*time.Second + 10*time.Second
)

// Host is a multicast listener and sender with one interface: an MLDv2
// host (RFC 3810 sections 5 and 6), or MLDv1 (RFC 2710) when forced or
// when it hears an MLDv1 Query.
//
// Simplifications: a new state change of a group replaces that group's
// pending retransmissions instead of merging with them (RFC 3810 6.1);
// Reports are never split by the MTU; hosts keep no Done suppression
// state (an MLDv1 host always sends Done when it leaves).
type Host struct {
	n        *Net
	name     string
	ifc      *Iface
	rng      *rand.Rand
	hopLimit int

	forceV1 bool
	v1Until time.Time

	groups map[netip.Addr]*hostGroup

	pending    map[netip.Addr]*pendingChange // MLDv2 state-change retransmissions
	retransmit *event

	generalResp *event
	generalAt   time.Time
	groupResp   map[netip.Addr]*groupResp
	v1Resp      map[netip.Addr]*v1Timer

	received []Datagram
}

// hostGroup is the host's filter for a group (RFC 3810 section 4.2):
// INCLUDE sources, or EXCLUDE sources.
type hostGroup struct {
	exclude bool
	sources []netip.Addr // sorted
}

func (g *hostGroup) member() bool { return g != nil && (g.exclude || len(g.sources) > 0) }

func (g *hostGroup) passes(src netip.Addr) bool {
	if g == nil {
		return false
	}
	_, in := slices.BinarySearchFunc(g.sources, src, netip.Addr.Compare)
	return in != g.exclude
}

type pendingChange struct {
	records []mldmsg.Record
	left    int
}

type groupResp struct {
	ev      *event
	at      time.Time
	all     bool // a group-specific query: report the whole state
	sources []netip.Addr
}

type v1Timer struct {
	ev *event
	at time.Time
}

// Datagram is a UDP datagram a host received.
type Datagram struct {
	At         time.Time
	Src, Group netip.Addr
	HopLimit   int
	Data       []byte
}

// AddHost adds a host on link l with link-local address ll (e.g.
// "fe80::100") and global address global ("2001:db8:1::100/64"; /64
// when no length is given).
func (n *Net) AddHost(name string, l *Link, ll, global string) *Host {
	n.tb.Helper()
	n.claim(name)
	if !strings.Contains(global, "/") {
		global += "/64"
	}
	h := &Host{n: n, name: name, rng: n.rng(name, 0), hopLimit: 64,
		groups: map[netip.Addr]*hostGroup{}, pending: map[netip.Addr]*pendingChange{},
		groupResp: map[netip.Addr]*groupResp{}, v1Resp: map[netip.Addr]*v1Timer{}}
	a := n.addr(ll)
	if !a.IsLinkLocalUnicast() {
		n.fatalf("%s: %v is not link-local", name, a)
	}
	h.ifc = &Iface{owner: h, name: "eth0", index: 2, ll: a, globals: []netip.Prefix{n.prefix(global)}, mtu: 1500, adminUp: true, carrier: true}
	if l != nil {
		h.ifc.link = l
		l.ifs = append(l.ifs, h.ifc)
	}
	n.hosts = append(n.hosts, h)
	return h
}

// Name is the host's name.
func (h *Host) Name() string { return h.name }

// Iface is the host's interface.
func (h *Host) Iface() *Iface { return h.ifc }

// Addr is the host's global address (the source of what it sends).
func (h *Host) Addr() netip.Addr {
	if len(h.ifc.globals) == 0 {
		return netip.Addr{}
	}
	return h.ifc.globals[0].Addr()
}

// SetHopLimit sets the hop limit of the datagrams Send sends (64).
func (h *Host) SetHopLimit(hl int) { h.hopLimit = hl }

// ForceMLDv1 makes the host speak MLDv1 only, as Linux does with
// net.ipv6.conf.<if>.force_mld_version=1.
func (h *Host) ForceMLDv1() { h.forceV1 = true }

func (h *Host) v1Mode() bool { return h.forceV1 || h.n.now.Before(h.v1Until) }

// Join listens to every source of group (EXCLUDE {}).
func (h *Host) Join(group string) {
	g := h.n.addr(group)
	h.setState(g, &hostGroup{exclude: true})
}

// JoinSource adds source to the sources the host listens to for group
// (INCLUDE mode; in EXCLUDE mode, source is no longer excluded).
func (h *Host) JoinSource(group, source string) {
	g, s := h.n.addr(group), h.n.addr(source)
	old := h.groups[g]
	st := &hostGroup{}
	if old != nil {
		st.exclude = old.exclude
		st.sources = slices.Clone(old.sources)
	}
	if st.exclude {
		st.sources = slices.DeleteFunc(st.sources, func(x netip.Addr) bool { return x == s })
	} else if !slices.Contains(st.sources, s) {
		st.sources = append(st.sources, s)
		slices.SortFunc(st.sources, netip.Addr.Compare)
	}
	h.setState(g, st)
}

// LeaveSource stops listening to source for group (INCLUDE mode; in
// EXCLUDE mode, source becomes excluded).
func (h *Host) LeaveSource(group, source string) {
	g, s := h.n.addr(group), h.n.addr(source)
	old := h.groups[g]
	if old == nil {
		return
	}
	st := &hostGroup{exclude: old.exclude, sources: slices.Clone(old.sources)}
	if st.exclude {
		if !slices.Contains(st.sources, s) {
			st.sources = append(st.sources, s)
			slices.SortFunc(st.sources, netip.Addr.Compare)
		}
	} else {
		st.sources = slices.DeleteFunc(st.sources, func(x netip.Addr) bool { return x == s })
	}
	h.setState(g, st)
}

// Leave stops listening to group altogether (INCLUDE {}).
func (h *Host) Leave(group string) {
	h.setState(h.n.addr(group), &hostGroup{})
}

// Groups lists the groups the host listens to.
func (h *Host) Groups() []netip.Addr {
	return slices.SortedFunc(maps.Keys(h.groups), netip.Addr.Compare)
}

func sameState(a, b *hostGroup) bool {
	if !a.member() && !b.member() {
		return true
	}
	return a != nil && b != nil && a.exclude == b.exclude && slices.Equal(a.sources, b.sources)
}

// setState changes a group's filter and reports the change.
func (h *Host) setState(g netip.Addr, st *hostGroup) {
	old := h.groups[g]
	if sameState(old, st) {
		return
	}
	if st.member() {
		h.groups[g] = st
	} else {
		delete(h.groups, g)
	}
	if h.v1Mode() {
		switch {
		case !old.member() && st.member():
			h.sendMLD(&mldmsg.ReportV1{Group: g}, g)
			h.armV1(g, hostURIv1)
		case old.member() && !st.member():
			if t := h.v1Resp[g]; t != nil {
				h.n.cancel(t.ev)
				delete(h.v1Resp, g)
			}
			h.sendMLD(&mldmsg.Done{Group: g}, allRouters)
		}
		return
	}
	if old == nil {
		old = &hostGroup{}
	}
	recs := changeRecords(g, old, st)
	if len(recs) == 0 {
		return
	}
	h.pending[g] = &pendingChange{records: recs, left: hostRobustness - 1}
	h.sendMLD(&mldmsg.ReportV2{Records: recs}, allMLDv2)
	h.armRetransmit()
}

// changeRecords are the State Change Records of RFC 3810 section 6.1.
func changeRecords(g netip.Addr, old, st *hostGroup) []mldmsg.Record {
	minus := func(a, b []netip.Addr) []netip.Addr {
		var out []netip.Addr
		for _, x := range a {
			if !slices.Contains(b, x) {
				out = append(out, x)
			}
		}
		return out
	}
	var recs []mldmsg.Record
	add := func(t mldmsg.RecordType, s []netip.Addr, always bool) {
		if len(s) > 0 || always {
			recs = append(recs, mldmsg.Record{Type: t, Group: g, Sources: s})
		}
	}
	switch {
	case !old.exclude && !st.exclude:
		add(mldmsg.AllowNewSources, minus(st.sources, old.sources), false)
		add(mldmsg.BlockOldSources, minus(old.sources, st.sources), false)
	case old.exclude && st.exclude:
		add(mldmsg.AllowNewSources, minus(old.sources, st.sources), false)
		add(mldmsg.BlockOldSources, minus(st.sources, old.sources), false)
	case !old.exclude && st.exclude:
		add(mldmsg.ChangeToExclude, slices.Clone(st.sources), true)
	default:
		add(mldmsg.ChangeToInclude, slices.Clone(st.sources), true)
	}
	return recs
}

func (h *Host) randDelay(max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	return time.Duration(h.rng.Int64N(int64(max)))
}

// armRetransmit schedules the next retransmission of pending state
// changes, [Robustness]-1 of them at random within the Unsolicited Report
// Interval.
func (h *Host) armRetransmit() {
	if h.retransmit != nil || len(h.pending) == 0 {
		return
	}
	h.retransmit = h.n.schedule(h.n.now.Add(h.randDelay(hostURIv2)), func() {
		h.retransmit = nil
		var recs []mldmsg.Record
		for _, g := range slices.SortedFunc(maps.Keys(h.pending), netip.Addr.Compare) {
			pc := h.pending[g]
			recs = append(recs, pc.records...)
			pc.left--
			if pc.left <= 0 {
				delete(h.pending, g)
			}
		}
		if len(recs) > 0 {
			h.sendMLD(&mldmsg.ReportV2{Records: recs}, allMLDv2)
		}
		h.armRetransmit()
	})
}

// armV1 schedules an MLDv1 Report of g within max, unless one is due
// sooner.
func (h *Host) armV1(g netip.Addr, max time.Duration) {
	at := h.n.now.Add(h.randDelay(max))
	if t := h.v1Resp[g]; t != nil {
		if !t.at.After(at) {
			return
		}
		h.n.cancel(t.ev)
	}
	t := &v1Timer{at: at}
	t.ev = h.n.schedule(at, func() {
		delete(h.v1Resp, g)
		if h.groups[g].member() {
			h.sendMLD(&mldmsg.ReportV1{Group: g}, g)
		}
	})
	h.v1Resp[g] = t
}

// sendMLD sends an MLD message from the link-local address, hop limit 1,
// with Router Alert.
func (h *Host) sendMLD(m mldmsg.Message, dst netip.Addr) {
	src := h.ifc.LinkLocal()
	if !src.IsValid() {
		return
	}
	b, err := mldmsg.Marshal(m, src, dst)
	if err != nil {
		h.n.fatalf("%s: marshal MLD: %v", h.name, err)
	}
	h.n.transmit(h.ifc, &Packet{Src: src, Dst: dst, HopLimit: 1, Proto: protoICMPv6, RouterAlert: true, Payload: b}, nil)
}

// currentState is a group's Current-State Record.
func currentState(g netip.Addr, st *hostGroup) mldmsg.Record {
	if st.exclude {
		return mldmsg.Record{Type: mldmsg.ModeIsExclude, Group: g, Sources: slices.Clone(st.sources)}
	}
	return mldmsg.Record{Type: mldmsg.ModeIsInclude, Group: g, Sources: slices.Clone(st.sources)}
}

// receive is a frame for the host: MLD it takes part in and datagrams of
// groups it listens to (through its source filter).
func (h *Host) receive(ifc *Iface, p *Packet, _ *Iface) {
	if !p.Dst.IsMulticast() {
		return
	}
	if p.Dst != allNodes && !h.groups[p.Dst].member() {
		return
	}
	switch p.Proto {
	case protoICMPv6:
		if !isMLD(p.Payload) || p.HopLimit != 1 || !p.RouterAlert || !p.Src.IsLinkLocalUnicast() ||
			!mldmsg.VerifyChecksum(p.Payload, p.Src, p.Dst) {
			return
		}
		m, err := mldmsg.Parse(p.Payload)
		if err != nil {
			return
		}
		switch m := m.(type) {
		case *mldmsg.QueryV1:
			h.queryV1(m)
		case *mldmsg.QueryV2:
			h.queryV2(m)
		case *mldmsg.ReportV1:
			// MLDv1 report suppression (RFC 2710 section 4).
			if t := h.v1Resp[m.Group]; t != nil && h.v1Mode() {
				h.n.cancel(t.ev)
				delete(h.v1Resp, m.Group)
			}
		}
	case protoUDP:
		data, ok := parseUDP(p.Src, p.Dst, p.Payload)
		if !ok || !h.groups[p.Dst].passes(p.Src) {
			return
		}
		h.received = append(h.received, Datagram{At: h.n.now, Src: p.Src, Group: p.Dst, HopLimit: p.HopLimit, Data: append([]byte(nil), data...)})
	}
}

// queryV1: an MLDv1 Querier is present (RFC 3810 8.2.1): MLDv1 for the
// Older Version Querier Present Timeout, pending MLDv2 responses and
// retransmissions cancelled; then MLDv1 reports within the delay.
func (h *Host) queryV1(m *mldmsg.QueryV1) {
	if !h.v1Mode() {
		h.cancelV2()
	}
	h.v1Until = h.n.now.Add(olderQuerierTime)
	h.respondV1(m.Group, time.Duration(m.MaxRespDelay)*time.Millisecond)
}

func (h *Host) cancelV2() {
	h.n.cancel(h.retransmit)
	h.retransmit = nil
	clear(h.pending)
	h.n.cancel(h.generalResp)
	h.generalResp = nil
	for g, gr := range h.groupResp {
		h.n.cancel(gr.ev)
		delete(h.groupResp, g)
	}
}

func (h *Host) respondV1(g netip.Addr, max time.Duration) {
	if g.IsUnspecified() {
		for _, x := range h.Groups() {
			h.armV1(x, max)
		}
		return
	}
	if h.groups[g].member() {
		h.armV1(g, max)
	}
}

// queryV2 schedules the response to an MLDv2 Query (RFC 3810 6.2).
func (h *Host) queryV2(m *mldmsg.QueryV2) {
	if h.v1Mode() {
		h.respondV1(m.Group, m.MaxRespDelay())
		return
	}
	at := h.n.now.Add(h.randDelay(m.MaxRespDelay()))
	if h.generalResp != nil && !h.generalAt.After(at) {
		return // a General Query's response is due sooner
	}
	if m.Group.IsUnspecified() {
		h.n.cancel(h.generalResp)
		h.generalAt = at
		h.generalResp = h.n.schedule(at, func() {
			h.generalResp = nil
			var recs []mldmsg.Record
			for _, g := range h.Groups() {
				recs = append(recs, currentState(g, h.groups[g]))
			}
			if len(recs) > 0 {
				h.sendMLD(&mldmsg.ReportV2{Records: recs}, allMLDv2)
			}
		})
		return
	}
	g := m.Group
	if !h.groups[g].member() {
		return
	}
	gr := h.groupResp[g]
	if gr == nil {
		gr = &groupResp{at: at, all: len(m.Sources) == 0, sources: slices.Clone(m.Sources)}
		h.groupResp[g] = gr
	} else {
		if len(m.Sources) == 0 || gr.all {
			gr.all, gr.sources = true, nil
		} else {
			for _, s := range m.Sources {
				if !slices.Contains(gr.sources, s) {
					gr.sources = append(gr.sources, s)
				}
			}
		}
		if !at.Before(gr.at) {
			return
		}
		h.n.cancel(gr.ev)
		gr.at = at
	}
	gr.ev = h.n.schedule(gr.at, func() {
		delete(h.groupResp, g)
		st := h.groups[g]
		if !st.member() {
			return
		}
		if gr.all {
			h.sendMLD(&mldmsg.ReportV2{Records: []mldmsg.Record{currentState(g, st)}}, allMLDv2)
			return
		}
		var srcs []netip.Addr
		for _, s := range gr.sources {
			if st.passes(s) {
				srcs = append(srcs, s)
			}
		}
		if len(srcs) == 0 {
			return
		}
		slices.SortFunc(srcs, netip.Addr.Compare)
		h.sendMLD(&mldmsg.ReportV2{Records: []mldmsg.Record{{Type: mldmsg.ModeIsInclude, Group: g, Sources: srcs}}}, allMLDv2)
	})
}

// ifaceChanged: when the interface comes (back) up the host announces
// its groups again, as Linux does on NETDEV_UP.
func (h *Host) ifaceChanged(i *Iface, old ifaceState) {
	if old.adminUp && old.lowerUp || !i.Up() {
		return
	}
	for _, g := range h.Groups() {
		st := h.groups[g]
		if h.v1Mode() {
			h.sendMLD(&mldmsg.ReportV1{Group: g}, g)
			continue
		}
		recs := changeRecords(g, &hostGroup{}, st)
		h.pending[g] = &pendingChange{records: recs, left: hostRobustness - 1}
		h.sendMLD(&mldmsg.ReportV2{Records: recs}, allMLDv2)
	}
	h.armRetransmit()
}

// --- sending ---

// Send sends one UDP datagram to group from the host's global address
// (hop limit 64 unless SetHopLimit).
func (h *Host) Send(group string, data []byte) {
	h.send(h.n.addr(group), data)
}

func (h *Host) send(g netip.Addr, data []byte) {
	src := h.Addr()
	if !src.IsValid() {
		h.n.fatalf("%s: no global address to send from", h.name)
	}
	p := &Packet{Src: src, Dst: g, HopLimit: h.hopLimit, Proto: protoUDP,
		Payload: udpDatagram(src, g, SourcePort, DestPort, data)}
	h.n.transmit(h.ifc, p, nil)
}

// Stream sends numbered datagrams to a group at a fixed interval.
type Stream struct {
	h       *Host
	g       netip.Addr
	every   time.Duration
	next    uint64
	ev      *event
	stopped bool
}

// Stream starts sending datagrams to group every `every`, the first now.
// Each carries its sequence number (0, 1, ...; see Seq).
func (h *Host) Stream(group string, every time.Duration) *Stream {
	s := &Stream{h: h, g: h.n.addr(group), every: every}
	s.ev = h.n.schedule(h.n.now, s.tick)
	return s
}

func (s *Stream) tick() {
	if s.stopped {
		return
	}
	s.h.send(s.g, seqPayload(s.next))
	s.next++
	s.ev = s.h.n.schedule(s.h.n.now.Add(s.every), s.tick)
}

// Stop stops the stream.
func (s *Stream) Stop() {
	s.stopped = true
	s.h.n.cancel(s.ev)
}

// Sent is the number of datagrams sent so far.
func (s *Stream) Sent() uint64 { return s.next }

// --- receiving ---

// Received lists every datagram the host received, in order.
func (h *Host) Received() []Datagram { return slices.Clone(h.received) }

// ReceivedFrom lists the datagrams received from source to group.
func (h *Host) ReceivedFrom(source, group string) []Datagram {
	s, g := h.n.addr(source), h.n.addr(group)
	var out []Datagram
	for _, d := range h.received {
		if d.Src == s && d.Group == g {
			out = append(out, d)
		}
	}
	return out
}

// Delivery sums up received Stream datagrams.
type Delivery struct {
	Received   int      // datagrams
	Unique     int      // distinct sequence numbers
	Duplicates int      // Received - Unique
	Missing    []uint64 // sequence numbers below sent never received
}

// Deliveries checks datagrams against the number a Stream sent.
func Deliveries(ds []Datagram, sent uint64) Delivery {
	seen := map[uint64]bool{}
	d := Delivery{Received: len(ds)}
	for _, x := range ds {
		if s, ok := Seq(x.Data); ok {
			seen[s] = true
		}
	}
	d.Unique = len(seen)
	d.Duplicates = d.Received - d.Unique
	for s := uint64(0); s < sent; s++ {
		if !seen[s] {
			d.Missing = append(d.Missing, s)
		}
	}
	return d
}
