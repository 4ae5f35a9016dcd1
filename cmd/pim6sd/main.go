// Command pim6sd is the IPv6 multicast routing daemon (MLD and PIM-SM/SSM).
//
// The daemon itself (event loop, sockets, config) is being built issue by
// issue; see docs/STATUS.md. Until it lands this command only reports its
// version and refuses to start, so nobody mistakes it for a router.
package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/pim6sd/pim6sd/internal/version"
)

func main() {
	app := &cli.App{
		Name:    "pim6sd",
		Usage:   "IPv6 multicast routing daemon (MLDv1/v2, PIM-SM, SSM)",
		Version: version.String(),
		Action: func(*cli.Context) error {
			return cli.Exit("pim6sd: the daemon is not implemented yet (see docs/STATUS.md); the wire codecs are, try `pim6stat decode FILE`", 1)
		},
		Commands: []*cli.Command{{
			Name:  "version",
			Usage: "print the version",
			Action: func(c *cli.Context) error {
				fmt.Fprintln(c.App.Writer, "pim6sd", version.String())
				return nil
			},
		}},
	}
	if err := app.Run(os.Args); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
