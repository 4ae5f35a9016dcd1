// Package logging gives each subsystem of pim6sd its own *slog.Logger, all
// writing through one handler (text or JSON, to stderr in the daemon), each
// with its own level that can change while the daemon runs (the control
// command "log-level", `pim6stat log`). Every record carries subsys=NAME.
//
// The levels are slog.LevelVars: setting one from the control socket's
// goroutine while the loop logs is safe.
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// The subsystems.
const (
	// Daemon is the process and its event loop: start, stop, signals, dumps.
	Daemon = "daemon"
	// MLD is the MLD router: interfaces, queriers, listeners.
	MLD = "mld"
	// PIM is PIM-SM: interfaces, neighbors, DR, Join/Prune, Assert,
	// Register, RPF changes, PIM messages sent.
	PIM = "pim"
	// BSR is RP discovery: BSR election, RP-set changes, Bootstrap and
	// Candidate-RP-Advertisement messages.
	BSR = "bsr"
	// Kernel is the kernel boundary: MRT6 (MIFs, MFC programming, upcalls),
	// sockets, netlink.
	Kernel = "kernel"
	// Ctl is the control socket.
	Ctl = "ctl"
	// Conf is the configuration: reloads.
	Conf = "conf"
)

// All names every subsystem in SetLevel.
const All = "all"

// Subsystems lists the subsystems in their usual order.
var Subsystems = []string{Daemon, MLD, PIM, BSR, Kernel, Ctl, Conf}

// Key is the attribute naming a record's subsystem.
const Key = "subsys"

// Format is how records are written.
type Format string

// The formats.
const (
	Text Format = "text"
	JSON Format = "json"
)

// ParseFormat reads "text" or "json".
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case Text, JSON:
		return f, nil
	}
	return "", fmt.Errorf("unknown log format %q (use text or json)", s)
}

// ParseLevel reads debug, info, warn or error (any case).
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("unknown log level %q (use debug, info, warn or error)", s)
}

// LevelName is a level as ParseLevel reads it: "debug", "info", "warn",
// "error" (others as slog spells them, lowercased: "info+2").
func LevelName(l slog.Level) string { return strings.ToLower(l.String()) }

// Set is the loggers of every subsystem. Its methods are safe for
// concurrent use.
type Set struct {
	levels  map[string]*slog.LevelVar
	loggers map[string]*slog.Logger
}

// New makes a Set writing to w in format f, every subsystem at level.
func New(w io.Writer, f Format, level slog.Level) *Set {
	// The subsystems filter; the handler takes everything they let through.
	opts := &slog.HandlerOptions{Level: slog.Level(-1 << 20)}
	var h slog.Handler
	if f == JSON {
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	return NewHandler(h, level)
}

// NewHandler makes a Set over h, every subsystem at level. h's own level,
// if any, applies too.
func NewHandler(h slog.Handler, level slog.Level) *Set {
	s := &Set{levels: make(map[string]*slog.LevelVar), loggers: make(map[string]*slog.Logger)}
	for _, name := range Subsystems {
		lv := new(slog.LevelVar)
		lv.Set(level)
		s.levels[name] = lv
		s.loggers[name] = slog.New(&levelHandler{
			h:     h.WithAttrs([]slog.Attr{slog.String(Key, name)}),
			level: lv,
		})
	}
	return s
}

// Logger is the logger of subsystem name; it panics on a name not in
// Subsystems (a programming error).
func (s *Set) Logger(name string) *slog.Logger {
	l, ok := s.loggers[name]
	if !ok {
		panic(fmt.Sprintf("logging: no subsystem %q", name))
	}
	return l
}

// Level is the level of subsystem name.
func (s *Set) Level(name string) (slog.Level, bool) {
	lv, ok := s.levels[name]
	if !ok {
		return 0, false
	}
	return lv.Level(), true
}

// SetLevel sets the level of subsystem name, or of every subsystem when
// name is All.
func (s *Set) SetLevel(name string, level slog.Level) error {
	name = strings.ToLower(name)
	if name == All {
		for _, lv := range s.levels {
			lv.Set(level)
		}
		return nil
	}
	lv, ok := s.levels[name]
	if !ok {
		return fmt.Errorf("unknown log subsystem %q (use %s or %s)", name, strings.Join(Subsystems, ", "), All)
	}
	lv.Set(level)
	return nil
}

// SetLevelText is SetLevel with the level as text (see ParseLevel).
func (s *Set) SetLevelText(name, level string) error {
	l, err := ParseLevel(level)
	if err != nil {
		return err
	}
	return s.SetLevel(name, l)
}

// SubsystemLevel is one subsystem's level.
type SubsystemLevel struct {
	Subsystem string
	Level     slog.Level
}

// Levels lists every subsystem's level, in the order of Subsystems.
func (s *Set) Levels() []SubsystemLevel {
	out := make([]SubsystemLevel, 0, len(Subsystems))
	for _, name := range Subsystems {
		out = append(out, SubsystemLevel{name, s.levels[name].Level()})
	}
	return out
}

// levelHandler lets through what its subsystem's level allows.
type levelHandler struct {
	h     slog.Handler
	level *slog.LevelVar
}

func (l *levelHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return level >= l.level.Level() && l.h.Enabled(ctx, level)
}

func (l *levelHandler) Handle(ctx context.Context, r slog.Record) error {
	return l.h.Handle(ctx, r)
}

func (l *levelHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &levelHandler{h: l.h.WithAttrs(as), level: l.level}
}

func (l *levelHandler) WithGroup(name string) slog.Handler {
	return &levelHandler{h: l.h.WithGroup(name), level: l.level}
}

// Fallback is the loggers of a program that gives one plain logger: each
// subsystem's logger is log with subsys=NAME, log's handler deciding the
// level. It is for callers (tests, simulations) that do not make a Set.
func Fallback(log *slog.Logger) func(name string) *slog.Logger {
	return func(name string) *slog.Logger { return log.With(Key, name) }
}
