package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/elentra-teams/elentra-teams/pkg/elentra"
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
  - with --menu, appends "microsoft" once to user_menu_ordering, as Elentra
    1.22's Teams guide does. That entry opens Elentra's own "Microsoft
    Account" page, part of Elentra's own integration: it signs in to
    Microsoft and stores Elentra's own token and Outlook time zone, and
    elentra-teams uses neither. The tool's token and Outlook time zone are
    the ones 'elentra-teams authorize' records; the tool needs no menu
    entry. Without that setting (Elentra before 1.22) it says so and
    changes nothing;
  - with --takeover, deactivates the active rows of Elentra's cron table
    whose command names a Microsoft or Teams job (microsoft, teams, msteams,
    msgraph or ms-graph as a whole word, in any case: Elentra 1.22's own
    "php artisan microsoft:..." jobs), which would otherwise sync the same
    tenant as this tool: the rows check-config's elentra.cron_jobs flags.
    --dry-run lists each row (id, schedule, command). It never adds rows to
    cron. Without --takeover it only says when such jobs are active.

The first setup of this version gives the installation its id: 8 random
characters, part of every group nickname, meeting marker and transactionId
it makes, so that two installations sharing a Microsoft tenant (staging
beside production) never take each other's Teams or meetings for their own.
The id is bound to this database and its server (@@server_uuid where MySQL
has one, @@hostname, @@port, @@datadir, the database's name). A database
restored elsewhere from a dump keeps the id and the records but not the
binding: the syncs then write nothing to Microsoft and exit 1 until one of

  --new-installation  this database is a copy (staging made from
                      production's dump): it gets an id of its own, and the
                      copied records (the other installation's groups,
                      memberships and meetings) are set aside: status lists
                      them, no sync acts on them. Refused on the
                      installation's own database unless --force (it would
                      set aside its own Teams and make them all again);
  --moved             this is the same installation on a new database
                      server (or a renamed database): the id and the
                      records are kept, bound to where the database is now.

With --dry-run it prints, as SQL, only the statements that would change
something, and runs none. Notes (a setting left as it is) go to stderr.
setup needs only the database part of the configuration.`

// setupOptions are setup's flags, parsed and checked.
type setupOptions struct {
	f *Factory

	enable, menu, takeover bool
	newInstallation, moved bool
	force                  bool
	dryRun                 bool
}

func newSetupCmd(f *Factory, runF func(*setupOptions) error) *cobra.Command {
	o := &setupOptions{f: f}
	c := &cobra.Command{
		Use:   "setup",
		Short: "Create or upgrade the tool's tables and Elentra's Teams settings",
		Long:  setupLong,
		Example: `  elentra-teams setup --dry-run
  elentra-teams setup --menu --takeover
  elentra-teams --config staging.yaml setup --new-installation --dry-run`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.dryRun = f.DryRun()
			switch {
			case o.newInstallation && o.moved:
				return &FlagError{Err: errors.New("--new-installation and --moved exclude each other: a copy gets its own id, a moved database keeps its own")}
			case o.force && !o.newInstallation:
				return &FlagError{Err: errors.New("--force goes with --new-installation only")}
			}
			if runF != nil {
				return runF(o)
			}
			return setupRun(cmd.Context(), o)
		},
	}
	c.Flags().BoolVar(&o.enable, "enable", false, "set microsoft_teams_enabled to 1 even when an admin set another value")
	c.Flags().BoolVar(&o.menu, "menu", false, "append microsoft to user_menu_ordering: Elentra 1.22's own Microsoft Account page, which this tool does not use")
	c.Flags().BoolVar(&o.takeover, "takeover", false, "deactivate the rows of Elentra's cron table that run Microsoft or Teams jobs")
	c.Flags().BoolVar(&o.newInstallation, "new-installation", false, "this database is a copy of another installation's: give it its own id and set the copied records aside")
	c.Flags().BoolVar(&o.moved, "moved", false, "this installation's database moved to a new server: bind its id to where it is now")
	c.Flags().BoolVar(&o.force, "force", false, "with --new-installation: even though the database does not look like a copy")
	return c
}

// setupReport is setup's --output json.
type setupReport struct {
	DryRun bool `json:"dry_run"`
	// Changes are the statements run (or, in a dry run, that would run).
	Changes []store.Statement `json:"changes"`
	Notes   []string          `json:"notes"`
	// Installation is the installation after setup (absent in a dry run
	// before the first setup).
	Installation *store.Installation `json:"installation,omitempty"`
	// NewInstallation is what --new-installation did; Moved what --moved
	// found changed.
	NewInstallation *store.NewInstallationResult `json:"new_installation,omitempty"`
	Moved           []string                     `json:"moved,omitempty"`
}

func setupRun(ctx context.Context, o *setupOptions) error {
	f := o.f
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
	if o.dryRun {
		plan, runErr = store.PlanSetup(ctx, db, opts)
	} else {
		plan, runErr = store.ApplySetup(ctx, db, opts, f.Now())
	}
	if plan == nil {
		return runErr
	}
	rep := setupReport{DryRun: o.dryRun, Changes: plan.Statements, Notes: plan.Notes}
	var done []string // what the installation options did, in words
	if runErr == nil {
		done, runErr = setupInstallation(ctx, db, o, &rep)
	}
	if f.JSON() {
		if err := writeJSON(f, rep); err != nil {
			return err
		}
		return runErr
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(f.IO.ErrOut, "note: %s\n", n)
	}
	w := f.IO.Out
	switch {
	case plan.Empty() && len(done) == 0 && runErr == nil:
		fmt.Fprintln(w, "nothing to do")
	case o.dryRun:
		last := ""
		for _, s := range plan.Statements {
			if s.Description != last {
				if last != "" {
					fmt.Fprintln(w)
				}
				fmt.Fprintf(w, "-- %s\n", s.Description)
				last = s.Description
			}
			for _, r := range s.Rows {
				fmt.Fprintf(w, "--   %s\n", r)
			}
			fmt.Fprintf(w, "%s;\n", strings.TrimSpace(s.Display()))
		}
		for _, line := range done {
			fmt.Fprintf(w, "-- %s\n", line)
		}
	default:
		for _, line := range plan.Summary() {
			fmt.Fprintf(w, "done: %s\n", line)
		}
		for _, line := range done {
			fmt.Fprintf(w, "done: %s\n", line)
		}
	}
	return runErr
}

// setupInstallation does what --new-installation or --moved ask, or says
// (a note) when the database looks like a copy and neither was given.
func setupInstallation(ctx context.Context, db *elentra.DB, o *setupOptions, rep *setupReport) ([]string, error) {
	f := o.f
	would := func(s string) string {
		if o.dryRun {
			return "would " + s
		}
		return s
	}
	switch {
	case o.newInstallation:
		res, err := store.NewInstallation(ctx, db, f.Now(), o.force, o.dryRun)
		if err != nil {
			return nil, err
		}
		rep.NewInstallation = res
		a := res.SetAside
		line := fmt.Sprintf("new installation %s, bound to %s (it was a copy of installation %s's database)", res.ID, res.Here, res.Previous.ID)
		if o.dryRun {
			line = fmt.Sprintf("a new installation id, bound to %s (this database is a copy of installation %s's)", res.Here, res.Previous.ID)
		}
		if res.ID == res.Previous.ID {
			line = fmt.Sprintf("installation %s keeps its id", res.ID)
		}
		return []string{would(line),
			would(fmt.Sprintf("set aside what was copied from installation %s: %d Teams, %d memberships, %d meetings (status lists them; no sync acts on them)",
				res.Previous.ID, a.Teams, a.Memberships, a.Meetings))}, nil
	case o.moved:
		inst, here, diff, err := store.Moved(ctx, db, f.Now(), o.dryRun)
		if err != nil {
			return nil, err
		}
		rep.Moved, rep.Installation = diff, inst
		return []string{would(fmt.Sprintf("bind installation %s to %s (%s)", inst.ID, here, strings.Join(diff, ", ")))}, nil
	}
	inst, err := store.ReadInstallation(ctx, db)
	if err != nil || inst == nil {
		return nil, err
	}
	rep.Installation = inst
	if _, err := store.New(db).CheckInstallation(ctx); err != nil {
		var ce *store.CopyError
		if errors.As(err, &ce) {
			rep.Notes = append(rep.Notes, err.Error())
			return nil, nil
		}
		return nil, err
	}
	return nil, nil
}
