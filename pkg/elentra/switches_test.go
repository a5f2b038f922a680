package elentra_test

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/elentra-teams/elentra-teams/pkg/elentra/elentratest"
)

// Elentra's own switches are read in one query each, for one
// organisation: a course (event) is on when its value is the configured
// one, off with another value, and absent with none (no row, or NULL). A
// number column compares numerically, a text column by its collation; a
// course with several rows is on when one of them says so.
func TestElentraSwitches(t *testing.T) {
	tdb := elentratest.New(t)
	ctx := context.Background()
	n := now.Unix()
	tdb.Exec(t, `ALTER TABLE courses ADD COLUMN ms_teams_enabled tinyint(1) NULL`)
	tdb.Exec(t, `INSERT INTO courses (course_id, organisation_id, course_name, course_code, ms_teams_enabled) VALUES
		(1, 1, 'On', 'C1', 1), (2, 1, 'Off', 'C2', 0), (3, 1, 'Never set', 'C3', NULL), (4, 1, 'Two', 'C4', 2),
		(11, 2, 'Other school', 'O1', 1)`)
	tdb.Exec(t, `CREATE TABLE course_ms (course_id int NOT NULL, teams varchar(8) NULL) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci`)
	tdb.Exec(t, `INSERT INTO course_ms (course_id, teams) VALUES (1, 'no'), (2, 'no'), (2, 'Yes'), (3, NULL), (11, 'yes')`)
	tdb.Exec(t, `ALTER TABLE events ADD COLUMN teams_meeting varchar(3) NOT NULL DEFAULT ''`)
	tdb.Exec(t, `INSERT INTO events (event_id, course_id, event_title, event_start, event_finish, teams_meeting) VALUES
		(101, 1, 'Past, on', ?, ?, '1'), (102, 1, 'Now, on', ?, ?, '1'), (103, 2, 'Later, off', ?, ?, '0'),
		(104, 11, 'Other school', ?, ?, '1'), (105, 99, 'No course', ?, ?, '1'),
		(106, 1, 'Past parent, on', ?, ?, '1'), (107, 1, 'Past parent, no value', ?, ?, '')`,
		n-7200, n-3600, n-600, n+600, n+3600, n+7200, n+3600, n+7200, n+3600, n+7200, n-7200, n-3600, n-7200, n-3600)
	tdb.Exec(t, `INSERT INTO events (event_id, parent_id, course_id, event_title, event_start, event_finish) VALUES
		(108, 106, 1, 'Child', ?, ?), (109, 107, 1, 'Child', ?, ?)`, n+3600, n+7200, n+3600, n+7200)

	// None configured: nothing read, no query.
	before := tdb.DB.QueryCount()
	if got, err := tdb.DB.CourseSwitches(ctx, 1); err != nil || got != nil {
		t.Errorf("unconfigured course switch read %v, %v", got, err)
	}
	if got, err := tdb.DB.EventSwitches(ctx, 1, now); err != nil || got != nil {
		t.Errorf("unconfigured event switch read %v, %v", got, err)
	}
	if q := tdb.DB.QueryCount() - before; q != 0 {
		t.Errorf("unconfigured switches sent %d queries", q)
	}

	read := func(label string, f func() (map[int]bool, error), want map[int]bool) {
		t.Helper()
		before := tdb.DB.QueryCount()
		got, err := f()
		if err != nil {
			t.Fatalf("%s: %v", label, err)
		}
		if !maps.Equal(got, want) {
			t.Errorf("%s = %v, want %v", label, got, want)
		}
		if q := tdb.DB.QueryCount() - before; q != 1 {
			t.Errorf("%s: %d queries, want 1", label, q)
		}
	}
	if err := tdb.DB.SetCourseSwitch(tdb.Name+".courses.course_id.ms_teams_enabled", "1"); err != nil {
		t.Fatal(err)
	}
	read("courses.ms_teams_enabled", func() (map[int]bool, error) { return tdb.DB.CourseSwitches(ctx, 1) },
		map[int]bool{1: true, 2: false, 4: false})
	read("courses.ms_teams_enabled of organisation 2", func() (map[int]bool, error) { return tdb.DB.CourseSwitches(ctx, 2) },
		map[int]bool{11: true})
	if err := tdb.DB.SetCourseSwitch(tdb.Name+".course_ms.course_id.teams", "YES"); err != nil {
		t.Fatal(err)
	}
	read("course_ms.teams (two rows for course 2)", func() (map[int]bool, error) { return tdb.DB.CourseSwitches(ctx, 1) },
		map[int]bool{1: false, 2: true})

	if err := tdb.DB.SetEventSwitch(tdb.Name+".events.event_id.teams_meeting", "1"); err != nil {
		t.Fatal(err)
	}
	// From now: the events not finished, and a finished parent of one;
	// an empty text is a value too (not "on").
	read("events finishing from now", func() (map[int]bool, error) { return tdb.DB.EventSwitches(ctx, 1, now) },
		map[int]bool{102: true, 103: false, 106: true, 107: false, 108: false, 109: false})
	read("every event", func() (map[int]bool, error) { return tdb.DB.EventSwitches(ctx, 1, time.Time{}) },
		map[int]bool{101: true, 102: true, 103: false, 106: true, 107: false, 108: false, 109: false})

	// A switch that is not four identifiers never reaches SQL; "" stops it.
	for _, spec := range []string{"courses.course_id.ms", tdb.Name + ".courses.course_id.ms`; DROP TABLE courses; --", "a.b.c.d e"} {
		if err := tdb.DB.SetCourseSwitch(spec, "1"); err == nil {
			t.Errorf("SetCourseSwitch(%q) accepted it", spec)
		}
		if tdb.DB.CourseSwitch() != nil {
			t.Errorf("SetCourseSwitch(%q) left a switch configured", spec)
		}
	}
	if err := tdb.DB.SetEventSwitch("", ""); err != nil || tdb.DB.EventSwitch() != nil {
		t.Errorf("SetEventSwitch(\"\") = %v, %v", err, tdb.DB.EventSwitch())
	}
}
