package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/elentra-teams/elentra-teams/internal/text"
	"github.com/elentra-teams/elentra-teams/pkg/elentra"
	"github.com/elentra-teams/elentra-teams/pkg/msgraph"
	"github.com/elentra-teams/elentra-teams/pkg/reconcile"
)

// calendarSelect are the properties the listing of meetings reads.
var calendarSelect = []string{"id", "subject", "isOnlineMeeting", "onlineMeetingProvider", "onlineMeeting", "transactionId", "isCancelled"}

// findMeetings lists the mailbox's meetings over the horizon in one paged
// calendarView, with the marker expanded, and finds each event's meeting by
// it. A recorded meeting the listing does not show is read on its own: a
// 404 means it was deleted in Outlook.
func (run *eventsRun) findMeetings(ctx context.Context) (map[int]reconcile.Meeting, error) {
	env := run.env
	out := map[int]reconcile.Meeting{}
	to, need := run.listingEnd()
	if !need {
		return out, nil
	}
	listed, err := env.Graph.CalendarView(ctx, env.Mailbox, run.now, to.Add(time.Minute), msgraph.CalendarViewOptions{
		Select: calendarSelect, ExpandExtendedPropertyID: reconcile.MarkerPropertyID, PageSize: 500})
	if err != nil {
		return nil, fmt.Errorf("list the meetings of the mailbox: %w", err)
	}
	byEvent := run.meetingsByEvent(listed)
	for _, id := range elentra.SortedIDs(run.wants) {
		if found := byEvent[id]; len(found) > 0 {
			out[id] = run.pickMeeting(id, found)
			continue
		}
		if m, ok := run.readRecordedMeeting(ctx, id); ok {
			out[id] = m
		}
	}
	return out, nil
}

// listingEnd is the end of the calendar listing: the horizon, or later
// when a wanted or live meeting finishes later. need is false when no event
// wants a meeting and the tool holds none live: nothing is listed then.
func (run *eventsRun) listingEnd() (to time.Time, need bool) {
	to = run.now.Add(time.Duration(run.env.Config.Sync.EventsHorizon))
	for id, w := range run.wants {
		rec := run.records[id]
		live := reconcile.LiveEventState(rec.State)
		if !(w.Exists && w.InScope) && !live {
			continue
		}
		need = true
		for _, t := range []time.Time{w.Finish, rec.Finish} {
			if t.After(to) {
				to = t
			}
		}
	}
	return to, need
}

// meetingsByEvent files the listed meetings that carry this installation's
// marker by event, and notes those that another installation made.
func (run *eventsRun) meetingsByEvent(listed []msgraph.Event) map[int][]msgraph.Event {
	env := run.env
	byEvent := map[int][]msgraph.Event{}
	// The meetings of other installations (by id; "" for those made before
	// installations existed that this one never recorded): left alone.
	others := map[string][]int{}
	for _, e := range listed {
		val, ok := e.ExtendedProperty(reconcile.MarkerPropertyID)
		if !ok || e.IsCancelled {
			continue
		}
		m, ok := reconcile.ParseMarker(val)
		switch {
		case !ok:
		case m.Installation == env.Installation:
			byEvent[m.EventID] = append(byEvent[m.EventID], e)
		case m.Installation != "":
			others[m.Installation] = append(others[m.Installation], m.EventID)
		case recordedMeeting(run.records[m.EventID].EventRecord, e) && m.Database == env.DB.Name():
			// made before installations existed, and recorded by this one
			byEvent[m.EventID] = append(byEvent[m.EventID], e)
		default:
			others[""] = append(others[""], m.EventID)
		}
	}
	noteOthers(run.r, env, others)
	return byEvent
}

// pickMeeting chooses the event's meeting among those carrying its marker:
// the recorded one (by Graph id, or by transactionId before the id was
// recorded), else the first listed. The others are named in a finding.
func (run *eventsRun) pickMeeting(id int, found []msgraph.Event) reconcile.Meeting {
	rec := run.records[id]
	pick := found[0]
	for _, e := range found {
		if (rec.GraphEventID != "" && e.ID == rec.GraphEventID) || (rec.GraphEventID == "" && rec.TransactionID != "" && e.TransactionID == rec.TransactionID) {
			pick = e
		}
	}
	if len(found) > 1 {
		w := run.wants[id]
		var others []string
		for _, e := range found {
			if e.ID != pick.ID {
				others = append(others, e.ID)
			}
		}
		run.r.note(reconcile.Finding{Kind: reconcile.FindingDuplicateMeetings, Severity: reconcile.Warning, CourseID: w.CourseID, EventID: id, Name: w.CourseCode,
			Message: fmt.Sprintf("%d meetings in the calendar carry this event's marker; %s is kept, the others are left as they are: %s", len(found), pick.ID, strings.Join(others, ", ")),
			Fix:     "delete the extra meetings in Outlook"})
	}
	return reconcile.Meeting{GraphEventID: pick.ID, JoinURL: pick.JoinURL()}
}

// readRecordedMeeting reads, on its own, the live recorded meeting of a
// wanted event that the listing did not show. ok is false when there is
// none to read, or reading it failed (a failure of the report then).
func (run *eventsRun) readRecordedMeeting(ctx context.Context, id int) (m reconcile.Meeting, ok bool) {
	env := run.env
	w := run.wants[id]
	rec := run.records[id]
	if rec.GraphEventID == "" || !reconcile.LiveEventState(rec.State) || !(w.Exists && w.InScope) {
		return m, false
	}
	e, err := env.Graph.GetEvent(ctx, env.Mailbox, rec.GraphEventID, msgraph.EventOptions{Select: calendarSelect})
	switch {
	case msgraph.IsNotFound(err):
		return reconcile.Meeting{Gone: true}, true
	case err != nil:
		run.r.fail(failure(reconcile.KindFetchEvent, w.CourseID, id, "", fmt.Errorf("read meeting %s: %w", rec.GraphEventID, err)))
		return m, false
	case e.IsCancelled:
		return reconcile.Meeting{Gone: true}, true
	}
	return reconcile.Meeting{GraphEventID: e.ID, JoinURL: e.JoinURL()}, true
}

// recordedMeeting reports whether rec names the meeting e: by its Graph id,
// or by the transactionId its create was sent with.
func recordedMeeting(rec reconcile.EventRecord, e msgraph.Event) bool {
	return (rec.GraphEventID != "" && rec.GraphEventID == e.ID) || (rec.TransactionID != "" && rec.TransactionID == e.TransactionID)
}

// noteOthers says which meetings of the calendar the run left alone because
// another installation made them: one note for each installation.
func noteOthers(r *Report, env *Env, others map[string][]int) {
	insts := make([]string, 0, len(others))
	for id := range others {
		insts = append(insts, id)
	}
	sort.Strings(insts)
	for _, id := range insts {
		events := others[id]
		sort.Ints(events)
		who := fmt.Sprintf("installation %s", id)
		if id == "" {
			who = "an installation from before installation ids (a copy of this database, or this one's before `setup --new-installation`), which this installation never recorded"
		}
		shown, more := events, ""
		if len(events) > 20 {
			shown, more = events[:20], fmt.Sprintf(" and %d more", len(events)-20)
		}
		verb := "meetings in the calendar were"
		if len(events) == 1 {
			verb = "meeting in the calendar was"
		}
		r.note(reconcile.Finding{Kind: reconcile.FindingOtherInstallationMeetings, Severity: reconcile.Note,
			Message: fmt.Sprintf("%d %s made by %s, not by this one (%s): left alone, never adopted, changed or cancelled (events %s%s)",
				len(events), verb, who, env.Installation, text.JoinInts(shown), more),
			Fix: "nothing to do when staging and production share the mailbox; `elentra-teams status` on each shows its installation id"})
	}
}
