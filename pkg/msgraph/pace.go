package msgraph

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Microsoft's documented limits for the Teams and directory calls this
// client makes (graph-wire.md §7.2; Microsoft Learn "Microsoft Graph
// service-specific throttling limits"), per app and tenant unless said.
// The client paces itself under them, so that a large run is slowed by a
// few milliseconds per request rather than answered 429 and re-sent.
var paceLimits = map[string]paceLimit{
	"TeamCreate":      {requests: 10, per: time.Second},         // POST /teams
	"TeamFromGroup":   {requests: 6, per: time.Second},          // PUT /groups/{id}/team
	"TeamGet":         {requests: 30, per: time.Second},         // GET /teams/{id}, joinedTeams
	"TeamPatch":       {requests: 30, per: time.Second},         // PATCH /teams/{id}
	"TeamMembersList": {requests: 60, per: time.Second},         // GET /teams/{id}/members
	"TeamsOtherGet":   {requests: 30, per: time.Second},         // other Teams GETs
	"TeamsOther":      {requests: 30, per: time.Second},         // other Teams calls: members add, remove, roles, archive
	"PerTeam":         {requests: 4, per: time.Second},          // every call naming one team
	"DirectoryWrites": {requests: 3000, per: 150 * time.Second}, // POST, PATCH, DELETE /groups…
}

// paceLimit is a rate of requests per window; Microsoft keeps each as a
// bucket of that many requests refilled over the window.
type paceLimit struct {
	requests int
	per      time.Duration
}

// paceKey names one bucket: a limit and, for PerTeam, the team.
type paceKey struct {
	limit, scope string
}

// paceKeys lists the limits a call (method and escaped path below /v1.0,
// query allowed) counts against. A $batch itself counts against nothing:
// Microsoft counts its items, which roundTrip paces one by one.
func paceKeys(method, escapedPath string) []paceKey {
	p := pathOnly(escapedPath)
	segs := strings.Split(strings.Trim(p, "/"), "/")
	team := ""
	var limit string
	switch {
	case len(segs) >= 1 && segs[0] == "teams":
		if len(segs) >= 2 {
			team = segs[1]
		}
		switch {
		case len(segs) == 1 && method == http.MethodPost:
			limit = "TeamCreate"
		case len(segs) == 2 && method == http.MethodGet:
			limit = "TeamGet"
		case len(segs) == 2 && method == http.MethodPatch:
			limit = "TeamPatch"
		case len(segs) == 3 && segs[2] == "members" && method == http.MethodGet:
			limit = "TeamMembersList"
		case method == http.MethodGet:
			limit = "TeamsOtherGet"
		default:
			limit = "TeamsOther"
		}
	case len(segs) == 3 && segs[0] == "groups" && segs[2] == "team" && method == http.MethodPut:
		limit, team = "TeamFromGroup", segs[1]
	case len(segs) >= 1 && segs[len(segs)-1] == "joinedTeams":
		limit = "TeamGet"
	case len(segs) >= 1 && segs[0] == "groups" && method != http.MethodGet:
		limit = "DirectoryWrites"
	default:
		return nil
	}
	keys := []paceKey{{limit: limit}}
	if team != "" {
		if id, err := url.PathUnescape(team); err == nil {
			team = id
		}
		keys = append(keys, paceKey{limit: "PerTeam", scope: strings.ToLower(team)})
	}
	return keys
}

// paceKeys of a request: its own, or for a $batch those of every item.
func (r *request) paceKeys() []paceKey {
	if r.path != "/$batch" {
		return paceKeys(r.method, r.path)
	}
	var in struct {
		Requests []struct {
			Method string `json:"method"`
			URL    string `json:"url"`
		} `json:"requests"`
	}
	if json.Unmarshal(r.body, &in) != nil {
		return nil
	}
	var keys []paceKey
	for _, item := range in.Requests {
		keys = append(keys, paceKeys(strings.ToUpper(item.Method), item.URL)...)
	}
	return keys
}

// pacer keeps one token bucket per paceKey. It holds half of Microsoft's
// bucket and refills at Microsoft's rate: a burst leaves the service's
// bucket half full, which absorbs requests that arrive closer together
// than they were sent, and the steady rate is the documented one.
type pacer struct {
	mu      sync.Mutex
	buckets map[paceKey]*paceBucket
}

type paceBucket struct {
	tokens float64 // may go negative: requests already promised a slot
	last   time.Time
}

// reserve takes a token from the bucket of each key (a key listed n times
// takes n) and returns how long the caller must wait before sending: the
// longest wait among the buckets that ran short. Reservations queue, as the
// service's refills do.
func (p *pacer) reserve(now time.Time, keys []paceKey) time.Duration {
	if len(keys) == 0 {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.buckets == nil {
		p.buckets = map[paceKey]*paceBucket{}
	}
	var wait time.Duration
	for _, k := range keys {
		l := paceLimits[k.limit]
		capacity := float64(l.requests) / 2
		rate := float64(l.requests) / l.per.Seconds()
		b := p.buckets[k]
		if b == nil {
			b = &paceBucket{tokens: capacity, last: now}
			p.buckets[k] = b
		}
		if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
			b.tokens = min(capacity, b.tokens+elapsed*rate)
			b.last = now
		}
		b.tokens--
		if b.tokens < 0 {
			wait = max(wait, time.Duration(-b.tokens/rate*float64(time.Second)))
		}
	}
	return wait
}

// pace waits until req may be sent without going over Microsoft's limits.
func (c *Client) pace(ctx context.Context, req *request) error {
	if c.opts.NoPacing {
		return nil
	}
	if wait := c.pacer.reserve(c.now(), req.paceKeys()); wait > 0 {
		return c.opts.Sleep(ctx, wait)
	}
	return nil
}
