package ctl

import (
	"context"
	"errors"
	"fmt"
)

// LogLevel is one subsystem's log level, as CommandLogLevel answers it:
//
//	→ {"version":1,"command":"log-level"}
//	← {"version":1,"ok":true,"log_levels":[{"subsystem":"daemon","level":"info"},...]}
//
//	→ {"version":1,"command":"log-level","subsystem":"pim","level":"debug"}
//	← {"version":1,"ok":true,"log_levels":[...,{"subsystem":"pim","level":"debug"},...]}
//
// An unknown subsystem or level is refused with an error naming the known
// ones; "all" sets every subsystem.
type LogLevel struct {
	Subsystem string `json:"subsystem"`
	Level     string `json:"level"`
}

// runLogLevel is CommandLogLevel in the server's command table.
func runLogLevel(s *Server, ctx context.Context, req *Request, resp *Response) error {
	if s.h.LogLevel == nil {
		return errNotSupported
	}
	if (req.Subsystem == "") != (req.Level == "") {
		return errors.New("give both a subsystem and a level to set one, or neither to list them")
	}
	levels, err := s.h.LogLevel(ctx, req.Subsystem, req.Level)
	if err != nil {
		return err
	}
	if len(levels) == 0 {
		return errors.New("the daemon gave no log levels")
	}
	resp.LogLevels = levels
	return nil
}

// LogLevels lists the daemon's log level of every subsystem.
func (c *Client) LogLevels(ctx context.Context) ([]LogLevel, error) {
	return c.logLevel(ctx, Request{Version: ProtocolVersion, Command: CommandLogLevel})
}

// SetLogLevel sets the log level of subsystem ("all" for every one) and
// returns every subsystem's level after the change.
func (c *Client) SetLogLevel(ctx context.Context, subsystem, level string) ([]LogLevel, error) {
	if subsystem == "" || level == "" {
		return nil, errors.New("give a subsystem and a level")
	}
	return c.logLevel(ctx, Request{Version: ProtocolVersion, Command: CommandLogLevel, Subsystem: subsystem, Level: level})
}

func (c *Client) logLevel(ctx context.Context, req Request) ([]LogLevel, error) {
	resp, err := c.Do(ctx, req)
	if err != nil {
		return nil, err
	}
	if len(resp.LogLevels) == 0 {
		return nil, fmt.Errorf("pim6sd at %s answered without log levels", c.path())
	}
	return resp.LogLevels, nil
}
