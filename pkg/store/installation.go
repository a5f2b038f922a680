package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/elentra-teams/elentra-teams/pkg/elentra"
	"github.com/elentra-teams/elentra-teams/pkg/reconcile"
)

// The tables of the installation and of what a new installation set aside.
const (
	InstallationTable = "msteams_installation"
	SetAsideTable     = "msteams_set_aside"
)

// ServerIdentity is what tells one database, on one server, from another:
// a dump restored elsewhere keeps the data but not these.
type ServerIdentity struct {
	// Database is the schema's name (DATABASE_NAME).
	Database string `json:"database"`
	// UUID is @@server_uuid where the server has one (MySQL; MariaDB has
	// none): made when the server's data directory was, and not in a dump.
	UUID string `json:"server_uuid,omitempty"`
	// Hostname, Port and DataDir are @@hostname, @@port and @@datadir.
	Hostname string `json:"hostname"`
	Port     int    `json:"port"`
	DataDir  string `json:"datadir"`
}

func (s ServerIdentity) String() string {
	out := fmt.Sprintf("database %s on %s:%d", s.Database, orDash(s.Hostname), s.Port)
	var more []string
	if s.DataDir != "" {
		more = append(more, "data directory "+s.DataDir)
	}
	if s.UUID != "" {
		more = append(more, "server uuid "+s.UUID)
	}
	if len(more) > 0 {
		out += " (" + strings.Join(more, ", ") + ")"
	}
	return out
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Differences names what differs between the identity an installation was
// bound to and this one ("port 3306 → 3307"); none when they are the same.
func (s ServerIdentity) Differences(now ServerIdentity) []string {
	var out []string
	diff := func(what, a, b string) {
		if a != b {
			out = append(out, fmt.Sprintf("%s %s → %s", what, orDash(a), orDash(b)))
		}
	}
	diff("database name", s.Database, now.Database)
	diff("server uuid", s.UUID, now.UUID)
	diff("hostname", s.Hostname, now.Hostname)
	diff("port", fmt.Sprint(s.Port), fmt.Sprint(now.Port))
	diff("data directory", s.DataDir, now.DataDir)
	return out
}

// ReadServerIdentity asks the server who it is: two statements.
func ReadServerIdentity(ctx context.Context, db *elentra.DB) (ServerIdentity, error) {
	id := ServerIdentity{Database: db.Name()}
	var row struct {
		Hostname sql.NullString `db:"hostname"`
		Port     sql.NullInt64  `db:"port"`
		DataDir  sql.NullString `db:"datadir"`
	}
	if err := db.Get(ctx, &row, `SELECT @@hostname AS hostname, @@port AS port, @@datadir AS datadir`); err != nil {
		return id, fmt.Errorf("read the database server's identity: %w", err)
	}
	id.Hostname, id.Port, id.DataDir = row.Hostname.String, int(row.Port.Int64), row.DataDir.String
	var vars []struct {
		Name  string `db:"Variable_name"`
		Value string `db:"Value"`
	}
	// SHOW rather than @@server_uuid, which MariaDB refuses as unknown.
	if err := db.Select(ctx, &vars, `SHOW GLOBAL VARIABLES LIKE 'server_uuid'`); err != nil {
		return id, fmt.Errorf("read the database server's uuid: %w", err)
	}
	for _, v := range vars {
		id.UUID = v.Value
	}
	return id, nil
}

// Installation is the row of msteams_installation.
type Installation struct {
	ID string `json:"installation_id"`
	// PreviousID is the installation this one was made from by `setup
	// --new-installation` (the one the database was copied from).
	PreviousID string         `json:"previous_installation_id,omitempty"`
	Server     ServerIdentity `json:"bound_to"`
	CreatedAt  time.Time      `json:"created_at"`
	BoundAt    time.Time      `json:"bound_at"`
}

type installationRow struct {
	ID         string         `db:"installation_id"`
	PreviousID sql.NullString `db:"previous_installation_id"`
	Database   string         `db:"database_name"`
	UUID       sql.NullString `db:"server_uuid"`
	Hostname   sql.NullString `db:"server_hostname"`
	Port       sql.NullInt64  `db:"server_port"`
	DataDir    sql.NullString `db:"server_datadir"`
	CreatedAt  time.Time      `db:"created_at"`
	BoundAt    time.Time      `db:"bound_at"`
}

// ReadInstallation returns the installation, or nil when there is none
// (setup has not run since it came to be).
func ReadInstallation(ctx context.Context, db *elentra.DB) (*Installation, error) {
	var row installationRow
	err := db.Get(ctx, &row, `SELECT installation_id, previous_installation_id, database_name, server_uuid, server_hostname,
		server_port, server_datadir, created_at, bound_at FROM `+db.Table(InstallationTable)+` WHERE id = 1`)
	switch {
	case errors.Is(err, sql.ErrNoRows), elentra.IsNoSuchTable(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("read the installation: %w", err)
	}
	return &Installation{ID: row.ID, PreviousID: row.PreviousID.String, CreatedAt: row.CreatedAt.UTC(), BoundAt: row.BoundAt.UTC(),
		Server: ServerIdentity{Database: row.Database, UUID: row.UUID.String, Hostname: row.Hostname.String, Port: int(row.Port.Int64), DataDir: row.DataDir.String}}, nil
}

// NewInstallationID is a random id of 8 lower-case letters and digits
// (40 bits): short enough for group nicknames, which carry it.
func NewInstallationID() string {
	var b [5]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand: " + err.Error())
	}
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// ensureInstallation makes the installation when there is none, bound to
// this server. What the tool recorded before installations existed (an
// upgrade) becomes this installation's: it made those Teams and meetings.
func ensureInstallation(ctx context.Context, db *elentra.DB, now time.Time) (*Installation, error) {
	inst, err := ReadInstallation(ctx, db)
	if err != nil || inst != nil {
		return inst, err
	}
	here, err := ReadServerIdentity(ctx, db)
	if err != nil {
		return nil, err
	}
	now = now.UTC().Truncate(time.Second)
	inst = &Installation{ID: NewInstallationID(), Server: here, CreatedAt: now, BoundAt: now}
	// INSERT IGNORE: two setups at once keep the first one's id.
	if _, err := db.Exec(ctx, `INSERT IGNORE INTO `+db.Table(InstallationTable)+` (id, installation_id, database_name, server_uuid,
		server_hostname, server_port, server_datadir, created_at, bound_at) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)`,
		inst.ID, here.Database, nullString(here.UUID), nullString(here.Hostname), here.Port, nullString(here.DataDir), now, now); err != nil {
		return nil, fmt.Errorf("create the installation: %w", err)
	}
	if inst, err = ReadInstallation(ctx, db); err != nil || inst == nil {
		return inst, err
	}
	for _, q := range legacyStamps(db, inst.ID) {
		if _, err := db.Exec(ctx, q.SQL, q.Args...); err != nil {
			return nil, fmt.Errorf("mark the existing records as installation %s's: %w", inst.ID, err)
		}
	}
	return inst, nil
}

// legacyStamps give the records made before installations existed to the
// installation: the rows that map a group, a membership or a meeting.
func legacyStamps(db *elentra.DB, id string) []Statement {
	return []Statement{
		{SQL: `UPDATE ` + db.Table(CoursesTable) + ` SET installation_id = ? WHERE installation_id IS NULL AND (group_id IS NOT NULL OR state <> ?)`,
			Args: []any{id, reconcile.StateNone}},
		{SQL: `UPDATE ` + db.Table(MembershipsTable) + ` SET installation_id = ? WHERE installation_id IS NULL`,
			Args: []any{id}},
		{SQL: `UPDATE ` + db.Table(EventsTable) + ` SET installation_id = ? WHERE installation_id IS NULL AND (graph_event_id IS NOT NULL OR state <> ?)`,
			Args: []any{id, reconcile.EventStateNone}},
	}
}

// NoInstallationError: the tables have no installation yet.
type NoInstallationError struct{ Database string }

func (e *NoInstallationError) Error() string {
	return fmt.Sprintf("database %s has no elentra-teams installation id yet; run 'elentra-teams setup'", e.Database)
}

// CopyError: the database is not where its installation was made, or holds
// another installation's records. Nothing may be written to Microsoft: the
// Teams and meetings its records name may be another installation's.
type CopyError struct {
	Installation Installation
	Here         ServerIdentity
	// Differences name what differs from where the installation was made.
	Differences []string
	// Foreign counts the records of other installations, by their id.
	Foreign map[string]int
}

func (e *CopyError) Error() string {
	var what string
	if len(e.Differences) > 0 {
		what = fmt.Sprintf("this database's installation %s was made on %s, and it now runs on %s (%s): it is a copy of that installation's database (a staging database restored from production's dump, say) or the server moved",
			e.Installation.ID, e.Installation.Server, e.Here, strings.Join(e.Differences, ", "))
	} else {
		var ids []string
		for id, n := range e.Foreign {
			ids = append(ids, fmt.Sprintf("%d of installation %s", n, id))
		}
		sort.Strings(ids)
		what = fmt.Sprintf("the tool's tables hold records of another installation (%s) beside this installation's (%s): they were copied in",
			strings.Join(ids, ", "), e.Installation.ID)
	}
	return what + "; nothing is written to Microsoft until you run 'elentra-teams setup --new-installation' (a copy: it gets its own installation id and sets the copied records aside) or, if this is the same installation on a new database server, 'elentra-teams setup --moved'"
}

// CheckInstallation reads the installation and makes sure this database is
// where it was made and holds no other installation's records (three
// statements). The store then marks what it records as this
// installation's.
func (s *Store) CheckInstallation(ctx context.Context) (*Installation, error) {
	inst, err := ReadInstallation(ctx, s.db)
	if err != nil {
		return nil, err
	}
	if inst == nil {
		return nil, &NoInstallationError{Database: s.db.Name()}
	}
	here, err := ReadServerIdentity(ctx, s.db)
	if err != nil {
		return nil, err
	}
	if diff := inst.Server.Differences(here); len(diff) > 0 {
		return inst, &CopyError{Installation: *inst, Here: here, Differences: diff}
	}
	foreign, err := s.foreignRecords(ctx, inst.ID)
	if err != nil {
		return nil, err
	}
	if len(foreign) > 0 {
		return inst, &CopyError{Installation: *inst, Here: here, Foreign: foreign}
	}
	s.installation = inst.ID
	return inst, nil
}

// SetInstallation marks what the store records from now on as made by
// installation id (CheckInstallation does it for a sync).
func (s *Store) SetInstallation(id string) { s.installation = id }

// foreignRecords counts the records of installations other than id, in one
// statement.
func (s *Store) foreignRecords(ctx context.Context, id string) (map[string]int, error) {
	var rows []struct {
		ID string `db:"installation_id"`
		N  int    `db:"n"`
	}
	var parts []string
	var args []any
	for _, t := range []string{CoursesTable, MembershipsTable, EventsTable} {
		parts = append(parts, `SELECT installation_id, COUNT(*) AS n FROM `+s.db.Table(t)+` WHERE installation_id IS NOT NULL AND installation_id <> ? GROUP BY installation_id`)
		args = append(args, id)
	}
	if err := s.db.Select(ctx, &rows, strings.Join(parts, " UNION ALL "), args...); err != nil {
		return nil, fmt.Errorf("look for other installations' records: %w", err)
	}
	out := map[string]int{}
	for _, r := range rows {
		out[r.ID] += r.N
	}
	return out, nil
}

// SetAsideSummary is what `setup --new-installation` set aside of one
// earlier installation.
type SetAsideSummary struct {
	InstallationID string    `json:"installation_id"`
	Teams          int       `json:"teams"`
	Memberships    int       `json:"memberships"`
	Meetings       int       `json:"meetings"`
	SetAsideAt     time.Time `json:"set_aside_at"`
}

// SetAside lists, by earlier installation, the records set aside (one
// statement).
func (s *Store) SetAside(ctx context.Context) ([]SetAsideSummary, error) {
	var rows []struct {
		ID   string    `db:"installation_id"`
		Kind string    `db:"kind"`
		N    int       `db:"n"`
		At   time.Time `db:"at"`
	}
	err := s.db.Select(ctx, &rows, `SELECT installation_id, kind, COUNT(*) AS n, MAX(set_aside_at) AS at FROM `+s.db.Table(SetAsideTable)+`
		GROUP BY installation_id, kind ORDER BY installation_id, kind`)
	if err != nil {
		if elentra.IsNoSuchTable(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("read the records set aside: %w", err)
	}
	var out []SetAsideSummary
	for _, r := range rows {
		if len(out) == 0 || out[len(out)-1].InstallationID != r.ID {
			out = append(out, SetAsideSummary{InstallationID: r.ID})
		}
		sum := &out[len(out)-1]
		switch r.Kind {
		case setAsideCourse:
			sum.Teams += r.N
		case setAsideMembership:
			sum.Memberships += r.N
		case setAsideEvent:
			sum.Meetings += r.N
		}
		if r.At.After(sum.SetAsideAt) {
			sum.SetAsideAt = r.At.UTC()
		}
	}
	return out, nil
}

// Kinds of the records set aside.
const (
	setAsideCourse     = "course"
	setAsideMembership = "membership"
	setAsideEvent      = "event"
)

// NewInstallationResult says what `setup --new-installation` did (or, in a
// dry run, would do).
type NewInstallationResult struct {
	Previous Installation   `json:"previous"`
	ID       string         `json:"installation_id"`
	Here     ServerIdentity `json:"bound_to"`
	// Copy says whether the database was seen to be a copy; without it the
	// command needed --force.
	Copy     bool            `json:"copy"`
	SetAside SetAsideSummary `json:"set_aside"`
}

// ErrNotACopy refuses `setup --new-installation` on the installation's own
// database: it would set aside the records of its own Teams and meetings,
// and its next sync would make them all again.
var ErrNotACopy = errors.New("this database is where its installation was made, and holds no other installation's records: it is not a copy. A new installation id would set aside the records of its own Teams and meetings, and the next sync would make them all again. If it really is a copy (a clone of the whole server), run 'elentra-teams setup --new-installation --force'")

// NewInstallation gives a copied database its own installation, bound to
// this server, and sets aside in msteams_set_aside every record of the
// installations it was copied from (their groups, memberships and
// meetings: no sync acts on them again), keeping the admins' switches and
// the links on Elentra's event pages (rows of this database), in one
// transaction. It refuses a database that is no copy unless force. With
// dryRun it says what it would do and changes nothing.
func NewInstallation(ctx context.Context, db *elentra.DB, now time.Time, force, dryRun bool) (*NewInstallationResult, error) {
	st := New(db)
	prev, err := ReadInstallation(ctx, db)
	if err != nil {
		return nil, err
	}
	if prev == nil {
		return nil, &NoInstallationError{Database: db.Name()}
	}
	_, cerr := st.CheckInstallation(ctx)
	var ce *CopyError
	copied := errors.As(cerr, &ce)
	if cerr != nil && !copied {
		return nil, cerr
	}
	if !copied && !force {
		return nil, ErrNotACopy
	}
	here, err := ReadServerIdentity(ctx, db)
	if err != nil {
		return nil, err
	}
	res := &NewInstallationResult{Previous: *prev, ID: NewInstallationID(), Here: here, Copy: copied}
	if copied && len(ce.Differences) == 0 {
		// Where it was made, with another installation's records copied
		// in: it keeps its id and its own records; the others go aside.
		res.ID = res.Previous.ID
	}
	now = now.UTC().Truncate(time.Second)
	res.SetAside.SetAsideAt = now

	tx, err := db.SQLX().BeginTxx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("set the copied records aside: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	// Every record that names another installation, or none though it
	// maps something, is the copied installations'.
	sets := []struct {
		kind, table, where string
		whereArgs          []any
		count              *int
	}{
		{setAsideCourse, CoursesTable, `(installation_id IS NOT NULL AND installation_id <> ?) OR (installation_id IS NULL AND (group_id IS NOT NULL OR state <> ?))`,
			[]any{res.ID, reconcile.StateNone}, &res.SetAside.Teams},
		{setAsideMembership, MembershipsTable, `(installation_id IS NOT NULL AND installation_id <> ?) OR installation_id IS NULL`,
			[]any{res.ID}, &res.SetAside.Memberships},
		{setAsideEvent, EventsTable, `(installation_id IS NOT NULL AND installation_id <> ?) OR (installation_id IS NULL AND (graph_event_id IS NOT NULL OR state <> ?))`,
			[]any{res.ID, reconcile.EventStateNone}, &res.SetAside.Meetings},
	}
	for _, set := range sets {
		rows, err := tx.QueryxContext(ctx, `SELECT * FROM `+db.Table(set.table)+` WHERE `+set.where, set.whereArgs...)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", set.table, err)
		}
		var aside []map[string]any
		for rows.Next() {
			m := map[string]any{}
			if err := rows.MapScan(m); err != nil {
				_ = rows.Close()
				return nil, fmt.Errorf("read %s: %w", set.table, err)
			}
			for k, v := range m {
				if b, ok := v.([]byte); ok {
					m[k] = string(b)
				}
			}
			aside = append(aside, m)
		}
		_ = rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read %s: %w", set.table, err)
		}
		*set.count = len(aside)
		if dryRun || len(aside) == 0 {
			continue
		}
		for part := range slices.Chunk(aside, 500) {
			var b strings.Builder
			args := make([]any, 0, 8*len(part))
			b.WriteString(`INSERT INTO ` + db.Table(SetAsideTable) + ` (installation_id, kind, course_id, event_id, object_id, graph_id, record, set_aside_at) VALUES `)
			for i, m := range part {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(`(?, ?, ?, ?, ?, ?, ?, ?)`)
				owner := fmt.Sprint(m["installation_id"])
				if m["installation_id"] == nil {
					owner = prev.ID
				}
				graphID := m["group_id"]
				if set.kind == setAsideEvent {
					graphID = m["graph_event_id"]
				}
				js, err := json.Marshal(m)
				if err != nil {
					return nil, err
				}
				args = append(args, owner, set.kind, m["course_id"], m["event_id"], m["object_id"], graphID, string(js), now)
			}
			if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
				return nil, fmt.Errorf("set %s aside: %w", set.table, err)
			}
		}
	}
	if dryRun {
		return res, nil
	}
	clears := []Statement{
		// The admins' switches stay; the group mapping goes.
		{SQL: `UPDATE ` + db.Table(CoursesTable) + ` SET group_id = NULL, mail_nickname = NULL, graph_mail_nickname = NULL, display_name = NULL,
			graph_display_name = NULL, description_hash = NULL, state = ?, intent_at = NULL, team_created_at = NULL, last_synced_at = NULL,
			last_error = NULL, last_error_at = NULL, installation_id = NULL, updated_at = ? WHERE ` + sets[0].where,
			Args: append([]any{reconcile.StateNone, now}, sets[0].whereArgs...)},
		{SQL: `DELETE FROM ` + db.Table(MembershipsTable) + ` WHERE ` + sets[1].where, Args: sets[1].whereArgs},
		// The switches and the link on the event page (a row of this
		// database: the next sync points it at the new meeting, or removes
		// it) stay; the meeting mapping goes.
		{SQL: `UPDATE ` + db.Table(EventsTable) + ` SET mailbox = NULL, graph_event_id = NULL, transaction_id = NULL, join_url = NULL,
			content_hash = NULL, sent_hashes = NULL, state = ?, intent_at = NULL, last_error = NULL, last_error_at = NULL,
			last_synced_at = NULL, installation_id = NULL, updated_at = ? WHERE ` + sets[2].where,
			Args: append([]any{reconcile.EventStateNone, now}, sets[2].whereArgs...)},
	}
	for _, q := range clears {
		if _, err := tx.ExecContext(ctx, q.SQL, q.Args...); err != nil {
			return nil, fmt.Errorf("clear the copied records: %w", err)
		}
	}
	if res.ID != prev.ID {
		if _, err := tx.ExecContext(ctx, `UPDATE `+db.Table(InstallationTable)+` SET installation_id = ?, previous_installation_id = ?, database_name = ?,
			server_uuid = ?, server_hostname = ?, server_port = ?, server_datadir = ?, created_at = ?, bound_at = ? WHERE id = 1`,
			res.ID, prev.ID, here.Database, nullString(here.UUID), nullString(here.Hostname), here.Port, nullString(here.DataDir), now, now); err != nil {
			return nil, fmt.Errorf("record the new installation: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("set the copied records aside: %w", err)
	}
	return res, nil
}

// ErrNotMoved refuses `setup --moved` where nothing moved.
var ErrNotMoved = errors.New("this database is where its installation was made: there is nothing to move")

// Moved binds the installation to this server, keeping its id and its
// records: the same installation's database moved to a new server (or
// renamed). It returns the installation, where it is now and what changed,
// and refuses when nothing did. With dryRun it changes nothing.
func Moved(ctx context.Context, db *elentra.DB, now time.Time, dryRun bool) (*Installation, ServerIdentity, []string, error) {
	inst, err := ReadInstallation(ctx, db)
	if err != nil {
		return nil, ServerIdentity{}, nil, err
	}
	if inst == nil {
		return nil, ServerIdentity{}, nil, &NoInstallationError{Database: db.Name()}
	}
	here, err := ReadServerIdentity(ctx, db)
	if err != nil {
		return nil, here, nil, err
	}
	diff := inst.Server.Differences(here)
	if len(diff) == 0 {
		return inst, here, nil, ErrNotMoved
	}
	if dryRun {
		return inst, here, diff, nil
	}
	now = now.UTC().Truncate(time.Second)
	if _, err := db.Exec(ctx, `UPDATE `+db.Table(InstallationTable)+` SET database_name = ?, server_uuid = ?, server_hostname = ?,
		server_port = ?, server_datadir = ?, bound_at = ? WHERE id = 1 AND installation_id = ?`,
		here.Database, nullString(here.UUID), nullString(here.Hostname), here.Port, nullString(here.DataDir), now, inst.ID); err != nil {
		return nil, here, nil, fmt.Errorf("bind the installation to this server: %w", err)
	}
	inst.Server, inst.BoundAt = here, now
	return inst, here, diff, nil
}
