package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/elentra-teams/elentra-teams/pkg/config"
	"github.com/elentra-teams/elentra-teams/pkg/elentra"
	"github.com/elentra-teams/elentra-teams/pkg/msgraph"
	"github.com/elentra-teams/elentra-teams/pkg/reconcile"
	"github.com/elentra-teams/elentra-teams/pkg/store"
)

// EventsStep is sync-events: a Teams meeting for each enabled learning
// event, its join link on the event page.
var EventsStep = Step{Name: "sync-events", Run: syncEvents}

// defaultMeetingWindow is personal_meeting_window_minutes when Elentra has
// no such setting (the guide's default).
const defaultMeetingWindow = 10

// eventContactRoles are the event contacts invited with
// sync.event_attendees teachers (auditors only watch).
var eventContactRoles = map[string]bool{"teacher": true, "tutor": true, "ta": true}

// eventView is the Elentra side of sync-events and the tool's rows, read
// with a handful of set-based queries whatever the number of events.
type eventView struct {
	scope   *scope
	records map[int]store.EventRecord
	// events are the events read: those starting within the horizon of the
	// synced courses, and those named by a switch or a live record.
	events    map[int]elentra.Event
	inHorizon map[int]bool
	courses   map[int]elentra.Course
}

func syncEvents(ctx context.Context, env *Env, r *Report) error {
	cfg := env.Config
	now := env.Now()
	zone := env.OutlookTimezone
	if zone == "" {
		if cfg.Elentra.Timezone == "" {
			return errors.New("no Outlook time zone is recorded with the sign-in and elentra.timezone is not set: run 'elentra-teams authorize' to choose the Outlook time zone")
		}
		zone = cfg.Elentra.Timezone
		r.note(reconcile.Finding{Kind: "no_outlook_timezone", Severity: reconcile.Warning,
			Message: fmt.Sprintf("no Outlook time zone is recorded with the sign-in; meetings are created in elentra.timezone (%s)", zone),
			Fix:     "run 'elentra-teams authorize' again to choose the Outlook time zone"})
	}
	if _, err := msgraph.LoadZone(zone); err != nil {
		return fmt.Errorf("the Outlook time zone: %w", err)
	}
	local, err := time.LoadLocation(cfg.Elentra.Timezone)
	if err != nil || cfg.Elentra.Timezone == "" {
		local = time.UTC
	}
	subject, err := config.ParseNameTemplate("event_subject", cfg.Sync.EventSubjectTemplate)
	if err != nil {
		return fmt.Errorf("sync.event_subject_template: %w", err)
	}

	v, err := readEvents(ctx, env, now)
	if err != nil {
		return err
	}
	window, err := meetingWindow(ctx, env, r)
	if err != nil {
		return err
	}
	wants := eventWants(env, v, now)
	if err := addAttendees(ctx, env, r, v, wants, now); err != nil {
		return err
	}
	if cfg.Elentra.URL == "" && len(wants) > 0 {
		r.note(reconcile.Finding{Kind: "no_elentra_url", Severity: reconcile.Note,
			Message: "elentra.url is not set, so meeting invitations do not link to the Elentra event page",
			Fix:     "set elentra.url to Elentra's ENTRADA_URL (or point elentra.settings_file at settings.inc.php)"})
	}
	for id, w := range wants {
		if !w.Exists || !w.InScope {
			continue
		}
		w.Spec = eventSpec(env, subject, local, zone, v.events[id], v.courses[w.CourseID], w.Spec.Attendees)
		wants[id] = w
	}

	in := reconcile.EventsInput{Now: now, Installation: env.Installation, WindowMinutes: window, AllowLongEvents: env.AllowLongEvents,
		Records: map[int]reconcile.EventRecord{}, Meetings: map[int]reconcile.Meeting{}, Links: map[int]reconcile.Link{},
		Guards: env.guards(), LiveByCourse: map[int]int{}}
	// The guards' whole: every live meeting the tool holds, whatever
	// --course or --event narrow this run to.
	for _, rec := range v.records {
		if reconcile.LiveEventState(rec.State) {
			in.LiveByCourse[rec.CourseID]++
			in.LiveTotal++
		}
	}
	ids := make([]int, 0, len(wants))
	for id := range wants {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	for _, id := range ids {
		in.Events = append(in.Events, wants[id])
		if rec, ok := v.records[id]; ok {
			in.Records[id] = rec.EventRecord
		}
	}
	if err := findMeetings(ctx, env, r, v, wants, in.Meetings, now); err != nil {
		return err
	}
	if err := findLinks(ctx, env, v, wants, in.Meetings, in.Links); err != nil {
		return err
	}

	plan := reconcile.PlanEvents(in)
	plan.Actions = append(plan.Actions, env.release(r, "sync-events", plan.Held)...)
	r.planned(plan)
	if env.DryRun || plan.Empty() {
		return nil
	}
	actions := capPlan(env, r, plan)

	// Intent first, in one statement: a crash after a POST leaves a row that
	// makes the next run look the meeting up by its marker, or send the same
	// transactionId, instead of making a second meeting.
	var intents []store.EventIntent
	for _, a := range actions {
		if a.Kind != reconcile.KindCreateEvent {
			continue
		}
		w := wants[a.EventID]
		intents = append(intents, store.EventIntent{EventID: a.EventID, CourseID: w.CourseID, Start: w.Start, Finish: w.Finish,
			Mailbox: mailboxOwner(env), Generation: a.Event.Generation, TransactionID: a.Event.TransactionID,
			SentHashes: a.Event.SentHashes, ContentHash: a.Event.ContentHash})
	}
	if err := env.Store.RecordEventIntents(ctx, intents, env.Now()); err != nil {
		return err
	}

	// One worker per event: its actions depend on each other (the link
	// needs the join URL the create returns). Outlook takes 4 requests at
	// a time per mailbox, which the client enforces too.
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
	ea := &eventApplier{env: env, r: r, records: v.records, wants: wants, window: window}
	tick := env.progress("sync-events", len(order))
	return forEach(ctx, min(env.Config.Sync.Concurrency, msgraph.DefaultMailboxConcurrency), order, func(ctx context.Context, id int) {
		ea.run(ctx, id, byEvent[id])
		tick()
	})
}

// mailboxOwner is recorded with each meeting: the account whose calendar
// holds it.
func mailboxOwner(env *Env) string {
	if env.AdminObjectID != "" {
		return strings.ToLower(env.AdminObjectID)
	}
	return env.Mailbox
}

// readEvents reads the tool's rows, the events they and the switches name,
// and the events of the synced courses within the horizon.
func readEvents(ctx context.Context, env *Env, now time.Time) (*eventView, error) {
	cfg := env.Config
	// Which courses are synced is decided over all of them: --course and
	// --event narrow what this run looks at, not what is enabled.
	whole := *env
	whole.CourseIDs = nil
	sc, err := readScope(ctx, &whole, 0)
	if err != nil {
		return nil, err
	}
	v := &eventView{scope: sc, events: map[int]elentra.Event{}, inHorizon: map[int]bool{}, courses: map[int]elentra.Course{}}
	if v.records, err = env.Store.EventRecordsToSync(ctx, now); err != nil {
		return nil, err
	}
	for id, c := range sc.Courses {
		v.courses[id] = c
	}
	add := func(evs []elentra.Event) {
		for _, e := range evs {
			v.events[e.ID] = e
		}
	}

	// The events switched on, and those the tool holds a meeting or link of.
	var named []int
	for id, rec := range v.records {
		if rec.Enabled || reconcile.LiveEventState(rec.State) || rec.ElinkID != 0 {
			named = append(named, id)
		}
	}
	sort.Ints(named)
	if len(named) > 0 {
		evs, err := env.DB.Events(ctx, elentra.EventFilter{EventIDs: named})
		if err != nil {
			return nil, err
		}
		add(evs)
	}

	// Every event within the horizon of the courses whose events are synced,
	// and of the courses of switched-on events (their child events follow
	// them).
	horizonEnd := now.Add(time.Duration(cfg.Sync.EventsHorizon))
	courseSet := map[int]bool{}
	if cfg.Sync.AllCourseEvents {
		for id := range sc.Enabled {
			courseSet[id] = true
		}
	}
	for id, e := range v.events {
		if v.records[id].Enabled {
			courseSet[e.CourseID] = true
		}
	}
	if len(courseSet) > 0 {
		evs, err := env.DB.Events(ctx, elentra.EventFilter{CourseIDs: sortedInts(courseSet), From: now, To: horizonEnd})
		if err != nil {
			return nil, err
		}
		add(evs)
	}
	for id, e := range v.events {
		v.inHorizon[id] = !e.Start.Before(now) && e.Start.Before(horizonEnd)
	}

	// Parents of child events, for their switch.
	parents := map[int]bool{}
	for _, e := range v.events {
		if _, known := v.events[e.ParentID]; e.ParentID != 0 && !known {
			parents[e.ParentID] = true
		}
	}
	if len(parents) > 0 {
		evs, err := env.DB.Events(ctx, elentra.EventFilter{EventIDs: sortedInts(parents)})
		if err != nil {
			return nil, err
		}
		for _, e := range evs {
			if _, ok := v.events[e.ID]; !ok {
				v.events[e.ID] = e
				v.inHorizon[e.ID] = false
			}
		}
	}

	missing := map[int]bool{}
	for _, e := range v.events {
		if _, ok := v.courses[e.CourseID]; !ok {
			missing[e.CourseID] = true
		}
	}
	if len(missing) > 0 {
		cs, err := env.DB.Courses(ctx, elentra.CourseFilter{IDs: sortedInts(missing)}, now)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			v.courses[c.ID] = c
		}
	}
	return v, nil
}

// inScope applies the switches: an admin's disable wins; then an admin's
// enable; then sync.all_course_events for the events of synced courses;
// then a child event follows its parent event. switched says that an
// admin's switch (the event's, its parent's or its course's) is what keeps
// the event out: its meeting's cancellation was asked for.
func (v *eventView) inScope(env *Env, e elentra.Event) (in bool, why string, switched bool) {
	cfg := env.Config
	c, ok := v.courses[e.CourseID]
	switch {
	case !ok:
		return false, fmt.Sprintf("its course %d no longer exists in Elentra", e.CourseID), false
	case c.OrganisationID != cfg.Elentra.OrganisationID:
		return false, fmt.Sprintf("its course %d belongs to organisation %d, not %d (elentra.organisation_id)", e.CourseID, c.OrganisationID, cfg.Elentra.OrganisationID), false
	}
	rec := v.records[e.ID]
	switch {
	case rec.SwitchedOff():
		return false, "the event was switched off (events disable)", true
	case rec.Enabled:
		return true, "", false
	case cfg.Sync.AllCourseEvents && v.scope.Enabled[e.CourseID]:
		return true, "", false
	}
	if p, ok := v.events[e.ParentID]; e.ParentID != 0 && ok {
		prec := v.records[p.ID]
		if !prec.SwitchedOff() && (prec.Enabled || (cfg.Sync.AllCourseEvents && v.scope.Enabled[p.CourseID])) {
			return true, "", false
		}
		if prec.SwitchedOff() {
			return false, fmt.Sprintf("its parent event %d was switched off (events disable)", p.ID), true
		}
	}
	if cfg.Sync.AllCourseEvents {
		if v.scope.Switches[e.CourseID].Off() {
			return false, fmt.Sprintf("its course %d was switched off (courses disable)", e.CourseID), true
		}
		return false, "its course is not synced and the event is not switched on", false
	}
	return false, "the event is not switched on (events enable)", false
}

// eventWants builds the planner's view of each event in view: the events
// read and the records' events (absent ones deleted), narrowed by --course
// and --event.
func eventWants(env *Env, v *eventView, now time.Time) map[int]reconcile.EventWant {
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
	for id, e := range v.events {
		rec, hasRec := v.records[id]
		if !inView(id, e.CourseID, rec.CourseID) {
			continue
		}
		on, why, switched := v.inScope(env, e)
		if !v.inHorizon[id] && !(hasRec && (reconcile.LiveEventState(rec.State) || rec.ElinkID != 0)) {
			continue // outside the horizon and nothing to keep up
		}
		w := reconcile.EventWant{EventID: id, CourseID: e.CourseID, CourseCode: v.courses[e.CourseID].Code, Exists: true,
			InScope: on, OutOfScope: why, SwitchedOff: switched, InHorizon: v.inHorizon[id], Title: e.Title, Start: e.Start, Finish: e.Finish}
		if env.Config.Sync.EventRequiresTeam {
			t := v.scope.Records[e.CourseID]
			w.NoTeam = t.GroupID == "" || (t.State != reconcile.StateTeam && t.State != reconcile.StateArchived)
		}
		out[id] = w
	}
	for id, rec := range v.records {
		if _, ok := out[id]; ok {
			continue
		}
		if _, read := v.events[id]; read {
			continue // left out above (another --course or --event)
		}
		if !reconcile.LiveEventState(rec.State) && rec.ElinkID == 0 {
			continue
		}
		if !rec.Finish.IsZero() && rec.Finish.Before(now) {
			continue
		}
		if !inView(id, rec.CourseID, rec.CourseID) {
			continue
		}
		out[id] = reconcile.EventWant{EventID: id, CourseID: rec.CourseID, CourseCode: v.courses[rec.CourseID].Code}
	}
	return out
}

// meetingWindow reads personal_meeting_window_minutes (the organisation's
// row over the global one); absent means the guide's 10 minutes.
func meetingWindow(ctx context.Context, env *Env, r *Report) (int, error) {
	val, found, err := env.DB.Setting(ctx, elentra.SettingMeetingWindow, env.Config.Elentra.OrganisationID)
	if err != nil {
		return 0, err
	}
	if !found {
		return defaultMeetingWindow, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(val))
	if err != nil || n < 0 || n > 24*60 {
		r.note(reconcile.Finding{Kind: "meeting_window", Severity: reconcile.Warning,
			Message: fmt.Sprintf("Elentra's setting personal_meeting_window_minutes is %q, not a number of minutes from 0 to 1440; links open %d minutes before the start", val, defaultMeetingWindow),
			Fix:     "set personal_meeting_window_minutes to a whole number of minutes in Elentra's settings"})
		return defaultMeetingWindow, nil
	}
	return n, nil
}

// eventURL is the event's page in Elentra (ENTRADA_URL/events?id=N, the
// form Elentra's own pages link to).
func eventURL(base string, eventID int) string {
	if base == "" {
		return ""
	}
	return strings.TrimRight(base, "/") + "/events?id=" + strconv.Itoa(eventID)
}

// eventSpec renders the meeting an event should have.
func eventSpec(env *Env, subject *template.Template, local *time.Location, zone string, e elentra.Event, c elentra.Course, attendees []string) reconcile.EventSpec {
	title := strings.Join(strings.Fields(e.Title), " ")
	title, _ = repairDoubleEncoded(title)
	c.Code, _ = repairDoubleEncoded(c.Code)
	c.Name, _ = repairDoubleEncoded(c.Name)
	s := title
	if out, err := config.RenderTemplate(subject, map[string]any{"CourseCode": c.Code, "CourseName": c.Name, "Title": title, "ID": e.ID, "Start": e.Start.In(local)}); err == nil {
		if t := strings.Join(strings.Fields(out), " "); t != "" {
			s = t
		}
	}
	var body []string
	if u := eventURL(env.Config.Elentra.URL, e.ID); u != "" {
		body = append(body, "Learning event in Elentra: "+u)
	}
	if d := plainText(e.Description); d != "" {
		d, _ = repairDoubleEncoded(d)
		body = append(body, d)
	}
	location, _ := repairDoubleEncoded(strings.TrimSpace(e.Location))
	return reconcile.EventSpec{Subject: truncate(s, reconcile.MaxSubject), Body: strings.Join(body, "\n\n"),
		Location: location, Start: e.Start.UTC(), End: e.Finish.UTC(), TimeZone: meetingZone(zone, e.Start, e.Finish), Attendees: attendees}
}

// meetingZone is the zone an event's start and end are sent in: the Outlook
// zone, unless one of them falls in the hour the zone repeats when summer
// time ends. Such a wall-clock time names two instants and Outlook may pick
// the wrong one, so that event is sent in UTC, which names exactly one.
func meetingZone(zone string, times ...time.Time) string {
	loc, err := msgraph.LoadZone(zone)
	if err != nil {
		return zone
	}
	for _, t := range times {
		if ambiguousWallClock(t, loc) {
			return "UTC"
		}
	}
	return zone
}

// ambiguousWallClock reports whether t's wall-clock time in loc is also the
// wall-clock time of another instant. Offsets change at most once in a day
// in every zone, so the offsets a day either side are the only other
// readings to try.
func ambiguousWallClock(t time.Time, loc *time.Location) bool {
	wall := t.In(loc)
	asUTC := time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), wall.Nanosecond(), time.UTC)
	for _, probe := range []time.Time{t.Add(-24 * time.Hour), t.Add(24 * time.Hour)} {
		_, off := probe.In(loc).Zone()
		other := asUTC.Add(-time.Duration(off) * time.Second)
		if !other.Equal(t) && other.In(loc).Format(time.DateTime) == wall.Format(time.DateTime) {
			return true
		}
	}
	return false
}

// addAttendees fills each in-scope event's attendees by
// sync.event_attendees: none; teachers (the event's teachers, tutors and
// TAs); audience (those and the learners the event's audience names).
// People without a Microsoft account are counted in one finding.
func addAttendees(ctx context.Context, env *Env, r *Report, v *eventView, wants map[int]reconcile.EventWant, now time.Time) error {
	policy := env.Config.Sync.EventAttendees
	if policy == "" || policy == "none" {
		return nil
	}
	var ids []int
	for id, w := range wants {
		if w.Exists && w.InScope {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	sort.Ints(ids)
	people := map[int][]int{}
	contacts, err := env.DB.EventContacts(ctx, ids)
	if err != nil {
		return err
	}
	for _, c := range contacts {
		if eventContactRoles[c.Role] {
			people[c.EventID] = append(people[c.EventID], c.ProxyID)
		}
	}
	if policy == "audience" {
		if err := addAudience(ctx, env, ids, people, now); err != nil {
			return err
		}
	}
	all := map[int]bool{}
	for _, ps := range people {
		for _, p := range ps {
			all[p] = true
		}
	}
	users := map[int]elentra.User{}
	if len(all) > 0 {
		us, err := env.DB.Users(ctx, sortedInts(all))
		if err != nil {
			return err
		}
		for _, u := range us {
			users[u.ProxyID] = u
		}
	}
	without := map[int]bool{}
	for _, id := range ids {
		seen := map[string]bool{}
		var addrs []string
		for _, p := range people[id] {
			u, ok := users[p]
			addr := strings.ToLower(strings.TrimSpace(u.Email))
			if !ok || u.ObjectID == "" || addr == "" {
				without[p] = true
				continue
			}
			if !seen[addr] {
				seen[addr] = true
				addrs = append(addrs, addr)
			}
		}
		sort.Strings(addrs)
		w := wants[id]
		w.Spec.Attendees = addrs
		wants[id] = w
	}
	if len(without) > 0 {
		r.note(reconcile.Finding{Kind: "attendee_no_object_id", Severity: reconcile.Warning,
			Message: fmt.Sprintf("%d people the events invite (sync.event_attendees: %s) have no Microsoft account and are not invited", len(without), policy),
			Fix:     "run sync-users, or link them by hand with: elentra-teams users link PROXY_ID OBJECT_ID"})
	}
	return nil
}

// addAudience adds the learners of each event's audience: a course's
// learners (by the learner rule), a cohort's and a course group's active
// members, single learners.
func addAudience(ctx context.Context, env *Env, ids []int, people map[int][]int, now time.Time) error {
	rows, err := env.DB.EventAudiences(ctx, ids)
	if err != nil {
		return err
	}
	courses, cohorts, groups := map[int]bool{}, map[int]bool{}, map[int]bool{}
	for _, a := range rows {
		n, err := strconv.Atoi(strings.TrimSpace(a.Value))
		if err != nil || n <= 0 {
			continue
		}
		switch a.Type {
		case elentra.AudienceCourseID:
			courses[n] = true
		case elentra.AudienceCohort:
			cohorts[n] = true
		case elentra.AudienceGroupID:
			groups[n] = true
		}
	}
	learners := map[int][]int{}
	if len(courses) > 0 {
		if learners, err = env.DB.Learners(ctx, sortedInts(courses), env.Config.Elentra.AppID, now); err != nil {
			return err
		}
	}
	members := func(ms []store.GroupMember) map[int][]int {
		out := map[int][]int{}
		for _, m := range ms {
			out[m.GroupID] = append(out[m.GroupID], m.ProxyID)
		}
		return out
	}
	var cohortMembers, groupMembers map[int][]int
	if len(cohorts) > 0 {
		ms, err := env.Store.CohortMembers(ctx, sortedInts(cohorts), now)
		if err != nil {
			return err
		}
		cohortMembers = members(ms)
	}
	if len(groups) > 0 {
		ms, err := env.Store.CourseGroupMembers(ctx, sortedInts(groups), now)
		if err != nil {
			return err
		}
		groupMembers = members(ms)
	}
	for _, a := range rows {
		n, err := strconv.Atoi(strings.TrimSpace(a.Value))
		if err != nil || n <= 0 {
			continue
		}
		switch a.Type {
		case elentra.AudienceCourseID:
			people[a.EventID] = append(people[a.EventID], learners[n]...)
		case elentra.AudienceCohort:
			people[a.EventID] = append(people[a.EventID], cohortMembers[n]...)
		case elentra.AudienceGroupID:
			people[a.EventID] = append(people[a.EventID], groupMembers[n]...)
		case elentra.AudienceProxyID:
			people[a.EventID] = append(people[a.EventID], n)
		}
	}
	return nil
}

// calendarSelect are the properties the listing of meetings reads.
var calendarSelect = []string{"id", "subject", "isOnlineMeeting", "onlineMeetingProvider", "onlineMeeting", "transactionId", "isCancelled"}

// findMeetings lists the mailbox's meetings over the horizon in one paged
// calendarView, with the marker expanded, and finds each event's meeting by
// it. A recorded meeting the listing does not show is read on its own: a
// 404 means it was deleted in Outlook.
func findMeetings(ctx context.Context, env *Env, r *Report, v *eventView, wants map[int]reconcile.EventWant, out map[int]reconcile.Meeting, now time.Time) error {
	to := now.Add(time.Duration(env.Config.Sync.EventsHorizon))
	need := false
	for id, w := range wants {
		rec := v.records[id]
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
	if !need {
		return nil
	}
	listed, err := env.Graph.CalendarView(ctx, env.Mailbox, now, to.Add(time.Minute), msgraph.CalendarViewOptions{
		Select: calendarSelect, ExpandExtendedPropertyID: reconcile.MarkerPropertyID, PageSize: 500})
	if err != nil {
		return fmt.Errorf("list the meetings of the mailbox: %w", err)
	}
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
		case recordedMeeting(v.records[m.EventID], e) && m.Database == env.DB.Name():
			// made before installations existed, and recorded by this one
			byEvent[m.EventID] = append(byEvent[m.EventID], e)
		default:
			others[""] = append(others[""], m.EventID)
		}
	}
	noteOthers(r, env, others)
	ids := make([]int, 0, len(wants))
	for id := range wants {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	for _, id := range ids {
		w := wants[id]
		rec := v.records[id]
		found := byEvent[id]
		if len(found) > 0 {
			pick := found[0]
			for _, e := range found {
				if (rec.GraphEventID != "" && e.ID == rec.GraphEventID) || (rec.GraphEventID == "" && rec.TransactionID != "" && e.TransactionID == rec.TransactionID) {
					pick = e
				}
			}
			out[id] = reconcile.Meeting{GraphEventID: pick.ID, JoinURL: pick.JoinURL()}
			if len(found) > 1 {
				var others []string
				for _, e := range found {
					if e.ID != pick.ID {
						others = append(others, e.ID)
					}
				}
				r.note(reconcile.Finding{Kind: "duplicate_meetings", Severity: reconcile.Warning, CourseID: w.CourseID, EventID: id, Name: w.CourseCode,
					Message: fmt.Sprintf("%d meetings in the calendar carry this event's marker; %s is kept, the others are left as they are: %s", len(found), pick.ID, strings.Join(others, ", ")),
					Fix:     "delete the extra meetings in Outlook"})
			}
			continue
		}
		if rec.GraphEventID == "" || !reconcile.LiveEventState(rec.State) || !(w.Exists && w.InScope) {
			continue
		}
		e, err := env.Graph.GetEvent(ctx, env.Mailbox, rec.GraphEventID, msgraph.EventOptions{Select: calendarSelect})
		switch {
		case msgraph.IsNotFound(err):
			out[id] = reconcile.Meeting{Gone: true}
		case err != nil:
			r.fail(failure(reconcile.KindFetchEvent, w.CourseID, id, "", fmt.Errorf("read meeting %s: %w", rec.GraphEventID, err)))
		case e.IsCancelled:
			out[id] = reconcile.Meeting{Gone: true}
		default:
			out[id] = reconcile.Meeting{GraphEventID: e.ID, JoinURL: e.JoinURL()}
		}
	}
	return nil
}

// recordedMeeting reports whether rec names the meeting e: by its Graph id,
// or by the transactionId its create was sent with.
func recordedMeeting(rec store.EventRecord, e msgraph.Event) bool {
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
		r.note(reconcile.Finding{Kind: "other_installation_meetings", Severity: reconcile.Note,
			Message: fmt.Sprintf("%d %s made by %s, not by this one (%s): left alone, never adopted, changed or cancelled (events %s%s)",
				len(events), verb, who, env.Installation, joinInts(shown), more),
			Fix: "nothing to do when staging and production share the mailbox; `elentra-teams status` on each shows its installation id"})
	}
}

// findLinks reads the recorded links, and for events with a meeting but no
// recorded link, a link with the tool's title that a run published without
// recording it (adopted rather than published twice). Two queries at most.
func findLinks(ctx context.Context, env *Env, v *eventView, wants map[int]reconcile.EventWant, meetings map[int]reconcile.Meeting, out map[int]reconcile.Link) error {
	var recorded, unrecorded []int
	for id, w := range wants {
		rec := v.records[id]
		switch {
		case rec.ElinkID != 0:
			recorded = append(recorded, rec.ElinkID)
		case w.Exists && w.InScope && (reconcile.LiveEventState(rec.State) || meetings[id].GraphEventID != ""):
			unrecorded = append(unrecorded, id)
		}
	}
	toLink := func(l elentra.EventLink) reconcile.Link {
		return reconcile.Link{ID: l.ID, URL: l.URL, Title: l.Title, ReleaseDate: l.ReleaseDate, ReleaseUntil: l.ReleaseUntil, Published: l.Published()}
	}
	if len(recorded) > 0 {
		links, err := env.DB.EventLinks(ctx, recorded)
		if err != nil {
			return err
		}
		for _, l := range links {
			if rec, ok := v.records[l.EventID]; ok && rec.ElinkID == l.ID {
				out[l.EventID] = toLink(l)
			}
		}
	}
	if len(unrecorded) > 0 {
		links, err := env.DB.EventLinksOfEvents(ctx, unrecorded)
		if err != nil {
			return err
		}
		for _, l := range links { // ordered by id: the first one published is kept
			if _, has := out[l.EventID]; !has && l.Title == reconcile.LinkTitle {
				out[l.EventID] = toLink(l)
			}
		}
	}
	return nil
}

// eventApplier applies one event's actions in order, carrying what each
// learns (the meeting's id and join URL, the link's id) to the next.
type eventApplier struct {
	env     *Env
	r       *Report
	records map[int]store.EventRecord
	wants   map[int]reconcile.EventWant
	// window is personal_meeting_window_minutes, for a link republished
	// because an update changed the join URL.
	window int
}

type eventProgress struct {
	graphID string
	joinURL string
	elinkID int
}

func (ea *eventApplier) run(ctx context.Context, eventID int, actions []reconcile.Action) {
	rec := ea.records[eventID]
	st := &eventProgress{graphID: rec.GraphEventID, joinURL: rec.JoinURL, elinkID: rec.ElinkID}
	for i, a := range actions {
		if ctx.Err() != nil {
			return
		}
		if err := ea.apply(ctx, st, a); err != nil {
			ea.r.fail(failure(a.Kind, a.CourseID, a.EventID, "", err))
			if rerr := ea.env.Store.RecordEventError(context.WithoutCancel(ctx), eventID, err.Error(), ea.env.Now()); rerr != nil && ea.env.Logger != nil {
				ea.env.Logger.Warn("could not record an event's error", "event", eventID, "error", rerr)
			}
			// What follows depends on what failed: the next run plans it again.
			ea.r.deferred(actions[i+1:])
			return
		}
	}
}

// meetingResult is what the record of the event says after an action.
func (ea *eventApplier) meetingResult(a reconcile.Action, st *eventProgress, sentHashes, contentHash string) store.MeetingResult {
	w := ea.wants[a.EventID]
	return store.MeetingResult{EventID: a.EventID, CourseID: w.CourseID, Start: w.Start, Finish: w.Finish, Mailbox: mailboxOwner(ea.env),
		GraphEventID: st.graphID, JoinURL: st.joinURL, SentHashes: sentHashes, ContentHash: contentHash}
}

func (ea *eventApplier) apply(ctx context.Context, st *eventProgress, a reconcile.Action) error {
	env := ea.env
	spec := a.Event
	if spec == nil {
		spec = &reconcile.EventSpec{}
	}
	switch a.Kind {
	case reconcile.KindCreateEvent:
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
		if err := env.Store.RecordMeeting(ctx, ea.meetingResult(a, st, spec.SentHashes, spec.ContentHash), env.Now()); err != nil {
			return err
		}
		if !e.IsOnlineMeeting {
			w := ea.wants[a.EventID]
			ea.r.note(reconcile.Finding{Kind: "meeting_not_online", Severity: reconcile.Warning, CourseID: w.CourseID, EventID: a.EventID, Name: w.CourseCode,
				Message: "Outlook made the event without a Teams meeting; the next run asks for one again",
				Fix:     "check that the authorizing account has a Teams licence (GET /me/calendar must allow teamsForBusiness)"})
		}
		ea.r.applied(a.Kind, 1)
	case reconcile.KindFetchEvent:
		if spec.GraphEventID != "" {
			st.graphID = spec.GraphEventID
		}
		join := spec.JoinURL
		if join == "" {
			e, err := env.Graph.GetEvent(ctx, env.Mailbox, st.graphID, msgraph.EventOptions{Select: calendarSelect})
			if err != nil {
				return fmt.Errorf("read meeting %s: %w", st.graphID, err)
			}
			join = e.JoinURL()
			if join == "" && !e.IsOnlineMeeting {
				// The create did not get a Teams meeting: ask for one on the
				// same event (Outlook's documented way to add one later).
				on := true
				e, err = env.Graph.UpdateEvent(ctx, env.Mailbox, st.graphID, msgraph.EventInput{IsOnlineMeeting: &on, OnlineMeetingProvider: "teamsForBusiness"})
				if err != nil {
					return fmt.Errorf("turn meeting %s into a Teams meeting: %w", st.graphID, err)
				}
				if !e.IsOnlineMeeting {
					return fmt.Errorf("outlook keeps meeting %s a plain event without a Teams meeting (provider %q): the authorizing account cannot host Teams meetings; give it a Teams licence (its calendar must allow teamsForBusiness), and the next run adds the meeting", st.graphID, e.OnlineMeetingProvider)
				}
				join = e.JoinURL()
			}
		}
		if join != "" {
			st.joinURL = join
		}
		if err := env.Store.RecordMeeting(ctx, ea.meetingResult(a, st, spec.SentHashes, ""), env.Now()); err != nil {
			return err
		}
		if st.joinURL == "" {
			return nil // the publish that follows says so
		}
		ea.r.applied(a.Kind, 1)
	case reconcile.KindUpdateEvent:
		in, err := eventInput(*spec, spec.Changed)
		if err != nil {
			return err
		}
		e, err := env.Graph.UpdateEvent(ctx, env.Mailbox, st.graphID, in)
		if err != nil {
			return fmt.Errorf("update meeting %s: %w", st.graphID, err)
		}
		// Outlook may hand out a new join URL when the body changes; an
		// answer without one keeps the known one.
		joinChanged := false
		if j := e.JoinURL(); j != "" && j != st.joinURL {
			st.joinURL, joinChanged = j, true
		}
		if err := env.Store.RecordMeeting(ctx, ea.meetingResult(a, st, spec.SentHashes, spec.ContentHash), env.Now()); err != nil {
			return err
		}
		ea.r.applied(a.Kind, 1)
		if joinChanged && st.elinkID != 0 {
			w := ea.wants[a.EventID]
			return ea.publish(ctx, st, reconcile.Action{Kind: reconcile.KindPublishLink, CourseID: a.CourseID, EventID: a.EventID,
				Event: &reconcile.EventSpec{JoinURL: st.joinURL, JoinableFrom: reconcile.JoinableFrom(w.Start, ea.window), Start: w.Start, End: w.Finish, ElinkID: st.elinkID}})
		}
	case reconcile.KindPublishLink:
		return ea.publish(ctx, st, a)
	case reconcile.KindRemoveLink:
		if spec.ElinkID != 0 {
			if err := env.DB.DeleteEventLink(ctx, spec.ElinkID); err != nil {
				return err
			}
		}
		if err := env.Store.RecordEventLinkRemoved(ctx, a.EventID, env.Now()); err != nil {
			return err
		}
		st.elinkID = 0
		ea.r.applied(a.Kind, 1)
	case reconcile.KindCancelEvent:
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
		ea.r.applied(a.Kind, 1)
	}
	return nil
}

// publish writes the event's link: updated in place when it exists,
// published anew otherwise (also when someone deleted it in Elentra).
func (ea *eventApplier) publish(ctx context.Context, st *eventProgress, a reconcile.Action) error {
	env := ea.env
	spec := a.Event
	join := spec.JoinURL
	if join == "" {
		join = st.joinURL
	}
	if join == "" {
		w := ea.wants[a.EventID]
		ea.r.note(reconcile.Finding{Kind: "join_url_pending", Severity: reconcile.Note, CourseID: w.CourseID, EventID: a.EventID, Name: w.CourseCode,
			Message: "Outlook has not given the meeting its join link yet; the next run reads it again and then publishes the link"})
		return nil
	}
	l := elentra.EventLink{ID: spec.ElinkID, EventID: a.EventID, Title: reconcile.LinkTitle, URL: join,
		ReleaseDate: spec.JoinableFrom, ReleaseUntil: spec.End, UpdatedBy: env.Config.Elentra.AdminUserID}
	if l.ID == 0 {
		l.ID = st.elinkID
	}
	var (
		out elentra.EventLink
		err error
	)
	if l.ID != 0 {
		out, err = env.DB.UpdateEventLink(ctx, l, env.Now())
		if errors.Is(err, elentra.ErrLinkNotFound) {
			l.ID, err = 0, nil
		}
	}
	if l.ID == 0 && err == nil {
		out, err = env.DB.InsertEventLink(ctx, l, env.Now())
	}
	if err != nil {
		return err
	}
	st.elinkID = out.ID
	if err := env.Store.RecordEventLink(ctx, a.EventID, out.ID, spec.JoinableFrom, env.Now()); err != nil {
		return err
	}
	ea.r.applied(reconcile.KindPublishLink, 1)
	return nil
}

// eventInput is the body of a create (fields nil: everything) or of an
// update (only the fields named).
func eventInput(spec reconcile.EventSpec, fields []string) (msgraph.EventInput, error) {
	send := map[string]bool{}
	for _, f := range fields {
		send[f] = true
	}
	all := fields == nil
	var in msgraph.EventInput
	if all || send[reconcile.EventFieldSubject] {
		in.Subject = spec.Subject
	}
	if all || send[reconcile.EventFieldBody] {
		in.Body = &msgraph.ItemBody{ContentType: "text", Content: spec.Body}
	}
	if all || send[reconcile.EventFieldLocation] {
		in.Location = &msgraph.Location{DisplayName: spec.Location}
	}
	if all || send[reconcile.EventFieldTime] {
		start, err := msgraph.NewDateTimeTimeZone(spec.Start, spec.TimeZone)
		if err != nil {
			return in, err
		}
		end, err := msgraph.NewDateTimeTimeZone(spec.End, spec.TimeZone)
		if err != nil {
			return in, err
		}
		in.Start, in.End = &start, &end
	}
	if all || send[reconcile.EventFieldAttendees] {
		in.Attendees = make([]msgraph.Attendee, 0, len(spec.Attendees))
		for _, addr := range spec.Attendees {
			in.Attendees = append(in.Attendees, msgraph.Attendee{EmailAddress: msgraph.EmailAddress{Address: addr}, Type: "required"})
		}
	}
	if all {
		// Learners cannot propose another time for a timetabled event.
		no := false
		in.AllowNewTimeProposals = &no
	}
	return in, nil
}
