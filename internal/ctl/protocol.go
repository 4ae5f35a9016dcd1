package ctl

import (
	"context"
	"net/netip"
)

// The control protocol. A client connects to the daemon's Unix socket,
// writes one Request as one JSON document, and reads one Response, one JSON
// document, after which the daemon closes the connection:
//
//	→ {"version":1,"command":"snapshot"}
//	← {"version":1,"ok":true,"snapshot":{"schema_version":1,...}}
//
//	→ {"version":1,"command":"frobnicate"}
//	← {"version":1,"ok":false,"error":"unknown command \"frobnicate\" (known: ping, snapshot)"}
//
// A request of another version is refused with an error naming both
// versions; the response still carries the daemon's version, so a client
// can say which side is older. Unknown fields are ignored both ways.
//
// A new command (say "log-level") is a new Command constant, a field of
// Handler, an entry in the server's command table (server.go), its
// arguments as new optional fields of Request and its result as a new
// optional field of Response; none of that changes the version. A client
// asking an older daemon for it gets "unknown command".

// ProtocolVersion is the version of Request and Response.
const ProtocolVersion = 1

// Default paths, shared by pim6sd and pim6stat.
const (
	DefaultSocketPath = "/var/run/pim6sd.sock"
	DefaultDumpPath   = "/var/run/pim6sd.dump" // written on SIGUSR1, as the original's
)

// The commands.
const (
	// CommandPing answers ok when the daemon is alive.
	CommandPing = "ping"
	// CommandSnapshot answers the daemon's state (Response.Snapshot), or
	// the part Request.Query asks for (query.go).
	CommandSnapshot = "snapshot"
	// CommandLogLevel lists (no argument) or sets (Request.Subsystem and
	// Request.Level) the log levels; it answers Response.LogLevels.
	CommandLogLevel = "log-level"
	// CommandExplain walks why a flow (Request.Source, zero for (*,G), and
	// Request.Group) does or does not reach its receivers; it answers
	// Response.Explain (explain.go).
	CommandExplain = "explain"
	// CommandWatch answers ok and then streams Events, one JSON line each,
	// on the same connection until either side closes it (watch.go).
	CommandWatch = "watch"
)

// Request is what a client sends.
type Request struct {
	Version int    `json:"version"`
	Command string `json:"command"`

	// Subsystem ("pim", ..., or "all") and Level ("debug", ...) are the
	// arguments of CommandLogLevel; both empty to list.
	Subsystem string `json:"subsystem,omitempty"`
	Level     string `json:"level,omitempty"`

	// Source (empty for (*,G)) and Group are the arguments of
	// CommandExplain.
	Source string `json:"source,omitempty"`
	Group  string `json:"group,omitempty"`

	// Query is the argument of CommandSnapshot: the part of the state
	// wanted; nil for all of it.
	Query *Query `json:"query,omitempty"`
}

// Response is what the daemon answers. Exactly one result field is set
// when OK, the one of the command; Error is set when not.
type Response struct {
	Version int    `json:"version"`
	OK      bool   `json:"ok"`
	Error   string `json:"error,omitempty"`

	// Snapshot is the result of CommandSnapshot.
	Snapshot *Snapshot `json:"snapshot,omitempty"`
	// LogLevels is the result of CommandLogLevel: every subsystem's level.
	LogLevels []LogLevel `json:"log_levels,omitempty"`
	// Explain is the result of CommandExplain.
	Explain *Explain `json:"explain,omitempty"`
}

// Handler runs the commands: the daemon provides it, and each function
// runs the command on the daemon's loop (for example with Daemon.Do). Its
// context ends at ServerConfig.HandlerTimeout or when the server closes;
// a function must return then, since Close waits for the requests being
// served. A nil function makes its command answer "not supported by this
// daemon".
type Handler struct {
	// Snapshot takes a snapshot of the part of the state q asks for (the
	// zero Query: the whole state), as Query.Apply defines it. The server
	// has checked q (Query.Check); the daemon refuses an interface it
	// does not know with a *NoInterfaceError.
	Snapshot func(ctx context.Context, q Query) (*Snapshot, error)
	// Ping checks the daemon's loop answers. When nil the server answers
	// ping by itself, which shows only that the socket is served.
	Ping func(ctx context.Context) error
	// LogLevel sets subsystem's level when both are given, then lists
	// every subsystem's level (see CommandLogLevel, loglevel.go).
	LogLevel func(ctx context.Context, subsystem, level string) ([]LogLevel, error)
	// Explain walks the flow (source, zero for (*,G); group) on the
	// daemon's loop (see CommandExplain, explain.go).
	Explain func(ctx context.Context, source, group netip.Addr) (*Explain, error)
	// Watch subscribes to the daemon's events (see CommandWatch,
	// watch.go): events is closed when the daemon stops (or drops the
	// subscription); stop ends the subscription and must not block. ctx
	// bounds only the subscribing.
	Watch func(ctx context.Context) (events <-chan Event, stop func(), err error)
}
