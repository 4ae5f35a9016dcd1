package app

import (
	"context"

	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/internal/logging"
)

// logLevelHandler runs the control command "log-level" over logs: it sets
// a subsystem's level when given one, then lists every level. The levels
// are atomic, so it needs no trip through the daemon's loop.
func logLevelHandler(logs *logging.Set) func(ctx context.Context, subsystem, level string) ([]ctl.LogLevel, error) {
	return func(_ context.Context, subsystem, level string) ([]ctl.LogLevel, error) {
		if subsystem != "" {
			if err := logs.SetLevelText(subsystem, level); err != nil {
				return nil, err
			}
			logs.Logger(logging.Ctl).Info("log level set", "subsystem", subsystem, "log_level", level)
		}
		var out []ctl.LogLevel
		for _, l := range logs.Levels() {
			out = append(out, ctl.LogLevel{Subsystem: l.Subsystem, Level: logging.LevelName(l.Level)})
		}
		return out, nil
	}
}
