package kernel

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// A kernel built without one of the multicast routing options answers
// with a bare errno that says nothing about the option: the user reads
// "MRT6_INIT: protocol not available" and has to know that it means
// CONFIG_IPV6_MROUTE. The errors below name the option and the fix. What
// each errno means, from net/ipv6/ip6mr.c and ipv6_sockglue.c:
//
//   - Without CONFIG_IPV6_MROUTE the MRT6_* options are not multicast
//     routing options at all (ip6_mroute_opt is false) and the generic IPv6
//     code answers ENOPROTOOPT, to MRT6_INIT, MRT6_TABLE and the
//     getsockopt MRT6_VERSION alike.
//   - Without CONFIG_IPV6_MROUTE_MULTIPLE_TABLES, ip6_mroute_setsockopt has
//     no MRT6_TABLE case: ENOPROTOOPT. Only MRT6_VERSION (which exists
//     whenever multicast routing does) tells this from the case above.
//   - Without CONFIG_IPV6_PIMSM_V2 there is no MRT6_PIM case (ENOPROTOOPT)
//     and mif6_add has no MIFF_REGISTER case: EINVAL, the errno of an
//     unknown MIF flag.

// Sentinels for kernels built without an option. Errors that carry one are
// *MissingOptionError values that also wrap the kernel's errno, so both
// errors.Is(err, ErrNoMulticastRouting) and errors.Is(err,
// unix.ENOPROTOOPT) hold.
var (
	// ErrNoMulticastRouting: the kernel has no IPv6 multicast routing
	// (CONFIG_IPV6_MROUTE); pim6sd cannot run on it.
	ErrNoMulticastRouting = errors.New("the kernel has no IPv6 multicast routing (CONFIG_IPV6_MROUTE)")
	// ErrNoMultipleTables: the kernel has only the default multicast
	// routing table (no CONFIG_IPV6_MROUTE_MULTIPLE_TABLES).
	ErrNoMultipleTables = errors.New("the kernel has only the default multicast routing table (no CONFIG_IPV6_MROUTE_MULTIPLE_TABLES)")
	// ErrNoPIMRegister: the kernel has no PIM-SM support in multicast
	// routing (CONFIG_IPV6_PIMSM_V2): no register MIF, no MRT6_PIM.
	ErrNoPIMRegister = errors.New("the kernel has no PIM-SM register MIF or MRT6_PIM (CONFIG_IPV6_PIMSM_V2)")
)

// MissingOptionError is a multicast routing socket operation that failed
// because the running kernel was built without an option it needs.
// errors.Is matches both its sentinel (ErrNoMulticastRouting,
// ErrNoMultipleTables, ErrNoPIMRegister) and the kernel's errno.
type MissingOptionError struct {
	Table   uint32 // the multicast routing table
	Op      string // the socket option that failed, "MRT6_INIT"
	Err     error  // the kernel's errno
	Option  string // the kernel build option, "CONFIG_IPV6_MROUTE"
	Missing string // what the kernel lacks, "IPv6 multicast routing"
	Fix     string // what to do about it (Error adds CheckKernelHint)
	kind    error  // the sentinel
}

func (e *MissingOptionError) Error() string {
	return fmt.Sprintf("mrt table %d: %s: %v: this kernel has no %s (it was built without %s); fix: %s (%s)",
		e.Table, e.Op, e.Err, e.Missing, e.Option, e.Fix, CheckKernelHint)
}

// Unwrap gives the sentinel and the errno.
func (e *MissingOptionError) Unwrap() []error { return []error{e.kind, e.Err} }

// The fixes, shared by the errors and Probe.
const (
	fixMRoute         = "boot a kernel built with CONFIG_IPV6_MROUTE=y, such as Debian's packaged linux-image-amd64"
	fixMultipleTables = "use the default multicast routing table, or boot a kernel built with " +
		"CONFIG_IPV6_MROUTE_MULTIPLE_TABLES=y, such as Debian's packaged linux-image-amd64"
	fixPIMSM = "boot a kernel built with CONFIG_IPV6_PIMSM_V2=y, such as Debian's packaged linux-image-amd64"
	// CheckKernelHint points to the command that lists what the kernel has.
	CheckKernelHint = "`pim6sd check-kernel` lists what this kernel has"
)

// Operations ExplainMRTError knows. OpVersion is the getsockopt that
// OpenMRT asks when MRT6_TABLE fails, to tell "no multicast routing" from
// "no second table".
const (
	OpInit        = "MRT6_INIT"
	OpVersion     = "MRT6_VERSION"
	OpTable       = "MRT6_TABLE"
	OpPIM         = "MRT6_PIM"
	OpAddRegister = "MRT6_ADD_MIF MIFF_REGISTER"
)

// ExplainMRTError is the error of the multicast routing socket operation op
// (one of the Op constants, or any other name) that failed on table with
// err. When err means that the kernel lacks a build option it is a
// *MissingOptionError naming the option and the fix; otherwise err wrapped
// as "mrt table T: OP: err" (with ErrTableInUse added to MRT6_INIT's
// EADDRINUSE). It is pure, so it is tested on any kernel, and a fake
// kernel can return what a real one without the option would.
func ExplainMRTError(table uint32, op string, err error) error {
	missing := func(kind error, option, what, fix string) error {
		return &MissingOptionError{Table: table, Op: op, Err: err, Option: option, Missing: what, Fix: fix, kind: kind}
	}
	switch {
	case (op == OpInit || op == OpVersion) && errors.Is(err, unix.ENOPROTOOPT):
		return missing(ErrNoMulticastRouting, "CONFIG_IPV6_MROUTE", "IPv6 multicast routing", fixMRoute)
	case op == OpTable && errors.Is(err, unix.ENOPROTOOPT):
		// OpenMRT reports MRT6_TABLE only after MRT6_VERSION showed that
		// multicast routing itself is there.
		return missing(ErrNoMultipleTables, "CONFIG_IPV6_MROUTE_MULTIPLE_TABLES", "second multicast routing table", fixMultipleTables)
	case op == OpPIM && errors.Is(err, unix.ENOPROTOOPT),
		op == OpAddRegister && errors.Is(err, unix.EINVAL):
		return missing(ErrNoPIMRegister, "CONFIG_IPV6_PIMSM_V2", "PIM-SM register MIF or MRT6_PIM", fixPIMSM)
	case op == OpInit && errors.Is(err, unix.EADDRINUSE):
		return fmt.Errorf("mrt table %d: %s: %w: %w", table, op, ErrTableInUse, err)
	}
	return fmt.Errorf("mrt table %d: %s: %w", table, op, err)
}
