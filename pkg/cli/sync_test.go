package cli

import (
	"testing"
)

// syncParsed is what a sync command's flags became, to compare.
type syncParsed struct {
	Command                              string
	Steps                                []string
	Courses, Events                      []int
	Force, Quiet, All, AllowLong, DryRun bool
}

func viewSync(o *syncOptions) any {
	p := syncParsed{Command: o.command, Courses: o.courses, Events: o.events,
		Force: o.force, Quiet: o.quiet, All: o.all, AllowLong: o.allowLong, DryRun: o.dryRun}
	for _, s := range o.steps {
		p.Steps = append(p.Steps, s.Name)
	}
	return p
}

// The sync commands' flags, and --force's rule: with --course or --event,
// in a dry run, or at a terminal where a person confirms what the guards
// hold; never in cron for the whole school.
func TestSyncFlags(t *testing.T) {
	cron := "give it with --course ID or --event ID"
	t.Run("sync", func(t *testing.T) {
		all := []string{"sync-users", "sync-teams", "sync-members", "sync-events"}
		testFlags(t, "", newSyncCmd, viewSync, []flagCase{
			{args: []string{"sync"}, want: syncParsed{Command: "sync", Steps: all}},
			{args: []string{"sync", "--course", "101", "--course", "102,103", "--event", "5012", "-q"},
				want: syncParsed{Command: "sync", Steps: all, Courses: []int{101, 102, 103}, Events: []int{5012}, Quiet: true}},
			{args: []string{"sync", "--allow-long-events"}, want: syncParsed{Command: "sync", Steps: all, AllowLong: true}},
			{args: []string{"sync", "--force", "--dry-run"}, want: syncParsed{Command: "sync", Steps: all, Force: true, DryRun: true}},
			{args: []string{"--dry-run", "sync", "--force"}, want: syncParsed{Command: "sync", Steps: all, Force: true, DryRun: true}},
			{args: []string{"sync", "--force", "--event", "5012"}, want: syncParsed{Command: "sync", Steps: all, Events: []int{5012}, Force: true}},
			{args: []string{"sync", "--force"}, tty: true, want: syncParsed{Command: "sync", Steps: all, Force: true}},
			{args: []string{"sync", "--force"}, wantErr: errForceTooWide.Error()},
			{args: []string{"sync", "--force", "--quiet"}, wantErr: cron},
			{args: []string{"sync", "--course", "x"}, wantErr: `invalid argument "x" for "--course" flag`},
			{args: []string{"sync", "--all"}, wantErr: "unknown flag: --all"},
			{args: []string{"sync", "101"}, wantErr: `unknown command "101" for "elentra-teams sync"`},
		})
	})
	t.Run("sync-users", func(t *testing.T) {
		users := []string{"sync-users"}
		testFlags(t, "", newSyncUsersCmd, viewSync, []flagCase{
			{args: []string{"sync-users", "--all"}, want: syncParsed{Command: "sync-users", Steps: users, All: true}},
			{args: []string{"sync-users", "--course", "7", "--force"}, want: syncParsed{Command: "sync-users", Steps: users, Courses: []int{7}, Force: true}},
			{args: []string{"sync-users", "--force", "--all"}, wantErr: cron},
			{args: []string{"sync-users", "--event", "5"}, wantErr: "unknown flag: --event"},
			{args: []string{"sync-users", "--allow-long-events"}, wantErr: "unknown flag: --allow-long-events"},
		})
	})
	t.Run("sync-teams", func(t *testing.T) {
		teams := []string{"sync-teams"}
		testFlags(t, "", newSyncTeamsCmd, viewSync, []flagCase{
			{args: []string{"sync-teams", "--course", "7"}, want: syncParsed{Command: "sync-teams", Steps: teams, Courses: []int{7}}},
			{args: []string{"--dry-run", "sync-teams", "--force"}, want: syncParsed{Command: "sync-teams", Steps: teams, Force: true, DryRun: true}},
			{args: []string{"sync-teams", "--force"}, wantErr: cron},
			{args: []string{"sync-teams", "--event", "5"}, wantErr: "unknown flag: --event"},
		})
	})
	t.Run("sync-members", func(t *testing.T) {
		members := []string{"sync-members"}
		testFlags(t, "", newSyncMembersCmd, viewSync, []flagCase{
			{args: []string{"sync-members", "--force", "--course", "101"}, want: syncParsed{Command: "sync-members", Steps: members, Courses: []int{101}, Force: true}},
			{args: []string{"sync-members", "--force"}, tty: true, want: syncParsed{Command: "sync-members", Steps: members, Force: true}},
			{args: []string{"sync-members", "--force", "--quiet"}, wantErr: cron},
			{args: []string{"sync-members", "--all"}, wantErr: "unknown flag: --all"},
		})
	})
	t.Run("sync-events", func(t *testing.T) {
		events := []string{"sync-events"}
		testFlags(t, "", newSyncEventsCmd, viewSync, []flagCase{
			{args: []string{"sync-events", "--allow-long-events", "--event", "5012,5013"},
				want: syncParsed{Command: "sync-events", Steps: events, Events: []int{5012, 5013}, AllowLong: true}},
			{args: []string{"sync-events", "--force", "--event", "5012"}, want: syncParsed{Command: "sync-events", Steps: events, Events: []int{5012}, Force: true}},
			{args: []string{"sync-events", "--force"}, wantErr: cron},
			{args: []string{"sync-events", "5012"}, wantErr: `unknown command "5012" for "elentra-teams sync-events"`},
		})
	})
}
