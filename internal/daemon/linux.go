package daemon

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"

	"github.com/pim6sd/pim6sd/kernel"
)

// Linux is the Kernel of a real router: the MRT6 routing socket, the MLD
// socket and netlink, in the network namespace of the thread that opened it.
type Linux struct {
	mrt *kernel.MRT
	mld *kernel.MLDConn
	nl  *kernel.Netlink

	done chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

// OpenLinux opens the kernel side of the daemon on multicast routing table
// table (0 = the default table).
func OpenLinux(table uint32) (*Linux, error) {
	mrt, err := kernel.OpenMRT(kernel.MRTConfig{Table: table})
	if err != nil {
		return nil, err
	}
	mld, err := kernel.OpenMLD()
	if err != nil {
		mrt.Close()
		return nil, err
	}
	nl, err := kernel.OpenNetlink()
	if err != nil {
		mld.Close()
		mrt.Close()
		return nil, err
	}
	return &Linux{mrt: mrt, mld: mld, nl: nl, done: make(chan struct{})}, nil
}

func (l *Linux) Links() ([]kernel.Link, error)          { return l.nl.Links() }
func (l *Linux) Addrs() ([]kernel.Addr, error)          { return l.nl.Addrs() }
func (l *Linux) AddMIF(ifindex int) (kernel.MIF, error) { return l.mrt.AddMIF(ifindex) }
func (l *Linux) DelMIF(m kernel.MIF) error              { return l.mrt.DelMIF(m) }
func (l *Linux) JoinMLD(ifindex int) error              { return l.mld.Join(ifindex) }
func (l *Linux) LeaveMLD(ifindex int) error             { return l.mld.Leave(ifindex) }
func (l *Linux) SendMLD(b []byte, ifi int, src, dst netip.Addr) error {
	return l.mld.WriteTo(b, ifi, src, dst)
}

// Start starts the MLD reader and the netlink watcher.
func (l *Linux) Start(post func(any)) error {
	events, err := l.nl.Subscribe(l.done)
	if err != nil {
		return fmt.Errorf("netlink subscribe: %w", err)
	}
	l.wg.Add(2)
	go func() {
		defer l.wg.Done()
		for ev := range events {
			post(ev)
		}
	}()
	go func() {
		defer l.wg.Done()
		buf := make([]byte, 65536)
		for {
			n, info, err := l.mld.ReadFrom(buf)
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if err != nil && !errors.Is(err, kernel.ErrRecvTruncated) {
				post(ReaderError{What: "mld", Err: err})
				continue
			}
			post(MLDInput{Info: info, Data: append([]byte(nil), buf[:n]...)})
		}
	}()
	return nil
}

// Close stops the readers and closes the sockets; closing the MRT socket
// makes the kernel drop our MIFs and MFC entries.
func (l *Linux) Close() error {
	var errs []error
	l.once.Do(func() {
		close(l.done)
		errs = append(errs, l.mld.Close())
		errs = append(errs, l.mrt.Close())
		l.wg.Wait()
		errs = append(errs, l.nl.Close())
	})
	return errors.Join(errs...)
}

// ReaderError is a read failure a reader reports and survives.
type ReaderError struct {
	What string
	Err  error
}
