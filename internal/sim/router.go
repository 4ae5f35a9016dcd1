package sim

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/pim6sd/pim6sd/conf"
	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/internal/daemon"
	"github.com/pim6sd/pim6sd/kernel"
)

// Router is a pim6sd daemon over a simulated Linux kernel.
type Router struct {
	n    *Net
	name string
	cfg  *conf.Config

	ifs       []*Iface // lo first, then in creation order (the register device included)
	nextIndex int
	loopbacks []netip.Addr

	routes     []*staticRoute
	routeOrder int

	k     *Kernel
	store memStore // the checkpoint (checkpoint.go)
	d     *daemon.Daemon
	dUsed bool // d has been started (a restart needs a new one)

	generation   int  // how many times a daemon was started
	pendingStart bool // begin at the next step of the network
	running      bool

	drops     map[string]int
	delivered map[string]int
	upcalls   []UpcallRecord
}

// AddRouter adds a router running pim6sd with configuration cfg
// (conf.Default() when nil). It has only lo until interfaces are added;
// its daemon starts at the next Run or RunUntil (or Start), so that it
// finds the interfaces added meanwhile as a daemon started at boot would.
func (n *Net) AddRouter(name string, cfg *conf.Config) *Router {
	n.tb.Helper()
	n.claim(name)
	if cfg == nil {
		cfg = conf.Default()
	}
	r := &Router{n: n, name: name, cfg: cfg, nextIndex: 1, drops: map[string]int{}, delivered: map[string]int{}, pendingStart: true}
	r.k = &Kernel{r: r}
	r.k.reset()
	lo := &Iface{owner: r, name: "lo", index: r.nextIndex, mtu: 65536, adminUp: true, carrier: true, loopback: true}
	r.nextIndex++
	r.ifs = append(r.ifs, lo)
	r.newDaemon()
	n.routers = append(n.routers, r)
	return r
}

// newDaemon makes the next daemon process: its randomness is seeded by
// the router's name, the net's Seed and the generation.
func (r *Router) newDaemon() {
	r.generation++
	rng := r.n.rng(r.name, r.generation)
	o := daemon.Options{Rand: rng.Uint32}
	if r.cfg.Global.StateFile != "" {
		o.Checkpoint = &r.store
	}
	d, err := daemon.NewWithOptions(r.cfg, r.k, r.n.logger(r.name), o)
	if err != nil {
		r.n.fatalf("%s: daemon: %v", r.name, err)
	}
	r.d, r.dUsed = d, false
}

// Name is the router's name.
func (r *Router) Name() string { return r.name }

// AddInterface adds an interface named name attached to link l, with
// link-local address ll (e.g. "fe80::1") and global addresses with their
// prefix lengths (e.g. "2001:db8:1::1/64"). It is up, with MTU 1500.
func (r *Router) AddInterface(name string, l *Link, ll string, globals ...string) *Iface {
	r.n.tb.Helper()
	if r.Iface(name) != nil {
		r.n.fatalf("%s: interface %q exists", r.name, name)
	}
	a := r.n.addr(ll)
	if !a.IsLinkLocalUnicast() {
		r.n.fatalf("%s/%s: %v is not link-local", r.name, name, a)
	}
	ifc := &Iface{owner: r, name: name, index: r.nextIndex, ll: a, mtu: 1500, adminUp: true, carrier: true}
	r.nextIndex++
	for _, g := range globals {
		ifc.globals = append(ifc.globals, r.n.prefix(g))
	}
	r.ifs = append(r.ifs, ifc)
	if l != nil {
		ifc.link = l
		l.ifs = append(l.ifs, ifc)
	}
	// A daemon already running sees the new link as netlink reports it.
	r.postNetlink(kernel.LinkEvent{Link: r.kernelLink(ifc)})
	r.postNetlink(kernel.AddrEvent{Addr: kernel.Addr{LinkIndex: ifc.index, Prefix: netip.PrefixFrom(a, 64), LinkLocal: true}})
	for _, g := range ifc.globals {
		r.postNetlink(kernel.AddrEvent{Addr: kernel.Addr{LinkIndex: ifc.index, Prefix: g}})
		if g.Bits() < 128 {
			r.postNetlink(kernel.RouteEvent{Route: connectedRoute(ifc, g)})
		}
	}
	return ifc
}

// AddLoopback adds a global address (/128) to lo, e.g. an RP address.
func (r *Router) AddLoopback(addr string) {
	a := r.n.addr(addr)
	if slices.Contains(r.loopbacks, a) {
		return
	}
	r.loopbacks = append(r.loopbacks, a)
	r.postNetlink(kernel.AddrEvent{Addr: kernel.Addr{LinkIndex: 1, Prefix: netip.PrefixFrom(a, 128)}})
}

// Iface returns the interface named name, or nil.
func (r *Router) Iface(name string) *Iface {
	for _, i := range r.ifs {
		if i.name == name && !i.deleted {
			return i
		}
	}
	return nil
}

// Ifaces lists the router's interfaces (lo first).
func (r *Router) Ifaces() []*Iface {
	var out []*Iface
	for _, i := range r.ifs {
		if !i.deleted {
			out = append(out, i)
		}
	}
	return out
}

func (r *Router) ifaceByIndex(index int) *Iface {
	for _, i := range r.ifs {
		if i.index == index && !i.deleted {
			return i
		}
	}
	return nil
}

// owns reports whether a is one of the router's addresses, and on which
// interface.
func (r *Router) owns(a netip.Addr) (*Iface, bool) {
	if a == netip.IPv6Loopback() || slices.Contains(r.loopbacks, a) {
		return r.ifs[0], true
	}
	for _, i := range r.ifs {
		if i.deleted || !i.adminUp {
			continue
		}
		if (i.ll == a || i.llNext == a && a.IsValid()) && !i.loopback && !i.register {
			return i, true
		}
		for _, g := range i.globals {
			if g.Addr() == a {
				return i, true
			}
		}
	}
	return nil, false
}

// --- daemon lifecycle ---

// begin starts a daemon over a fresh kernel session (MRT6_INIT...).
func (r *Router) begin() {
	if r.dUsed {
		r.newDaemon()
	}
	r.dUsed = true
	if err := r.d.Begin(r.n.now); err != nil {
		r.n.fatalf("%s: daemon begin: %v", r.name, err)
	}
	r.running = true
	r.n.note("%s daemon started", r.name)
}

// Start starts the router's daemon if it is not running (again, after
// Stop or Kill: a new process, with a new Generation ID).
func (r *Router) Start() {
	if r.running {
		return
	}
	r.pendingStart = false
	r.begin()
}

// Stop stops the daemon gracefully, as on SIGTERM: goodbye Hellos, then
// the kernel state is released (MRT6_DONE).
func (r *Router) Stop() {
	r.pendingStart = false
	if !r.running {
		return
	}
	r.running = false
	if err := r.d.Stop(r.n.now); err != nil {
		r.n.fatalf("%s: stop: %v", r.name, err)
	}
	r.n.note("%s daemon stopped", r.name)
}

// Kill ends the daemon as kill -9 would: nothing is sent; the kernel
// releases what the process's sockets held.
func (r *Router) Kill() {
	r.pendingStart = false
	if !r.running {
		return
	}
	r.running = false
	r.k.Close()
	r.n.note("%s daemon killed", r.name)
}

// Restart is SIGUSR2: the daemon stops without a word (no goodbye Hellos),
// hands its routing socket over and executes itself again: a new process
// with a new Generation ID that takes the kernel's MIFs and MFC entries
// over. The kernel keeps forwarding the whole time.
func (r *Router) Restart() {
	r.pendingStart = false
	if !r.running {
		return
	}
	r.running = false
	if err := r.d.StopForRestart(r.n.now); err != nil {
		r.n.fatalf("%s: stop for restart: %v", r.name, err)
	}
	r.n.note("%s daemon stopped for a restart", r.name)
	r.begin()
}

// Running reports whether the daemon runs.
func (r *Router) Running() bool { return r.running }

// Daemon is the current daemon (the last one after Stop or Kill). Drive
// it only through the stepping API the simulation uses (SnapshotAt...):
// its Do-based methods wait for a Run loop that never runs here.
func (r *Router) Daemon() *daemon.Daemon { return r.d }

// Kernel is the router's simulated kernel.
func (r *Router) Kernel() *Kernel { return r.k }

func (r *Router) deadline() (time.Time, bool) {
	if !r.running {
		return time.Time{}, false
	}
	return r.d.NextDeadline()
}

func (r *Router) expire() { r.d.Expire(r.n.now) }

// post hands an input to the daemon at the current instant, after what is
// queued already, if the kernel session that produced it is still open.
func (r *Router) post(in daemon.Input) {
	session := r.k.session
	r.n.schedule(r.n.now, func() {
		if r.running && r.k.open && r.k.session == session {
			r.d.Handle(r.n.now, in)
		}
	})
}

// postNetlink posts a netlink event if the daemon is subscribed.
func (r *Router) postNetlink(ev kernel.Event) {
	if r.k.open {
		r.delivered["netlink"]++
		r.post(daemon.NetlinkInput{Event: ev})
	}
}

// --- state the kernel reports ---

func (r *Router) kernelLink(i *Iface) kernel.Link {
	l := kernel.Link{
		Index: i.index, Name: i.name, Up: i.Up(), AdminUp: i.adminUp, LowerUp: i.lowerUp(),
		Multicast: !i.loopback && !i.register, Loopback: i.loopback, MTU: i.mtu,
		Kind: "veth", LinkType: "ether",
	}
	switch {
	case i.loopback:
		l.Kind, l.LinkType = "", "loopback"
	case i.register:
		l.Kind, l.LinkType = "", "pimreg"
	}
	return l
}

func (r *Router) kernelAddrs(i *Iface) []kernel.Addr {
	var out []kernel.Addr
	switch {
	case i.loopback:
		out = append(out, kernel.Addr{LinkIndex: i.index, Prefix: netip.PrefixFrom(netip.IPv6Loopback(), 128)})
		for _, a := range r.loopbacks {
			out = append(out, kernel.Addr{LinkIndex: i.index, Prefix: netip.PrefixFrom(a, 128)})
		}
	case i.register, i.deleted, !i.adminUp:
	default:
		out = append(out, kernel.Addr{LinkIndex: i.index, Prefix: netip.PrefixFrom(i.ll, 64), LinkLocal: true})
		if i.llNext.IsValid() {
			out = append(out, kernel.Addr{LinkIndex: i.index, Prefix: netip.PrefixFrom(i.llNext, 64), LinkLocal: true})
		}
		for _, g := range i.globals {
			out = append(out, kernel.Addr{LinkIndex: i.index, Prefix: g})
		}
	}
	return out
}

// ifaceChanged reports an interface's new state as Linux's netlink does.
// Admin down: the link, then the routes through it and its addresses
// going away; admin up: the link, then its link-local address (and any
// global address added meanwhile) with connected routes.
func (r *Router) ifaceChanged(i *Iface, old ifaceState) {
	r.postNetlink(kernel.LinkEvent{Link: r.kernelLink(i)})
	switch {
	case old.adminUp && !i.adminUp:
		r.adminDown(i)
	case !old.adminUp && i.adminUp:
		r.postNetlink(kernel.AddrEvent{Addr: kernel.Addr{LinkIndex: i.index, Prefix: netip.PrefixFrom(i.ll, 64), LinkLocal: true}})
		for _, g := range i.globals {
			r.addrAdded(i, g)
		}
	}
	r.n.note("%s %s link admin=%v carrier=%v", r.name, i.name, i.adminUp, i.lowerUp())
}

// adminDown removes what Linux removes when a link goes down: its static
// routes (the removed globals' connected routes too) and its addresses.
func (r *Router) adminDown(i *Iface) {
	for _, rt := range slices.Clone(r.routes) {
		if rt.dev == i {
			r.removeRoute(rt)
		}
	}
	for _, g := range i.downGlobals {
		if g.Bits() < 128 {
			r.postNetlink(kernel.RouteEvent{Route: connectedRoute(i, g), Deleted: true})
		}
	}
	r.postNetlink(kernel.AddrEvent{Addr: kernel.Addr{LinkIndex: i.index, Prefix: netip.PrefixFrom(i.ll, 64), LinkLocal: true}, Deleted: true})
	for _, g := range i.downGlobals {
		r.postNetlink(kernel.AddrEvent{Addr: kernel.Addr{LinkIndex: i.index, Prefix: g}, Deleted: true})
	}
	i.downGlobals = nil
}

// linkLocalChanged adds the link-local address a next to i's and
// reports it; once the daemon has seen that, the old address goes and
// its removal is reported (SetLinkLocal).
func (r *Router) linkLocalChanged(i *Iface, a netip.Addr) {
	old := i.ll
	i.llNext = a
	r.postNetlink(kernel.AddrEvent{Addr: kernel.Addr{LinkIndex: i.index, Prefix: netip.PrefixFrom(a, 64), LinkLocal: true}})
	r.n.note("%s %s link-local %v added", r.name, i.name, a)
	r.n.schedule(r.n.now, func() {
		if i.llNext != a {
			return
		}
		i.ll, i.llNext = a, netip.Addr{}
		if i.adminUp && !i.deleted {
			r.postNetlink(kernel.AddrEvent{Addr: kernel.Addr{LinkIndex: i.index, Prefix: netip.PrefixFrom(old, 64), LinkLocal: true}, Deleted: true})
		}
		r.n.note("%s %s link-local %v removed", r.name, i.name, old)
	})
}

func (r *Router) addrAdded(i *Iface, p netip.Prefix) {
	if !i.adminUp {
		return // reported when the link comes up
	}
	r.postNetlink(kernel.AddrEvent{Addr: kernel.Addr{LinkIndex: i.index, Prefix: p}})
	if p.Bits() < 128 {
		r.postNetlink(kernel.RouteEvent{Route: connectedRoute(i, p)})
	}
}

func (r *Router) addrRemoved(i *Iface, p netip.Prefix) {
	if !i.adminUp {
		return
	}
	if p.Bits() < 128 {
		r.postNetlink(kernel.RouteEvent{Route: connectedRoute(i, p), Deleted: true})
	}
	r.postNetlink(kernel.AddrEvent{Addr: kernel.Addr{LinkIndex: i.index, Prefix: p}, Deleted: true})
}

// ifaceDeleted is the device going away: its routes, addresses and MIF
// with it, then the link's deletion.
func (r *Router) ifaceDeleted(i *Iface) {
	for _, rt := range slices.Clone(r.routes) {
		if rt.dev == i {
			r.removeRoute(rt)
		}
	}
	if i.adminUp {
		for _, g := range i.globals {
			r.addrRemoved(i, g)
		}
		r.postNetlink(kernel.AddrEvent{Addr: kernel.Addr{LinkIndex: i.index, Prefix: netip.PrefixFrom(i.ll, 64), LinkLocal: true}, Deleted: true})
	}
	r.k.ifaceGone(i.index)
	r.postNetlink(kernel.LinkEvent{Link: r.kernelLink(i), Deleted: true})
	r.n.note("%s %s deleted", r.name, i.name)
}

// --- inspection ---

// Snapshot is the daemon's state at the current virtual time (what
// pim6stat would show).
func (r *Router) Snapshot() *ctl.Snapshot { return r.d.SnapshotAt(r.n.now) }

// UpcallRecord is an upcall the kernel sent to the daemon.
type UpcallRecord struct {
	At time.Time
	kernel.Upcall
}

// Upcalls lists every upcall the router's kernel sent, in order.
func (r *Router) Upcalls() []UpcallRecord { return slices.Clone(r.upcalls) }

// Drops counts the packets the router's kernel dropped, by reason.
func (r *Router) Drops() map[string]int { return maps.Clone(r.drops) }

func (r *Router) drop(reason string) { r.drops[reason]++ }

// Delivered counts what the router's kernel handed to the daemon's
// sockets: "mld" and "pim" messages, "upcall"s, "netlink" events.
func (r *Router) Delivered() map[string]int { return maps.Clone(r.delivered) }

// MFCEntry is one entry of a simulated kernel's multicast forwarding
// cache, with interface names.
type MFCEntry struct {
	Source, Group netip.Addr
	IIF           kernel.MIF
	OIFs          kernel.MIFSet
	IIFName       string   // the iif's interface ("pim6reg" for the register MIF, "" if the MIF is gone)
	OIFNames      []string // the oifs' interfaces, by MIF
	Packets       uint64
	Bytes         uint64
	WrongIf       uint64
}

func (e MFCEntry) String() string {
	return fmt.Sprintf("(%v,%v) iif=%s oifs=[%s]", e.Source, e.Group, e.IIFName, strings.Join(e.OIFNames, " "))
}

// MFC lists the kernel's resolved MFC entries, by group then source.
func (r *Router) MFC() []MFCEntry {
	var out []MFCEntry
	for _, e := range r.k.sortedMFC() {
		me := MFCEntry{Source: e.src, Group: e.grp, IIF: e.iif, OIFs: e.oifs, IIFName: r.k.mifName(e.iif),
			Packets: e.packets, Bytes: e.bytes, WrongIf: e.wrongIf}
		for _, m := range e.oifs.MIFs() {
			me.OIFNames = append(me.OIFNames, r.k.mifName(m))
		}
		out = append(out, me)
	}
	return out
}

// Entry returns the MFC entry of (source, group), if there is one.
func (r *Router) Entry(source, group string) (MFCEntry, bool) {
	s, g := r.n.addr(source), r.n.addr(group)
	for _, e := range r.MFC() {
		if e.Source == s && e.Group == g {
			return e, true
		}
	}
	return MFCEntry{}, false
}
