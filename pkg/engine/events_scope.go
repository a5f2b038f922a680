package engine

import (
	"fmt"

	"github.com/elentra-teams/elentra-teams/pkg/elentra"
	"github.com/elentra-teams/elentra-teams/pkg/reconcile"
)

// inScope applies the switches: an admin's disable wins; then an admin's
// enable; then sync.all_course_events for the events of synced courses;
// then a child event follows its parent event. switched says that an
// admin's switch (the event's, its parent's or its course's) is what keeps
// the event out: its meeting's cancellation was asked for.
func (run *eventsRun) inScope(e elentra.Event) (in bool, why string, switched bool) {
	cfg := run.env.Config
	c, ok := run.courses[e.CourseID]
	switch {
	case !ok:
		return false, fmt.Sprintf("its course %d no longer exists in Elentra", e.CourseID), false
	case c.OrganisationID != cfg.Elentra.OrganisationID:
		return false, fmt.Sprintf("its course %d belongs to organisation %d, not %d (elentra.organisation_id)", e.CourseID, c.OrganisationID, cfg.Elentra.OrganisationID), false
	}
	rec := run.records[e.ID]
	switch {
	case rec.SwitchedOff():
		return false, "the event was switched off (events disable)", true
	case rec.Enabled:
		return true, "", false
	case cfg.Sync.AllCourseEvents && run.scope.Enabled[e.CourseID]:
		return true, "", false
	}
	if p, ok := run.events[e.ParentID]; e.ParentID != 0 && ok {
		prec := run.records[p.ID]
		if !prec.SwitchedOff() && (prec.Enabled || (cfg.Sync.AllCourseEvents && run.scope.Enabled[p.CourseID])) {
			return true, "", false
		}
		if prec.SwitchedOff() {
			return false, fmt.Sprintf("its parent event %d was switched off (events disable)", p.ID), true
		}
	}
	if cfg.Sync.AllCourseEvents {
		if run.scope.Switches[e.CourseID].Off() {
			return false, fmt.Sprintf("its course %d was switched off (courses disable)", e.CourseID), true
		}
		return false, "its course is not synced and the event is not switched on", false
	}
	return false, "the event is not switched on (events enable)", false
}

// eventWants builds the planner's view of each event in view: the events
// read and the records' events (absent ones deleted), narrowed by --course
// and --event.
func (run *eventsRun) eventWants() map[int]reconcile.EventWant {
	env := run.env
	onlyCourses := courseFilter(env)
	var onlyEvents map[int]bool
	if len(env.EventIDs) > 0 {
		onlyEvents = map[int]bool{}
		for _, id := range env.EventIDs {
			onlyEvents[id] = true
		}
	}
	inView := func(eventID, courseID, recordedCourseID int) bool {
		if onlyCourses == nil && onlyEvents == nil {
			return true
		}
		return onlyEvents[eventID] || onlyCourses[courseID] || (recordedCourseID != 0 && onlyCourses[recordedCourseID])
	}
	out := map[int]reconcile.EventWant{}
	for id, e := range run.events {
		rec, hasRec := run.records[id]
		if !inView(id, e.CourseID, rec.CourseID) {
			continue
		}
		on, why, switched := run.inScope(e)
		if !run.inHorizon[id] && !(hasRec && (reconcile.LiveEventState(rec.State) || rec.ElinkID != 0)) {
			continue // outside the horizon and nothing to keep up
		}
		w := reconcile.EventWant{EventID: id, CourseID: e.CourseID, CourseCode: run.courses[e.CourseID].Code, Exists: true,
			InScope: on, OutOfScope: why, SwitchedOff: switched, InHorizon: run.inHorizon[id], Title: e.Title, Start: e.Start, Finish: e.Finish}
		if env.Config.Sync.EventRequiresTeam {
			t := run.scope.Records[e.CourseID]
			w.NoTeam = t.GroupID == "" || (t.State != reconcile.StateTeam && t.State != reconcile.StateArchived)
		}
		out[id] = w
	}
	for id, rec := range run.records {
		if _, ok := out[id]; ok {
			continue
		}
		if _, read := run.events[id]; read {
			continue // left out above (another --course or --event)
		}
		if !reconcile.LiveEventState(rec.State) && rec.ElinkID == 0 {
			continue
		}
		if !rec.Finish.IsZero() && rec.Finish.Before(run.now) {
			continue
		}
		if !inView(id, rec.CourseID, rec.CourseID) {
			continue
		}
		out[id] = reconcile.EventWant{EventID: id, CourseID: rec.CourseID, CourseCode: run.courses[rec.CourseID].Code}
	}
	return out
}
