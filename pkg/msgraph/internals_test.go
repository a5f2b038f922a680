package msgraph

import (
	"net/http"
	"testing"
	"time"
)

func TestRouteTemplate(t *testing.T) {
	tests := map[string]string{
		"/teams/ee0f5ae2-8bc6-4ae5-8466-7daeebbfa062/members/add":               "/teams/{id}/members/add",
		"/teams/t1/members/ZWUw%2FZjVh+ZTIt==":                                  "/teams/{id}/members/{id}",
		"/teams('a40210cd-0060-4b91-aaa1-a44e0853d979')/operations('d708ecb3')": "/teams/{id}/operations/{id}",
		"/users('$adele@med.example.edu')":                                      "/users/{id}",
		"/users/adele@med.example.edu/events/AAMkADAAABIGYDZAAA=/cancel":        "/users/{id}/events/{id}/cancel",
		"/me/calendarView": "/me/calendarView",
		"/groups/g1/team":  "/groups/{id}/team",
		"/$batch":          "/$batch",
		"/users":           "/users",
		"/me/outlook/supportedTimeZones(TimeZoneStandard=microsoft.graph.timeZoneStandard'Iana')": "/me/outlook/supportedTimeZones(TimeZoneStandard=microsoft.graph.timeZoneStandard'Iana')",
		"/users?$filter=mail eq 'x'": "/users",
	}
	for path, want := range tests {
		if got := routeTemplate(path); got != want {
			t.Errorf("routeTemplate(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestReplayableClassification(t *testing.T) {
	tests := []struct {
		method, path, body string
		want               bool
	}{
		{"GET", "/users", "", true},
		{"PUT", "/groups/g1/team", "{}", true},
		{"PATCH", "/teams/t1", "{}", true},
		{"DELETE", "/teams/t1/members/m1", "", true},
		{"POST", "/groups", "{}", false},
		{"POST", "/teams", "{}", false},
		{"POST", "/teams/t1/members", "{}", false},
		{"POST", "/teams/t1/archive", "", false},
		{"POST", "/teams/t1/members/add", `{"values":[]}`, true},
		{"POST", "/me/events/e1/cancel", "{}", true},
		{"POST", "/me/events", `{"subject":"x","transactionId":"et-1"}`, true},
		{"POST", "/users/u1/events", `{"subject":"x"}`, false},
	}
	for _, tt := range tests {
		if got := replayable(tt.method, tt.path, []byte(tt.body)); got != tt.want {
			t.Errorf("replayable(%s %s %s) = %v, want %v", tt.method, tt.path, tt.body, got, tt.want)
		}
	}
}

func TestMailboxOf(t *testing.T) {
	tests := map[string]string{
		"/me/events":                           "me",
		"/me/calendarView":                     "me",
		"/users/U1/events/e1/cancel":           "u1",
		"/users/u1/outlook/supportedTimeZones": "u1",
		"/users/u1":                            "",
		"/me/joinedTeams":                      "",
		"/teams/t1/members":                    "",
	}
	for path, want := range tests {
		if got := mailboxOf(path); got != want {
			t.Errorf("mailboxOf(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"10", 10 * time.Second, true},
		{"2.128", 2128 * time.Millisecond, true},
		{"Mon, 10 Mar 2025 09:00:30 GMT", 30 * time.Second, true},
		{"Mon, 10 Mar 2025 08:59:00 GMT", 0, true}, // already past: go now
		{"", 0, false},
		{"soon", 0, false},
		{"-3", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestResolveLink(t *testing.T) {
	c := New(Options{BaseURL: "https://graph.example.test/"})
	tests := []struct {
		link, path, query string
		ok                bool
	}{
		{"https://graph.example.test/v1.0/users?$skiptoken=abc", "/users", "$skiptoken=abc", true},
		{"/teams('t1')/operations('o1')", "/teams('t1')/operations('o1')", "", true},
		{"/v1.0/teams('t1')/operations('o1')", "/teams('t1')/operations('o1')", "", true},
		{"https://elsewhere.example.test/v1.0/users?$skiptoken=abc", "", "", false},
		{"https://graph.example.test/beta/users", "", "", false},
		{"http://graph.example.test/v1.0/users", "", "", false},
		{"teams/t1", "", "", false},
	}
	for _, tt := range tests {
		path, q, err := c.resolveLink(tt.link)
		if (err == nil) != tt.ok || path != tt.path || q != tt.query {
			t.Errorf("resolveLink(%q) = %q, %q, %v; want %q, %q, ok=%v", tt.link, path, q, err, tt.path, tt.query, tt.ok)
		}
	}
}

func TestNewAcceptsBaseURLWithVersionAndRejectsGarbage(t *testing.T) {
	c := New(Options{BaseURL: "https://graph.microsoft.com/v1.0/"})
	if got := c.base.String(); got != "https://graph.microsoft.com/v1.0" {
		t.Errorf("base %q", got)
	}
	bad := New(Options{BaseURL: "graph.microsoft.com", TokenSource: staticTokens{testToken}})
	if _, err := bad.send(t.Context(), newRequest(http.MethodGet, "/me", nil)); err == nil {
		t.Error("a base URL without scheme was accepted")
	}
}
