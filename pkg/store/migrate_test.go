package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/elentra-teams/elentra-teams/pkg/elentra"
	"github.com/elentra-teams/elentra-teams/pkg/elentra/elentratest"
	"github.com/elentra-teams/elentra-teams/pkg/store"
)

var wantTables = []string{
	"msteams_schema_version", "msteams_courses", "msteams_memberships", "msteams_events",
	"msteams_users", "msteams_tokens", "msteams_runs", "msteams_installation", "msteams_set_aside",
}

func TestMigrateCreatesTablesOnceAndIsIdempotent(t *testing.T) {
	ctx := context.Background()
	tdb := elentratest.New(t)
	now := time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)

	all, err := store.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	pending, err := store.Pending(ctx, tdb.DB)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != len(all) || len(all) == 0 {
		t.Fatalf("on a fresh database Pending = %d migrations, want all %d", len(pending), len(all))
	}

	applied, err := store.MigrateAt(ctx, tdb.DB, now)
	if err != nil {
		t.Fatalf("first Migrate: %v", err)
	}
	if len(applied) != len(all) {
		t.Errorf("first Migrate applied %d migrations, want %d", len(applied), len(all))
	}
	for _, table := range wantTables {
		ok, err := tdb.DB.HasTable(ctx, tdb.Name, table)
		if err != nil || !ok {
			t.Errorf("table %s after Migrate: exists=%v err=%v", table, ok, err)
		}
	}

	again, err := store.Migrate(ctx, tdb.DB)
	if err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	if len(again) != 0 {
		t.Errorf("second Migrate applied %d migrations, want 0", len(again))
	}
	plan, err := store.PlanMigrations(ctx, tdb.DB)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan) != 0 {
		t.Errorf("PlanMigrations after Migrate = %q, want nothing", plan)
	}

	var rows []struct {
		Version     int       `db:"version"`
		Description string    `db:"description"`
		AppliedAt   time.Time `db:"applied_at"`
	}
	if err := tdb.Root.Select(&rows, "SELECT version, description, applied_at FROM msteams_schema_version ORDER BY version"); err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(all) {
		t.Fatalf("msteams_schema_version has %d rows, want %d (each migration recorded once)", len(rows), len(all))
	}
	if rows[0].Version != 1 || rows[0].Description != "init" || !rows[0].AppliedAt.Equal(now) {
		t.Errorf("first record = %+v, want version 1, init, applied at %v", rows[0], now)
	}
}

func TestPlanMigrationsListsStatementsWithoutRunningThem(t *testing.T) {
	ctx := context.Background()
	tdb := elentratest.New(t)
	plan, err := store.PlanMigrations(ctx, tdb.DB)
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(plan, "\n")
	for _, table := range wantTables {
		if !strings.Contains(joined, "`"+tdb.Name+"`.`"+table+"`") {
			t.Errorf("plan does not create %s.%s:\n%s", tdb.Name, table, joined)
		}
	}
	if !strings.Contains(joined, "INSERT INTO `"+tdb.Name+"`.`msteams_schema_version`") {
		t.Errorf("plan does not record the migration")
	}
	ok, err := tdb.DB.HasTable(ctx, tdb.Name, "msteams_courses")
	if err != nil || ok {
		t.Errorf("PlanMigrations created msteams_courses (exists=%v, err=%v)", ok, err)
	}
}

func TestMigrateResumesAMigrationCutShort(t *testing.T) {
	ctx := context.Background()
	tdb := elentratest.New(t)
	// A crash after the first statements of 0001 and before its record: the
	// tables exist but the version does not.
	all, err := store.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range all[0].Statements[:2] {
		tdb.Exec(t, s)
	}
	applied, err := store.Migrate(ctx, tdb.DB)
	if err != nil {
		t.Fatalf("Migrate after a partial migration: %v", err)
	}
	if len(applied) != len(all) {
		t.Errorf("applied %d, want %d", len(applied), len(all))
	}
	ok, err := tdb.DB.HasTable(ctx, tdb.Name, "msteams_runs")
	if err != nil || !ok {
		t.Errorf("msteams_runs missing after resume (err=%v)", err)
	}
}

func TestConcurrentMigrateAppliesEachMigrationOnce(t *testing.T) {
	ctx := context.Background()
	tdb := elentratest.New(t)
	other, err := elentra.Open(ctx, tdb.Config)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = other.Close() }()
	results := make(chan int, 2)
	errs := make(chan error, 2)
	for _, db := range []*elentra.DB{tdb.DB, other} {
		go func() {
			applied, err := store.Migrate(ctx, db)
			errs <- err
			results <- len(applied)
		}()
	}
	total := 0
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("Migrate: %v", err)
		}
		total += <-results
	}
	all, _ := store.Migrations()
	if total != len(all) {
		t.Errorf("two concurrent Migrates applied %d migrations in all, want %d", total, len(all))
	}
}

func TestLockNameIncludesDatabaseAndFitsMySQL(t *testing.T) {
	if a, b := store.LockName("entrada", "sync"), store.LockName("entrada_staging", "sync"); a == b {
		t.Errorf("staging and production share lock name %q", a)
	}
	long := strings.Repeat("x", 64)
	if n := store.LockName(long, "sync"); len(n) > 64 {
		t.Errorf("LockName of a 64-character database is %d characters, MySQL allows 64", len(n))
	}
	if store.LockName(long, "sync") == store.LockName(strings.Repeat("y", 64), "sync") {
		t.Errorf("hashed lock names of different databases collide")
	}
}

// A migration that adds columns, cut short after some of them (MySQL has no
// ADD COLUMN IF NOT EXISTS): run again, the columns already there count as
// done, and the installation is made once at the end.
func TestMigrateResumesAnAlterCutShort(t *testing.T) {
	ctx := context.Background()
	tdb := elentratest.New(t)
	all, err := store.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var alters int
	for _, m := range all {
		for _, s := range m.Statements {
			if strings.HasPrefix(strings.TrimSpace(s), "ALTER TABLE") {
				alters++
			}
		}
	}
	if alters == 0 {
		t.Skip("no migration alters a table")
	}
	// every statement of every migration but the last one's last, as a
	// crash before the records leaves them
	for i, m := range all {
		stmts := m.Statements
		if i == len(all)-1 {
			stmts = stmts[:len(stmts)-1]
		}
		for _, s := range stmts {
			tdb.Exec(t, s)
		}
	}
	if _, err := store.Migrate(ctx, tdb.DB); err != nil {
		t.Fatalf("Migrate after a cut-short migration: %v", err)
	}
	inst, err := store.ReadInstallation(ctx, tdb.DB)
	if err != nil || inst == nil {
		t.Fatalf("no installation after Migrate: %v", err)
	}
	again, err := store.Migrate(ctx, tdb.DB)
	if err != nil || len(again) != 0 {
		t.Fatalf("a second Migrate: %d applied, %v", len(again), err)
	}
	if after, _ := store.ReadInstallation(ctx, tdb.DB); after.ID != inst.ID {
		t.Errorf("a second Migrate changed the installation %s to %s", inst.ID, after.ID)
	}
}
