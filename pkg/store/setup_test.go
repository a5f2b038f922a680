package store_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/elentra-teams/elentra-teams/pkg/elentra/elentratest"
	"github.com/elentra-teams/elentra-teams/pkg/store"
)

func TestInlineWritesArgumentsAsLiterals(t *testing.T) {
	at := time.Date(2026, 9, 1, 8, 30, 0, 0, time.UTC)
	tests := []struct {
		name  string
		query string
		args  []any
		want  string
	}{
		{"ints and strings", "UPDATE t SET v = ? WHERE id = ?", []any{"x", 3}, "UPDATE t SET v = 'x' WHERE id = 3"},
		{"quotes and backslashes are escaped", "SELECT ?", []any{`O'Brien \ "Zoë"`}, `SELECT 'O\'Brien \\ \"Zoë\"'`},
		{"newline and NUL", "SELECT ?", []any{"a\nb\x00"}, `SELECT 'a\nb\0'`},
		{"NULL, bool, int64, time, bytes", "VALUES (?, ?, ?, ?, ?)", []any{nil, true, int64(-7), at, []byte{0xca, 0xfe}},
			"VALUES (NULL, 1, -7, '2026-09-01 08:30:00', X'cafe')"},
		{"a ? inside quotes or backquotes is not a placeholder", "SELECT '?', `a?`, \"?\", ? FROM t", []any{5}, "SELECT '?', `a?`, \"?\", 5 FROM t"},
		{"an escaped quote does not end the literal", `SELECT 'it\'s ?', ?`, []any{1}, `SELECT 'it\'s ?', 1`},
		{"missing arguments leave the placeholder", "SELECT ?, ?", []any{1}, "SELECT 1, ?"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := store.Inline(tc.query, tc.args); got != tc.want {
				t.Errorf("Inline(%q, %v)\n got %s\nwant %s", tc.query, tc.args, got, tc.want)
			}
		})
	}
}

func TestMenuEntries(t *testing.T) {
	for _, tc := range []struct {
		value   string
		has     bool
		appends string
	}{
		{"dashboard,courses", false, "dashboard,courses,microsoft"},
		{"dashboard,courses,", false, "dashboard,courses,microsoft"},
		{"", false, "microsoft"},
		{" , ", false, "microsoft"},
		{"dashboard, Microsoft ,courses", true, ""},
		{"microsoftx,courses", false, "microsoftx,courses,microsoft"},
	} {
		if got := store.MenuHasEntry(tc.value, store.MenuEntry); got != tc.has {
			t.Errorf("MenuHasEntry(%q) = %v, want %v", tc.value, got, tc.has)
		}
		if tc.has {
			continue
		}
		if got := store.AppendMenuEntry(tc.value, store.MenuEntry); got != tc.appends {
			t.Errorf("AppendMenuEntry(%q) = %q, want %q", tc.value, got, tc.appends)
		}
	}
}

type settingRow struct {
	ID    int    `db:"setting_id"`
	Name  string `db:"shortname"`
	Org   *int   `db:"organisation_id"`
	Value string `db:"value"`
}

func settingsOf(t *testing.T, tdb *elentratest.TestDB) map[int]settingRow {
	t.Helper()
	var rows []settingRow
	if err := tdb.Root.Select(&rows, "SELECT setting_id, shortname, organisation_id, value FROM settings"); err != nil {
		t.Fatal(err)
	}
	out := map[int]settingRow{}
	for _, r := range rows {
		out[r.ID] = r
	}
	return out
}

func TestSetupOnAFreshDatabasePlansEverythingAndAppliesItOnce(t *testing.T) {
	ctx := context.Background()
	tdb := elentratest.New(t)
	opts := store.SetupOptions{OrganisationID: 1}
	now := time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)

	plan, err := store.PlanSetup(ctx, tdb.DB, opts)
	if err != nil {
		t.Fatal(err)
	}
	var migrations, others []store.Statement
	for _, s := range plan.Statements {
		if s.Migration {
			migrations = append(migrations, s)
		} else {
			others = append(others, s)
		}
	}
	want, err := store.PlanMigrations(ctx, tdb.DB)
	if err != nil {
		t.Fatal(err)
	}
	if len(migrations) != len(want) {
		t.Errorf("plan has %d migration statements, PlanMigrations %d", len(migrations), len(want))
	}
	if len(others) != 2 || !strings.Contains(others[0].Display(), "'microsoft_teams_enabled', NULL, '1'") ||
		!strings.Contains(others[1].Display(), "'personal_meeting_window_minutes', NULL, '10'") {
		t.Errorf("setting statements = %q, want the two global inserts", summaries(others))
	}
	if len(plan.Notes) != 0 {
		t.Errorf("notes on a fresh database: %q", plan.Notes)
	}
	if n := len(settingsOf(t, tdb)); n != 0 {
		t.Errorf("PlanSetup wrote %d settings", n)
	}

	done, err := store.ApplySetup(ctx, tdb.DB, opts, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(done.Statements) != len(plan.Statements) {
		t.Errorf("applied %d statements, planned %d", len(done.Statements), len(plan.Statements))
	}
	got := settingsOf(t, tdb)
	if len(got) != 2 {
		t.Fatalf("settings after setup = %+v, want two rows", got)
	}
	for _, r := range got {
		if r.Org != nil {
			t.Errorf("setting %s inserted for organisation %d, want a global row", r.Name, *r.Org)
		}
	}

	again, err := store.ApplySetup(ctx, tdb.DB, opts, now)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Empty() {
		t.Errorf("second setup applied %q", again.Summary())
	}
	if n := len(settingsOf(t, tdb)); n != 2 {
		t.Errorf("second setup left %d settings, want 2", n)
	}
}

func summaries(ss []store.Statement) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.Display())
	}
	return out
}

func TestSetupChangesTeamsEnabledOnlyWithEnableAndOnlyWhereItGoverns(t *testing.T) {
	ctx := context.Background()
	tdb := migrated(t)
	// A global row of 1 for every organisation, and organisation 1's own 0:
	// the organisation's row is the one Elentra reads for it.
	tdb.Exec(t, "INSERT INTO settings (setting_id, shortname, organisation_id, value) VALUES (1, 'microsoft_teams_enabled', NULL, '1'), (2, 'microsoft_teams_enabled', 1, '0'), (3, 'personal_meeting_window_minutes', NULL, '5')")
	now := time.Now()

	done, err := store.ApplySetup(ctx, tdb.DB, store.SetupOptions{OrganisationID: 1}, now)
	if err != nil {
		t.Fatal(err)
	}
	if !done.Empty() {
		t.Errorf("without --enable setup applied %q", done.Summary())
	}
	if len(done.Notes) != 1 || !strings.Contains(done.Notes[0], `microsoft_teams_enabled is "0" (setting_id 2, organisation 1)`) {
		t.Errorf("notes = %q, want one naming setting 2", done.Notes)
	}
	if v := settingsOf(t, tdb)[2].Value; v != "0" {
		t.Errorf("without --enable the value became %q", v)
	}

	// Organisation 2 reads the global row, which is 1: nothing to say.
	other, err := store.PlanSetup(ctx, tdb.DB, store.SetupOptions{OrganisationID: 2, Enable: true})
	if err != nil {
		t.Fatal(err)
	}
	if !other.Empty() || len(other.Notes) != 0 {
		t.Errorf("organisation 2: statements %q, notes %q; want none", other.Summary(), other.Notes)
	}

	done, err = store.ApplySetup(ctx, tdb.DB, store.SetupOptions{OrganisationID: 1, Enable: true}, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(done.Statements) != 1 {
		t.Fatalf("with --enable applied %q, want one update", done.Summary())
	}
	got := settingsOf(t, tdb)
	if got[2].Value != "1" || got[1].Value != "1" || got[3].Value != "5" {
		t.Errorf("after --enable settings = %+v; want row 2 set to 1, the meeting window kept at 5", got)
	}
}

func TestSetupMenuAppendsOnceToTheRowsElentraReads(t *testing.T) {
	ctx := context.Background()
	tdb := migrated(t)
	tdb.Exec(t, "INSERT INTO settings (setting_id, shortname, organisation_id, value) VALUES (1, 'microsoft_teams_enabled', NULL, '1'), (2, 'personal_meeting_window_minutes', NULL, '10')")
	opts := store.SetupOptions{OrganisationID: 1, Menu: true}
	now := time.Now()

	plan, err := store.PlanSetup(ctx, tdb.DB, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !plan.Empty() || len(plan.Notes) != 1 || !strings.Contains(plan.Notes[0], "no user_menu_ordering setting for organisation 1") {
		t.Errorf("without a menu row: statements %q, notes %q; want only a note", plan.Summary(), plan.Notes)
	}

	// Two rows for organisation 1 (the table has no unique key) and a global
	// one that other organisations read.
	tdb.Exec(t, "INSERT INTO settings (setting_id, shortname, organisation_id, value) VALUES (3, 'user_menu_ordering', NULL, 'dashboard'), (4, 'user_menu_ordering', 1, 'dashboard,courses'), (5, 'user_menu_ordering', 1, 'courses,')")
	if _, err := store.ApplySetup(ctx, tdb.DB, opts, now); err != nil {
		t.Fatal(err)
	}
	if _, err := store.ApplySetup(ctx, tdb.DB, opts, now); err != nil {
		t.Fatal(err)
	}
	got := settingsOf(t, tdb)
	for id, want := range map[int]string{3: "dashboard", 4: "dashboard,courses,microsoft", 5: "courses,microsoft"} {
		if got[id].Value != want {
			t.Errorf("setting %d = %q, want %q", id, got[id].Value, want)
		}
	}
}

func TestSetupTakeoverDeactivatesOnlyActiveMicrosoftJobs(t *testing.T) {
	ctx := context.Background()
	tdb := migrated(t)
	tdb.Exec(t, "INSERT INTO settings (shortname, organisation_id, value) VALUES ('microsoft_teams_enabled', NULL, '1'), ('personal_meeting_window_minutes', NULL, '10')")
	tdb.Exec(t, `INSERT INTO cron (id, command, active) VALUES
		(1, 'php artisan microsoft:sync-users', 1), (2, 'php artisan microsoft:sync-teams', 1),
		(3, 'php artisan microsoft:sync-events', 0), (4, 'php artisan queue:work', 1)`)
	now := time.Now()
	active := func() map[int]int {
		var rows []struct {
			ID     int `db:"id"`
			Active int `db:"active"`
		}
		if err := tdb.Root.Select(&rows, "SELECT id, active FROM cron"); err != nil {
			t.Fatal(err)
		}
		out := map[int]int{}
		for _, r := range rows {
			out[r.ID] = r.Active
		}
		return out
	}

	done, err := store.ApplySetup(ctx, tdb.DB, store.SetupOptions{OrganisationID: 1}, now)
	if err != nil {
		t.Fatal(err)
	}
	if !done.Empty() || len(done.Notes) != 1 || !strings.Contains(done.Notes[0], "(id 1, 2)") {
		t.Errorf("without --takeover: statements %q, notes %q; want a note naming jobs 1 and 2", done.Summary(), done.Notes)
	}
	if a := active(); a[1] != 1 || a[2] != 1 {
		t.Errorf("without --takeover cron became %v", a)
	}

	if _, err := store.ApplySetup(ctx, tdb.DB, store.SetupOptions{OrganisationID: 1, Takeover: true}, now); err != nil {
		t.Fatal(err)
	}
	if a := active(); a[1] != 0 || a[2] != 0 || a[3] != 0 || a[4] != 1 || len(a) != 4 {
		t.Errorf("after --takeover cron = %v, want 1 to 3 inactive, 4 active, no row added", a)
	}

	// A table without an id column: the rows are switched off by their
	// command, still only the active ones that name a Microsoft job.
	tdb.Exec(t, "ALTER TABLE cron DROP COLUMN id")
	tdb.Exec(t, `INSERT INTO cron (command, active) VALUES ('php artisan Teams:sync', 1), ('php artisan schedule:run', 1)`)
	plan, err := store.PlanSetup(ctx, tdb.DB, store.SetupOptions{OrganisationID: 1, Takeover: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := plan.Summary(); len(got) != 1 || got[0] != "deactivate Elentra's own Microsoft jobs in its cron table (1 row)" ||
		len(plan.Statements[0].Rows) != 1 || !strings.Contains(plan.Statements[0].Rows[0], "php artisan Teams:sync") {
		t.Errorf("without an id column: %q, statements %+v", got, plan.Statements)
	}
	if _, err := store.ApplySetup(ctx, tdb.DB, store.SetupOptions{OrganisationID: 1, Takeover: true}, now); err != nil {
		t.Fatal(err)
	}
	var left []string
	if err := tdb.Root.Select(&left, "SELECT command FROM cron WHERE active <> 0 ORDER BY command"); err != nil {
		t.Fatal(err)
	}
	if want := []string{"php artisan queue:work", "php artisan schedule:run"}; !slices.Equal(left, want) {
		t.Errorf("active after --takeover without an id column: %q, want %q", left, want)
	}

	tdb.Exec(t, "DROP TABLE cron")
	plan, err = store.PlanSetup(ctx, tdb.DB, store.SetupOptions{OrganisationID: 1, Takeover: true})
	if err != nil {
		t.Fatal(err)
	}
	if !plan.Empty() || len(plan.Notes) != 1 || !strings.Contains(plan.Notes[0], "no cron table") {
		t.Errorf("without a cron table: statements %q, notes %q", plan.Summary(), plan.Notes)
	}
}
