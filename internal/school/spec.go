// Package school generates a deterministic synthetic medical school in
// Elentra's tables, at any size, with the edge cases a sync must survive
// (expired access, disabled accounts, ended memberships, users without an
// email or a directory account, names with quotes and accents, 85-character
// course names, child events, an event across midnight and one across a
// daylight-saving change). Every edge case is labelled, so that tests can
// compute what a correct sync does from the generated rows alone.
//
// The same Spec always gives the same School. Load writes it into a test
// database with multi-row INSERTs; DirectoryUsers lists the matching
// directory accounts for a Graph simulator (built by the caller).
package school

import (
	"time"
)

// Spec says what to generate.
type Spec struct {
	Seed int64
	// Courses is the number of courses of OrganisationID (one more course is
	// made in another organisation).
	Courses int
	// Learners is the number of ordinary learners (edge-case users come on
	// top).
	Learners int
	// OrganisationID is the school's organisation (1 unless set).
	OrganisationID int
	// AppID is Elentra's AUTH_APP_ID (1 unless set).
	AppID int
	// Now is the moment the school is generated for: terms, access dates and
	// events are placed around it.
	Now time.Time
	// Timezone is Elentra's DEFAULT_TIMEZONE (America/Toronto unless set):
	// events are placed in local school hours.
	Timezone string
	// LearnersPerCourse is the size of the course sections (150 unless set).
	LearnersPerCourse int
	// OwnersPerCourse is the number of owner contacts of a course (5 unless
	// set).
	OwnersPerCourse int
	// EventsPerCourse is the number of events per course within Horizon,
	// used when Events is 0.
	EventsPerCourse int
	// Events is the total number of events within Horizon, spread over the
	// courses; 0 means EventsPerCourse × Courses.
	Events int
	// Horizon is the events window after Now (14 days unless set); a tenth
	// as many events again are placed beyond it.
	Horizon time.Duration
	// Domain is the school's mail domain (school.example.edu unless set).
	Domain string
	// TeamsEnabled adds microsoft_teams_enabled = 1 for the organisation and
	// a global personal_meeting_window_minutes = 10.
	TeamsEnabled bool
}

// DefaultNow is the Now of Small and Large: a week before the autumn
// daylight-saving change in America/Toronto, so that the 14-day horizon
// crosses it.
var DefaultNow = time.Date(2026, 10, 26, 12, 0, 0, 0, time.UTC)

// Small is the default size for tests and CI: about 50 courses and 1,200
// users.
func Small() Spec {
	return Spec{
		Seed: 1, Courses: 50, Learners: 1100, Now: DefaultNow,
		LearnersPerCourse: 150, OwnersPerCourse: 5, EventsPerCourse: 4, TeamsEnabled: true,
	}
}

// Large is the benchmark size: 2,000 courses, 30,000 learners, about 150
// learners and 5 owners per course, 3,000 events in the next 14 days.
func Large() Spec {
	return Spec{
		Seed: 1, Courses: 2000, Learners: 30000, Now: DefaultNow,
		LearnersPerCourse: 150, OwnersPerCourse: 5, Events: 3000, TeamsEnabled: true,
	}
}

// Scaled returns the spec with k times the courses, learners and events:
// the same per-course shape, for tests that hold query counts constant in the
// size of the school.
func (s Spec) Scaled(k int) Spec {
	s.Courses *= k
	s.Learners *= k
	s.Events *= k
	return s
}

func (s Spec) withDefaults() Spec {
	if s.OrganisationID == 0 {
		s.OrganisationID = 1
	}
	if s.AppID == 0 {
		s.AppID = 1
	}
	if s.Now.IsZero() {
		s.Now = DefaultNow
	}
	if s.Timezone == "" {
		s.Timezone = "America/Toronto"
	}
	if s.LearnersPerCourse <= 0 {
		s.LearnersPerCourse = 150
	}
	if s.OwnersPerCourse <= 0 {
		s.OwnersPerCourse = 5
	}
	if s.Horizon <= 0 {
		s.Horizon = 14 * 24 * time.Hour
	}
	if s.Domain == "" {
		s.Domain = "school.example.edu"
	}
	if s.Courses < 1 {
		s.Courses = 1
	}
	if s.Learners < 1 {
		s.Learners = 1
	}
	return s
}
