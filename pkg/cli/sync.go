package cli

import (
	"github.com/spf13/cobra"
)

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
