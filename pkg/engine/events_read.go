package engine

import (
	"context"
	"sort"
	"time"

	"github.com/elentra-teams/elentra-teams/pkg/elentra"
	"github.com/elentra-teams/elentra-teams/pkg/reconcile"
)

// read reads the tool's rows, the events they and the switches name, and
// the events of the synced courses within the horizon; then the parents of
// child events and the courses of them all. A handful of set-based queries,
// whatever the number of events.
func (run *eventsRun) read(ctx context.Context) error {
	// Which courses are synced is decided over all of them: --course and
	// --event narrow what this run looks at, not what is enabled.
	whole := *run.env
	whole.CourseIDs = nil
	sc, err := readScope(ctx, &whole, 0)
	if err != nil {
		return err
	}
	run.scope = sc
	run.events, run.inHorizon, run.courses = map[int]elentra.Event{}, map[int]bool{}, map[int]elentra.Course{}
	if run.records, err = run.env.Store.EventRecordsToSync(ctx, run.now); err != nil {
		return err
	}
	if run.elentra, err = run.env.DB.EventSwitches(ctx, run.env.Config.Elentra.OrganisationID, run.now); err != nil {
		return err
	}
	for id, c := range sc.Courses {
		run.courses[id] = c
	}
	if err := run.readNamedEvents(ctx); err != nil {
		return err
	}
	if err := run.readHorizonEvents(ctx); err != nil {
		return err
	}
	if err := run.readParentEvents(ctx); err != nil {
		return err
	}
	return run.readMissingCourses(ctx)
}

func (run *eventsRun) addEvents(evs []elentra.Event) {
	for _, e := range evs {
		run.events[e.ID] = e
	}
}

// readNamedEvents reads the events switched on (with the tool or in
// Elentra), and those the tool holds a meeting or link of.
func (run *eventsRun) readNamedEvents(ctx context.Context) error {
	var named []int
	for id, rec := range run.records {
		if rec.Enabled || reconcile.LiveEventState(rec.State) || rec.ElinkID != 0 {
			named = append(named, id)
		}
	}
	for id := range run.elentra {
		if _, recorded := run.records[id]; !recorded && run.switchedOn(id) {
			named = append(named, id)
		}
	}
	if len(named) == 0 {
		return nil
	}
	sort.Ints(named)
	evs, err := run.env.DB.Events(ctx, elentra.EventFilter{EventIDs: named})
	if err != nil {
		return err
	}
	run.addEvents(evs)
	return nil
}

// readHorizonEvents reads every event within the horizon of the courses
// whose events are synced, and of the courses of switched-on events (their
// child events follow them).
func (run *eventsRun) readHorizonEvents(ctx context.Context) error {
	horizonEnd := run.now.Add(time.Duration(run.env.Config.Sync.EventsHorizon))
	courseSet := map[int]bool{}
	if run.env.Config.Sync.AllCourseEvents {
		for id := range run.scope.Enabled {
			courseSet[id] = true
		}
	}
	for id, e := range run.events {
		if run.switchedOn(id) {
			courseSet[e.CourseID] = true
		}
	}
	if len(courseSet) > 0 {
		evs, err := run.env.DB.Events(ctx, elentra.EventFilter{CourseIDs: elentra.SortedIDs(courseSet), From: run.now, To: horizonEnd})
		if err != nil {
			return err
		}
		run.addEvents(evs)
	}
	for id, e := range run.events {
		run.inHorizon[id] = !e.Start.Before(run.now) && e.Start.Before(horizonEnd)
	}
	return nil
}

// readParentEvents reads the parents of child events, for their switch.
func (run *eventsRun) readParentEvents(ctx context.Context) error {
	parents := map[int]bool{}
	for _, e := range run.events {
		if _, known := run.events[e.ParentID]; e.ParentID != 0 && !known {
			parents[e.ParentID] = true
		}
	}
	if len(parents) == 0 {
		return nil
	}
	evs, err := run.env.DB.Events(ctx, elentra.EventFilter{EventIDs: elentra.SortedIDs(parents)})
	if err != nil {
		return err
	}
	for _, e := range evs {
		if _, ok := run.events[e.ID]; !ok {
			run.events[e.ID] = e
			run.inHorizon[e.ID] = false
		}
	}
	return nil
}

// readMissingCourses reads the courses of the events read that the scope
// did not hold (an event switched on, or recorded, in a course not synced).
func (run *eventsRun) readMissingCourses(ctx context.Context) error {
	missing := map[int]bool{}
	for _, e := range run.events {
		if _, ok := run.courses[e.CourseID]; !ok {
			missing[e.CourseID] = true
		}
	}
	if len(missing) == 0 {
		return nil
	}
	cs, err := run.env.DB.Courses(ctx, elentra.CourseFilter{IDs: elentra.SortedIDs(missing)}, run.now)
	if err != nil {
		return err
	}
	for _, c := range cs {
		run.courses[c.ID] = c
	}
	return nil
}

// meetingWindow reads personal_meeting_window_minutes (the organisation's
// row over the global one) by elentra.MeetingWindow's rule: absent, or not a
// whole number of minutes from 0 to 1440, it is the guide's 10 minutes, and
// a value not used is a finding.
func meetingWindow(ctx context.Context, env *Env, r *Report) (int, error) {
	val, found, err := env.DB.Setting(ctx, elentra.SettingMeetingWindow, env.Config.Elentra.OrganisationID)
	if err != nil {
		return 0, err
	}
	n, unused := elentra.MeetingWindow(val, found)
	if unused != "" {
		r.note(reconcile.Finding{Kind: reconcile.FindingMeetingWindow, Severity: reconcile.Warning, Message: unused, Fix: elentra.MeetingWindowFix})
	}
	return n, nil
}
