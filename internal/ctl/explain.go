package ctl

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
)

// Explain is the daemon's answer to "why does this flow (not) reach my
// receivers?" (CommandExplain): the checks it walked for one (S,G), or for
// (*,G) when Source is zero, each with a verdict and a one-line reason,
// the details behind them and an overall verdict. Interfaces are named,
// not numbered: the answer is for people and scripts, not for the report.
type Explain struct {
	// Source is S (zero for a (*,G) question); Group is G.
	Source netip.Addr `json:"source,omitzero"`
	Group  netip.Addr `json:"group"`
	// Mode is "ssm", "asm" or "invalid" (a group that is never routed).
	Mode string `json:"mode"`
	// RP is the group's RP (ASM only; nil for SSM or when there is none).
	RP *ExplainRP `json:"rp,omitempty"`
	// RPF are the unicast routes the flow depends on: toward the source
	// (SSM, shortest-path tree) and toward the RP (ASM, shared tree).
	RPF []ExplainRPF `json:"rpf,omitempty"`
	// Interfaces is the downstream view of every interface of the router.
	Interfaces []ExplainInterface `json:"interfaces"`
	// Entries are the PIM routing entries of the flow: (S,G), (*,G),
	// (S,G,rpt).
	Entries []ExplainEntry `json:"entries,omitempty"`
	// Kernel are the kernel's forwarding entries (MFCs) of the flow: the
	// one (S,G), or every (S,G) of the group for a (*,G) question.
	Kernel []ExplainMFC `json:"kernel,omitempty"`
	// Steps are the checks in the order they were walked.
	Steps []ExplainStep `json:"steps"`
	// Verdict is the conclusion.
	Verdict ExplainVerdict `json:"verdict"`
}

// Verdict is the outcome of one check.
type Verdict string

// The verdicts.
const (
	VerdictOK      Verdict = "ok"
	VerdictProblem Verdict = "problem"
	VerdictInfo    Verdict = "info"
)

// The sections of the walk, in order (ExplainStep.Section).
const (
	SectionGroup      = "group"      // group validity, mode, RP
	SectionUpstream   = "upstream"   // RPF toward the source and the RP
	SectionDownstream = "downstream" // per interface: DR, listeners, Joins
	SectionPIM        = "pim"        // the PIM entries
	SectionKernel     = "kernel"     // MFC, counters, desired vs installed
)

// The checks (ExplainStep.Check): stable names for scripts and tests.
const (
	CheckGroup           = "group"         // valid, SSM or ASM, source given
	CheckRP              = "rp"            // RP(G) and where it came from
	CheckRouteSource     = "route-source"  // unicast route toward S
	CheckRouteRP         = "route-rp"      // unicast route toward the RP
	CheckRPFInterface    = "rpf-interface" // the RPF interface runs PIM
	CheckUpstreamNbr     = "upstream-neighbor"
	CheckFirstHop        = "first-hop"      // S directly connected: DR, Register
	CheckDownstream      = "downstream"     // one per interface
	CheckEntry           = "entry"          // one per PIM entry
	CheckAssert          = "assert"         // one per Assert machine out of NoInfo
	CheckMFC             = "mfc"            // the kernel entry and counters
	CheckMRIB            = "mrib"           // desired vs installed forwarding
	RPFTargetSource      = "source"         // ExplainRPF.Target
	RPFTargetRP          = "rp"             // ExplainRPF.Target
	DownstreamForwards   = "forwards"       // ExplainInterface.State
	DownstreamUpstream   = "upstream"       // ExplainInterface.State: the RPF interface
	DownstreamNotDR      = "not-dr"         // ExplainInterface.State
	DownstreamNoPIM      = "no-pim"         // ExplainInterface.State
	DownstreamLostAssert = "lost-assert"    // ExplainInterface.State
	DownstreamNothing    = "nothing-wanted" // ExplainInterface.State
	DownstreamNotInList  = "not-in-olist"   // ExplainInterface.State
)

// ExplainStep is one check.
type ExplainStep struct {
	Section string  `json:"section"`
	Check   string  `json:"check"`
	Verdict Verdict `json:"verdict"`
	// Interface is the interface the check is about, if one.
	Interface string `json:"interface,omitempty"`
	Reason    string `json:"reason"`
}

// ExplainVerdict is the overall conclusion.
type ExplainVerdict struct {
	// Forwarding says the router forwards (or will forward, as soon as
	// packets arrive) the flow out of Interfaces.
	Forwarding bool     `json:"forwarding"`
	Interfaces []string `json:"interfaces,omitempty"`
	// Problems is the number of steps with a problem.
	Problems int `json:"problems"`
	// Summary is the one line: "forwarding to eth1, eth2" or
	// "not forwarding: <the first problem>".
	Summary string `json:"summary"`
}

// ExplainRP is RP(G).
type ExplainRP struct {
	Address netip.Addr `json:"address"`
	// Origin is where the mapping comes from (RPOrigin...); BSR is the
	// elected BSR for RPOriginBSR.
	Origin string     `json:"origin"`
	BSR    netip.Addr `json:"bsr,omitzero"`
	// Zone is the administrative scope zone whose BSR that is (zero: the
	// global zone).
	Zone netip.Prefix `json:"zone,omitzero"`
	// Self: the RP is one of this router's addresses.
	Self bool `json:"self"`
}

// ExplainRPF is the live unicast route toward the source or the RP, and
// the PIM neighbor it leads to.
type ExplainRPF struct {
	// Target is RPFTargetSource or RPFTargetRP; Address is what was looked
	// up.
	Target  string     `json:"target"`
	Address netip.Addr `json:"address"`
	// Found: the kernel has a route. Prefix is the route that matched,
	// NextHop its gateway (zero: directly connected), Interface its
	// outgoing interface, Metric its metric.
	Found     bool         `json:"found"`
	Prefix    netip.Prefix `json:"prefix,omitzero"`
	NextHop   netip.Addr   `json:"next_hop,omitzero"`
	Interface string       `json:"interface,omitempty"`
	Metric    uint32       `json:"metric,omitempty"`
	// Connected: the address is on a link of this router.
	Connected bool `json:"connected,omitempty"`
	// Local: the address is this router's own.
	Local bool `json:"local,omitempty"`
	// PIM: PIM runs on Interface; Neighbor is the PIM neighbor that is
	// the next hop (zero: none).
	PIM      bool       `json:"pim"`
	Neighbor netip.Addr `json:"neighbor,omitzero"`
}

// ExplainInterface is the downstream view of one interface.
type ExplainInterface struct {
	Name string `json:"name"`
	MIF  int    `json:"mif"`
	// PIM: PIM runs here; DR is the link's DR, DRSelf that it is us.
	PIM    bool       `json:"pim"`
	DR     netip.Addr `json:"dr,omitzero"`
	DRSelf bool       `json:"dr_self"`
	// Listeners is the MLD state of the group here: "" (none), "include"
	// or "exclude", with its source list; ListenersWant says it wants the
	// flow asked about.
	Listeners       string       `json:"listeners,omitempty"`
	ListenerSources []netip.Addr `json:"listener_sources,omitempty"`
	ListenersWant   bool         `json:"listeners_want"`
	// Joins are the downstream PIM Join/Prune states of the flow here.
	Joins []ExplainJoin `json:"joins,omitempty"`
	// Neighbors are the PIM neighbors on the link (who may have joined).
	Neighbors []netip.Addr `json:"neighbors,omitempty"`
	// State is one of the Downstream* words; Forwards that the flow goes
	// out here.
	State    string `json:"state"`
	Forwards bool   `json:"forwards"`
}

// ExplainJoin is one downstream Join/Prune state of an interface.
type ExplainJoin struct {
	// Kind is "(S,G)", "(*,G)" or "(S,G,rpt)"; State "Join",
	// "PrunePending", "Prune"...
	Kind       string   `json:"kind"`
	State      string   `json:"state"`
	ExpiryLeft Duration `json:"expiry_left"`
	Forever    bool     `json:"forever,omitempty"`
}

// ExplainEntry is one PIM routing entry of the flow.
type ExplainEntry struct {
	Kind string `json:"kind"` // "(S,G)", "(*,G)", "(S,G,rpt)"
	// Upstream is the upstream state ("Joined", "NotJoined"; for
	// (S,G,rpt) "Pruned", "NotPruned", "RPTNotJoined") and JoinDesired
	// the macro's value.
	Upstream    string `json:"upstream"`
	JoinDesired bool   `json:"join_desired"`
	// RPFNeighbor is RPF' (zero: NULL) on RPFInterface.
	RPFNeighbor  netip.Addr `json:"rpf_neighbor,omitzero"`
	RPFInterface string     `json:"rpf_interface,omitempty"`
	// SPTBit, Register (the DR's Register state: "NoInfo", "Join",
	// "JoinPending", "Prune") and KeepaliveLeft are of (S,G) entries.
	SPTBit        bool     `json:"spt_bit,omitempty"`
	Register      string   `json:"register,omitempty"`
	KeepaliveLeft Duration `json:"keepalive_left,omitempty"`
	// Incoming and Outgoing are the entry's forwarding: its incoming
	// interface and its outgoing list.
	Incoming string   `json:"incoming,omitempty"`
	Outgoing []string `json:"outgoing,omitempty"`
	// Asserts are its Assert machines out of NoInfo.
	Asserts []ExplainAssert `json:"asserts,omitempty"`
}

// ExplainAssert is one Assert machine (RFC 7761 4.6).
type ExplainAssert struct {
	Interface string     `json:"interface"`
	State     string     `json:"state"` // "Winner", "Loser"
	Winner    netip.Addr `json:"winner,omitzero"`
	Left      Duration   `json:"left"`
}

// ExplainMFC is one kernel forwarding entry: what is installed and what
// the daemon wants installed.
type ExplainMFC struct {
	Source netip.Addr `json:"source"`
	Group  netip.Addr `json:"group"`
	// Installed: the kernel holds it, with IIF and OIFs.
	Installed bool     `json:"installed"`
	IIF       string   `json:"iif,omitempty"`
	OIFs      []string `json:"oifs,omitempty"`
	// Desired: the daemon wants an entry, with DesiredIIF and DesiredOIFs.
	Desired     bool     `json:"desired"`
	DesiredIIF  string   `json:"desired_iif,omitempty"`
	DesiredOIFs []string `json:"desired_oifs,omitempty"`
	// Consistent: what is installed is what is desired.
	Consistent bool `json:"consistent"`
	// The kernel's counters; WrongIf counts packets that arrived on an
	// interface other than IIF.
	Packets uint64 `json:"packets"`
	Bytes   uint64 `json:"bytes"`
	WrongIf uint64 `json:"wrong_if"`
}

// ParseExplainArgs checks the arguments of CommandExplain: group an IPv6
// multicast address, source (optional: "" for (*,G)) an IPv6 unicast
// address that can send multicast. pim6stat checks with it before asking
// and the server again on receipt.
func ParseExplainArgs(source, group string) (netip.Addr, netip.Addr, error) {
	var s, g netip.Addr
	g, err := netip.ParseAddr(group)
	switch {
	case group == "":
		return s, g, errors.New("no group given")
	case err != nil:
		return s, g, fmt.Errorf("group %q is not an IPv6 address", group)
	case g.Zone() != "":
		return s, g, fmt.Errorf("group %s: a group takes no zone", group)
	case !g.Is6() || g.Is4In6():
		return s, g, fmt.Errorf("group %s is not an IPv6 address (pim6sd routes IPv6 only)", group)
	case !g.IsMulticast():
		if a, err := netip.ParseAddr(source); err == nil && a.IsMulticast() {
			return s, g, fmt.Errorf("source %s is a multicast address and group %s is not: give SOURCE GROUP, in that order", source, group)
		}
		return s, g, fmt.Errorf("group %s is not a multicast address (ff00::/8)", group)
	}
	if source == "" {
		return s, g, nil
	}
	s, err = netip.ParseAddr(source)
	switch {
	case err != nil:
		return s, g, fmt.Errorf("source %q is not an IPv6 address", source)
	case s.Zone() != "":
		return s, g, fmt.Errorf("source %s: a source takes no zone", source)
	case !s.Is6() || s.Is4In6():
		return s, g, fmt.Errorf("source %s is not an IPv6 address (pim6sd routes IPv6 only)", source)
	case s.IsMulticast():
		return s, g, fmt.Errorf("source %s is a multicast address: give SOURCE GROUP, in that order", source)
	case s.IsUnspecified(), s.IsLoopback(), s.IsLinkLocalUnicast():
		return s, g, fmt.Errorf("source %s cannot be a multicast source here (unspecified, loopback or link-local)", source)
	}
	return s, g, nil
}

func runExplain(s *Server, ctx context.Context, req *Request, resp *Response) error {
	if s.h.Explain == nil {
		return errNotSupported
	}
	src, grp, err := ParseExplainArgs(req.Source, req.Group)
	if err != nil {
		return err
	}
	e, err := s.h.Explain(ctx, src, grp)
	if err != nil {
		return err
	}
	if e == nil {
		return errors.New("the daemon gave no answer")
	}
	resp.Explain = e
	return nil
}

// Explain asks the daemon why the flow (source, zero for (*,G); group)
// does or does not reach its receivers.
func (c *Client) Explain(ctx context.Context, source, group netip.Addr) (*Explain, error) {
	req := Request{Version: ProtocolVersion, Command: CommandExplain, Group: group.String()}
	if source.IsValid() {
		req.Source = source.String()
	}
	resp, err := c.Do(ctx, req)
	if err != nil {
		return nil, err
	}
	if resp.Explain == nil {
		return nil, fmt.Errorf("pim6sd at %s answered without an explanation", c.path())
	}
	return resp.Explain, nil
}
