package store

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/elentra-teams/elentra-teams/pkg/elentra"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// VersionTable records which migrations ran.
const VersionTable = "msteams_schema_version"

// Migration is one embedded migration file, NNNN_description.sql.
type Migration struct {
	Version     int
	Description string
	// Statements are run in order. Each is idempotent (CREATE TABLE IF NOT
	// EXISTS, …): MySQL commits DDL at once, so a migration cut short by a
	// crash is simply run again.
	Statements []string
}

// Migrations returns the embedded migrations in version order.
func Migrations() ([]Migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var out []Migration
	seen := map[int]string{}
	for _, e := range entries {
		name := e.Name()
		num, desc, ok := strings.Cut(strings.TrimSuffix(name, ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v < 1 || !strings.HasSuffix(name, ".sql") {
			return nil, fmt.Errorf("migration file %s is not named NNNN_description.sql", name)
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %s and %s share version %d", prev, name, v)
		}
		seen[v] = name
		b, err := migrationFiles.ReadFile(path.Join("migrations", name))
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Description: strings.ReplaceAll(desc, "_", " "), Statements: splitSQL(string(b))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

func versionTableDDL(db *elentra.DB) string {
	return `CREATE TABLE IF NOT EXISTS ` + db.Table(VersionTable) + ` (
  version int NOT NULL,
  description varchar(255) NOT NULL,
  applied_at datetime NOT NULL,
  PRIMARY KEY (version)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`
}

// Pending returns the migrations not yet recorded as applied, in order.
func Pending(ctx context.Context, db *elentra.DB) ([]Migration, error) {
	all, err := Migrations()
	if err != nil {
		return nil, err
	}
	ok, err := db.HasTable(ctx, db.Name(), VersionTable)
	if err != nil {
		return nil, err
	}
	if !ok {
		return all, nil
	}
	var applied []int
	if err := db.Select(ctx, &applied, `SELECT version FROM `+db.Table(VersionTable)); err != nil {
		return nil, fmt.Errorf("read applied migrations: %w", err)
	}
	done := map[int]bool{}
	for _, v := range applied {
		done[v] = true
	}
	var out []Migration
	for _, m := range all {
		if !done[m.Version] {
			out = append(out, m)
		}
	}
	return out, nil
}

// PlanMigrations returns the statements Migrate would run now, for
// `setup --dry-run`; none when the schema is current. Table names are
// qualified with the schema as they will run.
func PlanMigrations(ctx context.Context, db *elentra.DB) ([]string, error) {
	statements, err := planMigrations(ctx, db)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(statements))
	for _, s := range statements {
		out = append(out, s.Display())
	}
	return out, nil
}

// Migrate applies the pending migrations in order and returns them. Each is
// recorded in msteams_schema_version only after all its statements
// succeeded; a second call applies nothing. Concurrent runs (two `setup`s)
// are serialised by a named lock.
func Migrate(ctx context.Context, db *elentra.DB) (applied []Migration, err error) {
	return MigrateAt(ctx, db, time.Now())
}

// MigrateAt is Migrate recording now as the time each migration was applied.
func MigrateAt(ctx context.Context, db *elentra.DB, now time.Time) (applied []Migration, err error) {
	unlock, err := lock(ctx, db, "migrate")
	if err != nil {
		return nil, err
	}
	defer unlock()

	if _, err := db.Exec(ctx, versionTableDDL(db)); err != nil {
		return nil, fmt.Errorf("create %s: %w", VersionTable, err)
	}
	pending, err := Pending(ctx, db)
	if err != nil {
		return nil, err
	}
	for _, m := range pending {
		for i, s := range m.Statements {
			// A column or index that exists already was added by this
			// migration before a crash cut it short: MySQL has no ADD
			// COLUMN IF NOT EXISTS (MariaDB has), so that error is the
			// "already done".
			if _, err := db.Exec(ctx, qualifyDDL(db, s)); err != nil && !elentra.IsAlreadyThere(err) {
				return applied, fmt.Errorf("migration %04d %s, statement %d: %w", m.Version, m.Description, i+1, err)
			}
		}
		if _, err := db.Exec(ctx, `INSERT INTO `+db.Table(VersionTable)+` (version, description, applied_at) VALUES (?, ?, ?)`,
			m.Version, m.Description, now.UTC().Truncate(time.Second)); err != nil {
			return applied, fmt.Errorf("record migration %04d: %w", m.Version, err)
		}
		applied = append(applied, m)
	}
	if _, err := ensureInstallation(ctx, db, now); err != nil {
		return applied, err
	}
	return applied, nil
}

// tableRefRE finds a bare `msteams_…` table name where SQL names a table
// (not an index of the same prefix).
var tableRefRE = regexp.MustCompile("(?i)((?:TABLE(?: IF (?:NOT )?EXISTS)?|INTO|UPDATE|FROM|JOIN|REFERENCES)\\s+)`(msteams_[A-Za-z0-9_]+)`")

// qualifyDDL names the main schema in a migration's table names: migrations
// are written with bare `msteams_…` names, and the connection's default
// database is not relied on.
func qualifyDDL(db *elentra.DB, stmt string) string {
	return tableRefRE.ReplaceAllString(stmt, "${1}`"+db.Name()+"`.`${2}`")
}

// lock takes a MySQL named lock on a dedicated connection (named locks belong
// to a connection), waiting up to a minute, and returns its release.
func lock(ctx context.Context, db *elentra.DB, purpose string) (func(), error) {
	name := LockName(db.Name(), purpose)
	conn, err := db.SQLX().Connx(ctx)
	if err != nil {
		return nil, fmt.Errorf("take lock %s: %w", name, err)
	}
	var got *int
	if err := conn.GetContext(ctx, &got, `SELECT GET_LOCK(?, 60)`, name); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("take lock %s: %w", name, err)
	}
	if got == nil || *got != 1 {
		_ = conn.Close()
		return nil, fmt.Errorf("take lock %s: another elentra-teams run held it for a minute", name)
	}
	return func() {
		// A fresh context: the lock must be released even when ctx was
		// cancelled; closing the connection releases it in any case.
		_, _ = conn.ExecContext(context.Background(), `SELECT RELEASE_LOCK(?)`, name)
		_ = conn.Close()
	}, nil
}

// LockName is the named-lock name for a purpose in a database: it includes
// the database name, so that staging and production on one server do not
// block each other, and is hashed when longer than MySQL's 64 characters.
func LockName(database, purpose string) string {
	name := "elentra-teams:" + purpose + ":" + database
	if len(name) <= 64 {
		return name
	}
	sum := sha256.Sum256([]byte(database))
	return "elentra-teams:" + purpose + ":" + hex.EncodeToString(sum[:])[:32]
}

// splitSQL cuts a migration file into statements at a ";" ending a line,
// dropping "--" comment lines. Migration files hold no ";" in literals.
func splitSQL(text string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(text, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		cur.WriteString(line + "\n")
		if strings.HasSuffix(t, ";") {
			out = append(out, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}
