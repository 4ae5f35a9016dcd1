package kernel

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/vishvananda/netlink"
	vnetns "github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Event is a change the kernel reported: a LinkEvent, AddrEvent,
// RouteEvent, ResyncEvent or ErrorEvent.
type Event interface{ netlinkEvent() }

// LinkEvent is a link that appeared or changed (Link holds its whole new
// state) or disappeared (Deleted; also when it moved to another
// namespace). The kernel sends a new-link message for many changes this
// type does not show (statistics, queue settings...), so a LinkEvent may
// repeat the state already known: compare, do not count.
type LinkEvent struct {
	Link    Link
	Deleted bool
}

// AddrEvent is an IPv6 address that was added or changed (a DAD result
// clears Tentative with a new AddrEvent) or removed (Deleted).
//
// Linux removes every IPv6 address of a link that goes administratively
// down, static global ones included (unless the sysctl
// net.ipv6.conf.<if>.keep_addr_on_down is 1); only the link-local one
// comes back when it goes up again.
type AddrEvent struct {
	Addr    Addr
	Deleted bool
}

// RouteEvent is an IPv6 route that was added or replaced (Route holds its
// new state; ip route replace with a new next hop is one RouteEvent with
// the new Gateway) or removed (Deleted).
//
// Reported: every table except the local one, so that a change in any
// table policy routing may consult reaches the daemon (Table tells which);
// unicast routes and reject routes (unreachable, blackhole, prohibit,
// throw), since both change what RouteTo answers. Not reported: the local
// table (own addresses, which AddrEvents cover, and the ff00::/8
// multicast route of each link), multicast routes, and cloned/cache
// entries (RTM_F_CLONED: PMTU and redirect exceptions).
//
// The kernel sends no route event when a link loses carrier (its routes
// get RTNH_F_LINKDOWN silently), nor when a path of a multipath route dies
// because its link went down: RPF must also be looked up again on
// LinkEvents.
type RouteEvent struct {
	Route   Route
	Deleted bool
}

// ResyncEvent says that events may have been lost: the kernel's socket
// buffer overflowed (ENOBUFS, the consumer was too slow for a burst of
// changes) or a message could not be parsed. The subscription goes on;
// the receiver must read links and addresses again and redo every RPF
// lookup. Err says what happened.
type ResyncEvent struct{ Err error }

// ErrorEvent is the last event of a subscription that failed for good (a
// lost subscription could not be made again); the channel closes after
// it. Subscribe again.
type ErrorEvent struct{ Err error }

func (LinkEvent) netlinkEvent()   {}
func (AddrEvent) netlinkEvent()   {}
func (RouteEvent) netlinkEvent()  {}
func (ResyncEvent) netlinkEvent() {}
func (ErrorEvent) netlinkEvent()  {}

// subscribeConfig sizes the buffers of a subscription; tests shrink them
// to provoke overruns.
type subscribeConfig struct {
	rcvbuf  int // socket receive buffer (SO_RCVBUFFORCE); 0: the system default
	libChan int // buffer of each library channel
	outChan int // buffer of the channel Subscribe returns
}

var defaultSubscribeConfig = subscribeConfig{rcvbuf: 4 << 20, libChan: 64, outChan: 256}

// Subscribe reports link, IPv6 address and IPv6 route changes of the
// handle's namespace (whatever thread calls it) until done is closed; the
// channel is then closed.
//
// Events come from three rtnetlink subscriptions (links, addresses,
// routes) merged into one channel: the order within each kind is the
// kernel's; across kinds it is not defined (a route deletion may come
// before the address deletion that caused it).
//
// Nothing is dropped silently. A slow consumer makes the channel (256
// events), then the library's channels, then the kernel socket buffers
// (4 MiB each, set with SO_RCVBUFFORCE, hence CAP_NET_ADMIN) fill up;
// when the kernel must drop, the socket reports ENOBUFS, the subscription
// is made again and a ResyncEvent tells the consumer to read everything
// again. If it cannot be made again an ErrorEvent comes last.
//
// Subscribe lists nothing: subscribe first, then call Links and Addrs,
// then apply the events (some may repeat what the lists showed).
func (n *Netlink) Subscribe(done <-chan struct{}) (<-chan Event, error) {
	return n.subscribe(done, defaultSubscribeConfig, nil)
}

// watcher merges the subscriptions of one Subscribe call.
type watcher struct {
	ns     vnetns.NsHandle // a duplicate, closed when the watcher ends
	cfg    subscribeConfig
	out    chan Event
	stop   chan struct{} // closed when done is, or on a fatal error
	once   sync.Once
	resync chan error // a library callback asks for a ResyncEvent
	fatal  error      // why the watcher stopped by itself; set before stop closes
	// hook, when set (tests), runs before every resubscription and may
	// fail it.
	hook func(kind string) error
}

func (w *watcher) shutdown() { w.fail(nil) }

// fail stops the watcher; err, unless nil, becomes its ErrorEvent. Only
// the first call counts.
func (w *watcher) fail(err error) {
	w.once.Do(func() {
		w.fatal = err
		close(w.stop)
	})
}

// send delivers ev unless the watcher stops first.
func (w *watcher) send(ev Event) bool {
	select {
	case <-w.stop:
		return false
	default:
	}
	select {
	case w.out <- ev:
		return true
	case <-w.stop:
		return false
	}
}

func (n *Netlink) subscribe(done <-chan struct{}, cfg subscribeConfig, hook func(string) error) (<-chan Event, error) {
	fd, err := unix.Dup(int(n.ns))
	if err != nil {
		return nil, fmt.Errorf("kernel: netlink subscribe: %w", err)
	}
	unix.CloseOnExec(fd)
	w := &watcher{
		ns:     vnetns.NsHandle(fd),
		cfg:    cfg,
		out:    make(chan Event, cfg.outChan),
		stop:   make(chan struct{}),
		resync: make(chan error, 1),
		hook:   hook,
	}
	pumps := []func(first chan<- error){
		func(first chan<- error) {
			pump(w, "link", first, w.subscribeLinks, func(u netlink.LinkUpdate) (Event, bool) {
				// AF_BRIDGE messages are bridge-port state, sent when a
				// port joins or leaves a bridge; a DELLINK among them
				// does not mean the link is gone.
				if u.IfInfomsg.Family == unix.AF_BRIDGE {
					return nil, false
				}
				return LinkEvent{Link: linkFrom(u.Link), Deleted: u.Header.Type == unix.RTM_DELLINK}, true
			})
		},
		func(first chan<- error) {
			pump(w, "address", first, w.subscribeAddrs, func(u netlink.AddrUpdate) (Event, bool) {
				a, ok := addrFrom(&u.LinkAddress, u.LinkIndex, u.Flags)
				return AddrEvent{Addr: a, Deleted: !u.NewAddr}, ok
			})
		},
		func(first chan<- error) {
			pump(w, "route", first, w.subscribeRoutes, func(u netlink.RouteUpdate) (Event, bool) {
				// RouteUpdate.Type is the message type; the route's
				// type is u.Route.Type.
				if u.Route.Table == unix.RT_TABLE_LOCAL || u.Route.Flags&unix.RTM_F_CLONED != 0 {
					return nil, false
				}
				switch u.Route.Type {
				case unix.RTN_UNICAST, unix.RTN_UNREACHABLE, unix.RTN_BLACKHOLE, unix.RTN_PROHIBIT, unix.RTN_THROW:
				default:
					return nil, false
				}
				r, ok := routeFrom(u.Route)
				return RouteEvent{Route: r, Deleted: u.Type == unix.RTM_DELROUTE}, ok
			})
		},
	}
	var wg sync.WaitGroup
	var errs []error
	for _, p := range pumps {
		first := make(chan error, 1)
		wg.Go(func() { p(first) })
		if err := <-first; err != nil {
			errs = append(errs, err)
		}
	}
	go func() {
		select {
		case <-done:
			w.shutdown()
		case <-w.stop:
		}
	}()
	go func() {
		wg.Wait()
		w.ns.Close()
		// Sent here, once every pump has returned, so that it is last.
		if w.fatal != nil {
			select {
			case w.out <- ErrorEvent{Err: w.fatal}:
			case <-done:
			}
		}
		close(w.out)
	}()
	if len(errs) > 0 {
		w.shutdown()
		return nil, fmt.Errorf("kernel: netlink subscribe: %w", errors.Join(errs...))
	}
	return w.out, nil
}

// pump runs one kind of subscription: it converts the library's updates
// into Events and makes the subscription again when the library gives up
// on it (its receive failed, e.g. ENOBUFS). It reports the result of the
// first subscription on first.
func pump[U any](w *watcher, kind string, first chan<- error,
	subscribe func(ch chan U, stop chan struct{}, cb func(error)) error,
	convert func(U) (Event, bool)) {
	var lost error // why the previous subscription ended; nil the first time
	for {
		ch := make(chan U, w.cfg.libChan)
		subStop := make(chan struct{})
		var mu sync.Mutex
		var last error
		cb := func(err error) {
			select {
			case <-w.stop:
				return // the socket was closed on purpose
			default:
			}
			mu.Lock()
			last = err
			mu.Unlock()
			if strings.HasPrefix(err.Error(), "Receive failed") {
				// The library gives up on the socket after this
				// error and closes ch; the ResyncEvent comes once
				// the subscription is made again. (Should the
				// library reword it, there are two ResyncEvents.)
				return
			}
			select {
			case w.resync <- fmt.Errorf("%s events: %w", kind, err):
			default: // one is pending already
			}
		}
		var err error
		if lost != nil && w.hook != nil {
			err = w.hook(kind)
		}
		if err == nil {
			err = subscribe(ch, subStop, cb)
		}
		if err != nil {
			close(subStop)
			err = fmt.Errorf("%s events: %w", kind, err)
			if lost == nil {
				first <- err
				return
			}
			w.fail(fmt.Errorf("kernel: netlink: %w (after: %w)", err, lost))
			return
		}
		if lost == nil {
			first <- nil
		} else {
			// Any resync a callback asked for is covered by this one,
			// which comes after the new subscription is in place.
			select {
			case <-w.resync:
			default:
			}
			if !w.send(ResyncEvent{Err: fmt.Errorf("kernel: netlink: %s events lost: %w", kind, lost)}) {
				close(subStop)
				drain(ch)
				return
			}
		}
		lost = forward(w, ch, convert)
		close(subStop)
		drain(ch)
		if lost == nil {
			return
		}
		select {
		case <-w.stop:
			return
		default:
		}
		mu.Lock()
		if last != nil {
			lost = last
		}
		mu.Unlock()
	}
}

// errSubscriptionEnded is why a subscription ended when the library did
// not say.
var errSubscriptionEnded = errors.New("subscription ended")

// forward delivers the updates of one subscription until it ends (the
// error says why) or the watcher stops (nil). It also delivers the
// ResyncEvents the library callbacks ask for.
func forward[U any](w *watcher, ch chan U, convert func(U) (Event, bool)) error {
	for {
		select {
		case <-w.stop:
			return nil
		case err := <-w.resync:
			if !w.send(ResyncEvent{Err: fmt.Errorf("kernel: netlink: %w", err)}) {
				return nil
			}
		case u, ok := <-ch:
			if !ok {
				return errSubscriptionEnded
			}
			if ev, ok := convert(u); ok && !w.send(ev) {
				return nil
			}
		}
	}
}

// drain empties a library channel until the library closes it, so that
// its goroutine is never stuck sending.
func drain[U any](ch chan U) {
	for range ch {
	}
}

func (w *watcher) subscribeLinks(ch chan netlink.LinkUpdate, stop chan struct{}, cb func(error)) error {
	return netlink.LinkSubscribeWithOptions(ch, stop, netlink.LinkSubscribeOptions{
		Namespace:              &w.ns,
		ErrorCallback:          cb,
		ReceiveBufferSize:      w.cfg.rcvbuf,
		ReceiveBufferForceSize: w.cfg.rcvbuf != 0,
	})
}

func (w *watcher) subscribeAddrs(ch chan netlink.AddrUpdate, stop chan struct{}, cb func(error)) error {
	return netlink.AddrSubscribeWithOptions(ch, stop, netlink.AddrSubscribeOptions{
		Namespace:              &w.ns,
		ErrorCallback:          cb,
		ReceiveBufferSize:      w.cfg.rcvbuf,
		ReceiveBufferForceSize: w.cfg.rcvbuf != 0,
	})
}

func (w *watcher) subscribeRoutes(ch chan netlink.RouteUpdate, stop chan struct{}, cb func(error)) error {
	return netlink.RouteSubscribeWithOptions(ch, stop, netlink.RouteSubscribeOptions{
		Namespace:              &w.ns,
		ErrorCallback:          cb,
		ReceiveBufferSize:      w.cfg.rcvbuf,
		ReceiveBufferForceSize: w.cfg.rcvbuf != 0,
	})
}
