package view

import (
	"net/netip"
	"time"

	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/kernel"
	"github.com/pim6sd/pim6sd/mld"
	"github.com/pim6sd/pim6sd/mrib"
	"github.com/pim6sd/pim6sd/pim"
)

// State is what a view reads: the engines, the MRIB and the loop's own
// tables, lent by the daemon on its loop for the time of one view. Views
// only read it: the maps and engines are the daemon's own, not copies.
type State struct {
	// Now is the instant of the view: times left are counted from it.
	Now time.Time
	// Started is when the loop began; ConfigFile the file the
	// configuration came from ("" for none); Table the kernel's multicast
	// routing table.
	Started    time.Time
	ConfigFile string
	Table      uint32
	// Deterministic leaves the process ID and the Go runtime's memory out
	// of the snapshot, so that a simulation can compare snapshots run to
	// run.
	Deterministic bool

	MLD  *mld.Router
	PIM  *pim.Router
	MRIB *mrib.Table

	// Interfaces are the interfaces the loop knows, sorted by index.
	Interfaces []Interface
	// Local is every global address of the router, sorted.
	Local []netip.Addr
	// Upcalls counts the kernel's upcalls by type ("upcall/nocache"...).
	Upcalls map[string]uint64
	// Checkpoint counts the checkpoint's writes and restores
	// ("written", "restored", "refused/stale"...).
	Checkpoint map[string]uint64

	// Kernel answers what a view asks the kernel now.
	Kernel Lookup
	// Restart is the takeover of a restart, nil for a fresh start.
	Restart *ctl.Restart
	// Audit is the kernel audit's record.
	Audit ctl.Audit
	// Pauses are the loop's pauses for views so far (shown in the
	// snapshot, not with Deterministic); nil when not measured.
	Pauses *ctl.Pauses

	byIndex map[int]*Interface // Interfaces by index, made on first use
}

// Interface is one interface as the loop knows it.
type Interface struct {
	Index int
	Name  string
	Up    bool
	MTU   int
	// LinkLocal is the link-local address in use, with its prefix length
	// (not valid: none).
	LinkLocal netip.Prefix
	Globals   []netip.Prefix
	// MLD and PIM say whether the engines run on the interface.
	// MLDConfig is its MLD configuration (its limits are shown).
	MLD, PIM  bool
	MLDConfig mld.Config
}

// Lookup is what views ask the kernel, at the instant of the view. It
// only reads: the daemon's Kernel is one.
type Lookup interface {
	// RouteTo is the unicast route toward addr (kernel.ErrNoRoute: none).
	RouteTo(addr netip.Addr) (kernel.Route, error)
	// SGCount reads the counters of an installed (S,G) entry.
	SGCount(src, grp netip.Addr) (kernel.SGCounters, error)
}

// iface is the interface of index i, or nil.
func (s *State) iface(i int) *Interface {
	if s.byIndex == nil {
		s.byIndex = make(map[int]*Interface, len(s.Interfaces))
		for k := range s.Interfaces {
			s.byIndex[s.Interfaces[k].Index] = &s.Interfaces[k]
		}
	}
	return s.byIndex[i]
}

// mif is the MIF of interface ifindex (pim.RegisterIf: the register MIF)
// as the MRIB records it: which interface is which MIF is the MRIB's
// record alone.
func (s *State) mif(ifindex int) (kernel.MIF, bool) {
	if s.MRIB == nil {
		return 0, false
	}
	m, ok := s.MRIB.MIF(ifindex)
	return kernel.MIF(m), ok
}

// name is the name of interface i, "" when the loop does not know it.
func (s *State) name(i int) string {
	if ifc := s.iface(i); ifc != nil {
		return ifc.Name
	}
	return ""
}

// listener is the MLD listener state of a group on an interface: the
// MLD engine is its one record.
func (s *State) listener(ifindex int, group netip.Addr) (mld.ListenerUpdate, bool) {
	if s.MLD == nil {
		return mld.ListenerUpdate{}, false
	}
	return s.MLD.Listener(ifindex, group)
}
