package ctl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"
)

// ServerConfig sets up a Server. Zero fields take the defaults.
type ServerConfig struct {
	// Path of the socket; DefaultSocketPath when empty.
	Path string
	// Mode of the socket file; 0600 when zero: only root (the daemon's
	// user) may connect, since connecting to a Unix socket needs write
	// permission on it.
	Mode fs.FileMode
	// MaxRequestBytes bounds a request; 64 KiB when zero.
	MaxRequestBytes int
	// MaxConns bounds the requests served at once (run on the daemon,
	// answer being written); up to as many more get a "busy" error at
	// once, and past those a connection is closed unanswered. 8 when zero.
	// A connection holds no such slot while its request is being read.
	MaxConns int
	// MaxPending bounds the connections whose request is still being
	// read, idle ones included; 128 when zero. A new connection that
	// finds them all taken closes the one that has waited longest, so
	// that clients that connect and say nothing cannot keep a prompt
	// one (pim6stat writes its request at once) out.
	MaxPending int
	// FirstByteTimeout is how long a new connection may stay silent:
	// with no byte of a request by then it is closed; 1s when zero (at
	// most Timeout).
	FirstByteTimeout time.Duration
	// Timeout is the read deadline of a whole request, from the
	// connection's start, and, separately, the write deadline of its
	// response; 5s when zero.
	Timeout time.Duration
	// HandlerTimeout bounds a command's run on the daemon; 10s when zero.
	HandlerTimeout time.Duration
	// Log gets one line per failed request (nil: discard).
	Log *slog.Logger
}

func (c *ServerConfig) defaults() {
	if c.Path == "" {
		c.Path = DefaultSocketPath
	}
	if c.Mode == 0 {
		c.Mode = 0o600
	}
	if c.MaxRequestBytes <= 0 {
		c.MaxRequestBytes = 64 << 10
	}
	if c.MaxConns <= 0 {
		c.MaxConns = 8
	}
	if c.MaxPending <= 0 {
		c.MaxPending = 128
	}
	if c.Timeout <= 0 {
		c.Timeout = 5 * time.Second
	}
	if c.FirstByteTimeout <= 0 {
		c.FirstByteTimeout = time.Second
	}
	c.FirstByteTimeout = min(c.FirstByteTimeout, c.Timeout)
	if c.HandlerTimeout <= 0 {
		c.HandlerTimeout = 10 * time.Second
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
}

// Server serves the control socket. Create it with Listen, run Serve in a
// goroutine, stop it with Close.
type Server struct {
	cfg  ServerConfig
	h    Handler
	l    *net.UnixListener
	file os.FileInfo // the socket file we created, to remove only ours

	ctx    context.Context // ends at Close: handlers stop waiting
	cancel context.CancelFunc
	slots  chan struct{} // one per connection being served
	// busySlots bound the connections being told "busy"; past them a
	// connection is closed at once.
	busySlots chan struct{}

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	// reading are the connections whose request is being read, with
	// the order they came in (see ServerConfig.MaxPending); accepted
	// counts the connections.
	reading  map[net.Conn]uint64
	accepted uint64
	closed   bool
	wg       sync.WaitGroup
}

// Listen creates the socket at cfg.Path. A socket file left by a daemon
// that is gone (nobody accepts on it) is removed first; if a daemon still
// listens there, or the path is something other than a socket, Listen
// fails and leaves it alone.
func Listen(cfg ServerConfig, h Handler) (*Server, error) {
	cfg.defaults()
	if err := clearStale(cfg.Path); err != nil {
		return nil, err
	}
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: cfg.Path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("ctl: %w", err)
	}
	// Close must remove the file only while it is still ours (see Close).
	l.SetUnlinkOnClose(false)
	// Until this chmod the socket has the umask's mode; with the daemon's
	// usual umask (022) nobody but root may connect in the meantime either.
	if err := os.Chmod(cfg.Path, cfg.Mode); err != nil {
		l.Close()
		os.Remove(cfg.Path)
		return nil, fmt.Errorf("ctl: %w", err)
	}
	fi, err := os.Lstat(cfg.Path)
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("ctl: %w", err)
	}
	s := &Server{
		cfg: cfg, h: h, l: l, file: fi,
		slots:     make(chan struct{}, cfg.MaxConns),
		busySlots: make(chan struct{}, cfg.MaxConns),
		conns:     make(map[net.Conn]struct{}),
		reading:   make(map[net.Conn]uint64),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// clearStale makes room for the socket at path, or says why not.
func clearStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("ctl: %w", err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("ctl: %s exists and is not a socket; not touching it", path)
	}
	c, err := net.DialTimeout("unix", path, time.Second)
	if err == nil {
		c.Close()
		return fmt.Errorf("ctl: another pim6sd is already listening at %s", path)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("ctl: cannot tell whether a daemon listens at %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("ctl: removing the stale socket: %w", err)
	}
	return nil
}

// Path is the socket's path.
func (s *Server) Path() string { return s.cfg.Path }

// Serve accepts connections until Close, then returns nil.
func (s *Server) Serve() error {
	var backoff time.Duration
	for {
		c, err := s.l.Accept()
		if err != nil {
			if s.isClosed() {
				return nil
			}
			// Out of file descriptors and the like: wait and go on, as
			// net/http does, rather than give up the control socket.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.cfg.Log.Warn("control socket accept", "err", err, "retry", backoff)
			select {
			case <-time.After(backoff):
			case <-s.ctx.Done():
				return nil
			}
			continue
		}
		backoff = 0
		if !s.track(c) {
			c.Close()
			return nil
		}
		go func() {
			defer s.untrack(c)
			s.serveConn(c)
		}()
	}
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// track records a new connection, whose request is to be read: when
// MaxPending requests are being read already, the connection that has
// waited longest for its request is closed to make room. It is false once
// the server is closed.
func (s *Server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if len(s.reading) >= s.cfg.MaxPending {
		var oldest net.Conn
		for rc, n := range s.reading {
			if oldest == nil || n < s.reading[oldest] {
				oldest = rc
			}
		}
		// Its reader fails and ends (see doneReading).
		delete(s.reading, oldest)
		oldest.Close()
	}
	s.accepted++
	s.reading[c] = s.accepted
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	return true
}

// doneReading ends the reading of c's request; it is false when c was
// closed to make room meanwhile (see track).
func (s *Server) doneReading(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.reading[c]
	delete(s.reading, c)
	return ok
}

// slot takes a slot to serve a request: one of MaxConns, or when they are
// all taken one of the busy slots with refuse set (the answer is then
// "busy"); ok is false when those are all taken too. release frees the
// slot, once.
func (s *Server) slot() (release func(), refuse, ok bool) {
	slots := s.slots
	select {
	case s.slots <- struct{}{}:
	default:
		select {
		case s.busySlots <- struct{}{}:
			slots, refuse = s.busySlots, true
		default:
			return nil, false, false
		}
	}
	var once sync.Once
	return func() { once.Do(func() { <-slots }) }, refuse, true
}

func (s *Server) untrack(c net.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	delete(s.reading, c)
	s.mu.Unlock()
	c.Close()
	s.wg.Done()
}

// Close stops accepting, ends the connections being served, waits for
// them and removes the socket file if it is still the one Listen made.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	err := s.l.Close()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	if fi, statErr := os.Lstat(s.cfg.Path); statErr == nil && os.SameFile(fi, s.file) {
		if rmErr := os.Remove(s.cfg.Path); rmErr != nil && err == nil {
			err = rmErr
		}
	}
	return err
}

// errNoRequest is a connection closed before sending a byte: a probe (such
// as clearStale's), not worth an answer or a log line.
var errNoRequest = errors.New("no request")

// serveConn reads the one request of c and answers it. Reading holds no
// slot: only serving does (see ServerConfig.MaxConns, MaxPending).
func (s *Server) serveConn(c net.Conn) {
	start := time.Now()
	c.SetReadDeadline(start.Add(s.cfg.FirstByteTimeout))
	req, err := readRequest(c, s.cfg.MaxRequestBytes, func() {
		// The client speaks: it has the whole Timeout for its request.
		c.SetReadDeadline(start.Add(s.cfg.Timeout))
	})
	if !s.doneReading(c) || errors.Is(err, errNoRequest) {
		return // closed to make room for a newer connection, or silent
	}
	release, refuse, ok := s.slot()
	if !ok {
		return // flooded: not even a word
	}
	defer release()
	if refuse {
		// Full: say so at once rather than keep the client waiting.
		s.answer(c, "", failure(fmt.Errorf("busy: %d control connections already being served; try again", s.cfg.MaxConns)), release)
		return
	}
	var resp Response
	switch {
	case err != nil:
		resp = failure(err)
	case req.Command == CommandWatch && req.Version == ProtocolVersion:
		s.serveWatch(c, release) // the connection stays open (watch.go)
		return
	default:
		resp = s.dispatch(req)
	}
	if !resp.OK {
		s.cfg.Log.Info("control request failed", "command", clip(req.Command), "err", clipText(resp.Error))
	}
	s.answer(c, req.Command, resp, release)
}

// answer writes resp on c, calls release once it is written (before the
// client can see the end of it, so that a client asking again right away
// finds its slot free), and ends the connection.
func (s *Server) answer(c net.Conn, command string, resp Response, release func()) {
	c.SetDeadline(time.Now().Add(s.cfg.Timeout))
	if err := writeResponse(c, resp); err != nil {
		s.cfg.Log.Info("control response not sent", "command", clip(command), "err", err)
		return
	}
	release()
	// Closing a Unix socket with unread input resets the connection, and
	// the client then gets ECONNRESET instead of the answer it has not
	// read yet (a request that was too large, garbage, or one we refused
	// unread). So end our side, and read what the client still sends,
	// within the deadline, until it closes.
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
		io.Copy(io.Discard, io.LimitReader(c, maxDrain))
	}
}

// maxDrain bounds what is read after the answer (see serveConn).
const maxDrain = 1 << 20

// countingReader counts what it reads and calls first once, after the
// first byte.
type countingReader struct {
	r     io.Reader
	n     int
	first func()
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.n == 0 && n > 0 && c.first != nil {
		c.first()
	}
	c.n += n
	return n, err
}

// readRequest reads one request of at most limit bytes from c; first is
// called once its first byte came.
func readRequest(c net.Conn, limit int, first func()) (Request, error) {
	var req Request
	cr := &countingReader{r: io.LimitReader(c, int64(limit)+1), first: first}
	err := json.NewDecoder(cr).Decode(&req)
	var ne net.Error
	switch {
	case err == nil:
		return req, nil
	case cr.n > limit:
		return req, fmt.Errorf("request larger than %d bytes", limit)
	case cr.n == 0:
		// Closed, silent until the first-byte deadline, or closed by
		// us to make room (see Server.track).
		return req, errNoRequest
	case errors.As(err, &ne) && ne.Timeout():
		return req, errors.New("timed out waiting for a complete request")
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return req, errors.New("bad request: the connection ended inside the JSON document")
	default:
		return req, fmt.Errorf("bad request: not a JSON request object: %v", err)
	}
}

func writeResponse(w io.Writer, resp Response) error {
	b, err := json.Marshal(resp)
	if err != nil {
		b, _ = json.Marshal(failure(fmt.Errorf("encoding the response: %v", err)))
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

func failure(err error) Response {
	return Response{Version: ProtocolVersion, Error: err.Error()}
}

// commands maps each command to what runs it.
var commands = map[string]func(s *Server, ctx context.Context, req *Request, resp *Response) error{
	CommandPing: func(s *Server, ctx context.Context, _ *Request, _ *Response) error {
		if s.h.Ping == nil {
			return nil
		}
		return s.h.Ping(ctx)
	},
	// Served by serveWatch (watch.go) before dispatch; listed here for the
	// known commands.
	CommandWatch: func(*Server, context.Context, *Request, *Response) error {
		return errors.New("served as a stream")
	},
	CommandSnapshot: func(s *Server, ctx context.Context, req *Request, resp *Response) error {
		if s.h.Snapshot == nil {
			return errNotSupported
		}
		var q Query
		if req.Query != nil {
			q = *req.Query
		}
		if err := q.Check(); err != nil {
			return err
		}
		snap, err := s.h.Snapshot(ctx, q)
		if err != nil {
			return err
		}
		if snap == nil {
			return errors.New("the daemon gave no snapshot")
		}
		resp.Snapshot = snap
		return nil
	},
	CommandLogLevel: runLogLevel,
	CommandExplain:  runExplain,
}

var errNotSupported = errors.New("not supported by this daemon")

func (s *Server) dispatch(req Request) (resp Response) {
	if req.Version != ProtocolVersion {
		return failure(fmt.Errorf("control protocol version %d is not supported: this pim6sd speaks version %d", req.Version, ProtocolVersion))
	}
	if req.Command == "" {
		return failure(errors.New("bad request: no command"))
	}
	run, ok := commands[req.Command]
	if !ok {
		known := make([]string, 0, len(commands))
		for k := range commands {
			known = append(known, k)
		}
		slices.Sort(known)
		return failure(fmt.Errorf("unknown command %s (known: %s)", clip(req.Command), strings.Join(known, ", ")))
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.HandlerTimeout)
	defer cancel()
	defer func() {
		// A bug in one command must not take the daemon down with it.
		if p := recover(); p != nil {
			s.cfg.Log.Error("control command panicked", "command", clip(req.Command), "panic", p, "stack", string(debug.Stack()))
			resp = failure(fmt.Errorf("%s: internal error", req.Command))
		}
	}()
	resp = Response{Version: ProtocolVersion, OK: true}
	if err := run(s, ctx, &req, &resp); err != nil {
		return failure(fmt.Errorf("%s: %w", req.Command, err))
	}
	return resp
}

// What a client sent is logged and echoed quoted and cut: a command name
// of 60 KB must not make a log line of 120 KB.
const (
	maxEcho    = 64  // bytes of a client's word, before quoting
	maxErrText = 512 // bytes of an error text in a log line
)

// clip is s quoted (%q) after cutting it to maxEcho bytes, with "..."
// after the quotes when it was cut.
func clip(s string) string {
	if len(s) <= maxEcho {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:maxEcho]) + "..."
}

// clipText is an error text cut to maxErrText bytes, at a character
// boundary, with "..." when it was cut. Errors quote what clients sent
// with clip, but a handler's error may quote an argument whole.
func clipText(s string) string {
	if len(s) <= maxErrText {
		return s
	}
	cut := maxErrText
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
