// Package checkpoint is the format of the daemon's checkpoint: the state
// a daemon killed without a goodbye (kill -9, a crash: Linux then removes
// every MIF and MFC entry its routing socket made) cannot get back at
// once, kept so that the next daemon restores it and forwards again
// without waiting for its MLD queries and PIM Hellos to be answered
// (docs/OPERATIONS.md, "Checkpoint"). It holds the engines' exports by
// interface name (mld.InterfaceCheckpoint, pim.InterfaceCheckpoint), when
// they were taken, the routing table and the configuration they belong
// to. Decode refuses, with a reason, a file that is too large, of another
// format version, from another configuration or routing table, or too
// old to trust. The package is pure: where the bytes are kept is the
// caller's business (a file for the daemon, memory in a simulation).
package checkpoint

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/pim6sd/pim6sd/mld"
	"github.com/pim6sd/pim6sd/pim"
)

// Version is the format version this package writes and reads. A change
// that an older reader would misread gets a new version: files of another
// version are refused (never half understood), which costs one restart
// without a checkpoint after an upgrade.
const Version = 1

// MaxSize is the largest checkpoint read. The engines' limits bound what
// is written (groups, sources, neighbors, routes); a file larger than this
// is not one of ours.
const MaxSize = 64 << 20

// File is one checkpoint.
type File struct {
	Version int `json:"version"`
	// Written is when the state was taken: restored timers lose the time
	// since.
	Written time.Time `json:"written"`
	// Config is the configuration's fingerprint (conf.Config.Fingerprint)
	// and Table the kernel's multicast routing table.
	Config string `json:"config"`
	Table  uint32 `json:"table"`
	// Stopped says how the daemon that wrote it stopped: "" while it ran
	// (it was killed or crashed after this), StoppedGracefully, or
	// StoppedForRestart. Shown in the log.
	Stopped string `json:"stopped,omitempty"`
	// MLD and PIM are the engines' exports, each interface by name.
	MLD []mld.InterfaceCheckpoint `json:"mld,omitempty"`
	PIM []pim.InterfaceCheckpoint `json:"pim,omitempty"`
}

// Values of File.Stopped.
const (
	StoppedGracefully = "stop"
	StoppedForRestart = "restart"
)

// ErrTooLarge is Encode's error for a state larger than MaxSize, which
// Decode would refuse: better no new checkpoint than one never restored.
var ErrTooLarge = errors.New("checkpoint: the state is larger than a checkpoint may be")

// Encode returns f in the format Decode reads, with Version set.
func Encode(f File) ([]byte, error) {
	return encode(f, MaxSize)
}

func encode(f File, limit int) ([]byte, error) {
	f.Version = Version
	b, err := json.Marshal(f)
	if err == nil && len(b) > limit {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(b), limit)
	}
	return b, err
}

// Expect is what a checkpoint must match to be restored.
type Expect struct {
	Config string
	Table  uint32
	// Now is the time of the restore; MaxAge the oldest checkpoint taken
	// (global.state-max-age).
	Now    time.Time
	MaxAge time.Duration
}

// futureSlack is how far in the future a checkpoint may have been
// written: clocks are stepped a little at times. More means the clock went
// back, and the time since the checkpoint cannot be known.
const futureSlack = time.Second

// Decode reads a checkpoint and checks it against e. The error is an
// *Error naming the reason of the refusal.
func Decode(b []byte, e Expect) (*File, error) {
	if len(b) > MaxSize {
		return nil, refuse(ReasonTooLarge, "%d bytes, more than %d", len(b), MaxSize)
	}
	var head struct {
		Version int `json:"version"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return nil, refuse(ReasonCorrupt, "%v", err)
	}
	if head.Version != Version {
		return nil, refuse(ReasonVersion, "format version %d, this daemon reads %d", head.Version, Version)
	}
	var f File
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, refuse(ReasonCorrupt, "%v", err)
	}
	if dec.More() {
		return nil, refuse(ReasonCorrupt, "data after the checkpoint")
	}
	switch age := e.Now.Sub(f.Written); {
	case f.Config != e.Config:
		return nil, refuse(ReasonConfig, "written under configuration %s, running %s", f.Config, e.Config)
	case f.Table != e.Table:
		return nil, refuse(ReasonTable, "written for routing table %d, running %d", f.Table, e.Table)
	case f.Written.IsZero():
		return nil, refuse(ReasonCorrupt, "no time written")
	case age > e.MaxAge:
		return nil, refuse(ReasonStale, "written %v ago, more than %v (global.state-max-age)", age.Round(time.Millisecond), e.MaxAge)
	case age < -futureSlack:
		return nil, refuse(ReasonFuture, "written %v in the future: the clock went back", (-age).Round(time.Millisecond))
	}
	return &f, nil
}

// Reasons of a refusal, for logs and counters.
const (
	ReasonTooLarge = "too-large"
	ReasonCorrupt  = "corrupt"
	ReasonVersion  = "version"
	ReasonConfig   = "config"
	ReasonTable    = "table"
	ReasonStale    = "stale"
	ReasonFuture   = "future"
)

// Error is a refused checkpoint.
type Error struct {
	Reason string // Reason...
	Detail string
}

func (e *Error) Error() string { return "checkpoint refused (" + e.Reason + "): " + e.Detail }

func refuse(reason, format string, args ...any) error {
	return &Error{Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

// ReasonOf is the reason of a refusal, "" for other errors.
func ReasonOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}
