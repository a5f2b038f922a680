package elentra

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/elentra-teams/elentra-teams/pkg/config"
)

// User is an Elentra user (auth.user_data), with the Object ID the site's
// own column holds for them when one is configured (SetObjectIDColumn).
type User struct {
	ProxyID        int
	Username       string
	FirstName      string
	LastName       string
	Email          string
	OrganisationID int
	// ProfileObjectID is the site column's value, "" when it holds none or
	// no column is configured. Which Object ID a sync uses is pkg/store's
	// rule: an admin's link comes first (store.Users).
	ProfileObjectID string
}

// FullName is the user's first and last names, "" when Elentra has neither.
func (u User) FullName() string { return strings.TrimSpace(u.FirstName + " " + u.LastName) }

// Name is what the tool calls the user: the full name, or the username when
// Elentra has no name.
func (u User) Name() string {
	if n := u.FullName(); n != "" {
		return n
	}
	return u.Username
}

// ObjectIDColumn names a site's own column holding Object IDs by proxy id.
type ObjectIDColumn = config.Column

// ParseObjectIDColumn reads "schema.table.key_column.value_column"; every
// part must be a plain identifier, since the parts are put into SQL.
func ParseObjectIDColumn(spec string) (ObjectIDColumn, error) {
	return config.ParseColumn("elentra.object_id_column", spec)
}

// SetObjectIDColumn makes UsersWithAnnex and ProfileHolders read Object IDs
// from the site's own column spec (elentra.object_id_column); "" stops it.
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

// UserAnnex names a table of the caller's in the main schema with at most one
// row per user, keyed by proxy id, whose columns are read with the users:
// LEFT JOINed in the statement that reads them, so that users and their rows
// of the annex cost one query together. pkg/store's links of users to Object
// IDs are one; pkg/elentra knows of the table only these names.
type UserAnnex struct {
	Table   string
	Key     string   // the proxy id column
	Columns []string // read as text, "" for NULL
}

func (a UserAnnex) valid() bool {
	ok := ValidIdent(a.Table) && ValidIdent(a.Key)
	for _, c := range a.Columns {
		ok = ok && ValidIdent(c)
	}
	return ok
}

// UsersWithAnnex returns the users with these proxy ids that exist, ordered
// by id, and by proxy id the columns of each one's row of the annex (in the
// order of annex.Columns; absent when the user has none). A zero annex
// joins nothing. One query per MaxInList users.
func (db *DB) UsersWithAnnex(ctx context.Context, proxyIDs []int, annex UserAnnex) ([]User, map[int][]string, error) {
	profileSelect, profileJoin := "NULL AS profile_object_id", ""
	if c := db.objectIDColumn; c != nil {
		profileSelect = "p.`" + c.ValueColumn + "` AS profile_object_id"
		profileJoin = " LEFT JOIN " + qualify(c.Schema, c.Table) + " p ON p.`" + c.KeyColumn + "` = u.id"
	}
	annexSelect, annexJoin, annexColumns := "NULL AS annex_key", "", 0
	if annex.Table != "" {
		if !annex.valid() {
			return nil, nil, fmt.Errorf("read users: annex %+v names something that is not an identifier", annex)
		}
		annexSelect = "a.`" + annex.Key + "` AS annex_key"
		for i, c := range annex.Columns {
			annexSelect += fmt.Sprintf(", a.`%s` AS annex_%d", c, i)
		}
		annexJoin = " LEFT JOIN " + db.Table(annex.Table) + " a ON a.`" + annex.Key + "` = u.id"
		annexColumns = len(annex.Columns)
	}
	byID := map[int]User{}
	annexes := map[int][]string{}
	for chunk := range slices.Chunk(UniqueIDs(proxyIDs), MaxInList) {
		q, args, err := In(`SELECT u.id, u.username, u.firstname, u.lastname, u.email, u.organisation_id,
				`+profileSelect+`, `+annexSelect+`
			FROM `+db.AuthTable("user_data")+` u`+annexJoin+profileJoin+`
			WHERE u.id IN (?)`, chunk)
		if err != nil {
			return nil, nil, err
		}
		if err := db.scanUsers(ctx, q, args, annexColumns, byID, annexes); err != nil {
			return nil, nil, fmt.Errorf("read users: %w", err)
		}
	}
	out := make([]User, 0, len(byID))
	for _, u := range byID {
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ProxyID < out[j].ProxyID })
	return out, annexes, nil
}

func (db *DB) scanUsers(ctx context.Context, q string, args []any, annexColumns int, byID map[int]User, annexes map[int][]string) error {
	rows, err := db.Queryx(ctx, q, args...)
	if err != nil {
		return err
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var u User
		var email string
		var profile, annexKey sql.NullString
		annex := make([]sql.NullString, annexColumns)
		dest := []any{&u.ProxyID, &u.Username, &u.FirstName, &u.LastName, &email, &u.OrganisationID, &profile, &annexKey}
		for i := range annex {
			dest = append(dest, &annex[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		u.Email, u.ProfileObjectID = strings.TrimSpace(email), strings.TrimSpace(profile.String)
		// A profile table with several rows per user joins more than once:
		// keep the first row that holds an Object ID.
		if prev, seen := byID[u.ProxyID]; seen && prev.ProfileObjectID != "" {
			continue
		}
		byID[u.ProxyID] = u
		if annexKey.Valid {
			vals := make([]string, len(annex))
			for i, v := range annex {
				vals[i] = v.String
			}
			annexes[u.ProxyID] = vals
		}
	}
	return rows.Err()
}

// ProfileHolders returns the users whose Object ID in the site's column
// (SetObjectIDColumn) is objectID, compared as the column's collation
// compares: one query, none when no column is configured.
func (db *DB) ProfileHolders(ctx context.Context, objectID string) ([]int, error) {
	c := db.objectIDColumn
	if c == nil {
		return nil, nil
	}
	var ids []int
	if err := db.Select(ctx, &ids, `SELECT p.`+"`"+c.KeyColumn+"`"+` FROM `+qualify(c.Schema, c.Table)+` p WHERE p.`+"`"+c.ValueColumn+"`"+` = ?`, objectID); err != nil {
		return nil, fmt.Errorf("look up Object ID %s in elentra.object_id_column: %w", objectID, err)
	}
	return ids, nil
}
