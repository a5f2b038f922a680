package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/elentra-teams/elentra-teams/pkg/msgraph"
	"github.com/elentra-teams/elentra-teams/pkg/reconcile"
	"github.com/elentra-teams/elentra-teams/pkg/store"
)

// mailboxOwner is recorded with each meeting: the account whose calendar
// holds it.
func mailboxOwner(env *Env) string {
	if env.AdminObjectID != "" {
		return strings.ToLower(env.AdminObjectID)
	}
	return env.Mailbox
}

// recordIntents records the creates about to be sent, in one statement: a
// crash after a POST leaves a row that makes the next run look the meeting
// up by its marker, or send the same transactionId, instead of making a
// second meeting.
func (run *eventsRun) recordIntents(ctx context.Context, actions []reconcile.Action) error {
	env := run.env
	var intents []store.EventIntent
	for _, a := range actions {
		if a.Kind != reconcile.KindCreateEvent {
			continue
		}
		w := run.wants[a.EventID]
		intents = append(intents, store.EventIntent{EventID: a.EventID, CourseID: w.CourseID, Start: w.Start, Finish: w.Finish,
			Mailbox: mailboxOwner(env), Generation: a.Event.Generation, TransactionID: a.Event.TransactionID,
			SentHashes: a.Event.SentHashes, ContentHash: a.Event.ContentHash, ElentraOn: run.eventSwitch(a.EventID).NextElentraWasOn()})
	}
	return env.Store.RecordEventIntents(ctx, intents, env.Now())
}

// apply applies the actions with one worker per event: an event's actions
// depend on each other (the link needs the join URL the create returns).
// Outlook takes 4 requests at a time per mailbox, which the client enforces
// too.
func (run *eventsRun) apply(ctx context.Context, actions []reconcile.Action) error {
	byEvent := map[int][]reconcile.Action{}
	var order []int
	for _, a := range actions {
		if _, ok := byEvent[a.EventID]; !ok {
			order = append(order, a.EventID)
		}
		byEvent[a.EventID] = append(byEvent[a.EventID], a)
	}
	for _, as := range byEvent {
		sort.SliceStable(as, func(i, j int) bool {
			return reconcile.EventActionOrder(as[i].Kind) < reconcile.EventActionOrder(as[j].Kind)
		})
	}
	tick := run.env.progress("sync-events", len(order))
	return forEach(ctx, min(run.env.Config.Sync.Concurrency, msgraph.DefaultMailboxConcurrency), order, func(ctx context.Context, id int) {
		run.applyEvent(ctx, id, byEvent[id])
		tick()
	})
}

// eventProgress is what an event's actions learn and hand on: the
// meeting's id and join URL, the link's id.
type eventProgress struct {
	graphID string
	joinURL string
	elinkID int
}

// applyEvent applies one event's actions in order. The first that fails
// is recorded as the event's error, and the rest are left to the next run.
func (run *eventsRun) applyEvent(ctx context.Context, eventID int, actions []reconcile.Action) {
	env := run.env
	rec := run.records[eventID]
	st := &eventProgress{graphID: rec.GraphEventID, joinURL: rec.JoinURL, elinkID: rec.ElinkID}
	for i, a := range actions {
		if ctx.Err() != nil {
			return
		}
		if err := run.applyAction(ctx, st, a); err != nil {
			run.r.fail(failure(a.Kind, a.CourseID, a.EventID, "", err))
			if rerr := env.Store.RecordEventError(context.WithoutCancel(ctx), eventID, err.Error(), env.Now()); rerr != nil && env.Logger != nil {
				env.Logger.Warn("could not record an event's error", "event", eventID, "error", rerr)
			}
			// What follows depends on what failed: the next run plans it again.
			run.r.deferred(actions[i+1:])
			return
		}
	}
}

func (run *eventsRun) applyAction(ctx context.Context, st *eventProgress, a reconcile.Action) error {
	spec := a.Event
	if spec == nil {
		spec = &reconcile.EventSpec{}
	}
	switch a.Kind {
	case reconcile.KindCreateEvent:
		return run.createMeeting(ctx, st, a, spec)
	case reconcile.KindFetchEvent:
		return run.fetchMeeting(ctx, st, a, spec)
	case reconcile.KindUpdateEvent:
		return run.updateMeeting(ctx, st, a, spec)
	case reconcile.KindPublishLink:
		return run.publish(ctx, st, a)
	case reconcile.KindRemoveLink:
		return run.removeLink(ctx, st, a, spec)
	case reconcile.KindCancelEvent:
		return run.cancelMeeting(ctx, st, a, spec)
	}
	return nil
}

// meetingResult is what the record of the event says after an action.
func (run *eventsRun) meetingResult(a reconcile.Action, st *eventProgress, sentHashes, contentHash string) store.MeetingResult {
	w := run.wants[a.EventID]
	return store.MeetingResult{EventID: a.EventID, CourseID: w.CourseID, Start: w.Start, Finish: w.Finish, Mailbox: mailboxOwner(run.env),
		GraphEventID: st.graphID, JoinURL: st.joinURL, SentHashes: sentHashes, ContentHash: contentHash}
}

// createMeeting sends the create with the event's marker and transactionId,
// so that a create whose answer was lost is found, or answered with the
// meeting it made, by the next run.
func (run *eventsRun) createMeeting(ctx context.Context, st *eventProgress, a reconcile.Action, spec *reconcile.EventSpec) error {
	env := run.env
	in, err := eventInput(*spec, nil)
	if err != nil {
		return err
	}
	on := true
	in.IsOnlineMeeting, in.OnlineMeetingProvider = &on, "teamsForBusiness"
	in.TransactionID = spec.TransactionID
	in.SingleValueExtendedProperties = []msgraph.SingleValueExtendedProperty{{ID: reconcile.MarkerPropertyID, Value: reconcile.MarkerValue(env.Installation, a.EventID)}}
	e, err := env.Graph.CreateEvent(ctx, env.Mailbox, in)
	if err != nil {
		if errors.Is(err, msgraph.ErrOutcomeUnknown) {
			return fmt.Errorf("create the meeting: %w; the next run finds it by its marker or sends the same transactionId", err)
		}
		return fmt.Errorf("create the meeting: %w", err)
	}
	st.graphID, st.joinURL = e.ID, e.JoinURL()
	if err := env.Store.RecordMeeting(ctx, run.meetingResult(a, st, spec.SentHashes, spec.ContentHash), env.Now()); err != nil {
		return err
	}
	if !e.IsOnlineMeeting {
		w := run.wants[a.EventID]
		run.r.note(reconcile.Finding{Kind: reconcile.FindingMeetingNotOnline, Severity: reconcile.Warning, CourseID: w.CourseID, EventID: a.EventID, Name: w.CourseCode,
			Message: "Outlook made the event without a Teams meeting; the next run asks for one again",
			Fix:     "check that the authorizing account has a Teams licence (GET /me/calendar must allow teamsForBusiness)"})
	}
	run.r.applied(a.Kind, 1)
	return nil
}

// fetchMeeting adopts a meeting found (or made) but not recorded, reading
// its join URL when the listing did not carry one.
func (run *eventsRun) fetchMeeting(ctx context.Context, st *eventProgress, a reconcile.Action, spec *reconcile.EventSpec) error {
	env := run.env
	if spec.GraphEventID != "" {
		st.graphID = spec.GraphEventID
	}
	join := spec.JoinURL
	if join == "" {
		var err error
		if join, err = run.readJoinURL(ctx, st.graphID); err != nil {
			return err
		}
	}
	if join != "" {
		st.joinURL = join
	}
	if err := env.Store.RecordMeeting(ctx, run.meetingResult(a, st, spec.SentHashes, ""), env.Now()); err != nil {
		return err
	}
	if st.joinURL == "" {
		return nil // the publish that follows says so
	}
	run.r.applied(a.Kind, 1)
	return nil
}

// readJoinURL reads a meeting's join URL; a plain event, made without a
// Teams meeting, is asked for one.
func (run *eventsRun) readJoinURL(ctx context.Context, graphID string) (string, error) {
	env := run.env
	e, err := env.Graph.GetEvent(ctx, env.Mailbox, graphID, msgraph.EventOptions{Select: calendarSelect})
	if err != nil {
		return "", fmt.Errorf("read meeting %s: %w", graphID, err)
	}
	join := e.JoinURL()
	if join != "" || e.IsOnlineMeeting {
		return join, nil
	}
	// The create did not get a Teams meeting: ask for one on the same event
	// (Outlook's documented way to add one later).
	on := true
	e, err = env.Graph.UpdateEvent(ctx, env.Mailbox, graphID, msgraph.EventInput{IsOnlineMeeting: &on, OnlineMeetingProvider: "teamsForBusiness"})
	if err != nil {
		return "", fmt.Errorf("turn meeting %s into a Teams meeting: %w", graphID, err)
	}
	if !e.IsOnlineMeeting {
		return "", fmt.Errorf("outlook keeps meeting %s a plain event without a Teams meeting (provider %q): the authorizing account cannot host Teams meetings; give it a Teams licence (its calendar must allow teamsForBusiness), and the next run adds the meeting", graphID, e.OnlineMeetingProvider)
	}
	return e.JoinURL(), nil
}

// updateMeeting sends the fields that changed; a join URL the update
// changed is published again at once.
func (run *eventsRun) updateMeeting(ctx context.Context, st *eventProgress, a reconcile.Action, spec *reconcile.EventSpec) error {
	env := run.env
	in, err := eventInput(*spec, spec.Changed)
	if err != nil {
		return err
	}
	e, err := env.Graph.UpdateEvent(ctx, env.Mailbox, st.graphID, in)
	if err != nil {
		return fmt.Errorf("update meeting %s: %w", st.graphID, err)
	}
	// Outlook may hand out a new join URL when the body changes; an answer
	// without one keeps the known one.
	joinChanged := false
	if j := e.JoinURL(); j != "" && j != st.joinURL {
		st.joinURL, joinChanged = j, true
	}
	if err := env.Store.RecordMeeting(ctx, run.meetingResult(a, st, spec.SentHashes, spec.ContentHash), env.Now()); err != nil {
		return err
	}
	run.r.applied(a.Kind, 1)
	if joinChanged && st.elinkID != 0 {
		w := run.wants[a.EventID]
		return run.publish(ctx, st, reconcile.Action{Kind: reconcile.KindPublishLink, CourseID: a.CourseID, EventID: a.EventID,
			Event: &reconcile.EventSpec{JoinURL: st.joinURL, JoinableFrom: reconcile.JoinableFrom(w.Start, run.window), Start: w.Start, End: w.Finish, ElinkID: st.elinkID}})
	}
	return nil
}

// cancelMeeting cancels the meeting, telling its attendees why; one
// already gone counts as cancelled.
func (run *eventsRun) cancelMeeting(ctx context.Context, st *eventProgress, a reconcile.Action, spec *reconcile.EventSpec) error {
	env := run.env
	if spec.GraphEventID != "" {
		err := env.Graph.CancelEvent(ctx, env.Mailbox, spec.GraphEventID, "This Teams meeting is cancelled: "+a.Reason+".")
		if err != nil && !msgraph.IsNotFound(err) {
			return fmt.Errorf("cancel meeting %s: %w", spec.GraphEventID, err)
		}
	}
	if err := env.Store.RecordEventCancelled(ctx, a.EventID, env.Now()); err != nil {
		return err
	}
	st.joinURL = ""
	run.r.applied(a.Kind, 1)
	return nil
}
