package engine_test

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/elentra-teams/elentra-teams/pkg/auth"
	"github.com/elentra-teams/elentra-teams/pkg/engine"
	"github.com/elentra-teams/elentra-teams/pkg/msgraph"
	"github.com/elentra-teams/elentra-teams/pkg/store"
)

// tokenGate stands between the tool and the simulator's token endpoint: it
// passes requests on, or (hang) accepts them and never answers. It counts
// the token requests made once the fault began.
type tokenGate struct {
	srv     *httptest.Server
	hang    atomic.Bool
	faulty  atomic.Bool
	counted atomic.Int64
}

func (h *harness) tokenGate(t *testing.T) *tokenGate {
	t.Helper()
	g := &tokenGate{}
	release := make(chan struct{})
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if g.faulty.Load() {
			g.counted.Add(1)
		}
		if g.hang.Load() {
			select {
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		h.sim.ServeHTTP(w, r)
	}))
	t.Cleanup(g.srv.Close)
	t.Cleanup(func() { close(release) }) // runs first: frees a handler still waiting
	return g
}

func (g *tokenGate) tokenURL() string { return g.srv.URL + "/" + tenant + "/oauth2/v2.0/token" }

// onFirst is a transport that calls fire once, before the first request
// for which match is true is sent.
type onFirst struct {
	match func(r *http.Request) bool
	fire  func()
	once  sync.Once
}

func (o *onFirst) RoundTrip(r *http.Request) (*http.Response, error) {
	if o.match(r) {
		o.once.Do(o.fire)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// transportEnv gives the run a Graph client sending through tr with ts.
func (h *harness) transportEnv(tr http.RoundTripper, ts oauth2.TokenSource) func(*engine.Env) {
	return func(e *engine.Env) {
		e.Graph = msgraph.New(msgraph.Options{BaseURL: h.srv.URL, HTTPClient: &http.Client{Transport: tr}, TokenSource: ts,
			Clock: func() time.Time { return h.now }, Sleep: func(ctx context.Context, d time.Duration) error { return ctx.Err() }})
	}
}

func firstGroupCreate(r *http.Request) bool {
	return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/groups")
}

// syncWithin runs a whole sync and fails the test when it has not returned
// within d.
func (h *harness) syncWithin(t *testing.T, d time.Duration, edit func(*engine.Env)) (*engine.Report, error) {
	t.Helper()
	type result struct {
		rep *engine.Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		rep, err := h.sync(edit)
		done <- result{rep, err}
	}()
	select {
	case r := <-done:
		return r.rep, r.err
	case <-time.After(d):
		t.Fatalf("the sync did not end within %s: a token request holds it (and the run lock)", d)
		return nil, nil
	}
}

// stoppedAt checks that the run stopped at the named step: it has the
// error, and no step after it ran.
func stoppedAt(t *testing.T, rep *engine.Report, step string) {
	t.Helper()
	for i, s := range rep.Steps {
		if s.Command != step {
			continue
		}
		if s.Error == "" {
			t.Errorf("%s has no error", step)
		}
		if i != len(rep.Steps)-1 {
			t.Errorf("steps after %s ran: %d steps", step, len(rep.Steps))
		}
		return
	}
	t.Errorf("no step %s in the report", step)
}

func (h *harness) runExitCode(t *testing.T, runID int64) sql.NullInt64 {
	t.Helper()
	var code sql.NullInt64
	if err := h.tdb.Root.Get(&code, "SELECT exit_code FROM "+h.tdb.Table("msteams_runs")+" WHERE run_id = ?", runID); err != nil {
		t.Fatal(err)
	}
	return code
}

// A token endpoint that accepts the connection and never answers, met in
// the middle of a run: the refresh gives up after its timeout, the step
// stops with an error naming the endpoint and the timeout, no other
// request waits on the endpoint again, the run is recorded, and the run
// lock is free for the next run.
func TestTokenEndpointHangsMidRun(t *testing.T) {
	h := newHarness(t, smallSchool(), nil)
	gate := h.tokenGate(t)
	ts := h.tokenSource(t)
	ts.OAuth.Endpoint.TokenURL = gate.tokenURL()
	ts.Timeout = 200 * time.Millisecond
	tr := &onFirst{match: firstGroupCreate, fire: func() {
		gate.hang.Store(true)
		gate.faulty.Store(true)
		h.sim.ExpireAccessTokens() // Graph answers 401: the token must be refreshed
	}}
	start := time.Now()
	rep, err := h.syncWithin(t, 20*time.Second, h.transportEnv(tr, ts))
	if err == nil {
		t.Fatal("the sync succeeded without a token endpoint")
	}
	if !gate.faulty.Load() {
		t.Fatal("the run created no group: the fault did not bite")
	}
	msg := err.Error()
	if !strings.Contains(msg, gate.tokenURL()) || !strings.Contains(msg, "did not answer within 200ms") {
		t.Errorf("error %q does not name the token endpoint and the timeout", msg)
	}
	var te *auth.TokenEndpointError
	if !errors.As(err, &te) || auth.NeedsAuthorize(err) {
		t.Errorf("error %v is not the token endpoint's failure (exit 1)", err)
	}
	if n := gate.counted.Load(); n != 1 {
		t.Errorf("the token endpoint was asked %d times once it hung, want once", n)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the run took %s", d)
	}
	stoppedAt(t, rep, "sync-teams")
	if code := h.runExitCode(t, rep.RunID); !code.Valid || code.Int64 != 1 {
		t.Errorf("the run record says exit %v, want 1", code)
	}
	lock, err := store.AcquireRunLock(context.Background(), h.tdb.DB, "sync", time.Hour)
	if err != nil {
		t.Fatalf("the run lock is still held after the run: %v", err)
	}
	lock.Release()
}

// The refresh token revoked when the Teams are being created: one refresh
// is refused, the step stops (no other action asks Microsoft again), the
// next steps do not run, and the run exits 4.
func TestRefusedRefreshStopsTheStep(t *testing.T) {
	h := newHarness(t, smallSchool(), nil)
	gate := h.tokenGate(t)
	ts := h.tokenSource(t)
	ts.OAuth.Endpoint.TokenURL = gate.tokenURL()
	tr := &onFirst{match: firstGroupCreate, fire: func() {
		gate.faulty.Store(true)
		h.sim.RevokeRefreshTokens()
		h.sim.ExpireAccessTokens()
	}}
	rep, err := h.syncWithin(t, time.Minute, h.transportEnv(tr, ts))
	if !auth.NeedsAuthorize(err) {
		t.Fatalf("error %v does not need authorize (exit 4)", err)
	}
	var re *auth.ReauthorizeError
	if !strings.Contains(err.Error(), "run 'elentra-teams authorize'") || !errors.As(err, &re) {
		t.Errorf("error %q does not say what to do", err)
	}
	if n := gate.counted.Load(); n != 1 {
		t.Errorf("Microsoft was asked %d times for a token after it refused one, want once", n)
	}
	stoppedAt(t, rep, "sync-teams")
	for _, s := range rep.Steps {
		if s.Command != "sync-teams" {
			continue
		}
		if c := s.Counts["create_team"]; c.Failed > h.cfg.Sync.Concurrency {
			t.Errorf("%d Team creations failed, want at most the %d under way when the refresh was refused", c.Failed, h.cfg.Sync.Concurrency)
		}
	}
}
