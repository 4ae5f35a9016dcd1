package kernel

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// What each errno of each operation means, as net/ipv6/ip6mr.c answers on
// a kernel built without the option. Pure: runs on any kernel.
func TestExplainMRTError(t *testing.T) {
	cases := []struct {
		name   string
		table  uint32
		op     string
		errno  unix.Errno
		kind   error  // the sentinel, nil for none
		option string // the CONFIG_ option the message names, "" for none
		fix    string // a piece of the fix the message gives
	}{
		{"MRT6_INIT without CONFIG_IPV6_MROUTE", 254, OpInit, unix.ENOPROTOOPT,
			ErrNoMulticastRouting, "CONFIG_IPV6_MROUTE", "boot a kernel built with CONFIG_IPV6_MROUTE=y, such as Debian's packaged linux-image-amd64"},
		{"MRT6_VERSION without CONFIG_IPV6_MROUTE", 10, OpVersion, unix.ENOPROTOOPT,
			ErrNoMulticastRouting, "CONFIG_IPV6_MROUTE", "CONFIG_IPV6_MROUTE=y"},
		{"MRT6_TABLE without multiple tables", 10, OpTable, unix.ENOPROTOOPT,
			ErrNoMultipleTables, "CONFIG_IPV6_MROUTE_MULTIPLE_TABLES", "use the default multicast routing table, or boot a kernel built with CONFIG_IPV6_MROUTE_MULTIPLE_TABLES=y"},
		{"MRT6_PIM without CONFIG_IPV6_PIMSM_V2", 254, OpPIM, unix.ENOPROTOOPT,
			ErrNoPIMRegister, "CONFIG_IPV6_PIMSM_V2", "CONFIG_IPV6_PIMSM_V2=y"},
		{"register MIF without CONFIG_IPV6_PIMSM_V2", 254, OpAddRegister, unix.EINVAL,
			ErrNoPIMRegister, "CONFIG_IPV6_PIMSM_V2", "CONFIG_IPV6_PIMSM_V2=y"},
		// Errnos that mean something else are passed on as they are.
		{"MRT6_INIT on a taken table", 254, OpInit, unix.EADDRINUSE, ErrTableInUse, "", ""},
		{"MRT6_INIT denied", 254, OpInit, unix.EACCES, nil, "", ""},
		{"MRT6_TABLE out of range", 200000000, OpTable, unix.EINVAL, nil, "", ""},
		{"MRT6_PIM denied", 254, OpPIM, unix.EACCES, nil, "", ""},
		{"register MIF taken", 254, OpAddRegister, unix.EADDRINUSE, nil, "", ""},
		{"EINVAL of another operation", 254, OpPIM, unix.EINVAL, nil, "", ""},
		{"ENOPROTOOPT of an unknown operation", 254, "MRT6_FLUSH", unix.ENOPROTOOPT, nil, "", ""},
	}
	sentinels := []error{ErrNoMulticastRouting, ErrNoMultipleTables, ErrNoPIMRegister, ErrTableInUse}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := ExplainMRTError(c.table, c.op, c.errno)
			msg := err.Error()
			if !errors.Is(err, c.errno) {
				t.Errorf("errors.Is(err, %v) is false: %v", c.errno, err)
			}
			for _, s := range sentinels {
				if got := errors.Is(err, s); got != (s == c.kind) {
					t.Errorf("errors.Is(err, %q) = %v: %v", s, got, err)
				}
			}
			var missing *MissingOptionError
			if got := errors.As(err, &missing); got != (c.option != "") {
				t.Fatalf("errors.As(*MissingOptionError) = %v: %v", got, err)
			}
			// Every message says the table, the operation and the errno.
			for _, want := range []string{"mrt table " + strconv.FormatUint(uint64(c.table), 10) + ": ", c.op, c.errno.Error()} {
				if !strings.Contains(msg, want) {
					t.Errorf("message lacks %q: %s", want, msg)
				}
			}
			if c.option == "" {
				if strings.Contains(msg, "CONFIG_") {
					t.Errorf("message names a kernel option for an errno that does not mean one: %s", msg)
				}
				return
			}
			if missing.Option != c.option || missing.Table != c.table || missing.Op != c.op || missing.Err != c.errno {
				t.Errorf("fields %+v, want option %s table %d op %s errno %v", missing, c.option, c.table, c.op, c.errno)
			}
			// The option by its whole name (CONFIG_IPV6_MROUTE is a prefix
			// of the multiple-tables option: only "built without X)" is
			// exact), the fix, and where to look.
			for _, want := range []string{"built without " + c.option + ")", c.fix, CheckKernelHint} {
				if !strings.Contains(msg, want) {
					t.Errorf("message lacks %q: %s", want, msg)
				}
			}
			if !strings.Contains(missing.Fix, c.fix) {
				t.Errorf("Fix %q lacks %q", missing.Fix, c.fix)
			}
		})
	}
}

// The releases uname -r gives, and what the WRMIFWHOLE probe makes of
// them.
func TestReleaseVersion(t *testing.T) {
	cases := []struct {
		release      string
		major, minor int
		ok           bool
	}{
		{"6.18.44-fc-v1300", 6, 18, true},
		{"6.1.0-57-amd64", 6, 1, true},
		{"6.12.118+deb13-amd64", 6, 12, true},
		{"4.19.0", 4, 19, true},
		{"4.19-rc1", 4, 19, true},
		{"4.18.20", 4, 18, true},
		{"", 0, 0, false},
		{"linux", 0, 0, false},
		{"x.1", 0, 0, false},
	}
	for _, c := range cases {
		major, minor, ok := releaseVersion(c.release)
		if major != c.major || minor != c.minor || ok != c.ok {
			t.Errorf("releaseVersion(%q) = %d, %d, %v; want %d, %d, %v", c.release, major, minor, ok, c.major, c.minor, c.ok)
		}
	}
}
