package ctl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"runtime/debug"
	"slices"
	"strings"
	"time"
)

// The watch command streams the daemon's events. It is the one command
// whose connection stays open:
//
//	→ {"version":1,"command":"watch"}
//	← {"version":1,"ok":true}
//	← {"time":"2025-06-01T10:00:00.123Z","type":"neighbor-up","iface":"eth1","neighbor":"fe80::2","reason":"new"}
//	← {"time":"2025-06-01T10:00:00.124Z","type":"dr-change","iface":"eth1","dr":"fe80::2"}
//	...
//
// After the ok Response, the daemon writes one Event, one JSON document on
// one line, per event, until the client closes the connection (or sends
// anything more: the client must send nothing after its request, and must
// not shut down its writing side, which reads as closing) or the daemon
// stops, which closes the connection. A watcher holds no slot of
// ServerConfig.MaxConns once its ok is written; the daemon bounds the
// number of watchers itself (its Handler.Watch refuses past its limit).
//
// Slow watchers: the daemon never waits for a watcher. Each has a bounded
// buffer of events; what does not fit is dropped, and the next event that
// fits is preceded by an event of type "lost" whose Lost field counts what
// was dropped. A client that stops reading altogether, so that writing one
// event to it blocks for ServerConfig.Timeout, is disconnected.

// The event types (Event.Type) and the fields each sets besides Time.
const (
	// EventNeighborUp: a PIM neighbor came up. Iface, Neighbor, Reason
	// ("new", "restarted": a new Generation ID).
	EventNeighborUp = "neighbor-up"
	// EventNeighborDown: a PIM neighbor went away. Iface, Neighbor, Reason
	// ("expired", "goodbye", "restarted", "interface-removed").
	EventNeighborDown = "neighbor-down"
	// EventDRChange: the Designated Router of an interface changed. Iface,
	// DR (zero when none), Self (this router is DR).
	EventDRChange = "dr-change"
	// EventQuerierChange: the MLD querier of an interface changed. Iface,
	// Querier, Self (this router is querier).
	EventQuerierChange = "querier-change"
	// EventBSRChange: the elected BSR or this router's BSR state changed.
	// BSR (zero when none), Priority (with a BSR), State.
	EventBSRChange = "bsr-change"
	// EventRPChange: RP(G) of a group with state changed (Group, RP: the
	// new one, zero when none; Origin: where it comes from, RPOrigin...).
	EventRPChange = "rp-change"
	// EventRouteAdded: a multicast routing entry appeared. Source, Group,
	// IIF, OIFs (interface names; "register" is the register MIF) for a
	// kernel (S,G) entry; Group and Kind "*,G" for a (*,G) entry (PIM
	// state only: Linux forwards by (S,G) entries).
	EventRouteAdded = "route-added"
	// EventRouteRemoved: a multicast routing entry went away. Source,
	// Group; or Group and Kind "*,G".
	EventRouteRemoved = "route-removed"
	// EventLimitHit: state was refused at a configured limit. Subsystem
	// ("pim" or "mld"), Kind, Limit, Iface (when per interface), Group
	// (MLD, when per group).
	EventLimitHit = "limit-hit"
	// EventLost: Lost events were dropped before this one because the
	// watcher read too slowly.
	EventLost = "lost"
)

// Event is one event of the watch stream. Type says which fields are set
// (see the Event... constants); a client ignores types and fields it does
// not know, since new ones may come without a new protocol version.
type Event struct {
	Time time.Time `json:"time"`
	Type string    `json:"type"`

	Iface     string     `json:"iface,omitempty"`
	Neighbor  netip.Addr `json:"neighbor,omitzero"`
	Reason    string     `json:"reason,omitempty"`
	DR        netip.Addr `json:"dr,omitzero"`
	Querier   netip.Addr `json:"querier,omitzero"`
	Self      bool       `json:"self,omitempty"`
	BSR       netip.Addr `json:"bsr,omitzero"`
	RP        netip.Addr `json:"rp,omitzero"`
	Origin    string     `json:"origin,omitempty"`
	Priority  *int       `json:"priority,omitempty"`
	State     string     `json:"state,omitempty"`
	Source    netip.Addr `json:"source,omitzero"`
	Group     netip.Addr `json:"group,omitzero"`
	IIF       string     `json:"iif,omitempty"`
	OIFs      []string   `json:"oifs,omitempty"`
	Subsystem string     `json:"subsystem,omitempty"`
	Kind      string     `json:"kind,omitempty"`
	Limit     int        `json:"limit,omitempty"`
	Lost      int        `json:"lost,omitempty"`
	// Zone is the administrative scope zone of a BSR change (zero: the
	// global zone).
	Zone netip.Prefix `json:"zone,omitzero"`
}

// Text is e as one readable line, with its time (local, to the
// millisecond) first.
func (e Event) Text() string {
	return e.Time.Local().Format("2006-01-02 15:04:05.000") + "  " + e.describe()
}

func (e Event) describe() string {
	self := func(b bool) string {
		if b {
			return " (this router)"
		}
		return ""
	}
	switch e.Type {
	case EventNeighborUp:
		return fmt.Sprintf("PIM neighbor %s up on %s (%s)", e.Neighbor, e.Iface, e.Reason)
	case EventNeighborDown:
		return fmt.Sprintf("PIM neighbor %s down on %s (%s)", e.Neighbor, e.Iface, e.Reason)
	case EventDRChange:
		if !e.DR.IsValid() {
			return fmt.Sprintf("no DR on %s", e.Iface)
		}
		return fmt.Sprintf("DR on %s is %s%s", e.Iface, e.DR, self(e.Self))
	case EventQuerierChange:
		if !e.Querier.IsValid() {
			return fmt.Sprintf("no MLD querier on %s", e.Iface)
		}
		return fmt.Sprintf("MLD querier on %s is %s%s", e.Iface, e.Querier, self(e.Self))
	case EventRPChange:
		if !e.RP.IsValid() {
			return fmt.Sprintf("group %s has no RP now", e.Group)
		}
		return fmt.Sprintf("RP of group %s is %s (%s)", e.Group, e.RP, e.Origin)
	case EventBSRChange:
		zone := ""
		if e.Zone.IsValid() {
			zone = " of scope zone " + e.Zone.String()
		}
		if !e.BSR.IsValid() {
			return fmt.Sprintf("no BSR%s (state %s)", zone, e.State)
		}
		prio := ""
		if e.Priority != nil {
			prio = fmt.Sprintf(" priority %d", *e.Priority)
		}
		return fmt.Sprintf("BSR%s %s%s (state %s)", zone, e.BSR, prio, e.State)
	case EventRouteAdded:
		if e.Kind == "*,G" {
			return fmt.Sprintf("route (*, %s) added", e.Group)
		}
		oifs := strings.Join(e.OIFs, ",")
		if oifs == "" {
			oifs = "none"
		}
		return fmt.Sprintf("route (%s, %s) added: in %s, out %s", addrOrStar(e.Source), e.Group, e.IIF, oifs)
	case EventRouteRemoved:
		return fmt.Sprintf("route (%s, %s) removed", addrOrStar(e.Source), e.Group)
	case EventLimitHit:
		var where []string
		if e.Iface != "" {
			where = append(where, "on "+e.Iface)
		}
		if e.Group.IsValid() {
			where = append(where, "for "+e.Group.String())
		}
		w := ""
		if len(where) > 0 {
			w = " " + strings.Join(where, " ")
		}
		return fmt.Sprintf("%s limit reached%s: %s (limit %d); further state is refused", strings.ToUpper(e.Subsystem), w, e.Kind, e.Limit)
	case EventLost:
		return fmt.Sprintf("%d events lost: this watcher read too slowly", e.Lost)
	}
	// A type this pim6stat does not know: its fields as key=value.
	b, _ := json.Marshal(e)
	var m map[string]any
	json.Unmarshal(b, &m)
	delete(m, "time")
	delete(m, "type")
	var kv []string
	for _, k := range sortedKeys(m) {
		kv = append(kv, k+"="+fmt.Sprint(m[k]))
	}
	return strings.TrimSpace(e.Type + " " + strings.Join(kv, " "))
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func addrOrStar(a netip.Addr) string {
	if !a.IsValid() {
		return "*"
	}
	return a.String()
}

// serveWatch serves the watch command on c (see above). release frees the
// connection's MaxConns slot.
func (s *Server) serveWatch(c net.Conn, release func()) {
	if s.h.Watch == nil {
		s.answer(c, CommandWatch, failure(fmt.Errorf("%s: %w", CommandWatch, errNotSupported)), release)
		return
	}
	events, stop, err := s.subscribe()
	if err != nil {
		s.cfg.Log.Info("control request failed", "command", CommandWatch, "err", err)
		s.answer(c, CommandWatch, failure(fmt.Errorf("%s: %w", CommandWatch, err)), release)
		return
	}
	defer stop()
	c.SetDeadline(time.Now().Add(s.cfg.Timeout))
	if err := writeResponse(c, Response{Version: ProtocolVersion, OK: true}); err != nil {
		s.cfg.Log.Info("control response not sent", "command", CommandWatch, "err", err)
		return
	}
	release()

	// The client says nothing more: any read that returns (end of input,
	// a byte, an error) is the end of its interest.
	c.SetReadDeadline(time.Time{})
	gone := make(chan struct{})
	go func() {
		defer close(gone)
		var b [1]byte
		c.Read(b[:])
	}()
	defer func() {
		c.Close()
		<-gone
	}()
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return // the daemon stopped
			}
			b, err := json.Marshal(ev)
			if err != nil {
				s.cfg.Log.Error("cannot encode an event", "type", ev.Type, "err", err)
				continue
			}
			c.SetWriteDeadline(time.Now().Add(s.cfg.Timeout))
			if _, err := c.Write(append(b, '\n')); err != nil {
				select {
				case <-gone: // the client left: nothing to say
				default:
					s.cfg.Log.Info("watcher disconnected", "err", err)
				}
				return
			}
		case <-gone:
			return
		case <-s.ctx.Done():
			return
		}
	}
}

// subscribe runs Handler.Watch within HandlerTimeout, as dispatch runs a
// command.
func (s *Server) subscribe() (events <-chan Event, stop func(), err error) {
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.HandlerTimeout)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			s.cfg.Log.Error("control command panicked", "command", CommandWatch, "panic", p, "stack", string(debug.Stack()))
			events, stop, err = nil, nil, errors.New("internal error")
		}
	}()
	events, stop, err = s.h.Watch(ctx)
	if err == nil && (events == nil || stop == nil) {
		if stop != nil {
			stop()
		}
		return nil, nil, errors.New("the daemon gave no event stream")
	}
	return events, stop, err
}

// Watcher reads the events of a watch; make one with Client.Watch.
type Watcher struct {
	conn net.Conn
	dec  *json.Decoder
	path string
	ctx  context.Context
	stop func() bool
}

// StreamEndedError is a watch that the daemon ended: it stopped, or went
// away.
type StreamEndedError struct {
	Path string
	Err  error
}

func (e *StreamEndedError) Error() string {
	if e.Err == nil || errors.Is(e.Err, io.EOF) {
		return fmt.Sprintf("pim6sd at %s closed the event stream: the daemon stopped or went away", e.Path)
	}
	return fmt.Sprintf("pim6sd at %s: the event stream broke: %s", e.Path, reason(e.Err))
}

func (e *StreamEndedError) Unwrap() error { return e.Err }

// Watch asks the daemon for its events. It returns once the daemon has
// accepted (Client.Timeout bounds that); the events then come with
// Watcher.Next until ctx ends, Close, or the daemon stops. Errors are
// those of Do.
func (c *Client) Watch(ctx context.Context) (*Watcher, error) {
	dctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	conn, stopSetup, err := c.dial(dctx)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			conn.Close()
		}
	}()
	if err := c.send(conn, Request{Version: ProtocolVersion, Command: CommandWatch}); err != nil {
		stopSetup()
		return nil, err
	}
	dec := json.NewDecoder(conn)
	var resp Response
	err = dec.Decode(&resp)
	if !stopSetup() {
		// The setup deadline fired: whatever was read, the deadline is
		// set to the past; give up as Do would.
		if err == nil {
			err = context.DeadlineExceeded
		}
	}
	if err != nil {
		return nil, c.answerError(err)
	}
	if err := checkResponse(&resp); err != nil {
		return nil, err
	}
	conn.SetDeadline(time.Time{})
	ok = true
	w := &Watcher{conn: conn, dec: dec, path: c.path(), ctx: ctx}
	w.stop = context.AfterFunc(ctx, func() { conn.Close() })
	return w, nil
}

// Next waits for the next event. When the watch ends it returns the
// context's error if ctx ended, net.ErrClosed after Close, and otherwise a
// *StreamEndedError.
func (w *Watcher) Next() (Event, error) {
	var ev Event
	err := w.dec.Decode(&ev)
	if err == nil {
		return ev, nil
	}
	if w.ctx.Err() != nil {
		return ev, w.ctx.Err()
	}
	if errors.Is(err, net.ErrClosed) {
		return ev, net.ErrClosed
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return ev, &StreamEndedError{Path: w.path, Err: fmt.Errorf("not an event: %v", err)}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = io.EOF
	}
	return ev, &StreamEndedError{Path: w.path, Err: err}
}

// Close ends the watch.
func (w *Watcher) Close() error {
	w.stop()
	return w.conn.Close()
}
