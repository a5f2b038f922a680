package cli

import (
	"testing"
)

// viewSwitch is an enable or disable command's options without the factory.
func viewSwitch(o *switchOptions) any { c := *o; c.f = nil; return c }

// courses list's flag, and the ids of courses enable and disable: positive
// whole numbers, every bad one named, before anything is read.
func TestCoursesFlags(t *testing.T) {
	t.Run("list", func(t *testing.T) {
		testFlags(t, "courses", newCoursesListCmd, func(o *coursesListOptions) any { return o.enabledOnly }, []flagCase{
			{args: []string{"courses", "list"}, want: false},
			{args: []string{"courses", "list", "--enabled"}, want: true},
			{args: []string{"courses", "list", "101"}, wantErr: `unknown command "101" for "elentra-teams courses list"`},
		})
	})
	t.Run("enable", func(t *testing.T) {
		testFlags(t, "courses", newCoursesEnableCmd, viewSwitch, []flagCase{
			{args: []string{"courses", "enable", "101", "102"}, want: switchOptions{kind: "course", on: true, ids: []int{101, 102}}},
			{args: []string{"--dry-run", "courses", "enable", " 7 "}, want: switchOptions{kind: "course", on: true, ids: []int{7}, dryRun: true}},
			{args: []string{"courses", "enable", "12", "abc"}, wantErr: `"abc" is not a course id (a positive whole number)`},
			{args: []string{"courses", "enable", "--", "0", "-3", "5"}, wantErr: `"0", "-3" are not course ids (a positive whole number)`},
			{args: []string{"courses", "enable"}, wantErr: "requires at least 1 arg(s), only received 0"},
		})
	})
	t.Run("disable", func(t *testing.T) {
		testFlags(t, "courses", newCoursesDisableCmd, viewSwitch, []flagCase{
			{args: []string{"courses", "disable", "101"}, want: switchOptions{kind: "course", ids: []int{101}}},
			{args: []string{"courses", "disable", "101", "--dry-run"}, want: switchOptions{kind: "course", ids: []int{101}, dryRun: true}},
			{args: []string{"courses", "disable", "1.5"}, wantErr: `"1.5" is not a course id (a positive whole number)`},
		})
	})
}

// events list's flags (a --course id is positive), and the ids of events
// enable and disable.
func TestEventsFlags(t *testing.T) {
	t.Run("list", func(t *testing.T) {
		view := func(o *eventsListOptions) any { c := *o; c.f = nil; return c }
		testFlags(t, "events", newEventsListCmd, view, []flagCase{
			{args: []string{"events", "list"}, want: eventsListOptions{}},
			{args: []string{"events", "list", "--upcoming", "--course", "101", "--course", "102"}, want: eventsListOptions{upcoming: true, courses: []int{101, 102}}},
			{args: []string{"events", "list", "--course", "0"}, wantErr: "--course 0 is not a course id (a positive whole number)"},
			{args: []string{"events", "list", "--course", "5", "--course", "-1"}, wantErr: "--course -1 is not a course id (a positive whole number)"},
			{args: []string{"events", "list", "--course", "x"}, wantErr: `invalid argument "x" for "--course" flag`},
		})
	})
	t.Run("enable", func(t *testing.T) {
		testFlags(t, "events", newEventsEnableCmd, viewSwitch, []flagCase{
			{args: []string{"events", "enable", "5012", "5013"}, want: switchOptions{kind: "event", on: true, ids: []int{5012, 5013}}},
			{args: []string{"events", "enable", "3.5"}, wantErr: `"3.5" is not an event id (a positive whole number)`},
			{args: []string{"events", "enable", "0", "x", "5"}, wantErr: `"0", "x" are not event ids (a positive whole number)`},
		})
	})
	t.Run("disable", func(t *testing.T) {
		testFlags(t, "events", newEventsDisableCmd, viewSwitch, []flagCase{
			{args: []string{"--dry-run", "events", "disable", "5012"}, want: switchOptions{kind: "event", ids: []int{5012}, dryRun: true}},
			{args: []string{"events", "disable"}, wantErr: "requires at least 1 arg(s), only received 0"},
		})
	})
}
