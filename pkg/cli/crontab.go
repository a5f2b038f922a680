package cli

import (
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// cronSchedule turns an interval into a cron schedule starting at a minute
// derived from the database name, so that staging and production (and
// several schools on one host) do not all start at :00.
func cronSchedule(every time.Duration, database string) (string, error) {
	h := fnv.New32a()
	h.Write([]byte(database))
	seed := h.Sum32()
	switch {
	case every >= time.Hour && every <= 24*time.Hour && every%time.Hour == 0 && 24%int(every/time.Hour) == 0:
		n := int(every / time.Hour)
		minute := seed % 60
		hour := "*"
		if n > 1 {
			hour = fmt.Sprintf("%d-23/%d", int(seed/60)%n, n)
		}
		return fmt.Sprintf("%d %s * * *", minute, hour), nil
	case every >= 5*time.Minute && every < time.Hour && every%time.Minute == 0 && 60%int(every/time.Minute) == 0:
		n := int(every / time.Minute)
		return fmt.Sprintf("%d-59/%d * * * *", int(seed)%n, n), nil
	}
	return "", &FlagError{Err: fmt.Errorf("--every %s: use minutes that divide an hour (5m, 10m, 15m, 20m, 30m) or hours that divide a day (1h, 2h, 3h, 4h, 6h, 8h, 12h, 24h)", every)}
}

func newCrontabCmd(f *Factory) *cobra.Command {
	var every time.Duration
	var user, binary string
	c := &cobra.Command{
		Use:   "crontab",
		Short: "Print the cron lines that run sync with this configuration",
		Long: `Print the lines that run 'elentra-teams sync' with this configuration, in the
/etc/cron.d form (with the user column) and in the 'crontab -e' form. The
minute is derived from the database name, so staging and production do not
start together. Cron mails what a run prints: a quiet run prints nothing.`,
		Example: `  elentra-teams crontab
  elentra-teams --config /etc/elentra-teams/staging.yaml crontab --every 30m`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := f.Config(0)
			if err != nil {
				return err
			}
			sched, err := cronSchedule(every, cfg.Database.Name)
			if err != nil {
				return err
			}
			if binary == "" {
				binary = "/usr/bin/elentra-teams"
				if exe, err := os.Executable(); err == nil && !strings.Contains(exe, string(filepath.Separator)+"go-build") {
					binary = exe
				}
			}
			line := binary
			if cfg.File != "" {
				abs, err := filepath.Abs(cfg.File)
				if err == nil {
					line += " --config " + shellQuote(abs)
				}
			}
			if f.flags.elentraSettings != "" {
				if abs, err := filepath.Abs(f.flags.elentraSettings); err == nil {
					line += " --elentra-settings " + shellQuote(abs)
				}
			}
			line += " sync"
			out := f.IO.Out
			fmt.Fprintf(out, "# /etc/cron.d/elentra-teams (no dot in the file name; the sixth field is the user)\n")
			fmt.Fprintf(out, "%s %s %s\n\n", sched, user, line)
			fmt.Fprintf(out, "# or, as user %s, with 'crontab -e'\n", user)
			fmt.Fprintf(out, "%s %s\n", sched, line)
			return nil
		},
	}
	c.Flags().DurationVar(&every, "every", time.Hour, "how often to run sync")
	c.Flags().StringVar(&user, "user", "elentra-teams", "system `USER` the job runs as")
	c.Flags().StringVar(&binary, "binary", "", "path of the elentra-teams binary in the lines (default: this one)")
	return c
}

// shellQuote quotes a path for a cron line when it needs it.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t'\"\\$`;&|<>()*?[]#~%") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
