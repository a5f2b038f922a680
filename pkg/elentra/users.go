package elentra

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
)

// Where a user's Microsoft Object ID came from, highest precedence first.
const (
	// SourceManual is an admin's link (`users link`), kept in msteams_users.
	SourceManual = "manual"
	// SourceProfile is the site's own column (elentra.object_id_column), or a
	// copy of it in msteams_users.
	SourceProfile = "profile"
	// SourceMatched is a directory match by sync-users, kept in msteams_users.
	SourceMatched = "matched"
)

// UsersTable is the tool's own table of Object IDs, in the main schema.
const UsersTable = "msteams_users"

// User is an Elentra user (auth.user_data) with their Microsoft Object ID
// when one is known. ObjectID is "" when none is; ObjectIDSource then is "".
type User struct {
	ProxyID        int
	Username       string
	FirstName      string
	LastName       string
	Email          string
	OrganisationID int
	ObjectID       string
	ObjectIDSource string
}

// ObjectIDColumn names a site's own column holding Object IDs by proxy id.
type ObjectIDColumn struct {
	Schema, Table, KeyColumn, ValueColumn string
}

// ParseObjectIDColumn reads "schema.table.key_column.value_column"; every
// part must be a plain identifier, since the parts are put into SQL.
func ParseObjectIDColumn(spec string) (ObjectIDColumn, error) {
	parts := strings.Split(spec, ".")
	if len(parts) != 4 {
		return ObjectIDColumn{}, fmt.Errorf("elentra.object_id_column %q is not schema.table.key_column.value_column", spec)
	}
	for _, p := range parts {
		if !ValidIdent(p) {
			return ObjectIDColumn{}, fmt.Errorf("elentra.object_id_column %q: %q is not a plain identifier (letters, digits, _ or $)", spec, p)
		}
	}
	return ObjectIDColumn{parts[0], parts[1], parts[2], parts[3]}, nil
}

// SetObjectIDColumn makes Users read Object IDs from the site's own column
// spec (elentra.object_id_column); "" stops it.
func (db *DB) SetObjectIDColumn(spec string) error {
	if spec == "" {
		db.objectIDColumn = nil
		return nil
	}
	c, err := ParseObjectIDColumn(spec)
	if err != nil {
		return err
	}
	db.objectIDColumn = &c
	return nil
}

type userRow struct {
	ProxyID        int            `db:"id"`
	Username       string         `db:"username"`
	FirstName      string         `db:"firstname"`
	LastName       string         `db:"lastname"`
	Email          string         `db:"email"`
	OrganisationID int            `db:"organisation_id"`
	ToolObjectID   sql.NullString `db:"tool_object_id"`
	ToolSource     sql.NullString `db:"tool_source"`
	MatchStatus    sql.NullString `db:"match_status"`
	ProfileID      sql.NullString `db:"profile_object_id"`
}

// Users returns the users with these proxy ids that exist, ordered by id,
// each with an Object ID chosen by precedence: a manual link in msteams_users,
// then the site's column (SetObjectIDColumn), then a profile copy or a
// directory match in msteams_users. One query per MaxInList users.
//
// It needs the tool's tables (`setup` creates them).
func (db *DB) Users(ctx context.Context, proxyIDs []int) ([]User, error) {
	profileSelect, profileJoin := "NULL AS profile_object_id", ""
	if c := db.objectIDColumn; c != nil {
		profileSelect = "p.`" + c.ValueColumn + "` AS profile_object_id"
		profileJoin = " LEFT JOIN " + qualify(c.Schema, c.Table) + " p ON p.`" + c.KeyColumn + "` = u.id"
	}
	byID := map[int]User{}
	for _, chunk := range chunks(uniqueIDs(proxyIDs)) {
		q, args, err := In(`SELECT u.id, u.username, u.firstname, u.lastname, u.email, u.organisation_id,
				mu.object_id AS tool_object_id, mu.source AS tool_source, mu.match_status,
				`+profileSelect+`
			FROM `+db.AuthTable("user_data")+` u
			LEFT JOIN `+db.Table(UsersTable)+` mu ON mu.proxy_id = u.id`+profileJoin+`
			WHERE u.id IN (?)`, chunk)
		if err != nil {
			return nil, err
		}
		var rows []userRow
		if err := db.Select(ctx, &rows, q, args...); err != nil {
			if IsNoSuchTable(err) {
				return nil, fmt.Errorf("read users: %w (run `elentra-teams setup` to create the tool's tables, and check elentra.object_id_column)", err)
			}
			return nil, fmt.Errorf("read users: %w", err)
		}
		for _, r := range rows {
			u := User{
				ProxyID: r.ProxyID, Username: r.Username, FirstName: r.FirstName, LastName: r.LastName,
				Email: strings.TrimSpace(r.Email), OrganisationID: r.OrganisationID,
			}
			u.ObjectID, u.ObjectIDSource = chooseObjectID(r)
			// A profile table with several rows per user joins more than once:
			// keep the first row that yields an Object ID.
			if prev, seen := byID[u.ProxyID]; seen && prev.ObjectID != "" {
				continue
			}
			byID[u.ProxyID] = u
		}
	}
	out := make([]User, 0, len(byID))
	for _, u := range byID {
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ProxyID < out[j].ProxyID })
	return out, nil
}

// chooseObjectID applies the precedence manual > site column > profile copy >
// match; a match that is not "matched" (unmatched, ambiguous) gives none.
func chooseObjectID(r userRow) (objectID, source string) {
	tool := strings.TrimSpace(r.ToolObjectID.String)
	if tool != "" && r.ToolSource.String == SourceManual {
		return tool, SourceManual
	}
	if p := strings.TrimSpace(r.ProfileID.String); p != "" {
		return p, SourceProfile
	}
	if tool != "" && r.ToolSource.String == SourceProfile {
		return tool, SourceProfile
	}
	if tool != "" && r.ToolSource.String == SourceMatched && r.MatchStatus.String == "matched" {
		return tool, SourceMatched
	}
	return "", ""
}

// UsersWithObjectID returns the users whose Object ID, by the precedence of
// Users, is objectID (compared without regard to case, as Graph's GUIDs are),
// ordered by id: the users an admin would give the same directory account.
// Two queries: the candidates from msteams_users and the site's column, then
// Users on them.
func (db *DB) UsersWithObjectID(ctx context.Context, objectID string) ([]User, error) {
	objectID = strings.TrimSpace(objectID)
	if objectID == "" {
		return nil, nil
	}
	q := `SELECT proxy_id FROM ` + db.Table(UsersTable) + ` WHERE object_id = ?`
	args := []any{objectID}
	if c := db.objectIDColumn; c != nil {
		q += ` UNION SELECT p.` + "`" + c.KeyColumn + "`" + ` FROM ` + qualify(c.Schema, c.Table) + ` p WHERE p.` + "`" + c.ValueColumn + "`" + ` = ?`
		args = append(args, objectID)
	}
	var ids []int
	if err := db.Select(ctx, &ids, q, args...); err != nil {
		return nil, fmt.Errorf("look up Object ID %s: %w", objectID, err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	users, err := db.Users(ctx, ids)
	if err != nil {
		return nil, err
	}
	var out []User
	for _, u := range users {
		if strings.EqualFold(u.ObjectID, objectID) {
			out = append(out, u)
		}
	}
	return out, nil
}
