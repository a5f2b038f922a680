package store

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/elentra-teams/elentra-teams/pkg/config"
	"github.com/elentra-teams/elentra-teams/pkg/elentra"
	"github.com/elentra-teams/elentra-teams/pkg/reconcile"
)

// EventsTable maps learning events to their Teams meetings.
const EventsTable = "msteams_events"

// Scope is the part of the configuration that decides which courses, events
// and users a sync covers.
type Scope struct {
	OrganisationID   int
	AppID            int
	AllActiveCourses bool
	AllCourseEvents  bool
	// CourseEnd is sync.course_end: keep or archive.
	CourseEnd string
	// ContactTypes are the course contact types that join a Team (owner and
	// member types); the legacy pcoord_id owner always does.
	ContactTypes  []string
	EventsHorizon time.Duration
}

// ScopeOf reads the Scope from the configuration.
func ScopeOf(cfg *config.Config) Scope {
	types := append(append([]string{}, cfg.Sync.OwnerContactTypes...), cfg.Sync.MemberContactTypes...)
	return Scope{
		OrganisationID:   cfg.Elentra.OrganisationID,
		AppID:            cfg.Elentra.AppID,
		AllActiveCourses: cfg.Sync.AllActiveCourses,
		AllCourseEvents:  cfg.Sync.AllCourseEvents,
		CourseEnd:        cfg.Sync.CourseEnd,
		ContactTypes:     types,
		EventsHorizon:    time.Duration(cfg.Sync.EventsHorizon),
	}
}

// Switch is an admin's switch of a course or event: msteams_courses or
// msteams_events' enabled and switched_at.
type Switch struct {
	Enabled bool
	// SwitchedAt is when an admin last ran enable or disable on it; zero
	// when none did (the row was written by a sync, or there is none).
	SwitchedAt time.Time
}

// On is the rule every command applies: a course (event) is in a sync's
// scope when an admin switched it on, or when the policy covers it
// (sync.all_active_courses and the course is active; sync.all_course_events
// and its course is on) and no admin switched it off.
func (s Switch) On(policy bool) bool {
	return s.Enabled || (policy && s.SwitchedAt.IsZero())
}

// Off reports an admin's disable, which the all_* policies respect.
func (s Switch) Off() bool { return !s.Enabled && !s.SwitchedAt.IsZero() }

type switchRow struct {
	ID         int          `db:"id"`
	Enabled    bool         `db:"enabled"`
	SwitchedAt sql.NullTime `db:"switched_at"`
}

// CourseSwitches returns the switch of every course that has a row, by
// course id. One query.
func (s *Store) CourseSwitches(ctx context.Context) (map[int]Switch, error) {
	return s.switches(ctx, CoursesTable, "course_id")
}

// EventSwitches returns the switch of every event that has a row, by event
// id. One query.
func (s *Store) EventSwitches(ctx context.Context) (map[int]Switch, error) {
	return s.switches(ctx, EventsTable, "event_id")
}

func (s *Store) switches(ctx context.Context, table, key string) (map[int]Switch, error) {
	var rows []switchRow
	if err := s.db.Select(ctx, &rows, `SELECT `+key+` AS id, enabled, switched_at FROM `+s.db.Table(table)); err != nil {
		return nil, fmt.Errorf("read %s: %w", table, err)
	}
	out := make(map[int]Switch, len(rows))
	for _, r := range rows {
		out[r.ID] = Switch{Enabled: r.Enabled, SwitchedAt: r.SwitchedAt.Time}
	}
	return out, nil
}

// UnknownIDsError names the ids of a command line that Elentra does not have
// (or that belong to another organisation).
type UnknownIDsError struct {
	Kind     string   // course, event or user
	Problems []string // one per id
	// Write says the command would have written: it says that nothing was.
	Write bool
}

func (e *UnknownIDsError) Error() string {
	msg := strings.Join(e.Problems, "; ")
	if e.Write {
		msg += "; nothing was changed"
	}
	return msg
}

// SwitchItem is one id of an enable or disable.
type SwitchItem struct {
	ID    int    `json:"id"`
	Label string `json:"label"`
	// Change says whether the row must be written; false when the switch
	// already says so.
	Change bool `json:"change"`
	// Next says what the next sync does with it once switched.
	Next string `json:"next,omitempty"`
	// CancelMeetings is how many live meetings the next sync cancels
	// because of this switch turned off (the event's own, its child events',
	// or its course's events'): the run cancellation guard counts them.
	CancelMeetings int `json:"cancel_meetings,omitempty"`
}

// SwitchPlan is an enable or disable of courses or events, planned before
// anything is written.
type SwitchPlan struct {
	Kind  string       `json:"kind"` // course or event
	On    bool         `json:"enable"`
	Items []SwitchItem `json:"items"`
}

// Changes counts the items to write.
func (p *SwitchPlan) Changes() int {
	n := 0
	for _, it := range p.Items {
		if it.Change {
			n++
		}
	}
	return n
}

// PlanCourseSwitch checks every id and says what switching them on (or off)
// changes. An id that is not a course of the organisation is an
// *UnknownIDsError naming all such ids, except that a course the tool
// already has a row for (one deleted in Elentra) can still be switched off.
func (s *Store) PlanCourseSwitch(ctx context.Context, scope Scope, ids []int, on bool, now time.Time) (*SwitchPlan, error) {
	ids = uniqueSorted(ids)
	courses, err := s.db.Courses(ctx, elentra.CourseFilter{IDs: ids}, now)
	if err != nil {
		return nil, err
	}
	byID := map[int]elentra.Course{}
	for _, c := range courses {
		byID[c.ID] = c
	}
	switches, err := s.CourseSwitches(ctx)
	if err != nil {
		return nil, err
	}
	records, err := s.TeamRecords(ctx, ids)
	if err != nil {
		return nil, err
	}
	var problems []string
	for _, id := range ids {
		c, ok := byID[id]
		// A course the tool has a row for can be switched off even once
		// Elentra no longer has it (or moved it): its Team is still there.
		_, known := switches[id]
		known = known && !on
		switch {
		case !ok && !known:
			problems = append(problems, fmt.Sprintf("course %d does not exist in Elentra", id))
		case ok && c.OrganisationID != scope.OrganisationID && !known:
			problems = append(problems, fmt.Sprintf("course %d belongs to organisation %d, not %d (elentra.organisation_id)", id, c.OrganisationID, scope.OrganisationID))
		}
	}
	if len(problems) > 0 {
		return nil, &UnknownIDsError{Kind: "course", Problems: problems, Write: true}
	}
	var cancels map[int]int
	if !on {
		if cancels, err = s.cancelledBySwitchOff(ctx, scope, "course", ids, now); err != nil {
			return nil, err
		}
	}
	plan := &SwitchPlan{Kind: "course", On: on, Items: []SwitchItem{}}
	for _, id := range ids {
		sw := switches[id]
		c, exists := byID[id]
		item := SwitchItem{ID: id, Label: courseLabel(id, c, exists)}
		if on {
			item.Change = !sw.Enabled
		} else {
			// A course that is on, or that the policy could take in, gets an
			// explicit off; one already off stays as it is.
			item.Change = sw.Enabled || (scope.AllActiveCourses && !sw.Off())
		}
		after := Switch{Enabled: on, SwitchedAt: now}
		var cp *elentra.Course
		if exists {
			cp = &c
		}
		line := courseLine(id, cp, after, records[id], scope)
		item.Next = line.Sync
		if n := cancels[id]; n > 0 && item.Change {
			item.CancelMeetings = n
			item.Next += fmt.Sprintf(", cancel %d meeting%s", n, pluralS(n))
		}
		plan.Items = append(plan.Items, item)
	}
	return plan, nil
}

// PlanEventSwitch is PlanCourseSwitch for learning events: an id must be an
// event of a course of the organisation, or, to switch it off, have a row.
func (s *Store) PlanEventSwitch(ctx context.Context, scope Scope, ids []int, on bool, now time.Time) (*SwitchPlan, error) {
	ids = uniqueSorted(ids)
	events, err := s.db.Events(ctx, elentra.EventFilter{EventIDs: ids})
	if err != nil {
		return nil, err
	}
	byID := map[int]elentra.Event{}
	var courseIDs []int
	for _, e := range events {
		byID[e.ID] = e
		courseIDs = append(courseIDs, e.CourseID)
	}
	courseOrg := map[int]int{}
	if len(courseIDs) > 0 {
		courses, err := s.db.Courses(ctx, elentra.CourseFilter{IDs: courseIDs}, now)
		if err != nil {
			return nil, err
		}
		for _, c := range courses {
			courseOrg[c.ID] = c.OrganisationID
		}
	}
	switches, err := s.EventSwitches(ctx)
	if err != nil {
		return nil, err
	}
	var cancels map[int]int
	ownLive := map[int]bool{}
	if !on {
		if cancels, err = s.cancelledBySwitchOff(ctx, scope, "event", ids, now); err != nil {
			return nil, err
		}
		meetings, err := s.meetingRecords(ctx, ids)
		if err != nil {
			return nil, err
		}
		for id, m := range meetings {
			ownLive[id] = m.GraphEventID != "" && reconcile.LiveEventState(m.State)
		}
	}
	var problems []string
	for _, id := range ids {
		e, ok := byID[id]
		if _, known := switches[id]; known && !on {
			continue
		}
		org, hasCourse := courseOrg[e.CourseID]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("event %d does not exist in Elentra", id))
		case !hasCourse:
			problems = append(problems, fmt.Sprintf("event %d belongs to course %d, which does not exist in Elentra", id, e.CourseID))
		case org != scope.OrganisationID:
			problems = append(problems, fmt.Sprintf("event %d belongs to organisation %d, not %d (elentra.organisation_id)", id, org, scope.OrganisationID))
		}
	}
	if len(problems) > 0 {
		return nil, &UnknownIDsError{Kind: "event", Problems: problems, Write: true}
	}
	plan := &SwitchPlan{Kind: "event", On: on, Items: []SwitchItem{}}
	for _, id := range ids {
		sw := switches[id]
		item := SwitchItem{ID: id, Label: fmt.Sprintf("event %d", id)}
		if e, ok := byID[id]; ok {
			item.Label = fmt.Sprintf("event %d %q", id, e.Title)
		}
		if on {
			item.Change = !sw.Enabled
		} else {
			item.Change = sw.Enabled || (scope.AllCourseEvents && !sw.Off())
			if n := cancels[id]; n > 0 && item.Change {
				item.CancelMeetings = n
				switch own := ownLive[id]; {
				case own && n == 1:
					item.Next = "cancel its meeting"
				case own:
					item.Next = fmt.Sprintf("cancel its meeting and %d of its child events'", n-1)
				default:
					item.Next = fmt.Sprintf("cancel %d meeting%s of its child events", n, pluralS(n))
				}
			}
		}
		plan.Items = append(plan.Items, item)
	}
	return plan, nil
}

// ApplySwitch writes the plan's changes: one multi-row upsert per
// elentra.MaxInList rows, with bound parameters only. Rows that exist keep
// their Team or meeting mapping; only enabled, switched_at and updated_at
// change.
func (s *Store) ApplySwitch(ctx context.Context, plan *SwitchPlan, now time.Time) error {
	table, key := CoursesTable, "course_id"
	if plan.Kind == "event" {
		table, key = EventsTable, "event_id"
	}
	var ids []int
	for _, it := range plan.Items {
		if it.Change {
			ids = append(ids, it.ID)
		}
	}
	now = now.UTC().Truncate(time.Second)
	for len(ids) > 0 {
		n := min(len(ids), elentra.MaxInList)
		var b strings.Builder
		args := make([]any, 0, n*5)
		b.WriteString(`INSERT INTO ` + s.db.Table(table) + ` (` + key + `, enabled, switched_at, created_at, updated_at) VALUES `)
		for i, id := range ids[:n] {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?)")
			args = append(args, id, plan.On, now, now, now)
		}
		b.WriteString(` ON DUPLICATE KEY UPDATE enabled = VALUES(enabled), switched_at = VALUES(switched_at), updated_at = VALUES(updated_at)`)
		if _, err := s.db.Exec(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("switch %ss: %w", plan.Kind, err)
		}
		ids = ids[n:]
	}
	return nil
}

// cancelledBySwitchOff counts, for each course (kind "course") or event
// being switched off, the live meetings the next sync cancels because of it:
// those of events the switch alone kept in scope. An event switched on by
// an admin, or whose parent event is, stays; a child event follows its
// parent's switch unless its own course's events are all synced. Three
// queries, whatever the number of meetings.
func (s *Store) cancelledBySwitchOff(ctx context.Context, scope Scope, kind string, ids []int, now time.Time) (map[int]int, error) {
	var live []struct {
		EventID  int `db:"event_id"`
		CourseID int `db:"course_id"`
	}
	err := s.db.Select(ctx, &live, `SELECT event_id, COALESCE(course_id, 0) AS course_id FROM `+s.db.Table(EventsTable)+`
		WHERE state IN (?, ?, ?) AND graph_event_id IS NOT NULL AND (finish IS NULL OR finish >= ?)`,
		reconcile.EventStateIntent, reconcile.EventStateCreated, reconcile.EventStateScheduled, now.Unix())
	if err != nil {
		return nil, fmt.Errorf("read live meetings: %w", err)
	}
	out := map[int]int{}
	if len(live) == 0 {
		return out, nil
	}
	eventIDs := make([]int, len(live))
	for i, l := range live {
		eventIDs[i] = l.EventID
	}
	events, err := s.db.Events(ctx, elentra.EventFilter{EventIDs: eventIDs})
	if err != nil {
		return nil, err
	}
	parent := map[int]int{}
	for _, e := range events {
		parent[e.ID] = e.ParentID
	}
	switches, err := s.EventSwitches(ctx)
	if err != nil {
		return nil, err
	}
	off := map[int]bool{}
	for _, id := range ids {
		off[id] = true
	}
	for _, l := range live {
		own, p := switches[l.EventID], parent[l.EventID]
		switch kind {
		case "course":
			if off[l.CourseID] && !own.Enabled && !(p != 0 && switches[p].Enabled) {
				out[l.CourseID]++
			}
		case "event":
			switch {
			case off[l.EventID]:
				out[l.EventID]++
			case p != 0 && off[p] && !own.Enabled && !scope.AllCourseEvents:
				out[p]++ // a child that followed its parent
			}
		}
	}
	return out, nil
}

func pluralS(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func uniqueSorted(ids []int) []int {
	seen := map[int]bool{}
	out := make([]int, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	sort.Ints(out)
	return out
}

func courseLabel(id int, c elentra.Course, exists bool) string {
	if !exists {
		return fmt.Sprintf("course %d (not in Elentra)", id)
	}
	return strings.TrimSpace(fmt.Sprintf("course %d %s %s", id, c.Code, c.Name))
}

// What the next sync does with a course, as `courses list` says it.
const (
	SyncCreateTeam    = "create Team"
	SyncInSync        = "in sync"
	SyncUnarchive     = "unarchive at next sync"
	SyncArchive       = "archive at next sync"
	SyncNoPeriod      = "skip: no current curriculum period"
	SyncInactive      = "skip: inactive"
	SyncKeepDisabled  = "keep (disabled)"
	SyncKeepNotExists = "keep (not in Elentra)"
	SyncNothing       = "nothing (disabled)"
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
	// EnabledBy says why: "switch" (courses enable), "sync.all_active_courses",
	// or "" when not enabled.
	EnabledBy string `json:"enabled_by"`
	State     string `json:"state"`
	GroupID   string `json:"group_id"`
	LastError string `json:"last_error"`
	// Sync is what the next sync does with the course.
	Sync string `json:"sync"`
}

func courseLine(id int, c *elentra.Course, sw Switch, rec TeamRecord, scope Scope) CourseLine {
	line := CourseLine{ID: id, State: rec.State, GroupID: rec.GroupID, LastError: rec.LastError}
	if line.State == "" {
		line.State = reconcile.StateNone
	}
	if c != nil {
		line.Code, line.Name, line.InElentra, line.Active = c.Code, c.Name, true, c.Active
		if c.Period != nil {
			line.Period = c.Period.Title
		}
	}
	switch {
	case sw.Enabled:
		line.Enabled, line.EnabledBy = true, "switch"
	case sw.On(scope.AllActiveCourses && line.Active):
		line.Enabled, line.EnabledBy = true, "sync.all_active_courses"
	}
	line.Sync = nextCourseSync(line, rec, scope.CourseEnd)
	return line
}

// nextCourseSync says what sync-teams does next with a course, by the rules
// of reconcile.PlanTeams (a rename is not foreseen: it depends on the name
// template and Graph).
func nextCourseSync(l CourseLine, rec TeamRecord, courseEnd string) string {
	hasTeam := rec.GroupID != "" && (rec.State == reconcile.StateTeam || rec.State == reconcile.StateArchived)
	archived := rec.State == reconcile.StateArchived
	ends := func(otherwise string) string {
		if hasTeam && courseEnd == "archive" && !archived {
			return SyncArchive
		}
		return otherwise
	}
	switch {
	case !l.InElentra:
		if hasTeam {
			return ends(SyncKeepNotExists)
		}
		return SyncNothing
	case !l.Enabled:
		if hasTeam {
			return ends(SyncKeepDisabled)
		}
		return SyncNothing
	case !l.Active:
		return ends(SyncInactive)
	case l.Period == "":
		return ends(SyncNoPeriod)
	case !hasTeam:
		return SyncCreateTeam
	case archived:
		return SyncUnarchive
	}
	return SyncInSync
}

// CourseListOptions narrow `courses list`.
type CourseListOptions struct {
	// EnabledOnly keeps the courses a sync covers.
	EnabledOnly bool
}

// ListCourses returns the organisation's courses, and courses the tool has a
// row for that Elentra no longer has, ordered by id, each with what the next
// sync does with it. Three queries, whatever the number of courses.
func (s *Store) ListCourses(ctx context.Context, scope Scope, opts CourseListOptions, now time.Time) ([]CourseLine, error) {
	courses, err := s.db.Courses(ctx, elentra.CourseFilter{OrganisationID: scope.OrganisationID}, now)
	if err != nil {
		return nil, err
	}
	switches, err := s.CourseSwitches(ctx)
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
		out = append(out, courseLine(c.ID, c, switches[c.ID], records[c.ID], scope))
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
				out = append(out, courseLine(id, nil, switches[id], records[id], scope))
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
func (s *Store) enabledCourses(ctx context.Context, scope Scope, now time.Time) (map[int]elentra.Course, error) {
	courses, err := s.db.Courses(ctx, elentra.CourseFilter{OrganisationID: scope.OrganisationID}, now)
	if err != nil {
		return nil, err
	}
	switches, err := s.CourseSwitches(ctx)
	if err != nil {
		return nil, err
	}
	out := map[int]elentra.Course{}
	for _, c := range courses {
		if switches[c.ID].On(scope.AllActiveCourses && c.Active) {
			out[c.ID] = c
		}
	}
	return out, nil
}

type meetingRecord struct {
	EventID      int            `db:"event_id"`
	GraphEventID sql.NullString `db:"graph_event_id"`
	JoinURL      sql.NullString `db:"join_url"`
	JoinableFrom sql.NullInt64  `db:"joinable_from"`
	State        string         `db:"state"`
	LastError    sql.NullString `db:"last_error"`
}

type meetingInfo struct {
	GraphEventID, JoinURL, State, LastError string
	JoinableFrom                            time.Time
}

// meetingRecords reads msteams_events rows of these events (all rows when
// ids is nil).
func (s *Store) meetingRecords(ctx context.Context, ids []int) (map[int]meetingInfo, error) {
	base := `SELECT event_id, graph_event_id, join_url, joinable_from, state, last_error FROM ` + s.db.Table(EventsTable)
	var rows []meetingRecord
	if ids == nil {
		if err := s.db.Select(ctx, &rows, base); err != nil {
			return nil, fmt.Errorf("read meeting records: %w", err)
		}
	} else {
		for len(ids) > 0 {
			n := min(len(ids), elentra.MaxInList)
			q, args, err := elentra.In(base+` WHERE event_id IN (?)`, ids[:n])
			if err != nil {
				return nil, err
			}
			ids = ids[n:]
			var part []meetingRecord
			if err := s.db.Select(ctx, &part, q, args...); err != nil {
				return nil, fmt.Errorf("read meeting records: %w", err)
			}
			rows = append(rows, part...)
		}
	}
	out := make(map[int]meetingInfo, len(rows))
	for _, r := range rows {
		m := meetingInfo{GraphEventID: r.GraphEventID.String, JoinURL: r.JoinURL.String, State: r.State, LastError: r.LastError.String}
		if r.JoinableFrom.Valid && r.JoinableFrom.Int64 > 0 {
			m.JoinableFrom = time.Unix(r.JoinableFrom.Int64, 0).UTC()
		}
		out[r.EventID] = m
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
	// EnabledBy is "switch" (events enable), "sync.all_course_events", or ""
	// when not enabled.
	EnabledBy    string    `json:"enabled_by"`
	State        string    `json:"meeting_state"`
	JoinableFrom time.Time `json:"joinable_from"`
	JoinURL      string    `json:"join_url"`
	LastError    string    `json:"last_error"`
}

// EventListOptions narrow `events list`.
type EventListOptions struct {
	// CourseIDs lists these courses' events (enabled or not) instead of the
	// events of enabled courses and the events switched on.
	CourseIDs []int
	// Upcoming keeps events starting within the events horizon from now.
	Upcoming bool
}

// ListEvents returns, ordered by start then id, the events of the courses a
// sync covers plus every event the tool has a row for (or the events of
// opts.CourseIDs), each with its switch and meeting. A handful of queries,
// whatever the number of events.
func (s *Store) ListEvents(ctx context.Context, scope Scope, opts EventListOptions, now time.Time) ([]EventLine, error) {
	courses, err := s.db.Courses(ctx, elentra.CourseFilter{OrganisationID: scope.OrganisationID}, now)
	if err != nil {
		return nil, err
	}
	courseSwitches, err := s.CourseSwitches(ctx)
	if err != nil {
		return nil, err
	}
	byID := map[int]elentra.Course{}
	courseOn := map[int]bool{}
	for _, c := range courses {
		byID[c.ID] = c
		courseOn[c.ID] = courseSwitches[c.ID].On(scope.AllActiveCourses && c.Active)
	}
	eventSwitches, err := s.EventSwitches(ctx)
	if err != nil {
		return nil, err
	}
	meetings, err := s.meetingRecords(ctx, nil)
	if err != nil {
		return nil, err
	}

	f := elentra.EventFilter{}
	if opts.Upcoming {
		f.From, f.To = now, now.Add(scope.EventsHorizon)
	}
	if len(opts.CourseIDs) > 0 {
		var problems []string
		for _, id := range uniqueSorted(opts.CourseIDs) {
			if _, ok := byID[id]; !ok {
				problems = append(problems, fmt.Sprintf("course %d is not a course of organisation %d", id, scope.OrganisationID))
			}
		}
		if len(problems) > 0 {
			return nil, &UnknownIDsError{Kind: "course", Problems: problems}
		}
		f.CourseIDs = uniqueSorted(opts.CourseIDs)
	} else {
		for id, on := range courseOn {
			if on {
				f.CourseIDs = append(f.CourseIDs, id)
			}
		}
		for id := range eventSwitches {
			f.EventIDs = append(f.EventIDs, id)
		}
		for id := range meetings {
			f.EventIDs = append(f.EventIDs, id)
		}
		if len(f.CourseIDs) == 0 && len(f.EventIDs) == 0 {
			// An empty filter would select every event.
			return []EventLine{}, nil
		}
		sort.Ints(f.CourseIDs)
		f.EventIDs = uniqueSorted(f.EventIDs)
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
		line := EventLine{ID: e.ID, CourseID: e.CourseID, CourseCode: byID[e.CourseID].Code, Start: e.Start, Title: e.Title, State: reconcile.StateNone}
		sw := eventSwitches[e.ID]
		switch {
		case sw.Enabled:
			line.Enabled, line.EnabledBy = true, "switch"
		case sw.On(scope.AllCourseEvents && courseOn[e.CourseID]):
			line.Enabled, line.EnabledBy = true, "sync.all_course_events"
		}
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
	Source string `json:"source"`
	// MatchStatus is sync-users' last outcome (matched, unmatched,
	// ambiguous, no_email), "linked by hand" for a manual link, "profile"
	// for the site's column, "not checked" when sync-users has not looked.
	MatchStatus string `json:"match_status"`
}

// Match statuses `users list` shows besides sync-users' own.
const (
	StatusManual     = "linked by hand"
	StatusProfile    = "profile"
	StatusNotChecked = "not checked"
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
func (s *Store) ListUsers(ctx context.Context, scope Scope, opts UserListOptions, now time.Time) ([]UserLine, error) {
	var courseIDs []int
	if opts.CourseID != 0 {
		cs, err := s.db.Courses(ctx, elentra.CourseFilter{IDs: []int{opts.CourseID}}, now)
		if err != nil {
			return nil, err
		}
		if len(cs) == 0 || cs[0].OrganisationID != scope.OrganisationID {
			return nil, &UnknownIDsError{Kind: "course", Problems: []string{fmt.Sprintf("course %d is not a course of organisation %d", opts.CourseID, scope.OrganisationID)}}
		}
		courseIDs = []int{opts.CourseID}
	} else {
		enabled, err := s.enabledCourses(ctx, scope, now)
		if err != nil {
			return nil, err
		}
		for id := range enabled {
			courseIDs = append(courseIDs, id)
		}
		sort.Ints(courseIDs)
	}
	out := []UserLine{}
	if len(courseIDs) == 0 {
		return out, nil
	}
	learners, err := s.db.Learners(ctx, courseIDs, scope.AppID, now)
	if err != nil {
		return nil, err
	}
	contacts, err := s.db.Contacts(ctx, courseIDs)
	if err != nil {
		return nil, err
	}
	types := map[string]bool{elentra.ContactPcoordID: true}
	for _, t := range scope.ContactTypes {
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
	ids := make([]int, 0, len(people))
	for id := range people {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	users, err := s.db.Users(ctx, ids)
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
		line := UserLine{ProxyID: u.ProxyID, Name: fullName(u), Email: u.Email, ObjectID: strings.ToLower(u.ObjectID), Source: u.ObjectIDSource}
		rec, hasRec := records[u.ProxyID]
		switch {
		case u.ObjectIDSource == elentra.SourceManual:
			line.MatchStatus = StatusManual
		case u.ObjectIDSource == elentra.SourceProfile:
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

func fullName(u elentra.User) string {
	if n := strings.TrimSpace(u.FirstName + " " + u.LastName); n != "" {
		return n
	}
	return u.Username
}

// LinkResult says what `users link` does or did.
type LinkResult struct {
	ProxyID  int    `json:"proxy_id"`
	Name     string `json:"name"`
	ObjectID string `json:"object_id"`
	// Previous is the Object ID the user had before, and PreviousSource its
	// source; "" when none.
	Previous       string `json:"previous_object_id"`
	PreviousSource string `json:"previous_source"`
	// Change is false when the user already has this manual link.
	Change bool `json:"change"`
	// SharedWith are the other users whose Object ID this is (linked anyway
	// with force).
	SharedWith []int `json:"shared_with"`
}

// ObjectIDTakenError: the Object ID is another user's; --force links it
// anyway.
type ObjectIDTakenError struct {
	ObjectID string
	Holders  []string // "user 17 (Jane Doe, jane@…, matched by sync-users)"
}

func (e *ObjectIDTakenError) Error() string {
	return fmt.Sprintf("Object ID %s is already linked to %s; link it anyway with --force (one person with two Elentra accounts), or unlink that user first",
		e.ObjectID, strings.Join(e.Holders, " and "))
}

// PlanLink checks a manual link of proxyID to objectID (a GUID, checked by
// the caller): the user must exist (else *UnknownIDsError), and no other user
// may have this Object ID unless force (else *ObjectIDTakenError).
func (s *Store) PlanLink(ctx context.Context, proxyID int, objectID string, force bool) (*LinkResult, error) {
	objectID = strings.ToLower(strings.TrimSpace(objectID))
	users, err := s.db.Users(ctx, []int{proxyID})
	if err != nil {
		return nil, err
	}
	if len(users) == 0 {
		return nil, &UnknownIDsError{Kind: "user", Problems: []string{fmt.Sprintf("user %d does not exist in Elentra", proxyID)}, Write: true}
	}
	u := users[0]
	res := &LinkResult{ProxyID: proxyID, Name: fullName(u), ObjectID: objectID,
		Previous: strings.ToLower(u.ObjectID), PreviousSource: u.ObjectIDSource, SharedWith: []int{}}
	res.Change = !(u.ObjectIDSource == elentra.SourceManual && strings.EqualFold(u.ObjectID, objectID))
	holders, err := s.db.UsersWithObjectID(ctx, objectID)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, h := range holders {
		if h.ProxyID == proxyID {
			continue
		}
		res.SharedWith = append(res.SharedWith, h.ProxyID)
		names = append(names, fmt.Sprintf("user %d (%s, %s, %s)", h.ProxyID, fullName(h), h.Email, SourceText(h.ObjectIDSource)))
	}
	if len(names) > 0 && !force {
		return nil, &ObjectIDTakenError{ObjectID: objectID, Holders: names}
	}
	return res, nil
}

// ApplyLink stores the manual link; sync-users never overwrites it.
func (s *Store) ApplyLink(ctx context.Context, res *LinkResult, now time.Time) error {
	if !res.Change {
		return nil
	}
	return s.PutUser(ctx, UserRecord{ProxyID: res.ProxyID, ObjectID: res.ObjectID, Source: elentra.SourceManual}, now)
}

// UnlinkResult says what `users unlink` does or did.
type UnlinkResult struct {
	ProxyID  int    `json:"proxy_id"`
	ObjectID string `json:"object_id"`
	// Change is false when the user has no manual link.
	Change bool `json:"change"`
	// Source is the source of the Object ID the user keeps when there is no
	// manual link to remove ("" for none).
	Source string `json:"source"`
}

// PlanUnlink finds the manual link of proxyID. A manual link of a user
// Elentra no longer has can still be removed; a user that has neither is an
// *UnknownIDsError.
func (s *Store) PlanUnlink(ctx context.Context, proxyID int) (*UnlinkResult, error) {
	records, err := s.UserRecords(ctx, []int{proxyID})
	if err != nil {
		return nil, err
	}
	res := &UnlinkResult{ProxyID: proxyID}
	if rec, ok := records[proxyID]; ok && rec.Source == elentra.SourceManual {
		res.ObjectID, res.Change = rec.ObjectID, true
		return res, nil
	}
	users, err := s.db.Users(ctx, []int{proxyID})
	if err != nil {
		return nil, err
	}
	if len(users) == 0 {
		return nil, &UnknownIDsError{Kind: "user", Problems: []string{fmt.Sprintf("user %d does not exist in Elentra", proxyID)}, Write: true}
	}
	res.ObjectID, res.Source = strings.ToLower(users[0].ObjectID), users[0].ObjectIDSource
	return res, nil
}

// ApplyUnlink removes the manual link: sync-users matches the user again at
// its next run.
func (s *Store) ApplyUnlink(ctx context.Context, res *UnlinkResult) error {
	if !res.Change {
		return nil
	}
	_, err := s.db.Exec(ctx, `DELETE FROM `+s.db.Table(elentra.UsersTable)+` WHERE proxy_id = ? AND source = ?`, res.ProxyID, elentra.SourceManual)
	if err != nil {
		return fmt.Errorf("unlink user %d: %w", res.ProxyID, err)
	}
	return nil
}

// SourceText says where an Object ID came from, in words.
func SourceText(source string) string {
	switch source {
	case elentra.SourceManual:
		return "linked by hand"
	case elentra.SourceProfile:
		return "from elentra.object_id_column"
	case elentra.SourceMatched:
		return "matched by sync-users"
	}
	return source
}
