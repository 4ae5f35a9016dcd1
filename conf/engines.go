package conf

import (
	"slices"

	"github.com/pim6sd/pim6sd/mld"
	"github.com/pim6sd/pim6sd/pim"
)

// This file is the one place where configuration values become engine
// settings. The daemon configures its engines with Engines, and Parse
// validates a file by building the same settings and asking the engines
// (check.go), so that what check-config accepts is what the engines
// accept. It lives in conf rather than in a package between conf and the
// engines because Parse needs it: such a package would import conf, and
// conf would import it.

// Link is what the configuration needs to know of an interface: its name,
// which picks its [[interface]] entry, and its MTU (0 if unknown).
type Link struct {
	Name string
	MTU  int
}

// Engines are the engines' settings that a Config gives: the PIM router's,
// and those of one interface.
type Engines struct {
	// PIM is the PIM router's configuration, without Rand (the daemon's
	// randomness is no configuration).
	PIM pim.Config
	// MLD and PIMInterface are the interface's MLD and PIM settings, and
	// RunMLD and RunPIM whether each protocol runs there if the interface
	// is eligible (see Enabled). A Link without a name gets those of an
	// interface without an [[interface]] entry.
	MLD          mld.Config
	RunMLD       bool
	PIMInterface pim.IfConfig
	RunPIM       bool
}

// Engines builds the engines' settings for the router and the interface
// l. For the interface, a value comes from its [interface.mld] or
// [interface.pim] table, then from [mld] or [pim] (which hold the engines'
// defaults for what the file leaves out); the values the RFCs derive from
// others are derived from the interface's effective values, unless the
// file sets them (mld.Config.Derive, pim.IfConfig.Derive). The MTU is l's
// when it is one IPv6 allows, else the engine's default.
func (c *Config) Engines(l Link) Engines {
	e := Engines{PIM: c.pimConfig()}
	var mo *MLDOverride
	var po *PIMOverride
	if ifc, ok := c.Interface(l.Name); ok && l.Name != "" {
		mo, po = &ifc.MLD, &ifc.PIM
		e.RunMLD = ifc.Enable && ifc.MLD.Enable
		e.RunPIM = ifc.Enable && ifc.PIM.Enable
	} else {
		e.RunMLD = c.Enabled(l.Name, true)
		e.RunPIM = e.RunMLD
	}
	e.MLD = c.mldConfig(mo)
	e.PIMInterface = c.pimIfConfig(po, l.MTU)
	return e
}

// mldConfig returns the MLD setting of an interface whose [interface.mld]
// table is o (nil: none).
func (c *Config) mldConfig(o *MLDOverride) mld.Config {
	m := c.MLD
	if o != nil {
		m = m.override(o)
	}
	return mld.Config{
		Version:                      m.Version,
		Robustness:                   m.Robustness,
		QueryInterval:                m.QueryInterval,
		QueryResponseInterval:        m.QueryResponseInterval,
		StartupQueryInterval:         m.StartupQueryInterval,
		StartupQueryCount:            m.StartupQueryCount,
		StartupQueryResponseInterval: m.StartupQueryResponseInterval,
		LastListenerQueryInterval:    m.LastListenerQueryInterval,
		LastListenerQueryCount:       m.LastListenerQueryCount,
		SSMRange:                     slices.Clone(c.Global.SSMRange),
		MaxGroups:                    m.MaxGroups,
		MaxSources:                   m.MaxSources,
	}.Derive()
}

// pimIfConfig returns the PIM setting of an interface whose
// [interface.pim] table is o (nil: none) and whose MTU is mtu.
func (c *Config) pimIfConfig(o *PIMOverride, mtu int) pim.IfConfig {
	p := c.PIM.PIMInterface
	if o != nil {
		p = p.override(o)
	}
	ic := pim.DefaultIfConfig() // for what the file has no key for
	ic.HelloPeriod = p.HelloPeriod
	ic.HelloHoldtime = p.HelloHoldtime
	ic.TriggeredHelloDelay = p.TriggeredHelloDelay
	ic.DRPriority = p.DRPriority
	ic.PropagationDelay = p.PropagationDelay
	ic.OverrideInterval = p.OverrideInterval
	ic.JoinPrunePeriod = p.JoinPrunePeriod
	ic.JoinPruneHoldtime = p.JoinPruneHoldtime
	if mtu >= pim.MinMTU {
		ic.MTU = mtu
	}
	return ic.Derive()
}

// pimConfig returns the PIM router's configuration, without Rand.
func (c *Config) pimConfig() pim.Config {
	pc := pim.DefaultConfig() // for what the file has no key for
	pc.SSMRange = slices.Clone(c.Global.SSMRange)
	for _, rp := range c.RPs {
		pc.RPs = append(pc.RPs, pim.StaticRP{Addr: rp.Address, Groups: slices.Clone(rp.Groups), Override: rp.Override})
	}
	pc.SPT = pim.SPTPolicy{Never: c.PIM.SPTSwitch.Never, Rate: c.PIM.SPTSwitch.Rate}
	pc.KeepalivePeriod = c.PIM.KeepalivePeriod
	pc.RegisterSuppressionTime = c.PIM.RegisterSuppressionTime
	pc.RegisterProbeTime = c.PIM.RegisterProbeTime
	pc.AssertTime = c.PIM.AssertTime
	// Counters are read often enough for the Keepalive Timer (at least
	// three reads per period).
	pc.ActivityInterval = min(pc.ActivityInterval, pc.KeepalivePeriod/3)
	pc.MaxRoutes = c.Limits.MaxRoutes
	pc.MaxNeighbors = c.Limits.MaxNeighborsPerInterface
	// RP discovery: BSR (RFC 5059) and Embedded-RP (RFC 3956).
	if c.BSR.Candidate {
		pc.CandidateBSR = &pim.CandidateBSR{Addr: c.BSR.Address, Priority: c.BSR.Priority, HashMaskLen: c.BSR.HashMaskLength}
	}
	pc.BootstrapPeriod = c.BSR.Period
	pc.MaxRPSet = c.BSR.MaxRPSet
	if r := c.CandidateRP; r.Enable {
		pc.CandidateRP = &pim.CandidateRP{
			Addr:     r.Address,
			Priority: r.Priority,
			Holdtime: r.Holdtime,
			Interval: r.Interval,
			Groups:   slices.Clone(r.Groups),
		}
	}
	pc.EmbeddedRP = c.EmbeddedRP.Enable
	pc.MaxEmbeddedRPGroups = c.EmbeddedRP.MaxGroups
	if a := c.AnycastRP; a.Enable {
		pc.AnycastRP = &pim.AnycastRP{Addr: a.Address, Members: slices.Clone(a.Members)}
	}
	c.bsrZonesConfig(&pc) // [[bsr-zone]], bsrzone.go
	return pc
}
