package graphsim

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

const markerProp = "String {66f5a359-4659-4830-9070-00047ec6ac6e} Name ElentraTeamsKey"

func eventBody(subject, tx string, start time.Time, zone string) map[string]any {
	b := map[string]any{
		"subject":                       subject,
		"body":                          map[string]any{"contentType": "HTML", "content": "<p>Lecture</p>"},
		"start":                         map[string]any{"dateTime": start.Format("2006-01-02T15:04:05"), "timeZone": zone},
		"end":                           map[string]any{"dateTime": start.Add(time.Hour).Format("2006-01-02T15:04:05"), "timeZone": zone},
		"location":                      map[string]any{"displayName": "Room 101"},
		"attendees":                     []any{map[string]any{"emailAddress": map[string]any{"address": "alice@school.example", "name": "Alice"}, "type": "required"}},
		"isOnlineMeeting":               true,
		"onlineMeetingProvider":         "teamsForBusiness",
		"singleValueExtendedProperties": []any{map[string]any{"id": markerProp, "value": "event-" + tx}},
	}
	if tx != "" {
		b["transactionId"] = tx
	}
	return b
}

var graphDateTime = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}$`)

func dt(r map[string]any, key string) (string, string) {
	m, _ := r[key].(map[string]any)
	a, _ := m["dateTime"].(string)
	b, _ := m["timeZone"].(string)
	return a, b
}

func TestCreateEventWithTeamsMeeting(t *testing.T) {
	h := newHarness(t, Options{})
	start := time.Date(2025, 3, 12, 14, 0, 0, 0, time.UTC) // 14:00 Berlin = 13:00 UTC = 06:00 Pacific (PDT)
	r := h.do("POST", "/v1.0/me/events", eventBody("MED101: Anatomy", "tx-1", start, "W. Europe Standard Time"),
		"Prefer", `outlook.timezone="Pacific Standard Time"`)
	expectStatus(t, r, 201)
	if got, zone := dt(r.json, "start"); got != "2025-03-12T06:00:00.0000000" || zone != "Pacific Standard Time" {
		t.Errorf("start = %s %s, want 06:00 in the Prefer zone", got, zone)
	}
	if got, _ := dt(r.json, "end"); !graphDateTime.MatchString(got) {
		t.Errorf("end dateTime %q lacks 7 fraction digits or has an offset", got)
	}
	if r.header.Get("Preference-Applied") != `outlook.timezone="Pacific Standard Time"` {
		t.Errorf("Preference-Applied = %q", r.header.Get("Preference-Applied"))
	}
	om, _ := r.json["onlineMeeting"].(map[string]any)
	join, _ := om["joinUrl"].(string)
	if !strings.HasPrefix(join, "https://teams.microsoft.com/l/meetup-join/19%3ameeting_") || !strings.Contains(join, testTenant) {
		t.Errorf("joinUrl = %q", join)
	}
	if r.json["isOnlineMeeting"] != true || r.str("onlineMeetingProvider") != "teamsForBusiness" || r.json["onlineMeetingUrl"] != nil ||
		r.str("transactionId") != "tx-1" || r.str("originalStartTimeZone") != "W. Europe Standard Time" || r.str("subject") != "MED101: Anatomy" {
		t.Errorf("event = %s", r.raw)
	}
	if _, has := r.json["singleValueExtendedProperties"]; has {
		t.Errorf("extended properties are returned only when expanded")
	}
	id := r.str("id")

	// A retry with the same transactionId returns the same event.
	again := h.do("POST", "/v1.0/me/events", eventBody("MED101: Anatomy", "tx-1", start, "W. Europe Standard Time"))
	if again.status != 201 || again.str("id") != id {
		t.Errorf("retry: %d id %s, want 201 and %s", again.status, again.str("id"), id)
	}
	if n := len(h.sim.State().Events); n != 1 {
		t.Errorf("%d events after a retried POST, want 1", n)
	}
	// Without Prefer times are UTC.
	g := h.do("GET", "/v1.0/me/events/"+id, nil)
	if got, zone := dt(g.json, "start"); got != "2025-03-12T13:00:00.0000000" || zone != "UTC" {
		t.Errorf("GET start = %s %s, want 13:00 UTC", got, zone)
	}
	// IANA names work in Prefer too.
	g = h.do("GET", "/v1.0/me/events/"+id+"?$select=start,subject", nil, "Prefer", `outlook.timezone="America/Toronto"`)
	if got, _ := dt(g.json, "start"); got != "2025-03-12T09:00:00.0000000" || g.json["end"] != nil || g.str("id") != id {
		t.Errorf("$select with IANA Prefer = %s", g.raw)
	}

	p := h.do("PATCH", "/v1.0/me/events/"+id, map[string]any{"subject": "MED101: Anatomy (moved)",
		"start": map[string]any{"dateTime": "2025-03-12T10:00:00", "timeZone": "UTC"},
		"end":   map[string]any{"dateTime": "2025-03-12T11:00:00.0000000", "timeZone": "UTC"}})
	if p.status != 200 || p.str("subject") != "MED101: Anatomy (moved)" || p.str("changeKey") == r.str("changeKey") {
		t.Errorf("PATCH: %d %s", p.status, p.raw)
	}
	expectError(t, h.do("PATCH", "/v1.0/me/events/"+id, map[string]any{"isOnlineMeeting": false}), 400, "ErrorInvalidRequest")

	expectStatus(t, h.do("POST", "/v1.0/me/events/"+id+"/cancel", map[string]any{"Comment": "Cancelled by the course director"}), 202)
	expectError(t, h.do("GET", "/v1.0/me/events/"+id, nil), 404, "ErrorItemNotFound")
	st := h.sim.State().Events
	if len(st) != 1 || !st[0].IsCancelled || st[0].Start.DateTime != "2025-03-12T10:00:00.0000000" || st[0].Start.TimeZone != "UTC" || st[0].Mailbox != strings.ToLower(adminID) {
		t.Errorf("state after cancel = %+v", st)
	}
	// The transactionId of a cancelled event makes a new event.
	if again := h.do("POST", "/v1.0/me/events", eventBody("MED101: Anatomy", "tx-1", start, "UTC")); again.str("id") == id {
		t.Errorf("cancelled event came back for its transactionId")
	}
	e2 := h.do("POST", "/v1.0/me/events", eventBody("Other", "tx-2", start, "UTC")).str("id")
	expectStatus(t, h.do("DELETE", "/v1.0/me/events/"+e2, nil), 204)
	expectError(t, h.do("GET", "/v1.0/me/events/"+e2, nil), 404, "ErrorItemNotFound")
}

func TestEventValidation(t *testing.T) {
	h := newHarness(t, Options{})
	start := time.Date(2025, 3, 12, 14, 0, 0, 0, time.UTC)
	mod := func(f func(map[string]any)) map[string]any {
		b := eventBody("X", "", start, "UTC")
		f(b)
		return b
	}
	cases := map[string]struct {
		body map[string]any
		code string
	}{
		"no start": {mod(func(b map[string]any) { delete(b, "start") }), "ErrorInvalidRequest"},
		"offset in time": {mod(func(b map[string]any) {
			b["start"] = map[string]any{"dateTime": "2025-03-12T14:00:00Z", "timeZone": "UTC"}
		}), "UnableToDeserializePostBody"},
		"unknown zone": {mod(func(b map[string]any) {
			b["start"] = map[string]any{"dateTime": "2025-03-12T14:00:00", "timeZone": "Mars/Olympus"}
		}), "TimeZoneNotSupportedException"},
		"end before start": {mod(func(b map[string]any) {
			b["end"] = map[string]any{"dateTime": "2025-03-12T13:00:00", "timeZone": "UTC"}
		}), "ErrorInvalidRequest"},
		"bad provider": {mod(func(b map[string]any) { b["onlineMeetingProvider"] = "zoom" }), "UnableToDeserializePostBody"},
		"bad ext prop id": {mod(func(b map[string]any) {
			b["singleValueExtendedProperties"] = []any{map[string]any{"id": "ElentraTeamsKey", "value": "1"}}
		}), "ErrorInvalidProperty"},
		"unknown property": {mod(func(b map[string]any) { b["colour"] = "red" }), "ErrorInvalidRequest"},
		"recurring event":  {mod(func(b map[string]any) { b["recurrence"] = map[string]any{"pattern": map[string]any{}} }), "ErrorInvalidRequest"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := h.do("POST", "/v1.0/me/events", tc.body)
			if r.status != 400 || r.errCode() != tc.code {
				t.Errorf("got %d %s, want 400 %s; %s", r.status, r.errCode(), tc.code, r.raw)
			}
		})
	}
	expectError(t, h.do("POST", "/v1.0/me/events", eventBody("X", "", start, "UTC"), "Prefer", `outlook.timezone="Nowhere"`), 400, "TimeZoneNotSupportedException")
	if n := len(h.sim.State().Events); n != 0 {
		t.Errorf("rejected requests created %d events", n)
	}
}

func TestMailboxAccess(t *testing.T) {
	h := newHarness(t, Options{})
	start := time.Date(2025, 3, 12, 14, 0, 0, 0, time.UTC)
	h.token, _ = h.sim.IssueToken(carolID, guideScopes)
	expectError(t, h.do("POST", "/v1.0/me/events", eventBody("X", "", start, "UTC")), 404, "MailboxNotEnabledForRESTAPI")
	expectError(t, h.do("GET", "/v1.0/me/outlook/supportedTimeZones", nil), 404, "MailboxNotEnabledForRESTAPI")
	h.sim.SetMailbox(carolID, true)
	expectStatus(t, h.do("POST", "/v1.0/me/events", eventBody("X", "", start, "UTC")), 201)
	h.sim.SetFaults(Faults{NoMailboxUserIDs: []string{carolID}})
	expectError(t, h.do("GET", "/v1.0/me/calendar", nil), 404, "MailboxNotEnabledForRESTAPI")

	// A delegated token reaches only its own mailbox; an app token reaches any.
	expectError(t, h.do("GET", "/v1.0/users/"+aliceID+"/events", nil), 403, "ErrorAccessDenied")
	h.token, _ = h.sim.IssueToken("", nil)
	expectStatus(t, h.do("GET", "/v1.0/users/"+aliceID+"/events", nil), 200)
	expectError(t, h.do("GET", "/v1.0/users/nobody@school.example/events", nil), 404, "ErrorInvalidUser")
}

func TestMeetingFaults(t *testing.T) {
	h := newHarness(t, Options{Faults: Faults{JoinURLAfterGets: 2}})
	start := time.Date(2025, 3, 12, 14, 0, 0, 0, time.UTC)
	r := h.do("POST", "/v1.0/me/events", eventBody("Late link", "tx-late", start, "UTC"))
	expectStatus(t, r, 201)
	if r.json["onlineMeeting"] != nil || r.json["isOnlineMeeting"] != true {
		t.Fatalf("created with the late-link fault: %s", r.raw)
	}
	id := r.str("id")
	if g := h.do("GET", "/v1.0/me/events/"+id, nil); g.json["onlineMeeting"] != nil {
		t.Errorf("first GET already has the link")
	}
	if g := h.do("GET", "/v1.0/me/events/"+id+"?$select=onlineMeeting", nil); g.json["onlineMeeting"] == nil {
		t.Errorf("second GET still has no link: %s", g.raw)
	}

	h.sim.SetFaults(Faults{NoTeamsForBusiness: true})
	cal := h.do("GET", "/v1.0/me/calendar?$select=allowedOnlineMeetingProviders,defaultOnlineMeetingProvider", nil)
	if allowed := cal.json["allowedOnlineMeetingProviders"].([]any); len(allowed) != 0 || cal.str("defaultOnlineMeetingProvider") != "unknown" {
		t.Errorf("calendar without Teams = %s", cal.raw)
	}
	r = h.do("POST", "/v1.0/me/events", eventBody("No Teams", "tx-none", start, "UTC"))
	if r.status != 201 || r.json["isOnlineMeeting"] != false || r.str("onlineMeetingProvider") != "unknown" || r.json["onlineMeeting"] != nil {
		t.Errorf("event without Teams: %d %s", r.status, r.raw)
	}
	h.sim.SetFaults(Faults{})
	cal = h.do("GET", "/v1.0/me/calendar?$select=allowedOnlineMeetingProviders", nil)
	if allowed := cal.json["allowedOnlineMeetingProviders"].([]any); len(allowed) != 1 || allowed[0] != "teamsForBusiness" {
		t.Errorf("calendar = %s", cal.raw)
	}
}

func TestCalendarViewAndExtendedProperties(t *testing.T) {
	h := newHarness(t, Options{PageSize: 2})
	base := time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)
	for i := 0; i < 5; i++ {
		expectStatus(t, h.do("POST", "/v1.0/me/events", eventBody("Lecture", "tx-"+string(rune('a'+i)), base.Add(time.Duration(i)*24*time.Hour), "UTC")), 201)
	}
	expectError(t, h.do("GET", "/v1.0/me/calendarView?startDateTime=2025-03-10T00:00:00Z", nil), 400, "ErrorInvalidParameter")

	expand := "singleValueExtendedProperties($filter=id eq '" + markerProp + "')"
	q := url.Values{"startDateTime": {"2025-03-11T00:00:00Z"}, "endDateTime": {"2025-03-14T00:00:00Z"},
		"$select": {"subject,start"}, "$expand": {expand}}
	var txs []string
	for next := "/v1.0/me/calendarView?" + q.Encode(); next != ""; {
		r := h.do("GET", next, nil)
		expectStatus(t, r, 200)
		for _, ev := range r.values() {
			props, _ := ev["singleValueExtendedProperties"].([]any)
			if len(props) != 1 {
				t.Fatalf("expanded properties = %v", ev["singleValueExtendedProperties"])
			}
			p := props[0].(map[string]any)
			if p["id"] != markerProp {
				t.Errorf("property id = %v", p["id"])
			}
			txs = append(txs, p["value"].(string))
			if ev["end"] != nil {
				t.Errorf("$select ignored: %v", ev)
			}
		}
		next = r.str("@odata.nextLink")
	}
	if got := strings.Join(txs, ","); got != "event-tx-b,event-tx-c,event-tx-d" {
		t.Errorf("calendarView window = %s", got)
	}
	r := h.do("GET", "/v1.0/me/calendarView?startDateTime=2025-03-10T00:00:00Z&endDateTime=2025-03-20T00:00:00Z&$top=10&$expand="+url.QueryEscape("singleValueExtendedProperties($filter=id eq 'String {00000000-0000-0000-0000-000000000000} Name Other')"), nil)
	for _, ev := range r.values() {
		if props := ev["singleValueExtendedProperties"].([]any); len(props) != 0 {
			t.Errorf("filtered expand returned %v", props)
		}
	}
	if len(r.values()) != 5 {
		t.Errorf("$top=10 page has %d events", len(r.values()))
	}

	f := "singleValueExtendedProperties/Any(ep: ep/id eq '" + markerProp + "' and ep/value eq 'event-tx-c')"
	got := h.do("GET", "/v1.0/me/events?$filter="+url.QueryEscape(f), nil).values()
	if len(got) != 1 || got[0]["transactionId"] != "tx-c" {
		t.Errorf("filter by extended property = %v", got)
	}
	expectError(t, h.do("GET", "/v1.0/me/events?$filter="+url.QueryEscape("colour eq 'red'"), nil), 400, "ErrorInvalidUrlQueryFilter")
}

func TestSupportedTimeZones(t *testing.T) {
	h := newHarness(t, Options{})
	r := h.do("GET", "/v1.0/me/outlook/supportedTimeZones", nil)
	expectStatus(t, r, 200)
	if !strings.HasSuffix(r.str("@odata.context"), "#Collection(microsoft.graph.timeZoneInformation)") {
		t.Errorf("context = %q", r.str("@odata.context"))
	}
	windows := map[string]string{}
	for _, z := range r.values() {
		windows[z["alias"].(string)] = z["displayName"].(string)
	}
	if len(windows) < 130 || windows["Pacific Standard Time"] != "(UTC-08:00) Pacific Time (US & Canada)" || windows["Dateline Standard Time"] != "(UTC-12:00) International Date Line West" {
		t.Errorf("Windows list has %d zones; Pacific = %q", len(windows), windows["Pacific Standard Time"])
	}
	r = h.do("GET", "/v1.0/me/outlook/supportedTimeZones(TimeZoneStandard=microsoft.graph.timeZoneStandard'Iana')", nil)
	expectStatus(t, r, 200)
	iana := r.values()
	found := false
	for _, z := range iana {
		if z["alias"] != z["displayName"] {
			t.Fatalf("IANA entry %v: alias != displayName", z)
		}
		if z["alias"] == "America/Toronto" {
			found = true
		}
	}
	if len(iana) < 400 || !found {
		t.Errorf("IANA list has %d zones, America/Toronto found: %v", len(iana), found)
	}
	expectStatus(t, h.do("GET", "/v1.0/users/"+adminID+"/outlook/supportedTimeZones(TimeZoneStandard=microsoft.graph.timeZoneStandard'Windows')", nil), 200)
	expectError(t, h.do("GET", "/v1.0/me/outlook/supportedTimeZones(TimeZoneStandard=microsoft.graph.timeZoneStandard'Posix')", nil), 400, "ErrorInvalidParameter")
}

func TestZoneTables(t *testing.T) {
	seen := map[string]bool{}
	for _, z := range windowsZones {
		if seen[z.ID] {
			t.Errorf("Windows zone %q listed twice", z.ID)
		}
		seen[z.ID] = true
		if _, err := time.LoadLocation(z.IANA); err != nil {
			t.Errorf("%s maps to %s, which does not load: %v", z.ID, z.IANA, err)
		}
		if !strings.HasPrefix(z.DisplayName, "(UTC") {
			t.Errorf("display name %q", z.DisplayName)
		}
	}
	for _, n := range ianaZoneNames() {
		if _, ok := resolveZone(n); !ok {
			t.Errorf("listed IANA zone %s does not resolve", n)
		}
	}
	for name, want := range map[string]string{"utc": "UTC", "eastern standard time": "America/New_York", "europe/berlin": "Europe/Berlin"} {
		loc, ok := resolveZone(name)
		if !ok || loc.String() != want {
			t.Errorf("resolveZone(%q) = %v, %v; want %s", name, loc, ok, want)
		}
	}
}
