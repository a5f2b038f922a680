package elentra_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/elentra-teams/elentra-teams/pkg/elentra"
	"github.com/elentra-teams/elentra-teams/pkg/elentra/elentratest"
	"github.com/elentra-teams/elentra-teams/pkg/reconcile"
	"github.com/elentra-teams/elentra-teams/pkg/store"
)

func TestCoursesPicksTheCurrentPeriodDeterministically(t *testing.T) {
	tdb := elentratest.New(t)
	n := now.Unix()
	day := int64(86400)
	tdb.Exec(t, `INSERT INTO curriculum_periods (cperiod_id, curriculum_type_id, curriculum_period_title, start_date, finish_date) VALUES
		(1, 1, 'Fall 2026', ?, ?), (2, 1, 'Year 2026-27', ?, ?), (3, 1, 'Winter 2027', ?, ?),
		(4, 2, 'Past', ?, ?)`,
		n-30*day, n+30*day, n-60*day, n+300*day, n+31*day, n+120*day, n-300*day, n-200*day)
	tdb.Exec(t, `INSERT INTO courses (course_id, organisation_id, curriculum_type_id, course_name, course_code, course_description, course_active, pcoord_id) VALUES
		(1, 1, 1, 'Anatomy', 'ANAT 101', 'Bones', 1, 0),
		(2, 1, 2, 'Old course', 'OLD 1', NULL, 1, 0),
		(3, 1, 1, 'Inactive', 'INACT', '', 0, 0),
		(4, 2, 1, 'Other school', 'OTH', '', 1, 0)`)
	ctx := context.Background()

	got, err := tdb.DB.Courses(ctx, elentra.CourseFilter{OrganisationID: 1, ActiveOnly: true}, now)
	if err != nil {
		t.Fatal(err)
	}
	if ids := courseIDs(got); !slices.Equal(ids, []int{1, 2}) {
		t.Fatalf("active courses of org 1 = %v, want [1 2]", ids)
	}
	anat := got[0]
	// Periods 1 and 2 both cover now: the one that started last (Fall) wins.
	if anat.Period == nil || anat.Period.ID != 1 || anat.Period.Title != "Fall 2026" || anat.Period.Start.Unix() != n-30*day || anat.Period.Start.Location() != time.UTC {
		t.Errorf("Anatomy period = %+v, want Fall 2026 starting %v UTC", anat.Period, time.Unix(n-30*day, 0).UTC())
	}
	if anat.Code != "ANAT 101" || anat.Name != "Anatomy" || anat.Description != "Bones" || !anat.Active || anat.OrganisationID != 1 {
		t.Errorf("Anatomy = %+v", anat)
	}
	if got[1].Period != nil {
		t.Errorf("course with only a past period has period %+v, want none", got[1].Period)
	}

	all, err := tdb.DB.Courses(ctx, elentra.CourseFilter{}, now)
	if err != nil {
		t.Fatal(err)
	}
	if ids := courseIDs(all); !slices.Equal(ids, []int{1, 2, 3, 4}) {
		t.Errorf("unfiltered courses = %v, want all four", ids)
	}
	some, err := tdb.DB.Courses(ctx, elentra.CourseFilter{IDs: []int{4, 3, 99}}, now)
	if err != nil {
		t.Fatal(err)
	}
	if ids := courseIDs(some); !slices.Equal(ids, []int{3, 4}) {
		t.Errorf("courses by id = %v, want [3 4]", ids)
	}
}

func courseIDs(cs []elentra.Course) []int {
	var out []int
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

func TestContactsIncludePcoordIDOnlyForExistingUsers(t *testing.T) {
	tdb := elentratest.New(t)
	tdb.Exec(t, "INSERT INTO "+tdb.AuthTable("user_data")+" (id, username) VALUES (5, 'dir'), (6, 'pc'), (7, 'ta')")
	tdb.Exec(t, `INSERT INTO courses (course_id, organisation_id, course_name, pcoord_id) VALUES (1, 1, 'A', 6), (2, 1, 'B', 404), (3, 1, 'C', 0)`)
	tdb.Exec(t, `INSERT INTO course_contacts (course_id, proxy_id, contact_type, contact_order) VALUES
		(1, 5, 'director', 0), (1, 7, 'ta', 1), (2, 5, 'ccoordinator', 0), (9, 5, 'director', 0)`)
	got, err := tdb.DB.Contacts(context.Background(), []int{1, 2, 3})
	if err != nil {
		t.Fatal(err)
	}
	want := []elentra.Contact{
		{CourseID: 1, ProxyID: 5, Type: "director", Order: 0},
		{CourseID: 1, ProxyID: 6, Type: "pcoord_id", Order: 0},
		{CourseID: 1, ProxyID: 7, Type: "ta", Order: 1},
		{CourseID: 2, ProxyID: 5, Type: "ccoordinator", Order: 0},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Contacts =\n%+v\nwant\n%+v", got, want)
	}
}

func TestEventsFilterWindowAndRelatedRows(t *testing.T) {
	tdb := elentratest.New(t)
	base := time.Date(2026, 10, 20, 13, 0, 0, 0, time.UTC)
	tdb.Exec(t, `INSERT INTO events (event_id, parent_id, course_id, event_title, event_description, event_location, event_start, event_finish, event_duration, updated_date) VALUES
		(1, NULL, 10, 'Lecture: Hélène''s "heart"', '<p>desc</p>', 'Room 1', ?, ?, 60, ?),
		(2, 1, 10, 'Lab (child)', NULL, NULL, ?, ?, 90, 0),
		(3, NULL, 11, 'Other course', '', '', ?, ?, 30, 0),
		(4, NULL, 12, 'Enabled alone', '', '', ?, ?, 30, 0),
		(5, NULL, 10, 'Beyond the window', '', '', ?, ?, 30, 0)`,
		base.Unix(), base.Add(time.Hour).Unix(), base.Add(-time.Hour).Unix(),
		base.Add(2*time.Hour).Unix(), base.Add(210*time.Minute).Unix(),
		base.Unix(), base.Add(30*time.Minute).Unix(),
		base.Add(24*time.Hour).Unix(), base.Add(24*time.Hour+30*time.Minute).Unix(),
		base.Add(20*24*time.Hour).Unix(), base.Add(20*24*time.Hour+30*time.Minute).Unix())
	tdb.Exec(t, `INSERT INTO event_audience (event_id, audience_type, audience_value) VALUES (1, 'course_id', '10'), (1, 'proxy_id', '77'), (2, 'cohort', '3')`)
	tdb.Exec(t, `INSERT INTO event_contacts (event_id, proxy_id, contact_role, contact_order) VALUES (1, 9, 'teacher', 1), (1, 8, 'tutor', 0), (3, 9, 'teacher', 0)`)
	ctx := context.Background()

	got, err := tdb.DB.Events(ctx, elentra.EventFilter{CourseIDs: []int{10}, EventIDs: []int{4}, From: base.Add(-time.Hour), To: base.Add(14 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int
	for _, e := range got {
		ids = append(ids, e.ID)
	}
	if !slices.Equal(ids, []int{1, 2, 4}) {
		t.Fatalf("events = %v, want [1 2 4] (course 10 in the window, plus event 4)", ids)
	}
	e := got[0]
	if e.Title != `Lecture: Hélène's "heart"` || e.Description != "<p>desc</p>" || e.Location != "Room 1" || e.DurationMinutes != 60 ||
		!e.Start.Equal(base) || !e.Finish.Equal(base.Add(time.Hour)) || e.Start.Location() != time.UTC || !e.UpdatedDate.Equal(base.Add(-time.Hour)) || e.ParentID != 0 {
		t.Errorf("event 1 = %+v", e)
	}
	if got[1].ParentID != 1 || got[1].Location != "" || got[1].Description != "" || !got[1].UpdatedDate.IsZero() {
		t.Errorf("child event = %+v, want parent 1 and empty optional fields", got[1])
	}

	auds, err := tdb.DB.EventAudiences(ctx, []int{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	wantAuds := []elentra.EventAudience{{1, "course_id", "10"}, {1, "proxy_id", "77"}, {2, "cohort", "3"}}
	if !slices.Equal(auds, wantAuds) {
		t.Errorf("EventAudiences = %+v, want %+v", auds, wantAuds)
	}
	contacts, err := tdb.DB.EventContacts(ctx, []int{1})
	if err != nil {
		t.Fatal(err)
	}
	wantContacts := []elentra.EventContact{{1, 8, "tutor", 0}, {1, 9, "teacher", 1}}
	if !slices.Equal(contacts, wantContacts) {
		t.Errorf("EventContacts = %+v, want %+v", contacts, wantContacts)
	}
}

func TestUsersObjectIDPrecedence(t *testing.T) {
	ctx := context.Background()
	tdb := elentratest.New(t, elentratest.WithSetup(func(ctx context.Context, db *elentra.DB) error {
		_, err := store.Migrate(ctx, db)
		return err
	}))
	// A site column holding Object IDs, in a table of its own.
	tdb.Exec(t, "CREATE TABLE "+tdb.AuthTable("user_ms")+" (proxy_id int PRIMARY KEY, ms_oid varchar(64))")
	tdb.Exec(t, "INSERT INTO "+tdb.AuthTable("user_data")+` (id, username, firstname, lastname, email, organisation_id) VALUES
		(1, 'manual', 'Zoë', 'O''Brien', ' zoe@example.edu ', 1),
		(2, 'profile', 'P', 'P', 'p@example.edu', 1),
		(3, 'matched', 'M', 'M', 'm@example.edu', 2),
		(4, 'ambiguous', 'A', 'A', 'a@example.edu', 1),
		(5, 'nothing', 'N', 'N', '', 1)`)
	tdb.Exec(t, "INSERT INTO "+tdb.AuthTable("user_ms")+" (proxy_id, ms_oid) VALUES (1, 'col-1'), (2, 'col-2'), (4, '')")
	s := store.New(tdb.DB)
	for _, r := range []store.UserRecord{
		{ProxyID: 1, ObjectID: "manual-1", Source: store.SourceManual},
		{ProxyID: 2, ObjectID: "matched-2", Source: store.SourceMatched, MatchStatus: reconcile.MatchMatched},
		{ProxyID: 3, ObjectID: "matched-3", Source: store.SourceMatched, MatchStatus: reconcile.MatchMatched},
		{ProxyID: 4, Source: store.SourceMatched, MatchStatus: reconcile.MatchAmbiguous},
	} {
		if err := s.PutUser(ctx, r, now); err != nil {
			t.Fatal(err)
		}
	}
	check := func(label string, want map[int][2]string) {
		t.Helper()
		users, err := s.Users(ctx, []int{5, 4, 3, 2, 1, 1, 999})
		if err != nil {
			t.Fatal(err)
		}
		if len(users) != 5 {
			t.Fatalf("%s: %d users, want 5 (999 does not exist, 1 asked twice)", label, len(users))
		}
		for i, u := range users {
			if u.ProxyID != i+1 {
				t.Errorf("%s: users not ordered by id: %d at %d", label, u.ProxyID, i)
			}
			if w := want[u.ProxyID]; u.ObjectID != w[0] || string(u.ObjectIDSource) != w[1] {
				t.Errorf("%s: user %d object id = %q (%q), want %q (%q)", label, u.ProxyID, u.ObjectID, u.ObjectIDSource, w[0], w[1])
			}
		}
		if users[0].Email != "zoe@example.edu" || users[0].FirstName != "Zoë" || users[0].LastName != "O'Brien" || users[2].OrganisationID != 2 {
			t.Errorf("%s: user fields = %+v / %+v", label, users[0], users[2])
		}
	}
	check("tool table only", map[int][2]string{
		1: {"manual-1", "manual"}, 2: {"matched-2", "matched"}, 3: {"matched-3", "matched"},
	})
	if err := tdb.DB.SetObjectIDColumn(tdb.AuthName + ".user_ms.proxy_id.ms_oid"); err != nil {
		t.Fatal(err)
	}
	check("with the site column", map[int][2]string{
		1: {"manual-1", "manual"}, 2: {"col-2", "profile"}, 3: {"matched-3", "matched"},
	})
}

func TestObjectIDColumnRejectsAnythingButFourIdentifiers(t *testing.T) {
	for _, spec := range []string{"a.b.c", "a.b.c.d.e", "a.b.c.d`; DROP TABLE x", "a.b c.d.e", "a..c.d"} {
		if _, err := elentra.ParseObjectIDColumn(spec); err == nil {
			t.Errorf("ParseObjectIDColumn(%q) accepted it", spec)
		}
	}
	if c, err := elentra.ParseObjectIDColumn("entrada_auth.user_data.id.ms_oid"); err != nil || c.ValueColumn != "ms_oid" {
		t.Errorf("valid spec: %+v, %v", c, err)
	}
}

func TestUsersWithoutTheToolTablesSaysRunSetup(t *testing.T) {
	tdb := elentratest.New(t)
	tdb.Exec(t, "INSERT INTO "+tdb.AuthTable("user_data")+" (id, username) VALUES (1, 'a')")
	_, err := store.New(tdb.DB).Users(context.Background(), []int{1})
	if err == nil || !elentra.IsNoSuchTable(err) {
		t.Fatalf("Users without msteams_users: %v, want a no-such-table error", err)
	}
}

func TestSettingsOrganisationRowWinsOverGlobal(t *testing.T) {
	tdb := elentratest.New(t)
	tdb.Exec(t, `INSERT INTO settings (setting_id, shortname, organisation_id, value) VALUES
		(1, 'microsoft_teams_enabled', NULL, '0'),
		(2, 'microsoft_teams_enabled', 1, '1'),
		(3, 'personal_meeting_window_minutes', NULL, '10'),
		(4, 'personal_meeting_window_minutes', 2, '25'),
		(5, 'user_menu_ordering', 1, 'dashboard,courses'),
		(6, 'user_menu_ordering', 1, 'dashboard,courses,microsoft')`)
	ctx := context.Background()
	tests := []struct {
		name      string
		org       int
		wantValue string
		wantFound bool
	}{
		{"microsoft_teams_enabled", 1, "1", true},
		{"microsoft_teams_enabled", 3, "0", true},
		{"personal_meeting_window_minutes", 1, "10", true},
		{"personal_meeting_window_minutes", 2, "25", true},
		{"user_menu_ordering", 1, "dashboard,courses,microsoft", true},
		{"user_menu_ordering", 2, "", false},
		{"absent", 1, "", false},
	}
	for _, tt := range tests {
		v, found, err := tdb.DB.Setting(ctx, tt.name, tt.org)
		if err != nil {
			t.Fatal(err)
		}
		if v != tt.wantValue || found != tt.wantFound {
			t.Errorf("Setting(%s, org %d) = %q, %v; want %q, %v", tt.name, tt.org, v, found, tt.wantValue, tt.wantFound)
		}
	}
	before := tdb.DB.QueryCount()
	all, err := tdb.DB.Settings(ctx, []string{"microsoft_teams_enabled", "personal_meeting_window_minutes", "absent"}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if q := tdb.DB.QueryCount() - before; q != 1 {
		t.Errorf("Settings took %d queries, want 1", q)
	}
	if len(all) != 2 || all["microsoft_teams_enabled"] != "0" || all["personal_meeting_window_minutes"] != "25" {
		t.Errorf("Settings(org 2) = %v", all)
	}
}

func TestStrictModeRejectsInsertMissingNotNullColumn(t *testing.T) {
	elentratest.RequireRealServer(t, "MariaDB's strict sql_mode and error 1364 are the real server's behaviour")
	tdb := elentratest.New(t)
	for _, stmt := range []string{
		"INSERT INTO settings (shortname) VALUES ('microsoft_teams_enabled')",
		"INSERT INTO event_links (event_id, link, link_title) VALUES (1, 'https://example.edu', 'Join')",
		"INSERT INTO event_resource_entities (event_id, entity_type, entity_value, updated_by) VALUES (1, 3, 1, 1)",
	} {
		_, err := tdb.Root.Exec(stmt)
		var me *mysql.MySQLError
		if !errors.As(err, &me) || me.Number != 1364 {
			t.Errorf("%s: error %v, want MySQL error 1364 (field has no default value)", stmt, err)
		}
	}
}
