package main

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/elentra-teams/elentra-teams/pkg/msgraph/graphsim"
)

// logEntry is one line of the simulator's request log (GET /_sim/requests):
// a Graph request, an item of a $batch (InBatch), a $batch envelope (Route
// "POST /$batch", logged after its items) or an identity request.
type logEntry struct {
	Method  string          `json:"method"`
	Path    string          `json:"path"`
	Route   string          `json:"route"`
	Status  int             `json:"status"`
	InBatch bool            `json:"inBatch"`
	Body    json.RawMessage `json:"body"`
}

const batchRoute = "POST /$batch"

// isGraph: a Graph call (direct or a $batch item), not an envelope and not
// an identity request.
func (e logEntry) isGraph() bool {
	return strings.HasPrefix(e.Path, "/v1.0/") && e.Route != batchRoute
}

// isHTTP: one HTTP request to Graph, as a client counts them (an envelope
// once, its items not).
func (e logEntry) isHTTP() bool {
	return strings.HasPrefix(e.Path, "/v1.0/") && !e.InBatch
}

// routePath is the template's path: "GET /teams/{id}/members" →
// "/teams/{id}/members".
func (e logEntry) routePath() string {
	_, p, _ := strings.Cut(e.Route, " ")
	return p
}

// param returns the path segment that stands where the route template says
// {name}, lower-cased (ids of Teams and users compare without case), or ""
// when the path does not fit the template.
func (e logEntry) param(name string) string {
	return strings.ToLower(rawParam(e, name))
}

// rawParam returns the path segment of {name} as logged. The simulator logs
// paths unescaped, so an opaque id (a membership's base64, an event's id)
// may hold a "/": the last parameter of the template takes every segment
// between the ones before it and the fixed ones after it.
func rawParam(e logEntry, name string) string {
	tmpl := strings.Split(strings.Trim(e.routePath(), "/"), "/")
	path := strings.Split(strings.Trim(strings.TrimPrefix(e.Path, "/v1.0"), "/"), "/")
	last := -1
	for i, t := range tmpl {
		if strings.HasPrefix(t, "{") {
			last = i
		}
	}
	if last < 0 || len(path) < len(tmpl) {
		return ""
	}
	after := len(tmpl) - 1 - last
	for i, t := range tmpl {
		if t != "{"+name+"}" {
			continue
		}
		if i == last {
			return strings.Join(path[last:len(path)-after], "/")
		}
		return path[i]
	}
	return ""
}

// family is the workload whose limits a call falls under, as Microsoft's
// throttling page groups them and the simulator applies them.
func (e logEntry) family() string {
	p := e.routePath()
	switch {
	case strings.HasPrefix(p, "/teams") || p == "/groups/{id}/team" || strings.HasSuffix(p, "/joinedTeams"):
		return "teams"
	case isMailboxRoute(p):
		return "outlook"
	}
	return "directory"
}

// mailboxRoutes are the Outlook routes below /me and /users/{userId}.
var mailboxRoutes = []string{"/events", "/events/{eventId}", "/events/{eventId}/cancel", "/calendarView", "/calendar", "/outlook/supportedTimeZones"}

func isMailboxRoute(p string) bool {
	rest, ok := strings.CutPrefix(p, "/me")
	if !ok {
		if rest, ok = strings.CutPrefix(p, "/users/{userId}"); !ok {
			return false
		}
	}
	for _, r := range mailboxRoutes {
		if rest == r {
			return true
		}
	}
	return false
}

// bucketRef is one limit a call draws a token from: its name, the scope
// it is kept per, and its rate.
type bucketRef struct {
	name, scope string
	rate        graphsim.Rate
}

// buckets lists the rate limits e draws from, after the table of
// docs/simulator.md (graph-wire.md §7.2). Every call comes from one app in
// one tenant, so "per app and tenant" is one scope.
func buckets(e logEntry, l graphsim.Limits) []bucketRef {
	var out []bucketRef
	switch e.family() {
	case "teams":
		p := e.routePath()
		var name string
		var r graphsim.Rate
		switch {
		case e.Route == "POST /teams":
			name, r = "TeamCreate", l.TeamCreate
		case e.Route == "PUT /groups/{id}/team":
			name, r = "TeamFromGroup", l.TeamFromGroup
		case e.Route == "GET /teams/{id}" || strings.HasSuffix(p, "/joinedTeams"):
			name, r = "TeamGet", l.TeamGet
		case e.Route == "PATCH /teams/{id}":
			name, r = "TeamPatch", l.TeamPatch
		case e.Route == "GET /teams/{id}/members":
			name, r = "TeamMembersList", l.TeamMembersList
		case e.Method == http.MethodGet:
			name, r = "TeamsOtherGet", l.TeamsOtherGet
		default:
			name, r = "TeamsOther", l.TeamsOther
		}
		out = append(out, bucketRef{name: name, rate: r})
		if team := e.param("id"); team != "" {
			out = append(out, bucketRef{name: "PerTeam", scope: team, rate: l.PerTeam})
		}
	case "outlook":
		out = append(out, bucketRef{name: "MailboxRequests", scope: e.mailbox(), rate: l.MailboxRequests})
	case "directory":
		if e.Method != http.MethodGet {
			out = append(out, bucketRef{name: "DirectoryWrites", rate: l.DirectoryWrites})
		}
	}
	return out
}

// mailbox names the mailbox of an Outlook call: the user id of
// /users/{userId}/…, or "me".
func (e logEntry) mailbox() string {
	if id := e.param("userId"); id != "" {
		return id
	}
	return "me"
}

// Bound is the least time Microsoft's limits and the network's latency
// allow for a piece of work, in Microsoft's time (unscaled seconds), and the
// term that sets it.
type Bound struct {
	Seconds float64 `json:"seconds"`
	By      string  `json:"by"`
}

// Work is what a command asked of Graph, read from the simulator's log: the
// calls that were served (a throttled call draws no token and does no
// work), counted per limit, and the dependent round trips it needed.
type Work struct {
	// Tokens counts served calls per limit and scope ("TeamFromGroup",
	// "PerTeam 1a2b…").
	Tokens map[string]int
	// MailboxRequests counts the Outlook requests sent on their own per
	// mailbox: each holds one of the mailbox's concurrent slots for a
	// round trip. (The simulator runs a $batch's items inside the one round
	// trip of the envelope and takes no slot for them.)
	MailboxRequests map[string]int
	// Depth is the number of round trips that must follow one another
	// (see depth).
	Depth int

	rates map[string]graphsim.Rate
}

// measure reads the work of a command from its log entries.
func measure(entries []logEntry, l graphsim.Limits) Work {
	w := Work{Tokens: map[string]int{}, MailboxRequests: map[string]int{}, rates: map[string]graphsim.Rate{}}
	for _, e := range entries {
		if !e.isGraph() || e.Status == http.StatusTooManyRequests {
			continue
		}
		for _, b := range buckets(e, l) {
			key := strings.TrimSpace(b.name + " " + b.scope)
			w.Tokens[key]++
			w.rates[key] = b.rate
		}
		if e.family() == "outlook" && !e.InBatch {
			w.MailboxRequests[e.mailbox()]++
		}
	}
	w.Depth = depth(entries)
	return w
}

// depth counts the round trips of a command that cannot overlap, because
// each needs the answer of the one before: every page of a directory
// listing (a page's link comes with the page before), one for the other
// reads a plan is made from, one for creating groups, one for making them
// Teams, one for the other writes.
func depth(entries []logEntry) int {
	var userPages, reads, groupCreates, teamify, writes bool
	pages := 0
	for _, e := range entries {
		if !e.isGraph() || e.Status == http.StatusTooManyRequests {
			continue
		}
		switch {
		case e.Route == "GET /users" && !e.InBatch:
			userPages = true
			pages++
		case e.Method == http.MethodGet:
			reads = true
		case e.Route == "POST /groups":
			groupCreates = true
		case e.Route == "PUT /groups/{id}/team":
			teamify = true
		default:
			writes = true
		}
	}
	d := 0
	if userPages {
		d += pages
	}
	for _, b := range []bool{reads, groupCreates, teamify, writes} {
		if b {
			d++
		}
	}
	return d
}

// lowerBound is the least time the work can take under the limits l with
// the round-trip latency given (Microsoft's time), taking the largest of:
//   - per rate limit of R requests per window P, kept as a bucket that
//     starts full: a call beyond the first R waits for a refill, so n calls
//     need (n − R) × P / R, and the last one's answer a round trip more;
//   - per mailbox: at most 4 requests in flight, each for a round trip, so h
//     requests need ⌈h / 4⌉ round trips;
//   - the dependent round trips: depth × latency.
func lowerBound(w Work, l graphsim.Limits, latency time.Duration) Bound {
	lat := latency.Seconds()
	b := Bound{}
	if w.Depth > 0 {
		b = Bound{Seconds: float64(w.Depth) * lat, By: fmt.Sprintf("latency × %d round trips", w.Depth)}
	}
	keys := make([]string, 0, len(w.Tokens))
	for k := range w.Tokens {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		n, r := w.Tokens[k], w.rates[k]
		if n == 0 || r.Requests <= 0 {
			continue
		}
		t := float64(max(0, n-r.Requests))*r.Per.Seconds()/float64(r.Requests) + lat
		if t > b.Seconds {
			b = Bound{Seconds: t, By: fmt.Sprintf("%s: %d calls at %d per %s", limitName(k), n, r.Requests, r.Per)}
		}
	}
	slots := l.MailboxConcurrency
	if slots <= 0 {
		slots = graphsim.DefaultLimits().MailboxConcurrency
	}
	mailboxes := make([]string, 0, len(w.MailboxRequests))
	for m := range w.MailboxRequests {
		mailboxes = append(mailboxes, m)
	}
	sort.Strings(mailboxes)
	for _, m := range mailboxes {
		h := w.MailboxRequests[m]
		t := math.Ceil(float64(h)/float64(slots)) * lat
		if t > b.Seconds {
			b = Bound{Seconds: t, By: fmt.Sprintf("mailbox concurrency: %d requests, %d at a time", h, slots)}
		}
	}
	return b
}

// limitName is a bucket key without its scope, except that a per-team
// bucket says it is the busiest Team's.
func limitName(key string) string {
	name, scope, _ := strings.Cut(key, " ")
	if name == "PerTeam" && scope != "" {
		return "PerTeam (busiest Team)"
	}
	return name
}
