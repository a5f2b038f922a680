package cli

import (
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/elentra-teams/elentra-teams/pkg/config"
)

// cronSchedule turns an interval into the five time fields of a cron line,
// written plainly: a list of minutes for a run every few minutes, `M * * * *`
// hourly, `M */N * * *` every N hours, `M H * * *` daily. The minute is
// derived from the database name, so that staging and production (and
// several schools on one host) do not all start at :00. A daily run starts at
// at ("HH:MM", checked by parseAt) or, without it, at 00:M: the Teams guide
// schedules Elentra's own jobs daily at midnight.
func cronSchedule(every time.Duration, at, database string) (string, error) {
	h := fnv.New32a()
	h.Write([]byte(database))
	minute := int(h.Sum32() % 60)
	switch {
	case at != "":
		if every != 24*time.Hour {
			return "", atNotDaily(every)
		}
		hour, min, err := parseAt(at)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%d %d * * *", min, hour), nil
	case every == 24*time.Hour:
		return fmt.Sprintf("%d 0 * * *", minute), nil
	case every == time.Hour:
		return fmt.Sprintf("%d * * * *", minute), nil
	case every > time.Hour && every < 24*time.Hour && every%time.Hour == 0 && 24%int(every/time.Hour) == 0:
		return fmt.Sprintf("%d */%d * * *", minute, int(every/time.Hour)), nil
	case every >= 5*time.Minute && every < time.Hour && every%time.Minute == 0 && 60%int(every/time.Minute) == 0:
		n := int(every / time.Minute)
		var mins []string
		for m := minute % n; m < 60; m += n {
			mins = append(mins, strconv.Itoa(m))
		}
		return strings.Join(mins, ",") + " * * * *", nil
	}
	return "", &FlagError{Err: fmt.Errorf("--every %s: use minutes that divide an hour (5m, 10m, 15m, 20m, 30m) or hours that divide a day (1h, 2h, 3h, 4h, 6h, 8h, 12h, 24h)", every)}
}

// parseAt reads --at: a time of day, HH:MM on the 24-hour clock.
func parseAt(at string) (hour, minute int, err error) {
	hh, mm, ok := strings.Cut(at, ":")
	if ok && len(hh) >= 1 && len(hh) <= 2 && len(mm) == 2 {
		h, err1 := strconv.Atoi(hh)
		m, err2 := strconv.Atoi(mm)
		if err1 == nil && err2 == nil && h >= 0 && h <= 23 && m >= 0 && m <= 59 && hh[0] != '+' && hh[0] != '-' && mm[0] != '+' && mm[0] != '-' {
			return h, m, nil
		}
	}
	return 0, 0, &FlagError{Err: fmt.Errorf("--at %q: give the time of day of the daily run as HH:MM on the 24-hour clock, 00:00 to 23:59", at)}
}

func atNotDaily(every time.Duration) error {
	return &FlagError{Err: fmt.Errorf("--at sets the time of a daily run, and --every %s is not a day: leave out --at, or use --every 24h", every)}
}

// cronOptions are what the cron lines depend on besides the configuration.
type cronOptions struct {
	every time.Duration
	// at is the time of day of a daily run (HH:MM), "" for the derived one.
	at     string
	user   string
	binary string
}

func defaultCronOptions() cronOptions {
	return cronOptions{every: time.Hour, user: "elentra-teams"}
}

// cronLines are the lines that run sync with this configuration: the
// /etc/cron.d form (with the user column) and the `crontab -e` form.
type cronLines struct {
	CronD   string `json:"cron_d"`
	Crontab string `json:"crontab"`
	User    string `json:"user"`
}

// makeCronLines builds the lines. sync runs with --quiet, so that cron,
// which mails whatever a job prints, mails only failures.
func makeCronLines(f *Factory, cfg *config.Config, o cronOptions) (cronLines, error) {
	sched, err := cronSchedule(o.every, o.at, cfg.Database.Name)
	if err != nil {
		return cronLines{}, err
	}
	binary := o.binary
	if binary == "" {
		binary = "/usr/bin/elentra-teams"
		// A binary from `go run` or `go test` lives in a temporary build
		// directory that is gone by the time cron runs: show the packaged
		// path instead.
		if exe, err := os.Executable(); err == nil && !strings.Contains(exe, string(filepath.Separator)+"go-build") {
			binary = exe
		}
	}
	line := shellQuote(binary)
	if cfg.File != "" {
		if abs, err := filepath.Abs(cfg.File); err == nil {
			line += " --config " + shellQuote(abs)
		}
	}
	if f.flags.elentraSettings != "" {
		if abs, err := filepath.Abs(f.flags.elentraSettings); err == nil {
			line += " --elentra-settings " + shellQuote(abs)
		}
	}
	line += " sync --quiet"
	// cron turns an unescaped % into a newline, even inside quotes.
	line = strings.ReplaceAll(line, "%", `\%`)
	return cronLines{
		CronD:   fmt.Sprintf("%s %s %s", sched, o.user, line),
		Crontab: fmt.Sprintf("%s %s", sched, line),
		User:    o.user,
	}, nil
}

// envOnlyKeys lists the configuration keys whose value came from this
// shell's environment: cron does not see them.
func envOnlyKeys(l *loadedConfig) []string {
	var out []string
	for _, k := range config.Keys() {
		if strings.HasPrefix(l.sourceOf(k.Path), "env ") {
			out = append(out, k.EnvName())
		}
	}
	if _, ok := lookupEnv(config.EnvPrefix + "CONFIG"); ok {
		out = append(out, config.EnvPrefix+"CONFIG")
	}
	sort.Strings(out)
	return out
}

// crontabOptions are crontab's flags, parsed and checked.
type crontabOptions struct {
	f *Factory

	cronOptions
}

func newCrontabCmd(f *Factory, runF func(*crontabOptions) error) *cobra.Command {
	o := &crontabOptions{f: f, cronOptions: defaultCronOptions()}
	c := &cobra.Command{
		Use:   "crontab",
		Short: "Print the cron lines that run sync with this configuration",
		Long: `Print the lines that run 'elentra-teams sync --quiet' with this configuration,
in the /etc/cron.d form (with the user column) and in the 'crontab -e' form.
Cron mails what a run prints: with --quiet a run prints only what failed.

The schedule is written in plain cron fields. Its minute is derived from
the database name, so that staging and production, which may share a
Microsoft tenant, do not start together. For a database whose minute is 40:

  --every 1h (the default)  40 * * * *     every hour at :40
  --every 30m               10,40 * * * *  likewise 5m, 10m, 15m, 20m
  --every 6h                40 */6 * * *   00:40, 06:40, 12:40, 18:40;
                                           likewise 2h, 3h, 4h, 8h, 12h
  --every 24h               40 0 * * *     daily at 00:40
  --at 02:30                30 2 * * *     daily at 02:30 (--every 24h)

A daily run starts in the hour after midnight, where the Teams guide
schedules Elentra's own jobs (daily at 00:00), but at the derived minute
rather than on the hour, so that two installations do not start together.
--at HH:MM sets the time of a daily run instead (--at 00:00 is the guide's
midnight), in the server's time zone, as cron reads it. --at goes with a
daily run only.

Cron does not see the ELENTRA_TEAMS_* variables of the shell you run this in:
keep the configuration in a config file (secrets in *_file keys), and the
lines name it with --config. Without a config file the job looks for
/etc/elentra-teams/config.yaml, and a note on stderr says so.`,
		Example: `  elentra-teams crontab
  elentra-teams --config /etc/elentra-teams/staging.yaml crontab --every 30m
  elentra-teams crontab --at 00:00`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.at != "" {
				if _, _, err := parseAt(o.at); err != nil {
					return err
				}
				switch {
				case !cmd.Flags().Changed("every"):
					o.every = 24 * time.Hour
				case o.every != 24*time.Hour:
					return atNotDaily(o.every)
				}
			}
			if runF != nil {
				return runF(o)
			}
			return crontabRun(o)
		},
	}
	c.Flags().DurationVar(&o.every, "every", o.every, "how often to run sync: 5m, 10m, 15m, 20m, 30m, 1h, 2h, 3h, 4h, 6h, 8h, 12h or 24h")
	c.Flags().StringVar(&o.at, "at", "", "time of day `HH:MM` of a daily run, in the server's time zone (implies --every 24h; default 00:M, M derived from the database name)")
	c.Flags().StringVar(&o.user, "user", o.user, "system `USER` the job runs as")
	c.Flags().StringVar(&o.binary, "binary", "", "path of the elentra-teams binary in the lines (default: this one)")
	return c
}

// crontabRun prints the cron lines, and on stderr what the job would not
// see. --every is checked when the lines are made, after the configuration
// is read: a configuration error is said first.
func crontabRun(o *crontabOptions) error {
	f := o.f
	cfg, err := f.Config(0)
	if err != nil {
		return err
	}
	lines, err := makeCronLines(f, cfg, o.cronOptions)
	if err != nil {
		return err
	}
	if f.JSON() {
		if err := writeJSON(f, lines); err != nil {
			return err
		}
	} else {
		out := f.IO.Out
		fmt.Fprintf(out, "# /etc/cron.d/elentra-teams (no dot in the file name; the sixth field is the user)\n")
		fmt.Fprintf(out, "%s\n\n", lines.CronD)
		fmt.Fprintf(out, "# or, as user %s, with 'crontab -e'\n", o.user)
		fmt.Fprintf(out, "%s\n", lines.Crontab)
	}
	// What the job would not see is said on stderr, so that the lines can
	// still be piped into a file.
	if cfg.File == "" {
		fmt.Fprintf(f.IO.ErrOut, "note: no config file was read, so the lines name none: the job will look for %s, which must exist and hold this configuration\n",
			defaultConfigPaths[len(defaultConfigPaths)-1])
	}
	if keys := envOnlyKeys(f.loaded); len(keys) > 0 {
		fmt.Fprintf(f.IO.ErrOut, "note: cron does not see %s, set in this shell: put those settings in the config file (secrets in *_file keys) before installing the lines\n",
			strings.Join(keys, ", "))
	}
	return nil
}

// shellQuote quotes a path for a cron line when it needs it.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t'\"\\$`;&|<>()*?[]#~%") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
