package msgraph

import (
	"maps"
	"net/url"
	"strings"
)

// Stats counts what a client sent and what came back, for the run report
// and benchmarks.
type Stats struct {
	Requests   int            // HTTP requests sent, retries included
	ByRoute    map[string]int // per route template, e.g. "POST /teams/{id}/members/add"
	ByStatus   map[int]int    // per HTTP status; 0 counts sends that got no answer
	Throttled  int            // 429 answers, batch items answered 429 included
	Retries    int            // re-sends of requests and of batch items
	BatchItems int            // requests carried inside $batch, re-sent items included
}

func newStats() Stats {
	return Stats{ByRoute: map[string]int{}, ByStatus: map[int]int{}}
}

// Stats returns a copy of the counters so far.
func (c *Client) Stats() Stats {
	c.statsMu.Lock()
	defer c.statsMu.Unlock()
	s := c.stats
	s.ByRoute = maps.Clone(c.stats.ByRoute)
	s.ByStatus = maps.Clone(c.stats.ByStatus)
	return s
}

func (c *Client) countResponse(method, route string, status int) {
	c.statsMu.Lock()
	defer c.statsMu.Unlock()
	c.stats.Requests++
	c.stats.ByRoute[method+" "+route]++
	c.stats.ByStatus[status]++
	if status == 429 {
		c.stats.Throttled++
	}
}

func (c *Client) countRetry() {
	c.statsMu.Lock()
	c.stats.Retries++
	c.statsMu.Unlock()
}

// countBatchItems records n items sent inside a $batch, throttled of which
// were answered 429.
func (c *Client) countBatchItems(n, throttled int) {
	c.statsMu.Lock()
	c.stats.BatchItems += n
	c.stats.Throttled += throttled
	c.statsMu.Unlock()
}

func (c *Client) countBatchRetries(n int) {
	c.statsMu.Lock()
	c.stats.Retries += n
	c.statsMu.Unlock()
}

// staticSegments are the path words of the routes this client uses; every
// other segment is an id (GUID, UPN, opaque event or membership id).
var staticSegments = map[string]bool{
	"me": true, "users": true, "groups": true, "teams": true, "team": true,
	"members": true, "owners": true, "add": true, "operations": true,
	"archive": true, "unarchive": true, "events": true, "cancel": true,
	"calendar": true, "calendars": true, "calendarView": true, "outlook": true,
	"supportedTimeZones": true, "joinedTeams": true, "$batch": true, "$ref": true,
	"mailboxSettings": true, "timeZone": true, "channels": true,
	"onlineMeetings": true, "teamsTemplates": true, "directoryObjects": true,
	"memberOf": true, "instances": true,
}

// routeTemplate turns an escaped path below /v1.0 into its template:
// /teams/abc/members/xyz → /teams/{id}/members/{id}, and the OData key form
// teams('abc') → teams/{id}. Function calls with named parameters
// (supportedTimeZones(TimeZoneStandard=…)) are kept whole: they are few.
func routeTemplate(escapedPath string) string {
	if i := strings.IndexByte(escapedPath, '?'); i >= 0 {
		escapedPath = escapedPath[:i]
	}
	trimmed := strings.Trim(escapedPath, "/")
	if trimmed == "" {
		return "/"
	}
	var out []string
	for _, seg := range strings.Split(trimmed, "/") {
		s, err := url.PathUnescape(seg)
		if err != nil {
			s = seg
		}
		if open := strings.IndexByte(s, '('); open > 0 && strings.HasSuffix(s, ")") {
			name, arg := s[:open], s[open+1:len(s)-1]
			if strings.Contains(arg, "=") {
				out = append(out, s)
			} else {
				out = append(out, name, "{id}")
			}
			continue
		}
		if staticSegments[s] {
			out = append(out, s)
		} else {
			out = append(out, "{id}")
		}
	}
	return "/" + strings.Join(out, "/")
}
