package mrib

import "slices"

// Kernel is one entry as the kernel reports it (kernel.Netlink.MFCs):
// interfaces by index, as routes name them.
type Kernel struct {
	SG
	IIF  int
	OIFs []int
}

// entryOf converts a kernel entry to MIF numbers. ok is false when an
// interface of it has no MIF in the table: an entry the table cannot have
// made.
func (t *Table) entryOf(k Kernel) (entry, bool) {
	iif, ok := t.mif[k.IIF]
	if !ok {
		return entry{}, false
	}
	var oifs uint32
	for _, o := range k.OIFs {
		m, ok := t.mif[o]
		if !ok || m >= 32 {
			return entry{}, false
		}
		oifs |= 1 << m
	}
	return entry{iif, oifs}, true
}

// Adopt records the entries a restarted daemon found in the kernel (it
// took the routing socket over, so they still forward) as installed. An
// entry no route wants yet is kept as stale until Sweep: forwarding goes
// on while the engines learn again what they want. Entries that are
// wanted differently, and entries on interfaces without a MIF, come back
// as operations. Call it after the MIFs are known (SetMIF).
func (t *Table) Adopt(entries []Kernel) []Op {
	var ops []Op
	for _, k := range entries {
		e, ok := t.entryOf(k)
		if !ok {
			// Its interfaces are not ours (any more): it cannot be kept
			// right, so it goes.
			op := Op{Del: true, SG: k.SG}
			t.pending[k.SG] = op
			ops = append(ops, op)
			continue
		}
		t.installed[k.SG] = e
		if _, wanted := t.desired[k.SG]; !wanted {
			t.stale[k.SG] = struct{}{}
			continue
		}
		ops = t.sync(k.SG, ops)
	}
	return ops
}

// Sweep ends the grace of the adopted entries: those no route wants by now
// are deleted.
func (t *Table) Sweep() []Op {
	keys := make([]SG, 0, len(t.stale))
	for k := range t.stale {
		keys = append(keys, k)
	}
	clear(t.stale)
	slices.SortFunc(keys, compareSG)
	var ops []Op
	for _, k := range keys {
		ops = t.sync(k, ops)
	}
	return ops
}

// Stale is the number of adopted entries kept without a route wanting them.
func (t *Table) Stale() int { return len(t.stale) }

// AuditResult says how the kernel differed from what the table installed.
type AuditResult struct {
	Missing int // installed, not in the kernel: deleted behind our back
	Changed int // in the kernel with another iif or oifs
	Extra   int // in the kernel, never installed by us (or left over)
}

// Repairs is the number of differences found.
func (r AuditResult) Repairs() int { return r.Missing + r.Changed + r.Extra }

// Audit compares the kernel's entries with what the table installed and
// returns the operations that make the kernel what the routes want:
// entries deleted or changed behind its back are set again, entries no
// route wants are deleted. Entries with an operation in flight are left
// alone (the kernel may not show its result yet), and so are stale ones
// during a restart's grace.
func (t *Table) Audit(kernel []Kernel) ([]Op, AuditResult) {
	var res AuditResult
	seen := make(map[SG]bool, len(kernel))
	var keys []SG
	for _, k := range kernel {
		seen[k.SG] = true
		if _, busy := t.pending[k.SG]; busy {
			continue
		}
		have, installed := t.installed[k.SG]
		e, ok := t.entryOf(k)
		switch {
		case !installed:
			res.Extra++
		case !ok || e != have:
			res.Changed++
		default:
			continue
		}
		// What the kernel holds is what the table must start from.
		if ok {
			t.installed[k.SG] = e
		} else {
			t.installed[k.SG] = entry{iif: 0xffff}
		}
		keys = append(keys, k.SG)
	}
	for k := range t.installed {
		if _, busy := t.pending[k]; busy || seen[k] {
			continue
		}
		res.Missing++
		delete(t.installed, k)
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareSG)
	var ops []Op
	for _, k := range keys {
		if _, ok := t.stale[k]; ok {
			if _, inst := t.installed[k]; !inst {
				delete(t.stale, k) // gone from the kernel: nothing to keep
			}
			continue
		}
		ops = t.sync(k, ops)
	}
	return ops, res
}

// Lost records that the kernel reported it has no entry for k (a NOCACHE
// upcall) although the table installed one: someone deleted it behind our
// back. It is forgotten, and set again if a route wants it. ok reports
// whether k was installed.
func (t *Table) Lost(k SG) (ops []Op, ok bool) {
	if _, busy := t.pending[k]; busy {
		return nil, false
	}
	if _, ok := t.installed[k]; !ok {
		return nil, false
	}
	delete(t.installed, k)
	return t.sync(k, nil), true
}

// InstalledEntry reports whether the table installed an entry for k, and
// with which incoming MIF.
func (t *Table) InstalledEntry(k SG) (iif uint16, ok bool) {
	e, ok := t.installed[k]
	return e.iif, ok
}

// Hold makes the table record the operations it would return instead of
// returning them, until Release: a restarted daemon restores its state on
// the adopted entries and looks at the result before the kernel is
// changed.
func (t *Table) Hold() {
	t.holding = true
	if t.held == nil {
		t.held = make(map[SG]struct{})
	}
}

// Release ends a Hold and returns the operations of every entry that
// changed meanwhile.
func (t *Table) Release() []Op {
	t.holding = false
	keys := make([]SG, 0, len(t.held))
	for k := range t.held {
		keys = append(keys, k)
	}
	clear(t.held)
	slices.SortFunc(keys, compareSG)
	var ops []Op
	for _, k := range keys {
		ops = t.sync(k, ops)
	}
	return ops
}
