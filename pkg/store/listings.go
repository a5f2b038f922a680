package store

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/elentra-teams/elentra-teams/pkg/elentra"
	"github.com/elentra-teams/elentra-teams/pkg/reconcile"
)

// CourseLine is one line of `courses list`.
type CourseLine struct {
	ID        int    `json:"course_id"`
	Code      string `json:"code"`
	Name      string `json:"name"`
	InElentra bool   `json:"in_elentra"`
	Active    bool   `json:"active"`
	// Period is the current curriculum period's title, "" when none.
	Period  string `json:"period"`
	Enabled bool   `json:"enabled"`
	// EnabledBy says why: "switch" (courses enable), "elentra" (Elentra's
	// course switch, elentra.course_switch_column),
	// "sync.all_active_courses", or "" when not enabled.
	EnabledBy string              `json:"enabled_by"`
	State     reconcile.TeamState `json:"state"`
	GroupID   string              `json:"group_id"`
	LastError string              `json:"last_error"`
	// Sync is what the next sync does with the course.
	Sync string `json:"sync"`
}

func courseLine(id int, c *elentra.Course, sw Switch, rec TeamRecord, rules SyncRules) CourseLine {
	line := CourseLine{ID: id, State: rec.State, GroupID: rec.GroupID, LastError: rec.LastError}
	if line.State == "" {
		line.State = reconcile.StateNone
	}
	course := reconcile.Course{CourseID: id, Exists: c != nil}
	if c != nil {
		line.Code, line.Name, line.InElentra, line.Active = c.Code, c.Name, true, c.Active
		if c.Period != nil {
			line.Period = c.Period.Title
		}
		course.Active, course.CurrentPeriod = c.Active, c.Period != nil
	}
	line.EnabledBy = sw.By(rules.AllActiveCourses && line.Active, "sync.all_active_courses")
	line.Enabled = line.EnabledBy != ""
	course.Enabled = line.Enabled
	// The planner's rule; a rename is not foreseen (it depends on the name
	// template and on Graph).
	next := reconcile.NextTeamSync(course, rec.TeamRecord, rules.CourseEnd)
	line.Sync = next.String()
	return line
}

// CourseListOptions narrow `courses list`.
type CourseListOptions struct {
	// EnabledOnly keeps the courses a sync covers.
	EnabledOnly bool
}

// ListCourses returns the organisation's courses, and courses the tool has a
// row for that Elentra no longer has, ordered by id, each with what the next
// sync does with it. Three queries, whatever the number of courses.
func (s *Store) ListCourses(ctx context.Context, rules SyncRules, opts CourseListOptions, now time.Time) ([]CourseLine, error) {
	courses, err := s.db.Courses(ctx, elentra.CourseFilter{OrganisationID: rules.OrganisationID}, now)
	if err != nil {
		return nil, err
	}
	switches, err := s.CourseSwitches(ctx, rules.OrganisationID)
	if err != nil {
		return nil, err
	}
	records, err := s.TeamRecords(ctx, nil)
	if err != nil {
		return nil, err
	}
	out := []CourseLine{}
	seen := map[int]bool{}
	for i := range courses {
		c := &courses[i]
		seen[c.ID] = true
		out = append(out, courseLine(c.ID, c, switches[c.ID], records[c.ID], rules))
	}
	var gone []int
	for id, rec := range records {
		if !seen[id] && (rec.GroupID != "" || switches[id].Enabled) {
			gone = append(gone, id)
		}
	}
	if len(gone) > 0 {
		// A row of a course of another organisation is not "gone": it is
		// left out, as its courses are.
		others, err := s.db.Courses(ctx, elentra.CourseFilter{IDs: gone}, now)
		if err != nil {
			return nil, err
		}
		for _, c := range others {
			seen[c.ID] = true
		}
		for _, id := range gone {
			if !seen[id] {
				out = append(out, courseLine(id, nil, switches[id], records[id], rules))
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	if opts.EnabledOnly {
		kept := out[:0]
		for _, l := range out {
			if l.Enabled {
				kept = append(kept, l)
			}
		}
		out = kept
	}
	return out, nil
}

// enabledCourses returns the organisation's courses a sync covers, by id.
func (s *Store) enabledCourses(ctx context.Context, rules SyncRules, now time.Time) (map[int]elentra.Course, error) {
	courses, err := s.db.Courses(ctx, elentra.CourseFilter{OrganisationID: rules.OrganisationID}, now)
	if err != nil {
		return nil, err
	}
	switches, err := s.CourseSwitches(ctx, rules.OrganisationID)
	if err != nil {
		return nil, err
	}
	out := map[int]elentra.Course{}
	for _, c := range courses {
		if rules.CourseOn(switches[c.ID], c.Active) {
			out[c.ID] = c
		}
	}
	return out, nil
}

// EventLine is one line of `events list`. Times are UTC; the command shows
// them in elentra.timezone.
type EventLine struct {
	ID         int       `json:"event_id"`
	CourseID   int       `json:"course_id"`
	CourseCode string    `json:"course_code"`
	Start      time.Time `json:"start"`
	Title      string    `json:"title"`
	Enabled    bool      `json:"enabled"`
	// EnabledBy is "switch" (events enable), "elentra" (Elentra's event
	// switch, elentra.event_switch_column), "sync.all_course_events", or ""
	// when not enabled.
	EnabledBy    string               `json:"enabled_by"`
	State        reconcile.EventState `json:"meeting_state"`
	JoinableFrom time.Time            `json:"joinable_from"`
	JoinURL      string               `json:"join_url"`
	LastError    string               `json:"last_error"`
}

// EventListOptions narrow `events list`.
type EventListOptions struct {
	// CourseIDs lists these courses' events (enabled or not) instead of the
	// events of enabled courses and the events switched on.
	CourseIDs []int
	// Upcoming keeps events starting within the events horizon from now.
	Upcoming bool
	// CourseSwitches are the course switches when the caller read them
	// already (CourseSwitches); nil reads them.
	CourseSwitches map[int]Switch
}

// ListEvents returns, ordered by start then id, the events of the courses a
// sync covers plus every event the tool has a row for (or the events of
// opts.CourseIDs), each with its switch and meeting. A handful of queries,
// whatever the number of events.
func (s *Store) ListEvents(ctx context.Context, rules SyncRules, opts EventListOptions, now time.Time) ([]EventLine, error) {
	courses, err := s.db.Courses(ctx, elentra.CourseFilter{OrganisationID: rules.OrganisationID}, now)
	if err != nil {
		return nil, err
	}
	courseSwitches := opts.CourseSwitches
	if courseSwitches == nil {
		if courseSwitches, err = s.CourseSwitches(ctx, rules.OrganisationID); err != nil {
			return nil, err
		}
	}
	byID := map[int]elentra.Course{}
	courseOn := map[int]bool{}
	for _, c := range courses {
		byID[c.ID] = c
		courseOn[c.ID] = rules.CourseOn(courseSwitches[c.ID], c.Active)
	}
	eventSwitches, err := s.EventSwitches(ctx, rules.OrganisationID)
	if err != nil {
		return nil, err
	}
	meetings, err := s.EventRecords(ctx, nil)
	if err != nil {
		return nil, err
	}

	f := elentra.EventFilter{}
	if opts.Upcoming {
		f.From, f.To = now, now.Add(rules.EventsHorizon)
	}
	if len(opts.CourseIDs) > 0 {
		var problems []string
		for _, id := range elentra.UniqueIDs(opts.CourseIDs) {
			if _, ok := byID[id]; !ok {
				problems = append(problems, fmt.Sprintf("course %d is not a course of organisation %d", id, rules.OrganisationID))
			}
		}
		if len(problems) > 0 {
			return nil, &UnknownIDsError{Kind: "course", Problems: problems}
		}
		// As given: Events reads each id once, and none for a list of no
		// ids (not every event).
		f.CourseIDs = opts.CourseIDs
	} else {
		for id, on := range courseOn {
			if on {
				f.CourseIDs = append(f.CourseIDs, id)
			}
		}
		for id, sw := range eventSwitches {
			// The tool's switches, and the events Elentra's switch turns
			// on (not every event it holds a value for).
			if sw.Enabled || !sw.SwitchedAt.IsZero() || sw.Elentra == ElentraOn {
				f.EventIDs = append(f.EventIDs, id)
			}
		}
		for id := range meetings {
			f.EventIDs = append(f.EventIDs, id)
		}
		if len(f.CourseIDs) == 0 && len(f.EventIDs) == 0 {
			// An empty filter would select every event.
			return []EventLine{}, nil
		}
		f.CourseIDs, f.EventIDs = elentra.UniqueIDs(f.CourseIDs), elentra.UniqueIDs(f.EventIDs)
	}
	events, err := s.db.Events(ctx, f)
	if err != nil {
		return nil, err
	}
	out := make([]EventLine, 0, len(events))
	for _, e := range events {
		_, hasRow := eventSwitches[e.ID]
		if _, ok := byID[e.CourseID]; !ok && !hasRow {
			// An event of another organisation's course without a row.
			continue
		}
		line := EventLine{ID: e.ID, CourseID: e.CourseID, CourseCode: byID[e.CourseID].Code, Start: e.Start, Title: e.Title, State: reconcile.EventStateNone}
		line.EnabledBy = eventSwitches[e.ID].By(rules.AllCourseEvents && courseOn[e.CourseID], "sync.all_course_events")
		line.Enabled = line.EnabledBy != ""
		if m, ok := meetings[e.ID]; ok {
			line.State, line.JoinableFrom, line.JoinURL, line.LastError = m.State, m.JoinableFrom, m.JoinURL, m.LastError
		}
		out = append(out, line)
	}
	return out, nil
}

// UserLine is one line of `users list`.
type UserLine struct {
	ProxyID  int    `json:"proxy_id"`
	Name     string `json:"name"`
	Email    string `json:"email"`
	ObjectID string `json:"object_id"`
	// Source is manual, profile or matched; "" without an Object ID.
	Source ObjectIDSource `json:"source"`
	// MatchStatus is sync-users' last outcome (matched, unmatched,
	// ambiguous, no_email), "linked by hand" for a manual link, "profile"
	// for the site's column, "not checked" when sync-users has not looked.
	MatchStatus reconcile.MatchStatus `json:"match_status"`
}

// Match statuses `users list` shows besides sync-users' own.
const (
	StatusManual     reconcile.MatchStatus = "linked by hand"
	StatusProfile    reconcile.MatchStatus = "profile"
	StatusNotChecked reconcile.MatchStatus = "not checked"
)

// UserListOptions narrow `users list`.
type UserListOptions struct {
	// CourseID lists the users of this course (enabled or not) instead of
	// those of every enabled course.
	CourseID int
	// Unmatched keeps users without an Object ID.
	Unmatched bool
}

// ListUsers returns the users a sync covers (the learners of the enabled
// courses by the learner rule, and their contacts of the configured types),
// ordered by proxy id, with their Object ID, its source and the last match.
// A handful of queries, whatever the number of courses and users.
func (s *Store) ListUsers(ctx context.Context, rules SyncRules, opts UserListOptions, now time.Time) ([]UserLine, error) {
	var courseIDs []int
	if opts.CourseID != 0 {
		cs, err := s.db.Courses(ctx, elentra.CourseFilter{IDs: []int{opts.CourseID}}, now)
		if err != nil {
			return nil, err
		}
		if len(cs) == 0 || cs[0].OrganisationID != rules.OrganisationID {
			return nil, &UnknownIDsError{Kind: "course", Problems: []string{fmt.Sprintf("course %d is not a course of organisation %d", opts.CourseID, rules.OrganisationID)}}
		}
		courseIDs = []int{opts.CourseID}
	} else {
		enabled, err := s.enabledCourses(ctx, rules, now)
		if err != nil {
			return nil, err
		}
		courseIDs = elentra.SortedIDs(enabled)
	}
	out := []UserLine{}
	if len(courseIDs) == 0 {
		return out, nil
	}
	learners, err := s.db.Learners(ctx, courseIDs, rules.AppID, now)
	if err != nil {
		return nil, err
	}
	contacts, err := s.db.Contacts(ctx, courseIDs)
	if err != nil {
		return nil, err
	}
	types := map[string]bool{elentra.ContactPcoordID: true}
	for _, t := range rules.ContactTypes {
		types[t] = true
	}
	people := map[int]bool{}
	for _, ls := range learners {
		for _, id := range ls {
			people[id] = true
		}
	}
	for _, c := range contacts {
		if types[c.Type] {
			people[c.ProxyID] = true
		}
	}
	ids := elentra.SortedIDs(people)
	users, err := s.Users(ctx, ids)
	if err != nil {
		return nil, err
	}
	records, err := s.UserRecords(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		if opts.Unmatched && u.ObjectID != "" {
			continue
		}
		line := UserLine{ProxyID: u.ProxyID, Name: u.Name(), Email: u.Email, ObjectID: strings.ToLower(u.ObjectID), Source: u.ObjectIDSource}
		rec, hasRec := records[u.ProxyID]
		switch {
		case u.ObjectIDSource == SourceManual:
			line.MatchStatus = StatusManual
		case u.ObjectIDSource == SourceProfile:
			line.MatchStatus = StatusProfile
		case hasRec && rec.MatchStatus != "":
			line.MatchStatus = rec.MatchStatus
		default:
			line.MatchStatus = StatusNotChecked
		}
		out = append(out, line)
	}
	return out, nil
}
