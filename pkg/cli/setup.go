package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/elentra-teams/elentra-teams/pkg/store"
)

const setupLong = `Prepare Elentra's database for the tool. Safe to run again: a second run
prints "nothing to do" and changes nothing.

setup
  - creates or upgrades the tool's own tables (msteams_*, InnoDB, utf8mb4) in
    database.name, from the migrations built into this binary;
  - inserts microsoft_teams_enabled = 1 as a global setting when Elentra has
    none. When it has one with another value, an admin may have switched the
    integration off on purpose: setup says so and changes it only with
    --enable (for the organisation's own rows when it has any, else the
    global ones);
  - inserts personal_meeting_window_minutes = 10 as a global setting when
    Elentra has none (an existing value is kept): a meeting's link opens
    that many minutes before the event;
  - with --menu, appends "microsoft" once to user_menu_ordering, Elentra
    1.22's menu entry for Teams. Without that setting (Elentra before 1.22)
    it says so and changes nothing;
  - with --takeover, deactivates the rows of Elentra's cron table whose
    command contains "artisan microsoft:", Elentra 1.22's own Teams jobs,
    which would otherwise sync the same tenant as this tool. It never adds
    rows to cron. Without --takeover it only says when such jobs are active.

With --dry-run it prints, as SQL, only the statements that would change
something, and runs none. Notes (a setting left as it is) go to stderr.
setup needs only the database part of the configuration.`

type setupOptions struct {
	enable, menu, takeover bool
}

func newSetupCmd(f *Factory) *cobra.Command {
	var o setupOptions
	c := &cobra.Command{
		Use:   "setup",
		Short: "Create or upgrade the tool's tables and Elentra's Teams settings",
		Long:  setupLong,
		Example: `  elentra-teams setup --dry-run
  elentra-teams setup --menu --takeover`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSetup(f, cmd, o)
		},
	}
	c.Flags().BoolVar(&o.enable, "enable", false, "set microsoft_teams_enabled to 1 even when an admin set another value")
	c.Flags().BoolVar(&o.menu, "menu", false, "append microsoft to user_menu_ordering (Elentra 1.22's menu entry)")
	c.Flags().BoolVar(&o.takeover, "takeover", false, "deactivate Elentra's own 'artisan microsoft:' cron jobs")
	return c
}

// setupReport is setup's --output json.
type setupReport struct {
	DryRun bool `json:"dry_run"`
	// Changes are the statements run (or, in a dry run, that would run).
	Changes []store.Statement `json:"changes"`
	Notes   []string          `json:"notes"`
}

func runSetup(f *Factory, cmd *cobra.Command, o setupOptions) error {
	ctx := cmd.Context()
	cfg, err := f.Config(needsDB)
	if err != nil {
		return err
	}
	// Not f.Store: that refuses a database whose migrations are pending,
	// which is what setup is for.
	db, err := f.DB(ctx, cfg)
	if err != nil {
		return err
	}
	opts := store.SetupOptions{OrganisationID: cfg.Elentra.OrganisationID, Enable: o.enable, Menu: o.menu, Takeover: o.takeover}
	var plan *store.SetupPlan
	var runErr error
	if f.DryRun() {
		plan, runErr = store.PlanSetup(ctx, db, opts)
	} else {
		plan, runErr = store.ApplySetup(ctx, db, opts, f.Now())
	}
	if plan == nil {
		return runErr
	}
	if f.JSON() {
		if err := writeJSON(f, setupReport{DryRun: f.DryRun(), Changes: plan.Statements, Notes: plan.Notes}); err != nil {
			return err
		}
		return runErr
	}
	for _, n := range plan.Notes {
		fmt.Fprintf(f.IO.ErrOut, "note: %s\n", n)
	}
	w := f.IO.Out
	switch {
	case plan.Empty() && runErr == nil:
		fmt.Fprintln(w, "nothing to do")
	case f.DryRun():
		last := ""
		for _, s := range plan.Statements {
			if s.Description != last {
				if last != "" {
					fmt.Fprintln(w)
				}
				fmt.Fprintf(w, "-- %s\n", s.Description)
				last = s.Description
			}
			fmt.Fprintf(w, "%s;\n", strings.TrimSpace(s.Display()))
		}
	default:
		for _, line := range plan.Summary() {
			fmt.Fprintf(w, "done: %s\n", line)
		}
	}
	return runErr
}
