package daemon

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"

	"github.com/pim6sd/pim6sd/kernel"
)

// Linux is the Kernel of a real router: the MRT6 routing socket, the MLD
// socket and netlink, in the network namespace of the thread that opened it.
type Linux struct {
	mrt *kernel.MRT
	mld *kernel.MLDConn
	pim *kernel.PIMConn
	nl  *kernel.Netlink

	table   uint32
	adopted bool

	done chan struct{}
	wg   sync.WaitGroup
	once sync.Once

	// handover is the routing socket's descriptor Release kept for the
	// next instance.
	handover     *os.File
	handoverMIFs []kernel.MIFEntry
}

// Handover is what a restarting daemon passes to the program it executes
// (in the environment variable HandoverEnv): the descriptor of the routing
// socket, its table and its MIFs.
type Handover struct {
	FD    int               `json:"fd"`
	Table uint32            `json:"table"`
	MIFs  []kernel.MIFEntry `json:"mifs"`
}

// HandoverEnv is the environment variable that carries a Handover (JSON)
// across exec.
const HandoverEnv = "PIM6SD_HANDOVER"

// OpenLinux opens the kernel side of the daemon on multicast routing table
// table (0 = the default table).
func OpenLinux(table uint32) (*Linux, error) {
	return OpenLinuxHandover(table, nil, nil)
}

// OpenLinuxHandover is OpenLinux that first tries to take over the routing
// socket a previous instance handed over (h, nil for none). If that fails
// (another table, not a routing socket) the descriptor is closed, which
// ends the old table, and a fresh socket is opened; the reason is logged.
func OpenLinuxHandover(table uint32, h *Handover, log *slog.Logger) (*Linux, error) {
	var mrt *kernel.MRT
	adopted := false
	if h != nil {
		f := os.NewFile(uintptr(h.FD), "handed-over routing socket")
		tbl := table
		if tbl == 0 {
			tbl = 254
		}
		var err error
		switch {
		case f == nil:
			err = fmt.Errorf("descriptor %d is not open", h.FD)
		case h.Table != tbl:
			f.Close()
			err = fmt.Errorf("it is for table %d, the configuration says %d", h.Table, tbl)
		default:
			mrt, err = kernel.AdoptMRT(f, table, h.MIFs)
		}
		if err != nil {
			if log != nil {
				log.Warn("cannot take over the routing socket of the previous instance; starting with an empty table", "err", err)
			}
		} else {
			adopted = true
		}
	}
	if mrt == nil {
		var err error
		if mrt, err = kernel.OpenMRT(kernel.MRTConfig{Table: table}); err != nil {
			return nil, err
		}
	}
	mld, err := kernel.OpenMLD()
	if err != nil {
		mrt.Close()
		return nil, err
	}
	pim, err := kernel.OpenPIM()
	if err != nil {
		mld.Close()
		mrt.Close()
		return nil, err
	}
	nl, err := kernel.OpenNetlink()
	if err != nil {
		pim.Close()
		mld.Close()
		mrt.Close()
		return nil, err
	}
	return &Linux{mrt: mrt, mld: mld, pim: pim, nl: nl, table: table, adopted: adopted, done: make(chan struct{})}, nil
}

func (l *Linux) MFCs() ([]kernel.MFCEntry, error) { return l.nl.MFCs(l.table) }
func (l *Linux) MIFTable() []kernel.MIFEntry      { return l.mrt.MIFs() }
func (l *Linux) Adopted() bool                    { return l.adopted }

func (l *Linux) Links() ([]kernel.Link, error)          { return l.nl.Links() }
func (l *Linux) Addrs() ([]kernel.Addr, error)          { return l.nl.Addrs() }
func (l *Linux) AddMIF(ifindex int) (kernel.MIF, error) { return l.mrt.AddMIF(ifindex) }
func (l *Linux) DelMIF(m kernel.MIF) error              { return l.mrt.DelMIF(m) }
func (l *Linux) JoinMLD(ifindex int) error              { return l.mld.Join(ifindex) }
func (l *Linux) LeaveMLD(ifindex int) error             { return l.mld.Leave(ifindex) }
func (l *Linux) SendMLD(b []byte, ifi int, src, dst netip.Addr) error {
	return l.mld.WriteTo(b, ifi, src, dst)
}
func (l *Linux) AddRegisterMIF() (kernel.MIF, error) { return l.mrt.AddRegisterMIF() }
func (l *Linux) EnablePIM(on bool) error             { return l.mrt.EnablePIM(on) }
func (l *Linux) JoinPIM(ifindex int) error           { return l.pim.Join(ifindex) }
func (l *Linux) LeavePIM(ifindex int) error          { return l.pim.Leave(ifindex) }
func (l *Linux) SendPIM(b []byte, ifi int, src, dst netip.Addr) error {
	return l.pim.WriteTo(b, ifi, src, dst)
}
func (l *Linux) SetMFC(src, grp netip.Addr, iif kernel.MIF, oifs kernel.MIFSet) error {
	return l.mrt.SetMFC(src, grp, iif, oifs)
}
func (l *Linux) DelMFC(src, grp netip.Addr) error { return l.mrt.DelMFC(src, grp) }
func (l *Linux) SGCount(src, grp netip.Addr) (kernel.SGCounters, error) {
	return l.mrt.SGCount(src, grp)
}
func (l *Linux) RouteTo(addr netip.Addr) (kernel.Route, error)     { return l.nl.RouteTo(addr) }
func (l *Linux) MIFCount(m kernel.MIF) (kernel.MIFCounters, error) { return l.mrt.MIFCount(m) }

// Start starts the MLD and PIM readers and the netlink watcher.
func (l *Linux) Start(post func(Input)) error {
	events, err := l.nl.Subscribe(l.done)
	if err != nil {
		return fmt.Errorf("netlink subscribe: %w", err)
	}
	mfc, err := l.nl.SubscribeMFC(l.table, l.done)
	if err != nil {
		return fmt.Errorf("netlink subscribe: %w", err)
	}
	l.wg.Add(5)
	go func() {
		defer l.wg.Done()
		for range mfc {
			post(MFCChangedInput{})
		}
	}()
	go func() {
		defer l.wg.Done()
		for ev := range events {
			post(NetlinkInput{ev})
		}
	}()
	go l.read("mld", l.mld.ReadFrom, func(info kernel.RecvInfo, b []byte) Input { return MLDInput{info, b} }, post)
	go l.read("pim", l.pim.ReadFrom, func(info kernel.RecvInfo, b []byte) Input { return PIMInput{info, b} }, post)
	go func() {
		defer l.wg.Done()
		for {
			u, err := l.mrt.ReadUpcall()
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if err != nil {
				post(ReaderError{What: "upcall", Err: err})
				continue
			}
			post(UpcallInput{u})
		}
	}()
	return nil
}

// read is a socket reader: it posts each message (a copy) until the socket
// is closed. A truncated message is posted as it is; the engines count it
// as malformed.
func (l *Linux) read(what string, readFrom func([]byte) (int, kernel.RecvInfo, error), wrap func(kernel.RecvInfo, []byte) Input, post func(Input)) {
	defer l.wg.Done()
	buf := make([]byte, 65536)
	for {
		n, info, err := readFrom(buf)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil && !errors.Is(err, kernel.ErrRecvTruncated) {
			post(ReaderError{What: what, Err: err})
			continue
		}
		post(wrap(info, append([]byte(nil), buf[:n]...)))
	}
}

// Release stops the readers and closes the sockets, but first keeps a
// duplicate of the routing socket's descriptor (HandoverInfo): the table
// stays as it is for the program the daemon executes next.
func (l *Linux) Release() error {
	h, err := l.mrt.Handover()
	if err != nil {
		return errors.Join(err, l.Close())
	}
	mifs := l.mrt.MIFs()
	var errs []error
	l.once.Do(func() {
		close(l.done)
		errs = append(errs, l.mld.Close())
		errs = append(errs, l.pim.Close())
		errs = append(errs, l.mrt.Release())
		l.wg.Wait()
		errs = append(errs, l.nl.Close())
		l.handover = h
		l.handoverMIFs = mifs
	})
	if l.handover != h {
		h.Close()
	}
	return errors.Join(errs...)
}

// RoutingSocket returns a duplicate of the routing socket's descriptor
// (not close-on-exec): for systemd's file descriptor store. The caller
// closes it.
func (l *Linux) RoutingSocket() (*os.File, error) { return l.mrt.Handover() }

// HandoverInfo is the Handover Release prepared, nil if it did not run. The
// descriptor is open and not close-on-exec.
func (l *Linux) HandoverInfo() *Handover {
	if l.handover == nil {
		return nil
	}
	return &Handover{FD: int(l.handover.Fd()), Table: l.mrt.Table(), MIFs: l.handoverMIFs}
}

// Close stops the readers and closes the sockets; closing the MRT socket
// makes the kernel drop our MIFs and MFC entries.
func (l *Linux) Close() error {
	var errs []error
	l.once.Do(func() {
		close(l.done)
		errs = append(errs, l.mld.Close())
		errs = append(errs, l.pim.Close())
		errs = append(errs, l.mrt.Close())
		l.wg.Wait()
		errs = append(errs, l.nl.Close())
	})
	return errors.Join(errs...)
}
