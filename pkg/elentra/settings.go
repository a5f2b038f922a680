package elentra

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Settings the tool reads or writes (entrada.settings shortnames).
const (
	SettingTeamsEnabled  = "microsoft_teams_enabled"
	SettingUserMenu      = "user_menu_ordering"
	SettingMeetingWindow = "personal_meeting_window_minutes"
)

type settingRow struct {
	ID             int           `db:"setting_id"`
	Shortname      string        `db:"shortname"`
	OrganisationID sql.NullInt64 `db:"organisation_id"`
	Value          string        `db:"value"`
}

// SettingRow is one row of Elentra's settings table.
type SettingRow struct {
	ID        int
	Shortname string
	// OrganisationID is 0 for a global row (organisation_id NULL).
	OrganisationID int
	Value          string
}

// Global reports whether the row applies to every organisation.
func (r SettingRow) Global() bool { return r.OrganisationID == 0 }

// Setting returns the value of a setting for an organisation. Elentra's
// settings table has no unique key, so several rows may match: the
// organisation's own row wins over a global (NULL organisation) row, and among
// rows of the same kind the newest (highest setting_id) wins.
func (db *DB) Setting(ctx context.Context, shortname string, organisationID int) (value string, found bool, err error) {
	all, err := db.Settings(ctx, []string{shortname}, organisationID)
	if err != nil {
		return "", false, err
	}
	value, found = all[shortname]
	return value, found, nil
}

// Settings returns the values of several settings for an organisation in one
// query, by the rule of Setting; absent settings are absent from the map.
func (db *DB) Settings(ctx context.Context, shortnames []string, organisationID int) (map[string]string, error) {
	rows, err := db.SettingRows(ctx, shortnames, organisationID)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, name := range shortnames {
		if r, ok := EffectiveSetting(rows, name); ok {
			out[name] = r.Value
		}
	}
	return out, nil
}

// SettingRows returns every row of these settings that applies to an
// organisation (its own rows and the global ones), global rows first, then by
// id, in one query. Shortnames are compared as MySQL compares them (without
// regard to case); each row's Shortname is the name the caller asked for.
func (db *DB) SettingRows(ctx context.Context, shortnames []string, organisationID int) ([]SettingRow, error) {
	if len(shortnames) == 0 {
		return nil, nil
	}
	q, args, err := In(`SELECT setting_id, shortname, organisation_id, value
		FROM `+db.Table("settings")+`
		WHERE shortname IN (?) AND (organisation_id = ? OR organisation_id IS NULL)`, shortnames, organisationID)
	if err != nil {
		return nil, err
	}
	var rows []settingRow
	if err := db.Select(ctx, &rows, q, args...); err != nil {
		return nil, fmt.Errorf("read settings: %w", err)
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].OrganisationID.Valid != rows[j].OrganisationID.Valid {
			return !rows[i].OrganisationID.Valid
		}
		return rows[i].ID < rows[j].ID
	})
	out := make([]SettingRow, 0, len(rows))
	for _, r := range rows {
		name := r.Shortname
		for _, asked := range shortnames {
			if strings.EqualFold(asked, r.Shortname) {
				name = asked
			}
		}
		out = append(out, SettingRow{ID: r.ID, Shortname: name, OrganisationID: int(r.OrganisationID.Int64), Value: r.Value})
	}
	return out, nil
}

// EffectiveSetting picks, among rows from SettingRows, the row of shortname
// that Elentra reads: the organisation's newest row, else the newest global
// row.
func EffectiveSetting(rows []SettingRow, shortname string) (SettingRow, bool) {
	var best SettingRow
	found := false
	for _, r := range rows {
		if r.Shortname != shortname {
			continue
		}
		better := !found || (!r.Global() && best.Global()) || (r.Global() == best.Global() && r.ID > best.ID)
		if better {
			best, found = r, true
		}
	}
	return best, found
}

// GoverningSettingRows are the rows of shortname that decide its value for
// the organisation: its own rows when it has any, else the global rows. A
// change made to all of them holds whichever of them Elentra reads (the table
// has no unique key, so there may be several), and leaves other
// organisations' values alone when the organisation has its own row.
func GoverningSettingRows(rows []SettingRow, shortname string) []SettingRow {
	var own, global []SettingRow
	for _, r := range rows {
		switch {
		case r.Shortname != shortname:
		case r.Global():
			global = append(global, r)
		default:
			own = append(own, r)
		}
	}
	if len(own) > 0 {
		return own
	}
	return global
}

// HasTable reports whether schema.table exists, for tables that only some
// Elentra versions have, such as cron. It asks for no row of the table rather
// than reading information_schema.tables: the embedded test engine computes
// the size of every table of every database for that view and, having read
// them, writes its stale copies back, losing what another connection wrote
// meanwhile.
func (db *DB) HasTable(ctx context.Context, schema, table string) (bool, error) {
	if !ValidIdent(schema) || !ValidIdent(table) {
		return false, fmt.Errorf("look up table %q.%q: not a plain identifier", schema, table)
	}
	var none []int
	err := db.Select(ctx, &none, `SELECT 1 FROM `+qualify(schema, table)+` LIMIT 0`)
	switch {
	case err == nil:
		return true, nil
	case IsNoSuchTable(err) || isNoSuchDatabase(err):
		return false, nil
	}
	return false, fmt.Errorf("look up table %s.%s: %w", schema, table, err)
}

func asString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case []byte:
		return string(x)
	default:
		return fmt.Sprint(x)
	}
}

func isTrue(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes", "y", "on":
		return true
	}
	return false
}

// The meeting window: personal_meeting_window_minutes, how many minutes
// before a learning event its Teams link becomes clickable.
const (
	// DefaultMeetingWindow is the window when Elentra has no setting, or
	// one that cannot be used (the guide's default).
	DefaultMeetingWindow = 10
	// MaxMeetingWindow is the longest window used: a day. More is almost
	// certainly hours typed as minutes.
	MaxMeetingWindow = 24 * 60
)

// MeetingWindowFix is what to do about a meeting window that cannot be used.
const MeetingWindowFix = "set it to the minutes before an event its Teams link should open, from 0 to 1440 (Elentra's default is 10): UPDATE settings SET value = '10' WHERE shortname = '" +
	SettingMeetingWindow + "'"

// MeetingWindow is the window the syncs use for personal_meeting_window_minutes
// (value and found as Setting returns them): the value when it is a whole
// number of minutes from 0 to MaxMeetingWindow, else DefaultMeetingWindow.
// When the value is set but not used, unused says so, and which window is
// used, in one sentence: the same for check-config and the sync's report.
func MeetingWindow(value string, found bool) (minutes int, unused string) {
	if !found {
		return DefaultMeetingWindow, ""
	}
	v := strings.TrimSpace(value)
	n, err := strconv.Atoi(v)
	if err == nil && n >= 0 && n <= MaxMeetingWindow {
		return n, ""
	}
	why := fmt.Sprintf("%q, not a whole number of minutes", value)
	switch {
	case err != nil:
	case n < 0:
		why = v + ", less than 0 (links would open after events start)"
	default:
		why = v + ", more than a day (were hours meant?)"
	}
	return DefaultMeetingWindow, fmt.Sprintf("Elentra's setting %s is %s: meeting links open %d minutes before each event",
		SettingMeetingWindow, why, DefaultMeetingWindow)
}
