package conf

import (
	"fmt"
	"io/fs"
	"log/slog"
	"net/netip"
	"time"

	"github.com/pim6sd/pim6sd/mld"
	"github.com/pim6sd/pim6sd/pim"
)

// Config is a configuration file decoded, checked and with the defaults
// applied. Default returns the configuration without a file.
type Config struct {
	Global Global
	// MLD holds the [mld] defaults of every interface.
	MLD MLD
	// PIM holds the [pim] defaults of every interface and the router-wide
	// PIM timers.
	PIM PIM
	// Interfaces are the [[interface]] entries in file order.
	Interfaces []Interface
	// RPs are the static RPs ([[rp]]) in file order.
	RPs []RP
	// BSR, CandidateRP and EmbeddedRP are the RP discovery settings: the
	// [bsr], [candidate-rp] and [embedded-rp] tables (RFC 5059, RFC 3956).
	BSR         BSR
	CandidateRP CandidateRP
	EmbeddedRP  EmbeddedRP
	// AnycastRP is the [anycast-rp] table (RFC 4610).
	AnycastRP AnycastRP
	Limits    Limits

	// BSRZones are the [[bsr-zone]] entries in file order: the
	// administrative scope zones of the BSR mechanism (RFC 5059 1.3,
	// bsrzone.go).
	BSRZones []BSRZone
}

// DefaultRestartGrace is global.restart-grace's default: the default
// Query Response Interval (10 s, the longest a host waits to answer the
// startup query) and 5 s for downstream PIM routers to send their Joins
// again after our new Generation ID (RFC 7761 4.3.1: t_override).
const DefaultRestartGrace = 15 * time.Second

// DefaultStateMaxAge is global.state-max-age's default: a checkpoint
// older than this is not restored. A minute covers a supervisor's restart
// of a crashed daemon (systemd's RestartSec, a few start attempts) and is
// well inside the default Hello Holdtime (105 s), so the neighbors it
// names have not timed us out; state older than that is more likely to
// have changed behind the daemon's back than to save much.
const DefaultStateMaxAge = time.Minute

// Global is the [global] table.
type Global struct {
	// MRTTable is the kernel's multicast routing table (MRT6_TABLE); 0
	// means the kernel's default table (the option is not set).
	MRTTable uint32
	// SSMRange is the Source-Specific Multicast range (RFC 4607), with the
	// "ff3x::/32" shorthand expanded to ff30::/32 .. ff3f::/32 and
	// duplicates removed; empty means no SSM range.
	SSMRange []netip.Prefix
	// DefaultInterfaces says which interfaces run MLD and PIM when they
	// have no [[interface]] entry.
	DefaultInterfaces DefaultInterfaces
	// Socket is the path of the control socket.
	Socket string
	// DumpFile is where SIGUSR1 writes the state dump.
	DumpFile string
	// DumpFileMode is the permission bits of the dump file, 0600 by
	// default; never writable by group or others.
	DumpFileMode fs.FileMode
	// PIDFile is where the daemon writes its process ID; empty means no
	// file.
	PIDFile string
	// LogLevel is debug, info, warn or error.
	LogLevel slog.Level
	// RestartGrace is how long a restarted daemon that took the routing
	// table over keeps the kernel entries nothing wants yet, while MLD
	// and PIM learn their state again, and how long state restored from
	// a checkpoint is held unless listeners or neighbors confirm it (the
	// engines hold it longer where the protocol needs longer)
	// (docs/OPERATIONS.md, "Restarts").
	RestartGrace time.Duration
	// StateFile is where the daemon keeps its checkpoint (listeners,
	// neighbors, Joins) for a restart after a crash; empty means none
	// (docs/OPERATIONS.md, "Checkpoint"). StateMaxAge is the age beyond
	// which a checkpoint is not restored.
	StateFile   string
	StateMaxAge time.Duration
	// AuditInterval is the period of the kernel audit (docs/OPERATIONS.md,
	// "Kernel audit"); an MFC change the kernel announces brings one
	// sooner.
	AuditInterval time.Duration
	// KeepTableOnStop: under systemd with the file descriptor store,
	// SIGTERM stops as for a restart (no goodbye, the table left to the
	// store), so that `systemctl restart` loses nothing
	// (docs/OPERATIONS.md, "Restarts").
	KeepTableOnStop bool
}

// DefaultInterfaces is the default-interfaces setting.
type DefaultInterfaces string

// The values of DefaultInterfaces.
const (
	// AllInterfaces: every eligible interface runs MLD and PIM unless its
	// [[interface]] entry says enable = false.
	AllInterfaces DefaultInterfaces = "all"
	// NoInterfaces: only interfaces with an [[interface]] entry (and
	// enable = true, the default of an entry) run.
	NoInterfaces DefaultInterfaces = "none"
)

// MLD is the [mld] table: the MLD setting of every interface, named as in
// RFC 3810 section 9 and mld.Config. A zero StartupQueryInterval,
// StartupQueryCount or LastListenerQueryCount means "not set": the value
// is derived from the effective QueryInterval or Robustness of each
// interface (mld.Config.Derive, applied by Engines).
type MLD struct {
	Version               mld.Version
	Robustness            int
	QueryInterval         time.Duration
	QueryResponseInterval time.Duration
	StartupQueryInterval  time.Duration // 0: derived from QueryInterval
	StartupQueryCount     int           // 0: derived from Robustness
	// StartupQueryResponseInterval is the Maximum Response Delay of the
	// Startup Queries; 0: the QueryResponseInterval.
	StartupQueryResponseInterval time.Duration
	LastListenerQueryInterval    time.Duration
	LastListenerQueryCount       int // 0: derived from Robustness
	// MaxGroups is the most multicast addresses tracked per interface,
	// MaxSources the most sources per multicast address.
	MaxGroups  int
	MaxSources int
}

// PIMInterface is the per-interface PIM setting (RFC 7761 section 4.11),
// named as in pim.IfConfig. A zero HelloHoldtime or JoinPruneHoldtime
// means "not set": the holdtime is derived from the effective period of
// each interface (pim.IfConfig.Derive, applied by Engines). 65535s in a
// holdtime is the wire value meaning "never expire".
type PIMInterface struct {
	HelloPeriod         time.Duration
	HelloHoldtime       time.Duration // 0: derived from HelloPeriod
	TriggeredHelloDelay time.Duration
	DRPriority          uint32
	JoinPrunePeriod     time.Duration
	JoinPruneHoldtime   time.Duration // 0: derived from JoinPrunePeriod
	PropagationDelay    time.Duration
	OverrideInterval    time.Duration
}

// PIM is the [pim] table: the per-interface defaults and the router-wide
// timers of RFC 7761 section 4.11.
type PIM struct {
	PIMInterface
	KeepalivePeriod         time.Duration
	RegisterSuppressionTime time.Duration
	RegisterProbeTime       time.Duration
	AssertTime              time.Duration
	SPTSwitch               SPTSwitch
}

// SPTSwitch says when a last-hop router switches from the RP tree to the
// shortest-path tree (ASM). The zero value switches on the first packet.
type SPTSwitch struct {
	// Never: stay on the RP tree.
	Never bool
	// Rate, if not zero, switches when a group's traffic exceeds this
	// many bits per second.
	Rate uint64
}

// String returns the configuration syntax: first-packet, never or a rate
// such as 64kbps.
func (s SPTSwitch) String() string {
	switch {
	case s.Never:
		return "never"
	case s.Rate == 0:
		return "first-packet"
	}
	for _, u := range []struct {
		mult uint64
		unit string
	}{{1e9, "gbps"}, {1e6, "mbps"}, {1e3, "kbps"}} {
		if s.Rate%u.mult == 0 {
			return fmt.Sprintf("%d%s", s.Rate/u.mult, u.unit)
		}
	}
	return fmt.Sprintf("%dbps", s.Rate)
}

// Interface is an [[interface]] entry.
type Interface struct {
	Name string
	// Enable false means MLD and PIM never run on the interface; an entry
	// is enabled by default.
	Enable bool
	MLD    MLDOverride
	PIM    PIMOverride
}

// MLDOverride is an [interface.mld] table: whether MLD runs on the
// interface, and the values that override [mld]; nil means inherited.
type MLDOverride struct {
	// Enable false means PIM only; true by default.
	Enable                       bool
	Version                      *mld.Version
	Robustness                   *int
	QueryInterval                *time.Duration
	QueryResponseInterval        *time.Duration
	StartupQueryInterval         *time.Duration
	StartupQueryCount            *int
	StartupQueryResponseInterval *time.Duration
	LastListenerQueryInterval    *time.Duration
	LastListenerQueryCount       *int
	MaxGroups                    *int
	MaxSources                   *int
}

// PIMOverride is an [interface.pim] table: whether PIM runs on the
// interface, and the values that override [pim]; nil means inherited.
type PIMOverride struct {
	// Enable false means MLD only (a stub interface); true by default.
	Enable              bool
	HelloPeriod         *time.Duration
	HelloHoldtime       *time.Duration
	TriggeredHelloDelay *time.Duration
	DRPriority          *uint32
	JoinPrunePeriod     *time.Duration
	JoinPruneHoldtime   *time.Duration
	PropagationDelay    *time.Duration
	OverrideInterval    *time.Duration
}

// RP is a static RP ([[rp]]).
type RP struct {
	// Address is a global unicast IPv6 address.
	Address netip.Addr
	// Groups are the multicast prefixes the RP serves; ff00::/8 by default.
	Groups []netip.Prefix
	// Override: the mapping takes precedence over the RP-set learned from
	// the BSR; without it, it applies only to groups the RP-set does not
	// cover (see the package documentation). False by default.
	Override bool
}

// BSR is the [bsr] table: the Bootstrap Router mechanism (RFC 5059). Every
// router takes part in it (it accepts, keeps and forwards Bootstrap
// messages); Candidate makes this router a Candidate-BSR.
type BSR struct {
	// Candidate: this router is a Candidate-BSR (RFC 5059 section 3.1.1).
	Candidate bool
	// Address is the BSR address the Bootstrap messages carry, a global
	// unicast address of this router, without a zone. It is required (not
	// the zero Addr) when Candidate is set, and may be left out otherwise.
	Address netip.Addr
	// Priority is the BSR priority, the highest wins; 64 by default.
	Priority uint8
	// HashMaskLength is the hash mask length advertised as the BSR, 0..128
	// (RFC 7761 section 4.7.2); 126 by default.
	HashMaskLength uint8
	// Period is BS_Period (RFC 5059 section 5), 1s..16383s, 60s by
	// default. Every router times the BSR out after 2 x Period + 10s, so
	// it must be the same in the whole domain.
	Period time.Duration
	// MaxRPSet is the most (group range, RP) pairs kept from Bootstrap
	// messages and, at the BSR, the most Candidate-RPs; 1024 by default.
	MaxRPSet int
}

// CandidateRP is the [candidate-rp] table (RFC 5059 section 3.2).
type CandidateRP struct {
	// Enable: this router is a Candidate-RP; false by default.
	Enable bool
	// Address is the RP address advertised, a global unicast address of
	// this router without a zone; required when Enable is set.
	Address netip.Addr
	// Priority is the C-RP priority, the lowest wins; 192 by default.
	Priority uint8
	// Interval is C_RP_Adv_Period (RFC 5059 section 5), 1s..65535s; 60s
	// by default.
	Interval time.Duration
	// Holdtime is the effective Holdtime of the advertisements: whole
	// seconds, more than Interval, at most 65535s. When the file does not
	// set it, it is derived from Interval (pim.CandidateRP.Derive: 2.5 x
	// Interval rounded up to a whole second, 150s for the default
	// Interval), so that writing that value is the same as leaving it out.
	Holdtime time.Duration
	// Groups are the group ranges advertised, IPv6 multicast prefixes
	// outside the SSM range, at most 255, without duplicates; ff00::/8 by
	// default.
	Groups []netip.Prefix
}

// AnycastRP is the [anycast-rp] table: this router is a member of an
// Anycast-RP set (RFC 4610). Every member has the shared RP address on a
// loopback and a unique address of its own; each lists the same set.
type AnycastRP struct {
	// Enable: the table is in the file (there is no default set).
	Enable bool
	// Address is the RP address the members share, a global unicast
	// address; the static RP or Candidate-RP address of the groups the
	// set serves.
	Address netip.Addr
	// Members are the unique addresses of every member, this router's
	// among them: 2 to 16 global unicast addresses, none of them Address.
	Members []netip.Addr
}

// EmbeddedRP is the [embedded-rp] table (RFC 3956).
type EmbeddedRP struct {
	// Enable: the RP of a group of ff70::/12 is the one its address
	// embeds; true by default.
	Enable bool
	// MaxGroups is the most groups that take their RP from their address
	// at once (further ones get no RP); 256 by default, 0 allowed.
	MaxGroups int
}

// allGroups is ff00::/8, the default groups of an RP.
var allGroups = netip.MustParsePrefix("ff00::/8")

// Limits is the [limits] table.
type Limits struct {
	// MaxRoutes is the most (S,G) and (*,G) entries.
	MaxRoutes int
	// MaxNeighborsPerInterface is the most PIM neighbors per interface.
	MaxNeighborsPerInterface int
}

// ssmShorthand is the ssm-range entry that stands for ff30::/32 ..
// ff3f::/32.
const ssmShorthand = "ff3x::/32"

// Default returns the configuration used without a file: the engines'
// defaults (mld.DefaultConfig: RFC 3810; pim.DefaultConfig,
// pim.DefaultIfConfig, pim.DefaultCandidateBSR, pim.DefaultCandidateRP:
// RFC 7761, RFC 5059, RFC 3956; the SSM range of RFC 4607), every eligible
// interface enabled, and the daemon's own paths. The values that are
// derived from others are left "not set", so that each interface derives
// them from its own effective values.
func Default() *Config {
	m, p, pi := mld.DefaultConfig(), pim.DefaultConfig(), pim.DefaultIfConfig()
	bsr, crp := pim.DefaultCandidateBSR(), pim.DefaultCandidateRP()
	return &Config{
		Global: Global{
			SSMRange:          p.SSMRange,
			DefaultInterfaces: AllInterfaces,
			Socket:            "/var/run/pim6sd.sock",
			DumpFile:          "/var/run/pim6sd.dump",
			DumpFileMode:      0o600,
			PIDFile:           "/var/run/pim6sd.pid",
			LogLevel:          slog.LevelInfo,
			RestartGrace:      DefaultRestartGrace,
			StateFile:         "/var/run/pim6sd.state",
			StateMaxAge:       DefaultStateMaxAge,
			AuditInterval:     time.Minute,
		},
		MLD: MLD{
			Version:                   m.Version,
			Robustness:                m.Robustness,
			QueryInterval:             m.QueryInterval,
			QueryResponseInterval:     m.QueryResponseInterval,
			LastListenerQueryInterval: m.LastListenerQueryInterval,
			MaxGroups:                 m.MaxGroups,
			MaxSources:                m.MaxSources,
		},
		PIM: PIM{
			PIMInterface: PIMInterface{
				HelloPeriod:         pi.HelloPeriod,
				TriggeredHelloDelay: pi.TriggeredHelloDelay,
				DRPriority:          pi.DRPriority,
				JoinPrunePeriod:     pi.JoinPrunePeriod,
				PropagationDelay:    pi.PropagationDelay,
				OverrideInterval:    pi.OverrideInterval,
			},
			KeepalivePeriod:         p.KeepalivePeriod,
			RegisterSuppressionTime: p.RegisterSuppressionTime,
			RegisterProbeTime:       p.RegisterProbeTime,
			AssertTime:              p.AssertTime,
			SPTSwitch:               SPTSwitch{Never: p.SPT.Never, Rate: p.SPT.Rate},
		},
		BSR: BSR{
			Priority:       bsr.Priority,
			HashMaskLength: bsr.HashMaskLen,
			Period:         p.BootstrapPeriod,
			MaxRPSet:       p.MaxRPSet,
		},
		CandidateRP: CandidateRP{
			Priority: crp.Priority,
			Interval: crp.Interval,
			Holdtime: crp.Holdtime,
			Groups:   crp.Groups,
		},
		EmbeddedRP: EmbeddedRP{
			Enable:    p.EmbeddedRP,
			MaxGroups: p.MaxEmbeddedRPGroups,
		},
		Limits: Limits{
			MaxRoutes:                p.MaxRoutes,
			MaxNeighborsPerInterface: p.MaxNeighbors,
		},
	}
}

// override returns m with the values set in o.
func (m MLD) override(o *MLDOverride) MLD {
	set(&m.Version, o.Version)
	set(&m.Robustness, o.Robustness)
	set(&m.QueryInterval, o.QueryInterval)
	set(&m.QueryResponseInterval, o.QueryResponseInterval)
	set(&m.StartupQueryInterval, o.StartupQueryInterval)
	set(&m.StartupQueryCount, o.StartupQueryCount)
	set(&m.StartupQueryResponseInterval, o.StartupQueryResponseInterval)
	set(&m.LastListenerQueryInterval, o.LastListenerQueryInterval)
	set(&m.LastListenerQueryCount, o.LastListenerQueryCount)
	set(&m.MaxGroups, o.MaxGroups)
	set(&m.MaxSources, o.MaxSources)
	return m
}

// overrides reports whether o sets any value.
func (o *MLDOverride) overrides() bool {
	x := *o
	x.Enable = false
	return x != MLDOverride{}
}

// override returns p with the values set in o.
func (p PIMInterface) override(o *PIMOverride) PIMInterface {
	set(&p.HelloPeriod, o.HelloPeriod)
	set(&p.HelloHoldtime, o.HelloHoldtime)
	set(&p.TriggeredHelloDelay, o.TriggeredHelloDelay)
	set(&p.DRPriority, o.DRPriority)
	set(&p.JoinPrunePeriod, o.JoinPrunePeriod)
	set(&p.JoinPruneHoldtime, o.JoinPruneHoldtime)
	set(&p.PropagationDelay, o.PropagationDelay)
	set(&p.OverrideInterval, o.OverrideInterval)
	return p
}

func (o *PIMOverride) overrides() bool {
	x := *o
	x.Enable = false
	return x != PIMOverride{}
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// Interface returns the [[interface]] entry named name.
func (c *Config) Interface(name string) (Interface, bool) {
	for _, ifc := range c.Interfaces {
		if ifc.Name == name {
			return ifc, true
		}
	}
	return Interface{}, false
}

// Enabled applies default-interfaces: whether MLD and PIM (as far as the
// entry allows) run on the interface named name. eligible is the daemon's
// verdict on the interface (up, multicast, not loopback, with a link-local
// address); an ineligible interface never runs. An interface with an
// [[interface]] entry runs if the entry is enabled; one without runs if
// default-interfaces is "all".
func (c *Config) Enabled(name string, eligible bool) bool {
	if !eligible {
		return false
	}
	if ifc, ok := c.Interface(name); ok {
		return ifc.Enable
	}
	return c.Global.DefaultInterfaces == AllInterfaces
}

// InterfaceMLD returns the MLD configuration of the interface named name
// and whether MLD runs there if the interface is eligible: the MLD part of
// Engines, for a caller that needs nothing else.
func (c *Config) InterfaceMLD(name string) (mld.Config, bool) {
	e := c.Engines(Link{Name: name})
	return e.MLD, e.RunMLD
}
