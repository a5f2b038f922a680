// Package cli is elentra-teams' command layer: the cobra commands, the
// configuration loading (the only place that knows viper), logging, and the
// mapping of errors to exit codes. Domain packages receive typed values.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/elentra-teams/elentra-teams/internal/text"
	"github.com/elentra-teams/elentra-teams/pkg/check"
	"github.com/elentra-teams/elentra-teams/pkg/config"
	"github.com/elentra-teams/elentra-teams/pkg/elentra"
)

// Build information, set with -ldflags "-X …/pkg/cli.version=…".
var (
	version = "dev"
	commit  = ""
	date    = ""
)

// Main runs the command line of the process and returns its exit code.
func Main() int {
	return Run(context.Background(), os.Args[1:], &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr})
}

// Run executes one command line; SIGINT and SIGTERM cancel its context, so a
// run stops between actions and records what it finished.
func Run(ctx context.Context, args []string, io *IOStreams) int {
	return run(ctx, args, &Factory{IO: io, Now: time.Now})
}

// run is Run with a factory of the caller's (tests set its clock).
func run(ctx context.Context, args []string, f *Factory) int {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	io := f.IO
	root := NewRootCmd(f)
	root.SetArgs(args)
	root.SetIn(io.In)
	root.SetOut(io.Out)
	root.SetErr(io.ErrOut)

	cmd, err := root.ExecuteContextC(ctx)
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
	if f.closeLog != nil {
		defer f.closeLog()
	}
	code, print, usage := exitCode(err)
	if err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled) {
		err = errors.New("interrupted; the next run continues where this one stopped")
	}
	if print {
		fmt.Fprintf(io.ErrOut, "elentra-teams: %s\n", text.OneLine(err.Error()))
		if f.Logger != nil {
			f.Logger.Debug("command failed", "error", err)
		}
	}
	if usage && cmd != nil {
		fmt.Fprintf(io.ErrOut, "Run '%s --help' for usage.\n", cmd.CommandPath())
	}
	return code
}

// globalFlags are the flags every command takes.
type globalFlags struct {
	configFile      string
	elentraSettings string
	dryRun          bool
	output          string
	logLevel        string
	logFormat       string
	logFile         string
}

const rootLong = `elentra-teams keeps Microsoft Teams in step with Elentra ME: a Team for every
enabled course, its learners and faculty as members and owners, and a Teams
meeting for every enabled learning event with its join link on Elentra's event
page. Each command runs once and exits; cron drives it.

Configuration: --config FILE, else ./elentra-teams.yaml, else
/etc/elentra-teams/config.yaml; ELENTRA_TEAMS_* environment variables override
it, and Elentra's own settings.inc.php (--elentra-settings) fills what neither
sets. Secrets come from the environment or *_file keys, never from flags.

Exit codes:
  0  ok
  1  failed, or check-config found a ✗
  2  usage or configuration error
  3  partial: some attempted writes failed, the rest applied
  4  not authorized: run 'elentra-teams authorize'
  5  another run holds the lock`

// NewRootCmd builds the whole command tree.
func NewRootCmd(f *Factory) *cobra.Command {
	root := newBaseCmd(f)
	root.AddGroup(
		&cobra.Group{ID: "sync", Title: "Sync (what cron runs):"},
		&cobra.Group{ID: "setup", Title: "Set up and diagnose:"},
		&cobra.Group{ID: "switch", Title: "Choose what is synced:"},
	)
	for _, c := range []*cobra.Command{
		newSyncCmd(f, nil), newSyncUsersCmd(f, nil), newSyncTeamsCmd(f, nil), newSyncMembersCmd(f, nil), newSyncEventsCmd(f, nil),
	} {
		c.GroupID = "sync"
		root.AddCommand(c)
	}
	for _, c := range []*cobra.Command{
		newSetupCmd(f, nil), newAuthorizeCmd(f, nil), newCheckConfigCmd(f, nil), newStatusCmd(f, nil), newCrontabCmd(f, nil),
	} {
		c.GroupID = "setup"
		root.AddCommand(c)
	}
	for _, c := range []*cobra.Command{newCoursesCmd(f), newEventsCmd(f), newUsersCmd(f)} {
		c.GroupID = "switch"
		root.AddCommand(c)
	}
	root.AddCommand(newVersionCmd(f))
	root.CompletionOptions.HiddenDefaultCmd = false
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			c.Example = "  elentra-teams completion bash > /etc/bash_completion.d/elentra-teams\n  source <(elentra-teams completion zsh)"
			for _, sh := range c.Commands() {
				sh.Example = "  elentra-teams completion " + sh.Name() + " > elentra-teams." + sh.Name()
			}
		}
	}
	fixArgs(root)
	return root
}

// newBaseCmd is the root command without its subcommands: its help, the
// global flags and their checks (Factory.setup).
func newBaseCmd(f *Factory) *cobra.Command {
	g := &f.flags
	root := &cobra.Command{
		Use:   "elentra-teams",
		Short: "Keep Microsoft Teams in step with Elentra ME",
		Long:  rootLong,
		Example: `  # first time, after writing /etc/elentra-teams/config.yaml
  elentra-teams setup
  elentra-teams authorize --no-browser
  elentra-teams courses enable 101 102
  elentra-teams sync --dry-run
  elentra-teams check-config`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return nil
			}
			msg := fmt.Sprintf("unknown command %q", args[0])
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				msg += fmt.Sprintf(" (did you mean %q?)", s[0])
			}
			return &FlagError{Err: errors.New(msg)}
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmd.Help()
		},
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			return f.setup(cmd)
		},
	}
	root.SuggestionsMinimumDistance = 2
	pf := root.PersistentFlags()
	pf.StringVar(&g.configFile, "config", "", "config `FILE` (default ./elentra-teams.yaml, then /etc/elentra-teams/config.yaml)")
	pf.StringVar(&g.elentraSettings, "elentra-settings", "", "Elentra's settings*.inc.php `FILE` (the files it includes and the config.inc.php beside it are read too)")
	pf.BoolVar(&g.dryRun, "dry-run", false, "show what would change, change nothing")
	pf.StringVarP(&g.output, "output", "o", "text", "result format: text or json")
	pf.StringVar(&g.logLevel, "log-level", "warn", "log level: debug, info, warn or error")
	pf.StringVar(&g.logFormat, "log-format", "text", "log format: text or json")
	pf.StringVar(&g.logFile, "log-file", "", "append logs to `FILE` instead of stderr")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error { return &FlagError{Err: err} })
	return root
}

// fixArgs makes every argument-count error a usage error (exit 2).
func fixArgs(c *cobra.Command) {
	if c.Args != nil {
		orig := c.Args
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := orig(cmd, args); err != nil {
				var fe *FlagError
				if errors.As(err, &fe) {
					return err
				}
				return &FlagError{Err: err}
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		fixArgs(sub)
	}
}

// Factory holds what commands share, built lazily so that a flag error never
// opens the database.
type Factory struct {
	IO     *IOStreams
	Now    func() time.Time
	Logger *slog.Logger

	flags    globalFlags
	loaded   *loadedConfig
	closeLog func() error
	cmd      *cobra.Command
	db       *elentra.DB
	cleanups []func()
	// cron, when set, stands for this machine's cron (/etc/cron.d,
	// /etc/crontab, crontab -l) in check-config: tests make their own.
	cron *check.CronSources
}

// setup validates the global flags and sets up logging.
func (f *Factory) setup(cmd *cobra.Command) error {
	f.cmd = cmd
	g := f.flags
	if g.output != "text" && g.output != "json" {
		return &FlagError{Err: fmt.Errorf("--output %q: use text or json", g.output)}
	}
	var level slog.Level
	switch strings.ToLower(g.logLevel) {
	case "debug":
		level = slog.LevelDebug
	case "info":
		level = slog.LevelInfo
	case "warn", "warning":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	default:
		return &FlagError{Err: fmt.Errorf("--log-level %q: use debug, info, warn or error", g.logLevel)}
	}
	var w io.Writer = f.IO.ErrOut
	if g.logFile != "" {
		lf, err := os.OpenFile(g.logFile, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o640)
		if err != nil {
			return &FlagError{Err: fmt.Errorf("--log-file: %s", pathErr(err))}
		}
		w = lf
		f.closeLog = lf.Close
	}
	opts := &slog.HandlerOptions{Level: level}
	switch g.logFormat {
	case "text":
		f.Logger = slog.New(slog.NewTextHandler(w, opts))
	case "json":
		f.Logger = slog.New(slog.NewJSONHandler(w, opts))
	default:
		return &FlagError{Err: fmt.Errorf("--log-format %q: use text or json", g.logFormat)}
	}
	f.Logger = f.Logger.With("command", cmd.Name())
	return nil
}

// Config loads the configuration once and validates what the command needs.
func (f *Factory) Config(needs config.Need) (*config.Config, error) {
	if f.loaded == nil {
		var fs = f.cmd.Flags()
		l, err := loadConfig(fs, f.flags.configFile)
		if err != nil {
			return nil, err
		}
		f.loaded = l
		l.logElentra(f.Logger)
	}
	if err := f.loaded.cfg.ReadSecretFiles(needs); err != nil {
		return nil, f.loaded.annotate(err)
	}
	if err := f.loaded.cfg.Validate(needs); err != nil {
		return nil, f.loaded.annotate(err)
	}
	return f.loaded.cfg, nil
}

// DryRun reports whether --dry-run was given.
func (f *Factory) DryRun() bool { return f.flags.dryRun }

// JSON reports whether --output json was given.
func (f *Factory) JSON() bool { return f.flags.output == "json" }
