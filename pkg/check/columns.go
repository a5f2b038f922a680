package check

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/elentra-teams/elentra-teams/internal/text"
	"github.com/elentra-teams/elentra-teams/pkg/config"
	"github.com/elentra-teams/elentra-teams/pkg/elentra"
)

// toolTablePrefix starts the names of the tool's own tables, which are no
// place to look for Elentra's settings.
const toolTablePrefix = "msteams_"

// Elentra 1.22 keeps, in its own screens, a Teams switch per course and per
// learning event and a Microsoft Object ID in each user's profile; its
// schema is not public. These checks look through Elentra's two schemas
// for columns whose names say Microsoft, and name the key that would make
// the tool read each one (elentra.object_id_column,
// elentra.course_switch_column, elentra.event_switch_column), or check the
// column a key names.

// microsoftWords are the words of a column name that say Microsoft. Whole
// words only: carms_number is no Microsoft column, nor is terms or items.
var microsoftWords = map[string]bool{
	"microsoft": true, "msteams": true, "teams": true, "ms": true, "azure": true,
	"aad": true, "entra": true, "objectid": true, "oid": true,
}

// nameWords splits a table or column name into its words, lower-cased: at
// each "_" (and at each other character that is neither a letter nor a
// digit), and where a lower-case letter or digit is followed by a capital,
// or a run of capitals by a capital and a lower-case letter (msTeams,
// AADObjectId).
func nameWords(name string) []string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	rs := []rune(name)
	for i, r := range rs {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			flush()
			continue
		}
		if unicode.IsUpper(r) && len(cur) > 0 {
			prev := cur[len(cur)-1]
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
				flush()
			}
		}
		cur = append(cur, r)
	}
	flush()
	return words
}

// looksMicrosoft reports whether a column's name says Microsoft: one of its
// words (nameWords) is microsoft, msteams, teams, ms, azure, aad, entra,
// objectid or oid, or two of them in a row are object and id.
func looksMicrosoft(column string) bool {
	words := nameWords(column)
	for i, w := range words {
		if microsoftWords[w] || (w == "object" && i+1 < len(words) && words[i+1] == "id") {
			return true
		}
	}
	return false
}

// tableKind is what a table holds, by the words of its name.
type tableKind int

const (
	otherTable tableKind = iota
	userTable
	courseTable
	eventTable
	settingsTable
)

// kindOfTable says what a table holds: events (event, events), courses
// (course, courses), users (user, users, profile, profiles), or settings
// (settings, setting, config, configuration, options, preferences,
// integration, integrations, organisation, organisations), first that
// applies; other tables are not looked at.
func kindOfTable(table string) tableKind {
	words := nameWords(table)
	has := func(ws ...string) bool {
		for _, w := range ws {
			if slices.Contains(words, w) {
				return true
			}
		}
		return false
	}
	switch {
	case has("event", "events"):
		return eventTable
	case has("course", "courses"):
		return courseTable
	case has("user", "users", "profile", "profiles"):
		return userTable
	case has("settings", "setting", "config", "configuration", "options", "preferences",
		"integration", "integrations", "organisation", "organisations"):
		return settingsTable
	}
	return otherTable
}

// A column's data type: a switch holds a number, a flag or one of a list;
// an Object ID is text.
var (
	switchTypes = []string{"tinyint", "smallint", "mediumint", "int", "integer", "bigint", "bit", "bool", "boolean", "enum", "set"}
	textTypes   = []string{"char", "varchar", "tinytext", "text", "mediumtext", "longtext", "binary", "varbinary"}
)

// microsoftColumn is a column of Elentra's whose name says Microsoft, with
// what the table it is in holds and the columns beside it.
type microsoftColumn struct {
	elentra.ColumnInfo
	kind    tableKind
	columns []string // every column of its table
}

func (c microsoftColumn) name() string { return c.Schema + "." + c.Table + "." + c.Column }

// keyColumn is the column of c's table that would key it: the first of
// candidates the table has, else a placeholder.
func (c microsoftColumn) keyColumn(candidates ...string) string {
	for _, k := range candidates {
		if slices.Contains(c.columns, k) {
			return k
		}
	}
	return "KEY_COLUMN"
}

// columnsInfo is what check-config read of the schemas, once.
type columnsInfo struct {
	all map[string][]string // "schema.table" → its columns
	// found are the columns whose names say Microsoft, on the tables of
	// users, courses, events and settings, the tool's own msteams_ tables
	// left out.
	found []microsoftColumn
}

// readColumns reads the columns of Elentra's two schemas, and of any
// schema a column key names, in one query, once.
func (e *Env) readColumns(ctx context.Context) (*columnsInfo, error) {
	if e.columns != nil {
		return e.columns, nil
	}
	schemas := []string{e.db.Name(), e.db.AuthName()}
	for _, k := range config.ColumnKeys(e.Config.Elentra) {
		if c, err := config.ParseColumn(k.Key, k.Spec); err == nil && !slices.Contains(schemas, c.Schema) {
			schemas = append(schemas, c.Schema)
		}
	}
	cols, err := e.db.Columns(ctx, schemas)
	if err != nil {
		return nil, err
	}
	info := &columnsInfo{all: map[string][]string{}}
	for _, c := range cols {
		t := c.Schema + "." + c.Table
		info.all[t] = append(info.all[t], c.Column)
	}
	for _, c := range cols {
		if strings.HasPrefix(strings.ToLower(c.Table), toolTablePrefix) || !slices.Contains(schemas[:2], c.Schema) || !looksMicrosoft(c.Column) {
			continue
		}
		if k := kindOfTable(c.Table); k != otherTable {
			info.found = append(info.found, microsoftColumn{ColumnInfo: c, kind: k, columns: info.all[c.Schema+"."+c.Table]})
		}
	}
	e.columns = info
	return info, nil
}

// columnCheck is what one column key's check looks for.
type columnCheck struct {
	key    config.ColumnKey
	kind   tableKind
	keys   []string // the key columns to suggest, first the table has
	fits   []string // the data types the value column usually has
	what   string   // what the column would hold
	unset  string   // what decides while the key is unset
	reads  string   // what the tool does with the column once set
	misfit string   // what a column of another type may be
}

func columnChecks(e config.Elentra) map[string]columnCheck {
	keys := config.ColumnKeys(e)
	return map[string]columnCheck{
		"object_id": {key: keys[0], kind: userTable, keys: []string{"proxy_id", "user_id", "id"}, fits: textTypes,
			what:   "users' Microsoft Object IDs (the guide's Object ID in the profile)",
			unset:  "the tool uses only the Object IDs sync-users matches and users link sets",
			reads:  "a user's Object ID there wins over a match by sync-users (users link wins over it)",
			misfit: "a setting of users' rather than an Object ID"},
		"course": {key: keys[1], kind: courseTable, keys: []string{"course_id"}, fits: switchTypes,
			what:   "Elentra's Teams switch of courses",
			unset:  "only 'courses enable' and sync.all_active_courses decide which courses are synced",
			reads:  "it decides after 'courses enable'/'courses disable' and before sync.all_active_courses",
			misfit: "a Team's id or name rather than a switch"},
		"event": {key: keys[2], kind: eventTable, keys: []string{"event_id"}, fits: switchTypes,
			what:   "Elentra's Teams switch of learning events",
			unset:  "only 'events enable' and sync.all_course_events decide which events get a meeting",
			reads:  "it decides after 'events enable'/'events disable' and before sync.all_course_events",
			misfit: "a meeting's id or link rather than a switch"},
	}
}

func checkObjectIDColumn(ctx context.Context, e *Env) Result {
	return e.checkColumnKey(ctx, columnChecks(e.Config.Elentra)["object_id"])
}

func checkCourseSwitch(ctx context.Context, e *Env) Result {
	return e.checkColumnKey(ctx, columnChecks(e.Config.Elentra)["course"])
}

func checkEventSwitch(ctx context.Context, e *Env) Result {
	return e.checkColumnKey(ctx, columnChecks(e.Config.Elentra)["event"])
}

// checkColumnKey checks a column key that is set (its table and columns
// exist), or, while it is unset, names the columns of Elentra's that look
// like what it would read and the value to give it.
func (e *Env) checkColumnKey(ctx context.Context, cc columnCheck) Result {
	info, err := e.readColumns(ctx)
	if err != nil {
		return warn("cannot read the columns of Elentra's tables: "+text.OneLine(err.Error()),
			"grant database.user SELECT on Elentra's schemas (information_schema lists only what it may read)")
	}
	key := cc.key
	if key.Spec != "" {
		c, err := config.ParseColumn(key.Key, key.Spec)
		if err != nil {
			return configResult(err) // config.database says so too
		}
		cols, ok := info.all[c.Schema+"."+c.Table]
		var missing []string
		for _, col := range []string{c.KeyColumn, c.ValueColumn} {
			if ok && !slices.Contains(cols, col) {
				missing = append(missing, col)
			}
		}
		switch {
		case !ok:
			return fail(fmt.Sprintf("%s%s names the table %s.%s, which the database does not have (or database.user may not read)", key.Key, e.source(key.Key), c.Schema, c.Table),
				"name "+cc.what+" as schema.table.key_column.value_column, e.g. "+key.Example+"; check-config names the likely columns once the key is unset")
		case len(missing) > 0:
			return fail(fmt.Sprintf("%s%s: the table %s.%s has no column %s", key.Key, e.source(key.Key), c.Schema, c.Table, strings.Join(missing, " or ")),
				fmt.Sprintf("name the column keyed by %s and the one holding the value, as schema.table.key_column.value_column", key.Keyed))
		}
		on := ""
		if key.OnKey != "" {
			on = fmt.Sprintf(" (%s %q means on)", key.OnKey, key.On)
		}
		return pass("%s is %s%s: %s", key.Key, c, on, cc.reads)
	}
	var found []microsoftColumn
	for _, c := range info.found {
		if c.kind == cc.kind {
			found = append(found, c)
		}
	}
	if len(found) == 0 {
		return pass("no column of Elentra's %s looks like %s; %s", tablesOf(cc.kind), cc.what, cc.unset)
	}
	// Each column with the key's value that would read it; the first whose
	// type fits is the one the fix names.
	var names, details []string
	suggest, fits := "", false
	for _, c := range found {
		names = append(names, c.name())
		value := c.Schema + "." + c.Table + "." + c.keyColumn(cc.keys...) + "." + c.Column
		line := fmt.Sprintf("%s (%s): %s: %s", c.name(), c.DataType, key.Key, value)
		fit := slices.Contains(cc.fits, c.DataType)
		if !fit {
			line += " — a " + c.DataType + ": perhaps " + cc.misfit
		}
		if suggest == "" || (fit && !fits) {
			suggest, fits = value, fit
		}
		details = append(details, line)
	}
	fix := fmt.Sprintf("if it holds %s, set %s: %s", cc.what, key.Key, suggest)
	if strings.Contains(suggest, "KEY_COLUMN") {
		fix += fmt.Sprintf(" (KEY_COLUMN: the column of its table holding the %s)", key.Keyed)
	}
	if key.OnKey != "" {
		fix += fmt.Sprintf(", and %s to the value that means on if it is not %q", key.OnKey, key.On)
	}
	r := warn(fmt.Sprintf("%s is not set, but %s %s like %s; %s", key.Key, strings.Join(names, ", "), lookOrLooks(len(names)), cc.what, cc.unset), fix)
	if len(details) > 1 || !fits {
		r = r.with(details...)
	}
	return r
}

// checkMicrosoftColumns names the columns of settings-like tables whose
// names say Microsoft: no key reads them, but they may be what one should.
func checkMicrosoftColumns(ctx context.Context, e *Env) Result {
	info, err := e.readColumns(ctx)
	if err != nil {
		return warn("cannot read the columns of Elentra's tables: "+text.OneLine(err.Error()),
			"grant database.user SELECT on Elentra's schemas (information_schema lists only what it may read)")
	}
	var names, details []string
	for _, c := range info.found {
		if c.kind == settingsTable {
			names = append(names, c.name())
			details = append(details, fmt.Sprintf("%s (%s)", c.name(), c.DataType))
		}
	}
	if len(names) == 0 {
		return pass("no column of Elentra's settings tables looks like Microsoft's")
	}
	var unset []string
	for _, k := range config.ColumnKeys(e.Config.Elentra) {
		if k.Spec == "" {
			unset = append(unset, k.Key)
		}
	}
	msg := fmt.Sprintf("%s of Elentra's settings tables %s like Microsoft's: %s. It may be Elentra's own Teams setup (tenant, client, a switch or the Object IDs kept by another key than a course, event or user id), which the tool does not read",
		text.Plural(len(names), "column", "columns"), lookOrLooks(len(names)), strings.Join(names, ", "))
	if len(unset) == 0 {
		return pass("%s", msg)
	}
	r := warn(msg, "compare it with microsoft.tenant_id and microsoft.client_id; if it switches courses or events on, or holds users' Object IDs, by their ids, name it in "+strings.Join(unset, ", ")+" (schema.table.key_column.value_column)")
	if len(details) > 1 {
		r = r.with(details...)
	}
	return r
}

func lookOrLooks(n int) string {
	if n == 1 {
		return "looks"
	}
	return "look"
}

func tablesOf(k tableKind) string {
	switch k {
	case userTable:
		return "user tables"
	case courseTable:
		return "course tables"
	case eventTable:
		return "event tables"
	}
	return "settings tables"
}
