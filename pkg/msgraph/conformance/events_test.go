package conformance_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/elentra-teams/elentra-teams/pkg/msgraph"
	"github.com/elentra-teams/elentra-teams/pkg/msgraph/graphsim"
)

// markerID is the extended property the tool marks its meetings with.
const markerID = "String {66f5a359-4659-4830-9070-00047ec6ac6e} Name ElentraTeamsKey"

func meeting(t *testing.T, subject, tx, marker string, start time.Time, zone string) msgraph.EventInput {
	t.Helper()
	s := must(msgraph.NewDateTimeTimeZone(start, zone))(t)
	e := must(msgraph.NewDateTimeTimeZone(start.Add(90*time.Minute), zone))(t)
	online := true
	in := msgraph.EventInput{
		Subject: subject, Body: &msgraph.ItemBody{ContentType: "HTML", Content: "<p>Lecture</p>"},
		Start: &s, End: &e, Location: &msgraph.Location{DisplayName: "Room 101"},
		Attendees:       []msgraph.Attendee{{EmailAddress: msgraph.EmailAddress{Address: "lee.olearner@school.example.edu", Name: "Lee"}, Type: "required"}},
		IsOnlineMeeting: &online, OnlineMeetingProvider: "teamsForBusiness", TransactionID: tx,
	}
	if marker != "" {
		in.SingleValueExtendedProperties = []msgraph.SingleValueExtendedProperty{{ID: markerID, Value: marker}}
	}
	return in
}

func TestEventsWithTransactionIDAndMarker(t *testing.T) {
	e := newEnv(t, graphsim.Options{}, nil)
	start := time.Date(2025, 9, 3, 14, 0, 0, 0, time.UTC)
	in := meeting(t, "MED101: Lecture 1", "elentra-event-42-g1", "event:42", start, "Eastern Standard Time")

	created := must(e.client.CreateEvent(e.ctx, "me", in))(t)
	if created.ID == "" || created.Subject != "MED101: Lecture 1" || !created.IsOnlineMeeting ||
		created.OnlineMeetingProvider != "teamsForBusiness" || !strings.HasPrefix(created.JoinURL(), "https://teams.microsoft.com/l/meetup-join/") {
		t.Fatalf("CreateEvent = %+v", created)
	}
	if created.TransactionID != "elentra-event-42-g1" {
		t.Errorf("transactionId = %q", created.TransactionID)
	}
	// Without a Prefer zone Graph answers in UTC, seven fraction digits.
	if created.Start.TimeZone != "UTC" || created.Start.DateTime != "2025-09-03T14:00:00.0000000" {
		t.Errorf("start = %+v", created.Start)
	}
	if got := must(created.Start.Time())(t); !got.Equal(start) {
		t.Errorf("start instant = %v, want %v", got, start)
	}

	// The same transactionId again: Outlook answers with the first event.
	again := must(e.client.CreateEvent(e.ctx, "me", in))(t)
	if again.ID != created.ID {
		t.Errorf("repeated create made %s, want %s", again.ID, created.ID)
	}
	if n := len(e.sim.State().Events); n != 1 {
		t.Errorf("%d events in the mailbox, want 1", n)
	}

	// Another meeting without a marker, to be sure the finders filter.
	must(e.client.CreateEvent(e.ctx, "me", meeting(t, "MED101: Lecture 2", "elentra-event-43-g1", "", start.Add(24*time.Hour), "UTC")))(t)

	found := must(e.client.FindEventsByExtendedProperty(e.ctx, "me", markerID, "event:42"))(t)
	if len(found) != 1 || found[0].ID != created.ID {
		t.Fatalf("FindEventsByExtendedProperty = %+v", found)
	}
	if v, ok := found[0].ExtendedProperty(markerID); !ok || v != "event:42" {
		t.Errorf("found event's marker = %q, %v", v, ok)
	}
	if none := must(e.client.FindEventsByExtendedProperty(e.ctx, "me", markerID, "event:99"))(t); len(none) != 0 {
		t.Errorf("FindEventsByExtendedProperty(absent) = %+v", none)
	}

	view := must(e.client.CalendarView(e.ctx, "me", start.Add(-time.Hour), start.Add(48*time.Hour), msgraph.CalendarViewOptions{
		Select:                   []string{"id", "subject", "start", "end", "onlineMeeting", "transactionId"},
		ExpandExtendedPropertyID: markerID,
		TimeZone:                 "Pacific Standard Time",
	}))(t)
	if len(view) != 2 {
		t.Fatalf("CalendarView = %d events, want 2", len(view))
	}
	byID := map[string]msgraph.Event{}
	for _, ev := range view {
		byID[ev.ID] = ev
	}
	first := byID[created.ID]
	if v, ok := first.ExtendedProperty(markerID); !ok || v != "event:42" || first.JoinURL() != created.JoinURL() {
		t.Errorf("calendarView event: marker %q %v, join %q", v, ok, first.JoinURL())
	}
	if first.Start.TimeZone != "Pacific Standard Time" || first.Start.DateTime != "2025-09-03T07:00:00.0000000" {
		t.Errorf("calendarView start in the Prefer zone = %+v", first.Start)
	}
	if got := must(first.Start.Time())(t); !got.Equal(start) {
		t.Errorf("calendarView start instant = %v, want %v", got, start)
	}
	if outside := must(e.client.CalendarView(e.ctx, "me", start.Add(72*time.Hour), start.Add(96*time.Hour), msgraph.CalendarViewOptions{}))(t); len(outside) != 0 {
		t.Errorf("CalendarView outside the window = %d events", len(outside))
	}

	got := must(e.client.GetEvent(e.ctx, "me", created.ID, msgraph.EventOptions{
		Select: []string{"subject", "isOnlineMeeting", "onlineMeeting"}, ExpandExtendedPropertyID: markerID,
	}))(t)
	if got.ID != created.ID || got.JoinURL() != created.JoinURL() {
		t.Errorf("GetEvent = %+v", got)
	}
	if v, _ := got.ExtendedProperty(markerID); v != "event:42" {
		t.Errorf("GetEvent marker = %q", v)
	}

	newStart := must(msgraph.NewDateTimeTimeZone(start.Add(time.Hour), "Europe/London"))(t)
	newEnd := must(msgraph.NewDateTimeTimeZone(start.Add(150*time.Minute), "Europe/London"))(t)
	updated := must(e.client.UpdateEvent(e.ctx, "me", created.ID, msgraph.EventInput{
		Subject: "MED101: Lecture 1 (moved)", Start: &newStart, End: &newEnd, ResponseTimeZone: "Europe/London",
	}))(t)
	if updated.Subject != "MED101: Lecture 1 (moved)" || updated.Start.TimeZone != "Europe/London" {
		t.Errorf("UpdateEvent = %+v", updated)
	}
	if got := must(updated.Start.Time())(t); !got.Equal(start.Add(time.Hour)) {
		t.Errorf("moved start = %v", got)
	}
	if updated.JoinURL() != created.JoinURL() {
		t.Errorf("the join link changed on update")
	}

	if err := e.client.CancelEvent(e.ctx, "me", created.ID, "Cancelled in Elentra"); err != nil {
		t.Fatal(err)
	}
	_, err := e.client.GetEvent(e.ctx, "me", created.ID, msgraph.EventOptions{})
	if !msgraph.IsNotFound(err) || !msgraph.HasCode(err, "ErrorItemNotFound") {
		t.Errorf("GetEvent after cancel = %v, want ErrorItemNotFound", err)
	}
	// A cancelled event no longer holds its transactionId: a new generation
	// of the Elentra event makes a new meeting.
	if n := len(must(e.client.FindEventsByExtendedProperty(e.ctx, "me", markerID, "event:42"))(t)); n != 0 {
		t.Errorf("cancelled event still found by its marker (%d)", n)
	}

	second := byID[firstOther(byID, created.ID)]
	if err := e.client.DeleteEvent(e.ctx, "me", second.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.GetEvent(e.ctx, "me", second.ID, msgraph.EventOptions{}); !msgraph.IsNotFound(err) {
		t.Errorf("GetEvent after delete = %v", err)
	}
	if err := e.client.CancelEvent(e.ctx, "me", second.ID, ""); !msgraph.IsNotFound(err) {
		t.Errorf("cancelling a deleted event = %v, want not found", err)
	}
}

func firstOther(m map[string]msgraph.Event, not string) string {
	for id := range m {
		if id != not {
			return id
		}
	}
	return ""
}

func TestCalendarViewPages(t *testing.T) {
	e := newEnv(t, graphsim.Options{}, nil)
	start := time.Date(2025, 9, 8, 9, 0, 0, 0, time.UTC)
	for i := range 7 {
		must(e.client.CreateEvent(e.ctx, "me", meeting(t, "Session", "tx-"+string(rune('a'+i)), "", start.Add(time.Duration(i)*time.Hour), "UTC")))(t)
	}
	view := must(e.client.CalendarView(e.ctx, "me", start, start.Add(24*time.Hour), msgraph.CalendarViewOptions{PageSize: 3}))(t)
	if len(view) != 7 {
		t.Errorf("CalendarView over 3 pages = %d events, want 7", len(view))
	}
	pages := 0
	for _, r := range e.routes() {
		if r == "200 GET /me/calendarView" {
			pages++
		}
	}
	if pages != 3 {
		t.Errorf("calendarView pages = %d, want 3", pages)
	}
}

func TestMeetingLinkThatArrivesLate(t *testing.T) {
	e := newEnv(t, graphsim.Options{Faults: graphsim.Faults{JoinURLAfterGets: 1}}, nil)
	created := must(e.client.CreateEvent(e.ctx, "me", meeting(t, "Late link", "tx-late", "", time.Date(2025, 9, 4, 9, 0, 0, 0, time.UTC), "UTC")))(t)
	if created.JoinURL() != "" {
		t.Fatalf("the fault should hide the link on create, got %q", created.JoinURL())
	}
	got := must(e.client.GetEvent(e.ctx, "me", created.ID, msgraph.EventOptions{Select: []string{"onlineMeeting"}}))(t)
	if got.JoinURL() == "" {
		t.Errorf("the link did not come with the next read")
	}
}

func TestCalendarAllowsTeamsMeetings(t *testing.T) {
	e := newEnv(t, graphsim.Options{}, nil)
	cal := must(e.client.GetCalendar(e.ctx, "me"))(t)
	if !cal.AllowsTeamsMeetings() || cal.DefaultOnlineMeetingProvider != "teamsForBusiness" || cal.ID == "" {
		t.Errorf("GetCalendar = %+v", cal)
	}
	e.sim.SetFaults(graphsim.Faults{NoTeamsForBusiness: true})
	if cal := must(e.client.GetCalendar(e.ctx, "me"))(t); cal.AllowsTeamsMeetings() {
		t.Errorf("GetCalendar without Teams meetings = %+v", cal)
	}
	// A user without a mailbox has no calendar.
	e.sim.SetMailbox(adminID, false)
	if _, err := e.client.GetCalendar(e.ctx, "me"); !msgraph.HasCode(err, "MailboxNotEnabledForRESTAPI") {
		t.Errorf("GetCalendar without a mailbox = %v", err)
	}
}

func TestSupportedTimeZonesInBothStandards(t *testing.T) {
	e := newEnv(t, graphsim.Options{}, nil)
	windows := must(e.client.SupportedTimeZones(e.ctx, "me", "Windows"))(t)
	iana := must(e.client.SupportedTimeZones(e.ctx, "me", "Iana"))(t)
	def := must(e.client.SupportedTimeZones(e.ctx, "me", ""))(t)
	if len(def) != len(windows) {
		t.Errorf("default standard gave %d zones, Windows %d", len(def), len(windows))
	}
	aliases := func(zs []msgraph.TimeZoneInformation) []string {
		var out []string
		for _, z := range zs {
			out = append(out, z.Alias)
		}
		return out
	}
	if w := aliases(windows); !slices.Contains(w, "Pacific Standard Time") || !slices.Contains(w, "GMT Standard Time") || slices.Contains(w, "Europe/London") {
		t.Errorf("Windows zones lack the expected aliases (%d zones)", len(w))
	}
	if i := aliases(iana); !slices.Contains(i, "America/Los_Angeles") || !slices.Contains(i, "Europe/London") || slices.Contains(i, "Pacific Standard Time") {
		t.Errorf("Iana zones lack the expected aliases (%d zones)", len(i))
	}
	// Whatever Outlook offers, the client must be able to compute with: the
	// tool records the zone chosen from this list.
	for _, z := range append(windows, iana...) {
		if _, err := msgraph.LoadZone(z.Alias); err != nil {
			t.Errorf("zone %q (%s) offered by the server: %v", z.Alias, z.DisplayName, err)
		}
	}
}

// In application mode there is no /me: the tool names the organiser's
// mailbox and the first owner of a new team.
func TestApplicationPermissions(t *testing.T) {
	e := newEnv(t, graphsim.Options{}, nil)
	appToken, _ := e.sim.IssueToken("", nil)
	app := e.clientWith(func(o *msgraph.Options) {
		o.TokenSource = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: appToken, TokenType: "Bearer"})
	})
	if _, err := app.Me(e.ctx); err == nil {
		t.Errorf("Me with an app-only token succeeded")
	}
	if _, err := app.CreateTeam(e.ctx, msgraph.TeamCreate{DisplayName: "MED951 no owner"}); err == nil {
		t.Errorf("an app-only POST /teams without an owner succeeded")
	}
	id := must(app.CreateTeam(e.ctx, msgraph.TeamCreate{DisplayName: "MED951", Members: []msgraph.MemberAdd{{UserID: danaID, Owner: true}}}))(t)
	if r := roles(teamState(t, e.sim, id)); len(r) != 1 || r[danaID] != "owner" {
		t.Errorf("app-created team members = %v, want dana as the only owner", r)
	}
	ev := must(app.CreateEvent(e.ctx, danaID, meeting(t, "MED951: Lecture", "tx-app", "event:951", time.Date(2025, 9, 9, 13, 0, 0, 0, time.UTC), "UTC")))(t)
	found := must(app.FindEventsByExtendedProperty(e.ctx, danaID, markerID, "event:951"))(t)
	if len(found) != 1 || found[0].ID != ev.ID || ev.JoinURL() == "" {
		t.Errorf("event in dana's mailbox: created %+v, found %+v", ev, found)
	}
	if _, err := app.GetCalendar(e.ctx, patID); !msgraph.HasCode(err, "MailboxNotEnabledForRESTAPI") {
		t.Errorf("calendar of a user without a mailbox = %v", err)
	}
}
