package kernel

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Socket options and ioctls of include/uapi/linux/mroute6.h. golang.org/x/sys
// does not define them.
const (
	mrt6Init     = 200 // MRT6_INIT: take the table; the kernel then queues upcalls to us
	mrt6Done     = 201 // MRT6_DONE
	mrt6AddMIF   = 202 // MRT6_ADD_MIF (struct mif6ctl)
	mrt6DelMIF   = 203 // MRT6_DEL_MIF (mifi_t)
	mrt6AddMFC   = 204 // MRT6_ADD_MFC (struct mf6cctl)
	mrt6DelMFC   = 205 // MRT6_DEL_MFC (struct mf6cctl)
	mrt6Version  = 206 // MRT6_VERSION (getsockopt, int)
	mrt6PIM      = 208 // MRT6_PIM (int)
	mrt6Table    = 209 // MRT6_TABLE (u32), before MRT6_INIT
	mrt6Flush    = 212 // MRT6_FLUSH (int flags), Linux 5.x and later
	miffRegister = 1   // MIFF_REGISTER

	siocGetMIFCntIn6 = unix.SIOCPROTOPRIVATE     // SIOCGETMIFCNT_IN6 (struct sioc_mif_req6)
	siocGetSGCntIn6  = unix.SIOCPROTOPRIVATE + 1 // SIOCGETSGCNT_IN6 (struct sioc_sg_req6)

	// rt6TableDefault is RT6_TABLE_DFLT (RT_TABLE_MAIN), the table a socket
	// uses when it does not set MRT6_TABLE.
	rt6TableDefault = 254
)

// Errors of the multicast routing socket. They are wrapped together with
// the kernel's errno where there is one, so errors.Is works for both.
var (
	// ErrTableInUse: another socket already runs multicast routing on the
	// table (MRT6_INIT failed with EADDRINUSE).
	ErrTableInUse = errors.New("multicast routing table in use by another socket")
	// ErrNoFreeMIF: all MaxMIFs MIF slots are taken.
	ErrNoFreeMIF = errors.New("no free MIF slot")
	// ErrUnknownMIF: the MIF is not one this MRT added.
	ErrUnknownMIF = errors.New("unknown MIF")
	// ErrNoMFC: the kernel has no MFC entry for the (S,G).
	ErrNoMFC = errors.New("no such MFC entry")
)

// MRTConfig configures OpenMRT.
type MRTConfig struct {
	// Table is the multicast routing table to own. 0 means the default
	// table (254); then MRT6_TABLE is not set, which also works on kernels
	// without CONFIG_IPV6_MROUTE_MULTIPLE_TABLES. Which packets a
	// non-default table sees is chosen by `ip -6 mrule` rules.
	Table uint32
}

// FlushFlags select what Flush removes (MRT6_FLUSH_*). Static entries are
// those added by a socket other than the table's owner.
type FlushFlags uint32

const (
	FlushMFC        FlushFlags = 1 // MRT6_FLUSH_MFC: our MFC entries and the unresolved queue
	FlushMFCStatic  FlushFlags = 2 // MRT6_FLUSH_MFC_STATIC: static MFC entries
	FlushMIFs       FlushFlags = 4 // MRT6_FLUSH_MIFS: our MIFs
	FlushMIFsStatic FlushFlags = 8 // MRT6_FLUSH_MIFS_STATIC: static MIFs
)

// MRT is the IPv6 multicast routing socket of one table: a raw ICMPv6
// socket on which MRT6_INIT was done. It adds and removes MIFs and MFC
// entries, reads the per-(S,G) and per-MIF counters and receives the
// kernel's upcalls (struct mrt6msg).
//
// Control methods are safe for concurrent use and may run while another
// goroutine blocks in ReadUpcall. The socket keeps the network namespace it
// was opened in, whatever thread later calls its methods.
type MRT struct {
	table uint32 // effective table id (254 for the default)
	f     *os.File
	rc    syscall.RawConn

	closed atomic.Bool

	mu   sync.Mutex // guards mifs; serialises MIF changes with their bookkeeping
	mifs [MaxMIFs]mrtMIFSlot

	readMu sync.Mutex // one reader at a time owns buf
	buf    []byte

	stats mrtStats
}

// OpenMRT opens the multicast routing socket and takes the table
// (MRT6_TABLE when cfg.Table != 0, then MRT6_INIT). If another socket owns
// the table the error satisfies errors.Is(err, ErrTableInUse) and
// errors.Is(err, unix.EADDRINUSE). On a kernel without multicast routing
// it satisfies errors.Is(err, ErrNoMulticastRouting); with multicast
// routing but a non-default cfg.Table and no second table,
// errors.Is(err, ErrNoMultipleTables). Both are *MissingOptionError values
// that name the kernel option and the fix, and keep the errno
// (unix.ENOPROTOOPT).
//
// Every ICMPv6 type is blocked by an ICMPv6 filter: the kernel queues
// upcalls straight onto the socket, past the filter, so ReadUpcall sees
// upcalls only and not the ICMPv6 traffic a raw ICMPv6 socket would get.
func OpenMRT(cfg MRTConfig) (*MRT, error) {
	table := cfg.Table
	if table == 0 {
		table = rt6TableDefault
	}
	fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_ICMPV6)
	if err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			return nil, fmt.Errorf("mrt table %d: raw ICMPv6 socket: %w (multicast routing needs root, or CAP_NET_RAW and CAP_NET_ADMIN)", table, err)
		}
		return nil, fmt.Errorf("mrt table %d: raw ICMPv6 socket: %w", table, err)
	}
	fail := func(op string, err error) (*MRT, error) {
		unix.Close(fd)
		return nil, ExplainMRTError(table, op, err)
	}
	var filter unix.ICMPv6Filter
	for i := range filter.Data {
		filter.Data[i] = ^uint32(0) // a set bit blocks the type
	}
	if err := mrtSetsockopt(uintptr(fd), unix.SOL_ICMPV6, unix.ICMPV6_FILTER, unsafe.Pointer(&filter), unsafe.Sizeof(filter)); err != nil {
		return fail("ICMPV6_FILTER", err)
	}
	if cfg.Table != 0 {
		v := cfg.Table
		if err := mrtSetsockopt(uintptr(fd), unix.IPPROTO_IPV6, mrt6Table, unsafe.Pointer(&v), unsafe.Sizeof(v)); err != nil {
			if errors.Is(err, unix.ENOPROTOOPT) {
				// Either no second table or no multicast routing at all;
				// MRT6_VERSION exists whenever multicast routing does.
				if verr := mrtVersion(uintptr(fd)); errors.Is(verr, unix.ENOPROTOOPT) {
					return fail(OpVersion, verr)
				}
			}
			return fail(OpTable, err)
		}
	}
	one := int32(1)
	if err := mrtSetsockopt(uintptr(fd), unix.IPPROTO_IPV6, mrt6Init, unsafe.Pointer(&one), unsafe.Sizeof(one)); err != nil {
		return fail(OpInit, err)
	}
	// The fd is non-blocking, so os.NewFile registers it with the runtime
	// poller: reads park the goroutine, deadlines work, Close wakes them.
	f := os.NewFile(uintptr(fd), fmt.Sprintf("mrt6-table-%d", table))
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("mrt table %d: %w", table, err)
	}
	// 64 KiB is the largest IPv6 packet without a jumbogram; a whole-packet
	// upcall adds the 40-byte struct mrt6msg.
	return &MRT{table: table, f: f, rc: rc, buf: make([]byte, 1<<16+mrt6msgLen)}, nil
}

// Table is the id of the table this socket owns (254 for the default).
func (m *MRT) Table() uint32 { return m.table }

// Close gives the table up (MRT6_DONE) and closes the socket. The kernel
// then removes the MIFs and MFC entries this socket added (not static
// ones) and the pim6reg device; a ReadUpcall blocked in another goroutine
// returns an error satisfying errors.Is(err, net.ErrClosed).
func (m *MRT) Close() error {
	if m.closed.Swap(true) {
		return fmt.Errorf("mrt table %d: %w", m.table, net.ErrClosed)
	}
	var doneErr error
	zero := int32(0)
	cerr := m.rc.Control(func(fd uintptr) {
		doneErr = mrtSetsockopt(fd, unix.IPPROTO_IPV6, mrt6Done, unsafe.Pointer(&zero), unsafe.Sizeof(zero))
	})
	m.mu.Lock()
	m.mifs = [MaxMIFs]mrtMIFSlot{}
	m.mu.Unlock()
	closeErr := m.f.Close()
	// Closing the socket also ends multicast routing on the table; an
	// MRT6_DONE error is worth reporting but not worth keeping the fd.
	if err := errors.Join(cerr, doneErr, closeErr); err != nil {
		return fmt.Errorf("mrt table %d: close: %w", m.table, err)
	}
	return nil
}

// SetReadDeadline sets the deadline for ReadUpcall; after it passes
// ReadUpcall fails with an error satisfying
// errors.Is(err, os.ErrDeadlineExceeded). The zero time means none.
func (m *MRT) SetReadDeadline(t time.Time) error { return m.f.SetReadDeadline(t) }

// EnablePIM turns PIM mode on or off (MRT6_PIM). On, the kernel reports
// packets that arrive on a MIF other than their MFC entry's iif (at most
// one report per entry per MFC_ASSERT_THRESH, 3 s), for asserts and the
// SPT switch, and accepts PIM Registers on the register MIF.
//
// On sends the value MRT6MSG_WRMIFWHOLE (4): kernels since 4.19 then send a
// WrongMIFWhole upcall (with the whole packet) after each WrongMIF upcall.
// Older kernels read any non-zero value as plain on and send WrongMIF only.
// The kernel changes the setting only when on/off changes. On a kernel
// without CONFIG_IPV6_PIMSM_V2 the error satisfies
// errors.Is(err, ErrNoPIMRegister).
func (m *MRT) EnablePIM(on bool) error {
	var v int32
	if on {
		v = mrt6msgWrongMIFWhole
	}
	if err := m.setsockopt(mrt6PIM, unsafe.Pointer(&v), unsafe.Sizeof(v)); err != nil {
		if e := ExplainMRTError(m.table, OpPIM, err); errors.Is(e, ErrNoPIMRegister) {
			return e
		}
		return fmt.Errorf("mrt table %d: MRT6_PIM %v: %w", m.table, on, err)
	}
	return nil
}

// Flush removes MFC entries and/or MIFs of the table (MRT6_FLUSH, Linux
// 5.x and later). All MIFs this MRT added are non-static, so FlushMIFs
// empties our MIF table; FlushMIFsStatic alone leaves it as it is.
func (m *MRT) Flush(flags FlushFlags) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	v := int32(flags)
	if err := m.setsockopt(mrt6Flush, unsafe.Pointer(&v), unsafe.Sizeof(v)); err != nil {
		return fmt.Errorf("mrt table %d: MRT6_FLUSH %#x: %w", m.table, uint32(flags), err)
	}
	if flags&FlushMIFs != 0 {
		m.mifs = [MaxMIFs]mrtMIFSlot{}
	}
	return nil
}

// setsockopt sets an IPPROTO_IPV6 option on the socket.
func (m *MRT) setsockopt(opt int, p unsafe.Pointer, size uintptr) error {
	if m.closed.Load() {
		return net.ErrClosed
	}
	var err error
	if cerr := m.rc.Control(func(fd uintptr) {
		err = mrtSetsockopt(fd, unix.IPPROTO_IPV6, opt, p, size)
	}); cerr != nil {
		return cerr
	}
	return err
}

// ioctl runs an ioctl whose argument is a pointer to a struct that the
// kernel reads and fills in.
func (m *MRT) ioctl(req uintptr, p unsafe.Pointer) error {
	if m.closed.Load() {
		return net.ErrClosed
	}
	var err error
	if cerr := m.rc.Control(func(fd uintptr) {
		_, _, e := unix.Syscall(unix.SYS_IOCTL, fd, req, uintptr(p))
		if e != 0 {
			err = e
		}
	}); cerr != nil {
		return cerr
	}
	return err
}

// mrtVersion reads MRT6_VERSION (getsockopt). It needs no table of its
// own and changes nothing, so it is a harmless question: does this kernel
// have IPv6 multicast routing?
func mrtVersion(fd uintptr) error {
	_, err := unix.GetsockoptInt(int(fd), unix.IPPROTO_IPV6, mrt6Version)
	return err
}

func mrtSetsockopt(fd uintptr, level, opt int, p unsafe.Pointer, size uintptr) error {
	_, _, e := unix.Syscall6(unix.SYS_SETSOCKOPT, fd, uintptr(level), uintptr(opt), uintptr(p), size, 0)
	if e != 0 {
		return e
	}
	return nil
}
