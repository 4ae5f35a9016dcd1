package kernel

import (
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Have says whether the kernel has a capability.
type Have int

const (
	// Unknown: the probe could not tell (Detail says why; without root
	// nothing can be probed).
	Unknown Have = iota
	Yes
	No
)

func (h Have) String() string {
	switch h {
	case Yes:
		return "yes"
	case No:
		return "no"
	}
	return "unknown"
}

// MarshalText makes Have "yes", "no" or "unknown" in JSON.
func (h Have) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// Need says who needs a capability.
type Need int

const (
	// NeedDaemon: pim6sd uses it; Impact says what is lost without it.
	NeedDaemon Need = iota + 1
	// NeedTests: only the test suite uses it.
	NeedTests
)

func (n Need) String() string {
	switch n {
	case NeedDaemon:
		return "daemon"
	case NeedTests:
		return "tests"
	}
	return fmt.Sprintf("Need(%d)", int(n))
}

// MarshalText makes Need "daemon" or "tests" in JSON.
func (n Need) MarshalText() ([]byte, error) { return []byte(n.String()), nil }

// Capability is one thing pim6sd or its tests need from the kernel, as
// Probe found it.
type Capability struct {
	Name string `json:"name"`
	// ConfigOption is the kernel build option that provides it, empty
	// when none does (WRMIFWHOLE comes with a kernel version).
	ConfigOption string `json:"config_option,omitempty"`
	Have         Have   `json:"have"`
	NeededBy     Need   `json:"needed_by"`
	// Detail is how it was probed and what the kernel answered, or why
	// it could not be probed.
	Detail string `json:"detail"`
	// Impact is what does not work without it.
	Impact string `json:"impact"`
	// Fix is what to do when it is missing ("" for test-only items).
	Fix string `json:"fix,omitempty"`
}

// Names of the capabilities, in Probe's order.
const (
	CapMRT6           = "MRT6"
	CapMultipleTables = "multiple tables"
	CapPIMRegister    = "PIM register MIF"
	CapWrongMIFWhole  = "WRMIFWHOLE upcalls"
	CapNetNS          = "network namespaces"
	CapVeth           = "veth"
	CapBridge         = "bridge"
	CapDummy          = "dummy"
)

// probeTable is the non-default table the multiple-tables probe takes; in
// the probe's own namespace every table is free.
const probeTable = 100

// capabilities are the rows of Probe, every one Unknown.
func capabilities() []Capability {
	return []Capability{
		{Name: CapMRT6, ConfigOption: "CONFIG_IPV6_MROUTE", NeededBy: NeedDaemon,
			Impact: "pim6sd cannot start: it programs the kernel's IPv6 multicast forwarding through MRT6", Fix: fixMRoute},
		{Name: CapMultipleTables, ConfigOption: "CONFIG_IPV6_MROUTE_MULTIPLE_TABLES", NeededBy: NeedDaemon,
			Impact: "only the default multicast routing table: pim6sd refuses to start with mrt-table other than 0", Fix: fixMultipleTables},
		{Name: CapPIMRegister, ConfigOption: "CONFIG_IPV6_PIMSM_V2", NeededBy: NeedDaemon,
			Impact: "no any-source multicast: no PIM Registers, no decapsulation at the RP, no wrong-MIF upcalls for Assert and the SPT switch; SSM still works", Fix: fixPIMSM},
		{Name: CapWrongMIFWhole, NeededBy: NeedTests,
			Impact: "the kernel tests that expect WRMIFWHOLE upcalls fail; pim6sd asks for them but needs only the WRONGMIF upcall before each"},
		{Name: CapNetNS, ConfigOption: "CONFIG_NET_NS", NeededBy: NeedTests,
			Impact: "the kernel and end-to-end tests cannot run; check-kernel cannot probe without touching the host"},
		{Name: CapVeth, ConfigOption: "CONFIG_VETH", NeededBy: NeedTests,
			Impact: "the tests cannot link their namespaces"},
		{Name: CapBridge, ConfigOption: "CONFIG_BRIDGE", NeededBy: NeedTests,
			Impact: "the tests of shared LANs (more than two routers on a link) cannot run"},
		{Name: CapDummy, ConfigOption: "CONFIG_DUMMY", NeededBy: NeedTests,
			Impact: "the kernel tests fall back to ifb devices for interfaces that carry no traffic"},
	}
}

// Probe finds out, by trying, which of the capabilities pim6sd and its
// tests use this kernel has. It needs root; without it every answer is
// Unknown.
//
// Every probe runs in a network namespace of its own, made for the
// purpose and gone when Probe returns: a running pim6sd keeps its table
// (the probe's MRT6_INIT on table 254 is another namespace's table 254),
// and the host's interfaces see no veth, bridge or pim6reg device come
// and go.
func Probe() []Capability {
	caps := capabilities()
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Never unlocked: the thread moves to the scratch namespace, and
		// a locked thread whose goroutine ends is discarded by the runtime
		// instead of going back to run other goroutines there.
		runtime.LockOSThread()
		probeOnThisThread(caps, Release())
	}()
	<-done
	return caps
}

// probeOnThisThread moves the (locked) thread into a new network namespace
// and probes there.
func probeOnThisThread(caps []Capability, release string) {
	c := func(name string) *Capability {
		for i := range caps {
			if caps[i].Name == name {
				return &caps[i]
			}
		}
		panic("kernel: no capability " + name)
	}
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		why := fmt.Sprintf("not probed: the probes run in a network namespace of their own so as not to touch the host, and unshare(CLONE_NEWNET) failed: %v", err)
		if errors.Is(err, unix.EPERM) {
			why = "needs root (the probes run in a network namespace of their own)"
		}
		for i := range caps {
			caps[i].Detail = why
		}
		if errors.Is(err, unix.EINVAL) {
			// The errno of a kernel without CONFIG_NET_NS.
			ns := c(CapNetNS)
			ns.Have, ns.Detail = No, fmt.Sprintf("unshare(CLONE_NEWNET): %v", err)
		}
		return
	}
	ns := c(CapNetNS)
	ns.Have, ns.Detail = Yes, "unshare(CLONE_NEWNET) made the namespace these probes ran in"

	probeMRT(c(CapMRT6), c(CapMultipleTables), c(CapPIMRegister), c(CapWrongMIFWhole), release)

	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		for _, name := range []string{CapVeth, CapBridge, CapDummy} {
			c(name).Detail = fmt.Sprintf("not probed: netlink: %v", err)
		}
		return
	}
	defer h.Close()
	probeLink(h, c(CapVeth), &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "probe-veth0"}, PeerName: "probe-veth1"})
	probeLink(h, c(CapBridge), &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "probe-br0"}})
	probeLink(h, c(CapDummy), &netlink.Dummy{LinkAttrs: netlink.LinkAttrs{Name: "probe-dummy0"}})
}

// probeMRT takes the default and a second table and adds the register
// MIF, with the same code the daemon runs.
func probeMRT(mrt6, tables, register, wrmifwhole *Capability, release string) {
	m, err := OpenMRT(MRTConfig{})
	switch {
	case err == nil:
		defer m.Close()
		mrt6.Have, mrt6.Detail = Yes, fmt.Sprintf("MRT6_INIT on table %d worked", rt6TableDefault)
	case errors.Is(err, ErrNoMulticastRouting):
		mrt6.Have, mrt6.Detail = No, "MRT6_INIT: "+errnoText(err)
		for _, c := range []*Capability{tables, register, wrmifwhole} {
			c.Have, c.Detail = No, "needs IPv6 multicast routing (CONFIG_IPV6_MROUTE) first"
		}
		return
	default:
		mrt6.Detail = err.Error()
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			mrt6.Detail = "needs root: " + err.Error()
		}
		for _, c := range []*Capability{tables, register, wrmifwhole} {
			c.Detail = "not probed: IPv6 multicast routing is unknown"
		}
		return
	}

	t, err := OpenMRT(MRTConfig{Table: probeTable})
	switch {
	case err == nil:
		t.Close()
		tables.Have, tables.Detail = Yes, fmt.Sprintf("MRT6_TABLE %d, then MRT6_INIT, worked", probeTable)
	case errors.Is(err, ErrNoMultipleTables):
		tables.Have, tables.Detail = No, fmt.Sprintf("MRT6_TABLE %d: %s", probeTable, errnoText(err))
	default:
		tables.Detail = err.Error()
	}

	pimErr := m.EnablePIM(true)
	_, regErr := m.AddRegisterMIF()
	switch {
	case pimErr == nil && regErr == nil:
		// The kernel made the device; the socket asks in its own namespace.
		if _, err := m.ifIndex(m.RegisterDevice()); err != nil {
			register.Detail = fmt.Sprintf("MRT6_PIM and the register MIF worked, but no %s device: %v", m.RegisterDevice(), err)
			break
		}
		register.Have, register.Detail = Yes, fmt.Sprintf("MRT6_PIM and a MIFF_REGISTER MIF worked (device %s)", m.RegisterDevice())
	case errors.Is(pimErr, ErrNoPIMRegister) || errors.Is(regErr, ErrNoPIMRegister):
		var parts []string
		if pimErr != nil {
			parts = append(parts, "MRT6_PIM: "+errnoText(pimErr))
		}
		if regErr != nil {
			parts = append(parts, "MIFF_REGISTER MIF: "+errnoText(regErr))
		}
		register.Have, register.Detail = No, strings.Join(parts, "; ")
	default:
		register.Detail = errors.Join(pimErr, regErr).Error()
	}

	// Kernels since 4.19 take MRT6_PIM = MRT6MSG_WRMIFWHOLE as "on, with
	// whole-packet upcalls"; older ones read it as plain on. getsockopt
	// MRT6_PIM reads back only on or off, so only the version can tell
	// short of sending a packet on a wrong interface.
	major, minor, ok := releaseVersion(release)
	switch {
	case !ok:
		wrmifwhole.Detail = fmt.Sprintf("kernel release %q: no version to compare with 4.19 (getsockopt cannot tell)", release)
	case major > 4 || major == 4 && minor >= 19:
		wrmifwhole.Have, wrmifwhole.Detail = Yes, fmt.Sprintf("Linux %d.%d >= 4.19 (decided by the version: getsockopt cannot tell)", major, minor)
	default:
		wrmifwhole.Have, wrmifwhole.Detail = No, fmt.Sprintf("Linux %d.%d < 4.19 (decided by the version: getsockopt cannot tell)", major, minor)
	}
}

// probeLink creates the link; the namespace takes it away.
func probeLink(h *netlink.Handle, c *Capability, l netlink.Link) {
	err := h.LinkAdd(l)
	switch {
	case err == nil:
		c.Have, c.Detail = Yes, fmt.Sprintf("created a %s link", l.Type())
	case errors.Is(err, unix.EOPNOTSUPP):
		// rtnetlink's answer for a link kind it does not know, after it
		// tried to load the module.
		c.Have, c.Detail = No, fmt.Sprintf("creating a %s link: %v", l.Type(), err)
	default:
		c.Detail = fmt.Sprintf("creating a %s link: %v", l.Type(), err)
	}
}

// errnoText is the errno's text of err, or err's text when it has none.
func errnoText(err error) string {
	var e unix.Errno
	if errors.As(err, &e) {
		return e.Error()
	}
	return err.Error()
}

// Release is the running kernel's release (uname -r), "" if unknown.
func Release() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Release[:])
}

// releaseVersion reads major and minor from a kernel release such as
// "6.1.0-57-amd64" or "6.18.44-fc-v1300".
func releaseVersion(release string) (major, minor int, ok bool) {
	fields := strings.SplitN(release, ".", 3)
	if len(fields) < 2 {
		return 0, 0, false
	}
	// The minor may run into a suffix: "4.19-rc1", "5.4foo".
	mi := strings.IndexFunc(fields[1], func(r rune) bool { return r < '0' || r > '9' })
	if mi < 0 {
		mi = len(fields[1])
	}
	major, err1 := strconv.Atoi(fields[0])
	minor, err2 := strconv.Atoi(fields[1][:mi])
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return major, minor, true
}
