package conf

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/pim6sd/pim6sd/mld"
)

// Changes is what differs between two configurations, for a reload.
type Changes struct {
	// RestartNeeded lists the changes a running daemon cannot apply, each
	// with its reason; the daemon keeps the old values until restarted.
	RestartNeeded []string
	// LogLevel, DumpFile and DumpFileMode: global.log-level,
	// global.dump-file or global.dump-file-mode changed (the dump's take
	// effect at the next SIGUSR1).
	LogLevel     bool
	DumpFile     bool
	DumpFileMode bool
	// RestartGrace: global.restart-grace changed (used at the next
	// restart).
	RestartGrace bool
	// StateMaxAge: global.state-max-age changed (used at the next
	// start).
	StateMaxAge bool
	// AuditInterval: global.audit-interval changed (from the next audit).
	AuditInterval bool
	// KeepTableOnStop: global.keep-table-on-stop changed (at the next
	// stop).
	KeepTableOnStop bool
	// DefaultInterfaces: global.default-interfaces changed, which may
	// start or stop interfaces that have no [[interface]] entry.
	DefaultInterfaces bool
	// SSMRange: global.ssm-range changed (the MLD configuration of every
	// interface and PIM's SSM rule).
	SSMRange bool
	// MLDDefaults and PIMDefaults: the effective MLD or PIM setting of an
	// interface without an [[interface]] entry changed ([mld], [pim] or,
	// for MLD, the SSM range). Interfaces with an entry are in Interfaces.
	MLDDefaults bool
	PIMDefaults bool
	// PIMTimers: the router-wide [pim] values changed (keepalive-period,
	// register-suppression-time, register-probe-time, assert-time,
	// spt-switch).
	PIMTimers bool
	// Interfaces are the changes of interfaces with an [[interface]] entry
	// in either configuration, by name.
	Interfaces []InterfaceChange
	// RPsAdded and RPsRemoved: static RPs; an RP whose groups or override
	// changed is removed and added.
	RPsAdded   []RP
	RPsRemoved []RP
	// BSR, CandidateRP and EmbeddedRP: a value of the [bsr],
	// [candidate-rp] or [embedded-rp] table changed (RP discovery,
	// router-wide PIM settings like PIMTimers and the static RPs, applied
	// with the rest of the PIM router configuration). A key written with
	// its default value is no change.
	BSR         bool
	CandidateRP bool
	EmbeddedRP  bool
	// AnycastRP: the [anycast-rp] table changed.
	AnycastRP bool
	// Limits: [limits] changed.
	Limits bool

	// BSRZones: a [[bsr-zone]] entry was added, removed or changed
	// (applied with the rest of the PIM router configuration).
	BSRZones bool

	// Keys names the keys whose effective value changed, for the log:
	// "pim.hello-period", `interface "eth0".mld.query-interval`, and whole
	// entries as `interface "eth1" added` or `rp "2001:db8::1" removed`
	// (see changedKeys). The keys that need a restart are in
	// RestartNeeded instead.
	Keys []string
}

// InterfaceChange is what changed for one interface, assuming it is
// eligible.
type InterfaceChange struct {
	Name string
	// Added and Removed: the [[interface]] entry appeared or went.
	Added, Removed bool
	// Enable: whether the interface runs at all changed.
	Enable bool
	// MLD and PIM: whether the protocol runs there changed, or it runs in
	// both and its effective setting changed.
	MLD, PIM bool
}

// Changed reports whether anything changed.
func (ic InterfaceChange) Changed() bool {
	return ic.Added || ic.Removed || ic.Enable || ic.MLD || ic.PIM
}

// Diff returns what changed from old to new.
func Diff(old, new *Config) Changes {
	var ch Changes
	og, ng := &old.Global, &new.Global
	restart := func(key string, from, to any, why string) {
		ch.RestartNeeded = append(ch.RestartNeeded, fmt.Sprintf("global.%s %v -> %v (%s)", key, from, to, why))
	}
	if og.MRTTable != ng.MRTTable {
		restart("mrt-table", og.MRTTable, ng.MRTTable, "the multicast routing table is chosen at start-up")
	}
	if og.Socket != ng.Socket {
		restart("socket", q(og.Socket), q(ng.Socket), "the control socket is opened at start-up")
	}
	if og.PIDFile != ng.PIDFile {
		restart("pid-file", q(og.PIDFile), q(ng.PIDFile), "the pid file is written at start-up")
	}
	if og.StateFile != ng.StateFile {
		restart("state-file", q(og.StateFile), q(ng.StateFile), "the checkpoint's file is chosen at start-up")
	}
	ch.LogLevel = og.LogLevel != ng.LogLevel
	ch.DumpFile = og.DumpFile != ng.DumpFile
	ch.DumpFileMode = og.DumpFileMode != ng.DumpFileMode
	ch.RestartGrace = og.RestartGrace != ng.RestartGrace
	ch.StateMaxAge = og.StateMaxAge != ng.StateMaxAge
	ch.AuditInterval = og.AuditInterval != ng.AuditInterval
	ch.KeepTableOnStop = og.KeepTableOnStop != ng.KeepTableOnStop
	ch.DefaultInterfaces = og.DefaultInterfaces != ng.DefaultInterfaces
	ch.SSMRange = !slices.Equal(og.SSMRange, ng.SSMRange)
	ch.MLDDefaults = !sameMLD(old.mldConfig(nil), new.mldConfig(nil))
	ch.PIMDefaults = old.pimIfConfig(nil, 0) != new.pimIfConfig(nil, 0)
	op, np := old.PIM, new.PIM
	op.PIMInterface, np.PIMInterface = PIMInterface{}, PIMInterface{}
	ch.PIMTimers = op != np

	var names []string
	for _, c := range []*Config{old, new} {
		for _, ifc := range c.Interfaces {
			if !slices.Contains(names, ifc.Name) {
				names = append(names, ifc.Name)
			}
		}
	}
	slices.Sort(names)
	for _, name := range names {
		if ic := DiffInterface(old, new, name); ic.Changed() {
			ch.Interfaces = append(ch.Interfaces, ic)
		}
	}

	ch.RPsRemoved = rpsMissing(old.RPs, new.RPs)
	ch.RPsAdded = rpsMissing(new.RPs, old.RPs)
	ch.BSR = old.BSR != new.BSR
	ch.CandidateRP = !equalCandidateRP(old.CandidateRP, new.CandidateRP)
	ch.EmbeddedRP = old.EmbeddedRP != new.EmbeddedRP
	ch.AnycastRP = old.AnycastRP.Enable != new.AnycastRP.Enable || old.AnycastRP.Address != new.AnycastRP.Address ||
		!slices.Equal(old.AnycastRP.Members, new.AnycastRP.Members)
	ch.Limits = old.Limits != new.Limits
	ch.BSRZones = !equalBSRZones(old.BSRZones, new.BSRZones) // bsrzone.go
	ch.Keys = changedKeys(old, new)                          // diffkeys.go
	return ch
}

// DiffInterface returns what changed from old to new for the interface
// named name, with an [[interface]] entry or not, assuming it is eligible.
func DiffInterface(old, new *Config, name string) InterfaceChange {
	_, inOld := old.Interface(name)
	_, inNew := new.Interface(name)
	ic := InterfaceChange{
		Name:    name,
		Added:   !inOld && inNew,
		Removed: inOld && !inNew,
		Enable:  old.Enabled(name, true) != new.Enabled(name, true),
	}
	o, n := old.Engines(Link{Name: name}), new.Engines(Link{Name: name})
	ic.MLD = o.RunMLD != n.RunMLD || o.RunMLD && !sameMLD(o.MLD, n.MLD)
	ic.PIM = o.RunPIM != n.RunPIM || o.RunPIM && o.PIMInterface != n.PIMInterface
	return ic
}

// sameMLD reports whether a and b are the same MLD setting.
func sameMLD(a, b mld.Config) bool {
	if !slices.Equal(a.SSMRange, b.SSMRange) {
		return false
	}
	a.SSMRange, b.SSMRange = nil, nil
	return reflect.DeepEqual(a, b)
}

// equalCandidateRP reports whether a and b are the same setting.
func equalCandidateRP(a, b CandidateRP) bool {
	return a.Enable == b.Enable && a.Address == b.Address && a.Priority == b.Priority &&
		a.Interval == b.Interval && a.Holdtime == b.Holdtime && slices.Equal(a.Groups, b.Groups)
}

// rpsMissing returns the RPs of a that are not in b (same address, groups
// and override).
func rpsMissing(a, b []RP) []RP {
	var out []RP
	for _, x := range a {
		if !slices.ContainsFunc(b, func(y RP) bool {
			return x.Address == y.Address && slices.Equal(x.Groups, y.Groups) && x.Override == y.Override
		}) {
			out = append(out, x)
		}
	}
	return out
}

func q(s string) string { return fmt.Sprintf("%q", s) }

// Empty reports whether nothing changed.
func (ch Changes) Empty() bool {
	return len(ch.RestartNeeded) == 0 && !ch.LogLevel && !ch.DumpFile && !ch.DumpFileMode && !ch.RestartGrace && !ch.StateMaxAge && !ch.AuditInterval && !ch.KeepTableOnStop &&
		!ch.DefaultInterfaces && !ch.SSMRange && !ch.MLDDefaults && !ch.PIMDefaults &&
		!ch.PIMTimers && len(ch.Interfaces) == 0 && len(ch.RPsAdded) == 0 &&
		len(ch.RPsRemoved) == 0 && !ch.BSR && !ch.CandidateRP && !ch.EmbeddedRP &&
		!ch.AnycastRP && !ch.Limits &&
		!ch.BSRZones
}

// String describes the changes on one line, for the log: what needs a
// restart, then the keys that changed (Keys).
func (ch Changes) String() string {
	if ch.Empty() {
		return "no change"
	}
	var parts []string
	for _, r := range ch.RestartNeeded {
		parts = append(parts, "restart needed: "+r)
	}
	parts = append(parts, ch.Keys...)
	return strings.Join(parts, "; ")
}
