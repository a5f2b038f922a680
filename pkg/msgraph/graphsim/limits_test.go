package graphsim

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// retryAfter reads the Retry-After of a limit's 429 as a duration.
func retryAfter(t *testing.T, r *resp) time.Duration {
	t.Helper()
	secs, err := strconv.ParseFloat(r.header.Get("Retry-After"), 64)
	if err != nil || secs <= 0 {
		t.Fatalf("429 without a usable Retry-After (%q): %s", r.header.Get("Retry-After"), r.raw)
	}
	return time.Duration(secs * float64(time.Second))
}

// teams makes n teams with limits in force, letting the clock run so the
// setup itself is not throttled, then waits until every bucket is full.
func (h *harness) teams(prefix string, n int) []string {
	h.t.Helper()
	var ids []string
	for i := range n {
		ids = append(ids, h.createTeam(fmt.Sprintf("%s-%d", prefix, i)))
		h.clock.Advance(time.Second)
	}
	h.clock.Advance(10 * time.Minute) // the longest default window
	return ids
}

// burst sends n requests at one instant (the clock does not move) and
// returns the statuses and the first 429.
func burst(n int, send func(i int) *resp) (statuses map[int]int, throttled *resp) {
	statuses = map[int]int{}
	for i := range n {
		r := send(i)
		statuses[r.status]++
		if r.status == 429 && throttled == nil {
			throttled = r
		}
	}
	return statuses, throttled
}

func TestLimitsAreOffByDefault(t *testing.T) {
	h := newHarness(t, Options{})
	tid := h.createTeam("OFF-1")
	for i := range 40 {
		if r := h.do("GET", "/v1.0/teams/"+tid, nil); r.status != 200 {
			t.Fatalf("request %d without limits: %d %s", i+1, r.status, r.raw)
		}
	}
	if c := h.sim.Counters(); c.Throttled != 0 {
		t.Errorf("throttled = %d without limits", c.Throttled)
	}
}

// Each documented limit: a burst one above it gets a 429 with a
// Retry-After that, once waited, lets the next request through.
func TestEveryLimitThrottlesTheRequestAboveIt(t *testing.T) {
	tmpl := "https://graph.microsoft.com/v1.0/teamsTemplates('standard')"
	tests := []struct {
		limit string
		n     int // the documented number: n pass, the (n+1)th is throttled
		setup func(h *harness) func(i int) *resp
	}{
		{"TeamCreate", 10, func(h *harness) func(int) *resp {
			return func(i int) *resp {
				return h.do("POST", "/v1.0/teams", map[string]any{"template@odata.bind": tmpl, "displayName": fmt.Sprintf("Burst %d", i)})
			}
		}},
		{"TeamFromGroup", 6, func(h *harness) func(int) *resp {
			var groups []string
			for i := range 8 {
				groups = append(groups, h.createGroup(fmt.Sprintf("PUT-%d", i)))
			}
			return func(i int) *resp { return h.do("PUT", "/v1.0/groups/"+groups[i]+"/team", map[string]any{}) }
		}},
		{"TeamGet", 30, func(h *harness) func(int) *resp {
			ids := h.teams("GET", 8) // 8 teams × 4 per team stay under the per-team limit
			return func(i int) *resp { return h.do("GET", "/v1.0/teams/"+ids[i%8], nil) }
		}},
		{"TeamPatch", 30, func(h *harness) func(int) *resp {
			ids := h.teams("PATCH", 8)
			return func(i int) *resp {
				return h.do("PATCH", "/v1.0/teams/"+ids[i%8], map[string]any{"description": fmt.Sprint(i)})
			}
		}},
		{"TeamMembersList", 60, func(h *harness) func(int) *resp {
			ids := h.teams("MEMBERS", 16)
			return func(i int) *resp { return h.do("GET", "/v1.0/teams/"+ids[i%16]+"/members", nil) }
		}},
		{"TeamsOtherGet", 30, func(h *harness) func(int) *resp {
			ids := h.teams("MEMBER", 8)
			return func(i int) *resp {
				return h.do("GET", "/v1.0/teams/"+ids[i%8]+"/members/"+membershipID(ids[i%8], adminID), nil)
			}
		}},
		{"TeamsOther", 30, func(h *harness) func(int) *resp {
			ids := h.teams("ADD", 8)
			return func(i int) *resp { return h.do("POST", "/v1.0/teams/"+ids[i%8]+"/members", member(aliceID)) }
		}},
		{"PerTeam", 4, func(h *harness) func(int) *resp {
			id := h.teams("ONE", 1)[0]
			return func(int) *resp { return h.do("GET", "/v1.0/teams/"+id, nil) }
		}},
		{"DirectoryWrites", 3000, func(h *harness) func(int) *resp {
			id := h.createGroup("WRITES")
			h.clock.Advance(10 * time.Minute)
			return func(i int) *resp {
				return h.do("PATCH", "/v1.0/groups/"+id, map[string]any{"description": fmt.Sprint(i)})
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.limit, func(t *testing.T) {
			h := newHarness(t, Options{Limits: Limits{Enabled: true}})
			send := tt.setup(h)
			before := h.sim.Counters()
			statuses, throttled := burst(tt.n+1, send)
			if statuses[429] != 1 || throttled == nil {
				t.Fatalf("a burst of %d: statuses %v, want exactly one 429", tt.n+1, statuses)
			}
			if code := throttled.errCode(); code != "TooManyRequests" {
				t.Errorf("429 code = %q, body %s", code, throttled.raw)
			}
			after := h.sim.Counters()
			if got := after.ThrottledByLimit[tt.limit] - before.ThrottledByLimit[tt.limit]; got != 1 {
				t.Errorf("ThrottledByLimit = %v, want one %s", after.ThrottledByLimit, tt.limit)
			}
			if after.Throttled-before.Throttled != 1 {
				t.Errorf("Counters().Throttled grew by %d, want 1", after.Throttled-before.Throttled)
			}
			// The bucket lacks less than a second's refill: Graph rounds the
			// wait up to a whole second.
			wait := retryAfter(t, throttled)
			if wait != time.Second {
				t.Errorf("Retry-After = %v, want 1s", wait)
			}
			h.clock.Advance(wait)
			if r := send(tt.n + 1); r.status == 429 {
				t.Errorf("after waiting Retry-After the request is still throttled: %s", r.raw)
			}
		})
	}
}

func TestDirectoryWriteThrottlingSaysWhichLimit(t *testing.T) {
	h := newHarness(t, Options{Limits: Limits{Enabled: true, DirectoryWrites: Rate{Requests: 2, Per: time.Minute}}})
	h.createGroup("W-1")
	h.createGroup("W-2")
	r := h.do("POST", "/v1.0/groups", map[string]any{"displayName": "W-3", "mailNickname": "W-3",
		"groupTypes": []string{"Unified"}, "mailEnabled": true, "securityEnabled": false})
	expectError(t, r, 429, "TooManyRequests")
	if r.header.Get("x-ms-throttle-information") != "WriteLimitExceeded" ||
		r.header.Get("x-ms-throttle-scope") != "Tenant_Application/Write/"+testClient+"/"+testTenant {
		t.Errorf("throttle headers: scope %q, information %q", r.header.Get("x-ms-throttle-scope"), r.header.Get("x-ms-throttle-information"))
	}
	// 2 per minute: a token every 30 s.
	if got := retryAfter(t, r); got != 30*time.Second {
		t.Errorf("Retry-After = %v, want 30s", got)
	}
	// Reads do not spend the write quota.
	expectStatus(t, h.do("GET", "/v1.0/groups", nil), 200)
	if n := len(h.sim.State().Groups); n != 2 {
		t.Errorf("%d groups, want 2: a throttled write must change nothing", n)
	}
}

func TestOverriddenMailboxRequestRate(t *testing.T) {
	h := newHarness(t, Options{Limits: Limits{Enabled: true, MailboxRequests: Rate{Requests: 5, Per: time.Minute}}})
	statuses, throttled := burst(6, func(int) *resp { return h.do("GET", "/v1.0/me/calendar", nil) })
	if statuses[200] != 5 || throttled == nil {
		t.Fatalf("statuses %v, want 5 answered and one 429", statuses)
	}
	expectError(t, throttled, 429, "ApplicationThrottled")
	if got := retryAfter(t, throttled); got != 12*time.Second {
		t.Errorf("Retry-After = %v, want 12s (a token every 60/5 s)", got)
	}
	// Another mailbox has its own bucket (an app-only token reaches any).
	app, _ := h.sim.IssueToken("", nil)
	h.token = app
	expectStatus(t, h.do("GET", "/v1.0/users/"+aliceID+"/calendar", nil), 200)
	// The same mailbox by UPN shares the admin's bucket.
	expectError(t, h.do("GET", "/v1.0/users/admin@school.example/calendar", nil), 429, "ApplicationThrottled")
	h.clock.Advance(12 * time.Second)
	expectStatus(t, h.do("GET", "/v1.0/users/admin@school.example/calendar", nil), 200)
}

func TestBatchItemsAreCountedOneByOne(t *testing.T) {
	h := newHarness(t, Options{Limits: Limits{Enabled: true}})
	id := h.teams("BATCH", 1)[0]
	var items []map[string]any
	for i := range 6 {
		items = append(items, map[string]any{"id": strconv.Itoa(i + 1), "method": "GET", "url": "/teams/" + id})
	}
	r, statuses, br := h.batch(items)
	expectStatus(t, r, 200)
	// Four requests a second on one team: items 5 and 6 are throttled.
	want := map[string]int{"1": 200, "2": 200, "3": 200, "4": 200, "5": 429, "6": 429}
	for k, v := range want {
		if statuses[k] != v {
			t.Errorf("item %s: %d, want %d", k, statuses[k], v)
		}
	}
	for _, x := range br.Responses {
		if x.Status == 429 && x.Headers["Retry-After"] != "1" {
			t.Errorf("item %s: Retry-After %q, want 1", x.ID, x.Headers["Retry-After"])
		}
	}
	if c := h.sim.Counters(); c.ThrottledByLimit["PerTeam"] != 2 || c.Throttled != 2 {
		t.Errorf("counters: throttled %d, by limit %v", c.Throttled, c.ThrottledByLimit)
	}
}

// TimeScale 10: the same burst, ten times the refill, a tenth of the wait.
func TestTimeScaleKeepsTheShape(t *testing.T) {
	h := newHarness(t, Options{Limits: Limits{Enabled: true}, TimeScale: 10})
	tmpl := "https://graph.microsoft.com/v1.0/teamsTemplates('standard')"
	send := func(i int) *resp {
		return h.do("POST", "/v1.0/teams", map[string]any{"template@odata.bind": tmpl, "displayName": fmt.Sprintf("Scaled %d", i)})
	}
	statuses, throttled := burst(11, send)
	if statuses[202] != 10 || statuses[429] != 1 {
		t.Fatalf("scaled burst: %v, want 10 accepted and one 429 (the burst does not scale)", statuses)
	}
	if got := throttled.header.Get("Retry-After"); got != "0.1" {
		t.Errorf("Retry-After = %q, want 0.1 (1 s / 10)", got)
	}
	h.clock.Advance(100 * time.Millisecond)
	if r := send(11); r.status != 202 {
		t.Errorf("after the scaled wait: %d %s", r.status, r.raw)
	}
	// One simulated second refills the whole burst: 100 per second of clock.
	h.clock.Advance(time.Second)
	statuses, _ = burst(10, func(i int) *resp { return send(100 + i) })
	if statuses[202] != 10 {
		t.Errorf("after a scaled second: %v, want 10 accepted", statuses)
	}
}

func TestResetRefillsTheBuckets(t *testing.T) {
	// Two calls an hour on a team: the PUT that makes it and one GET.
	h := newHarness(t, Options{Limits: Limits{Enabled: true, PerTeam: Rate{Requests: 2, Per: time.Hour}}, AccessTokenLifetime: 24 * time.Hour})
	id := h.createTeam("RESET")
	expectStatus(t, h.do("GET", "/v1.0/teams/"+id, nil), 200)
	expectError(t, h.do("GET", "/v1.0/teams/"+id, nil), 429, "TooManyRequests")
	h.sim.Reset()
	// The same nickname gives the same team id; its bucket starts full again.
	if again := h.createTeam("RESET"); again != id {
		t.Fatalf("team id after reset = %s, want %s", again, id)
	}
	expectStatus(t, h.do("GET", "/v1.0/teams/"+id, nil), 200)
}

// Outlook allows 4 requests of an app in flight on a mailbox; a 5th gets
// ApplicationThrottled at once, other mailboxes are not affected, and the
// slots come back when the requests end.
func TestMailboxConcurrency(t *testing.T) {
	h := newHarness(t, Options{Limits: Limits{Enabled: true}})
	entered := make(chan struct{})
	release := make(chan struct{})
	var holds atomic.Int32
	h.sim.onMailboxHold = func() {
		if holds.Add(1) <= 4 {
			entered <- struct{}{}
			<-release
		}
	}
	var wg sync.WaitGroup
	statuses := make([]int, 4)
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = h.do("GET", "/v1.0/me/calendar", nil).status
		}()
	}
	for range 4 {
		<-entered
	}

	r := h.do("GET", "/v1.0/me/events", nil)
	expectError(t, r, 429, "ApplicationThrottled")
	if msg, _ := r.json["error"].(map[string]any)["message"].(string); msg != "Application is over its MailboxConcurrency limit." {
		t.Errorf("message = %q", msg)
	}
	if r.header.Get("Retry-After") == "" {
		t.Errorf("no Retry-After on the concurrency 429")
	}
	// A batch item aimed at the busy mailbox is gated the same way.
	_, items, _ := h.batch([]map[string]any{{"id": "1", "method": "GET", "url": "/me/calendar"}, {"id": "2", "method": "GET", "url": "/me"}})
	if items["1"] != 429 || items["2"] != 200 {
		t.Errorf("batch during the hold: %v, want the mailbox item 429 and /me 200", items)
	}
	// Another mailbox is free.
	app, _ := h.sim.IssueToken("", nil)
	if r := h.do("GET", "/v1.0/users/"+aliceID+"/calendar", nil, "Authorization", "Bearer "+app); r.status != 200 {
		t.Errorf("another mailbox during the hold: %d %s", r.status, r.raw)
	}

	close(release)
	wg.Wait()
	for i, st := range statuses {
		if st != 200 {
			t.Errorf("held request %d ended %d", i+1, st)
		}
	}
	expectStatus(t, h.do("GET", "/v1.0/me/calendar", nil), 200)
	if c := h.sim.Counters(); c.ThrottledByLimit["MailboxConcurrency"] != 2 || c.Throttled != 2 {
		t.Errorf("counters: throttled %d, by limit %v", c.Throttled, c.ThrottledByLimit)
	}
}

func TestLatencyFollowsTheTimeScale(t *testing.T) {
	for _, tt := range []struct {
		latency time.Duration
		scale   float64
		want    time.Duration
	}{
		{0, 1, 0},
		{50 * time.Millisecond, 0, 50 * time.Millisecond}, // 0 means 1
		{50 * time.Millisecond, 10, 5 * time.Millisecond},
		{time.Second, 0.5, 2 * time.Second},
	} {
		s := New(testSeed(), Options{Latency: tt.latency, TimeScale: tt.scale})
		if got := s.latency(); got != tt.want {
			t.Errorf("latency %v at scale %v = %v, want %v", tt.latency, tt.scale, got, tt.want)
		}
	}
}
