package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/elentra-teams/elentra-teams/internal/text"
	"github.com/elentra-teams/elentra-teams/pkg/reconcile"
	"github.com/elentra-teams/elentra-teams/pkg/store"
)

const coursesLong = `List the courses of elentra.organisation_id and choose which get a Team.

A course is synced by the first of these that decides: its switch here
('courses enable' or 'courses disable'); Elentra's own course switch, when
elentra.course_switch_column names it and it holds a value for the course
(elentra.course_switch_on means on, any other value off); with
sync.all_active_courses, whether it is active. A synced course gets a Team
while it is active in a current curriculum period.

Ids that are not whole numbers are a usage error; ids Elentra does not have
(or that belong to another organisation) are named in the error, and then
nothing is switched (exit 2 in both cases).`

// coursesListLong is the help of `courses list`: what the NEXT SYNC column
// says, in the words and by the rule of reconcile.NextTeamSync.
func coursesListLong() string {
	var b strings.Builder
	b.WriteString("List the organisation's courses with what the next sync does with each:\n\n")
	const textWidth, whenWidth = 38, 38
	for _, t := range reconcile.NextSyncTexts() {
		line := fmt.Sprintf("  %-*s", textWidth, t.Text)
		for _, w := range strings.Fields(t.When) {
			if len(line) > 2+textWidth && len(line)+1+len(w) > 2+textWidth+whenWidth {
				b.WriteString(line + "\n")
				line = strings.Repeat(" ", 2+textWidth)
			}
			if len(line) > 2+textWidth {
				line += " "
			}
			line += w
		}
		b.WriteString(line + "\n")
	}
	b.WriteString(`
Columns: id, code, name, enabled (yes, "elentra" for Elentra's course switch,
"all" for sync.all_active_courses, or no), state (the tool's record: none, group_intent, group, team, archived,
failed), Team (its group id, shortened) and the next sync. Courses the tool
has a Team for that Elentra no longer has are listed too.
--output json prints a JSON array with every field in full.`)
	return b.String()
}

func newCoursesCmd(f *Factory) *cobra.Command {
	c := &cobra.Command{
		Use:   "courses",
		Short: "List courses and switch their Teams sync on or off",
		Long:  coursesLong,
		Example: `  elentra-teams courses list
  elentra-teams courses enable 101 102`,
		Args: cobra.NoArgs,
	}
	c.AddCommand(newCoursesListCmd(f, nil), newCoursesEnableCmd(f, nil), newCoursesDisableCmd(f, nil))
	return c
}

// coursesListOptions are courses list's flags.
type coursesListOptions struct {
	f *Factory

	enabledOnly bool
}

func newCoursesListCmd(f *Factory, runF func(*coursesListOptions) error) *cobra.Command {
	o := &coursesListOptions{f: f}
	c := &cobra.Command{Use: "list", Short: "List courses with what a sync would do with each", Long: coursesListLong(), Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(o)
			}
			return coursesListRun(cmd.Context(), o)
		},
		Example: "  elentra-teams courses list --output json\n  elentra-teams courses list --enabled"}
	c.Flags().BoolVar(&o.enabledOnly, "enabled", false, "only the courses a sync covers")
	return c
}

func newCoursesEnableCmd(f *Factory, runF func(*switchOptions) error) *cobra.Command {
	return switchCommand(f, runF, &cobra.Command{Use: "enable ID...", Short: "Give these courses a Team", Args: cobra.MinimumNArgs(1),
		Long: `Switch courses on: the next sync gives each a Team (while it is active in a
current curriculum period). A course already on is left as it is. With
--dry-run, say what would change and change nothing.`,
		Example: "  elentra-teams courses enable 101 102"}, "course", true)
}

func newCoursesDisableCmd(f *Factory, runF func(*switchOptions) error) *cobra.Command {
	return switchCommand(f, runF, &cobra.Command{Use: "disable ID...", Short: "Stop syncing these courses (course_end policy applies)", Args: cobra.MinimumNArgs(1),
		Long: `Switch courses off, also against Elentra's course switch and
sync.all_active_courses. Their Team is not
deleted: with sync.course_end archive the next sync archives it, with keep
(the default) it stays as it is and is no longer updated. With --dry-run,
say what would change and change nothing.`,
		Example: "  elentra-teams courses disable 101"}, "course", false)
}

func coursesListRun(ctx context.Context, o *coursesListOptions) error {
	f, enabledOnly := o.f, o.enabledOnly
	cfg, err := f.Config(needsDB)
	if err != nil {
		return err
	}
	st, err := f.Store(ctx, cfg)
	if err != nil {
		return err
	}
	lines, err := st.ListCourses(ctx, store.SyncRulesOf(cfg), store.CourseListOptions{EnabledOnly: enabledOnly}, f.Now())
	if err != nil {
		return idsError(err)
	}
	rows := make([][]string, 0, len(lines))
	for _, l := range lines {
		enabled := enabledBy(l.Enabled, l.EnabledBy)
		team := ""
		if l.GroupID != "" {
			team = text.Shorten(l.GroupID, 9)
		}
		rows = append(rows, []string{fmt.Sprint(l.ID), l.Code, text.Shorten(l.Name, 40), enabled, string(l.State), team, l.Sync})
	}
	none := "no courses in organisation " + fmt.Sprint(cfg.Elentra.OrganisationID)
	if enabledOnly {
		none = "no course is enabled: switch one on with 'elentra-teams courses enable ID'"
	}
	return writeList(f, lines, []string{"ID", "CODE", "NAME", "ENABLED", "STATE", "TEAM", "NEXT SYNC"}, rows, none)
}

// enabledBy is the ENABLED column of courses list and events list: yes for
// the tool's switch, elentra for Elentra's, all for the sync.all_* policy.
func enabledBy(enabled bool, by string) string {
	switch {
	case !enabled:
		return "no"
	case by == store.ByTool:
		return "yes"
	case by == store.ByElentra:
		return "elentra"
	}
	return "all"
}

// switchOptions are what courses and events enable and disable switch: the
// ids of their arguments, parsed.
type switchOptions struct {
	f *Factory

	kind   string // course or event
	on     bool
	ids    []int
	dryRun bool
}

// switchCommand gives an enable or disable command c its RunE: every
// argument is parsed as an id of kind before anything is read, then runF
// (tests) or switchRun runs.
func switchCommand(f *Factory, runF func(*switchOptions) error, c *cobra.Command, kind string, on bool) *cobra.Command {
	o := &switchOptions{f: f, kind: kind, on: on}
	c.RunE = func(cmd *cobra.Command, args []string) error {
		ids, err := parseIDs(kind, args)
		if err != nil {
			return err
		}
		o.ids, o.dryRun = ids, f.DryRun()
		if runF != nil {
			return runF(o)
		}
		return switchRun(cmd.Context(), o)
	}
	return c
}

// switchRun enables or disables courses or events: every id is checked
// before anything is written.
func switchRun(ctx context.Context, o *switchOptions) error {
	f, kind, ids, on := o.f, o.kind, o.ids, o.on
	cfg, err := f.Config(needsDB)
	if err != nil {
		return err
	}
	st, err := f.Store(ctx, cfg)
	if err != nil {
		return err
	}
	rules := store.SyncRulesOf(cfg)
	var plan *store.SwitchPlan
	if kind == "course" {
		plan, err = st.PlanCourseSwitch(ctx, rules, ids, on, f.Now())
	} else {
		plan, err = st.PlanEventSwitch(ctx, rules, ids, on, f.Now())
	}
	if err != nil {
		return idsError(err)
	}
	if !o.dryRun {
		if err := st.ApplySwitch(ctx, plan, f.Now()); err != nil {
			return err
		}
	}
	if f.JSON() {
		return writeJSON(f, struct {
			DryRun bool `json:"dry_run"`
			*store.SwitchPlan
		}{o.dryRun, plan})
	}
	verb := "disabled"
	if on {
		verb = "enabled"
	}
	for _, it := range plan.Items {
		var line string
		switch {
		case !it.Change:
			line = fmt.Sprintf("%s: already %s", it.Label, verb)
		case o.dryRun:
			line = fmt.Sprintf("%s: would be %s", it.Label, verb)
		default:
			line = fmt.Sprintf("%s: %s", it.Label, verb)
		}
		if it.Next != "" {
			line += " (next sync: " + strings.TrimSuffix(it.Next, " at next sync") + ")"
		}
		fmt.Fprintln(f.IO.Out, line)
	}
	return nil
}
