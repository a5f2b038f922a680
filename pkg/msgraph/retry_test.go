package msgraph

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

const throttledBody = `{"error":{"code":"TooManyRequests","innerError":{"code":"429","date":"2020-08-18T12:51:51","message":"Please retry after","request-id":"94fb3b52-452a-4535-a601-69e0a90e3aa2","status":"429"},"message":"Please retry again later."}}`

func TestRetryAfterInAllThreeForms(t *testing.T) {
	clock := newFakeClock() // 09:00:00 sharp
	// After waits of 2 s and 2.128 s the clock reads 09:00:04.128; the third
	// answer names 09:00:09 (HTTP dates have whole seconds).
	third := time.Date(2025, 3, 10, 9, 0, 9, 0, time.UTC)
	stub := newStub(t,
		step{method: "GET", path: "/me", query: vals("$select", userSel), status: 429, reply: throttledBody, replyHeader: map[string]string{"Retry-After": "2"}},
		step{method: "GET", path: "/me", query: vals("$select", userSel), status: 429, reply: throttledBody, replyHeader: map[string]string{"Retry-After": "2.128"}},
		step{method: "GET", path: "/me", query: vals("$select", userSel), status: 429, reply: throttledBody, replyHeader: map[string]string{"Retry-After": third.Format(http.TimeFormat)}},
		step{method: "GET", path: "/me", query: vals("$select", userSel), status: 200, reply: `{"id":"me"}`},
	)
	c := newTestClient(stub.srv, clock, nil)
	u, err := c.Me(context.Background())
	if err != nil || u.ID != "me" {
		t.Fatalf("Me = %+v, %v", u, err)
	}
	if got, want := clock.Sleeps(), durations(2, 2.128, 4.872); !reflect.DeepEqual(got, want) {
		t.Errorf("waits %v, want %v (the last one until %s)", got, want, third.Format(http.TimeFormat))
	}
	s := c.Stats()
	if s.Throttled != 3 || s.Retries != 3 || s.Requests != 4 {
		t.Errorf("stats throttled=%d retries=%d requests=%d, want 3, 3, 4", s.Throttled, s.Retries, s.Requests)
	}
}

func TestSharedThrottleMakesOtherWorkersWait(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "7")
			writeGraphError(w, http.StatusTooManyRequests, "TooManyRequests", "Please retry again later.")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"id":"x"}`))
	}))
	defer srv.Close()

	// The clock stands still, so every wait recorded is measured from the
	// same instant: the first worker's 429 makes the shared throttle 7 s.
	clock := newFakeClock()
	clock.now = clock.now.Truncate(time.Second)
	frozen := clock.now
	clock.onSleep = func(time.Duration) {
		clock.mu.Lock()
		clock.now = frozen
		clock.mu.Unlock()
	}
	c := newTestClient(srv, clock, nil)
	ctx := context.Background()

	if _, err := c.GetUser(ctx, "first"); err != nil {
		t.Fatalf("first worker: %v", err)
	}
	// Workers that start after the 429 wait too, though they were never
	// throttled themselves.
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.GetUser(ctx, "other")
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("worker: %v", err)
		}
	}
	waits := clock.Sleeps()
	if len(waits) != 4 {
		t.Fatalf("waits %v, want 4 (the throttled worker and 3 others)", waits)
	}
	for _, w := range waits {
		if w != 7*time.Second {
			t.Errorf("wait %v, want 7s for every worker", w)
		}
	}
	if got := c.Stats().Throttled; got != 1 {
		t.Errorf("throttled = %d, want 1", got)
	}
}

func TestThrottleStormWithConcurrentWorkersCompletes(t *testing.T) {
	clock := newFakeClock()
	forms := []func() string{
		func() string { return "1" },
		func() string { return "0.5" },
		func() string { return clock.Now().Add(2 * time.Second).Format(http.TimeFormat) },
	}
	var served, throttled atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := served.Add(1)
		// The first 12 requests of the storm are all throttled.
		if n <= 12 {
			throttled.Add(1)
			w.Header().Set("Retry-After", forms[int(n)%3]())
			writeGraphError(w, http.StatusTooManyRequests, "TooManyRequests", "Please retry again later.")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"id":"x"}`))
	}))
	defer srv.Close()
	c := newTestClient(srv, clock, func(o *Options) { o.MaxAttempts = 20 })
	var wg sync.WaitGroup
	var failures atomic.Int32
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 4 {
				if _, err := c.GetUser(context.Background(), "u"); err != nil {
					failures.Add(1)
					t.Errorf("worker: %v", err)
				}
			}
		}()
	}
	wg.Wait()
	if failures.Load() != 0 {
		t.Fatalf("%d calls failed", failures.Load())
	}
	s := c.Stats()
	if int32(s.Throttled) != throttled.Load() || s.Retries != s.Throttled {
		t.Errorf("stats throttled=%d retries=%d, server throttled %d", s.Throttled, s.Retries, throttled.Load())
	}
	if s.ByStatus[200] != 32 {
		t.Errorf("%d successes, want 32", s.ByStatus[200])
	}
	for _, w := range clock.Sleeps() {
		if w <= 0 || w > 2*time.Second {
			t.Errorf("wait %v outside (0, 2s]: the longest Retry-After was 2s", w)
		}
	}
}

func TestServiceUnavailableWithoutRetryAfterBacksOffExponentially(t *testing.T) {
	var steps []step
	for range 7 {
		steps = append(steps, step{method: "GET", path: "/me", query: vals("$select", userSel), status: 503,
			reply: graphErrorJSON("serviceNotAvailable", "The service is temporarily unavailable.")})
	}
	steps = append(steps, step{method: "GET", path: "/me", query: vals("$select", userSel), status: 200, reply: `{"id":"me"}`})
	stub := newStub(t, steps...)
	clock := newFakeClock()
	c := newTestClient(stub.srv, clock, func(o *Options) { o.MaxElapsed = time.Hour })
	if _, err := c.Me(context.Background()); err != nil {
		t.Fatalf("Me: %v", err)
	}
	// Random is 1 in tests: each wait is its ceiling, doubling from 1 s and
	// capped at 60 s.
	if got, want := clock.Sleeps(), durations(1, 2, 4, 8, 16, 32, 60); !reflect.DeepEqual(got, want) {
		t.Errorf("waits %v, want %v", got, want)
	}
}

func TestBackoffJitterStaysUnderTheCeiling(t *testing.T) {
	c := New(Options{Random: func() float64 { return 0.25 }})
	for attempt, ceiling := range map[int]time.Duration{1: time.Second, 3: 4 * time.Second, 7: 60 * time.Second, 40: 60 * time.Second} {
		if got, want := c.backoff(attempt), ceiling/4; got != want {
			t.Errorf("backoff(%d) = %v, want %v", attempt, got, want)
		}
	}
}

func TestRetriesStopAtMaxElapsed(t *testing.T) {
	var steps []step
	for range 4 {
		steps = append(steps, step{method: "GET", path: "/me", query: vals("$select", userSel), status: 503, reply: graphErrorJSON("serviceNotAvailable", "busy")})
	}
	stub := newStub(t, steps...)
	clock := newFakeClock()
	// Waits of 1 + 2 + 4 s fit in 10 s; the next, 8 s, would not.
	c := newTestClient(stub.srv, clock, func(o *Options) { o.MaxElapsed = 10 * time.Second })
	_, err := c.Me(context.Background())
	ge, ok := AsError(err)
	if !ok || ge.Status != 503 || ge.Attempts != 4 {
		t.Fatalf("err = %v, want the 503 after 4 attempts", err)
	}
	if got, want := clock.Sleeps(), durations(1, 2, 4); !reflect.DeepEqual(got, want) {
		t.Errorf("waits %v, want %v", got, want)
	}
}

func TestMaxAttemptsExhaustedReturnsLastStatus(t *testing.T) {
	stub := newStub(t,
		step{method: "GET", path: "/me", query: vals("$select", userSel), status: 429, reply: throttledBody, replyHeader: map[string]string{"Retry-After": "1"}},
		step{method: "GET", path: "/me", query: vals("$select", userSel), status: 429, reply: throttledBody, replyHeader: map[string]string{"Retry-After": "1"}},
		step{method: "GET", path: "/me", query: vals("$select", userSel), status: 504, reply: graphErrorJSON("GatewayTimeout", "timed out")},
	)
	c := newTestClient(stub.srv, newFakeClock(), func(o *Options) { o.MaxAttempts = 3 })
	_, err := c.Me(context.Background())
	ge, ok := AsError(err)
	if !ok || ge.Status != 504 || ge.Code != "GatewayTimeout" || ge.Attempts != 3 {
		t.Fatalf("err = %v, want the last answer, 504, after 3 attempts", err)
	}
	if !strings.Contains(err.Error(), "after 3 attempts") {
		t.Errorf("error %q does not say how often it tried", err)
	}
}

func TestUnauthorizedForcesOneRefreshAndRetriesWithNewToken(t *testing.T) {
	stub := newStub(t,
		step{method: "GET", path: "/me", query: vals("$select", userSel), token: "fake-expired-token", status: 401,
			reply: graphErrorJSON("InvalidAuthenticationToken", "Access token has expired or is not yet valid.")},
		step{method: "GET", path: "/me", query: vals("$select", userSel), token: "fake-renewed-token", status: 200, reply: `{"id":"me"}`},
	)
	tokens := &refreshingTokens{current: "fake-expired-token", next: "fake-renewed-token"}
	c := newTestClient(stub.srv, newFakeClock(), func(o *Options) { o.TokenSource = tokens })
	if _, err := c.Me(context.Background()); err != nil {
		t.Fatalf("Me: %v", err)
	}
	if tokens.refreshes != 1 {
		t.Errorf("ForceRefresh called %d times, want 1", tokens.refreshes)
	}
}

func TestSecondUnauthorizedIsReturned(t *testing.T) {
	unauthorized := graphErrorJSON("InvalidAuthenticationToken", "Access token validation failure.")
	stub := newStub(t,
		step{method: "GET", path: "/me", query: vals("$select", userSel), token: "fake-a", status: 401, reply: unauthorized},
		step{method: "GET", path: "/me", query: vals("$select", userSel), token: "fake-b", status: 401, reply: unauthorized},
	)
	tokens := &refreshingTokens{current: "fake-a", next: "fake-b"}
	c := newTestClient(stub.srv, newFakeClock(), func(o *Options) { o.TokenSource = tokens })
	_, err := c.Me(context.Background())
	if ge, ok := AsError(err); !ok || ge.Status != 401 || ge.Code != "InvalidAuthenticationToken" {
		t.Fatalf("err = %v, want the second 401", err)
	}
	if tokens.refreshes != 1 {
		t.Errorf("ForceRefresh called %d times, want 1", tokens.refreshes)
	}
}

type failingTokens struct{ err error }

func (f failingTokens) Token() (*oauth2.Token, error) { return nil, f.err }

func TestTokenSourceErrorIsWrapped(t *testing.T) {
	stub := newStub(t)
	grantErr := &oauth2.RetrieveError{ErrorCode: "invalid_grant", ErrorDescription: "AADSTS700082: The refresh token has expired due to inactivity."}
	c := newTestClient(stub.srv, newFakeClock(), func(o *Options) { o.TokenSource = failingTokens{grantErr} })
	_, err := c.Me(context.Background())
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("err = %v, want the *oauth2.RetrieveError inside", err)
	}
}

func TestDroppedCreateGroupIsOutcomeUnknownAndNotResent(t *testing.T) {
	stub := newStub(t,
		step{method: "POST", path: "/groups", drop: true,
			body: `{"displayName":"MED101","mailNickname":"et-med-101","mailEnabled":true,"securityEnabled":false,"groupTypes":["Unified"]}`},
	)
	c := newTestClient(stub.srv, newFakeClock(), nil)
	_, err := c.CreateGroup(context.Background(), GroupCreate{DisplayName: "MED101", MailNickname: "et-med-101"})
	if !errors.Is(err, ErrOutcomeUnknown) {
		t.Fatalf("err = %v, want ErrOutcomeUnknown", err)
	}
	if stub.served() != 1 {
		t.Errorf("POST /groups sent %d times, want once", stub.served())
	}
}

func TestGatewayTimeoutOnCreateTeamIsOutcomeUnknown(t *testing.T) {
	stub := newStub(t,
		step{method: "POST", path: "/teams", status: 504, reply: graphErrorJSON("GatewayTimeout", "The gateway did not receive a response."),
			body: `{"template@odata.bind":"https://graph.microsoft.com/v1.0/teamsTemplates('standard')","displayName":"MED101"}`},
	)
	c := newTestClient(stub.srv, newFakeClock(), nil)
	_, err := c.CreateTeam(context.Background(), TeamCreate{DisplayName: "MED101"})
	if !errors.Is(err, ErrOutcomeUnknown) {
		t.Fatalf("err = %v, want ErrOutcomeUnknown", err)
	}
	if ge, ok := AsError(err); !ok || ge.Status != 504 {
		t.Errorf("err = %v, want the 504 inside too", err)
	}
}

func TestDroppedReadsAndIdempotentWritesAreResent(t *testing.T) {
	eventBody := `{"subject":"MED101 Lecture","transactionId":"et-ev-42-1"}`
	stub := newStub(t,
		step{method: "GET", path: "/teams/t1", drop: true},
		step{method: "GET", path: "/teams/t1", status: 200, reply: `{"id":"t1"}`},
		// transactionId makes the create safe to repeat.
		step{method: "POST", path: "/users/u1/events", body: eventBody, drop: true},
		step{method: "POST", path: "/users/u1/events", body: eventBody, status: 201, reply: `{"id":"ev1","transactionId":"et-ev-42-1"}`},
	)
	clock := newFakeClock()
	c := newTestClient(stub.srv, clock, nil)
	if team, err := c.GetTeam(context.Background(), "t1"); err != nil || team.ID != "t1" {
		t.Fatalf("GetTeam = %+v, %v", team, err)
	}
	ev, err := c.CreateEvent(context.Background(), "u1", EventInput{Subject: "MED101 Lecture", TransactionID: "et-ev-42-1"})
	if err != nil || ev.ID != "ev1" {
		t.Fatalf("CreateEvent = %+v, %v", ev, err)
	}
	if got := c.Stats().ByStatus[0]; got != 2 {
		t.Errorf("sends without an answer = %d, want 2", got)
	}
}

func TestDryRunRefusesWritesBeforeSending(t *testing.T) {
	stub := newStub(t,
		step{method: "GET", path: "/teams/t1", status: 200, reply: `{"id":"t1"}`},
		step{method: "POST", path: "/$batch", status: 200,
			body:  `{"requests":[{"id":"1","method":"GET","url":"/teams/t1/members"}]}`,
			reply: `{"responses":[{"id":"1","status":200,"headers":{},"body":{"value":[]}}]}`},
	)
	c := newTestClient(stub.srv, newFakeClock(), func(o *Options) { o.DryRun = true })
	ctx := context.Background()
	name := "x"
	writes := []struct {
		name  string
		route string
		call  func() error
	}{
		{"create group", "POST /groups", func() error {
			_, err := c.CreateGroup(ctx, GroupCreate{DisplayName: "X", MailNickname: "x"})
			return err
		}},
		{"update team", "PATCH /teams/{id}", func() error { return c.UpdateTeam(ctx, "t1", TeamUpdate{DisplayName: &name}) }},
		{"bulk add", "POST /teams/{id}/members/add", func() error {
			_, err := c.AddMembers(ctx, "t1", []MemberAdd{{UserID: "u1"}})
			return err
		}},
		{"remove member", "DELETE /teams/{id}/members/{id}", func() error { return c.RemoveMember(ctx, "t1", "m1") }},
		{"cancel event", "POST /me/events/{id}/cancel", func() error { return c.CancelEvent(ctx, "me", "ev1", "") }},
		{"batch with a write", "PATCH /groups/{id}", func() error {
			_, err := c.Batch(ctx, []BatchRequest{{ID: "1", Method: "GET", URL: "/me"}, {ID: "2", Method: "PATCH", URL: "/groups/g1", Body: map[string]string{}}})
			return err
		}},
	}
	for _, w := range writes {
		err := w.call()
		if !errors.Is(err, ErrDryRun) {
			t.Errorf("%s: err = %v, want ErrDryRun", w.name, err)
			continue
		}
		if !strings.Contains(err.Error(), w.route) {
			t.Errorf("%s: error %q does not name %s", w.name, err, w.route)
		}
	}
	if stub.served() != 0 {
		t.Fatalf("%d requests reached the server during refused writes", stub.served())
	}
	if _, err := c.GetTeam(ctx, "t1"); err != nil {
		t.Errorf("GET in dry-run: %v", err)
	}
	if _, _, err := c.ListMembersOfTeams(ctx, []string{"t1"}); err != nil {
		t.Errorf("GET-only batch in dry-run: %v", err)
	}
}

func TestAcquireBlocksWhenAMailboxIsFull(t *testing.T) {
	c := New(Options{MailboxConcurrency: 2})
	ctx := context.Background()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	r1, err1 := c.acquire(ctx, []string{"u1"})
	r2, err2 := c.acquire(ctx, []string{"u1"})
	if err1 != nil || err2 != nil {
		t.Fatalf("acquire under the cap: %v, %v", err1, err2)
	}
	// Full: with no slot free only the cancelled context can answer.
	if _, err := c.acquire(cancelled, []string{"u1"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("third acquire on u1 = %v, want it to wait (and see the cancellation)", err)
	}
	// Another mailbox has its own slots.
	r3, err := c.acquire(ctx, []string{"u2"})
	if err != nil {
		t.Fatalf("acquire on u2: %v", err)
	}
	r3()
	r1()
	r4, err := c.acquire(ctx, []string{"u1"})
	if err != nil {
		t.Fatalf("acquire after a release: %v", err)
	}
	r4()
	r2()
}

func TestRequestMailboxes(t *testing.T) {
	get := newRequest(http.MethodGet, "/users/u1/events/e1", nil)
	if got := get.mailboxes(); !reflect.DeepEqual(got, []string{"u1"}) {
		t.Errorf("event GET mailboxes %v, want [u1]", got)
	}
	batch, _ := newRequest(http.MethodPost, "/$batch", nil).withBody(map[string]any{"requests": []map[string]string{
		{"id": "1", "method": "GET", "url": "/users/u2/calendarView?startDateTime=x"},
		{"id": "2", "method": "GET", "url": "/me/events/e1"},
		{"id": "3", "method": "GET", "url": "/users/u2/events/e2"},
		{"id": "4", "method": "GET", "url": "/teams/t1/members"},
	}})
	if got := batch.mailboxes(); !reflect.DeepEqual(got, []string{"me", "u2"}) {
		t.Errorf("batch mailboxes %v, want [me u2]", got)
	}
	if got := newRequest(http.MethodGet, "/teams/t1", nil).mailboxes(); got != nil {
		t.Errorf("team GET mailboxes %v, want none", got)
	}
}

// TestMailboxAndGlobalConcurrencyCaps checks that requests do run in
// parallel up to each cap. (That they never exceed it is checked without
// timing by TestAcquireBlocksWhenAMailboxIsFull.)
func TestMailboxAndGlobalConcurrencyCaps(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Options)
		call func(c *Client) error
		cap  int32
	}{
		{"outlook mailbox", nil, func(c *Client) error {
			_, err := c.GetEvent(context.Background(), "u1", "ev1", EventOptions{})
			return err
		}, DefaultMailboxConcurrency},
		{"global", func(o *Options) { o.Concurrency = 2 }, func(c *Client) error {
			_, err := c.GetTeam(context.Background(), "t1")
			return err
		}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const workers = 10
			var inflight, peak atomic.Int32
			arrived := make(chan struct{})
			release := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := inflight.Add(1)
				for {
					p := peak.Load()
					if n <= p || peak.CompareAndSwap(p, n) {
						break
					}
				}
				arrived <- struct{}{}
				<-release
				inflight.Add(-1)
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(`{"id":"x"}`))
			}))
			defer srv.Close()
			c := newTestClient(srv, newFakeClock(), tt.mod)
			errs := make(chan error, workers)
			for range workers {
				go func() { errs <- tt.call(c) }()
			}
			// Let requests in one at a time once the cap is reached: a
			// client without the cap would have them all in flight at once.
			for i := range workers {
				<-arrived
				if i >= int(tt.cap)-1 {
					release <- struct{}{}
				}
			}
			for range int(tt.cap) - 1 {
				release <- struct{}{}
			}
			for range workers {
				if err := <-errs; err != nil {
					t.Errorf("call: %v", err)
				}
			}
			if got := peak.Load(); got != tt.cap {
				t.Errorf("peak in flight %d, want %d", got, tt.cap)
			}
		})
	}
}
