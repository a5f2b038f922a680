package conformance_test

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/elentra-teams/elentra-teams/pkg/msgraph"
	"github.com/elentra-teams/elentra-teams/pkg/msgraph/graphsim"
)

// assertWaitsHonoured checks, from the simulator's own log and clock, that
// after every 429 the next request came no sooner than the Retry-After it
// announced (announced, the same for every 429 of a fault).
func assertWaitsHonoured(t *testing.T, log []graphsim.LoggedRequest, announced time.Duration) {
	t.Helper()
	throttled := 0
	for i, l := range log {
		if l.Status != http.StatusTooManyRequests {
			continue
		}
		throttled++
		if i+1 == len(log) {
			t.Errorf("the run ended on a 429 (%s)", l.Route)
			continue
		}
		if gap := log[i+1].Time.Sub(l.Time); gap < announced {
			t.Errorf("request %d (%s) came %v after a 429 that asked for %v", i+1, log[i+1].Route, gap, announced)
		}
	}
	if throttled == 0 {
		t.Errorf("no request was throttled: the test proves nothing")
	}
}

func Test429StormsInEveryRetryAfterForm(t *testing.T) {
	tests := []struct {
		form      string
		seconds   float64
		announced time.Duration
	}{
		{graphsim.RetryAfterInt, 4, 4 * time.Second},
		{graphsim.RetryAfterFloat, 2.128, 2128 * time.Millisecond},
		{graphsim.RetryAfterDate, 3, 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.form, func(t *testing.T) {
			e := newEnv(t, graphsim.Options{}, nil)
			e.sim.SetFaults(graphsim.Faults{Throttle429Storm: 3, RetryAfterForm: tt.form, RetryAfterSeconds: tt.seconds})
			me := must(e.client.Me(e.ctx))(t)
			// POST /groups is not idempotent, but a 429 means it was not
			// acted on: it is sent again and makes exactly one group.
			e.sim.SetFaults(graphsim.Faults{Throttle429Storm: 2, RetryAfterForm: tt.form, RetryAfterSeconds: tt.seconds})
			g := e.newGroup("elentra-course-901")
			if me.ID != adminID || g.ID == "" || len(e.sim.State().Groups) != 1 {
				t.Fatalf("run under a 429 storm: me %+v, group %+v, groups %d", me, g, len(e.sim.State().Groups))
			}
			for _, w := range e.clock.Sleeps() {
				if w < tt.announced {
					t.Errorf("waited %v, Retry-After said %v", w, tt.announced)
				}
			}
			if n := len(e.clock.Sleeps()); n != 5 {
				t.Errorf("%d waits, want one per 429 (5)", n)
			}
			assertWaitsHonoured(t, e.graphLog(), tt.announced)
			if c, s := e.sim.Counters().Throttled, e.client.Stats().Throttled; c != 5 || s != 5 {
				t.Errorf("throttled: simulator counted %d, client %d; want 5", c, s)
			}
		})
	}
}

func Test503WithoutRetryAfterBacksOff(t *testing.T) {
	e := newEnv(t, graphsim.Options{}, nil)
	id := e.newTeam("elentra-course-911")
	e.sim.SetFaults(graphsim.Faults{Unavailable503Every: 2})
	for range 3 {
		must(e.client.GetTeam(e.ctx, id))(t)
	}
	must(e.client.ListMembers(e.ctx, id))(t)
	var unavailable int
	for _, r := range e.routes() {
		if strings.HasPrefix(r, "503 ") {
			unavailable++
		}
	}
	// Requests 2, 4 and 6 after the fault is set answer 503; each is waited
	// out with the first backoff step (1 s ceiling, jitter pinned at 0.5).
	if unavailable != 3 {
		t.Errorf("%d answers were 503, want 3: %q", unavailable, e.routes())
	}
	wantWaits := []time.Duration{500 * time.Millisecond, 500 * time.Millisecond, 500 * time.Millisecond}
	if got := e.clock.Sleeps()[len(e.clock.Sleeps())-3:]; !slices.Equal(got, wantWaits) {
		t.Errorf("waits after 503 = %v, want %v", got, wantWaits)
	}
}

func TestBadGatewayOnTeamCreation(t *testing.T) {
	e := newEnv(t, graphsim.Options{}, nil)
	e.sim.SetFaults(graphsim.Faults{BadGatewayTeamCreates: 1})
	// POST /teams is not idempotent: after a 502 nobody knows whether a team
	// was made, so the client must not send it again.
	_, err := e.client.CreateTeam(e.ctx, msgraph.TeamCreate{DisplayName: "MED921"})
	if !errors.Is(err, msgraph.ErrOutcomeUnknown) {
		t.Errorf("CreateTeam after a 502 = %v, want ErrOutcomeUnknown", err)
	}
	// PUT /groups/{id}/team can be repeated: the 502 is retried.
	e.sim.SetFaults(graphsim.Faults{BadGatewayTeamCreates: 1})
	g := e.newGroup("elentra-course-921")
	if _, err := e.client.CreateTeamFromGroup(e.ctx, g.ID); err != nil {
		t.Fatalf("CreateTeamFromGroup after a 502: %v", err)
	}
	if n := len(e.sim.State().Teams); n != 1 {
		t.Errorf("%d teams, want 1", n)
	}
}

func TestExpiredAccessTokenIsRefreshedOnce(t *testing.T) {
	e := newEnv(t, graphsim.Options{}, nil)
	must(e.client.Me(e.ctx))(t)
	e.sim.ExpireAccessTokens()
	me := must(e.client.Me(e.ctx))(t)
	if me.ID != adminID {
		t.Errorf("Me after refresh = %+v", me)
	}
	must(e.client.GetCalendar(e.ctx, "me"))(t)
	if n := e.tokens.Refreshes(); n != 1 {
		t.Errorf("%d refreshes, want 1", n)
	}
	want := []string{"200 GET /me", "401 GET /me", "200 GET /me", "200 GET /me/calendar"}
	if got := e.routes(); !slices.Equal(got, want) {
		t.Errorf("requests = %q, want %q", got, want)
	}
	var tokenCalls []string
	for _, l := range e.sim.Requests() {
		if strings.HasSuffix(l.Route, "/oauth2/v2.0/token") {
			tokenCalls = append(tokenCalls, fmt.Sprint(l.Status))
		}
	}
	if !slices.Equal(tokenCalls, []string{"200"}) {
		t.Errorf("token endpoint answers = %v, want one 200", tokenCalls)
	}

	// A revoked grant cannot be refreshed: the error says so in OAuth terms.
	e.sim.RevokeRefreshTokens()
	e.sim.ExpireAccessTokens()
	_, err := e.client.Me(e.ctx)
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" || !strings.Contains(re.ErrorDescription, "AADSTS70008") {
		t.Errorf("Me with a revoked grant = %v, want invalid_grant AADSTS70008", err)
	}
}

func TestBatchWithMixedStatusesAndThrottledItems(t *testing.T) {
	e := newEnv(t, graphsim.Options{}, nil)
	g := e.newGroup("elentra-course-931")
	groupBody := func(nick string) map[string]any {
		return map[string]any{"displayName": "Course " + nick, "mailNickname": nick, "mailEnabled": true,
			"securityEnabled": false, "groupTypes": []string{"Unified"}}
	}
	reqs := []msgraph.BatchRequest{
		{ID: "1", Method: "GET", URL: "/users/" + danaID + "?$select=id,mail"},
		{ID: "2", Method: "GET", URL: "/users/nobody@school.example.edu"},
		{ID: "3", Method: "GET", URL: "/groups/" + g.ID + "?$select=id,mailNickname"},
		{ID: "4", Method: "POST", URL: "/groups", Body: groupBody("elentra-course-932")},
		{ID: "5", Method: "POST", URL: "/groups", Body: groupBody("elentra-course-931")}, // taken: 400
		{ID: "6", Method: "GET", URL: "/me?$select=id", DependsOn: []string{"5"}},
	}
	// Every 3rd Graph request, batch items included, is throttled: item 3
	// in the first batch, and again when sent alone in the second.
	e.sim.SetFaults(graphsim.Faults{Throttle429Every: 3, RetryAfterSeconds: 2})
	resps := must(e.client.Batch(e.ctx, reqs))(t)
	var got []int
	for _, r := range resps {
		got = append(got, r.Status)
	}
	if want := []int{200, 404, 200, 201, 400, 424}; !slices.Equal(got, want) {
		t.Fatalf("statuses = %v, want %v", got, want)
	}
	var dana msgraph.User
	if err := resps[0].Decode(&dana); err != nil || dana.Mail != "dana.director@school.example.edu" {
		t.Errorf("item 1 = %+v, %v", dana, err)
	}
	if err := resps[1].Err(); !msgraph.IsNotFound(err) {
		t.Errorf("item 2 error = %v", err)
	}
	var g3 msgraph.Group
	if err := resps[2].Decode(&g3); err != nil || g3.MailNickname != "elentra-course-931" {
		t.Errorf("item 3 = %+v, %v", g3, err)
	}
	if err := resps[4].Err(); !msgraph.IsConflict(err) {
		t.Errorf("item 5 error = %v, want the nickname conflict", err)
	}
	want := []string{"200 POST /$batch", "  200 GET /users/{id}", "  404 GET /users/{id}", "  429 GET /groups/{id}",
		"  201 POST /groups", "  400 POST /groups", "200 POST /$batch", "  429 GET /groups/{id}", "200 POST /$batch", "  200 GET /groups/{id}"}
	// The log records a batch envelope after its items.
	log := e.routes()[1:] // after the setup's POST /groups
	if !slices.Equal(reorderBatches(log), want) {
		t.Errorf("requests = %q, want %q", reorderBatches(log), want)
	}
	if got := e.clock.Sleeps(); !slices.Equal(got, []time.Duration{2 * time.Second, 2 * time.Second}) {
		t.Errorf("waits = %v, want the 2 s Retry-After of each throttled item", got)
	}
	if c, s := e.sim.Counters().Throttled, e.client.Stats().Throttled; c != 2 || s != 2 {
		t.Errorf("throttled: simulator %d, client %d; want 2", c, s)
	}
	if n := len(e.sim.State().Groups); n != 2 {
		t.Errorf("%d groups, want 2", n)
	}
}

// reorderBatches moves each "POST /$batch" line in front of the items that
// precede it (the simulator logs the envelope once its items are done).
func reorderBatches(log []string) []string {
	var out, items []string
	for _, l := range log {
		if strings.HasPrefix(l, "  ") {
			items = append(items, l)
			continue
		}
		if strings.HasSuffix(l, "POST /$batch") {
			out = append(out, l)
			out = append(out, items...)
			items = nil
			continue
		}
		out = append(out, items...)
		items = nil
		out = append(out, l)
	}
	return append(out, items...)
}

func TestDryRunRefusesEveryWrite(t *testing.T) {
	e := newEnv(t, graphsim.Options{}, nil)
	teamID := e.newTeam("elentra-course-941")
	m := must(e.client.AddMember(e.ctx, teamID, leeID, false))(t)
	start := time.Date(2025, 9, 5, 9, 0, 0, 0, time.UTC)
	ev := must(e.client.CreateEvent(e.ctx, "me", meeting(t, "Existing", "tx-dry", "", start, "UTC")))(t)
	before := e.sim.State()
	logged := len(e.sim.Requests())

	dry := e.clientWith(func(o *msgraph.Options) { o.DryRun = true })
	name := "renamed"
	writes := map[string]error{}
	_, writes["CreateGroup"] = dry.CreateGroup(e.ctx, msgraph.GroupCreate{DisplayName: "x", MailNickname: "elentra-course-942"})
	writes["UpdateGroup"] = dry.UpdateGroup(e.ctx, teamID, msgraph.GroupUpdate{DisplayName: &name})
	_, writes["CreateTeam"] = dry.CreateTeam(e.ctx, msgraph.TeamCreate{DisplayName: "x"})
	_, writes["CreateTeamFromGroup"] = dry.CreateTeamFromGroup(e.ctx, teamID)
	writes["UpdateTeam"] = dry.UpdateTeam(e.ctx, teamID, msgraph.TeamUpdate{DisplayName: &name})
	writes["ArchiveTeam"] = dry.ArchiveTeam(e.ctx, teamID)
	writes["UnarchiveTeam"] = dry.UnarchiveTeam(e.ctx, teamID)
	_, writes["AddMember"] = dry.AddMember(e.ctx, teamID, samID, false)
	_, writes["AddMembers"] = dry.AddMembers(e.ctx, teamID, []msgraph.MemberAdd{{UserID: samID}})
	writes["UpdateMemberRole"] = dry.UpdateMemberRole(e.ctx, teamID, m.ID, true)
	writes["RemoveMember"] = dry.RemoveMember(e.ctx, teamID, m.ID)
	_, writes["CreateEvent"] = dry.CreateEvent(e.ctx, "me", meeting(t, "New", "tx-new", "", start, "UTC"))
	_, writes["UpdateEvent"] = dry.UpdateEvent(e.ctx, "me", ev.ID, msgraph.EventInput{Subject: "changed"})
	writes["CancelEvent"] = dry.CancelEvent(e.ctx, "me", ev.ID, "")
	writes["DeleteEvent"] = dry.DeleteEvent(e.ctx, "me", ev.ID)
	_, writes["Batch(POST)"] = dry.Batch(e.ctx, []msgraph.BatchRequest{{ID: "1", Method: "GET", URL: "/me"}, {ID: "2", Method: "DELETE", URL: "/groups/" + teamID}})
	for name, err := range writes {
		if !errors.Is(err, msgraph.ErrDryRun) {
			t.Errorf("%s in dry-run: %v, want ErrDryRun", name, err)
		}
	}
	if n := len(e.sim.Requests()) - logged; n != 0 {
		t.Errorf("the refused writes reached the simulator %d times", n)
	}

	// Reads still work, batches of GETs included.
	must(dry.GetTeam(e.ctx, teamID))(t)
	members, failures := must2(dry.ListMembersOfTeams(e.ctx, []string{teamID}))(t)
	if len(members[teamID]) != 2 || len(failures) != 0 {
		t.Errorf("ListMembersOfTeams in dry-run = %v, %v", members, failures)
	}
	must(dry.FindEventsByExtendedProperty(e.ctx, "me", markerID, "x"))(t)
	for _, l := range e.sim.Requests()[logged:] {
		if l.Method != http.MethodGet && l.Route != "POST /$batch" {
			t.Errorf("dry-run sent %s %s", l.Method, l.Path)
		}
	}
	after := e.sim.State()
	if fmt.Sprint(before.Teams, before.Groups, before.Events) != fmt.Sprint(after.Teams, after.Groups, after.Events) {
		t.Errorf("dry-run changed the simulator's state")
	}
}

// must2 is must for calls that return two values and an error.
func must2[A, B any](a A, b B, err error) func(testing.TB) (A, B) {
	return func(t testing.TB) (A, B) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return a, b
	}
}

// With Microsoft's limits on, a burst on one team (4 requests a second) is
// throttled; the client waits every Retry-After out and the run completes.
// At time scale 10 the run has the same shape with waits ten times shorter.
// The client's own pacing is off: this is about its answer to 429s.
func TestClientUnderMicrosoftLimits(t *testing.T) {
	for _, scale := range []float64{1, 10} {
		t.Run(fmt.Sprint("scale ", scale), func(t *testing.T) {
			e := newEnv(t, graphsim.Options{Limits: graphsim.Limits{Enabled: true}, TimeScale: scale}, func(o *msgraph.Options) { o.NoPacing = true })
			id := e.newTeam("elentra-course-961")
			e.clock.Advance(time.Minute) // every bucket full again
			start := len(e.graphLog())
			for range 12 {
				must(e.client.GetTeam(e.ctx, id))(t)
			}
			log := e.graphLog()[start:]
			var statuses []int
			for _, l := range log {
				statuses = append(statuses, l.Status)
			}
			want := []int{200, 200, 200, 200, 429, 200, 200, 200, 200, 429, 200, 200, 200, 200}
			if !slices.Equal(statuses, want) {
				t.Errorf("statuses = %v, want %v", statuses, want)
			}
			announced := time.Duration(float64(time.Second) / scale)
			assertWaitsHonoured(t, log, announced)
			if got := e.clock.Sleeps(); !slices.Equal(got, []time.Duration{announced, announced}) {
				t.Errorf("waits = %v, want two of %v", got, announced)
			}
			c := e.sim.Counters()
			if c.ThrottledByLimit["PerTeam"] != 2 || c.Throttled != e.client.Stats().Throttled {
				t.Errorf("simulator throttled %d (%v), client counted %d", c.Throttled, c.ThrottledByLimit, e.client.Stats().Throttled)
			}
		})
	}
}

// Paced, the client keeps under Microsoft's limits on its own: a burst on
// one team goes at 4 requests a second, and $batch items count one by one
// (member listings: 60 a second), so the service never answers 429.
func TestClientPacesItselfUnderMicrosoftLimits(t *testing.T) {
	e := newEnv(t, graphsim.Options{Limits: graphsim.Limits{Enabled: true}}, nil)
	id := e.newTeam("elentra-course-962")
	var teams []string
	for i := range 40 {
		teams = append(teams, e.newTeam(fmt.Sprintf("elentra-course-%d", 1000+i)))
	}
	e.clock.Advance(time.Minute) // every bucket full again, the client's too
	start, sleeps := len(e.graphLog()), len(e.clock.Sleeps())
	for range 12 {
		must(e.client.GetTeam(e.ctx, id))(t)
	}
	// Half of Microsoft's bucket (2 of 4) at once, then one every 250 ms.
	waits := e.clock.Sleeps()[sleeps:]
	if len(waits) != 10 || slices.ContainsFunc(waits, func(d time.Duration) bool { return d != 250*time.Millisecond }) {
		t.Errorf("waits = %v, want 10 of 250ms", waits)
	}
	for range 3 {
		must2(e.client.ListMembersOfTeams(e.ctx, teams))(t)
	}
	for _, l := range e.graphLog()[start:] {
		if l.Status == http.StatusTooManyRequests {
			t.Errorf("%s %s answered 429 although the client paces itself", l.Method, l.Path)
		}
	}
	if c := e.sim.Counters(); c.Throttled != 0 || e.client.Stats().Throttled != 0 {
		t.Errorf("throttled: simulator %d (%v), client %d", c.Throttled, c.ThrottledByLimit, e.client.Stats().Throttled)
	}
}
