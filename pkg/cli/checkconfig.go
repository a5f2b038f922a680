package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/oauth2"

	"github.com/elentra-teams/elentra-teams/internal/text"
	"github.com/elentra-teams/elentra-teams/pkg/check"
	"github.com/elentra-teams/elentra-teams/pkg/config"
	"github.com/elentra-teams/elentra-teams/pkg/elentra"
	"github.com/elentra-teams/elentra-teams/pkg/msgraph"
)

// How long check-config's Graph calls may retry.
const (
	checkGraphAttempts = 2
	checkGraphPatience = 20 * time.Second
)

// checkConfigOptions are check-config's flags.
type checkConfigOptions struct {
	f *Factory

	online    bool
	cronPaths []string
}

func newCheckConfigCmd(f *Factory, runF func(*checkConfigOptions) error) *cobra.Command {
	o := &checkConfigOptions{f: f}
	c := &cobra.Command{
		Use:   "check-config",
		Short: "Check the configuration, database, token and tenant; name the fix for each problem",
		Long: `Check everything the syncs depend on, one line each: ✓ fine, ✗ a problem the
syncs cannot work with, ! worth fixing, - not checked because a check it needs
did not pass. Each ✗ and ! line is followed by its fix. Exit 1 when a line is
✗, else 0: warnings never fail it, so it can run from cron and mail only when
something needs a person. Without a UTF-8 locale the marks are OK, FAIL, WARN
and SKIP.

It reads the configuration (turning each error into a ✗ line), checks that
no file holding a secret is readable by every user and that no one else may
write the config file, warns when the database is reached over the network
without TLS, connects to the database, reads Elentra's settings and cron
table, the columns of Elentra's user, course, event and settings tables whose
names say Microsoft (naming the key to set for each: elentra.object_id_column,
elentra.course_switch_column, elentra.event_switch_column), the stored token (account, refresh token age, scopes, Outlook time
zone), the people of the enabled courses (who lacks a Microsoft Object ID,
which course lacks an owner), the last sync runs, and this machine's cron
entries. Without
--online it calls nothing outside the database; with --online it refreshes
the token at Microsoft and asks Graph for the account, its calendar's Teams
meetings and the number of teams it is in.`,
		Example: `  elentra-teams check-config
  elentra-teams check-config --online --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(o)
			}
			return checkConfigRun(cmd.Context(), o)
		},
	}
	c.Flags().BoolVar(&o.online, "online", false, "refresh the token for real and call Microsoft Graph")
	c.Flags().StringSliceVar(&o.cronPaths, "cron-path", nil,
		"crontab `FILE` or directory to look for the sync entry in, repeatable (default /etc/cron.d, /etc/crontab and 'crontab -l')")
	return c
}

// loadUnvalidated loads the configuration once without validating any part
// of it: check-config validates each part itself and reports every problem.
func (f *Factory) loadUnvalidated() (*loadedConfig, error) {
	if f.loaded != nil {
		return f.loaded, nil
	}
	l, err := loadConfig(f.cmd.Flags(), f.flags.configFile)
	if err != nil {
		return nil, err
	}
	f.loaded = l
	l.logElentra(f.Logger)
	return l, nil
}

func checkConfigRun(ctx context.Context, o *checkConfigOptions) error {
	f := o.f
	env := &check.Env{
		Now: f.Now, Online: o.online, Logger: f.Logger,
		ConfigPaths: defaultConfigPaths, TokenName: delegatedToken,
		Cron: check.DefaultCronSources(),
	}
	if f.cron != nil {
		env.Cron = *f.cron
	}
	if len(o.cronPaths) > 0 {
		env.Cron = check.CronSources{Paths: o.cronPaths}
	}
	l, err := f.loadUnvalidated()
	if err != nil {
		env.LoadErr = err
	} else {
		cfg := l.cfg
		env.Config, env.Source, env.FileKeys, env.Elentra = cfg, l.sourceOf, l.fileKey, l.elentra
		if cfg.Microsoft.Application() {
			env.TokenName = applicationToken
		}
		env.OpenDB = func(ctx context.Context, cfg *config.Config) (*elentra.DB, error) { return f.DB(ctx, cfg) }
		env.Graph = func(ts oauth2.TokenSource) *msgraph.Client {
			// A diagnosis answers in seconds: one retry, not a sync's
			// minutes of patience with a Graph that does not answer.
			return msgraph.New(msgraph.Options{BaseURL: cfg.Microsoft.GraphEndpoint, TokenSource: ts, Logger: f.Logger,
				UserAgent: "elentra-teams/" + version, MaxAttempts: checkGraphAttempts, MaxElapsed: checkGraphPatience})
		}
		if lines, err := makeCronLines(f, cfg, defaultCronOptions()); err == nil {
			env.CronLines = []string{"# /etc/cron.d/elentra-teams:", lines.CronD, "# or, as user " + lines.User + ", with 'crontab -e':", lines.Crontab}
		}
	}
	rep := check.Run(ctx, env, check.All())
	if f.JSON() {
		if err := writeJSON(f, rep); err != nil {
			return err
		}
	} else {
		printChecks(f.IO.Out, rep, utf8Locale(os.Getenv))
	}
	if !rep.Passed() {
		// The lines said everything: exit 1 without another message.
		return &ExitError{Code: ExitFailed}
	}
	return nil
}

// utf8Locale reports whether the locale's character set is UTF-8, by the
// POSIX precedence LC_ALL, LC_CTYPE, LANG: the first one set decides.
func utf8Locale(getenv func(string) string) bool {
	for _, name := range []string{"LC_ALL", "LC_CTYPE", "LANG"} {
		if v := getenv(name); v != "" {
			v = strings.ToLower(v)
			return strings.Contains(v, "utf-8") || strings.Contains(v, "utf8")
		}
	}
	return false
}

// marks are how each status is printed, in UTF-8 and in ASCII.
func mark(s check.Status, utf8 bool) string {
	if utf8 {
		switch s {
		case check.OK:
			return "✓"
		case check.Fail:
			return "✗"
		case check.Warn:
			return "!"
		}
		return "-"
	}
	switch s {
	case check.OK:
		return "OK  "
	case check.Fail:
		return "FAIL"
	case check.Warn:
		return "WARN"
	}
	return "SKIP"
}

// printChecks writes one line per check, its fix and details indented
// under it, then a summary.
func printChecks(w io.Writer, rep *check.Report, utf8 bool) {
	for _, r := range rep.Checks {
		fmt.Fprintf(w, "%s %s: %s\n", mark(r.Status, utf8), r.ID, text.OneLine(r.Message))
		if r.Fix != "" && r.Status != check.OK {
			fmt.Fprintf(w, "    fix: %s\n", text.OneLine(r.Fix))
		}
		for _, d := range r.Details {
			fmt.Fprintf(w, "      %s\n", d)
		}
	}
	var parts []string
	if rep.Failed > 0 {
		parts = append(parts, fmt.Sprintf("%d failed (%s)", rep.Failed, strings.TrimSpace(mark(check.Fail, utf8))))
	}
	if rep.Warnings > 0 {
		parts = append(parts, fmt.Sprintf("%d warning(s) (%s)", rep.Warnings, strings.TrimSpace(mark(check.Warn, utf8))))
	}
	if rep.Skipped > 0 {
		parts = append(parts, fmt.Sprintf("%d skipped (%s)", rep.Skipped, strings.TrimSpace(mark(check.Skip, utf8))))
	}
	passed := len(rep.Checks) - rep.Failed - rep.Warnings - rep.Skipped
	summary := fmt.Sprintf("%d of %d checks passed", passed, len(rep.Checks))
	if len(parts) > 0 {
		summary += "; " + strings.Join(parts, ", ")
	}
	if rep.Failed > 0 {
		summary += ": fix the failed ones first, from the top"
	}
	fmt.Fprintln(w, summary)
	if len(rep.NotRun) > 0 {
		fmt.Fprintf(w, "Microsoft was not called (%s): run check-config --online to refresh the token and ask Microsoft Graph\n", strings.Join(rep.NotRun, ", "))
	}
}
