package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/elentra-teams/elentra-teams/internal/school"
	"github.com/elentra-teams/elentra-teams/pkg/config"
	"github.com/elentra-teams/elentra-teams/pkg/elentra"
	"github.com/elentra-teams/elentra-teams/pkg/elentra/elentratest"
	"github.com/elentra-teams/elentra-teams/pkg/engine"
	"github.com/elentra-teams/elentra-teams/pkg/msgraph"
	"github.com/elentra-teams/elentra-teams/pkg/msgraph/graphsim"
	"github.com/elentra-teams/elentra-teams/pkg/reconcile"
	"github.com/elentra-teams/elentra-teams/pkg/store"
)

const elentraURL = "https://elentra.example.edu"

// eventsSchool is a school small enough for several syncs per test, with
// the generator's edge events: children, one across local midnight, one
// across the autumn daylight-saving change, some past, some beyond the
// horizon.
func eventsSchool() school.Spec {
	return school.Spec{Seed: 3, Courses: 8, Learners: 200, Now: school.DefaultNow, LearnersPerCourse: 30,
		OwnersPerCourse: 2, EventsPerCourse: 4, TeamsEnabled: true}
}

func newEventsHarness(t *testing.T, edit func(*config.Config)) *harness {
	// Each test has its own databases and simulator: on a real server they
	// run side by side (the embedded engine serves one test at a time).
	if elentratest.Real() {
		t.Parallel()
	}
	return eventsHarness(t, edit)
}

// eventsHarness is newEventsHarness for a test's second school.
func eventsHarness(t *testing.T, edit func(*config.Config)) *harness {
	return newHarness(t, eventsSchool(), func(c *config.Config) {
		c.Sync.AllCourseEvents = true
		c.Elentra.URL = elentraURL
		if edit != nil {
			edit(c)
		}
	})
}

func (h *harness) syncEvents(edit func(*engine.Env)) (*engine.Report, error) {
	return engine.Run(context.Background(), h.env(edit), "sync-events", engine.EventsStep)
}

// mustSyncEvents runs sync-events and fails the test on any error or failure.
func (h *harness) mustSyncEvents(edit func(*engine.Env)) *engine.Report {
	h.t.Helper()
	rep, err := h.syncEvents(edit)
	if err != nil {
		h.t.Fatalf("sync-events: %v (failures %+v)", err, rep.AllFailures())
	}
	return rep
}

// dryGraph is a Graph client that refuses every write, as --dry-run makes.
func (h *harness) dryGraph() *msgraph.Client {
	return msgraph.New(msgraph.Options{
		BaseURL:     h.srv.URL,
		TokenSource: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: h.token, TokenType: "Bearer", Expiry: h.now.Add(time.Hour)}),
		Clock:       func() time.Time { return h.now },
		Sleep:       func(ctx context.Context, d time.Duration) error { return ctx.Err() },
		DryRun:      true,
	})
}

// exec runs SQL on the school's database as an Elentra admin would.
func (h *harness) exec(q string, args ...any) {
	h.t.Helper()
	if _, err := h.tdb.Root.Exec(q, args...); err != nil {
		h.t.Fatalf("%s: %v", q, err)
	}
}

// expectedMeetings computes from the generator's rows alone which events get
// a meeting under sync.all_course_events with every active course synced:
// events of the organisation's active courses starting within the 14-day
// horizon, finishing after they start, within 24 hours, with a title.
func (h *harness) expectedMeetings() map[int]school.Event {
	s := h.school
	now := s.Spec.Now
	courses := map[int]school.Course{}
	for _, c := range s.Courses {
		courses[c.ID] = c
	}
	out := map[int]school.Event{}
	for _, e := range s.Events {
		c := courses[e.CourseID]
		start := time.Unix(e.Start, 0)
		if c.OrganisationID != s.Spec.OrganisationID || !c.Active || start.Before(now) || !start.Before(now.Add(14*24*time.Hour)) ||
			e.Finish <= e.Start || e.Finish-e.Start > 24*3600 || strings.TrimSpace(e.Title) == "" {
			continue
		}
		out[e.ID] = e
	}
	return out
}

func (h *harness) schoolEvent(id int) school.Event {
	for _, e := range h.school.Events {
		if e.ID == id {
			return e
		}
	}
	h.t.Fatalf("no school event %d", id)
	return school.Event{}
}

func (h *harness) eventRecords() map[int]store.EventRecord {
	h.t.Helper()
	recs, err := store.New(h.tdb.DB).EventRecords(context.Background(), nil)
	if err != nil {
		h.t.Fatal(err)
	}
	return recs
}

// meetings are the simulator's live events by id.
func (h *harness) meetings() map[string]graphsim.EventState {
	out := map[string]graphsim.EventState{}
	for _, e := range h.sim.State().Events {
		out[e.ID] = e
	}
	return out
}

// links reads every link of these events from Elentra's tables.
func (h *harness) links(eventIDs []int) map[int][]elentra.EventLink {
	h.t.Helper()
	ls, err := h.tdb.DB.EventLinksOfEvents(context.Background(), eventIDs)
	if err != nil {
		h.t.Fatal(err)
	}
	out := map[int][]elentra.EventLink{}
	for _, l := range ls {
		out[l.EventID] = append(out[l.EventID], l)
	}
	return out
}

func simTime(t *testing.T, d graphsim.StateDateTime) time.Time {
	t.Helper()
	if d.TimeZone != "UTC" {
		t.Fatalf("simulator state in %s, want UTC", d.TimeZone)
	}
	v, err := time.Parse("2006-01-02T15:04:05.9999999", d.DateTime)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// eventDump is every row sync-events owns or writes, to show a run changed none.
func (h *harness) eventDump() string {
	return h.dump(
		"SELECT * FROM "+h.tdb.Table("msteams_events")+" ORDER BY event_id",
		"SELECT * FROM "+h.tdb.Table("event_links")+" ORDER BY elink_id",
		"SELECT * FROM "+h.tdb.Table("event_resource_entities")+" ORDER BY event_resource_entity_id",
	)
}

// requestsSince returns the simulator's requests after the first n.
func (h *harness) requestsSince(n int) []graphsim.LoggedRequest {
	return h.sim.Requests()[n:]
}

// eventWrites counts the writes among requests by route: "POST /me/events",
// "PATCH /me/events/{id}", "POST /me/events/{id}/cancel", each with the
// event id it addressed.
func eventWrites(reqs []graphsim.LoggedRequest) map[string][]string {
	out := map[string][]string{}
	for _, r := range reqs {
		if r.Method == "GET" || r.Status >= 400 {
			continue
		}
		segs := strings.Split(strings.Trim(r.Path, "/"), "/")
		switch {
		case r.Method == "POST" && len(segs) >= 2 && segs[len(segs)-1] == "events":
			out["create"] = append(out["create"], "")
		case r.Method == "PATCH" && len(segs) >= 3 && segs[len(segs)-2] == "events":
			out["patch"] = append(out["patch"], segs[len(segs)-1])
		case r.Method == "POST" && len(segs) >= 4 && segs[len(segs)-1] == "cancel":
			out["cancel"] = append(out["cancel"], segs[len(segs)-2])
		default:
			out["other "+r.Method+" "+r.Route] = append(out["other "+r.Method+" "+r.Route], r.Path)
		}
	}
	return out
}

// checkMeetings asserts that each expected event has exactly one live
// meeting at Elentra's instants, titled by the template, with its join link
// on the event page opening window minutes before the start; and that no
// other meeting exists.
func (h *harness) checkMeetings(t *testing.T, want map[int]school.Event, window time.Duration) {
	t.Helper()
	recs := h.eventRecords()
	sim := h.meetings()
	courses := map[int]school.Course{}
	for _, c := range h.school.Courses {
		courses[c.ID] = c
	}
	ids := make([]int, 0, len(want))
	for id := range want {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	links := h.links(ids)
	live := 0
	for _, m := range sim {
		if !m.IsCancelled {
			live++
		}
	}
	if live != len(want) {
		t.Errorf("%d live meetings in the calendar, want %d", live, len(want))
	}
	for _, id := range ids {
		e := want[id]
		rec, ok := recs[id]
		if !ok || rec.State != reconcile.EventStateScheduled {
			t.Errorf("event %d: record %+v, want a scheduled meeting", id, rec)
			continue
		}
		m, ok := sim[rec.GraphEventID]
		if !ok || m.IsCancelled {
			t.Errorf("event %d: meeting %s is not in the calendar", id, rec.GraphEventID)
			continue
		}
		start, end := simTime(t, m.Start), simTime(t, m.End)
		if start.Unix() != e.Start || end.Unix() != e.Finish {
			t.Errorf("event %d: meeting %s–%s, want %s–%s", id, start, end, time.Unix(e.Start, 0).UTC(), time.Unix(e.Finish, 0).UTC())
		}
		if subject := courses[e.CourseID].Code + ": " + e.Title; m.Subject != subject {
			t.Errorf("event %d: subject %q, want %q", id, m.Subject, subject)
		}
		if !m.IsOnlineMeeting || m.JoinURL == "" || m.JoinURL != rec.JoinURL {
			t.Errorf("event %d: online %v, join %q, recorded %q", id, m.IsOnlineMeeting, m.JoinURL, rec.JoinURL)
		}
		ls := links[id]
		if len(ls) != 1 {
			t.Errorf("event %d: %d links on the event page, want 1", id, len(ls))
			continue
		}
		l := ls[0]
		opens := time.Unix(e.Start, 0).Add(-window)
		if l.ID != rec.ElinkID || l.URL != m.JoinURL || l.Title != "Join Microsoft Teams meeting" || !l.Published() ||
			!l.ReleaseDate.Equal(opens) || l.ReleaseUntil.Unix() != e.Finish || l.EntityID == 0 {
			t.Errorf("event %d: link %+v, want %s opening %s until the finish, recorded as %d", id, l, m.JoinURL, opens.UTC(), rec.ElinkID)
		}
		if !rec.JoinableFrom.Equal(opens) {
			t.Errorf("event %d: joinable from %s recorded, want %s", id, rec.JoinableFrom, opens.UTC())
		}
	}
}

// A first sync-events gives each event in scope exactly one Teams meeting at
// the right instants, across the daylight-saving change and midnight, in
// the Outlook zone Elentra's zone shares (America/Toronto, not UTC), with
// its link on the event page; a second run makes no Graph write and changes
// no row.
func TestSyncEventsSchool(t *testing.T) {
	h := newEventsHarness(t, nil)
	want := h.expectedMeetings()
	edge := h.school.Edge
	for _, id := range []int{edge.AcrossDST, edge.AcrossMidnight, edge.Children[0]} {
		if _, ok := want[id]; !ok {
			t.Fatalf("edge event %d (%s) is not among the expected meetings", id, h.school.Why[fmt.Sprintf("event %d", id)])
		}
	}
	if len(want) < 30 {
		t.Fatalf("the school gives only %d meetings", len(want))
	}
	rep := h.mustSyncEvents(nil)
	if c := rep.Counts[reconcile.KindCreateEvent]; c.Applied != len(want) || rep.Counts[reconcile.KindPublishLink].Applied != len(want) {
		t.Errorf("counts %+v, want %d meetings and links", rep.Counts, len(want))
	}
	h.checkMeetings(t, want, 10*time.Minute)

	// the edge events, by hand: Elentra's epochs are the instants in Outlook
	recs := h.eventRecords()
	sim := h.meetings()
	dst := sim[recs[edge.AcrossDST].GraphEventID]
	if start, end := simTime(t, dst.Start), simTime(t, dst.End); end.Sub(start) != 3*time.Hour {
		t.Errorf("the event across the daylight-saving change lasts %s in Outlook, want 3h", end.Sub(start))
	}
	for _, id := range append(append([]int{}, edge.Past...), edge.BeyondHorizon...) {
		if r, ok := recs[id]; ok && r.State != reconcile.EventStateNone {
			t.Errorf("event %d (%s) got a meeting: %+v", id, h.school.Why[fmt.Sprintf("event %d", id)], r)
		}
	}

	before := h.eventDump()
	n := len(h.sim.Requests())
	rep2 := h.mustSyncEvents(nil)
	if w := eventWrites(h.requestsSince(n)); len(w) != 0 {
		t.Errorf("the second run wrote to Graph: %v", w)
	}
	if after := h.eventDump(); after != before {
		t.Errorf("the second run changed rows:\nbefore\n%s\nafter\n%s", before, after)
	}
	if applied, failed := rep2.Totals(); applied != 0 || failed != 0 {
		t.Errorf("second run applied %d, failed %d", applied, failed)
	}
	if rep2.Graph.Requests != 1 {
		t.Errorf("the no-change run sent %d requests (%v), want one calendar listing", rep2.Graph.Requests, rep2.Graph.ByRoute)
	}
}

// An edit, a new time, a deletion, a switch-off, a move to another course
// and a move beyond the horizon: exactly one PATCH or one cancel each, and
// the event page's link follows.
func TestSyncEventsChanges(t *testing.T) {
	h := newEventsHarness(t, nil)
	want := h.expectedMeetings()
	h.mustSyncEvents(nil)
	recs := h.eventRecords()

	// six ordinary events of the first course's neighbours
	var picks []int
	edge := h.school.Edge
	special := map[int]bool{edge.AcrossDST: true, edge.AcrossMidnight: true}
	for _, c := range edge.Children {
		special[c] = true
	}
	ids := make([]int, 0, len(want))
	for id := range want {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	for _, id := range ids {
		if !special[id] && want[id].ParentID == 0 {
			picks = append(picks, id)
		}
	}
	if len(picks) < 6 {
		t.Fatalf("only %d ordinary events", len(picks))
	}
	edited, retimed, deleted, disabled, moved, far := picks[0], picks[1], picks[2], picks[3], picks[4], picks[5]
	other := 0
	for _, c := range h.school.Courses {
		if c.Active && c.OrganisationID == h.school.Spec.OrganisationID && c.ID != want[moved].CourseID {
			other = c.ID
			break
		}
	}
	ev := h.tdb.Table("events")
	h.exec("UPDATE "+ev+" SET event_title = ? WHERE event_id = ?", "Renamed session", edited)
	h.exec("UPDATE "+ev+" SET event_start = event_start + 3600, event_finish = event_finish + 5400 WHERE event_id = ?", retimed)
	h.exec("DELETE FROM "+ev+" WHERE event_id = ?", deleted)
	h.exec("UPDATE "+h.tdb.Table("msteams_events")+" SET enabled = 0, switched_at = ? WHERE event_id = ?", h.now, disabled)
	h.exec("UPDATE "+ev+" SET course_id = ? WHERE event_id = ?", other, moved)
	h.exec("UPDATE "+ev+" SET event_start = event_start + 30*86400, event_finish = event_finish + 30*86400 WHERE event_id = ?", far)

	linksBefore := h.links([]int{edited})
	n := len(h.sim.Requests())
	rep := h.mustSyncEvents(nil)
	w := eventWrites(h.requestsSince(n))
	gid := func(id int) string { return recs[id].GraphEventID }
	sort.Strings(w["patch"])
	sort.Strings(w["cancel"])
	wantPatch := []string{gid(edited), gid(retimed), gid(far)}
	wantCancel := []string{gid(deleted), gid(disabled), gid(moved)}
	sort.Strings(wantPatch)
	sort.Strings(wantCancel)
	if fmt.Sprint(w["patch"]) != fmt.Sprint(wantPatch) || fmt.Sprint(w["cancel"]) != fmt.Sprint(wantCancel) || len(w) != 2 {
		t.Errorf("writes %v, want PATCH %v and cancel %v only", w, wantPatch, wantCancel)
	}
	// a title change sends the subject alone (never the body: Outlook may
	// replace the Teams join details it wrote there)
	for _, r := range h.requestsSince(n) {
		if r.Method == "PATCH" && strings.HasSuffix(r.Path, "/"+gid(edited)) {
			var body map[string]any
			_ = json.Unmarshal(r.Body, &body)
			if len(body) != 1 || body["subject"] == nil {
				t.Errorf("the PATCH of a renamed event sent %s", r.Body)
			}
		}
	}
	if f := rep.AllFailures(); len(f) != 0 {
		t.Errorf("failures %+v", f)
	}

	sim := h.meetings()
	code := func(id int) string {
		for _, c := range h.school.Courses {
			if c.ID == want[id].CourseID {
				return c.Code
			}
		}
		return ""
	}
	if s := sim[gid(edited)].Subject; s != code(edited)+": Renamed session" {
		t.Errorf("renamed meeting's subject %q", s)
	}
	if start, end := simTime(t, sim[gid(retimed)].Start), simTime(t, sim[gid(retimed)].End); start.Unix() != want[retimed].Start+3600 || end.Unix() != want[retimed].Finish+5400 {
		t.Errorf("moved meeting at %s–%s", start, end)
	}
	for _, id := range []int{deleted, disabled, moved} {
		if m, ok := sim[gid(id)]; !ok || !m.IsCancelled {
			t.Errorf("event %d: meeting %+v, want cancelled", id, m)
		}
	}
	if m := sim[gid(far)]; m.IsCancelled || simTime(t, m.Start).Unix() != want[far].Start+30*86400 {
		t.Errorf("the event moved beyond the horizon: meeting %+v, want kept and moved", m)
	}

	links := h.links([]int{edited, retimed, deleted, disabled, moved, far})
	for _, id := range []int{deleted, disabled, moved} {
		if len(links[id]) != 0 {
			t.Errorf("event %d keeps its link %+v", id, links[id])
		}
	}
	var orphans int
	if err := h.tdb.Root.Get(&orphans, "SELECT COUNT(*) FROM "+h.tdb.Table("event_resource_entities")+" WHERE entity_type = 3 AND entity_value IN (?, ?, ?)",
		recs[deleted].ElinkID, recs[disabled].ElinkID, recs[moved].ElinkID); err != nil || orphans != 0 {
		t.Errorf("%d listings of removed links left (%v)", orphans, err)
	}
	if l := links[edited]; len(l) != 1 || fmt.Sprint(l) != fmt.Sprint(linksBefore[edited]) {
		t.Errorf("the renamed event's link %+v changed (was %+v): its time did not", l, linksBefore[edited])
	}
	if l := links[retimed]; len(l) != 1 || l[0].ReleaseDate.Unix() != want[retimed].Start+3600-600 || l[0].ReleaseUntil.Unix() != want[retimed].Finish+5400 || !l[0].Published() {
		t.Errorf("the moved event's link %+v: opens 10 minutes before the new start, closes at the new finish", l)
	}
	if l := links[far]; len(l) != 1 || l[0].ReleaseDate.Unix() != want[far].Start+30*86400-600 {
		t.Errorf("the far event's link %+v", l)
	}
	after := h.eventRecords()
	for _, id := range []int{deleted, disabled, moved} {
		if r := after[id]; r.State != reconcile.EventStateCancelled || r.ElinkID != 0 || r.JoinURL != "" {
			t.Errorf("event %d record %+v, want cancelled without link", id, r)
		}
	}

	// The moved event's new course is synced too: the next run gives it a
	// new meeting (a new transactionId), and the run after changes nothing.
	n = len(h.sim.Requests())
	h.mustSyncEvents(nil)
	if w := eventWrites(h.requestsSince(n)); len(w["create"]) != 1 || len(w) != 1 {
		t.Errorf("third run writes %v, want one create (the moved event)", w)
	}
	third := h.eventRecords()[moved]
	if third.State != reconcile.EventStateScheduled || third.Generation != 2 || third.TransactionID == recs[moved].TransactionID || third.CourseID != other {
		t.Errorf("moved event record %+v", third)
	}
	before := h.eventDump()
	n = len(h.sim.Requests())
	h.mustSyncEvents(nil)
	if w := eventWrites(h.requestsSince(n)); len(w) != 0 {
		t.Errorf("fourth run writes %v", w)
	}
	if h.eventDump() != before {
		t.Error("fourth run changed rows")
	}
}

// Outlook answers a create without the join URL: the meeting is kept (never
// created again), read on the next run, and only then its link published.
func TestSyncEventsJoinURLLater(t *testing.T) {
	h := newEventsHarness(t, nil)
	want := h.expectedMeetings()
	h.sim.SetFaults(graphsim.Faults{JoinURLAfterGets: 2})
	rep := h.mustSyncEvents(nil)
	pending := 0
	for _, f := range rep.Findings {
		if f.Kind == "join_url_pending" {
			pending++
		}
	}
	if pending != len(want) {
		t.Errorf("%d join_url_pending findings, want %d", pending, len(want))
	}
	ids := make([]int, 0, len(want))
	for id := range want {
		ids = append(ids, id)
	}
	if l := h.links(ids); len(l) != 0 {
		t.Errorf("links published without a join URL: %v", l)
	}
	for id := range want {
		if r := h.eventRecords()[id]; r.State != reconcile.EventStateCreated || r.GraphEventID == "" {
			t.Fatalf("event %d record %+v, want created without join URL", id, r)
		}
		break
	}
	n := len(h.sim.Requests())
	h.mustSyncEvents(nil)
	if w := eventWrites(h.requestsSince(n)); len(w) != 0 {
		t.Errorf("the second run wrote %v; the join URL needs reads only", w)
	}
	h.checkMeetings(t, want, 10*time.Minute)
}

// A crash after a create landed but before it was recorded (state intent),
// and tables lost altogether: the meetings are found by their marker and
// adopted, never created twice, and the links already published are
// adopted too.
func TestSyncEventsAdoptsByMarker(t *testing.T) {
	h := newEventsHarness(t, nil)
	want := h.expectedMeetings()
	h.mustSyncEvents(nil)
	recs := h.eventRecords()
	var crashed int
	for id := range want {
		crashed = id
		break
	}
	h.exec("UPDATE "+h.tdb.Table("msteams_events")+" SET state = 'intent', graph_event_id = NULL, join_url = NULL, elink_id = NULL WHERE event_id = ?", crashed)
	h.exec("DELETE FROM "+h.tdb.Table("event_resource_entities")+" WHERE entity_type = 3 AND entity_value = ?", recs[crashed].ElinkID)
	h.exec("DELETE FROM "+h.tdb.Table("event_links")+" WHERE elink_id = ?", recs[crashed].ElinkID)

	n := len(h.sim.Requests())
	h.mustSyncEvents(nil)
	if w := eventWrites(h.requestsSince(n)); len(w) != 0 {
		t.Errorf("after a crash: writes %v, want none (adopted)", w)
	}
	if r := h.eventRecords()[crashed]; r.GraphEventID != recs[crashed].GraphEventID || r.State != reconcile.EventStateScheduled {
		t.Errorf("record %+v, want the meeting %s adopted", r, recs[crashed].GraphEventID)
	}
	h.checkMeetings(t, want, 10*time.Minute)

	// every row of the tool lost: meetings adopted by marker, links by title
	h.exec("DELETE FROM " + h.tdb.Table("msteams_events"))
	n = len(h.sim.Requests())
	h.mustSyncEvents(nil)
	if w := eventWrites(h.requestsSince(n)); len(w["create"]) != 0 || len(w["cancel"]) != 0 {
		t.Errorf("after losing the tool's rows: writes %v, want no create or cancel", w)
	}
	h.checkMeetings(t, want, 10*time.Minute)
	before := h.eventDump()
	n = len(h.sim.Requests())
	h.mustSyncEvents(nil)
	if w := eventWrites(h.requestsSince(n)); len(w) != 0 || h.eventDump() != before {
		t.Errorf("the run after the adoption wrote %v or changed rows", w)
	}
}

// A meeting deleted in Outlook by hand is made again (a new generation),
// and the event's link points to the new one.
func TestSyncEventsMeetingDeletedInOutlook(t *testing.T) {
	h := newEventsHarness(t, nil)
	want := h.expectedMeetings()
	h.mustSyncEvents(nil)
	recs := h.eventRecords()
	var gone int
	for id := range want {
		gone = id
		break
	}
	env := h.env(nil)
	if err := env.Graph.DeleteEvent(context.Background(), "me", recs[gone].GraphEventID); err != nil {
		t.Fatal(err)
	}
	n := len(h.sim.Requests())
	h.mustSyncEvents(nil)
	if w := eventWrites(h.requestsSince(n)); len(w["create"]) != 1 || len(w) != 1 {
		t.Errorf("writes %v, want one create", w)
	}
	r := h.eventRecords()[gone]
	if r.Generation != 2 || r.GraphEventID == recs[gone].GraphEventID || r.ElinkID != recs[gone].ElinkID {
		t.Errorf("record %+v: a new meeting, the same link", r)
	}
	h.checkMeetings(t, want, 10*time.Minute)
}

// Bad data is reported per event and never fatal; --allow-long-events lets
// a long one through.
func TestSyncEventsBadData(t *testing.T) {
	h := newEventsHarness(t, nil)
	want := h.expectedMeetings()
	ids := make([]int, 0, len(want))
	for id, e := range want {
		if e.ParentID == 0 && id != h.school.Edge.AcrossDST && id != h.school.Edge.AcrossMidnight {
			ids = append(ids, id)
		}
	}
	sort.Ints(ids)
	backwards, long, untitled := ids[0], ids[1], ids[2]
	ev := h.tdb.Table("events")
	h.exec("UPDATE "+ev+" SET event_finish = event_start - 60 WHERE event_id = ?", backwards)
	h.exec("UPDATE "+ev+" SET event_finish = event_start + 26*3600 WHERE event_id = ?", long)
	h.exec("UPDATE "+ev+" SET event_title = ' ' WHERE event_id = ?", untitled)
	rep := h.mustSyncEvents(nil)
	got := map[string]int{}
	for _, f := range rep.Findings {
		if strings.HasPrefix(string(f.Kind), "event_") {
			got[string(f.Kind)] = f.EventID
		}
	}
	if got["event_bad_times"] != backwards || got["event_too_long"] != long || got["event_no_title"] != untitled || len(got) != 3 {
		t.Errorf("findings %v, want bad times %d, too long %d, no title %d", got, backwards, long, untitled)
	}
	recs := h.eventRecords()
	for _, id := range []int{backwards, long, untitled} {
		if r, ok := recs[id]; ok && r.GraphEventID != "" {
			t.Errorf("event %d got a meeting", id)
		}
		delete(want, id)
	}
	h.checkMeetings(t, want, 10*time.Minute)

	h.mustSyncEvents(func(e *engine.Env) { e.AllowLongEvents = true })
	if r := h.eventRecords()[long]; r.State != reconcile.EventStateScheduled {
		t.Errorf("with --allow-long-events the long event's record is %+v", r)
	}
}

// The Outlook zone differs from Elentra's and is a Windows name, and an
// event starts in the hour the autumn change repeats: every meeting still
// lands at Elentra's instants.
func TestSyncEventsOutlookZone(t *testing.T) {
	h := newEventsHarness(t, nil)
	dst := h.schoolEvent(h.school.Edge.AcrossDST)
	// 30 minutes after the change: 01:30 EST, whose wall-clock 01:30 also
	// happened an hour earlier in EDT.
	repeated := dst.Start + 3600 + 1800
	h.exec("UPDATE "+h.tdb.Table("events")+" SET event_start = ?, event_finish = ? WHERE event_id = ?", repeated, repeated+3600, dst.ID)
	for i := range h.school.Events {
		if h.school.Events[i].ID == dst.ID {
			h.school.Events[i].Start, h.school.Events[i].Finish = repeated, repeated+3600
		}
	}
	want := h.expectedMeetings()
	// In Toronto's zone, sent as a Windows name.
	h.mustSyncEvents(func(e *engine.Env) { e.OutlookTimezone = "Eastern Standard Time" })
	h.checkMeetings(t, want, 10*time.Minute)
	for _, r := range h.sim.Requests() {
		if r.Method != "POST" || !strings.HasSuffix(r.Path, "/events") {
			continue
		}
		var body struct {
			Subject string
			Start   struct{ DateTime, TimeZone string }
		}
		_ = json.Unmarshal(r.Body, &body)
		if strings.Contains(body.Subject, dst.Title) != (body.Start.TimeZone == "UTC") {
			t.Errorf("%q sent in %s: only the event in the repeated hour goes in UTC", body.Subject, body.Start.TimeZone)
		}
	}

	// The same school with Outlook in another zone altogether.
	h2 := eventsHarness(t, nil)
	h2.mustSyncEvents(func(e *engine.Env) { e.OutlookTimezone = "Europe/Berlin" })
	h2.checkMeetings(t, h2.expectedMeetings(), 10*time.Minute)
}

// --dry-run plans the meetings and links, writes nothing anywhere.
func TestSyncEventsDryRun(t *testing.T) {
	h := newEventsHarness(t, nil)
	want := h.expectedMeetings()
	before := h.eventDump()
	n := len(h.sim.Requests())
	rep := h.mustSyncEvents(func(e *engine.Env) { e.DryRun = true; e.Graph = h.dryGraph() })
	if w := eventWrites(h.requestsSince(n)); len(w) != 0 {
		t.Errorf("dry run wrote %v", w)
	}
	if h.eventDump() != before {
		t.Error("dry run changed rows")
	}
	creates := 0
	for _, a := range rep.Plan {
		if a.Kind == reconcile.KindCreateEvent {
			creates++
		}
	}
	if creates != len(want) || rep.Counts[reconcile.KindPublishLink].Planned != len(want) {
		t.Errorf("dry run plans %d creates, %+v; want %d", creates, rep.Counts, len(want))
	}
}

// Without sync.all_course_events only switched-on events get meetings; a
// child event follows its parent unless switched off itself;
// personal_meeting_window_minutes sets when the links open.
func TestSyncEventsSwitches(t *testing.T) {
	h := newEventsHarness(t, func(c *config.Config) { c.Sync.AllCourseEvents = false })
	var child, parent int
	for _, id := range h.school.Edge.Children {
		e := h.schoolEvent(id)
		if _, ok := h.expectedMeetings()[id]; ok {
			if _, ok := h.expectedMeetings()[e.ParentID]; ok {
				child, parent = id, e.ParentID
				break
			}
		}
	}
	if child == 0 {
		t.Fatal("no child event with its parent in the horizon")
	}
	// single: a top-level event no other event in the horizon hangs from,
	// so switching it on brings no children with it.
	hasChildren := map[int]bool{}
	for _, e := range h.expectedMeetings() {
		hasChildren[e.ParentID] = true
	}
	var single int
	for id, e := range h.expectedMeetings() {
		if e.ParentID == 0 && !hasChildren[id] && id != parent && id != h.school.Edge.AcrossDST {
			single = id
			break
		}
	}
	if single == 0 {
		t.Fatal("no childless top-level event in the horizon")
	}
	me := h.tdb.Table("msteams_events")
	h.exec("INSERT INTO "+me+" (event_id, enabled, switched_at, created_at, updated_at) VALUES (?, 1, ?, ?, ?), (?, 1, ?, ?, ?)",
		parent, h.now, h.now, h.now, single, h.now, h.now, h.now)
	h.exec("UPDATE " + h.tdb.Table("settings") + " SET value = '15' WHERE shortname = 'personal_meeting_window_minutes'")
	h.mustSyncEvents(nil)
	all := h.expectedMeetings()
	h.checkMeetings(t, map[int]school.Event{parent: all[parent], child: all[child], single: all[single]}, 15*time.Minute)

	// the child switched off: its meeting goes, its parent's stays
	h.exec("INSERT INTO "+me+" (event_id, enabled, switched_at, created_at, updated_at) VALUES (?, 0, ?, ?, ?) ON DUPLICATE KEY UPDATE enabled = 0, switched_at = VALUES(switched_at)",
		child, h.now, h.now, h.now)
	h.mustSyncEvents(nil)
	h.checkMeetings(t, map[int]school.Event{parent: all[parent], single: all[single]}, 15*time.Minute)
}

// sync.event_attendees teachers invites each event's teachers who have a
// Microsoft account (sync-users matched them first).
func TestSyncEventsAttendees(t *testing.T) {
	h := newEventsHarness(t, func(c *config.Config) { c.Sync.EventAttendees = "teachers" })
	if _, err := engine.Run(context.Background(), h.env(nil), "sync", engine.UsersStep, engine.EventsStep); err != nil {
		t.Fatal(err)
	}
	users := map[int]school.User{}
	for _, u := range h.school.Users {
		users[u.ID] = u
	}
	teacherOf := map[int]string{}
	for _, c := range h.school.EventContacts {
		teacherOf[c.EventID] = strings.ToLower(users[c.ProxyID].Email)
	}
	invited := 0
	for _, r := range h.sim.Requests() {
		if r.Method != "POST" || !strings.HasSuffix(r.Path, "/events") {
			continue
		}
		var body struct {
			Attendees []struct {
				EmailAddress struct{ Address string }
				Type         string
			}
			SingleValueExtendedProperties []struct{ ID, Value string }
		}
		if err := json.Unmarshal(r.Body, &body); err != nil {
			t.Fatal(err)
		}
		m, _ := reconcile.ParseMarker(body.SingleValueExtendedProperties[0].Value)
		id := m.EventID
		if len(body.Attendees) > 1 {
			t.Errorf("event %d invites %d people, want its one teacher at most", id, len(body.Attendees))
		}
		if len(body.Attendees) == 1 {
			invited++
			if a := body.Attendees[0]; a.EmailAddress.Address != teacherOf[id] || a.Type != "required" {
				t.Errorf("event %d invites %+v, want %s", id, a, teacherOf[id])
			}
		}
	}
	if invited < len(h.expectedMeetings())/2 {
		t.Errorf("only %d of %d meetings invite their teacher", invited, len(h.expectedMeetings()))
	}
}

// --event and --course narrow what a run touches: changes to other events
// wait for a run that covers them.
func TestSyncEventsFilter(t *testing.T) {
	h := newEventsHarness(t, nil)
	want := h.expectedMeetings()
	h.mustSyncEvents(nil)
	recs := h.eventRecords()
	byCourse := map[int]int{}
	for id, e := range want {
		if e.ParentID == 0 && (byCourse[e.CourseID] == 0 || id < byCourse[e.CourseID]) {
			byCourse[e.CourseID] = id
		}
	}
	var a, b int
	for _, id := range byCourse {
		switch {
		case a == 0:
			a = id
		case b == 0 && want[id].CourseID != want[a].CourseID:
			b = id
		}
	}
	ev := h.tdb.Table("events")
	h.exec("DELETE FROM "+ev+" WHERE event_id IN (?, ?)", a, b)

	n := len(h.sim.Requests())
	h.mustSyncEvents(func(e *engine.Env) { e.EventIDs = []int{a} })
	if w := eventWrites(h.requestsSince(n)); fmt.Sprint(w) != fmt.Sprint(map[string][]string{"cancel": {recs[a].GraphEventID}}) {
		t.Errorf("--event %d: writes %v, want its cancel only", a, w)
	}
	n = len(h.sim.Requests())
	h.mustSyncEvents(func(e *engine.Env) { e.CourseIDs = []int{want[b].CourseID} })
	if w := eventWrites(h.requestsSince(n)); fmt.Sprint(w) != fmt.Sprint(map[string][]string{"cancel": {recs[b].GraphEventID}}) {
		t.Errorf("--course %d: writes %v, want the cancel of event %d only", want[b].CourseID, w, b)
	}
	delete(want, a)
	delete(want, b)
	h.checkMeetings(t, want, 10*time.Minute)
}

// The whole sync, with sync.event_requires_team: events get meetings only
// in courses that have a Team (a course without a current period gets
// none), and a note names the others.
func TestSyncEventsRequireTeam(t *testing.T) {
	h := newEventsHarness(t, func(c *config.Config) { c.Sync.EventRequiresTeam = true })
	// one course outside any curriculum period: synced, but without a Team
	var course int
	for _, e := range h.expectedMeetings() {
		if course == 0 || e.CourseID < course {
			course = e.CourseID
		}
	}
	h.exec("UPDATE "+h.tdb.Table("courses")+" SET curriculum_type_id = 9999 WHERE course_id = ?", course)
	rep, err := engine.Run(context.Background(), h.env(nil), "sync", engine.UsersStep, engine.TeamsStep, engine.MembersStep, engine.EventsStep)
	if err != nil {
		t.Fatalf("sync: %v (%+v)", err, rep.AllFailures())
	}
	withTeam := map[int]bool{}
	for _, tm := range h.sim.State().Teams {
		var id int
		if _, err := fmt.Sscanf(courseKey(tm.MailNickname), "o1-c%d", &id); err == nil {
			withTeam[id] = true
		}
	}
	want := map[int]school.Event{}
	noTeam := map[int]bool{}
	for id, e := range h.expectedMeetings() {
		if withTeam[e.CourseID] {
			want[id] = e
		} else {
			noTeam[id] = true
		}
	}
	if len(noTeam) == 0 || len(want) == 0 {
		t.Fatalf("the school should have events with and without a Team: %d, %d", len(want), len(noTeam))
	}
	h.checkMeetings(t, want, 10*time.Minute)
	noted := map[int]bool{}
	for _, f := range rep.AllFindings() {
		if f.Kind == "event_no_team" {
			noted[f.EventID] = true
		}
	}
	if fmt.Sprint(noted) != fmt.Sprint(noTeam) {
		t.Errorf("event_no_team notes for %v, want %v", noted, noTeam)
	}
}

// An account that cannot host Teams meetings: Outlook makes plain events.
// They are kept (never created again), the problem is a failure naming the
// fix, and once the account can, the same events become Teams meetings.
func TestSyncEventsWithoutTeamsMeetings(t *testing.T) {
	h := newEventsHarness(t, nil)
	want := h.expectedMeetings()
	h.sim.SetFaults(graphsim.Faults{NoTeamsForBusiness: true})
	rep := h.mustSyncEvents(nil)
	notOnline := 0
	for _, f := range rep.Findings {
		if f.Kind == "meeting_not_online" {
			notOnline++
		}
	}
	if notOnline != len(want) {
		t.Errorf("%d meeting_not_online findings, want %d", notOnline, len(want))
	}
	rep, err := h.syncEvents(nil)
	if err == nil || len(rep.Failures) != len(want) || !strings.Contains(rep.Failures[0].Message, "Teams licence") {
		t.Errorf("second run: %v, %d failures (%+v), want one per event naming the licence", err, len(rep.Failures), rep.Failures)
	}
	h.sim.SetFaults(graphsim.Faults{})
	h.mustSyncEvents(nil)
	if creates := eventWrites(h.sim.Requests())["create"]; len(creates) != len(want) {
		t.Errorf("%d creates in all, want one per event (%d)", len(creates), len(want))
	}
	h.checkMeetings(t, want, 10*time.Minute)
}
