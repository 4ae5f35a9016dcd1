// Package app is the pim6sd process around the daemon's loop: command line,
// configuration file, logging, the control socket, the pid file, signals
// (SIGTERM/SIGINT stop, SIGHUP reloads, SIGUSR1 dumps) and running in the
// background. cmd/pim6sd is a thin main over Main.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pim6sd/pim6sd/conf"
	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/internal/daemon"
	"github.com/pim6sd/pim6sd/internal/logging"
	"github.com/pim6sd/pim6sd/internal/metrics"
	"github.com/pim6sd/pim6sd/internal/version"
)

// Main runs the pim6sd command line and returns the exit status.
func Main(args []string, stdout, stderr io.Writer) int {
	app := &cli.App{
		Name:      "pim6sd",
		Usage:     "IPv6 multicast routing daemon (MLDv1/v2 router, PIM-SM, SSM)",
		Version:   version.String(),
		Writer:    stdout,
		ErrWriter: stderr,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "config", Aliases: []string{"c"}, Usage: "configuration file (TOML); none: RFC defaults on every eligible interface"},
			&cli.BoolFlag{Name: "foreground", Aliases: []string{"f"}, Usage: "stay in the foreground and log to stderr"},
			&cli.StringFlag{Name: "log-level", Usage: "debug, info, warn or error, for every subsystem (overrides the configuration; pim6stat log changes one at run time)"},
			&cli.StringFlag{Name: "log-format", Value: "text", Usage: "log records on stderr as text or json"},
			&cli.StringFlag{Name: "socket", Usage: "control socket path (overrides the configuration; default " + ctl.DefaultSocketPath + ")"},
			&cli.StringFlag{Name: "pidfile", Usage: "pid file path, \"\" for none (overrides the configuration)"},
			&cli.StringFlag{Name: "state-file", Usage: "checkpoint file path (global.state-file), \"\" for none (overrides the configuration)"},
			&cli.StringFlag{Name: "metrics-listen", Usage: "serve Prometheus metrics over HTTP at ADDR/metrics (e.g. [::1]:9642 or :9642); off by default"},
			&cli.IntFlag{Name: "metrics-max-sg", Value: metrics.DefaultMaxSGSeries, Usage: "the most (S,G) entries with their own packet and byte series (the busiest first); 0 for none"},
		},
		Action: func(c *cli.Context) error { return runCommand(c, stderr) },
		Commands: []*cli.Command{
			{
				Name:      "check-config",
				Usage:     "check a configuration file and list every problem",
				ArgsUsage: "FILE",
				Action: func(c *cli.Context) error {
					if c.NArg() != 1 {
						return cli.Exit("pim6sd check-config: give exactly one file", 2)
					}
					if _, err := conf.Load(c.Args().First()); err != nil {
						return cli.Exit(configError(c.Args().First(), err), 1)
					}
					fmt.Fprintf(c.App.Writer, "%s: ok\n", c.Args().First())
					return nil
				},
			},
			{
				Name:  "check-kernel",
				Usage: "probe the running kernel for what pim6sd and its tests use (needs root)",
				Description: "Probes each kernel capability for real, in a network namespace of its own (a running pim6sd\n" +
					"and the host's interfaces are not touched), and prints a table. Exit status 0 when every\n" +
					"capability the daemon uses is there, 1 otherwise; the test-only ones do not count.",
				Flags:  []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print the result as JSON"}},
				Action: checkKernel,
			},
			{
				Name:  "version",
				Usage: "print the version",
				Action: func(c *cli.Context) error {
					fmt.Fprintln(c.App.Writer, "pim6sd", version.String())
					return nil
				},
			},
		},
		ExitErrHandler: func(*cli.Context, error) {},
	}
	if err := app.Run(args); err != nil {
		if msg := err.Error(); msg != "" {
			// An exit status alone (check-kernel --json) prints nothing.
			fmt.Fprintln(stderr, msg)
		}
		var ec cli.ExitCoder
		if errors.As(err, &ec) {
			return ec.ExitCode()
		}
		return 1
	}
	return 0
}

// configError formats a configuration error with every problem on its own
// line.
func configError(path string, err error) string {
	var list conf.Errors
	if errors.As(err, &list) {
		return fmt.Sprintf("pim6sd: %d problem(s) in %s:\n%s", len(list), path, err)
	}
	return fmt.Sprintf("pim6sd: configuration %s: %v", path, err)
}

// openKernel is daemon.OpenLinuxHandover; tests replace it to see what
// the user reads when the kernel refuses.
var openKernel = daemon.OpenLinuxHandover

// options are the command line's choices.
type options struct {
	configPath string
	foreground bool
	logLevel   string
	logFormat  logging.Format
	socket     *string
	pidfile    *string
	stateFile  *string

	// metricsListen is --metrics-listen, "" for no metrics server;
	// metricsMaxSG is --metrics-max-sg.
	metricsListen string
	metricsMaxSG  int
}

func runCommand(c *cli.Context, stderr io.Writer) error {
	if c.NArg() > 0 {
		return cli.Exit(fmt.Sprintf("pim6sd: unexpected argument %q (commands: check-config, check-kernel, version)", c.Args().First()), 2)
	}
	o := options{configPath: c.String("config"), foreground: c.Bool("foreground"), logLevel: c.String("log-level")}
	f, err := logging.ParseFormat(c.String("log-format"))
	if err != nil {
		return cli.Exit("pim6sd: --log-format: "+err.Error(), 2)
	}
	o.logFormat = f
	o.metricsListen = c.String("metrics-listen")
	o.metricsMaxSG = c.Int("metrics-max-sg")
	if o.metricsMaxSG < 0 {
		return cli.Exit(fmt.Sprintf("pim6sd: --metrics-max-sg: %d must not be negative", o.metricsMaxSG), 2)
	}
	if c.IsSet("socket") {
		s := c.String("socket")
		o.socket = &s
	}
	if c.IsSet("pidfile") {
		s := c.String("pidfile")
		o.pidfile = &s
	}
	if c.IsSet("state-file") {
		s := c.String("state-file")
		if s != "" && !filepath.IsAbs(s) {
			return cli.Exit(fmt.Sprintf("pim6sd: --state-file: %q is not an absolute path", s), 2)
		}
		o.stateFile = &s
	}
	if !o.foreground && os.Getenv(readyEnv) == "" && os.Getenv(daemon.HandoverEnv) == "" {
		// (A restart executes the daemon again in place: it is in the
		// background already.)
		return background(stderr)
	}
	if err := run(o, stderr); err != nil {
		notifyReady(err)
		return cli.Exit(err.Error(), 1)
	}
	return nil
}

// loadConfig reads the configuration (or the defaults) and applies the
// command line's overrides.
func loadConfig(o options) (*conf.Config, error) {
	cfg := conf.Default()
	if o.configPath != "" {
		var err error
		if cfg, err = conf.Load(o.configPath); err != nil {
			return nil, errors.New(configError(o.configPath, err))
		}
	}
	if o.socket != nil {
		cfg.Global.Socket = *o.socket
	}
	if o.pidfile != nil {
		cfg.Global.PIDFile = *o.pidfile
	}
	if o.stateFile != nil {
		cfg.Global.StateFile = *o.stateFile
	}
	if o.logLevel != "" {
		var l slog.Level
		if err := l.UnmarshalText([]byte(o.logLevel)); err != nil {
			return nil, fmt.Errorf("pim6sd: --log-level %q: use debug, info, warn or error", o.logLevel)
		}
		cfg.Global.LogLevel = l
	}
	return cfg, nil
}

func run(o options, stderr io.Writer) error {
	cfg, err := loadConfig(o)
	if err != nil {
		return err
	}
	// One handler, a logger and a level per subsystem (internal/logging).
	logs := logging.New(stderr, o.logFormat, cfg.Global.LogLevel)
	log := logs.Logger(logging.Daemon)

	h, herr := takeHandover()
	if herr != nil {
		log.Warn("restart: ignoring the handover of the previous instance", "err", herr)
	}
	if h != nil {
		log.Info("restarted: taking the routing socket over", "fd", h.FD, "table", h.Table, "mifs", len(h.MIFs))
	} else {
		h = storedHandover(cfg.Global.MRTTable, log)
	}
	k, err := openKernel(cfg.Global.MRTTable, h, logs.Logger(logging.Kernel))
	if err != nil {
		return kernelStartError(err, o.configPath)
	}
	sd := newSystemd(log)
	defer sd.close()
	dopts := sd.daemonOptions()
	dopts.Logs = logs
	if cfg.Global.StateFile != "" {
		dopts.Checkpoint = stateFile{cfg.Global.StateFile} // state.go
	}
	d, err := daemon.NewWithOptions(cfg, k, log, dopts)
	if err != nil {
		k.Close()
		return fmt.Errorf("pim6sd: %w", err)
	}
	if o.configPath != "" {
		abs, _ := filepath.Abs(o.configPath)
		d.SetConfigFile(abs)
	}
	srv, err := ctl.Listen(ctl.ServerConfig{Path: cfg.Global.Socket, Log: logs.Logger(logging.Ctl)}, ctl.Handler{LogLevel: logLevelHandler(logs), Snapshot: d.SnapshotOf, Watch: d.Watch, Explain: d.Explain})
	if err != nil {
		k.Close()
		return fmt.Errorf("pim6sd: control socket: %w", err)
	}
	if o.metricsListen != "" {
		maxSG := o.metricsMaxSG
		if maxSG == 0 {
			maxSG = -1 // metrics.Options: negative is none
		}
		msrv, err := metrics.Listen(o.metricsListen, metrics.Options{Snapshot: d.Snapshot, MaxSGSeries: maxSG, Log: logs.Logger(logging.Ctl)})
		if err != nil {
			srv.Close()
			k.Close()
			return fmt.Errorf("pim6sd: --metrics-listen: %w", err)
		}
		defer msrv.Close()
		go func() { _ = msrv.Serve() }()
		log.Info("serving metrics", "addr", msrv.Addr().String(), "path", metrics.Path)
	}
	if err := writePIDFile(cfg.Global.PIDFile); err != nil {
		srv.Close()
		k.Close()
		return fmt.Errorf("pim6sd: pid file: %w", err)
	}
	defer removePIDFile(cfg.Global.PIDFile)

	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2)
	defer signal.Stop(sigs)

	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, ready) }()
	go func() { _ = srv.Serve() }()
	select {
	case <-ready:
	case err := <-done:
		srv.Close()
		return fmt.Errorf("pim6sd: %w", err)
	}
	log.Info("pim6sd running", "version", version.String(), "pid", os.Getpid(), "config", o.configPath, "socket", cfg.Global.Socket, "table", cfg.Global.MRTTable)
	notifyReady(nil)
	sd.ready(d.Snapshot)
	sd.storeRoutingSocket(k, mrtFDName(cfg.Global.MRTTable))

	for {
		select {
		case err := <-done:
			srv.Close()
			return err
		case sig := <-sigs:
			switch sig {
			case syscall.SIGTERM, syscall.SIGINT:
				sd.stopping()
				if cfg.Global.KeepTableOnStop && sd.stored {
					// systemd keeps the socket: a restart takes the table
					// over, a stop ends it when systemd closes its copy.
					log.Info("stopping; the routing table stays with systemd (keep-table-on-stop)", "signal", sig.String())
					cancel(daemon.ErrRestart)
				} else {
					log.Info("stopping", "signal", sig.String())
					sd.unstoreRoutingSocket(mrtFDName(cfg.Global.MRTTable))
					cancel(nil)
				}
				err := <-done
				srv.Close()
				if err != nil {
					return fmt.Errorf("pim6sd: shutdown: %w", err)
				}
				return nil
			case syscall.SIGHUP:
				sd.reloading()
				reload(d.Reload, o, cfg, logs)
				sd.reloaded()
			case syscall.SIGUSR1:
				dump(d.Snapshot, cfg, log)
			case syscall.SIGUSR2:
				exe, err := restartExecutable()
				if err != nil {
					log.Error("SIGUSR2: cannot restart; still running", "err", err)
					continue
				}
				log.Info("SIGUSR2: restarting; forwarding goes on", "executable", exe)
				sd.reloading()
				cancel(daemon.ErrRestart)
				err = <-done
				srv.Close()
				if err != nil {
					return fmt.Errorf("pim6sd: stopping for the restart: %w", err)
				}
				signal.Stop(sigs)
				return execRestart(exe, k.HandoverInfo())
			}
		}
	}
}

// reload rereads the configuration file and applies it with apply (the
// daemon's Reload); a file with any problem is refused whole and the
// running configuration stays.
func reload(apply func(*conf.Config) (conf.Changes, error), o options, running *conf.Config, logs *logging.Set) {
	log := logs.Logger(logging.Conf)
	if o.configPath == "" {
		log.Info("SIGHUP: no configuration file to reload (running on the defaults)")
		return
	}
	cfg, err := loadConfig(o)
	if err != nil {
		log.Error("SIGHUP: new configuration refused; the running one stays", "err", err.Error())
		return
	}
	ch, err := apply(cfg)
	if err != nil {
		log.Error("SIGHUP: reload failed", "err", err)
		return
	}
	if ch.Empty() {
		log.Info("SIGHUP: configuration unchanged")
		return
	}
	if ch.LogLevel {
		// Every subsystem, over what pim6stat log set.
		logs.SetLevel(logging.All, cfg.Global.LogLevel)
	}
	for _, r := range ch.RestartNeeded {
		log.Warn("SIGHUP: this change needs a restart; the running value stays", "change", r)
	}
	log.Info("SIGHUP: configuration reloaded", "changes", ch.String())
	*running = *cfg
}

// dump writes the report of the daemon's snapshot (daemon.Snapshot) to the
// dump file with its mode (SIGUSR1).
func dump(snapshot func(context.Context) (*ctl.Snapshot, error), cfg *conf.Config, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := snapshot(ctx)
	if err != nil {
		log.Error("SIGUSR1: no snapshot", "err", err)
		return
	}
	if err := ctl.WriteDumpFileMode(cfg.Global.DumpFile, s, cfg.Global.DumpFileMode); err != nil {
		log.Error("SIGUSR1: writing the dump failed", "file", cfg.Global.DumpFile, "err", err)
		return
	}
	log.Info("SIGUSR1: state dumped", "file", cfg.Global.DumpFile)
}

func writePIDFile(path string) error {
	if path == "" {
		return nil
	}
	if b, err := os.ReadFile(path); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid != os.Getpid() && syscall.Kill(pid, 0) == nil {
			return fmt.Errorf("%s names process %d, which is running: is another pim6sd running?", path, pid)
		}
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func removePIDFile(path string) {
	if path == "" {
		return
	}
	if b, err := os.ReadFile(path); err == nil && strings.TrimSpace(string(b)) == strconv.Itoa(os.Getpid()) {
		os.Remove(path)
	}
}
