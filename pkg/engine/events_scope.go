package engine

import (
	"context"
	"fmt"

	"github.com/elentra-teams/elentra-teams/pkg/elentra"
	"github.com/elentra-teams/elentra-teams/pkg/reconcile"
	"github.com/elentra-teams/elentra-teams/pkg/store"
)

// eventSwitch is an event's switch: the tool's, and Elentra's.
func (run *eventsRun) eventSwitch(id int) store.Switch {
	return run.records[id].Switch(store.ElentraSwitchOf(run.elentra, id))
}

// switchedOn reports that a switch (the tool's, else Elentra's) turns the
// event on.
func (run *eventsRun) switchedOn(id int) bool {
	on, decides := run.eventSwitch(id).Decides()
	return decides && on
}

// offReason says which switch keeps a course or event out: the tool's
// disable, or Elentra's switch (key names its column).
func offReason(sw store.Switch, command, key string) string {
	if sw.Off() {
		return "was switched off (" + command + ")"
	}
	return "is switched off in Elentra (" + key + ")"
}

// inScope applies the switches, first that decides wins: the event's own
// (the tool's, then Elentra's event switch); sync.all_course_events for the
// events of synced courses; then a child event follows its parent event's
// switches and policy. switched says that an admin turned off the switch
// (the event's, its parent's or its course's) that keeps the event out
// (store.Switch.SwitchedOff): its meeting's cancellation was asked for.
func (run *eventsRun) inScope(e elentra.Event) (in bool, why string, switched bool) {
	cfg := run.env.Config
	c, ok := run.courses[e.CourseID]
	switch {
	case !ok:
		return false, fmt.Sprintf("its course %d no longer exists in Elentra", e.CourseID), false
	case c.OrganisationID != cfg.Elentra.OrganisationID:
		return false, fmt.Sprintf("its course %d belongs to organisation %d, not %d (elentra.organisation_id)", e.CourseID, c.OrganisationID, cfg.Elentra.OrganisationID), false
	}
	const eventKey, courseKey = "elentra.event_switch_column", "elentra.course_switch_column"
	sw := run.eventSwitch(e.ID)
	if on, decides := sw.Decides(); decides {
		if on {
			return true, "", false
		}
		return false, "the event " + offReason(sw, "events disable", eventKey), sw.SwitchedOff()
	}
	if cfg.Sync.AllCourseEvents && run.scope.Enabled[e.CourseID] {
		return true, "", false
	}
	if p, ok := run.events[e.ParentID]; e.ParentID != 0 && ok {
		psw := run.eventSwitch(p.ID)
		on, decides := psw.Decides()
		if decides && !on {
			return false, fmt.Sprintf("its parent event %d %s", p.ID, offReason(psw, "events disable", eventKey)), psw.SwitchedOff()
		}
		if on || (cfg.Sync.AllCourseEvents && run.scope.Enabled[p.CourseID]) {
			return true, "", false
		}
	}
	if cfg.Sync.AllCourseEvents {
		csw := run.scope.Switches[e.CourseID]
		if on, decides := csw.Decides(); decides && !on {
			return false, fmt.Sprintf("its course %d %s", e.CourseID, offReason(csw, "courses disable", courseKey)), csw.SwitchedOff()
		}
		return false, "its course is not synced and the event is not switched on", false
	}
	return false, "the event is not switched on (events enable)", false
}

// recordElentraSwitches keeps what this run read of Elentra's switches, for
// the next run to tell a switch turned off (store.Switch.NextElentraWasOn):
// the courses' and the recorded events' elentra_on, where it changes. No
// statement when nothing changes, nor when no switch is configured and none
// was recorded.
func (run *eventsRun) recordElentraSwitches(ctx context.Context) error {
	var courseOn, courseOff []int
	for id, sw := range run.scope.Switches {
		if next := sw.NextElentraWasOn(); next != sw.ElentraWasOn {
			if next {
				courseOn = append(courseOn, id)
			} else {
				courseOff = append(courseOff, id)
			}
		}
	}
	var eventOn, eventOff []int
	for id, rec := range run.records {
		if next := run.eventSwitch(id).NextElentraWasOn(); next != rec.ElentraWasOn {
			if next {
				eventOn = append(eventOn, id)
			} else {
				eventOff = append(eventOff, id)
			}
		}
	}
	now := run.env.Now()
	if err := run.env.Store.RecordElentraSwitches(ctx, "course", courseOn, courseOff, now); err != nil {
		return err
	}
	return run.env.Store.RecordElentraSwitches(ctx, "event", eventOn, eventOff, now)
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
