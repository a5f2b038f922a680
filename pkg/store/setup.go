package store

import (
	"context"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/elentra-teams/elentra-teams/pkg/elentra"
)

// Statement is one SQL statement of a plan: what it does, in words, and the
// SQL with its bound arguments. It is run with the arguments bound; Display
// inlines them only to show the statement to a person.
type Statement struct {
	Description string
	SQL         string
	Args        []any
	// Migration marks a statement of an embedded migration: those are run by
	// Migrate, which records each migration once all its statements succeeded.
	Migration bool
	// Rows are the rows the statement changes, described for a person
	// (`--dry-run` lists them).
	Rows []string
	// expectRows, when positive, is the number of rows the statement must
	// change; fewer means the row changed since it was planned.
	expectRows int64
}

// Display is the statement with its arguments inlined as SQL literals, for
// `--dry-run` and logs. Never run it: the statement runs with bound
// arguments.
func (s Statement) Display() string { return Inline(s.SQL, s.Args) }

// MarshalJSON shows the statement as it is displayed.
func (s Statement) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Description string   `json:"description"`
		SQL         string   `json:"sql"`
		Rows        []string `json:"rows,omitempty"`
	}{s.Description, s.Display(), s.Rows})
}

// Inline replaces each ? placeholder of query (outside quotes, backquotes and
// comments) by the next argument written as a MySQL literal. It is for
// display only.
func Inline(query string, args []any) string {
	var b strings.Builder
	next := 0
	var quote byte
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case quote != 0:
			b.WriteByte(c)
			if c == '\\' && quote != '`' && i+1 < len(query) {
				i++
				b.WriteByte(query[i])
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"' || c == '`':
			quote = c
			b.WriteByte(c)
		case c == '?' && next < len(args):
			b.WriteString(literal(args[next]))
			next++
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// literal writes v as MySQL would read it back.
func literal(v any) string {
	if dv, ok := v.(driver.Valuer); ok {
		val, err := dv.Value()
		if err != nil {
			return "?"
		}
		v = val
	}
	switch x := v.(type) {
	case nil:
		return "NULL"
	case bool:
		if x {
			return "1"
		}
		return "0"
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case string:
		return quoteString(x)
	case []byte:
		return "X'" + hex.EncodeToString(x) + "'"
	case time.Time:
		return "'" + x.UTC().Format(time.DateTime) + "'"
	default:
		return quoteString(fmt.Sprint(x))
	}
}

// quoteString quotes s as a MySQL string literal, escaping as
// mysql_real_escape_string does.
func quoteString(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		switch r {
		case 0:
			b.WriteString(`\0`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\\':
			b.WriteString(`\\`)
		case '\'':
			b.WriteString(`\'`)
		case '"':
			b.WriteString(`\"`)
		case '\x1a':
			b.WriteString(`\Z`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// Values `setup` writes where Elentra has none.
const (
	TeamsEnabledValue    = "1"
	DefaultMeetingWindow = "10"
	MenuEntry            = "microsoft"
	settingsTable        = "settings"
	cronTable            = "cron"
	setupLockPurpose     = "setup"
)

// SetupOptions are `setup`'s switches.
type SetupOptions struct {
	// OrganisationID is elentra.organisation_id: whose settings are read.
	OrganisationID int
	// Enable sets microsoft_teams_enabled to 1 even where an admin set
	// another value.
	Enable bool
	// Menu appends "microsoft" to user_menu_ordering.
	Menu bool
	// Takeover deactivates the active rows of Elentra's cron table that run
	// Microsoft or Teams jobs (elentra.MicrosoftJob).
	Takeover bool
}

// SetupPlan is what `setup` would change, in the order it runs, and what it
// found that a person should know and that it leaves as it is.
type SetupPlan struct {
	Statements []Statement `json:"statements"`
	Notes      []string    `json:"notes"`
}

// Empty reports whether the plan changes nothing.
func (p *SetupPlan) Empty() bool { return len(p.Statements) == 0 }

// Summary is one line per change: consecutive statements with the same
// description (a migration's) are one change.
func (p *SetupPlan) Summary() []string {
	var out []string
	for i := 0; i < len(p.Statements); {
		j := i + 1
		for j < len(p.Statements) && p.Statements[j].Description == p.Statements[i].Description {
			j++
		}
		line := p.Statements[i].Description
		if n := j - i; n > 1 {
			line += fmt.Sprintf(" (%d statements)", n)
		}
		out = append(out, line)
		i = j
	}
	return out
}

func (p *SetupPlan) note(format string, args ...any) {
	p.Notes = append(p.Notes, fmt.Sprintf(format, args...))
}

// planMigrations returns the statements Migrate would run now, each described
// by its migration.
func planMigrations(ctx context.Context, db *elentra.DB) ([]Statement, error) {
	pending, err := Pending(ctx, db)
	if err != nil {
		return nil, err
	}
	ok, err := db.HasTable(ctx, db.Name(), VersionTable)
	if err != nil {
		return nil, err
	}
	var out []Statement
	if !ok {
		out = append(out, Statement{Description: "create " + VersionTable, SQL: versionTableDDL(db), Migration: true})
	}
	for _, m := range pending {
		desc := fmt.Sprintf("migration %04d %s", m.Version, m.Description)
		for _, s := range m.Statements {
			out = append(out, Statement{Description: desc, SQL: qualifyDDL(db, s), Migration: true})
		}
		out = append(out, Statement{Description: desc, Migration: true,
			SQL:  `INSERT INTO ` + db.Table(VersionTable) + ` (version, description, applied_at) VALUES (?, ?, UTC_TIMESTAMP())`,
			Args: []any{m.Version, m.Description}})
	}
	inst, err := ReadInstallation(ctx, db)
	if err != nil || inst != nil {
		return out, err
	}
	// Migrate makes the installation last (ensureInstallation), with a
	// random id: shown here as it will run.
	here, err := ReadServerIdentity(ctx, db)
	if err != nil {
		return nil, err
	}
	out = append(out, Statement{Description: "create this installation's id, bound to " + here.String(), Migration: true,
		SQL: `INSERT INTO ` + db.Table(InstallationTable) + ` (id, installation_id, database_name, server_uuid, server_hostname, server_port,
  server_datadir, created_at, bound_at) VALUES (1, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(), UTC_TIMESTAMP())`,
		Args: []any{"(8 random characters)", here.Database, nullString(here.UUID), nullString(here.Hostname), here.Port, nullString(here.DataDir)}})
	return out, nil
}

// PlanSetup reads what `setup` would change, changing nothing: the pending
// migrations, then microsoft_teams_enabled and
// personal_meeting_window_minutes where absent (an existing
// microsoft_teams_enabled other than 1 only with Enable), the menu entry
// (Menu) and the deactivation of Elentra's own Microsoft cron jobs
// (Takeover). A database that needs nothing gives an empty plan.
func PlanSetup(ctx context.Context, db *elentra.DB, opts SetupOptions) (*SetupPlan, error) {
	plan := &SetupPlan{Notes: []string{}, Statements: []Statement{}}
	migrations, err := planMigrations(ctx, db)
	if err != nil {
		return nil, err
	}
	plan.Statements = append(plan.Statements, migrations...)

	rows, err := db.SettingRows(ctx, []string{elentra.SettingTeamsEnabled, elentra.SettingMeetingWindow, elentra.SettingUserMenu}, opts.OrganisationID)
	if err != nil {
		return nil, err
	}
	planTeamsEnabled(db, plan, rows, opts)
	planMeetingWindow(db, plan, rows)
	if opts.Menu {
		planMenu(db, plan, rows, opts)
	}
	if err := planTakeover(ctx, db, plan, opts); err != nil {
		return nil, err
	}
	return plan, nil
}

func insertGlobalSetting(db *elentra.DB, shortname, value string) Statement {
	return Statement{
		Description: fmt.Sprintf("insert %s = %s for all organisations", shortname, value),
		SQL:         `INSERT INTO ` + db.Table(settingsTable) + ` (shortname, organisation_id, value) VALUES (?, NULL, ?)`,
		Args:        []any{shortname, value},
	}
}

func describeRow(r elentra.SettingRow) string {
	if r.Global() {
		return fmt.Sprintf("setting_id %d, all organisations", r.ID)
	}
	return fmt.Sprintf("setting_id %d, organisation %d", r.ID, r.OrganisationID)
}

func planTeamsEnabled(db *elentra.DB, plan *SetupPlan, rows []elentra.SettingRow, opts SetupOptions) {
	name := elentra.SettingTeamsEnabled
	governing := elentra.GoverningSettingRows(rows, name)
	if len(governing) == 0 {
		plan.Statements = append(plan.Statements, insertGlobalSetting(db, name, TeamsEnabledValue))
		return
	}
	for _, r := range governing {
		if strings.TrimSpace(r.Value) == TeamsEnabledValue {
			continue
		}
		if !opts.Enable {
			plan.note("%s is %q (%s): the integration is switched off there and is left so; run 'elentra-teams setup --enable' to switch it on",
				name, r.Value, describeRow(r))
			continue
		}
		plan.Statements = append(plan.Statements, Statement{
			Description: fmt.Sprintf("set %s to %s (%s; was %q)", name, TeamsEnabledValue, describeRow(r), r.Value),
			SQL:         `UPDATE ` + db.Table(settingsTable) + ` SET value = ? WHERE setting_id = ? AND shortname = ? AND value = ?`,
			Args:        []any{TeamsEnabledValue, r.ID, name, r.Value},
			expectRows:  1,
		})
	}
}

func planMeetingWindow(db *elentra.DB, plan *SetupPlan, rows []elentra.SettingRow) {
	name := elentra.SettingMeetingWindow
	r, ok := elentra.EffectiveSetting(rows, name)
	if !ok {
		plan.Statements = append(plan.Statements, insertGlobalSetting(db, name, DefaultMeetingWindow))
		return
	}
	if _, unused := elentra.MeetingWindow(r.Value, true); unused != "" {
		plan.note("%s is %q (%s), not a number of minutes from 0 to %d, so the syncs use %d; it is left as it is: set it to a whole number such as %s in Elentra",
			name, r.Value, describeRow(r), elentra.MaxMeetingWindow, elentra.DefaultMeetingWindow, DefaultMeetingWindow)
	}
}

// MenuHasEntry reports whether a user_menu_ordering value (a comma list)
// holds entry, without regard to case or spaces.
func MenuHasEntry(value, entry string) bool {
	for _, item := range strings.Split(value, ",") {
		if strings.EqualFold(strings.TrimSpace(item), entry) {
			return true
		}
	}
	return false
}

// AppendMenuEntry appends entry to a comma list, dropping a trailing comma
// and not leaving a leading one on an empty list.
func AppendMenuEntry(value, entry string) string {
	v := strings.TrimRight(strings.TrimSpace(value), ", ")
	if v == "" {
		return entry
	}
	return v + "," + entry
}

func planMenu(db *elentra.DB, plan *SetupPlan, rows []elentra.SettingRow, opts SetupOptions) {
	name := elentra.SettingUserMenu
	governing := elentra.GoverningSettingRows(rows, name)
	if len(governing) == 0 {
		plan.note("Elentra has no %s setting for organisation %d (Elentra before 1.22 has no Teams menu entry): the menu is left as it is",
			name, opts.OrganisationID)
		return
	}
	for _, r := range governing {
		if MenuHasEntry(r.Value, MenuEntry) {
			continue
		}
		plan.Statements = append(plan.Statements, Statement{
			Description: fmt.Sprintf("append %s to %s (%s)", MenuEntry, name, describeRow(r)),
			// The old value in the WHERE: an edit made in Elentra meanwhile
			// is not overwritten.
			SQL:        `UPDATE ` + db.Table(settingsTable) + ` SET value = ? WHERE setting_id = ? AND shortname = ? AND value = ?`,
			Args:       []any{AppendMenuEntry(r.Value, MenuEntry), r.ID, name, r.Value},
			expectRows: 1,
		})
	}
}

func planTakeover(ctx context.Context, db *elentra.DB, plan *SetupPlan, opts SetupOptions) error {
	hasCron, err := db.HasTable(ctx, db.Name(), cronTable)
	if err != nil {
		return err
	}
	if !hasCron {
		if opts.Takeover {
			plan.note("Elentra has no cron table (it has one from 1.22): there are no Elentra Microsoft jobs to switch off")
		}
		return nil
	}
	cron, err := db.ElentraCronJobs(ctx)
	if err != nil {
		return err
	}
	active := cron.Active()
	if len(active) == 0 {
		return nil
	}
	if !opts.Takeover {
		plan.note("Elentra's own Microsoft jobs are active in its cron table (%s): they sync the same tenant as this tool; run 'elentra-teams setup --takeover' to switch them off",
			elentra.CronJobIDs(active))
		return nil
	}
	// By id (by command where the table has no id column): exactly the
	// active rows elentra.MicrosoftJob matched, the rows check-config
	// flags.
	col, ids, commands := cron.IDColumn, make([]int, len(active)), make([]string, len(active))
	rows := make([]string, len(active))
	for i, j := range active {
		ids[i], commands[i], rows[i] = j.ID, j.Command, j.String()
	}
	var in any = ids
	if col == "" {
		col, in = "command", commands
	}
	query, args, err := elentra.In(`UPDATE `+db.Table(cronTable)+" SET active = 0 WHERE `"+col+"` IN (?) AND active <> 0", in)
	if err != nil {
		return err
	}
	plan.Statements = append(plan.Statements, Statement{
		Description: fmt.Sprintf("deactivate Elentra's own Microsoft jobs in its cron table (%s)", elentra.CronJobIDs(active)),
		SQL:         query,
		Args:        args,
		Rows:        rows,
	})
	return nil
}

// ApplySetup plans and applies under a named lock, so that two `setup`s at
// once neither insert a setting twice nor race on a migration, and returns
// what it applied. Migrations run through Migrate (recording now); the other
// statements run in order with bound arguments. A second call applies
// nothing.
func ApplySetup(ctx context.Context, db *elentra.DB, opts SetupOptions, now time.Time) (*SetupPlan, error) {
	unlock, err := lock(ctx, db, setupLockPurpose)
	if err != nil {
		return nil, err
	}
	defer unlock()

	plan, err := PlanSetup(ctx, db, opts)
	if err != nil {
		return nil, err
	}
	done := &SetupPlan{Notes: plan.Notes, Statements: []Statement{}}
	migrated := false
	for _, s := range plan.Statements {
		if s.Migration {
			if !migrated {
				if _, err := MigrateAt(ctx, db, now); err != nil {
					return done, err
				}
				migrated = true
			}
			done.Statements = append(done.Statements, s)
			continue
		}
		res, err := db.Exec(ctx, s.SQL, s.Args...)
		if err != nil {
			return done, fmt.Errorf("%s: %w", s.Description, err)
		}
		if s.expectRows > 0 {
			if n, err := res.RowsAffected(); err == nil && n < s.expectRows {
				return done, fmt.Errorf("%s: the row changed while setup ran; run setup again", s.Description)
			}
		}
		done.Statements = append(done.Statements, s)
	}
	return done, nil
}
