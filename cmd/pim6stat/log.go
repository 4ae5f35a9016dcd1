package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/pim6sd/pim6sd/internal/ctl"
)

// logCommand is `pim6stat log` (every subsystem's log level) and
// `pim6stat log SUBSYSTEM LEVEL` (sets one; "all" sets every one).
func logCommand() *cli.Command {
	return &cli.Command{
		Name:      "log",
		Usage:     "list the daemon's log level of each subsystem, or set one: pim6stat log pim debug",
		ArgsUsage: "[SUBSYSTEM|all LEVEL]",
		Description: "Subsystems: daemon, mld, pim, bsr, kernel, ctl, conf (all: every one).\n" +
			"Levels: debug, info, warn, error. The change lasts until the daemon stops\n" +
			"(or a reload changes global.log-level).",
		Flags: stateFlags(false), // --socket, --json
		Action: func(c *cli.Context) error {
			cl := &ctl.Client{Path: stringFlag(c, "socket")}
			var levels []ctl.LogLevel
			var err error
			switch c.NArg() {
			case 0:
				levels, err = cl.LogLevels(context.Background())
			case 2:
				levels, err = cl.SetLogLevel(context.Background(), c.Args().Get(0), c.Args().Get(1))
			default:
				return cli.Exit("pim6stat log: give nothing to list the levels, or a subsystem and a level to set one (pim6stat log pim debug)", 2)
			}
			if err != nil {
				return cli.Exit("pim6stat: "+err.Error(), 1)
			}
			if boolFlag(c, "json") {
				return writeJSON(c.App.Writer, levels)
			}
			tw := table(c.App.Writer)
			row(tw, "SUBSYSTEM", "LEVEL")
			for _, l := range levels {
				row(tw, l.Subsystem, l.Level)
			}
			if err := tw.Flush(); err != nil {
				return cli.Exit(fmt.Sprintf("pim6stat: %v", err), 1)
			}
			return nil
		},
	}
}
