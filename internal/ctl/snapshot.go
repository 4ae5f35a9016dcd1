package ctl

import (
	"encoding/json"
	"net/netip"
	"time"
)

// SchemaVersion is the version of the Snapshot document. Readers refuse a
// snapshot of another version rather than print it wrong.
const SchemaVersion = 1

// Snapshot is the state of the daemon at one instant (Daemon.Now), taken on
// its loop. Every time left and every age is relative to that instant.
//
// Conventions for every type below:
//   - Durations are Duration: time.Duration in Go, seconds in JSON. A time
//     left is how long until the timer fires (0 when it is not running);
//     an age is how long ago something happened.
//   - A zero netip.Addr means "none"; in JSON it is left out.
//   - MIF is the index in the kernel's multicast interface table; -1 where
//     "none" is possible.
//   - Timer IDs are the daemon-wide IDs of its timer queues (the IDs of the
//     CallOut queue, Timers); 0 means "no timer".
//   - Lists are in the order the report prints them unless a field says
//     otherwise; WriteReport sorts only where the layout groups entries.
type Snapshot struct {
	SchemaVersion int        `json:"schema_version"`
	Daemon        DaemonInfo `json:"daemon"`

	// Interfaces has one entry per MIF, in MIF order: the physical
	// interfaces first, then the register MIF.
	Interfaces []Interface `json:"interfaces"`
	// Neighbors are the PIM neighbors of every interface.
	Neighbors []Neighbor `json:"neighbors"`
	// Queriers has one entry per MLD interface with a known Querier.
	Queriers []Querier `json:"queriers"`
	// Groups are the MLD group records (listener state) of every interface.
	Groups []MLDGroup `json:"groups"`
	// Routes are the multicast routing entries: (*,G), (S,G), (*,*,RP).
	Routes []Route `json:"routes"`
	// CacheMirrors is the number of forwarding entries installed in the
	// kernel (MFCs), the report's "Number of Cache MIRRORs".
	CacheMirrors int `json:"cache_mirrors"`
	// RPSet is the BSR and group-to-RP mapping state.
	RPSet RPSet `json:"rp_set"`
	// AnycastRP is the Anycast-RP set this router is a member of (RFC
	// 4610), nil when it is none.
	AnycastRP *AnycastRP `json:"anycast_rp,omitempty"`
	// Timers are the pending timers of every engine (the CallOut queue),
	// in any order: the report sorts them by time left.
	Timers []Timer `json:"timers"`
	// Counters are event and drop counters: scope -> reason -> count. The
	// scope is "ENGINE/IFNAME" for per-interface counters ("mld/eth0",
	// "pim/eth1") and "ENGINE" for daemon-wide ones ("kernel", "ctl").
	Counters map[string]map[string]uint64 `json:"counters"`
	// Limits are the configured resource limits and their use.
	Limits []Limit `json:"limits"`
}

// DaemonInfo says which daemon the snapshot comes from.
type DaemonInfo struct {
	Version string `json:"version"`
	PID     int    `json:"pid"`
	// Started is when the daemon started; Now is when the snapshot was
	// taken (RFC 3339 in JSON).
	Started time.Time `json:"started"`
	Now     time.Time `json:"now"`
	// Table is the kernel multicast routing table (MRT6_TABLE) in use.
	Table uint32 `json:"table"`
	// ConfigFile is the configuration file path; empty when the daemon
	// runs with the built-in defaults.
	ConfigFile string `json:"config_file,omitempty"`
	// Memory is the Go runtime's view of the daemon's memory, in bytes:
	// HeapAlloc is live heap plus garbage not yet collected, HeapInuse the
	// heap spans in use, Sys everything obtained from the OS.
	Memory Memory `json:"memory"`
	// Restart is set when this daemon took the routing table over from
	// the previous instance (a SIGUSR2 restart).
	Restart *Restart `json:"restart,omitempty"`
	// Audit is the kernel audit: what the kernel forwards compared with
	// what the daemon installed.
	Audit Audit `json:"audit"`
}

// Audit sums up the kernel audits so far.
type Audit struct {
	Runs uint64 `json:"runs"`
	// Last is when the last audit ran (zero: none yet); Next when the
	// next one is due.
	Last time.Time `json:"last"`
	Next time.Time `json:"next"`
	// LastFound is what the last audit found, Found the sum of every
	// audit's findings: MFC entries missing from the kernel, changed in
	// it, or there without being ours (each repaired), and MIFs the
	// kernel lost (added again).
	LastFound AuditFindings `json:"last_found"`
	Found     AuditFindings `json:"found"`
	// Errors counts audits that could not read the kernel.
	Errors uint64 `json:"errors"`
}

// AuditFindings are the differences one or more audits repaired.
type AuditFindings struct {
	Missing uint64 `json:"missing"`
	Changed uint64 `json:"changed"`
	Extra   uint64 `json:"extra"`
	MIFs    uint64 `json:"mifs"`
}

// Repairs is the number of differences.
func (f AuditFindings) Repairs() uint64 { return f.Missing + f.Changed + f.Extra + f.MIFs }

// Restart is what a restarted daemon found in the kernel and did with it.
type Restart struct {
	// MIFs and Entries are what the kernel held at the takeover.
	MIFs    int `json:"mifs"`
	Entries int `json:"entries"`
	// Kept is the number of those entries nothing has asked for again
	// yet; GraceLeft how long they are still kept (0: the grace is over).
	Kept      int      `json:"kept"`
	GraceLeft Duration `json:"grace_left"`
	// Swept is how many were removed when the grace ended.
	Swept int `json:"swept"`
}

// Memory is runtime.MemStats in brief.
type Memory struct {
	HeapAlloc uint64 `json:"heap_alloc"`
	HeapInuse uint64 `json:"heap_inuse"`
	Sys       uint64 `json:"sys"`
	NumGC     uint32 `json:"num_gc"`
}

// Uptime is how long the daemon has been running at the snapshot.
func (d DaemonInfo) Uptime() Duration { return Duration(d.Now.Sub(d.Started)) }

// Interface is one MIF.
type Interface struct {
	MIF int `json:"mif"`
	// Name is the kernel's interface name (for the register MIF, the
	// register device's name; the report prints it as "regist").
	Name    string `json:"name"`
	IfIndex int    `json:"ifindex"`
	// Addresses are the interface's IPv6 addresses, link-local first. The
	// register MIF has the address the daemon registers from (the
	// original showed the first interface's link-local address there).
	Addresses []Address `json:"addresses"`

	// The report's flags.
	Register   bool `json:"register"`    // the PIM register MIF
	Disabled   bool `json:"disabled"`    // configured off, or not usable for multicast
	NoListener bool `json:"no_listener"` // MLD is off here: no listener state is kept
	Down       bool `json:"down"`        // the link is down
	DR         bool `json:"dr"`          // this router is the PIM DR of the link
	PIM        bool `json:"pim"`         // PIM runs here and has at least one neighbor
	Querier    bool `json:"querier"`     // this router is the MLD Querier of the link
	NoNeighbor bool `json:"no_neighbor"` // PIM runs here and has no neighbor

	// HelloIn and QueryIn are the times left to the next PIM Hello and the
	// next MLD General Query; 0 when none is scheduled.
	HelloIn Duration `json:"hello_in"`
	QueryIn Duration `json:"query_in"`
	// MLDVersions are the MLD versions the interface accepts (1, 2).
	MLDVersions []int `json:"mld_versions"`

	// Beyond the report.

	// DRAddress is the elected DR of the link (our own address when DR is
	// set); DRPriority its DR priority, nil when the DR's Hellos carry no
	// DR Priority option (RFC 7761 4.3.2: then address decides).
	DRAddress  netip.Addr `json:"dr_address,omitzero"`
	DRPriority *uint32    `json:"dr_priority,omitempty"`
	// Priority and GenerationID are what this router sends in its Hellos.
	Priority     uint32 `json:"priority"`
	GenerationID uint32 `json:"generation_id"`
	// HelloPeriod and HelloHoldtime are the configured Hello timing.
	HelloPeriod   Duration `json:"hello_period"`
	HelloHoldtime Duration `json:"hello_holdtime"`
	// MLDVersion is the configured MLD version: 1, 2, or 0 for "any"
	// (answer both, query as MLDv2).
	MLDVersion int `json:"mld_version"`
	// MTU of the link, bytes.
	MTU int `json:"mtu,omitempty"`
}

// Address is one address of an interface.
type Address struct {
	Prefix netip.Prefix `json:"prefix"` // the address with its prefix length
	// ScopeID is the address's scope zone: the interface index for
	// link-local addresses, 0 for global ones.
	ScopeID int `json:"scope_id"`
}

// Neighbor is one PIM neighbor (RFC 7761 4.3).
type Neighbor struct {
	MIF       int        `json:"mif"`
	Interface string     `json:"interface"`
	Address   netip.Addr `json:"address"` // the Hello's source, link-local
	// Secondary are the other addresses of the neighbor, from its Address
	// List Hello option (RFC 7761 4.3.4).
	Secondary []netip.Addr `json:"secondary,omitempty"`
	// Left is the time left before the neighbor expires (the report's
	// Timer); Holdtime is the Holdtime of its last Hello.
	Left     Duration `json:"left"`
	Holdtime Duration `json:"holdtime"`
	// Forever: its Holdtime was 0xffff, it never expires (RFC 7761
	// 4.3.2); Left and Holdtime are 0 then, and the report shows 65535 as
	// the original's never-decremented timer did.
	Forever bool `json:"forever,omitempty"`
	// Uptime is how long the neighbor has been up.
	Uptime Duration `json:"uptime"`
	// DRPriority and GenerationID are nil when its Hellos carry no such
	// option.
	DRPriority   *uint32 `json:"dr_priority,omitempty"`
	GenerationID *uint32 `json:"generation_id,omitempty"`
	// LANPruneDelay is its LAN Prune Delay option, nil when absent.
	LANPruneDelay *LANPruneDelay `json:"lan_prune_delay,omitempty"`
}

// LANPruneDelay is a LAN Prune Delay Hello option (RFC 7761 4.3.3).
type LANPruneDelay struct {
	PropagationDelay Duration `json:"propagation_delay"`
	OverrideInterval Duration `json:"override_interval"`
	// JoinSuppressionOff is the T bit: the neighbor disables Join
	// suppression (tracking support).
	JoinSuppressionOff bool `json:"join_suppression_off"`
}

// Querier is the MLD Querier of one interface (RFC 3810 7.6.2).
type Querier struct {
	MIF       int        `json:"mif"`
	Interface string     `json:"interface"`
	Address   netip.Addr `json:"address"`
	// Self: this router is the Querier.
	Self bool `json:"self"`
	// Left is the Other Querier Present time left (0 when Self; the report
	// prints 255 then, as the original did).
	Left Duration `json:"left"`
	// Age is how long ago this Querier was elected.
	Age Duration `json:"age"`

	// Beyond the report.

	// Version is the MLD version of the Queries on the link (1 while an
	// older-version querier is present, RFC 3810 8.3.1).
	Version int `json:"version"`
	// Robustness and QueryInterval are the values in use (the Querier's,
	// RFC 3810 5.1.8 and 5.1.9).
	Robustness    int      `json:"robustness"`
	QueryInterval Duration `json:"query_interval"`
	// OlderVersionQuerier is an MLDv1 querier heard on the link and
	// OlderVersionLeft the time left on its Older Version Querier Present
	// timer.
	OlderVersionQuerier netip.Addr `json:"older_version_querier,omitzero"`
	OlderVersionLeft    Duration   `json:"older_version_left,omitempty"`
}

// FilterMode is an MLD filter mode as the report spells it.
type FilterMode string

// The filter modes (RFC 3810 7.2).
const (
	Include FilterMode = "IN"
	Exclude FilterMode = "EX"
)

// MLDGroup is one Multicast Address Record of an interface (RFC 3810 7.2).
type MLDGroup struct {
	MIF       int        `json:"mif"`
	Interface string     `json:"interface"`
	Group     netip.Addr `json:"group"`
	// Mode is the filter mode.
	Mode FilterMode `json:"mode"`
	// FilterTimerID and FilterTimerLeft are the group's Filter Timer
	// (EXCLUDE mode only; 0 otherwise).
	FilterTimerID   uint32   `json:"filter_timer_id"`
	FilterTimerLeft Duration `json:"filter_timer_left"`
	// Version is the compatibility mode (1 or 2, RFC 3810 8.3.2) and
	// CompatTimerID/CompatTimerLeft its Older Version Host Present timer.
	Version         int      `json:"version"`
	CompatTimerID   uint32   `json:"compat_timer_id"`
	CompatTimerLeft Duration `json:"compat_timer_left"`
	// Routed is false for link-scope groups, which are tracked but never
	// routed.
	Routed bool `json:"routed"`
	// Sources is the source list, by address. In EXCLUDE mode a source
	// with no timer is excluded (not forwarded).
	Sources []MLDSource `json:"sources,omitempty"`
}

// MLDSource is one source of a group record (RFC 3810 7.2.1).
type MLDSource struct {
	Address netip.Addr `json:"address"`
	TimerID uint32     `json:"timer_id"`
	Left    Duration   `json:"left"`
}

// RouteKind is the kind of a routing entry, as the report's separators
// spell it.
type RouteKind string

// The routing entry kinds.
const (
	StarG  RouteKind = "(*,G)"
	SG     RouteKind = "(S,G)"
	StarRP RouteKind = "(*,*,RP)"
)

// RouteFlags are the route flags in the order the report prints them;
// "1ST" is printed only on (*,G) entries.
var RouteFlags = []string{"SPT", "WC", "RP", "1ST", "REG", "IIF_REG", "NULL_OIF", "CACHE", "ASSERTED", "REG_SUPP", "SG", "PMBR"}

// Route is one multicast routing entry.
type Route struct {
	Kind RouteKind `json:"kind"`
	// Source is the S of an (S,G) entry; Group the G of (*,G) and (S,G).
	Source netip.Addr `json:"source,omitzero"`
	Group  netip.Addr `json:"group,omitzero"`
	// RP is the group's RP ((*,*,RP): the RP of the entry); zero when the
	// group has none (SSM, or no mapping).
	RP netip.Addr `json:"rp,omitzero"`
	// Flags are words of RouteFlags (the report prints them in that
	// order whatever the order here; unknown words come last).
	Flags []string `json:"flags,omitempty"`
	// MIF sets: joined by downstream PIM Joins, pruned, with local MLD
	// listeners, lost an assert, and the resulting outgoing list.
	Joined   []int `json:"joined,omitempty"`
	Pruned   []int `json:"pruned,omitempty"`
	Leaves   []int `json:"leaves,omitempty"`
	Asserted []int `json:"asserted,omitempty"`
	Outgoing []int `json:"outgoing,omitempty"`
	// Incoming is the RPF interface's MIF, -1 when none.
	Incoming int `json:"incoming"`
	// UpstreamNeighbor is the RPF neighbor, zero when none (directly
	// connected source, or this router is the RP).
	UpstreamNeighbor netip.Addr `json:"upstream_neighbor,omitzero"`
	// Times left: the entry (keepalive) timer, the upstream Join/Prune
	// timer, the Register-Stop timer, the Assert timer.
	EntryTimer  Duration `json:"entry_timer"`
	JPTimer     Duration `json:"jp_timer"`
	RSTimer     Duration `json:"rs_timer"`
	AssertTimer Duration `json:"assert_timer"`
	// OIFTimers are the downstream (Expiry) timers, indexed by MIF; MIFs
	// past the end have none.
	OIFTimers []Duration `json:"oif_timers,omitempty"`

	// Beyond the report: the state machines (RFC 7761 4.5). UpstreamState
	// is "Joined" or "NotJoined" (empty where there is none), JoinDesired
	// the macro's value, Downstream the interfaces not in NoInfo.
	UpstreamState string       `json:"upstream_state,omitempty"`
	JoinDesired   bool         `json:"join_desired,omitempty"`
	Downstream    []Downstream `json:"downstream,omitempty"`

	// Beyond the report: the kernel's counters of the installed entry
	// (SIOCGETSGCNT_IN6), zero when not installed.
	Packets uint64 `json:"packets,omitempty"`
	Bytes   uint64 `json:"bytes,omitempty"`
	WrongIf uint64 `json:"wrong_if,omitempty"`
}

// Downstream is the downstream Join/Prune state of one interface of a
// route (RFC 7761 4.5.2).
type Downstream struct {
	MIF int `json:"mif"`
	// State is "Join" or "PrunePending".
	State string `json:"state"`
	// ExpiryLeft is the Expiry Timer's time left (0 with Forever: the
	// Join's Holdtime was 0xffff); PrunePendingLeft the Prune-Pending
	// Timer's.
	ExpiryLeft       Duration `json:"expiry_left"`
	Forever          bool     `json:"forever,omitempty"`
	PrunePendingLeft Duration `json:"prune_pending_left,omitempty"`
}

// RPSet is the BSR and RP-set state (RFC 5059).
type RPSet struct {
	// BSR is the elected BSR (zero: none; the report prints "::"), with its
	// priority and hash mask length; BSRTimeout is the Bootstrap Timer left.
	BSR            netip.Addr `json:"bsr,omitzero"`
	BSRPriority    int        `json:"bsr_priority"`
	BSRHashMaskLen int        `json:"bsr_hash_mask_len"`
	BSRTimeout     Duration   `json:"bsr_timeout"`
	// CandidateBSR and CandidateRP are this router's candidacies, nil when
	// not configured.
	CandidateBSR *CandidateBSR `json:"candidate_bsr,omitempty"`
	CandidateRP  *CandidateRP  `json:"candidate_rp,omitempty"`
	// RPs are the RPs of the RP-set with the group ranges mapped to them.
	RPs []RP `json:"rps"`

	// Zones are the administrative scope zones (RFC 5059 1.3), most
	// specific range first; the fields above are the global zone's.
	Zones []RPSetZone `json:"zones,omitempty"`
}

// RPSetZone is the BSR and RP-set state of one administrative scope zone
// (RFC 5059 1.3). The BSR fields are as in RPSet; RPs are the RPs of the
// zone's RP-set (origin RPOriginBSR).
type RPSetZone struct {
	// Range is the zone's group range; Border the interfaces at its
	// border; Learned: the zone is not configured but named by Bootstrap
	// messages received.
	Range          netip.Prefix  `json:"range"`
	Border         []string      `json:"border,omitempty"`
	Learned        bool          `json:"learned,omitempty"`
	BSR            netip.Addr    `json:"bsr,omitzero"`
	BSRPriority    int           `json:"bsr_priority"`
	BSRHashMaskLen int           `json:"bsr_hash_mask_len"`
	BSRTimeout     Duration      `json:"bsr_timeout"`
	State          string        `json:"state"`
	CandidateBSR   *CandidateBSR `json:"candidate_bsr,omitempty"`
	RPs            []RP          `json:"rps"`
}

// CandidateBSR is this router's Candidate-BSR state (RFC 5059 3.1.1).
type CandidateBSR struct {
	Address     netip.Addr `json:"address"`
	Priority    int        `json:"priority"`
	HashMaskLen int        `json:"hash_mask_len"`
	// State is "candidate", "pending" or "elected".
	State string `json:"state"`
}

// CandidateRP is this router's Candidate-RP configuration (RFC 5059 3.2).
type CandidateRP struct {
	Address  netip.Addr     `json:"address"`
	Priority int            `json:"priority"`
	Holdtime Duration       `json:"holdtime"`
	Groups   []netip.Prefix `json:"groups"`
	// NextAdvertisement is the time left to the next C-RP-Adv.
	NextAdvertisement Duration `json:"next_advertisement"`
}

// RP is one RP of the RP-set.
type RP struct {
	Address netip.Addr `json:"address"`
	// Upstream is the RPF neighbor towards the RP and UpstreamIf its
	// interface; zero when the RP is this router or unreachable.
	Upstream   netip.Addr `json:"upstream,omitzero"`
	UpstreamIf string     `json:"upstream_if,omitempty"`
	// Myself: the RP is one of this router's addresses.
	Myself bool `json:"myself"`
	// Origin is where the mapping comes from: RPOriginBSR,
	// RPOriginStatic or RPOriginEmbedded (a static RP with Override is
	// listed as static).
	Origin string `json:"origin,omitempty"`
	// Groups are the group ranges mapped to this RP.
	Groups []RPGroup `json:"groups"`
}

// RPGroup is one group range of an RP.
type RPGroup struct {
	Prefix   netip.Prefix `json:"prefix"`
	Priority int          `json:"priority"`
	// Holdtime is the holdtime advertised for the mapping; Left its time
	// left (the report's "Age" column).
	Holdtime Duration `json:"holdtime"`
	Left     Duration `json:"left"`
}

// AnycastRP is an Anycast-RP set (RFC 4610) and the Registers exchanged
// with each member.
type AnycastRP struct {
	// Address is the RP address the members share; Local whether it is
	// one of this router's (without it the router is not the RP).
	Address netip.Addr `json:"address"`
	Local   bool       `json:"local"`
	// Self is this router's unique address in the set; zero when no
	// member is one of its addresses (then it sends nothing on).
	Self    netip.Addr      `json:"self,omitzero"`
	Members []AnycastMember `json:"members"`
}

// AnycastMember is one member of the set, in the configured order, with
// what was exchanged with it (zero for this router itself).
type AnycastMember struct {
	Address netip.Addr `json:"address"`
	Self    bool       `json:"self,omitempty"`
	// RegistersIn and NullRegistersIn count Registers from the member;
	// RegistersOut and NullRegistersOut those sent to it (a DR's sent on,
	// or ours as the DR of a source).
	RegistersIn      uint64 `json:"registers_in"`
	NullRegistersIn  uint64 `json:"null_registers_in"`
	RegistersOut     uint64 `json:"registers_out"`
	NullRegistersOut uint64 `json:"null_registers_out"`
	// RegisterStopsIn and RegisterStopsOut: Register-Stops from and to it.
	RegisterStopsIn  uint64 `json:"register_stops_in"`
	RegisterStopsOut uint64 `json:"register_stops_out"`
}

// Timer is one pending timer.
type Timer struct {
	ID   uint32   `json:"id"`
	Left Duration `json:"left"`
	// Engine owns the timer ("mld", "pim", ...) and What says what it is
	// for ("filter eth1 ff3e::1"); both only for people reading JSON.
	Engine string `json:"engine,omitempty"`
	What   string `json:"what,omitempty"`
}

// Limit is one configured resource limit.
type Limit struct {
	// Name is the configuration key ("mld.max-groups").
	Name string `json:"name"`
	// Interface is empty for daemon-wide limits.
	Interface string `json:"interface,omitempty"`
	Max       uint64 `json:"max"`
	Used      uint64 `json:"used"`
	// Refused counts what was dropped because the limit was reached.
	Refused uint64 `json:"refused"`
}

// MarshalJSON writes the snapshot with empty lists as [] and an empty
// counter map as {}, never null, so that `jq '.neighbors[]'` works on a
// router without neighbors.
func (s Snapshot) MarshalJSON() ([]byte, error) {
	type plain Snapshot // without the method
	p := plain(s)
	p.Interfaces = nonNil(p.Interfaces)
	p.Neighbors = nonNil(p.Neighbors)
	p.Queriers = nonNil(p.Queriers)
	p.Groups = nonNil(p.Groups)
	p.Routes = nonNil(p.Routes)
	p.Timers = nonNil(p.Timers)
	p.Limits = nonNil(p.Limits)
	p.RPSet.RPs = nonNil(p.RPSet.RPs)
	if p.Counters == nil {
		p.Counters = map[string]map[string]uint64{}
	}
	return json.Marshal(p)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
