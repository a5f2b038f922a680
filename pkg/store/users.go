package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/elentra-teams/elentra-teams/pkg/elentra"
	"github.com/elentra-teams/elentra-teams/pkg/reconcile"
)

// UsersTable keeps the Object IDs the tool knows of Elentra's users: an
// admin's links, directory matches and their outcomes, copies of the site's
// column.
const UsersTable = "msteams_users"

// ObjectIDSource is where a user's Microsoft Object ID came from, as
// recorded in msteams_users.source; "" for a user without one.
type ObjectIDSource string

// Where a user's Microsoft Object ID came from, highest precedence first.
const (
	// SourceManual is an admin's link (`users link`), kept in msteams_users.
	SourceManual ObjectIDSource = "manual"
	// SourceProfile is the site's own column (elentra.object_id_column), or a
	// copy of it in msteams_users.
	SourceProfile ObjectIDSource = "profile"
	// SourceMatched is a directory match by sync-users, kept in msteams_users.
	SourceMatched ObjectIDSource = "matched"
)

// valid reports whether s is a source msteams_users records.
func (s ObjectIDSource) valid() bool {
	return s == SourceManual || s == SourceProfile || s == SourceMatched
}

// UserRecord is a row of msteams_users: a user's Object ID and where it came
// from (SourceManual, SourceProfile or SourceMatched), and for
// directory matches the key that was matched and its outcome, so that a
// failed match is not looked up again until the email or the identity.match
// rule changes (either changes MatchKey).
type UserRecord struct {
	ProxyID     int
	ObjectID    string // "" when none (unmatched, ambiguous)
	Source      ObjectIDSource
	MatchKey    string
	MatchStatus reconcile.MatchStatus // "" for a manual link or a copy of the site's column
	CheckedAt   time.Time
	UpdatedAt   time.Time
}

type userRecordRow struct {
	ProxyID     int            `db:"proxy_id"`
	ObjectID    sql.NullString `db:"object_id"`
	Source      ObjectIDSource `db:"source"`
	MatchKey    sql.NullString `db:"match_key"`
	MatchStatus sql.NullString `db:"match_status"`
	CheckedAt   sql.NullTime   `db:"checked_at"`
	UpdatedAt   time.Time      `db:"updated_at"`
}

// PutUser inserts or replaces the record of u.ProxyID, stamped with now.
func (s *Store) PutUser(ctx context.Context, u UserRecord, now time.Time) error {
	if !u.Source.valid() {
		return fmt.Errorf("user %d: source %q is not manual, profile or matched", u.ProxyID, u.Source)
	}
	now = now.UTC().Truncate(time.Second)
	checked := sql.NullTime{Time: u.CheckedAt.UTC().Truncate(time.Second), Valid: !u.CheckedAt.IsZero()}
	_, err := s.db.Exec(ctx, `INSERT INTO `+s.db.Table(UsersTable)+`
		(proxy_id, object_id, source, match_key, match_status, checked_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON DUPLICATE KEY UPDATE object_id = VALUES(object_id), source = VALUES(source),
			match_key = VALUES(match_key), match_status = VALUES(match_status),
			checked_at = VALUES(checked_at), updated_at = VALUES(updated_at)`,
		u.ProxyID, nullString(u.ObjectID), u.Source, nullString(u.MatchKey), nullString(string(u.MatchStatus)), checked, now)
	if err != nil {
		return fmt.Errorf("record user %d: %w", u.ProxyID, err)
	}
	return nil
}

// DeleteUser removes the record of proxyID (`users unlink`); removing an
// absent record is not an error.
func (s *Store) DeleteUser(ctx context.Context, proxyID int) error {
	if _, err := s.db.Exec(ctx, `DELETE FROM `+s.db.Table(UsersTable)+` WHERE proxy_id = ?`, proxyID); err != nil {
		return fmt.Errorf("delete user %d: %w", proxyID, err)
	}
	return nil
}

// UserRecords returns the records of these users that exist, by proxy id. One
// query per elentra.MaxInList users.
func (s *Store) UserRecords(ctx context.Context, proxyIDs []int) (map[int]UserRecord, error) {
	rows, err := elentra.SelectIn[userRecordRow](ctx, s.db, `SELECT proxy_id, object_id, source, match_key, match_status, checked_at, updated_at
		FROM `+s.db.Table(UsersTable)+` WHERE proxy_id IN (?)`, proxyIDs)
	if err != nil {
		return nil, fmt.Errorf("read user records: %w", err)
	}
	out := make(map[int]UserRecord, len(rows))
	for _, r := range rows {
		out[r.ProxyID] = UserRecord{
			ProxyID: r.ProxyID, ObjectID: r.ObjectID.String, Source: r.Source,
			MatchKey: r.MatchKey.String, MatchStatus: reconcile.MatchStatus(r.MatchStatus.String),
			CheckedAt: r.CheckedAt.Time, UpdatedAt: r.UpdatedAt,
		}
	}
	return out, nil
}

// PutUsers inserts or replaces many records in one statement per 1,000
// (sync-users stores every match outcome of a run this way).
func (s *Store) PutUsers(ctx context.Context, recs []UserRecord, now time.Time) error {
	now = now.UTC().Truncate(time.Second)
	for part := range slices.Chunk(recs, 1000) {
		var b strings.Builder
		args := make([]any, 0, len(part)*7)
		b.WriteString(`INSERT INTO ` + s.db.Table(UsersTable) + `
			(proxy_id, object_id, source, match_key, match_status, checked_at, updated_at) VALUES `)
		for i, u := range part {
			if !u.Source.valid() {
				return fmt.Errorf("user %d: source %q is not manual, profile or matched", u.ProxyID, u.Source)
			}
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`(?, ?, ?, ?, ?, ?, ?)`)
			checked := sql.NullTime{Time: u.CheckedAt.UTC().Truncate(time.Second), Valid: !u.CheckedAt.IsZero()}
			args = append(args, u.ProxyID, nullString(u.ObjectID), u.Source, nullString(u.MatchKey), nullString(string(u.MatchStatus)), checked, now)
		}
		// A manual link is never overwritten by a match (source last: the
		// others compare the source the row had).
		b.WriteString(` ON DUPLICATE KEY UPDATE `)
		for i, col := range []string{"object_id", "match_key", "match_status", "checked_at", "updated_at", "source"} {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(col + " = IF(source = ?, " + col + ", VALUES(" + col + "))")
			args = append(args, SourceManual)
		}
		if _, err := s.db.Exec(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("record users: %w", err)
		}
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
	}](ctx, s.db, `SELECT LOWER(object_id) AS object_id, proxy_id FROM `+s.db.Table(UsersTable)+` WHERE object_id IN (?)`, objectIDs)
	if err != nil {
		return nil, fmt.Errorf("read linked Object IDs: %w", err)
	}
	out := make(map[string]int, len(rows))
	for _, r := range rows {
		out[r.ObjectID] = r.ProxyID
	}
	return out, nil
}

// User is an Elentra user with the Microsoft Object ID a sync gives them.
type User struct {
	elentra.User
	// ObjectID is "" when the user has none; ObjectIDSource then is "".
	ObjectID string
	// ObjectIDSource is SourceManual, SourceProfile or SourceMatched.
	ObjectIDSource ObjectIDSource
}

// linksAnnex is how Users reads msteams_users with Elentra's users: in the
// same statement, so that a user's Object ID costs no query of its own.
var linksAnnex = elentra.UserAnnex{Table: UsersTable, Key: "proxy_id", Columns: []string{"object_id", "source", "match_status"}}

// Users returns the users with these proxy ids that Elentra has, ordered by
// id, each with an Object ID chosen by precedence (objectIDOf). One query per
// elentra.MaxInList users: Elentra's users, the site's column and the tool's
// links are read together.
//
// It needs the tool's tables (`setup` creates them).
func (s *Store) Users(ctx context.Context, proxyIDs []int) ([]User, error) {
	users, links, err := s.db.UsersWithAnnex(ctx, proxyIDs, linksAnnex)
	if err != nil {
		if elentra.IsNoSuchTable(err) {
			return nil, fmt.Errorf("%w (run `elentra-teams setup` to create the tool's tables, and check elentra.object_id_column)", err)
		}
		return nil, err
	}
	out := make([]User, len(users))
	for i, u := range users {
		out[i].User = u
		var link UserRecord
		if l, ok := links[u.ProxyID]; ok {
			link = UserRecord{ProxyID: u.ProxyID, ObjectID: l[0], Source: ObjectIDSource(l[1]), MatchStatus: reconcile.MatchStatus(l[2])}
		}
		out[i].ObjectID, out[i].ObjectIDSource = objectIDOf(u.ProfileObjectID, link)
	}
	return out, nil
}

// objectIDOf applies the precedence of a user's Object IDs: an admin's
// manual link, then the site's column (profile), then a copy of it, then a
// directory match; a match that is not "matched" (unmatched, ambiguous)
// gives none.
func objectIDOf(profile string, link UserRecord) (objectID string, source ObjectIDSource) {
	tool := strings.TrimSpace(link.ObjectID)
	if tool != "" && link.Source == SourceManual {
		return tool, SourceManual
	}
	if profile != "" {
		return profile, SourceProfile
	}
	if tool != "" && link.Source == SourceProfile {
		return tool, SourceProfile
	}
	if tool != "" && link.Source == SourceMatched && link.MatchStatus == reconcile.MatchMatched {
		return tool, SourceMatched
	}
	return "", ""
}

// UsersWithObjectID returns the users whose Object ID, by the precedence of
// Users, is objectID (compared without regard to case, as Graph's GUIDs are),
// ordered by id: the users an admin would give the same directory account.
func (s *Store) UsersWithObjectID(ctx context.Context, objectID string) ([]User, error) {
	candidates, err := s.objectIDCandidates(ctx, objectID)
	if err != nil || len(candidates) == 0 {
		return nil, err
	}
	users, err := s.Users(ctx, candidates)
	if err != nil {
		return nil, err
	}
	return holdersOf(users, objectID), nil
}

// objectIDCandidates are the users that may have objectID: those the tool
// links to it, and those the site's column gives it. One query, two with
// the site's column.
func (s *Store) objectIDCandidates(ctx context.Context, objectID string) ([]int, error) {
	objectID = strings.TrimSpace(objectID)
	if objectID == "" {
		return nil, nil
	}
	var ids []int
	if err := s.db.Select(ctx, &ids, `SELECT proxy_id FROM `+s.db.Table(UsersTable)+` WHERE object_id = ?`, objectID); err != nil {
		return nil, fmt.Errorf("look up Object ID %s: %w", objectID, err)
	}
	profile, err := s.db.ProfileHolders(ctx, objectID)
	if err != nil {
		return nil, err
	}
	return append(ids, profile...), nil
}

// holdersOf keeps the users whose Object ID is objectID.
func holdersOf(users []User, objectID string) []User {
	var out []User
	for _, u := range users {
		if u.ObjectID != "" && strings.EqualFold(u.ObjectID, strings.TrimSpace(objectID)) {
			out = append(out, u)
		}
	}
	return out
}
