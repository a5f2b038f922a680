package engine_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/elentra-teams/elentra-teams/internal/school"
	"github.com/elentra-teams/elentra-teams/pkg/auth"
	"github.com/elentra-teams/elentra-teams/pkg/config"
	"github.com/elentra-teams/elentra-teams/pkg/elentra/elentratest"
	"github.com/elentra-teams/elentra-teams/pkg/engine"
	"github.com/elentra-teams/elentra-teams/pkg/msgraph"
	"github.com/elentra-teams/elentra-teams/pkg/msgraph/graphsim"
	"github.com/elentra-teams/elentra-teams/pkg/reconcile"
	"github.com/elentra-teams/elentra-teams/pkg/store"
)

// smallSchool is enough courses and people for fault tests to be quick.
func smallSchool() school.Spec {
	return school.Spec{Seed: 3, Courses: 12, Learners: 240, LearnersPerCourse: 40, OwnersPerCourse: 3, TeamsEnabled: true}
}

// noDuplicates fails when two groups carry the same nickname.
func noDuplicates(t *testing.T, h *harness) {
	t.Helper()
	seen := map[string]string{}
	for _, g := range h.sim.State().Groups {
		if prev, dup := seen[g.MailNickname]; dup {
			t.Errorf("two groups %s and %s carry nickname %s", prev, g.ID, g.MailNickname)
		}
		seen[g.MailNickname] = g.ID
	}
}

// stuck reports whether a run's error is one the next run does not get past
// by itself: the sign-in needs authorize (exit 4), or another run holds the
// lock (exit 5). A run that failed or partly applied (exit 1, 3) is retried.
func stuck(err error) bool {
	return err != nil && (auth.NeedsAuthorize(err) || errors.Is(err, store.ErrLocked))
}

// With throttling, outages, replication delays and partial bulk adds, runs
// converge to the same Teams once the faults pass, with no duplicate.
func TestSyncConvergesUnderFaults(t *testing.T) {
	for _, form := range []string{graphsim.RetryAfterInt, graphsim.RetryAfterFloat, graphsim.RetryAfterDate} {
		t.Run(form, func(t *testing.T) {
			h := newHarness(t, smallSchool(), nil)
			want := h.expected(nil)
			var someUser string
			for _, m := range want {
				for u, r := range m {
					if r == "member" {
						someUser = u
						break
					}
				}
				break
			}
			h.sim.SetFaults(graphsim.Faults{
				Throttle429Every: 5, RetryAfterForm: form, RetryAfterSeconds: 3,
				Unavailable503Every:   7,
				BadGatewayTeamCreates: 2,
				NotFoundAfterCreate:   1,
				TeamifyDespite404:     true,
				BulkAddFailUserIDs:    []string{someUser},
			})
			for i := 0; i < 3; i++ {
				rep, err := h.sync(nil)
				if stuck(err) {
					t.Fatalf("run %d: %v", i, err)
				}
				if rep.Graph.Throttled == 0 && i == 0 {
					t.Errorf("run %d saw no throttling: the fault did not bite", i)
				}
			}
			noDuplicates(t, h)
			h.sim.SetFaults(graphsim.Faults{})
			if rep, err := h.sync(nil); err != nil {
				t.Fatalf("run without faults: %v %+v", err, rep.AllFailures())
			}
			compare(t, want, h.actual())
			noDuplicates(t, h)
		})
	}
}

// killingTransport lets request number `at` reach the simulator, then acts
// as if the process died: the run's context is cancelled and every later
// request fails before it is sent.
type killingTransport struct {
	at     int64
	n      atomic.Int64
	cancel context.CancelFunc
	base   http.RoundTripper
}

var errKilled = errors.New("killed")

func (k *killingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	n := k.n.Add(1)
	if n > k.at {
		return nil, errKilled
	}
	resp, err := k.base.RoundTrip(r)
	if n == k.at {
		k.cancel()
		if resp != nil {
			resp.Body.Close()
		}
		return nil, errKilled
	}
	return resp, err
}

// A run stopped at any request leaves a state the next run completes:
// no duplicate group or Team, the same Teams and members as a clean run.
func TestSyncResumesAfterStopAtRandomPoints(t *testing.T) {
	// how many requests a clean run takes
	probe := newHarness(t, smallSchool(), nil)
	rep, err := probe.sync(nil)
	if err != nil {
		t.Fatal(err)
	}
	total := rep.Graph.Requests
	want := probe.expected(nil)

	points := 8
	if testing.Short() {
		points = 3
	}
	rng := rand.New(rand.NewSource(42))
	for i := 0; i < points; i++ {
		at := int64(1 + rng.Intn(total))
		h := newHarness(t, smallSchool(), nil)
		ctx, cancel := context.WithCancel(context.Background())
		kt := &killingTransport{at: at, cancel: cancel, base: http.DefaultTransport}
		env := h.env(nil)
		env.Graph = msgraph.New(msgraph.Options{BaseURL: h.srv.URL, HTTPClient: &http.Client{Transport: kt},
			TokenSource: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: h.token, TokenType: "Bearer", Expiry: h.now.Add(time.Hour)}),
			Clock:       func() time.Time { return h.now }, Sleep: func(ctx context.Context, d time.Duration) error { return ctx.Err() }})
		_, _ = engine.Run(ctx, env, "sync", engine.UsersStep, engine.TeamsStep, engine.MembersStep)
		cancel()
		// the next run, and one more to be sure nothing is left undone
		if _, err := h.sync(nil); err != nil {
			t.Fatalf("stopped at request %d of %d: the next run failed: %v", at, total, err)
		}
		c0 := writes(h.sim.Counters())
		if _, err := h.sync(nil); err != nil {
			t.Fatalf("stopped at request %d: %v", at, err)
		}
		if n := writes(h.sim.Counters()) - c0; n != 0 {
			t.Errorf("stopped at request %d: the run after the recovering one still wrote %d times", at, n)
		}
		noDuplicates(t, h)
		compare(t, want, h.actual())
	}
}

// Two syncs started together: one runs, the other finds the lock held.
func TestOneRunAtATime(t *testing.T) {
	h := newHarness(t, smallSchool(), nil)
	lock, err := store.AcquireRunLock(context.Background(), h.tdb.DB, "sync", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	_, err = engine.Run(context.Background(), h.env(nil), "sync-members", engine.MembersStep)
	if !errors.Is(err, store.ErrLocked) {
		t.Errorf("with the lock held: %v, want store.ErrLocked (exit 5)", err)
	}
	lock.Release()

	var wg sync.WaitGroup
	errs := make([]error, 2)
	start := make(chan struct{})
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			_, errs[i] = engine.Run(context.Background(), h.env(nil), "sync-members", engine.TeamsStep, engine.MembersStep)
		}(i)
	}
	close(start)
	wg.Wait()
	locked := 0
	for _, err := range errs {
		if errors.Is(err, store.ErrLocked) {
			locked++
		} else if err != nil {
			t.Errorf("run failed: %v", err)
		}
	}
	if locked > 1 {
		t.Errorf("both runs found the lock held")
	}
}

// The integration switched off in Elentra: nothing happens, exit 0, said.
func TestSwitchedOff(t *testing.T) {
	h := newHarness(t, smallSchool(), nil)
	h.tdb.Exec(t, "UPDATE "+h.tdb.Table("settings")+" SET value = '0' WHERE shortname = 'microsoft_teams_enabled'")
	rep, err := h.sync(nil)
	if err != nil || !strings.Contains(rep.Disabled, "microsoft_teams_enabled") || h.sim.Counters().Total != 0 {
		t.Errorf("err %v, disabled %q, %d requests", err, rep.Disabled, h.sim.Counters().Total)
	}
}

// killLockTransport kills the run lock's connection on the first Graph
// request, then holds that request until the run gives up on it: a run that
// lost its lock must stop applying.
type killLockTransport struct {
	h    *harness
	once sync.Once
	base http.RoundTripper
}

func (k *killLockTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	killed := false
	k.once.Do(func() {
		var id int64
		if err := k.h.tdb.Root.Get(&id, "SELECT IS_USED_LOCK(?)", store.LockName(k.h.tdb.Name, "sync")); err != nil || id == 0 {
			k.h.t.Errorf("no lock holder found: %v", err)
			return
		}
		if _, err := k.h.tdb.Root.Exec(fmt.Sprintf("KILL CONNECTION %d", id)); err != nil {
			k.h.t.Errorf("kill: %v", err)
			return
		}
		killed = true
	})
	if killed {
		select {
		case <-r.Context().Done():
			return nil, r.Context().Err()
		case <-time.After(10 * time.Second):
			k.h.t.Error("the run went on for 10 s after its lock was lost")
		}
	}
	return k.base.RoundTrip(r)
}

// A lost lock connection (KILL CONNECTION on the server) stops the run.
func TestLockLostStopsTheRun(t *testing.T) {
	elentratest.RequireRealServer(t, "KILL CONNECTION needs a real server")
	h := newHarness(t, smallSchool(), nil)
	env := h.env(func(e *engine.Env) { e.LockCheckInterval = 20 * time.Millisecond })
	env.Graph = msgraph.New(msgraph.Options{BaseURL: h.srv.URL, HTTPClient: &http.Client{Transport: &killLockTransport{h: h, base: http.DefaultTransport}},
		TokenSource: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: h.token, TokenType: "Bearer", Expiry: h.now.Add(time.Hour)}),
		Clock:       func() time.Time { return h.now }, Sleep: func(ctx context.Context, d time.Duration) error { return ctx.Err() }})
	rep, err := engine.Run(context.Background(), env, "sync", engine.UsersStep, engine.TeamsStep, engine.MembersStep)
	if !errors.Is(err, engine.ErrLockLost) {
		t.Fatalf("got %v, want the lost lock", err)
	}
	var pe *engine.PartialError
	if rep.Stopped == "" || errors.As(err, &pe) || errors.Is(err, store.ErrLocked) {
		t.Errorf("stopped %q, error %v: want a failed run (exit 1)", rep.Stopped, err)
	}
	if n := writes(h.sim.Counters()); n != 0 {
		t.Errorf("%d writes reached Graph after the lock was lost", n)
	}
	// the next run completes
	if _, err := h.sync(nil); err != nil {
		t.Fatal(err)
	}
	compare(t, h.expected(nil), h.actual())
}

// flakyTransport breaks the connection around some requests: every
// resetEvery-th request reaches the simulator but its answer is lost (a
// reset after sending), every timeoutEvery-th times out before it is sent.
// hook, when set, runs before the n-th request.
type flakyTransport struct {
	n            atomic.Int64
	resetEvery   int64
	timeoutEvery int64
	hook         func(n int64)
	base         http.RoundTripper
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func (f *flakyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	n := f.n.Add(1)
	if f.hook != nil {
		f.hook(n)
	}
	if f.timeoutEvery > 0 && n%f.timeoutEvery == 0 {
		return nil, &url.Error{Op: r.Method, URL: r.URL.String(), Err: timeoutErr{}}
	}
	resp, err := f.base.RoundTrip(r)
	if err == nil && f.resetEvery > 0 && n%f.resetEvery == 0 {
		resp.Body.Close()
		return nil, &url.Error{Op: r.Method, URL: r.URL.String(), Err: syscall.ECONNRESET}
	}
	return resp, err
}

func (h *harness) flakyEnv(ft *flakyTransport, ts oauth2.TokenSource) func(*engine.Env) {
	return func(e *engine.Env) {
		if ts == nil {
			ts = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: h.token, TokenType: "Bearer", Expiry: h.now.Add(time.Hour)})
		}
		ft.base = http.DefaultTransport
		e.Graph = msgraph.New(msgraph.Options{BaseURL: h.srv.URL, HTTPClient: &http.Client{Transport: ft}, TokenSource: ts,
			Clock: func() time.Time { return h.now }, Sleep: func(ctx context.Context, d time.Duration) error { return ctx.Err() }})
	}
}

// Connection resets after a request was sent, and timeouts, make some
// writes fail (a create whose outcome is unknown is not re-sent); the next
// runs find what landed and converge, with no duplicate.
func TestSyncConvergesOverBrokenConnections(t *testing.T) {
	h := newHarness(t, smallSchool(), nil)
	for i := 0; i < 3; i++ {
		rep, err := h.sync(h.flakyEnv(&flakyTransport{resetEvery: 4, timeoutEvery: 9}, nil))
		if stuck(err) {
			t.Fatalf("run %d: %v", i, err)
		}
		if i == 0 && len(rep.AllFailures()) == 0 {
			t.Error("the broken connections made nothing fail: the fault did not bite")
		}
	}
	noDuplicates(t, h)
	if rep, err := h.sync(nil); err != nil {
		t.Fatalf("clean run: %v %+v", err, rep.AllFailures())
	}
	compare(t, h.expected(nil), h.actual())
	noDuplicates(t, h)
}

// tokenSource is the administrator's stored token, refreshed against the
// simulator's token endpoint, as the CLI runs it.
func (h *harness) tokenSource(t *testing.T) *auth.TokenSource {
	t.Helper()
	access, refresh := h.sim.IssueToken(h.admin, []string{"offline_access", "User.ReadBasic.All", "Group.ReadWrite.All", "Team.Create",
		"Team.ReadBasic.All", "TeamMember.ReadWrite.All", "Calendars.ReadWrite"})
	key := make([]byte, 32)
	sealer, _ := auth.NewSealer(key)
	vault := &auth.Vault{Table: store.New(h.tdb.DB), Sealer: sealer, Name: "delegated"}
	if err := vault.Save(context.Background(), &auth.Token{OAuth: &oauth2.Token{AccessToken: access, RefreshToken: refresh, Expiry: h.now.Add(time.Hour)},
		AccountObjectID: h.admin, AuthorizedAt: h.now, RefreshUsedAt: h.now}); err != nil {
		t.Fatal(err)
	}
	m := config.Microsoft{TenantID: tenant, ClientID: "22222222-3333-4444-5555-666666666666", ClientSecret: "fake-secret",
		Authority: h.srv.URL, RedirectURI: "http://localhost:8400/callback"}
	return &auth.TokenSource{Vault: vault, OAuth: auth.OAuthConfig(m), Now: func() time.Time { return h.now }, Ctx: context.Background()}
}

// The access token expiring in the middle of a run: Graph answers 401, the
// token is refreshed once (and the rotation stored), the run completes.
func TestAccessTokenExpiresMidRun(t *testing.T) {
	h := newHarness(t, smallSchool(), nil)
	ts := h.tokenSource(t)
	ft := &flakyTransport{hook: func(n int64) {
		if n == 10 {
			h.sim.ExpireAccessTokens()
		}
	}}
	if rep, err := h.sync(h.flakyEnv(ft, ts)); err != nil {
		t.Fatalf("%v %+v", err, rep.AllFailures())
	}
	if v := ts.Current().Version; v < 2 {
		t.Errorf("token version %d: the refresh was not stored", v)
	}
	compare(t, h.expected(nil), h.actual())
}

// The refresh token revoked in the middle of a run: the run stops with the
// sign-in error (exit 4), what landed before is recorded, and once an
// administrator authorizes again the next run completes.
func TestRefreshTokenRevokedMidRun(t *testing.T) {
	h := newHarness(t, smallSchool(), nil)
	ts := h.tokenSource(t)
	ft := &flakyTransport{hook: func(n int64) {
		if n == 12 {
			h.sim.RevokeRefreshTokens()
			h.sim.ExpireAccessTokens()
		}
	}}
	rep, err := h.sync(h.flakyEnv(ft, ts))
	if !auth.NeedsAuthorize(err) {
		t.Fatalf("error %v does not need authorize (exit 4)", err)
	}
	if !strings.Contains(err.Error(), "run 'elentra-teams authorize'") {
		t.Errorf("error %q does not say what to do", err)
	}
	var code int
	h.tdb.Root.Get(&code, "SELECT exit_code FROM "+h.tdb.Table("msteams_runs")+" WHERE run_id = ?", rep.RunID)
	if code != 4 {
		t.Errorf("the run record says exit %d", code)
	}
	// what landed is recorded: every group in Graph is in the tool's table
	recorded := map[string]bool{}
	recs, _ := store.New(h.tdb.DB).TeamRecords(context.Background(), nil)
	for _, r := range recs {
		recorded[strings.ToLower(r.GroupID)] = true
	}
	for _, g := range h.sim.State().Groups {
		if !recorded[strings.ToLower(g.ID)] {
			t.Errorf("group %s (%s) landed but is not recorded", g.ID, g.MailNickname)
		}
	}
	// authorized again: the next run completes what is left
	h.token, _ = h.sim.IssueToken(h.admin, []string{"User.ReadBasic.All", "Group.ReadWrite.All", "Team.Create", "Team.ReadBasic.All", "TeamMember.ReadWrite.All", "Calendars.ReadWrite"})
	if _, err := h.sync(nil); err != nil {
		t.Fatal(err)
	}
	compare(t, h.expected(nil), h.actual())
	noDuplicates(t, h)
}

// The database connections killed in the middle of a run (a server restart,
// KILL CONNECTION): the pool reconnects, and the runs converge.
func TestDatabaseConnectionsKilledMidRun(t *testing.T) {
	elentratest.RequireRealServer(t, "KILL CONNECTION needs a real server")
	h := newHarness(t, smallSchool(), nil)
	lockName := store.LockName(h.tdb.Name, "sync")
	ft := &flakyTransport{hook: func(n int64) {
		if n != 8 {
			return
		}
		// every connection of the tool's pool except the lock's
		var ids []int64
		h.tdb.Root.Select(&ids, "SELECT id FROM information_schema.processlist WHERE db = ? AND id <> CONNECTION_ID() AND id <> COALESCE(IS_USED_LOCK(?), 0)", h.tdb.Name, lockName)
		for _, id := range ids {
			h.tdb.Root.Exec(fmt.Sprintf("KILL CONNECTION %d", id))
		}
	}}
	for i := 0; i < 2; i++ {
		if _, err := h.sync(h.flakyEnv(ft, nil)); stuck(err) {
			t.Fatalf("run %d: %v", i, err)
		}
		ft.n.Store(0)
	}
	if _, err := h.sync(nil); err != nil {
		t.Fatal(err)
	}
	compare(t, h.expected(nil), h.actual())
	noDuplicates(t, h)
}

// A failed async operation (archiving a Team) is reported with Graph's error
// and the course's last error, and the next run archives it.
func TestFailedOperationIsRetried(t *testing.T) {
	h := newHarness(t, smallSchool(), func(c *config.Config) { c.Sync.CourseEnd = "archive" })
	if _, err := h.sync(nil); err != nil {
		t.Fatal(err)
	}
	h.cfg.Sync.AllActiveCourses = false     // every course ends for the tool
	h.cfg.Sync.RunArchiveGuardPercent = 100 // and that is meant: the run guard lets it through
	h.sim.SetFaults(graphsim.Faults{FailOperations: true})
	rep, err := engine.Run(context.Background(), h.env(nil), "sync-teams", engine.TeamsStep)
	var fe *engine.FailedError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v, want a *engine.FailedError (exit 1): every archive failed", err)
	}
	if len(rep.Failures) == 0 || rep.Failures[0].Kind != reconcile.KindArchiveTeam || rep.Failures[0].Code == "" {
		t.Errorf("failures %+v", rep.Failures)
	}
	recs, _ := store.New(h.tdb.DB).TeamRecords(context.Background(), nil)
	withError := 0
	for _, r := range recs {
		if r.LastError != "" {
			withError++
		}
	}
	if withError == 0 {
		t.Error("no course records the failure")
	}
	h.sim.SetFaults(graphsim.Faults{})
	if _, err := engine.Run(context.Background(), h.env(nil), "sync-teams", engine.TeamsStep); err != nil {
		t.Fatal(err)
	}
	for _, tm := range h.sim.State().Teams {
		if !tm.Archived {
			t.Errorf("Team %s not archived after the retry", tm.MailNickname)
		}
	}
}

// A user whose directory look-up failed is neither matched nor remembered as
// unmatched: the failure is reported and the next run looks them up again.
func TestFailedLookupIsNotRemembered(t *testing.T) {
	spec := school.Spec{Seed: 9, Courses: 3, Learners: 30, LearnersPerCourse: 10, OwnersPerCourse: 2, TeamsEnabled: true}
	h := newHarness(t, spec, nil)
	h.sim.SetFaults(graphsim.Faults{Unavailable503Every: 3})
	rep, err := engine.Run(context.Background(), h.env(func(e *engine.Env) {
		e.Graph = msgraph.New(msgraph.Options{BaseURL: h.srv.URL, MaxAttempts: 1,
			TokenSource: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: h.token, TokenType: "Bearer", Expiry: h.now.Add(time.Hour)}),
			Clock:       func() time.Time { return h.now }, Sleep: func(ctx context.Context, d time.Duration) error { return ctx.Err() }})
	}), "sync-users", engine.UsersStep)
	var pe *engine.PartialError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v, want a *engine.PartialError (exit 3): some look-ups failed, the rest matched", err)
	}
	failed := map[int]bool{}
	for _, f := range rep.Failures {
		if f.Kind == reconcile.KindMatchUser && f.ProxyID != 0 {
			failed[f.ProxyID] = true
		}
	}
	if len(failed) == 0 {
		t.Fatal("no look-up failure reported")
	}
	recs, _ := store.New(h.tdb.DB).UserRecords(context.Background(), sortedKeys(failed))
	for id, r := range recs {
		t.Errorf("user %d's failed look-up was recorded as %q", id, r.MatchStatus)
	}
	h.sim.SetFaults(graphsim.Faults{})
	if _, err = engine.Run(context.Background(), h.env(nil), "sync-users", engine.UsersStep); err != nil {
		t.Fatal(err)
	}
	recs, _ = store.New(h.tdb.DB).UserRecords(context.Background(), sortedKeys(failed))
	if len(recs) != len(failed) {
		t.Errorf("%d of %d users looked up again", len(recs), len(failed))
	}
}

func sortedKeys(m map[int]bool) []int {
	var out []int
	for k := range m {
		out = append(out, k)
	}
	return out
}
