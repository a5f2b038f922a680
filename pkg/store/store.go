// Package store keeps the tool's own tables (msteams_*, InnoDB, utf8mb4, in
// Elentra's DATABASE_NAME): their embedded, versioned migrations and the
// functions that read and write them. Commands add their own functions on
// *Store as they need them.
package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/elentra-teams/elentra-teams/pkg/elentra"
)

// Store reads and writes the tool's tables through an Elentra DB.
type Store struct {
	db *elentra.DB
	// installation is the id the mappings it records are marked with
	// (CheckInstallation sets it); "" marks nothing.
	installation string
}

// New returns a Store over db.
func New(db *elentra.DB) *Store { return &Store{db: db} }

// DB is the underlying Elentra connection.
func (s *Store) DB() *elentra.DB { return s.db }

// Match statuses of msteams_users.
const (
	MatchMatched   = "matched"
	MatchUnmatched = "unmatched"
	MatchAmbiguous = "ambiguous"
)

// UserRecord is a row of msteams_users: a user's Object ID and where it came
// from (elentra.SourceManual, SourceProfile or SourceMatched), and for
// directory matches the key that was matched and its outcome, so that a
// failed match is not looked up again until the email or the identity.match
// rule changes (either changes MatchKey).
type UserRecord struct {
	ProxyID     int
	ObjectID    string // "" when none (unmatched, ambiguous)
	Source      string
	MatchKey    string
	MatchStatus string
	CheckedAt   time.Time
	UpdatedAt   time.Time
}

type userRecordRow struct {
	ProxyID     int            `db:"proxy_id"`
	ObjectID    sql.NullString `db:"object_id"`
	Source      string         `db:"source"`
	MatchKey    sql.NullString `db:"match_key"`
	MatchStatus sql.NullString `db:"match_status"`
	CheckedAt   sql.NullTime   `db:"checked_at"`
	UpdatedAt   time.Time      `db:"updated_at"`
}

// PutUser inserts or replaces the record of u.ProxyID, stamped with now.
func (s *Store) PutUser(ctx context.Context, u UserRecord, now time.Time) error {
	switch u.Source {
	case elentra.SourceManual, elentra.SourceProfile, elentra.SourceMatched:
	default:
		return fmt.Errorf("user %d: source %q is not manual, profile or matched", u.ProxyID, u.Source)
	}
	now = now.UTC().Truncate(time.Second)
	checked := sql.NullTime{Time: u.CheckedAt.UTC().Truncate(time.Second), Valid: !u.CheckedAt.IsZero()}
	_, err := s.db.Exec(ctx, `INSERT INTO `+s.db.Table(elentra.UsersTable)+`
		(proxy_id, object_id, source, match_key, match_status, checked_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON DUPLICATE KEY UPDATE object_id = VALUES(object_id), source = VALUES(source),
			match_key = VALUES(match_key), match_status = VALUES(match_status),
			checked_at = VALUES(checked_at), updated_at = VALUES(updated_at)`,
		u.ProxyID, nullString(u.ObjectID), u.Source, nullString(u.MatchKey), nullString(u.MatchStatus), checked, now)
	if err != nil {
		return fmt.Errorf("record user %d: %w", u.ProxyID, err)
	}
	return nil
}

// DeleteUser removes the record of proxyID (`users unlink`); removing an
// absent record is not an error.
func (s *Store) DeleteUser(ctx context.Context, proxyID int) error {
	if _, err := s.db.Exec(ctx, `DELETE FROM `+s.db.Table(elentra.UsersTable)+` WHERE proxy_id = ?`, proxyID); err != nil {
		return fmt.Errorf("delete user %d: %w", proxyID, err)
	}
	return nil
}

// UserRecords returns the records of these users that exist, by proxy id. One
// query per elentra.MaxInList users.
func (s *Store) UserRecords(ctx context.Context, proxyIDs []int) (map[int]UserRecord, error) {
	rows, err := elentra.SelectIn[userRecordRow](ctx, s.db, `SELECT proxy_id, object_id, source, match_key, match_status, checked_at, updated_at
		FROM `+s.db.Table(elentra.UsersTable)+` WHERE proxy_id IN (?)`, proxyIDs)
	if err != nil {
		return nil, fmt.Errorf("read user records: %w", err)
	}
	out := make(map[int]UserRecord, len(rows))
	for _, r := range rows {
		out[r.ProxyID] = UserRecord{
			ProxyID: r.ProxyID, ObjectID: r.ObjectID.String, Source: r.Source,
			MatchKey: r.MatchKey.String, MatchStatus: r.MatchStatus.String,
			CheckedAt: r.CheckedAt.Time, UpdatedAt: r.UpdatedAt,
		}
	}
	return out, nil
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// PutUsers inserts or replaces many records in one statement per 1,000
// (sync-users stores every match outcome of a run this way).
func (s *Store) PutUsers(ctx context.Context, recs []UserRecord, now time.Time) error {
	now = now.UTC().Truncate(time.Second)
	for len(recs) > 0 {
		n := min(len(recs), 1000)
		var b strings.Builder
		args := make([]any, 0, n*7)
		b.WriteString(`INSERT INTO ` + s.db.Table(elentra.UsersTable) + `
			(proxy_id, object_id, source, match_key, match_status, checked_at, updated_at) VALUES `)
		for i, u := range recs[:n] {
			switch u.Source {
			case elentra.SourceManual, elentra.SourceProfile, elentra.SourceMatched:
			default:
				return fmt.Errorf("user %d: source %q is not manual, profile or matched", u.ProxyID, u.Source)
			}
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`(?, ?, ?, ?, ?, ?, ?)`)
			checked := sql.NullTime{Time: u.CheckedAt.UTC().Truncate(time.Second), Valid: !u.CheckedAt.IsZero()}
			args = append(args, u.ProxyID, nullString(u.ObjectID), u.Source, nullString(u.MatchKey), nullString(u.MatchStatus), checked, now)
		}
		// A manual link is never overwritten by a match.
		b.WriteString(` ON DUPLICATE KEY UPDATE
			object_id = IF(source = 'manual', object_id, VALUES(object_id)),
			match_key = IF(source = 'manual', match_key, VALUES(match_key)),
			match_status = IF(source = 'manual', match_status, VALUES(match_status)),
			checked_at = IF(source = 'manual', checked_at, VALUES(checked_at)),
			updated_at = IF(source = 'manual', updated_at, VALUES(updated_at)),
			source = IF(source = 'manual', source, VALUES(source))`)
		if _, err := s.db.Exec(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("record users: %w", err)
		}
		recs = recs[n:]
	}
	return nil
}

// ObjectIDHolders returns which proxy id holds each of these Object IDs in
// msteams_users (lower-case ids), so a match never links one account to two
// Elentra users.
func (s *Store) ObjectIDHolders(ctx context.Context, objectIDs []string) (map[string]int, error) {
	rows, err := elentra.SelectIn[struct {
		ObjectID string `db:"object_id"`
		ProxyID  int    `db:"proxy_id"`
	}](ctx, s.db, `SELECT LOWER(object_id) AS object_id, proxy_id FROM `+s.db.Table(elentra.UsersTable)+` WHERE object_id IN (?)`, objectIDs)
	if err != nil {
		return nil, fmt.Errorf("read linked Object IDs: %w", err)
	}
	out := make(map[string]int, len(rows))
	for _, r := range rows {
		out[r.ObjectID] = r.ProxyID
	}
	return out, nil
}
