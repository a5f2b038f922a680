// Package conformance_test runs the real Graph client (pkg/msgraph) against
// the simulator (pkg/msgraph/graphsim). The two were written apart from
// Microsoft's documentation; here they meet, so a field name, status or
// header that one side got wrong shows up as a failing call rather than
// hiding behind a double that shares the mistake.
package conformance_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/elentra-teams/elentra-teams/pkg/msgraph"
	"github.com/elentra-teams/elentra-teams/pkg/msgraph/graphsim"
)

const (
	tenantID     = "5e1f0000-0000-4000-8000-00000000aaaa"
	clientID     = "5e1f0000-0000-4000-8000-00000000cccc"
	clientSecret = "fake-conformance-secret-not-real"
	adminID      = "5e1f0000-0000-4000-8000-000000000001"
	danaID       = "5e1f0000-0000-4000-8000-000000000002"
	leeID        = "5e1f0000-0000-4000-8000-000000000003"
	samID        = "5e1f0000-0000-4000-8000-000000000004"
	patID        = "5e1f0000-0000-4000-8000-000000000005" // no mailbox
)

// delegatedScopes are the scopes elentra-teams asks for when it authorizes.
var delegatedScopes = []string{"offline_access", "User.ReadBasic.All", "Group.ReadWrite.All", "Team.Create",
	"Team.ReadBasic.All", "TeamMember.ReadWrite.All", "Calendars.ReadWrite"}

func seed() graphsim.Seed {
	return graphsim.Seed{
		TenantID: tenantID,
		Clients:  []graphsim.Client{{ClientID: clientID, ClientSecret: clientSecret, RedirectURIs: []string{"http://127.0.0.1:8400/callback"}}},
		Users: []graphsim.User{
			{ID: adminID, DisplayName: "Medtech Admin", Mail: "medtech.admin@school.example.edu", UserPrincipalName: "medtech.admin@school.example.edu", Mailbox: true},
			{ID: danaID, DisplayName: "Dana Director", Mail: "dana.director@school.example.edu", UserPrincipalName: "ddirector@school.example.edu", Mailbox: true},
			{ID: leeID, DisplayName: "Lee O'Learner", Mail: "lee.olearner@school.example.edu", UserPrincipalName: "llearner@school.example.edu", Mailbox: true},
			{ID: samID, DisplayName: "Sam Student", Mail: "sam.student@school.example.edu", UserPrincipalName: "$sstudent@school.example.edu", Mailbox: true},
			{ID: patID, DisplayName: "Pat Preceptor", Mail: "pat.preceptor@school.example.edu", UserPrincipalName: "ppreceptor@school.example.edu", Mailbox: false},
		},
		SignedInUser: adminID,
	}
}

// clock is the time both sides read. The client's Sleep records the wait
// and moves the clock on instead of waiting, so the simulator sees the time
// pass that the client believes it waited.
type clock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	if d > 0 {
		c.now = c.now.Add(d)
	}
	c.mu.Unlock()
	return ctx.Err()
}

// Advance moves the clock without counting as a wait of the client.
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func (c *clock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// simTokens is the token source the client gets: it hands out the current
// access token and, when the client reports a 401, redeems the refresh token
// at the simulator's token endpoint through x/oauth2, as the tool's own
// refresher does against Microsoft.
type simTokens struct {
	mu        sync.Mutex
	cfg       oauth2.Config
	current   *oauth2.Token
	refreshes int
}

func (s *simTokens) Token() (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.current, nil
}

func (s *simTokens) ForceRefresh(ctx context.Context) (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	stale := &oauth2.Token{RefreshToken: s.current.RefreshToken} // no access token: x/oauth2 must refresh
	t, err := s.cfg.TokenSource(ctx, stale).Token()
	if err != nil {
		return nil, err
	}
	s.current = t
	s.refreshes++
	return t, nil
}

func (s *simTokens) Refreshes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refreshes
}

// env is one simulator served over HTTP and one client aimed at it.
type env struct {
	t      *testing.T
	sim    *graphsim.Sim
	srv    *httptest.Server
	clock  *clock
	tokens *simTokens
	client *msgraph.Client
	opts   msgraph.Options // the client's options, for a second client
	ctx    context.Context
}

// newEnv starts a simulator with opts (its Clock is replaced by the shared
// one) and a client with the defaults the tool runs with, adjusted by mod.
func newEnv(t *testing.T, opts graphsim.Options, mod func(*msgraph.Options)) *env {
	t.Helper()
	clk := &clock{now: time.Date(2025, 9, 1, 8, 0, 0, 0, time.UTC)}
	opts.Clock = clk.Now
	sim := graphsim.New(seed(), opts)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	access, refresh := sim.IssueToken(adminID, delegatedScopes)
	tokens := &simTokens{
		cfg: oauth2.Config{
			ClientID:     clientID,
			ClientSecret: clientSecret,
			Endpoint: oauth2.Endpoint{
				TokenURL:  srv.URL + "/" + tenantID + "/oauth2/v2.0/token",
				AuthStyle: oauth2.AuthStyleInParams,
			},
		},
		current: &oauth2.Token{AccessToken: access, RefreshToken: refresh, TokenType: "Bearer"},
	}
	copts := msgraph.Options{
		BaseURL:     srv.URL,
		TokenSource: tokens,
		HTTPClient:  srv.Client(),
		Clock:       clk.Now,
		Sleep:       clk.Sleep,
		// Jitter pinned at the middle: backoff waits are half their ceiling.
		Random:    func() float64 { return 0.5 },
		UserAgent: "elentra-teams/conformance",
	}
	if mod != nil {
		mod(&copts)
	}
	return &env{t: t, sim: sim, srv: srv, clock: clk, tokens: tokens, client: msgraph.New(copts), opts: copts, ctx: context.Background()}
}

// clientWith returns another client on the same simulator, clock and
// tokens, its options adjusted by mod.
func (e *env) clientWith(mod func(*msgraph.Options)) *msgraph.Client {
	opts := e.opts
	mod(&opts)
	return msgraph.New(opts)
}

// log returns the simulator's request log without the identity endpoints.
func (e *env) graphLog() []graphsim.LoggedRequest {
	var out []graphsim.LoggedRequest
	for _, l := range e.sim.Requests() {
		if strings.HasPrefix(l.Path, "/v1.0") {
			out = append(out, l)
		}
	}
	return out
}

// routes lists "STATUS ROUTE" of every Graph request the simulator answered,
// batch items marked with a leading "  ".
func (e *env) routes() []string {
	var out []string
	for _, l := range e.graphLog() {
		prefix := ""
		if l.InBatch {
			prefix = "  "
		}
		out = append(out, fmt.Sprintf("%s%d %s", prefix, l.Status, l.Route))
	}
	return out
}

// must turns a (value, error) pair into the value, failing the test on an
// error: must(client.Me(ctx))(t).
func must[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// addUsers adds n directory users with ids derived from prefix and returns
// their ids in order.
func (e *env) addUsers(prefix string, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s-0000-4000-8000-%012d", prefix, i+1)
		e.sim.AddUser(graphsim.User{ID: ids[i], DisplayName: fmt.Sprintf("Learner %d", i+1),
			Mail:              fmt.Sprintf("learner%d.%s@school.example.edu", i+1, prefix),
			UserPrincipalName: fmt.Sprintf("l%d.%s@school.example.edu", i+1, prefix)})
	}
	return ids
}

// newGroup creates a Unified group owned by the admin through the client.
func (e *env) newGroup(nick string) *msgraph.Group {
	e.t.Helper()
	return must(e.client.CreateGroup(e.ctx, msgraph.GroupCreate{
		DisplayName: "Course " + nick, MailNickname: nick, Visibility: "Private", OwnerIDs: []string{adminID},
	}))(e.t)
}

// newTeam creates a group and makes it a team through the client.
func (e *env) newTeam(nick string) string {
	e.t.Helper()
	g := e.newGroup(nick)
	must(e.client.CreateTeamFromGroup(e.ctx, g.ID))(e.t)
	return g.ID
}
