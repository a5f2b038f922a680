package cli

import (
	"github.com/spf13/cobra"

	"github.com/elentra-teams/elentra-teams/pkg/config"
)

// Configuration each kind of command needs (validated before it runs).
const (
	needsDB    = config.NeedDatabase
	needsAuth  = config.NeedDatabase | config.NeedMicrosoft | config.NeedTokenKey | config.NeedTimezone
	needsSync  = config.NeedDatabase | config.NeedMicrosoft | config.NeedTokenKey | config.NeedSync
	needsEvent = needsSync | config.NeedTimezone
)

// syncFlags are the flags of every sync command.
type syncFlags struct {
	courses []int
	events  []int
	force   bool
}

func addSyncFlags(c *cobra.Command, s *syncFlags, withEvents bool) {
	c.Flags().IntSliceVar(&s.courses, "course", nil, "only this course `ID` (repeatable)")
	if withEvents {
		c.Flags().IntSliceVar(&s.events, "event", nil, "only this event `ID` (repeatable)")
	}
	c.Flags().BoolVar(&s.force, "force", false, "apply removals beyond sync.removal_guard_percent")
}

// stub returns a RunE that loads and validates the configuration the command
// needs, then says the command is not there yet.
func stub(f *Factory, needs config.Need) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if _, err := f.Config(needs); err != nil {
			return err
		}
		return errNotImplemented(cmd.CommandPath())
	}
}

func newSyncCmd(f *Factory) *cobra.Command {
	var s syncFlags
	c := &cobra.Command{
		Use:   "sync",
		Short: "Run sync-users, sync-teams, sync-members and sync-events in order, under one lock",
		Long: `Run the whole sync under one lock: users, then Teams, then members, then
meetings. This is what cron runs. A run with nothing to change makes no write.`,
		Example: `  elentra-teams sync --dry-run
  elentra-teams sync
  elentra-teams sync --course 101 --output json`,
		Args: cobra.NoArgs,
		RunE: stub(f, needsEvent),
	}
	addSyncFlags(c, &s, true)
	return c
}

func newSyncUsersCmd(f *Factory) *cobra.Command {
	var s syncFlags
	var all bool
	c := &cobra.Command{
		Use:   "sync-users",
		Short: "Fill in missing Microsoft Object IDs by matching Elentra users to the directory",
		Example: `  elentra-teams sync-users --dry-run
  elentra-teams sync-users --all`,
		Args: cobra.NoArgs,
		RunE: stub(f, needsSync),
	}
	addSyncFlags(c, &s, false)
	c.Flags().BoolVar(&all, "all", false, "match every active user, not only those of enabled courses")
	return c
}

func newSyncTeamsCmd(f *Factory) *cobra.Command {
	var s syncFlags
	c := &cobra.Command{
		Use:   "sync-teams",
		Short: "Create, rename, archive and unarchive one Team per enabled course",
		Example: `  elentra-teams sync-teams --dry-run
  elentra-teams sync-teams --course 101`,
		Args: cobra.NoArgs,
		RunE: stub(f, needsSync),
	}
	addSyncFlags(c, &s, false)
	return c
}

func newSyncMembersCmd(f *Factory) *cobra.Command {
	var s syncFlags
	c := &cobra.Command{
		Use:   "sync-members",
		Short: "Make each Team's owners and members match the course",
		Example: `  elentra-teams sync-members --dry-run
  elentra-teams sync-members --course 101 --force`,
		Args: cobra.NoArgs,
		RunE: stub(f, needsSync),
	}
	addSyncFlags(c, &s, false)
	return c
}

func newSyncEventsCmd(f *Factory) *cobra.Command {
	var s syncFlags
	c := &cobra.Command{
		Use:   "sync-events",
		Short: "Keep a Teams meeting for each enabled learning event, its link on the event page",
		Example: `  elentra-teams sync-events --dry-run
  elentra-teams sync-events --event 5012`,
		Args: cobra.NoArgs,
		RunE: stub(f, needsEvent),
	}
	addSyncFlags(c, &s, true)
	return c
}

func newSetupCmd(f *Factory) *cobra.Command {
	var enable, menu, takeover bool
	c := &cobra.Command{
		Use:   "setup",
		Short: "Create or upgrade the tool's tables and Elentra's Teams settings",
		Example: `  elentra-teams setup --dry-run
  elentra-teams setup --menu --takeover`,
		Args: cobra.NoArgs,
		RunE: stub(f, needsDB),
	}
	c.Flags().BoolVar(&enable, "enable", false, "set microsoft_teams_enabled to 1 even when an admin set another value")
	c.Flags().BoolVar(&menu, "menu", false, "append microsoft to user_menu_ordering (Elentra 1.22's menu entry)")
	c.Flags().BoolVar(&takeover, "takeover", false, "deactivate Elentra's own 'artisan microsoft:' cron jobs")
	return c
}

func newAuthorizeCmd(f *Factory) *cobra.Command {
	var noBrowser, status, force, allowMismatch bool
	var tz string
	c := &cobra.Command{
		Use:   "authorize",
		Short: "Sign in as Elentra's administrator and store the token the syncs use",
		Example: `  # on a server reached over SSH: open the printed URL, paste the address you land on
  elentra-teams authorize --no-browser --timezone America/Toronto
  elentra-teams authorize --status`,
		Args: cobra.NoArgs,
		RunE: stub(f, needsAuth),
	}
	c.Flags().BoolVar(&noBrowser, "no-browser", false, "print the sign-in URL and read the redirected URL from stdin")
	c.Flags().BoolVar(&status, "status", false, "show the stored token's account, scopes and age")
	c.Flags().BoolVar(&force, "force", false, "store a token of an account other than Elentra's administrator")
	c.Flags().StringVar(&tz, "timezone", "", "Outlook time zone `NAME` (IANA), checked against Elentra's")
	c.Flags().BoolVar(&allowMismatch, "allow-timezone-mismatch", false, "accept an Outlook time zone whose offsets differ from Elentra's")
	return c
}

func newCheckConfigCmd(f *Factory) *cobra.Command {
	var online bool
	c := &cobra.Command{
		Use:   "check-config",
		Short: "Check the configuration, database, token and tenant; name the fix for each problem",
		Example: `  elentra-teams check-config
  elentra-teams check-config --online --output json`,
		Args: cobra.NoArgs,
		RunE: stub(f, 0),
	}
	c.Flags().BoolVar(&online, "online", false, "refresh the token for real and call Microsoft Graph")
	return c
}

func newStatusCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show each course's Team and members, each event's meeting, and recent runs",
		Example: `  elentra-teams status
  elentra-teams status --output json`,
		Args: cobra.NoArgs,
		RunE: stub(f, needsDB),
	}
}

func newCoursesCmd(f *Factory) *cobra.Command {
	c := &cobra.Command{
		Use:   "courses",
		Short: "List courses and switch their Teams sync on or off",
		Example: `  elentra-teams courses list
  elentra-teams courses enable 101 102`,
		Args: cobra.NoArgs,
	}
	c.AddCommand(
		&cobra.Command{Use: "list", Short: "List courses with what a sync would do with each", Args: cobra.NoArgs, RunE: stub(f, needsDB),
			Example: "  elentra-teams courses list --output json"},
		&cobra.Command{Use: "enable ID...", Short: "Give these courses a Team", Args: cobra.MinimumNArgs(1), RunE: stub(f, needsDB),
			Example: "  elentra-teams courses enable 101 102"},
		&cobra.Command{Use: "disable ID...", Short: "Stop syncing these courses (course_end policy applies)", Args: cobra.MinimumNArgs(1), RunE: stub(f, needsDB),
			Example: "  elentra-teams courses disable 101"},
	)
	return c
}

func newEventsCmd(f *Factory) *cobra.Command {
	var upcoming bool
	c := &cobra.Command{
		Use:   "events",
		Short: "List learning events and switch their Teams meetings on or off",
		Example: `  elentra-teams events list --upcoming
  elentra-teams events enable 5012`,
		Args: cobra.NoArgs,
	}
	list := &cobra.Command{Use: "list", Short: "List events with their meeting, link and joinable-from time", Args: cobra.NoArgs, RunE: stub(f, needsDB),
		Example: "  elentra-teams events list --upcoming"}
	list.Flags().BoolVar(&upcoming, "upcoming", false, "only events starting within sync.events_horizon")
	c.AddCommand(
		list,
		&cobra.Command{Use: "enable ID...", Short: "Give these events a Teams meeting", Args: cobra.MinimumNArgs(1), RunE: stub(f, needsDB),
			Example: "  elentra-teams events enable 5012 5013"},
		&cobra.Command{Use: "disable ID...", Short: "Cancel these events' meetings at the next sync", Args: cobra.MinimumNArgs(1), RunE: stub(f, needsDB),
			Example: "  elentra-teams events disable 5012"},
	)
	return c
}

func newUsersCmd(f *Factory) *cobra.Command {
	var unmatched bool
	var course int
	c := &cobra.Command{
		Use:   "users",
		Short: "List users' Microsoft Object IDs and link or unlink them by hand",
		Example: `  elentra-teams users list --unmatched
  elentra-teams users link 1234 0f9e8d7c-6b5a-4321-9876-543210fedcba`,
		Args: cobra.NoArgs,
	}
	list := &cobra.Command{Use: "list", Short: "List users of enabled courses with their Object ID and its source", Args: cobra.NoArgs, RunE: stub(f, needsDB),
		Example: "  elentra-teams users list --unmatched --course 101"}
	list.Flags().BoolVar(&unmatched, "unmatched", false, "only users without an Object ID")
	list.Flags().IntVar(&course, "course", 0, "only users of this course `ID`")
	c.AddCommand(
		list,
		&cobra.Command{Use: "link PROXY_ID OBJECT_ID", Short: "Set a user's Object ID by hand (sync-users never overwrites it)", Args: cobra.ExactArgs(2), RunE: stub(f, needsDB),
			Example: "  elentra-teams users link 1234 0f9e8d7c-6b5a-4321-9876-543210fedcba"},
		&cobra.Command{Use: "unlink PROXY_ID", Short: "Remove a hand-set Object ID", Args: cobra.ExactArgs(1), RunE: stub(f, needsDB),
			Example: "  elentra-teams users unlink 1234"},
	)
	return c
}
