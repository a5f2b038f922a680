package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/elentra-teams/elentra-teams/internal/text"
	"github.com/elentra-teams/elentra-teams/pkg/config"
	"github.com/elentra-teams/elentra-teams/pkg/elentra"
	"github.com/elentra-teams/elentra-teams/pkg/reconcile"
)

// SyncRules are the configuration's rules of what a sync covers: the
// organisation and application, which courses and events the all_*
// policies take in, which contacts join a Team, what becomes of a Team when
// its course ends, and how far ahead events are synced.
type SyncRules struct {
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

// SyncRulesOf reads the SyncRules from the configuration.
func SyncRulesOf(cfg *config.Config) SyncRules {
	types := append(append([]string{}, cfg.Sync.OwnerContactTypes...), cfg.Sync.MemberContactTypes...)
	return SyncRules{
		OrganisationID:   cfg.Elentra.OrganisationID,
		AppID:            cfg.Elentra.AppID,
		AllActiveCourses: cfg.Sync.AllActiveCourses,
		AllCourseEvents:  cfg.Sync.AllCourseEvents,
		CourseEnd:        cfg.Sync.CourseEnd,
		ContactTypes:     types,
		EventsHorizon:    time.Duration(cfg.Sync.EventsHorizon),
	}
}

// Switch is what switches a course or event on or off, before the sync.all_*
// policies: an admin's switch of the tool's own (`courses enable`,
// `events disable`: msteams_courses or msteams_events' enabled and
// switched_at), then Elentra's own switch, when elentra.course_switch_column
// (event_switch_column) is configured.
type Switch struct {
	Enabled bool
	// SwitchedAt is when an admin last ran enable or disable on it; zero
	// when none did (the row was written by a sync, or there is none).
	SwitchedAt time.Time
	// Elentra is what Elentra's own switch column says of it now.
	Elentra ElentraSwitch
	// ElentraWasOn: a sync-events read Elentra's switch saying on, and it
	// has held a value since (msteams_*.elentra_on).
	ElentraWasOn bool
}

// ElentraSwitch is what Elentra's own switch column says of a course or
// event.
type ElentraSwitch int8

const (
	// ElentraUnset: no switch column is configured, or it holds no value
	// for it (no row, or NULL): the switch does not decide.
	ElentraUnset ElentraSwitch = iota
	// ElentraOn: its value is the configured "on" value.
	ElentraOn
	// ElentraOff: it holds another value.
	ElentraOff
)

// What switched a course or event on: CourseLine.EnabledBy and
// EventLine.EnabledBy.
const (
	ByTool    = "switch"  // courses enable, events enable
	ByElentra = "elentra" // Elentra's own switch column
)

// The precedence every command applies, first that decides wins:
//  1. the tool's switch (`courses`/`events enable` or `disable`);
//  2. Elentra's switch column, when configured and holding a value;
//  3. the sync.all_active_courses (sync.all_course_events) policy;
//  4. off.

// Decides reports whether a switch decides, step 1 or 2, and which way.
func (s Switch) Decides() (on, decides bool) {
	switch {
	case s.Enabled:
		return true, true
	case !s.SwitchedAt.IsZero():
		return false, true
	case s.Elentra != ElentraUnset:
		return s.Elentra == ElentraOn, true
	}
	return false, false
}

// onUnder: what decides, else the policy (step 3) when it covers it.
func (s Switch) onUnder(policyCovers bool) bool {
	if on, decides := s.Decides(); decides {
		return on
	}
	return policyCovers
}

// By names what switches it on, "" when nothing does: ByTool, ByElentra,
// or policy when the policy covers it.
func (s Switch) By(policyCovers bool, policy string) string {
	on, decides := s.Decides()
	switch {
	case decides && !on, !decides && !policyCovers:
		return ""
	case s.Enabled:
		return ByTool
	case decides:
		return ByElentra
	}
	return policy
}

// CourseOn is the rule every command applies to a course: it is synced when
// a switch (the tool's, then Elentra's) says so, or when nothing switches it
// and sync.all_active_courses takes it in (it is active).
func (r SyncRules) CourseOn(sw Switch, active bool) bool {
	return sw.onUnder(r.AllActiveCourses && active)
}

// EventOn is the rule of the all_course_events policy for an event: it is
// synced when a switch (the tool's, then Elentra's) says so, or when
// nothing switches it and sync.all_course_events takes it in (its course is
// synced). (sync-events adds what a parent event's switch decides for its
// children.)
func (r SyncRules) EventOn(sw Switch, courseOn bool) bool {
	return sw.onUnder(r.AllCourseEvents && courseOn)
}

// Off reports an admin's disable with the tool, which Elentra's switch and
// the all_* policies respect.
func (s Switch) Off() bool { return !s.Enabled && !s.SwitchedAt.IsZero() }

// SwitchedOff reports that what keeps it out is a switch an admin turned
// off: the tool's disable, or Elentra's switch that a sync read saying on
// and that now holds another value. A meeting cancelled because of it was
// asked for: it skips the per-course cancellation guard (the run guard
// counts it). Elentra's switch holding "off" where it never said on (the
// key newly set, a row added) is not an admin's turn: those cancellations
// pass every guard.
func (s Switch) SwitchedOff() bool {
	if on, decides := s.Decides(); !decides || on {
		return false
	}
	return s.Off() || s.ElentraWasOn
}

// NextElentraWasOn is what msteams_*.elentra_on should hold after a sync
// read Elentra's switch: on sets it; another value keeps it (the switch
// turned off stays an admin's turn until its cancellations are made); no
// value, or no switch configured, clears it.
func (s Switch) NextElentraWasOn() bool {
	switch s.Elentra {
	case ElentraOn:
		return true
	case ElentraOff:
		return s.ElentraWasOn
	}
	return false
}

// ElentraSwitchOf turns what elentra.DB.CourseSwitches (EventSwitches) read
// of one id into an ElentraSwitch.
func ElentraSwitchOf(read map[int]bool, id int) ElentraSwitch {
	on, ok := read[id]
	switch {
	case !ok:
		return ElentraUnset
	case on:
		return ElentraOn
	}
	return ElentraOff
}

type switchRow struct {
	ID           int          `db:"id"`
	Enabled      bool         `db:"enabled"`
	SwitchedAt   sql.NullTime `db:"switched_at"`
	ElentraWasOn bool         `db:"elentra_on"`
}

// CourseSwitches returns the switch of every course that has a row, or a
// value in Elentra's course switch (for the courses of organisationID), by
// course id. One query, and one more when Elentra's course switch is
// configured.
func (s *Store) CourseSwitches(ctx context.Context, organisationID int) (map[int]Switch, error) {
	out, err := s.switches(ctx, CoursesTable, "course_id")
	if err != nil {
		return nil, err
	}
	read, err := s.db.CourseSwitches(ctx, organisationID)
	if err != nil {
		return nil, err
	}
	return mergeElentra(out, read), nil
}

// EventSwitches returns the switch of every event that has a row, or a
// value in Elentra's event switch (for the events of the courses of
// organisationID), by event id. One query, and one more when Elentra's
// event switch is configured.
func (s *Store) EventSwitches(ctx context.Context, organisationID int) (map[int]Switch, error) {
	out, err := s.switches(ctx, EventsTable, "event_id")
	if err != nil {
		return nil, err
	}
	read, err := s.db.EventSwitches(ctx, organisationID, time.Time{})
	if err != nil {
		return nil, err
	}
	return mergeElentra(out, read), nil
}

// mergeElentra adds what Elentra's switch read to the tool's switches.
func mergeElentra(out map[int]Switch, read map[int]bool) map[int]Switch {
	for id := range read {
		sw := out[id]
		sw.Elentra = ElentraSwitchOf(read, id)
		out[id] = sw
	}
	return out
}

func (s *Store) switches(ctx context.Context, table, key string) (map[int]Switch, error) {
	var rows []switchRow
	if err := s.db.Select(ctx, &rows, `SELECT `+key+` AS id, enabled, switched_at, elentra_on FROM `+s.db.Table(table)); err != nil {
		return nil, fmt.Errorf("read %s: %w", table, err)
	}
	out := make(map[int]Switch, len(rows))
	for _, r := range rows {
		out[r.ID] = Switch{Enabled: r.Enabled, SwitchedAt: r.SwitchedAt.Time, ElentraWasOn: r.ElentraWasOn}
	}
	return out, nil
}

// RecordElentraSwitches keeps what a sync read of Elentra's switches
// (msteams_courses or msteams_events' elentra_on, kind course or event):
// on are the ids whose elentra_on becomes 1, off those whose becomes 0. A
// course without a row gets one (an event's row is made with its meeting,
// EventIntent.ElentraOn). One statement for each list of up to
// elentra.MaxInList ids; none for empty lists.
func (s *Store) RecordElentraSwitches(ctx context.Context, kind string, on, off []int, now time.Time) error {
	table, key := CoursesTable, "course_id"
	if kind == "event" {
		table, key = EventsTable, "event_id"
	}
	now = now.UTC().Truncate(time.Second)
	for part := range slices.Chunk(elentra.UniqueIDs(on), elentra.MaxInList) {
		var err error
		if kind == "event" {
			q, args, qerr := elentra.In(`UPDATE `+s.db.Table(table)+` SET elentra_on = 1 WHERE `+key+` IN (?)`, part)
			if qerr != nil {
				return qerr
			}
			_, err = s.db.Exec(ctx, q, args...)
		} else {
			var b strings.Builder
			args := make([]any, 0, len(part)*3)
			b.WriteString(`INSERT INTO ` + s.db.Table(table) + ` (` + key + `, elentra_on, created_at, updated_at) VALUES `)
			for i, id := range part {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString("(?, 1, ?, ?)")
				args = append(args, id, now, now)
			}
			b.WriteString(` ON DUPLICATE KEY UPDATE elentra_on = 1`)
			_, err = s.db.Exec(ctx, b.String(), args...)
		}
		if err != nil {
			return fmt.Errorf("record Elentra's %s switches: %w", kind, err)
		}
	}
	for part := range slices.Chunk(elentra.UniqueIDs(off), elentra.MaxInList) {
		q, args, err := elentra.In(`UPDATE `+s.db.Table(table)+` SET elentra_on = 0 WHERE `+key+` IN (?)`, part)
		if err != nil {
			return err
		}
		if _, err := s.db.Exec(ctx, q, args...); err != nil {
			return fmt.Errorf("record Elentra's %s switches: %w", kind, err)
		}
	}
	return nil
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
func (s *Store) PlanCourseSwitch(ctx context.Context, rules SyncRules, ids []int, on bool, now time.Time) (*SwitchPlan, error) {
	courses, err := s.db.Courses(ctx, elentra.CourseFilter{IDs: ids}, now)
	if err != nil {
		return nil, err
	}
	ids = elentra.UniqueIDs(ids)
	byID := map[int]elentra.Course{}
	for _, c := range courses {
		byID[c.ID] = c
	}
	switches, err := s.CourseSwitches(ctx, rules.OrganisationID)
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
		case ok && c.OrganisationID != rules.OrganisationID && !known:
			problems = append(problems, fmt.Sprintf("course %d belongs to organisation %d, not %d (elentra.organisation_id)", id, c.OrganisationID, rules.OrganisationID))
		}
	}
	if len(problems) > 0 {
		return nil, &UnknownIDsError{Kind: "course", Problems: problems, Write: true}
	}
	var cancels map[int]int
	if !on {
		if cancels, err = s.cancelledBySwitchOff(ctx, rules, "course", ids, nil, now); err != nil {
			return nil, err
		}
	}
	plan := &SwitchPlan{Kind: "course", On: on, Items: []SwitchItem{}}
	// Something could switch it on again: the policy, or Elentra's switch.
	couldTurnOn := rules.AllActiveCourses || s.db.CourseSwitch() != nil
	for _, id := range ids {
		sw := switches[id]
		c, exists := byID[id]
		item := SwitchItem{ID: id, Label: courseLabel(id, c, exists)}
		if on {
			item.Change = !sw.Enabled
		} else {
			// A course that is on, or that the policy or Elentra's switch
			// could take in, gets an explicit off; one already off stays as
			// it is.
			item.Change = sw.Enabled || (couldTurnOn && !sw.Off())
		}
		after := sw
		after.Enabled, after.SwitchedAt = on, now
		var cp *elentra.Course
		if exists {
			cp = &c
		}
		line := courseLine(id, cp, after, records[id], rules)
		item.Next = line.Sync
		if n := cancels[id]; n > 0 && item.Change {
			item.CancelMeetings = n
			item.Next += ", cancel " + text.Plural(n, "meeting", "meetings")
		}
		plan.Items = append(plan.Items, item)
	}
	return plan, nil
}

// PlanEventSwitch is PlanCourseSwitch for learning events: an id must be an
// event of a course of the organisation, or, to switch it off, have a row.
func (s *Store) PlanEventSwitch(ctx context.Context, rules SyncRules, ids []int, on bool, now time.Time) (*SwitchPlan, error) {
	events, err := s.db.Events(ctx, elentra.EventFilter{EventIDs: ids})
	if err != nil {
		return nil, err
	}
	ids = elentra.UniqueIDs(ids)
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
	switches, err := s.EventSwitches(ctx, rules.OrganisationID)
	if err != nil {
		return nil, err
	}
	var cancels map[int]int
	ownLive := map[int]bool{}
	if !on {
		if cancels, err = s.cancelledBySwitchOff(ctx, rules, "event", ids, switches, now); err != nil {
			return nil, err
		}
		meetings, err := s.EventRecords(ctx, ids)
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
		case org != rules.OrganisationID:
			problems = append(problems, fmt.Sprintf("event %d belongs to organisation %d, not %d (elentra.organisation_id)", id, org, rules.OrganisationID))
		}
	}
	if len(problems) > 0 {
		return nil, &UnknownIDsError{Kind: "event", Problems: problems, Write: true}
	}
	plan := &SwitchPlan{Kind: "event", On: on, Items: []SwitchItem{}}
	couldTurnOn := rules.AllCourseEvents || s.db.EventSwitch() != nil
	for _, id := range ids {
		sw := switches[id]
		item := SwitchItem{ID: id, Label: fmt.Sprintf("event %d", id)}
		if e, ok := byID[id]; ok {
			item.Label = fmt.Sprintf("event %d %q", id, e.Title)
		}
		if on {
			item.Change = !sw.Enabled
		} else {
			item.Change = sw.Enabled || (couldTurnOn && !sw.Off())
			if n := cancels[id]; n > 0 && item.Change {
				item.CancelMeetings = n
				switch own := ownLive[id]; {
				case own && n == 1:
					item.Next = "cancel its meeting"
				case own:
					item.Next = fmt.Sprintf("cancel its meeting and %d of its child events'", n-1)
				default:
					item.Next = "cancel " + text.Plural(n, "meeting", "meetings") + " of its child events"
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
	for part := range slices.Chunk(ids, elentra.MaxInList) {
		var b strings.Builder
		args := make([]any, 0, len(part)*5)
		b.WriteString(`INSERT INTO ` + s.db.Table(table) + ` (` + key + `, enabled, switched_at, created_at, updated_at) VALUES `)
		for i, id := range part {
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
	}
	return nil
}

// cancelledBySwitchOff counts, for each course (kind "course") or event
// being switched off, the live meetings the next sync cancels because of it:
// those of events the switch alone kept in rules. An event switched on (by
// the tool or in Elentra), or whose parent event is, stays; a child event
// follows its parent's switch unless a switch of its own decides, or its
// own course's events are all synced. switches are the events' (nil: read
// them). Three queries, whatever the number of meetings, and one more for
// Elentra's event switch.
func (s *Store) cancelledBySwitchOff(ctx context.Context, rules SyncRules, kind string, ids []int, switches map[int]Switch, now time.Time) (map[int]int, error) {
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
	if switches == nil {
		if switches, err = s.EventSwitches(ctx, rules.OrganisationID); err != nil {
			return nil, err
		}
	}
	onBySwitch := func(id int) bool {
		on, decides := switches[id].Decides()
		return decides && on
	}
	off := map[int]bool{}
	for _, id := range ids {
		off[id] = true
	}
	for _, l := range live {
		p := parent[l.EventID]
		_, ownDecides := switches[l.EventID].Decides()
		switch kind {
		case "course":
			if off[l.CourseID] && !onBySwitch(l.EventID) && !(p != 0 && onBySwitch(p)) {
				out[l.CourseID]++
			}
		case "event":
			switch {
			case off[l.EventID]:
				out[l.EventID]++
			case p != 0 && off[p] && !ownDecides && !rules.AllCourseEvents:
				out[p]++ // a child that followed its parent
			}
		}
	}
	return out, nil
}

func courseLabel(id int, c elentra.Course, exists bool) string {
	if !exists {
		return fmt.Sprintf("course %d (not in Elentra)", id)
	}
	return strings.TrimSpace(fmt.Sprintf("course %d %s %s", id, c.Code, c.Name))
}
