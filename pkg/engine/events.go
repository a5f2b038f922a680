package engine

import (
	"context"
	"errors"
	"fmt"
	"text/template"
	"time"

	"github.com/elentra-teams/elentra-teams/pkg/config"
	"github.com/elentra-teams/elentra-teams/pkg/elentra"
	"github.com/elentra-teams/elentra-teams/pkg/msgraph"
	"github.com/elentra-teams/elentra-teams/pkg/reconcile"
	"github.com/elentra-teams/elentra-teams/pkg/store"
)

// sync-events goes in phases, each in a file of its own:
//
//	events_read.go       Elentra's events, their courses and the tool's rows
//	events_scope.go      which events are synced (the switches, --course, --event)
//	events_attendees.go  whom each meeting invites
//	events_spec.go       the meeting each event should have, and its time zone
//	events_meetings.go   the meetings Outlook holds, found by their markers
//	events_links.go      the links Elentra's event pages hold
//	events_apply.go      the plan applied, one worker per event
//	events_publish.go    the join link published on (and removed from) the event page
//	events_wire.go       a meeting as Graph's event body

// EventsStep is sync-events: a Teams meeting for each enabled learning
// event, its join link on the event page.
var EventsStep = Step{Name: "sync-events", Run: syncEvents}

// eventsRun is one run of sync-events: the settings and what was read,
// shared by its phases.
type eventsRun struct {
	env *Env
	r   *Report
	now time.Time

	// zone is the Outlook time zone meetings are sent in; local is
	// Elentra's, in which a subject template sees an event's start.
	zone    string
	local   *time.Location
	subject *template.Template
	// window is personal_meeting_window_minutes: how long before its
	// event's start a join link opens.
	window int

	// What was read (events_read.go): the courses in scope and the tool's
	// rows; the events of the synced courses starting within the horizon,
	// and those a switch or a live record names; their courses.
	scope   *scope
	records map[int]store.EventRecord
	// elentra is what Elentra's event switch says of the events not
	// finished by now (elentra.DB.EventSwitches; nil when none is
	// configured).
	elentra   map[int]bool
	events    map[int]elentra.Event
	inHorizon map[int]bool
	courses   map[int]elentra.Course

	// wants is the planner's view of each event in view (events_scope.go),
	// attendees and meeting included.
	wants map[int]reconcile.EventWant
}

func syncEvents(ctx context.Context, env *Env, r *Report) error {
	run, err := newEventsRun(env, r)
	if err != nil {
		return err
	}
	if err := run.read(ctx); err != nil {
		return err
	}
	if run.window, err = meetingWindow(ctx, env, r); err != nil {
		return err
	}
	run.wants = run.eventWants()
	if err := run.addAttendees(ctx); err != nil {
		return err
	}
	run.addSpecs()

	in, err := run.plannerInput(ctx)
	if err != nil {
		return err
	}
	plan := reconcile.PlanEvents(in)
	plan.Actions = append(plan.Actions, env.release(r, "sync-events", plan.Held)...)
	r.planned(plan)
	if env.DryRun {
		return nil
	}
	if err := run.recordElentraSwitches(ctx); err != nil {
		return err
	}
	if plan.Empty() {
		return nil
	}
	actions := capPlan(env, r, plan)
	if err := run.recordIntents(ctx, actions); err != nil {
		return err
	}
	return run.apply(ctx, actions)
}

// newEventsRun checks the time zones and the subject template before
// anything is read: without them no meeting can be made.
func newEventsRun(env *Env, r *Report) (*eventsRun, error) {
	cfg := env.Config
	run := &eventsRun{env: env, r: r, now: env.Now(), zone: env.OutlookTimezone}
	if run.zone == "" {
		if cfg.Elentra.Timezone == "" {
			return nil, errors.New("no Outlook time zone is recorded with the sign-in and elentra.timezone is not set: run 'elentra-teams authorize' to choose the Outlook time zone")
		}
		run.zone = cfg.Elentra.Timezone
		r.note(reconcile.Finding{Kind: reconcile.FindingNoOutlookTimezone, Severity: reconcile.Warning,
			Message: fmt.Sprintf("no Outlook time zone is recorded with the sign-in; meetings are created in elentra.timezone (%s)", run.zone),
			Fix:     "run 'elentra-teams authorize' again to choose the Outlook time zone"})
	}
	if _, err := msgraph.LoadZone(run.zone); err != nil {
		return nil, fmt.Errorf("the Outlook time zone: %w", err)
	}
	local, err := time.LoadLocation(cfg.Elentra.Timezone)
	if err != nil || cfg.Elentra.Timezone == "" {
		local = time.UTC
	}
	run.local = local
	if run.subject, err = config.ParseNameTemplate("event_subject", cfg.Sync.EventSubjectTemplate); err != nil {
		return nil, fmt.Errorf("sync.event_subject_template: %w", err)
	}
	return run, nil
}

// plannerInput gathers what the planner weighs: the events wanted, the
// tool's records, the meetings Outlook holds and the links Elentra shows.
func (run *eventsRun) plannerInput(ctx context.Context) (reconcile.EventsInput, error) {
	env := run.env
	in := reconcile.EventsInput{Now: run.now, Installation: env.Installation, WindowMinutes: run.window, AllowLongEvents: env.AllowLongEvents,
		Records: map[int]reconcile.EventRecord{}, Guards: env.guards(), LiveByCourse: map[int]int{}}
	// The guards' whole: every live meeting the tool holds, whatever
	// --course or --event narrow this run to.
	for _, rec := range run.records {
		if reconcile.LiveEventState(rec.State) {
			in.LiveByCourse[rec.CourseID]++
			in.LiveTotal++
		}
	}
	ids := elentra.SortedIDs(run.wants)
	for _, id := range ids {
		in.Events = append(in.Events, run.wants[id])
		if rec, ok := run.records[id]; ok {
			in.Records[id] = rec.EventRecord
		}
	}
	var err error
	if in.Meetings, err = run.findMeetings(ctx); err != nil {
		return in, err
	}
	if in.Links, err = run.findLinks(ctx, in.Meetings); err != nil {
		return in, err
	}
	return in, nil
}
