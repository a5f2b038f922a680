package elentra_test

import (
	"context"
	"slices"
	"testing"

	"github.com/elentra-teams/elentra-teams/pkg/elentra"
	"github.com/elentra-teams/elentra-teams/pkg/elentra/elentratest"
)

// MicrosoftJob is the one rule by which check-config flags a double sync
// and setup --takeover switches jobs off.
func TestMicrosoftJob(t *testing.T) {
	for _, tt := range []struct {
		command string
		want    bool
	}{
		// The guide's four jobs, and how sites write them.
		{"php artisan microsoft:sync-teams", true},
		{"php /var/www/elentra/www-root/artisan microsoft:sync-events", true},
		{"cd /var/www/elentra && php artisan  microsoft:sync-users >/dev/null 2>&1", true},
		{"php artisan Microsoft:Sync-Calendars", true},
		{"PHP ARTISAN MICROSOFT:SYNC-TEAMS", true},
		{"php artisan microsoft", true},
		// Other names of a Microsoft or Teams job, as whole words.
		{"php artisan teams:sync", true},
		{"php artisan sync:teams", true},
		{"php artisan elentra:sync-ms-teams", true},
		{"php artisan msteams:sync", true},
		{"php artisan MSGraph:sync", true},
		{"php artisan ms-graph:sync", true},
		{"php artisan ms_graph:refresh-token", true},
		{"php artisan sync_microsoft_teams", true},
		{"/usr/bin/php /opt/scripts/microsoft.php", true},
		// Unrelated rows.
		{"php artisan queue:work", false},
		{"php artisan schedule:run", false},
		{"php artisan notifications:send", false},
		{"", false},
		// Words that only contain one of the names are not it.
		{"php artisan steams:run", false},
		{"php artisan teamster:sync", false},
		{"php artisan microsofty:sync", false},
		{"php artisan msgraphql:sync", false},
		{"php artisan graph:build", false},
		{"php artisan ms graph", false},
		{"php artisan ms:graph", false},
		// This tool's own name is not Elentra's job; a row that runs
		// Elentra's job beside it still is.
		{"/usr/bin/elentra-teams sync --quiet", false},
		{"/usr/bin/ELENTRA-TEAMS --config /etc/elentra_teams/config.yaml sync", false},
		{"/usr/bin/elentra-teams sync; php artisan microsoft:sync-teams", true},
	} {
		if got := elentra.MicrosoftJob(tt.command); got != tt.want {
			t.Errorf("MicrosoftJob(%q) = %v, want %v", tt.command, got, tt.want)
		}
	}
}

// ElentraCronJobs reads the table once and keeps the rows MicrosoftJob
// matches, active or not, with the table's id column.
func TestElentraCronJobs(t *testing.T) {
	tdb := elentratest.New(t)
	ctx := context.Background()
	tdb.Exec(t, `INSERT INTO cron (id, command, schedule, active) VALUES
		(1, 'php artisan microsoft:sync-teams', '0 0 * * *', 1),
		(2, 'php artisan microsoft:sync-events', '0 0 * * *', 0),
		(3, 'php artisan queue:work', '* * * * *', 1),
		(4, 'php artisan  MICROSOFT:sync-users', '30 1 * * *', 1),
		(5, 'php artisan ms-graph:refresh', '0 * * * *', 2)`)
	got, err := tdb.DB.ElentraCronJobs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []elentra.CronJob{
		{ID: 1, Command: "php artisan microsoft:sync-teams", Schedule: "0 0 * * *", Active: true},
		{ID: 2, Command: "php artisan microsoft:sync-events", Schedule: "0 0 * * *", Active: false},
		{ID: 4, Command: "php artisan  MICROSOFT:sync-users", Schedule: "30 1 * * *", Active: true},
		{ID: 5, Command: "php artisan ms-graph:refresh", Schedule: "0 * * * *", Active: true},
	}
	if got.IDColumn != "id" || !slices.Equal(got.Jobs, want) {
		t.Errorf("ElentraCronJobs = %+v, want id column id and %+v", got, want)
	}
	if a := got.Active(); len(a) != 3 || a[0].ID != 1 || a[1].ID != 4 || a[2].ID != 5 {
		t.Errorf("Active() = %+v, want 1, 4 and 5", a)
	}
	// Elentra's columns are not public: another name of the id column is
	// found, and a table without one still gives its jobs.
	tdb.Exec(t, "ALTER TABLE cron CHANGE id cron_id int(12) unsigned NOT NULL AUTO_INCREMENT")
	if got, err = tdb.DB.ElentraCronJobs(ctx); err != nil || got.IDColumn != "cron_id" || len(got.Jobs) != 4 || got.Jobs[3].ID != 5 {
		t.Errorf("with cron_id: %+v, %v", got, err)
	}
	tdb.Exec(t, "ALTER TABLE cron DROP COLUMN cron_id")
	if got, err = tdb.DB.ElentraCronJobs(ctx); err != nil || got.IDColumn != "" || len(got.Jobs) != 4 {
		t.Errorf("without an id column: %+v, %v", got, err)
	}
	// Elentra before 1.22 has no cron table: no jobs, no error.
	tdb.Exec(t, "DROP TABLE cron")
	got, err = tdb.DB.ElentraCronJobs(ctx)
	if err != nil || len(got.Jobs) != 0 {
		t.Errorf("without a cron table: %v, %v; want none and no error", got, err)
	}
}
