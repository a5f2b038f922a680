package check

import (
	"bufio"
	"context"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/elentra-teams/elentra-teams/pkg/config"
	"github.com/elentra-teams/elentra-teams/pkg/elentra/elentratest"
)

func TestNameWords(t *testing.T) {
	for _, tt := range []struct {
		name string
		want []string
	}{
		{"microsoft_object_id", []string{"microsoft", "object", "id"}},
		{"carms_number", []string{"carms", "number"}},
		{"msTeamsEnabled", []string{"ms", "teams", "enabled"}},
		{"AADObjectId", []string{"aad", "object", "id"}},
		{"objectID", []string{"object", "id"}},
		{"one45_scenariosAttached_id", []string{"one45", "scenarios", "attached", "id"}},
		{"__ms__", []string{"ms"}},
		{"ms-teams", []string{"ms", "teams"}},
		{"", nil},
	} {
		if got := nameWords(tt.name); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("nameWords(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestLooksMicrosoft(t *testing.T) {
	for _, tt := range []struct {
		column string
		want   bool
	}{
		{"microsoft_object_id", true},
		{"ms_object_id", true},
		{"object_id", true},
		{"objectid", true},
		{"oid", true},
		{"azure_oid", true},
		{"aad_id", true},
		{"entra_id", true},
		{"ms_teams_enabled", true},
		{"msteams", true},
		{"teams_meeting", true},
		{"use_teams", true},
		{"MicrosoftObjectID", true},
		{"msTeamsEnabled", true},
		{"Teams", true},
		// Substrings are not words.
		{"carms_number", false},
		{"terms", false},
		{"items", false},
		{"sms_number", false},
		{"msg_id", false},
		{"objective_id", false},
		{"objectives_release_date", false},
		{"handler_object", false},
		{"object_type", false},
		{"id_object", false},
		{"entrada_id", false},
		{"team_id", false},
		{"teamsize", false},
		{"void", false},
		{"oidc", false},
		{"paid", false},
		{"course_id", false},
	} {
		if got := looksMicrosoft(tt.column); got != tt.want {
			t.Errorf("looksMicrosoft(%q) = %v, want %v", tt.column, got, tt.want)
		}
	}
}

func TestKindOfTable(t *testing.T) {
	for _, tt := range []struct {
		table string
		want  tableKind
	}{
		{"user_data", userTable},
		{"user_access", userTable},
		{"user_preferences", userTable},
		{"profile_fields", userTable},
		{"courses", courseTable},
		{"course_settings", courseTable},
		{"ms_teams_course", courseTable},
		{"events", eventTable},
		{"event_links", eventTable},
		{"course_events", eventTable},
		{"settings", settingsTable},
		{"microsoft_settings", settingsTable},
		{"rp_now_config", settingsTable},
		{"organisations", settingsTable},
		{"groups", otherTable},
		{"cron", otherTable},
		{"curriculum_periods", otherTable},
	} {
		if got := kindOfTable(tt.table); got != tt.want {
			t.Errorf("kindOfTable(%q) = %v, want %v", tt.table, got, tt.want)
		}
	}
}

// Not one of the 3,815 columns of Entrada ME 1.9's install SQL looks like
// Microsoft's: on a stock Elentra, check-config suggests nothing.
func TestNoEntrada19ColumnLooksMicrosoft(t *testing.T) {
	f, err := os.Open("testdata/entrada-1.9-columns.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n, tables := 0, map[tableKind]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.Split(line, ".")
		if len(parts) != 3 {
			t.Fatalf("%q is not database.table.column", line)
		}
		n++
		tables[kindOfTable(parts[1])]++
		if looksMicrosoft(parts[2]) {
			t.Errorf("%s looks like a Microsoft column", line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 3815 {
		t.Errorf("read %d columns, want Entrada 1.9's 3,815", n)
	}
	// The matcher ran over the tables check-config looks at.
	for _, k := range []tableKind{userTable, courseTable, eventTable, settingsTable} {
		if tables[k] == 0 {
			t.Errorf("no column of a %s", tablesOf(k))
		}
	}
}

// columnsEnv is an Env on a fresh Elentra-shaped database, with the
// configuration's defaults.
func columnsEnv(t *testing.T) (*Env, *elentratest.TestDB) {
	t.Helper()
	tdb := elentratest.New(t)
	cfg := config.Defaults()
	cfg.Database = tdb.Config
	return &Env{Config: &cfg, db: tdb.DB}, tdb
}

// A stock Elentra-shaped schema: every column check passes and suggests
// nothing.
func TestColumnChecksOnAStockSchema(t *testing.T) {
	e, _ := columnsEnv(t)
	for _, c := range []func(context.Context, *Env) Result{checkObjectIDColumn, checkCourseSwitch, checkEventSwitch, checkMicrosoftColumns} {
		if r := c(context.Background(), e); r.Status != OK || strings.Contains(r.Message, "is not set, but") {
			t.Errorf("%s %q (fix %q)", r.Status, r.Message, r.Fix)
		}
	}
}

// A column whose name says Microsoft, under each of several plausible
// names, on the table of users, courses, events or settings: while its key
// is unset, check-config's line names it and the value to give the key.
func TestColumnChecksSuggestTheKey(t *testing.T) {
	e, tdb := columnsEnv(t)
	main, auth := tdb.Name, tdb.AuthName
	for _, tt := range []struct {
		name   string
		table  string // schema.table, made when it does not exist
		create string // its other columns, when it is made
		column string // the column added, with its type
		check  func(context.Context, *Env) Result
		says   string // in the message
		fix    string // in the fix
	}{
		{"Object ID in user_data", auth + ".user_data", "", "microsoft_object_id varchar(64)", checkObjectIDColumn,
			auth + ".user_data.microsoft_object_id looks like users' Microsoft Object IDs",
			"set elentra.object_id_column: " + auth + ".user_data.id.microsoft_object_id"},
		{"camel-case Object ID", auth + ".user_data", "", "AzureObjectId char(36)", checkObjectIDColumn,
			auth + ".user_data.AzureObjectId looks like", "elentra.object_id_column: " + auth + ".user_data.id.AzureObjectId"},
		{"profile table keyed by proxy_id", auth + ".user_profiles", "proxy_id int, bio text", "ms_oid varchar(36)", checkObjectIDColumn,
			auth + ".user_profiles.ms_oid looks like", "elentra.object_id_column: " + auth + ".user_profiles.proxy_id.ms_oid"},
		{"entra id on a user table", main + ".user_ms_accounts", "user_id int", "entra_object_id varchar(36)", checkObjectIDColumn,
			main + ".user_ms_accounts.entra_object_id looks like", "elentra.object_id_column: " + main + ".user_ms_accounts.user_id.entra_object_id"},
		{"course switch on courses", main + ".courses", "", "ms_teams_enabled tinyint(1) NOT NULL DEFAULT 0", checkCourseSwitch,
			main + ".courses.ms_teams_enabled looks like Elentra's Teams switch of courses",
			"set elentra.course_switch_column: " + main + ".courses.course_id.ms_teams_enabled, and elentra.course_switch_on to the value that means on if it is not \"1\""},
		{"course switch in a settings table of courses", main + ".course_settings", "setting_id int, course_id int", "use_msteams enum('yes','no')", checkCourseSwitch,
			main + ".course_settings.use_msteams looks like", "elentra.course_switch_column: " + main + ".course_settings.course_id.use_msteams"},
		{"a Team's id on courses", main + ".courses", "", "microsoft_team_id varchar(64)", checkCourseSwitch,
			main + ".courses.microsoft_team_id looks like", "elentra.course_switch_column: " + main + ".courses.course_id.microsoft_team_id"},
		{"event switch on events", main + ".events", "", "teams_meeting tinyint(1)", checkEventSwitch,
			main + ".events.teams_meeting looks like Elentra's Teams switch of learning events",
			"set elentra.event_switch_column: " + main + ".events.event_id.teams_meeting"},
		{"event switch without an event_id", main + ".event_ms_options", "id int", "azure_meeting bit(1)", checkEventSwitch,
			main + ".event_ms_options.azure_meeting looks like", main + ".event_ms_options.KEY_COLUMN.azure_meeting (KEY_COLUMN: the column of its table holding the event_id)"},
		{"a tenant in a settings table", main + ".integration_settings", "id int", "aad_tenant_id varchar(64)", checkMicrosoftColumns,
			"1 column of Elentra's settings tables looks like Microsoft's: " + main + ".integration_settings.aad_tenant_id",
			"name it in elentra.object_id_column, elentra.course_switch_column, elentra.event_switch_column"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			schema, table, _ := strings.Cut(tt.table, ".")
			full := "`" + schema + "`.`" + table + "`"
			colName, _, _ := strings.Cut(tt.column, " ")
			if tt.create != "" {
				tdb.Exec(t, "CREATE TABLE "+full+" ("+tt.create+", "+tt.column+")")
				defer tdb.Exec(t, "DROP TABLE "+full)
			} else {
				tdb.Exec(t, "ALTER TABLE "+full+" ADD COLUMN "+tt.column)
				defer tdb.Exec(t, "ALTER TABLE "+full+" DROP COLUMN "+colName)
			}
			e.columns = nil
			r := tt.check(context.Background(), e)
			if r.Status != Warn || !strings.Contains(r.Message, tt.says) || !strings.Contains(r.Fix, tt.fix) {
				t.Errorf("got %s %q\nfix %q\nwant ! saying %q, fix %q", r.Status, r.Message, r.Fix, tt.says, tt.fix)
			}
			// The tool's own tables, and tables of other things, are
			// never suggested.
			for _, other := range []func(context.Context, *Env) Result{checkObjectIDColumn, checkCourseSwitch, checkEventSwitch, checkMicrosoftColumns} {
				if o := other(context.Background(), e); o.Status != OK && reflect.ValueOf(other).Pointer() != reflect.ValueOf(tt.check).Pointer() {
					t.Errorf("another check found it too: %s %q", o.Status, o.Message)
				}
			}
		})
	}
}

// Columns of the tool's own msteams_ tables, and of tables that hold
// neither users, courses, events nor settings, are not suggested; nor is a
// column that only contains a Microsoft word.
func TestColumnChecksLeaveOutOtherTables(t *testing.T) {
	e, tdb := columnsEnv(t)
	tdb.Exec(t, "CREATE TABLE "+tdb.Table("msteams_courses_copy")+" (course_id int, ms_teams_enabled tinyint)")
	tdb.Exec(t, "ALTER TABLE "+tdb.Table("groups")+" ADD COLUMN ms_group_id varchar(64)")
	tdb.Exec(t, "ALTER TABLE "+tdb.AuthTable("user_data")+" ADD COLUMN carms_number varchar(32)")
	for _, c := range []func(context.Context, *Env) Result{checkObjectIDColumn, checkCourseSwitch, checkEventSwitch, checkMicrosoftColumns} {
		if r := c(context.Background(), e); r.Status != OK {
			t.Errorf("%s %q", r.Status, r.Message)
		}
	}
}

// A key that is set is checked against the database: the column it names
// exists (✓, saying what it does) or not (✗); the suggestion is gone.
func TestColumnChecksOfKeysThatAreSet(t *testing.T) {
	e, tdb := columnsEnv(t)
	tdb.Exec(t, "ALTER TABLE "+tdb.Table("courses")+" ADD COLUMN ms_teams_enabled tinyint(1)")
	e.Config.Elentra.CourseSwitchColumn = tdb.Name + ".courses.course_id.ms_teams_enabled"
	e.Config.Elentra.CourseSwitchOn = "yes"
	r := checkCourseSwitch(context.Background(), e)
	if r.Status != OK || !strings.Contains(r.Message, `elentra.course_switch_column is `+tdb.Name+`.courses.course_id.ms_teams_enabled (elentra.course_switch_on "yes" means on)`) {
		t.Errorf("set and present: %s %q", r.Status, r.Message)
	}
	for _, tt := range []struct{ spec, says string }{
		{tdb.Name + ".courses.course_id.ms_teams", "the table " + tdb.Name + ".courses has no column ms_teams"},
		{tdb.Name + ".courses.id.ms_teams_enabled", "has no column id"},
		{tdb.Name + ".course_ms.course_id.enabled", "names the table " + tdb.Name + ".course_ms, which the database does not have"},
		{"nosuchschema.courses.course_id.enabled", "names the table nosuchschema.courses"},
	} {
		e.columns = nil
		e.Config.Elentra.CourseSwitchColumn = tt.spec
		if r := checkCourseSwitch(context.Background(), e); r.Status != Fail || !strings.Contains(r.Message, tt.says) || r.Fix == "" {
			t.Errorf("%s: %s %q (fix %q), want ✗ saying %q", tt.spec, r.Status, r.Message, r.Fix, tt.says)
		}
	}
}
