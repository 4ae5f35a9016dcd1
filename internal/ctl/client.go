package ctl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"
)

// Client asks a daemon over its control socket. The zero value uses the
// defaults.
type Client struct {
	// Path of the socket; DefaultSocketPath when empty.
	Path string
	// Timeout bounds one exchange (connect, request, response); 10s when
	// zero. The context's deadline applies too.
	Timeout time.Duration
	// MaxResponseBytes bounds a response; 256 MiB when zero.
	MaxResponseBytes int64
}

func (c *Client) path() string {
	if c.Path == "" {
		return DefaultSocketPath
	}
	return c.Path
}

// UnreachableError is a daemon that cannot be reached: no socket file,
// nobody listening on it, or no permission to connect.
type UnreachableError struct {
	Path string
	Err  error
}

func (e *UnreachableError) Error() string {
	if errors.Is(e.Err, syscall.EACCES) || errors.Is(e.Err, syscall.EPERM) {
		return fmt.Sprintf("cannot reach pim6sd at %s: permission denied (the control socket is root's only: run as root)", e.Path)
	}
	return fmt.Sprintf("cannot reach pim6sd at %s: is the daemon running? (%s)", e.Path, reason(e.Err))
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// reason is the heart of a network error: "connection refused" rather than
// "dial unix /x: connect: connection refused".
func reason(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno.Error()
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timed out"
	}
	return err.Error()
}

// VersionError is a daemon that speaks another protocol or snapshot
// version than this client.
type VersionError struct {
	What          string // "control protocol" or "snapshot schema"
	Daemon, Local int
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("pim6sd speaks %s version %d, this pim6stat version %d: use the pim6stat of the same release as the daemon", e.What, e.Daemon, e.Local)
}

// DaemonError is a request the daemon refused; the message is its own.
type DaemonError struct{ Msg string }

func (e *DaemonError) Error() string { return "pim6sd: " + e.Msg }

// Do sends req and returns the daemon's response. An error is either an
// *UnreachableError, a *VersionError, a *DaemonError (the response said
// ok false) or a failure of the exchange itself.
func (c *Client) Do(ctx context.Context, req Request) (*Response, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	conn, stop, err := c.dial(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	defer stop()
	if err := c.send(conn, req); err != nil {
		return nil, err
	}
	// The request is complete: say so, which also lets a daemon that reads
	// to the end of input (rather than to the end of the document) go on.
	if uc, ok := conn.(*net.UnixConn); ok {
		uc.CloseWrite()
	}
	limit := c.MaxResponseBytes
	if limit <= 0 {
		limit = 256 << 20
	}
	var resp Response
	if err := json.NewDecoder(io.LimitReader(conn, limit)).Decode(&resp); err != nil {
		return nil, c.answerError(err)
	}
	if err := checkResponse(&resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// timeout is Client.Timeout, 10 s when not set.
func (c *Client) timeout() time.Duration {
	if c.Timeout <= 0 {
		return 10 * time.Second
	}
	return c.Timeout
}

// dial connects to the daemon. The connection's deadline is ctx's, and
// follows ctx when it is cancelled, until stop is called (it reports, as
// context.AfterFunc's stop, whether ctx had not ended yet).
func (c *Client) dial(ctx context.Context) (net.Conn, func() bool, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", c.path())
	if err != nil {
		return nil, nil, &UnreachableError{Path: c.path(), Err: err}
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	return conn, stop, nil
}

// send writes req as one JSON document.
func (c *Client) send(conn net.Conn, req Request) error {
	b, err := json.Marshal(req)
	if err != nil {
		return err
	}
	if _, err := conn.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("pim6sd at %s: sending the request: %s", c.path(), reason(err))
	}
	return nil
}

// answerError says why the answer could not be read.
func (c *Client) answerError(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("pim6sd at %s closed the connection without a complete answer", c.path())
	}
	return fmt.Errorf("pim6sd at %s: reading the answer: %s", c.path(), reason(err))
}

// checkResponse refuses another protocol version and a failed command.
func checkResponse(resp *Response) error {
	if resp.Version != ProtocolVersion {
		return &VersionError{What: "control protocol", Daemon: resp.Version, Local: ProtocolVersion}
	}
	if !resp.OK {
		return &DaemonError{Msg: resp.Error}
	}
	return nil
}

// Ping checks that the daemon answers.
func (c *Client) Ping(ctx context.Context) error {
	_, err := c.Do(ctx, Request{Version: ProtocolVersion, Command: CommandPing})
	return err
}

// Snapshot fetches the daemon's state.
func (c *Client) Snapshot(ctx context.Context) (*Snapshot, error) {
	return c.SnapshotOf(ctx, Query{})
}

// SnapshotOf fetches the part of the daemon's state q asks for (see
// Query). Its errors are those of Do.
func (c *Client) SnapshotOf(ctx context.Context, q Query) (*Snapshot, error) {
	req := Request{Version: ProtocolVersion, Command: CommandSnapshot}
	if !q.IsZero() {
		req.Query = &q
	}
	resp, err := c.Do(ctx, req)
	if err != nil {
		return nil, err
	}
	if resp.Snapshot == nil {
		return nil, fmt.Errorf("pim6sd at %s answered without a snapshot", c.path())
	}
	if resp.Snapshot.SchemaVersion != SchemaVersion {
		return nil, &VersionError{What: "snapshot schema", Daemon: resp.Snapshot.SchemaVersion, Local: SchemaVersion}
	}
	if !q.IsZero() && resp.Snapshot.Query == nil {
		// A daemon from before queries ignores them and answers the
		// whole state: take the part here.
		return q.Apply(resp.Snapshot)
	}
	return resp.Snapshot, nil
}
