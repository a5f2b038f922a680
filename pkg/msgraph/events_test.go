package msgraph

import (
	"context"
	"strings"
	"testing"
	"time"
)

const markerID = "String {66f5a359-4659-4830-9070-00047ec6ac6e} Name ElentraTeamsKey"

const createdEventReply = `{
  "@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users('64339082-ed84-4b0b-b4ab-004ae54f3747')/events/$entity",
  "@odata.etag":"W/\"NEXywgsVrkeNsFsyVyRrtAAASBUEsA==\"",
  "id":"AAMkADAAABIGYDZAAA=","changeKey":"NEXywgsVrkeNsFsyVyRrtAAASBUEsA==",
  "originalStartTimeZone":"Pacific Standard Time","originalEndTimeZone":"Pacific Standard Time",
  "subject":"Prep for customer meeting","isCancelled":false,"isOrganizer":true,"type":"singleInstance",
  "webLink":"https://outlook.office365.com/owa/?itemid=AAMkADAABIGYDZAAA%3D&exvsurl=1&path=/calendar/item",
  "onlineMeetingUrl":null,"isOnlineMeeting":true,"onlineMeetingProvider":"teamsForBusiness",
  "transactionId":"et-ev-42-1",
  "start":{"dateTime":"2019-11-20T13:00:00.0000000","timeZone":"Pacific Standard Time"},
  "end":{"dateTime":"2019-11-20T14:00:00.0000000","timeZone":"Pacific Standard Time"},
  "organizer":{"emailAddress":{"name":"Alex Wilber","address":"AlexW@contoso.OnMicrosoft.com"}},
  "onlineMeeting":{"joinUrl":"https://teams.microsoft.com/l/meetup-join/19%3ameeting_ODkyNWFmNGYtZjBjYS00MDdlLTllOWQtN2E3MzJlNjM0ZWRj%40thread.v2/0","conferenceId":"291633251","tollNumber":"+1 323-555-0166"}
}`

func TestCreateEventSendsMeetingWithMarkerAndPreferZone(t *testing.T) {
	stub := newStub(t,
		step{method: "POST", path: "/me/events", status: 201, reply: createdEventReply,
			header: map[string]string{"Prefer": `outlook.timezone="Pacific Standard Time"`},
			body: `{"subject":"Prep for customer meeting",
				"body":{"contentType":"HTML","content":"Does this time work for you?"},
				"start":{"dateTime":"2019-11-20T13:00:00","timeZone":"Pacific Standard Time"},
				"end":{"dateTime":"2019-11-20T14:00:00","timeZone":"Pacific Standard Time"},
				"location":{"displayName":"Cordova conference room"},
				"attendees":[{"emailAddress":{"address":"AdeleV@contoso.OnMicrosoft.com","name":"Adele Vance"},"type":"required"}],
				"isOnlineMeeting":true,"onlineMeetingProvider":"teamsForBusiness",
				"transactionId":"et-ev-42-1",
				"singleValueExtendedProperties":[{"id":"String {66f5a359-4659-4830-9070-00047ec6ac6e} Name ElentraTeamsKey","value":"event:42"}]}`},
	)
	c := newTestClient(stub.srv, newFakeClock(), nil)
	online := true
	ev, err := c.CreateEvent(context.Background(), "me", EventInput{
		Subject:               "Prep for customer meeting",
		Body:                  &ItemBody{ContentType: "HTML", Content: "Does this time work for you?"},
		Start:                 &DateTimeTimeZone{DateTime: "2019-11-20T13:00:00", TimeZone: "Pacific Standard Time"},
		End:                   &DateTimeTimeZone{DateTime: "2019-11-20T14:00:00", TimeZone: "Pacific Standard Time"},
		Location:              &Location{DisplayName: "Cordova conference room"},
		Attendees:             []Attendee{{EmailAddress: EmailAddress{Address: "AdeleV@contoso.OnMicrosoft.com", Name: "Adele Vance"}, Type: "required"}},
		IsOnlineMeeting:       &online,
		OnlineMeetingProvider: "teamsForBusiness",
		TransactionID:         "et-ev-42-1",
		SingleValueExtendedProperties: []SingleValueExtendedProperty{
			{ID: markerID, Value: "event:42"},
		},
		ResponseTimeZone: "Pacific Standard Time",
	})
	if err != nil {
		t.Fatalf("CreateEvent: %v", err)
	}
	if ev.ID != "AAMkADAAABIGYDZAAA=" || !ev.IsOnlineMeeting || ev.TransactionID != "et-ev-42-1" {
		t.Errorf("event = %+v", ev)
	}
	if !strings.HasPrefix(ev.JoinURL(), "https://teams.microsoft.com/l/meetup-join/") {
		t.Errorf("join url %q", ev.JoinURL())
	}
	start, err := ev.Start.Time()
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	if want := time.Date(2019, 11, 20, 21, 0, 0, 0, time.UTC); !start.Equal(want) {
		t.Errorf("start %v, want %v (13:00 Pacific)", start.UTC(), want)
	}
}

func TestUpdateEventSendsOnlyWhatChanges(t *testing.T) {
	stub := newStub(t,
		step{method: "PATCH", path: "/users/u1/events/AAMkAD%2Fx=", status: 200,
			body:  `{"subject":"MED101: Lecture 2 (moved)","attendees":[]}`,
			reply: `{"id":"AAMkAD/x=","subject":"MED101: Lecture 2 (moved)"}`},
		step{method: "PATCH", path: "/users/u1/events/AAMkAD%2Fx=", status: 200,
			body:  `{"isOnlineMeeting":true,"onlineMeetingProvider":"teamsForBusiness"}`,
			reply: `{"id":"AAMkAD/x=","isOnlineMeeting":true,"onlineMeeting":{"joinUrl":"https://teams.microsoft.com/l/meetup-join/abc"}}`},
	)
	c := newTestClient(stub.srv, newFakeClock(), nil)
	ctx := context.Background()
	ev, err := c.UpdateEvent(ctx, "u1", "AAMkAD/x=", EventInput{Subject: "MED101: Lecture 2 (moved)", Attendees: []Attendee{}})
	if err != nil || ev.Subject != "MED101: Lecture 2 (moved)" {
		t.Fatalf("UpdateEvent = %+v, %v", ev, err)
	}
	online := true
	ev, err = c.UpdateEvent(ctx, "u1", "AAMkAD/x=", EventInput{IsOnlineMeeting: &online, OnlineMeetingProvider: "teamsForBusiness"})
	if err != nil || ev.JoinURL() == "" {
		t.Fatalf("UpdateEvent = %+v, %v", ev, err)
	}
}

func TestCancelAndDeleteEvent(t *testing.T) {
	stub := newStub(t,
		step{method: "POST", path: "/me/events/ev1/cancel", body: `{"Comment":"Cancelled in Elentra"}`, status: 202},
		step{method: "POST", path: "/me/events/ev2/cancel", body: `{}`, status: 202},
		step{method: "GET", path: "/me/events/ev1", status: 404,
			reply: `{"error":{"code":"ErrorItemNotFound","message":"The specified object was not found in the store."}}`},
		step{method: "DELETE", path: "/users/u1/events/ev3", status: 204},
	)
	c := newTestClient(stub.srv, newFakeClock(), nil)
	ctx := context.Background()
	if err := c.CancelEvent(ctx, "me", "ev1", "Cancelled in Elentra"); err != nil {
		t.Fatalf("CancelEvent: %v", err)
	}
	if err := c.CancelEvent(ctx, "", "ev2", ""); err != nil {
		t.Fatalf("CancelEvent without comment: %v", err)
	}
	if _, err := c.GetEvent(ctx, "me", "ev1", EventOptions{}); !IsNotFound(err) || !HasCode(err, "ErrorItemNotFound") {
		t.Fatalf("GetEvent after cancel: %v, want ErrorItemNotFound", err)
	}
	if err := c.DeleteEvent(ctx, "u1", "ev3"); err != nil {
		t.Fatalf("DeleteEvent: %v", err)
	}
	if got := c.Stats().ByRoute["POST /me/events/{id}/cancel"]; got != 2 {
		t.Errorf("cancel route counted %d, want 2", got)
	}
}

func TestGetEventWithSelectExpandAndZone(t *testing.T) {
	stub := newStub(t,
		step{method: "GET", path: "/users/u1/events/ev1",
			query:  vals("$select", "id,subject,start,end,onlineMeeting", "$expand", "singleValueExtendedProperties($filter=id eq '"+markerID+"')"),
			header: map[string]string{"Prefer": `outlook.timezone="America/Toronto"`},
			status: 200,
			reply: `{"id":"ev1","subject":"S","start":{"dateTime":"2025-03-10T09:00:00.0000000","timeZone":"America/Toronto"},
				"singleValueExtendedProperties":[{"id":"String {66F5A359-4659-4830-9070-00047EC6AC6E} Name ElentraTeamsKey","value":"event:42"}]}`},
	)
	c := newTestClient(stub.srv, newFakeClock(), nil)
	ev, err := c.GetEvent(context.Background(), "u1", "ev1", EventOptions{
		Select: []string{"id", "subject", "start", "end", "onlineMeeting"}, ExpandExtendedPropertyID: markerID, TimeZone: "America/Toronto",
	})
	if err != nil {
		t.Fatalf("GetEvent: %v", err)
	}
	if v, ok := ev.ExtendedProperty(markerID); !ok || v != "event:42" {
		t.Errorf("marker = %q, %v; want event:42 (ids compared without case)", v, ok)
	}
	start, err := ev.Start.Time()
	if err != nil || !start.Equal(time.Date(2025, 3, 10, 13, 0, 0, 0, time.UTC)) {
		t.Errorf("start = %v, %v; want 13:00 UTC (09:00 EDT)", start, err)
	}
}

func TestCalendarViewQueryAndPaging(t *testing.T) {
	expand := "singleValueExtendedProperties($filter=id eq '" + markerID + "')"
	stub := newStub(t,
		step{method: "GET", path: "/me/calendarView",
			query: vals("startDateTime", "2025-03-10T00:00:00Z", "endDateTime", "2025-03-24T00:00:00Z",
				"$select", "id,subject,start,end,isCancelled,onlineMeeting", "$expand", expand, "$top", "50"),
			header: map[string]string{"Prefer": `outlook.timezone="UTC"`},
			status: 200,
			reply: `{"value":[{"id":"e1","subject":"A"},{"id":"e2","subject":"B"}],
				"@odata.nextLink":"{base}/v1.0/me/calendarView?startDateTime=2025-03-10T00:00:00Z&endDateTime=2025-03-24T00:00:00Z&$top=50&$skip=50"}`},
		step{method: "GET", path: "/me/calendarView",
			query:  vals("startDateTime", "2025-03-10T00:00:00Z", "endDateTime", "2025-03-24T00:00:00Z", "$top", "50", "$skip", "50"),
			header: map[string]string{"Prefer": `outlook.timezone="UTC"`},
			status: 200, reply: `{"value":[{"id":"e3","subject":"C","isCancelled":true}]}`},
	)
	c := newTestClient(stub.srv, newFakeClock(), nil)
	toronto, _ := time.LoadLocation("America/Toronto")
	start := time.Date(2025, 3, 9, 20, 0, 0, 0, toronto) // 2025-03-10T00:00Z
	events, err := c.CalendarView(context.Background(), "me", start, start.Add(14*24*time.Hour), CalendarViewOptions{
		Select: []string{"id", "subject", "start", "end", "isCancelled", "onlineMeeting"}, ExpandExtendedPropertyID: markerID,
		TimeZone: "UTC", PageSize: 50,
	})
	if err != nil {
		t.Fatalf("CalendarView: %v", err)
	}
	if len(events) != 3 || !events[2].IsCancelled {
		t.Errorf("events = %+v, want 3 with the last cancelled", events)
	}
}

func TestFindEventsByExtendedProperty(t *testing.T) {
	stub := newStub(t,
		step{method: "GET", path: "/users/u1/events",
			query: vals(
				"$filter", "singleValueExtendedProperties/Any(ep: ep/id eq '"+markerID+"' and ep/value eq 'event:O''Neil-42')",
				"$expand", "singleValueExtendedProperties($filter=id eq '"+markerID+"')"),
			status: 200,
			reply:  `{"value":[{"id":"ev9","singleValueExtendedProperties":[{"id":"` + markerID + `","value":"event:O'Neil-42"}]}]}`},
	)
	c := newTestClient(stub.srv, newFakeClock(), nil)
	events, err := c.FindEventsByExtendedProperty(context.Background(), "u1", markerID, "event:O'Neil-42")
	if err != nil || len(events) != 1 || events[0].ID != "ev9" {
		t.Fatalf("FindEventsByExtendedProperty = %+v, %v", events, err)
	}
}

func TestCalendarAndSupportedTimeZones(t *testing.T) {
	stub := newStub(t,
		step{method: "GET", path: "/me/calendar", query: vals("$select", "allowedOnlineMeetingProviders,defaultOnlineMeetingProvider"),
			status: 200, reply: `{"allowedOnlineMeetingProviders":["teamsForBusiness","skypeForBusiness"],"defaultOnlineMeetingProvider":"teamsForBusiness"}`},
		step{method: "GET", path: "/me/outlook/supportedTimeZones", status: 200,
			reply: `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#Collection(microsoft.graph.timeZoneInformation)","value":[
				{"alias":"Dateline Standard Time","displayName":"(UTC-12:00) International Date Line West"},
				{"alias":"Samoa Standard Time","displayName":"(UTC+13:00) Samoa"},
				{"alias":"UTC-11","displayName":"(UTC-11:00) Coordinated Universal Time-11"},
				{"alias":"Aleutian Standard Time","displayName":"(UTC-10:00) Aleutian Islands"}]}`},
		step{method: "GET", path: "/users/u1/outlook/supportedTimeZones(TimeZoneStandard=microsoft.graph.timeZoneStandard'Iana')", status: 200,
			reply: `{"value":[{"alias":"Etc/GMT+12","displayName":"Etc/GMT+12"},{"alias":"US/Samoa","displayName":"US/Samoa"}]}`},
	)
	c := newTestClient(stub.srv, newFakeClock(), nil)
	ctx := context.Background()
	cal, err := c.GetCalendar(ctx, "me")
	if err != nil || !cal.AllowsTeamsMeetings() || cal.DefaultOnlineMeetingProvider != "teamsForBusiness" {
		t.Fatalf("GetCalendar = %+v, %v", cal, err)
	}
	windows, err := c.SupportedTimeZones(ctx, "me", "Windows")
	if err != nil || len(windows) != 4 || windows[1].Alias != "Samoa Standard Time" {
		t.Fatalf("Windows zones = %+v, %v", windows, err)
	}
	iana, err := c.SupportedTimeZones(ctx, "u1", "Iana")
	if err != nil || len(iana) != 2 || iana[0].Alias != "Etc/GMT+12" {
		t.Fatalf("IANA zones = %+v, %v", iana, err)
	}
	if _, err := c.SupportedTimeZones(ctx, "me", "Olson"); err == nil {
		t.Error("an unknown standard was accepted")
	}
	if (Calendar{AllowedOnlineMeetingProviders: []string{"skypeForBusiness"}}).AllowsTeamsMeetings() {
		t.Error("a calendar without teamsForBusiness allows Teams meetings")
	}
}

func TestDateTimeTimeZoneTime(t *testing.T) {
	tests := []struct {
		in      DateTimeTimeZone
		want    time.Time
		wantErr string
	}{
		{DateTimeTimeZone{"2019-11-20T13:00:00.0000000", "Pacific Standard Time"}, time.Date(2019, 11, 20, 21, 0, 0, 0, time.UTC), ""},
		{DateTimeTimeZone{"2025-07-01T09:30:00.0000000", "W. Europe Standard Time"}, time.Date(2025, 7, 1, 7, 30, 0, 0, time.UTC), ""},
		{DateTimeTimeZone{"2025-07-01T09:30:00.0000000", "Europe/Berlin"}, time.Date(2025, 7, 1, 7, 30, 0, 0, time.UTC), ""},
		{DateTimeTimeZone{"2025-01-15T08:00:00.1234567", "UTC"}, time.Date(2025, 1, 15, 8, 0, 0, 123456700, time.UTC), ""},
		{DateTimeTimeZone{"2025-01-15T08:00:00", "Eastern Standard Time"}, time.Date(2025, 1, 15, 13, 0, 0, 0, time.UTC), ""},
		{DateTimeTimeZone{"2025-01-15T08:00:00", "Mars Standard Time"}, time.Time{}, `unknown time zone "Mars Standard Time"`},
		{DateTimeTimeZone{"2025-01-15T08:00:00", ""}, time.Time{}, "empty time zone"},
		{DateTimeTimeZone{"15/01/2025 08:00", "UTC"}, time.Time{}, "dateTime"},
	}
	for _, tt := range tests {
		got, err := tt.in.Time()
		switch {
		case tt.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%+v: err = %v, want %q", tt.in, err, tt.wantErr)
			}
		case err != nil:
			t.Errorf("%+v: %v", tt.in, err)
		case !got.Equal(tt.want):
			t.Errorf("%+v = %v, want %v", tt.in, got.UTC(), tt.want)
		}
	}
}

func TestNewDateTimeTimeZoneRoundTrips(t *testing.T) {
	// The evening before Europe leaves summer time: still summer time in
	// London. (The repeated hour after it has no unique reading at all.)
	instant := time.Date(2025, 10, 25, 23, 30, 0, 0, time.UTC)
	for _, zone := range []string{"UTC", "GMT Standard Time", "America/Edmonton", "AUS Eastern Standard Time"} {
		d, err := NewDateTimeTimeZone(instant, zone)
		if err != nil {
			t.Fatalf("%s: %v", zone, err)
		}
		back, err := d.Time()
		if err != nil || !back.Equal(instant) {
			t.Errorf("%s: %+v reads back as %v, %v", zone, d, back, err)
		}
	}
	if d, _ := NewDateTimeTimeZone(instant, "GMT Standard Time"); d.DateTime != "2025-10-26T00:30:00" {
		t.Errorf("London wall clock %q, want 2025-10-26T00:30:00 (BST)", d.DateTime)
	}
}

func TestEveryMappedWindowsZoneLoads(t *testing.T) {
	for windows, iana := range windowsZones {
		if _, err := time.LoadLocation(iana); err != nil {
			t.Errorf("%s → %s: %v", windows, iana, err)
		}
	}
	if iana, ok := WindowsZoneToIANA("eastern standard time"); !ok || iana != "America/New_York" {
		t.Errorf("case-insensitive lookup = %q, %v", iana, ok)
	}
	// Exchange still offers these legacy ids ("(UTC-02:00) Mid-Atlantic - Old").
	for _, legacy := range []string{"Mid-Atlantic Standard Time", "Kamchatka Standard Time"} {
		if _, err := LoadZone(legacy); err != nil {
			t.Errorf("LoadZone(%q): %v", legacy, err)
		}
	}
}
