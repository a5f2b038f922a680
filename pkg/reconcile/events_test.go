package reconcile

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

var evNow = time.Date(2026, 10, 26, 12, 0, 0, 0, time.UTC)

// testInst is the installation of the planner tests.
const testInst = "k7q2m9xd"

func evWant() EventWant {
	start := evNow.Add(48 * time.Hour)
	finish := start.Add(time.Hour)
	return EventWant{EventID: 7, CourseID: 3, CourseCode: "MED1", Exists: true, InScope: true, InHorizon: true,
		Title: "Lecture", Start: start, Finish: finish,
		Spec: EventSpec{Subject: "MED1: Lecture", Body: "Learning event in Elentra: https://e.example/events?id=7", Location: "Room 1",
			Start: start, End: finish, TimeZone: "America/Toronto"}}
}

func evRec() EventRecord {
	w := evWant()
	return EventRecord{EventID: 7, CourseID: 3, State: EventStateScheduled, GraphEventID: "g7", TransactionID: TransactionID(testInst, 7, 1),
		Generation: 1, JoinURL: "https://join/7", ElinkID: 70, SentHashes: w.Spec.FieldHashes(), Finish: w.Finish}
}

func evLink() Link {
	w := evWant()
	return Link{ID: 70, URL: "https://join/7", Title: LinkTitle, ReleaseDate: w.Start.Add(-10 * time.Minute), ReleaseUntil: w.Finish, Published: true}
}

func evMeeting() Meeting { return Meeting{GraphEventID: "g7", JoinURL: "https://join/7"} }

func ptrOf[T any](v T) *T { return &v }

func action(t *testing.T, p Plan, k Kind) Action {
	t.Helper()
	for _, a := range p.Actions {
		if a.Kind == k {
			if a.Event == nil {
				t.Fatalf("%s has no event spec", k)
			}
			return a
		}
	}
	t.Fatalf("no %s in the plan %s", k, kinds(p))
	return Action{}
}

func TestPlanEvents(t *testing.T) {
	cases := []struct {
		name      string
		want      func(*EventWant) // nil: the default want; set Exists false to drop it
		noWant    bool             // the record's event is not passed at all (deleted)
		rec       *EventRecord
		meeting   *Meeting
		link      *Link
		window    int
		allowLong bool
		actions   string
		findings  string
		check     func(*testing.T, Plan)
	}{
		{name: "new event: create and publish", actions: "create_event,publish_link", check: func(t *testing.T, p Plan) {
			c := action(t, p, KindCreateEvent).Event
			if c.Generation != 1 || c.TransactionID != TransactionID(testInst, 7, 1) {
				t.Errorf("generation %d transaction %q: want 1, %q", c.Generation, c.TransactionID, TransactionID(testInst, 7, 1))
			}
			if c.Subject != "MED1: Lecture" || c.SentHashes != evWant().Spec.FieldHashes() || c.ContentHash != evWant().Spec.Hash() {
				t.Errorf("create %+v", c)
			}
			l := action(t, p, KindPublishLink).Event
			w := evWant()
			if !l.JoinableFrom.Equal(w.Start.Add(-10*time.Minute)) || !l.End.Equal(w.Finish) || l.ElinkID != 0 || l.JoinURL != "" {
				t.Errorf("publish %+v: opens 10 minutes before the start, closes at the finish, a new link, the URL from the create", l)
			}
		}},
		{name: "in sync: nothing", rec: ptrOf(evRec()), meeting: ptrOf(evMeeting()), link: ptrOf(evLink())},
		{name: "in sync without a listing entry (read on its own): nothing", rec: ptrOf(evRec()), link: ptrOf(evLink())},
		{name: "title changed: one update of the subject", want: func(w *EventWant) { w.Title, w.Spec.Subject = "Lab", "MED1: Lab" },
			rec: ptrOf(evRec()), meeting: ptrOf(evMeeting()), link: ptrOf(evLink()), actions: "update_event", check: func(t *testing.T, p Plan) {
				u := action(t, p, KindUpdateEvent).Event
				if !slices.Equal(u.Changed, []string{EventFieldSubject}) || u.GraphEventID != "g7" || u.Subject != "MED1: Lab" {
					t.Errorf("update %+v: only the subject of g7", u)
				}
			}},
		{name: "time changed: update and the link's window follows", want: func(w *EventWant) {
			w.Start, w.Finish = w.Start.Add(time.Hour), w.Finish.Add(2*time.Hour)
			w.Spec.Start, w.Spec.End = w.Start, w.Finish
		}, rec: ptrOf(evRec()), meeting: ptrOf(evMeeting()), link: ptrOf(evLink()), actions: "update_event,publish_link", check: func(t *testing.T, p Plan) {
			u := action(t, p, KindUpdateEvent).Event
			if !slices.Equal(u.Changed, []string{EventFieldTime}) {
				t.Errorf("changed %v", u.Changed)
			}
			l := action(t, p, KindPublishLink).Event
			w := evWant()
			if l.ElinkID != 70 || !l.JoinableFrom.Equal(w.Start.Add(50*time.Minute)) || !l.End.Equal(w.Finish.Add(2*time.Hour)) || l.JoinURL != "https://join/7" {
				t.Errorf("publish %+v: link 70 in place, opens 10 minutes before the new start", l)
			}
		}},
		{name: "description changed: only the body", want: func(w *EventWant) { w.Spec.Body += "\n\nBring a stethoscope." },
			rec: ptrOf(evRec()), link: ptrOf(evLink()), actions: "update_event", check: func(t *testing.T, p Plan) {
				if c := action(t, p, KindUpdateEvent).Event.Changed; !slices.Equal(c, []string{EventFieldBody}) {
					t.Errorf("changed %v", c)
				}
			}},
		{name: "location changed", want: func(w *EventWant) { w.Spec.Location = "Room 2" }, rec: ptrOf(evRec()), link: ptrOf(evLink()),
			actions: "update_event", check: func(t *testing.T, p Plan) {
				if c := action(t, p, KindUpdateEvent).Event.Changed; !slices.Equal(c, []string{EventFieldLocation}) {
					t.Errorf("changed %v", c)
				}
			}},
		{name: "Outlook zone changed: the times are sent again", want: func(w *EventWant) { w.Spec.TimeZone = "Eastern Standard Time" },
			rec: ptrOf(evRec()), link: ptrOf(evLink()), actions: "update_event"},
		{name: "attendees changed", want: func(w *EventWant) { w.Spec.Attendees = []string{"a@x.edu"} }, rec: ptrOf(evRec()), link: ptrOf(evLink()),
			actions: "update_event", check: func(t *testing.T, p Plan) {
				if c := action(t, p, KindUpdateEvent).Event.Changed; !slices.Equal(c, []string{EventFieldAttendees}) {
					t.Errorf("changed %v", c)
				}
			}},
		{name: "attendees in another order and case: nothing", want: func(w *EventWant) { w.Spec.Attendees = []string{"B@x.edu", "a@x.edu"} },
			rec: func() *EventRecord {
				r := evRec()
				s := evWant().Spec
				s.Attendees = []string{"a@x.edu", "b@x.edu"}
				r.SentHashes = s.FieldHashes()
				return &r
			}(), link: ptrOf(evLink())},
		{name: "deleted in Elentra: cancel and remove the link", noWant: true, rec: ptrOf(evRec()), meeting: ptrOf(evMeeting()), link: ptrOf(evLink()),
			actions: "cancel_event,remove_link", check: func(t *testing.T, p Plan) {
				c := action(t, p, KindCancelEvent)
				if c.Event.GraphEventID != "g7" || !strings.Contains(c.Reason, "deleted") {
					t.Errorf("cancel %+v", c)
				}
				if r := action(t, p, KindRemoveLink); r.Event.ElinkID != 70 {
					t.Errorf("remove %+v", r.Event)
				}
			}},
		{name: "deleted, given as not existing", want: func(w *EventWant) { *w = EventWant{EventID: 7, CourseID: 3} }, rec: ptrOf(evRec()),
			link: ptrOf(evLink()), actions: "cancel_event,remove_link"},
		{name: "switched off: cancel and remove", want: func(w *EventWant) { w.InScope, w.OutOfScope = false, "the event was switched off (events disable)" },
			rec: ptrOf(evRec()), meeting: ptrOf(evMeeting()), link: ptrOf(evLink()), actions: "cancel_event,remove_link", check: func(t *testing.T, p Plan) {
				if r := action(t, p, KindCancelEvent).Reason; !strings.Contains(r, "switched off") {
					t.Errorf("reason %q", r)
				}
			}},
		{name: "moved to another course: cancel, a new meeting next run", want: func(w *EventWant) { w.CourseID = 4 }, rec: ptrOf(evRec()),
			meeting: ptrOf(evMeeting()), link: ptrOf(evLink()), actions: "cancel_event,remove_link", check: func(t *testing.T, p Plan) {
				if r := action(t, p, KindCancelEvent).Reason; !strings.Contains(r, "from course 3 to course 4") || !strings.Contains(r, "next run") {
					t.Errorf("reason %q", r)
				}
			}},
		{name: "moved beyond the horizon: kept and updated", want: func(w *EventWant) {
			w.InHorizon = false
			w.Start, w.Finish = w.Start.Add(30*24*time.Hour), w.Finish.Add(30*24*time.Hour)
			w.Spec.Start, w.Spec.End = w.Start, w.Finish
		}, rec: ptrOf(evRec()), meeting: ptrOf(evMeeting()), link: ptrOf(evLink()), actions: "update_event,publish_link"},
		{name: "beyond the horizon without a meeting: nothing", want: func(w *EventWant) { w.InHorizon = false }},
		{name: "finished: left alone even when changed", want: func(w *EventWant) {
			w.Start, w.Finish = evNow.Add(-2*time.Hour), evNow.Add(-time.Hour)
			w.Spec.Subject = "changed"
		}, rec: ptrOf(evRec()), link: ptrOf(evLink())},
		{name: "finish before start: reported, meeting left as it is", want: func(w *EventWant) { w.Finish = w.Start.Add(-time.Minute) },
			rec: ptrOf(evRec()), link: ptrOf(evLink()), findings: "event_bad_times"},
		{name: "finish equal to start: reported", want: func(w *EventWant) { w.Finish = w.Start }, findings: "event_bad_times"},
		{name: "unset finish: reported", want: func(w *EventWant) { w.Finish = time.Time{} }, findings: "event_bad_times"},
		{name: "over 24 hours: reported", want: func(w *EventWant) { w.Finish = w.Start.Add(25 * time.Hour) }, findings: "event_too_long",
			check: func(t *testing.T, p Plan) {
				if f := p.Findings[0]; f.EventID != 7 || f.CourseID != 3 || !strings.Contains(f.Fix, "--allow-long-events") {
					t.Errorf("finding %+v", f)
				}
			}},
		{name: "exactly 24 hours: a meeting", want: func(w *EventWant) { w.Finish = w.Start.Add(24 * time.Hour) }, actions: "create_event,publish_link"},
		{name: "over 24 hours allowed", want: func(w *EventWant) { w.Finish = w.Start.Add(25 * time.Hour) }, allowLong: true, actions: "create_event,publish_link"},
		{name: "empty title: reported", want: func(w *EventWant) { w.Title = "  " }, findings: "event_no_title"},
		{name: "bad data out of scope: cancelled, not reported", want: func(w *EventWant) {
			w.Finish = w.Start
			w.InScope, w.OutOfScope = false, "the event is not switched on (events enable)"
		}, rec: ptrOf(evRec()), link: ptrOf(evLink()), actions: "cancel_event,remove_link"},
		{name: "intent, not found: sent again with the same transactionId", rec: &EventRecord{EventID: 7, CourseID: 3, State: EventStateIntent,
			Generation: 2, TransactionID: "tx-recorded", SentHashes: evWant().Spec.FieldHashes()}, actions: "create_event,publish_link",
			check: func(t *testing.T, p Plan) {
				c := action(t, p, KindCreateEvent)
				if c.Event.Generation != 2 || c.Event.TransactionID != "tx-recorded" || !strings.Contains(c.Reason, "same transactionId") {
					t.Errorf("create %+v (%s)", c.Event, c.Reason)
				}
			}},
		{name: "intent, found by marker: adopted, not created", rec: &EventRecord{EventID: 7, CourseID: 3, State: EventStateIntent,
			Generation: 1, TransactionID: TransactionID(testInst, 7, 1), SentHashes: evWant().Spec.FieldHashes()}, meeting: ptrOf(evMeeting()),
			actions: "fetch_event,publish_link", check: func(t *testing.T, p Plan) {
				f := action(t, p, KindFetchEvent).Event
				if f.GraphEventID != "g7" || f.JoinURL != "https://join/7" || f.SentHashes != evWant().Spec.FieldHashes() {
					t.Errorf("fetch %+v: record g7, its join URL and what the intent sent", f)
				}
				if l := action(t, p, KindPublishLink).Event; l.JoinURL != "https://join/7" || l.ElinkID != 0 {
					t.Errorf("publish %+v", l)
				}
			}},
		{name: "intent found, changed since: adopted and updated", want: func(w *EventWant) { w.Spec.Subject = "MED1: Lab" },
			rec:     &EventRecord{EventID: 7, CourseID: 3, State: EventStateIntent, Generation: 1, SentHashes: evWant().Spec.FieldHashes()},
			meeting: ptrOf(evMeeting()), actions: "fetch_event,update_event,publish_link"},
		{name: "no record, found by marker: adopted and brought up to date", meeting: ptrOf(evMeeting()),
			actions: "fetch_event,update_event,publish_link", check: func(t *testing.T, p Plan) {
				if f := action(t, p, KindFetchEvent).Event; f.SentHashes != UnknownSentHashes {
					t.Errorf("adopted with sent hashes %q", f.SentHashes)
				}
				if c := action(t, p, KindUpdateEvent).Event.Changed; len(c) != 5 {
					t.Errorf("changed %v: every field, its content is unknown", c)
				}
			}},
		{name: "cancelled before, enabled again: a new generation, the old link reused", rec: func() *EventRecord {
			r := evRec()
			r.State, r.JoinURL = EventStateCancelled, ""
			return &r
		}(), link: ptrOf(evLink()), actions: "create_event,publish_link", check: func(t *testing.T, p Plan) {
			c := action(t, p, KindCreateEvent).Event
			if c.Generation != 2 || c.TransactionID != TransactionID(testInst, 7, 2) || c.TransactionID == TransactionID(testInst, 7, 1) {
				t.Errorf("create %+v: generation 2 with its own transactionId", c)
			}
			if l := action(t, p, KindPublishLink).Event; l.ElinkID != 70 {
				t.Errorf("publish %+v: link 70 updated in place", l)
			}
		}},
		{name: "created without join URL, none listed: read it", rec: func() *EventRecord {
			r := evRec()
			r.State, r.JoinURL, r.ElinkID = EventStateCreated, "", 0
			return &r
		}(), meeting: &Meeting{GraphEventID: "g7"}, actions: "fetch_event,publish_link", check: func(t *testing.T, p Plan) {
			if f := action(t, p, KindFetchEvent).Event; f.JoinURL != "" || f.GraphEventID != "g7" {
				t.Errorf("fetch %+v: a GET of g7", f)
			}
			if l := action(t, p, KindPublishLink).Event; l.JoinURL != "" {
				t.Errorf("publish %+v: the URL the fetch finds", l)
			}
		}},
		{name: "created without join URL, listed with one: recorded", rec: func() *EventRecord {
			r := evRec()
			r.State, r.JoinURL, r.ElinkID = EventStateCreated, "", 0
			return &r
		}(), meeting: ptrOf(evMeeting()), actions: "fetch_event,publish_link", check: func(t *testing.T, p Plan) {
			if f := action(t, p, KindFetchEvent).Event; f.JoinURL != "https://join/7" {
				t.Errorf("fetch %+v", f)
			}
			if l := action(t, p, KindPublishLink).Event; l.JoinURL != "https://join/7" {
				t.Errorf("publish %+v", l)
			}
		}},
		{name: "Outlook changed the join URL: recorded and the link follows", rec: ptrOf(evRec()), meeting: &Meeting{GraphEventID: "g7", JoinURL: "https://join/7b"},
			link: ptrOf(evLink()), actions: "fetch_event,publish_link", check: func(t *testing.T, p Plan) {
				if l := action(t, p, KindPublishLink).Event; l.JoinURL != "https://join/7b" || l.ElinkID != 70 {
					t.Errorf("publish %+v", l)
				}
			}},
		{name: "listed without join URL after an update: the known one is kept", rec: ptrOf(evRec()), meeting: &Meeting{GraphEventID: "g7"}, link: ptrOf(evLink())},
		{name: "deleted in Outlook: made again", rec: ptrOf(evRec()), meeting: &Meeting{Gone: true}, link: ptrOf(evLink()),
			actions: "create_event,publish_link", check: func(t *testing.T, p Plan) {
				if c := action(t, p, KindCreateEvent).Event; c.Generation != 2 {
					t.Errorf("generation %d", c.Generation)
				}
			}},
		{name: "deleted in Outlook, beyond the horizon: reported", want: func(w *EventWant) { w.InHorizon = false }, rec: ptrOf(evRec()),
			meeting: &Meeting{Gone: true}, link: ptrOf(evLink()), findings: "meeting_deleted"},
		{name: "link deleted in Elentra: published again", rec: ptrOf(evRec()), meeting: ptrOf(evMeeting()), actions: "publish_link",
			check: func(t *testing.T, p Plan) {
				if l := action(t, p, KindPublishLink).Event; l.ElinkID != 0 || l.JoinURL != "https://join/7" {
					t.Errorf("publish %+v: a new link", l)
				}
			}},
		{name: "link not listed on the page: published again", rec: ptrOf(evRec()), link: func() *Link { l := evLink(); l.Published = false; return &l }(),
			actions: "publish_link"},
		{name: "link edited by hand: put back", rec: ptrOf(evRec()), link: func() *Link { l := evLink(); l.URL = "https://elsewhere"; return &l }(),
			actions: "publish_link"},
		{name: "window setting changed: the link moves", rec: ptrOf(evRec()), link: ptrOf(evLink()), window: 15, actions: "publish_link",
			check: func(t *testing.T, p Plan) {
				if l := action(t, p, KindPublishLink).Event; !l.JoinableFrom.Equal(evWant().Start.Add(-15 * time.Minute)) {
					t.Errorf("opens %s", l.JoinableFrom)
				}
			}},
		{name: "link published but not recorded: adopted", rec: func() *EventRecord { r := evRec(); r.ElinkID = 0; return &r }(),
			link: func() *Link { l := evLink(); l.ID = 71; return &l }(), actions: "publish_link", check: func(t *testing.T, p Plan) {
				if l := action(t, p, KindPublishLink).Event; l.ElinkID != 71 {
					t.Errorf("publish %+v: link 71 adopted", l)
				}
			}},
		{name: "course without a Team: no new meeting", want: func(w *EventWant) { w.NoTeam = true }, findings: "event_no_team"},
		{name: "course without a Team: an existing meeting is kept", want: func(w *EventWant) { w.NoTeam = true }, rec: ptrOf(evRec()), link: ptrOf(evLink())},
		{name: "cancelled, link left over: removed", want: func(w *EventWant) { w.InScope = false }, rec: func() *EventRecord {
			r := evRec()
			r.State = EventStateCancelled
			return &r
		}(), link: ptrOf(evLink()), actions: "remove_link"},
		{name: "deleted, its link already gone: only the record", noWant: true, rec: ptrOf(evRec()), actions: "cancel_event,remove_link",
			check: func(t *testing.T, p Plan) {
				if r := action(t, p, KindRemoveLink).Event; r.ElinkID != 0 {
					t.Errorf("remove %+v: nothing to delete", r)
				}
			}},
		{name: "deleted, meeting already gone in Outlook: only the record", noWant: true, rec: ptrOf(evRec()), meeting: &Meeting{Gone: true},
			link: ptrOf(evLink()), actions: "cancel_event,remove_link", check: func(t *testing.T, p Plan) {
				if c := action(t, p, KindCancelEvent).Event; c.GraphEventID != "" {
					t.Errorf("cancel %+v: nothing to cancel", c)
				}
			}},
		{name: "intent, switched off, found by marker: that meeting is cancelled", want: func(w *EventWant) { w.InScope = false },
			rec: &EventRecord{EventID: 7, CourseID: 3, State: EventStateIntent, Generation: 1}, meeting: ptrOf(evMeeting()), actions: "cancel_event",
			check: func(t *testing.T, p Plan) {
				if c := action(t, p, KindCancelEvent).Event; c.GraphEventID != "g7" {
					t.Errorf("cancel %+v", c)
				}
			}},
		{name: "no record, switched off, found by marker: cancelled", want: func(w *EventWant) { w.InScope = false },
			meeting: ptrOf(evMeeting()), actions: "cancel_event", check: func(t *testing.T, p Plan) {
				if c := action(t, p, KindCancelEvent); c.Event.GraphEventID != "g7" || c.CourseID != 3 {
					t.Errorf("cancel %+v", c)
				}
			}},
		{name: "never had a meeting, switched off: nothing", want: func(w *EventWant) { w.InScope = false },
			rec: &EventRecord{EventID: 7, State: EventStateNone}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := EventsInput{Now: evNow, Installation: testInst, WindowMinutes: 10, AllowLongEvents: tc.allowLong,
				Records: map[int]EventRecord{}, Meetings: map[int]Meeting{}, Links: map[int]Link{},
				Guards: testGuards, LiveByCourse: map[int]int{3: 1}, LiveTotal: 1}
			if tc.window != 0 {
				in.WindowMinutes = tc.window
			}
			if !tc.noWant {
				w := evWant()
				if tc.want != nil {
					tc.want(&w)
				}
				in.Events = []EventWant{w}
			}
			if tc.rec != nil {
				in.Records[7] = *tc.rec
			}
			if tc.meeting != nil {
				in.Meetings[7] = *tc.meeting
			}
			if tc.link != nil {
				in.Links[7] = *tc.link
			}
			p := PlanEvents(in)
			if got := kinds(p); got != tc.actions {
				t.Errorf("actions %q, want %q", got, tc.actions)
				for _, a := range p.Actions {
					t.Logf("  %s: %s", a.Kind, a.Reason)
				}
			}
			if got := findingKinds(p); got != tc.findings {
				t.Errorf("findings %q, want %q (%+v)", got, tc.findings, p.Findings)
			}
			for _, a := range p.Actions {
				if a.EventID != 7 || a.Reason == "" {
					t.Errorf("%s: event %d, reason %q", a.Kind, a.EventID, a.Reason)
				}
			}
			if tc.check != nil && !t.Failed() {
				tc.check(t, p)
			}
		})
	}
}

// Each event's actions are planned whatever the others hold, and the plan
// lists creations before changes and removals.
func TestPlanEventsSeveral(t *testing.T) {
	in := EventsInput{Now: evNow, Installation: testInst, WindowMinutes: 10, Records: map[int]EventRecord{}, Meetings: map[int]Meeting{}, Links: map[int]Link{},
		Guards: testGuards, LiveByCourse: map[int]int{3: 1}, LiveTotal: 1}
	for _, id := range []int{9, 8} {
		w := evWant()
		w.EventID = id
		in.Events = append(in.Events, w)
	}
	in.Records[5] = EventRecord{EventID: 5, CourseID: 3, State: EventStateScheduled, GraphEventID: "g5", ElinkID: 50}
	in.Links[5] = Link{ID: 50}
	p := PlanEvents(in)
	var got []string
	for _, a := range p.Actions {
		got = append(got, fmt.Sprintf("%s:%d", a.Kind, a.EventID))
	}
	want := []string{"create_event:8", "create_event:9", "publish_link:8", "publish_link:9", "cancel_event:5", "remove_link:5"}
	if !slices.Equal(got, want) {
		t.Errorf("plan %v, want %v", got, want)
	}
	if c8, c9 := p.Actions[0].Event.TransactionID, p.Actions[1].Event.TransactionID; c8 == c9 {
		t.Errorf("two events share transactionId %s", c8)
	}
}

func TestEventActionOrder(t *testing.T) {
	order := []Kind{KindCreateEvent, KindFetchEvent, KindUpdateEvent, KindPublishLink, KindRemoveLink, KindCancelEvent}
	for i := 1; i < len(order); i++ {
		if EventActionOrder(order[i-1]) >= EventActionOrder(order[i]) {
			t.Errorf("%s must come before %s", order[i-1], order[i])
		}
	}
}

func TestTransactionID(t *testing.T) {
	a := TransactionID("k7q2m9xd", 5012, 1)
	if a != TransactionID("k7q2m9xd", 5012, 1) {
		t.Error("the same event and generation must give the same transactionId")
	}
	for _, other := range []string{TransactionID("k7q2m9xd", 5012, 2), TransactionID("b3c4d5e6", 5012, 1), TransactionID("k7q2m9xd", 5013, 1)} {
		if other == a {
			t.Errorf("%s repeats for another generation, installation or event", other)
		}
	}
	if len(a) != 36 || strings.Count(a, "-") != 4 {
		t.Errorf("transactionId %q is not GUID-shaped", a)
	}
}

func TestMarker(t *testing.T) {
	v := MarkerValue("k7q2m9xd", 5012)
	if m, ok := ParseMarker(v); !ok || m != (Marker{Installation: "k7q2m9xd", EventID: 5012}) {
		t.Errorf("ParseMarker(%q) = %+v, %v", v, m, ok)
	}
	// the marker of the meetings made before installation ids
	if m, ok := ParseMarker("elentra-teams/entrada/event/5012"); !ok || m != (Marker{Database: "entrada", EventID: 5012}) {
		t.Errorf("an older marker: %+v, %v", m, ok)
	}
	for _, bad := range []string{
		"elentra-teams:k7q2m9xd/event/12x",
		"elentra-teams:k7q2m9xd/event/0",
		"elentra-teams:k7q2m9xd/event/012",
		"elentra-teams:K7Q2/event/1",
		"elentra-teams:/event/1",
		"elentra-teams:a/b/event/1",
		"elentra-teams/entrada/event/-1",
		"elentra-teams//event/1",
		"elentra-teams/a/b/event/1",
		"something else",
	} {
		if m, ok := ParseMarker(bad); ok {
			t.Errorf("ParseMarker(%q) = %+v: want no match", bad, m)
		}
	}
}

// FuzzParseMarker: whatever a calendar holds in the marker property, a
// marker is read only when it is exactly one the tool writes (or wrote
// before installation ids), so no other value is taken for this tool's.
func FuzzParseMarker(f *testing.F) {
	f.Add(MarkerValue("k7q2m9xd", 5012))
	f.Add("elentra-teams/entrada/event/5012")
	f.Add("elentra-teams:k7q2m9xd/event/5012/event/1")
	f.Add("elentra-teams/entrada/event/+5")
	f.Fuzz(func(t *testing.T, value string) {
		m, ok := ParseMarker(value)
		if !ok {
			return
		}
		if m.EventID <= 0 {
			t.Fatalf("%q: event %d", value, m.EventID)
		}
		var again string
		switch {
		case m.Installation != "" && m.Database == "":
			again = MarkerValue(m.Installation, m.EventID)
		case m.Installation == "" && m.Database != "":
			again = fmt.Sprintf("elentra-teams/%s/event/%d", m.Database, m.EventID)
		default:
			t.Fatalf("%q: %+v names both or neither", value, m)
		}
		if again != value {
			t.Fatalf("%q read as %+v, which writes %q", value, m, again)
		}
	})
}
