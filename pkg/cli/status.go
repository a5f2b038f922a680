package cli

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/elentra-teams/elentra-teams/internal/text"
	"github.com/elentra-teams/elentra-teams/pkg/check"
	"github.com/elentra-teams/elentra-teams/pkg/config"
)

// statusOptions: status has no flags of its own; it reads the database.
type statusOptions struct {
	f *Factory
}

func newStatusCmd(f *Factory, runF func(*statusOptions) error) *cobra.Command {
	o := &statusOptions{f: f}
	return &cobra.Command{
		Use:   "status",
		Short: "Show each course's Team and members, each event's meeting, and recent runs",
		Long: `Show, from the database alone (no call to Microsoft):

  - each enabled course, and each course that still has a Team: the Team's
    state, its owners and members in Elentra (by the syncs' rules) against
    those this tool added to the Team, how many lack a Microsoft Object ID,
    the last sync and the last error;
  - each upcoming event (within sync.events_horizon) of the synced courses:
    its meeting's state and when its link opens;
  - the last runs of each sync command: when, how long, what changed, the
    exit code.

Times are in elentra.timezone.`,
		Example: `  elentra-teams status
  elentra-teams status --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(o)
			}
			return statusRun(cmd.Context(), o)
		},
	}
}

func statusRun(ctx context.Context, o *statusOptions) error {
	f := o.f
	cfg, err := f.Config(config.NeedDatabase | config.NeedSync)
	if err != nil {
		return err
	}
	st, err := f.Store(ctx, cfg)
	if err != nil {
		return err
	}
	rep, err := check.ReadStatus(ctx, st, cfg, f.Now())
	if err != nil {
		return err
	}
	if f.JSON() {
		return writeJSON(f, rep)
	}
	loc := time.Local
	if cfg.Elentra.Timezone != "" {
		if l, err := time.LoadLocation(cfg.Elentra.Timezone); err == nil {
			loc = l
		}
	}
	return printStatus(f.IO.Out, rep, loc, f.Now(), time.Duration(cfg.Sync.EventsHorizon))
}

const statusTime = "2006-01-02 15:04"

func printStatus(w io.Writer, rep *check.StatusReport, loc *time.Location, now time.Time, horizon time.Duration) error {
	at := func(t *time.Time) string {
		if t == nil {
			return "never"
		}
		return t.In(loc).Format(statusTime)
	}
	fmt.Fprintf(w, "Times are in %s (elentra.timezone).\n\n", loc)
	switch inst := rep.Installation; {
	case inst == nil:
		fmt.Fprintln(w, "Installation: none yet: run 'elentra-teams setup'")
	default:
		fmt.Fprintf(w, "Installation %s, bound to %s\n", inst.ID, inst.Server)
	}
	if rep.Copy != "" {
		fmt.Fprintf(w, "  ! %s\n", rep.Copy)
	}
	for _, a := range rep.SetAside {
		fmt.Fprintf(w, "  set aside %s from installation %s (copied in, acted on by no sync): %d Teams, %d memberships, %d meetings\n",
			a.SetAsideAt.In(loc).Format(statusTime), a.InstallationID, a.Teams, a.Memberships, a.Meetings)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Courses (%d):\n", len(rep.Courses))
	if len(rep.Courses) == 0 {
		fmt.Fprintln(w, "  none is enabled: 'elentra-teams courses enable ID…' switches courses on")
	} else {
		var rows [][]string
		for _, c := range rep.Courses {
			code := c.Code
			switch {
			case !c.InElentra:
				code = "(not in Elentra)"
			case !c.Enabled:
				code += " (disabled)"
			case !c.Current:
				code += " (not current)"
			}
			noID := ""
			if c.WithoutObjectID > 0 {
				noID = fmt.Sprint(c.WithoutObjectID)
			}
			lastErr := c.LastError
			if lastErr != "" && c.LastErrorAt != nil {
				lastErr = at(c.LastErrorAt) + " " + lastErr
			}
			rows = append(rows, []string{fmt.Sprint(c.CourseID), code, string(c.State),
				fmt.Sprintf("%d/%d", c.ElentraOwners, c.TeamOwners), fmt.Sprintf("%d/%d", c.ElentraMembers, c.TeamMembers),
				noID, at(c.LastSync), text.Shorten(lastErr, 70)})
		}
		if err := printTable(w, []string{"COURSE", "CODE", "TEAM", "OWNERS E/T", "MEMBERS E/T", "NO OBJECT ID", "LAST SYNC", "LAST ERROR"}, rows); err != nil {
			return err
		}
		fmt.Fprintln(w, "  E/T: in Elentra / added to the Team by this tool")
	}

	fmt.Fprintf(w, "\nUpcoming events, next %s (%d):\n", config.Duration(horizon), len(rep.Events))
	if len(rep.Events) == 0 {
		fmt.Fprintln(w, "  none")
	} else {
		var rows [][]string
		for _, e := range rep.Events {
			state := string(e.State)
			if !e.Enabled {
				state += " (not enabled)"
			}
			rows = append(rows, []string{fmt.Sprint(e.EventID), e.CourseCode, e.Start.In(loc).Format(statusTime), text.Shorten(e.Title, 40),
				state, atOr(e.JoinableFrom, loc, "-"), text.Shorten(e.LastError, 60)})
		}
		if err := printTable(w, []string{"EVENT", "COURSE", "START", "TITLE", "MEETING", "JOINABLE FROM", "LAST ERROR"}, rows); err != nil {
			return err
		}
	}

	fmt.Fprintf(w, "\nLast runs:\n")
	if len(rep.Runs) == 0 {
		fmt.Fprintln(w, "  none yet: 'elentra-teams sync' runs every job; 'elentra-teams crontab' prints its cron lines")
		return nil
	}
	var rows [][]string
	for _, r := range rep.Runs {
		dur, exit := "running", "-"
		if r.Duration != nil {
			dur = (time.Duration(*r.Duration * float64(time.Second))).Round(time.Second).String()
		}
		if r.ExitCode != nil {
			exit = fmt.Sprint(*r.ExitCode)
		}
		if r.Duration == nil && now.Sub(r.Started) > 6*time.Hour {
			dur = "never finished"
		}
		rows = append(rows, []string{r.Command, r.Started.In(loc).Format(statusTime), dur, runSummary(r), exit, text.Shorten(r.Error, 60)})
	}
	return printTable(w, []string{"COMMAND", "STARTED", "DURATION", "CHANGES", "EXIT", "ERROR"}, rows)
}

func atOr(t *time.Time, loc *time.Location, none string) string {
	if t == nil {
		return none
	}
	return t.In(loc).Format(statusTime)
}

// runSummary says what a run changed: "create team 2, add members 30; 1
// failed; 4 findings".
func runSummary(r check.RunStatus) string {
	kinds := make([]string, 0, len(r.Counts))
	for k := range r.Counts {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var parts []string
	for _, k := range kinds {
		parts = append(parts, fmt.Sprintf("%s %d", strings.ReplaceAll(k, "_", " "), r.Counts[k]))
	}
	s := strings.Join(parts, ", ")
	switch {
	case r.Disabled:
		s = "nothing (switched off in Elentra)"
	case s == "":
		s = "nothing"
	}
	if r.Failed > 0 {
		s += fmt.Sprintf("; %d failed", r.Failed)
	}
	switch {
	case r.Findings == 1:
		s += "; 1 finding"
	case r.Findings > 1:
		s += fmt.Sprintf("; %d findings", r.Findings)
	}
	return s
}
