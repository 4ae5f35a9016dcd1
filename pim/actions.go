package pim

import (
	"net/netip"

	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// AllPIMRouters is ALL-PIM-ROUTERS, ff02::d (RFC 7761 section 4.9): where
// Hellos and Join/Prune messages go.
var AllPIMRouters = netip.MustParseAddr("ff02::d")

// Action is one thing the caller must do or may log. The set is closed:
// SendPIM, WatchRPF, UnwatchRPF, Route, WatchActivity, UnwatchActivity,
// NeighborChange, DRChange, LimitHit, BSRChange, RPChange and StarGChange.
type Action interface{ action() }

// RegisterIf stands for the register MIF (Linux's pim6reg device) in Route
// and in the data-plane inputs: as an outgoing interface at a DR that
// registers (the kernel hands those packets up as WHOLEPKT upcalls:
// WholePacket), and as the incoming interface at the RP, where the kernel
// delivers the packets it decapsulated from Registers.
const RegisterIf = -1

// SendPIM asks the daemon to send Msg from Src to Dst; the daemon marshals
// Msg with Src and Dst in the checksum's pseudo-header.
//
// Multicast (Dst ALL-PIM-ROUTERS: Hello, Join/Prune, Assert, Bootstrap)
// goes out of the interface IfIndex with hop limit 1 from the interface's
// link-local address (for a Hello with Holdtime 0 after an address change,
// the old one: RFC 7761 section 4.3.1). A Bootstrap message to a new
// neighbor (RFC 5059 3.3) is unicast to its link-local address out of
// IfIndex. Other unicast (Register, Register-Stop,
// Candidate-RP-Advertisement) has IfIndex 0: it is routed like any packet
// of the router (default hop limit), from the global address Src.
type SendPIM struct {
	IfIndex int
	Src     netip.Addr
	Dst     netip.Addr
	Msg     pimmsg.Message
}

// WatchRPF asks the daemon for the unicast route to Addr, the source S of
// one or more (S,G) entries or the RP of one or more groups (RFC 7761
// section 4.1.5: MRIB.next_hop, RPF_interface). It answers with SetRPF now
// and after every change, until UnwatchRPF. Metric and Preference matter
// too: they are the Assert metrics (4.6.3).
type WatchRPF struct{ Addr netip.Addr }

// UnwatchRPF says that no entry needs the route to Addr any more.
type UnwatchRPF struct{ Addr netip.Addr }

// Route is the desired kernel forwarding of (Source, Group): packets that
// arrive on IIF go out of OIFs (interface indexes, sorted; never IIF;
// RegisterIf for the register MIF). It is emitted whenever that changes.
// IIF 0 (with no OIFs) means no entry: the daemon deletes it. An IIF with
// no OIFs is an entry that forwards nothing: the daemon installs it with an
// empty outgoing set, so that the kernel counts its packets (DataActivity)
// and stops sending NOCACHE upcalls for it; only non-SSM entries kept by
// data (a cache entry, or a running Keepalive Timer) have that form.
type Route struct {
	Source, Group netip.Addr
	IIF           int
	OIFs          []int
}

// Delete reports whether the route says "no entry".
func (r Route) Delete() bool { return r.IIF == 0 }

// WatchActivity asks the daemon to read the kernel's packet and byte
// counters of the (Source, Group) entry every Config.ActivityInterval and
// report them with DataActivity, until UnwatchActivity. It follows the
// Route that installs a non-SSM entry (SSM entries need no counters).
type WatchActivity struct{ Source, Group netip.Addr }

// UnwatchActivity ends a WatchActivity; it follows the Route that deletes
// the entry.
type UnwatchActivity struct{ Source, Group netip.Addr }

// NeighborChange says that a PIM neighbor came up (Up) or went away, and
// why (Neighbor... reasons).
type NeighborChange struct {
	IfIndex  int
	Neighbor netip.Addr
	Up       bool
	Reason   string
}

// Neighbor change reasons.
const (
	NeighborNew              = "new"               // first Hello
	NeighborRestarted        = "restarted"         // Hello with a new Generation ID (4.3.1)
	NeighborExpired          = "expired"           // Neighbor Liveness Timer expired
	NeighborGoodbye          = "goodbye"           // Hello with Holdtime 0
	NeighborInterfaceRemoved = "interface-removed" // RemoveInterface
)

// DRChange says who the Designated Router of the interface is now (RFC
// 7761 section 4.3.2). Self is true when it is this router.
type DRChange struct {
	IfIndex int
	DR      netip.Addr
	Self    bool
}

// LimitHit says that state was refused because a limit was reached: Kind
// LimitNeighbors (Config.MaxNeighbors on IfIndex) or LimitRoutes
// (Config.MaxRoutes, refused on IfIndex). It is emitted once per episode:
// again only after the count has fallen below the limit.
type LimitHit struct {
	IfIndex int
	Kind    string
	Limit   int
}

// Limit kinds of LimitHit.
const (
	LimitNeighbors  = "neighbors"
	LimitRoutes     = "routes"
	LimitRPSet      = "rp-set"             // Config.MaxRPSet
	LimitEmbeddedRP = "embedded-rp-groups" // Config.MaxEmbeddedRPGroups
	LimitBSRZones   = "bsr-zones"          // Config.MaxBSRZones (zones.go)
)

func (SendPIM) action()         {}
func (WatchRPF) action()        {}
func (UnwatchRPF) action()      {}
func (Route) action()           {}
func (WatchActivity) action()   {}
func (UnwatchActivity) action() {}
func (NeighborChange) action()  {}
func (DRChange) action()        {}
func (LimitHit) action()        {}
