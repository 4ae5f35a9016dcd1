// Command pim6stat shows the state of pim6sd, asking the daemon over its
// control socket (or reading a dump file), and decodes PIM and MLD
// captures. See docs/.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/pim6sd/pim6sd/internal/decode"
	"github.com/pim6sd/pim6sd/internal/pcapread"
	"github.com/pim6sd/pim6sd/internal/version"
)

func main() {
	os.Exit(run(os.Args, os.Stdout, os.Stderr))
}

// run is main without the process: tests call it with their own writers.
func run(args []string, stdout, stderr io.Writer) int {
	app := &cli.App{
		Name:      "pim6stat",
		Usage:     "show pim6sd state; decode PIM and MLD captures",
		Version:   version.String(),
		Writer:    stdout,
		ErrWriter: stderr,
		Description: "Without a command, pim6stat prints the daemon's state in the layout of the\n" +
			"KAME/USAGI pim6stat dump; the commands below show one part with what that\n" +
			"layout cannot (DR priorities, Generation IDs, counters, ...).",
		Flags:          stateFlags(true),
		Action:         reportAction,
		Commands:       append(append([]*cli.Command{decodeCommand()}, viewCommands()...), logCommand(), watchCommand(), explainCommand()),
		ExitErrHandler: func(*cli.Context, error) {}, // run returns the code instead of exiting
	}
	if err := app.Run(args); err != nil {
		fmt.Fprintln(stderr, err)
		var ec cli.ExitCoder
		if errors.As(err, &ec) {
			return ec.ExitCode()
		}
		return 1
	}
	return 0
}

func decodeCommand() *cli.Command {
	return &cli.Command{
		Name:      "decode",
		Usage:     "decode every PIM and MLD message of a pcap or pcapng file with pim6sd's codecs",
		ArgsUsage: "FILE",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print JSON instead of text"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return cli.Exit("pim6stat decode: give exactly one capture file", 2)
			}
			path := c.Args().First()
			pkts, readErr := pcapread.ReadFile(path)
			if readErr != nil && len(pkts) == 0 {
				return cli.Exit(fmt.Sprintf("pim6stat decode: %v", readErr), 1)
			}
			var msgs []decode.Message
			for _, p := range pkts {
				if m, ok := decode.Packet(p); ok {
					msgs = append(msgs, m)
				}
			}
			var err error
			if c.Bool("json") {
				err = decode.WriteJSON(c.App.Writer, msgs)
			} else {
				err = decode.WriteText(c.App.Writer, msgs)
			}
			if err != nil {
				return cli.Exit(fmt.Sprintf("pim6stat decode: %v", err), 1)
			}
			if readErr != nil {
				// What came before a broken record was printed; the file is
				// still broken, so the exit code says so.
				return cli.Exit(fmt.Sprintf("pim6stat decode: stopped early: %v", readErr), 1)
			}
			return nil
		},
	}
}
