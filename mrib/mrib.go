package mrib

import (
	"math/bits"
	"net/netip"
	"slices"
)

// SG names a forwarding entry.
type SG struct{ Source, Group netip.Addr }

// Route is the desired forwarding of one (S,G): packets from Source to
// Group arriving on interface IIF go out of every interface in OIFs.
// IIF 0 means: no entry (remove it). An IIF with no OIFs is an entry that
// forwards nothing: it stops the kernel's NOCACHE upcalls for a source the
// router knows and drops (an RP that sent a Register-Stop, a first-hop
// router whose Registers are suppressed).
type Route struct {
	SG
	IIF  int
	OIFs []int
}

// Op is one kernel operation: set (add or replace) an MFC entry, or delete
// it. MIFs are the kernel's multicast interface numbers.
type Op struct {
	Del  bool
	SG   SG
	IIF  uint16
	OIFs uint32 // one bit per MIF
}

type entry struct {
	iif  uint16
	oifs uint32
}

// Table holds the desired routes, the MIF of each interface and what is
// installed in the kernel.
type Table struct {
	mif       map[int]uint16
	desired   map[SG]Route
	installed map[SG]entry
	pending   map[SG]Op // sent to the kernel, result not reported yet
	// stale are adopted entries (Adopt) no route has wanted yet: kept
	// until Sweep.
	stale map[SG]struct{}
	// holding: sync records keys in held instead of returning operations
	// (Hold, Release).
	holding bool
	held    map[SG]struct{}
}

// New returns an empty table.
func New() *Table {
	return &Table{
		mif:       make(map[int]uint16),
		desired:   make(map[SG]Route),
		installed: make(map[SG]entry),
		pending:   make(map[SG]Op),
		stale:     make(map[SG]struct{}),
	}
}

// Set records the desired forwarding of r.SG and returns the operation
// that brings the kernel there, if any.
func (t *Table) Set(r Route) []Op {
	if r.IIF == 0 {
		delete(t.desired, r.SG)
	} else {
		r.OIFs = slices.Clone(r.OIFs)
		t.desired[r.SG] = r
		delete(t.stale, r.SG) // wanted again: no longer on grace
	}
	return t.sync(r.SG, nil)
}

// SetMIF records that interface ifindex is MIF mif (it got a MIF) and
// returns the operations for every entry that can now be installed better.
func (t *Table) SetMIF(ifindex int, mif uint16) []Op {
	t.mif[ifindex] = mif
	return t.syncAll()
}

// DelMIF records that interface ifindex has no MIF any more.
func (t *Table) DelMIF(ifindex int) []Op {
	delete(t.mif, ifindex)
	return t.syncAll()
}

// MIF returns the MIF of interface ifindex (the register MIF for the
// engine's RegisterIf), if it has one. The table is the one record of
// which interface is which MIF: the daemon and the views ask it.
func (t *Table) MIF(ifindex int) (uint16, bool) {
	m, ok := t.mif[ifindex]
	return m, ok
}

// IfIndex returns the interface whose MIF is mif: what an upcall's MIF
// stands for.
func (t *Table) IfIndex(mif uint16) (int, bool) {
	for i, m := range t.mif {
		if m == mif {
			return i, true
		}
	}
	return 0, false
}

// Applied reports the result of an operation Set/SetMIF/DelMIF returned.
// On success the table records it as installed; on failure what is
// installed is unknown for a set (it is forgotten, so the next change
// retries) and unchanged for a delete.
func (t *Table) Applied(op Op, err error) {
	if p, ok := t.pending[op.SG]; ok && p == op {
		delete(t.pending, op.SG)
	}
	switch {
	case err == nil && op.Del:
		delete(t.installed, op.SG)
	case err == nil:
		t.installed[op.SG] = entry{op.IIF, op.OIFs}
	case !op.Del:
		delete(t.installed, op.SG)
	}
}

func (t *Table) syncAll() []Op {
	keys := make([]SG, 0, len(t.desired)+len(t.installed))
	for k := range t.desired {
		keys = append(keys, k)
	}
	for k := range t.installed {
		if _, ok := t.desired[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, compareSG)
	var ops []Op
	for _, k := range keys {
		ops = t.sync(k, ops)
	}
	return ops
}

func compareSG(a, b SG) int {
	if c := a.Group.Compare(b.Group); c != 0 {
		return c
	}
	return a.Source.Compare(b.Source)
}

// want computes the kernel entry for the desired route of k, if it can be
// installed.
func (t *Table) want(k SG) (entry, bool) {
	r, ok := t.desired[k]
	if !ok {
		return entry{}, false
	}
	iif, ok := t.mif[r.IIF]
	if !ok {
		return entry{}, false
	}
	var oifs uint32
	for _, o := range r.OIFs {
		if m, ok := t.mif[o]; ok && o != r.IIF && m < 32 {
			oifs |= 1 << m
		}
	}
	if oifs == 0 && len(r.OIFs) > 0 {
		// Outgoing interfaces are wanted but none has a MIF (yet): an
		// entry would only drop what they should get; NOCACHE upcalls
		// come back once one is added.
		return entry{}, false
	}
	return entry{iif, oifs}, true
}

func (t *Table) sync(k SG, ops []Op) []Op {
	if t.holding {
		t.held[k] = struct{}{}
		return ops
	}
	w, want := t.want(k)
	have, installed := t.installed[k]
	var op Op
	switch {
	case want && (!installed || have != w):
		op = Op{SG: k, IIF: w.iif, OIFs: w.oifs}
	case !want && installed:
		if _, ok := t.stale[k]; ok {
			return ops // adopted, on grace until Sweep
		}
		op = Op{Del: true, SG: k}
	default:
		return ops
	}
	t.pending[k] = op
	return append(ops, op)
}

// Installed is one entry the kernel holds, for status output.
type Installed struct {
	SG   SG
	IIF  uint16
	OIFs []uint16
}

// Installed lists what the kernel holds, sorted by group and source.
func (t *Table) Installed() []Installed {
	out := make([]Installed, 0, len(t.installed))
	for k, e := range t.installed {
		in := Installed{SG: k, IIF: e.iif}
		for v := e.oifs; v != 0; v &= v - 1 {
			in.OIFs = append(in.OIFs, uint16(bits.TrailingZeros32(v)))
		}
		out = append(out, in)
	}
	slices.SortFunc(out, func(a, b Installed) int { return compareSG(a.SG, b.SG) })
	return out
}

// Len is the number of installed entries.
func (t *Table) Len() int { return len(t.installed) }

// IsInstalled says whether the kernel holds an entry for k.
func (t *Table) IsInstalled(k SG) bool {
	_, ok := t.installed[k]
	return ok
}

// Desired returns the desired route of k.
func (t *Table) Desired(k SG) (Route, bool) {
	r, ok := t.desired[k]
	return r, ok
}
