package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/elentra-teams/elentra-teams/internal/school"
	"github.com/elentra-teams/elentra-teams/pkg/auth"
	"github.com/elentra-teams/elentra-teams/pkg/config"
	"github.com/elentra-teams/elentra-teams/pkg/elentra"
	"github.com/elentra-teams/elentra-teams/pkg/elentra/elentratest"
	"github.com/elentra-teams/elentra-teams/pkg/msgraph"
	"github.com/elentra-teams/elentra-teams/pkg/msgraph/graphsim"
)

func entry(method, path, route string, status int, inBatch bool) logEntry {
	return logEntry{Method: method, Path: path, Route: route, Status: status, InBatch: inBatch}
}

func TestRawParamTakesIDsHoldingSlashes(t *testing.T) {
	tests := []struct {
		e          logEntry
		name, want string
	}{
		{entry("DELETE", "/v1.0/teams/T1/members/VDEjI3U=/x+y==", "DELETE /teams/{id}/members/{membershipId}", 204, false), "membershipId", "VDEjI3U=/x+y=="},
		{entry("DELETE", "/v1.0/teams/T1/members/VDEjI3U=/x+y==", "DELETE /teams/{id}/members/{membershipId}", 204, false), "id", "T1"},
		{entry("POST", "/v1.0/users/U1/events/AAMk/abc=/cancel", "POST /users/{userId}/events/{eventId}/cancel", 202, false), "eventId", "AAMk/abc="},
		{entry("PUT", "/v1.0/groups/G1/team", "PUT /groups/{id}/team", 201, false), "id", "G1"},
		{entry("GET", "/v1.0/teams/T1", "GET /teams/{id}/members", 200, true), "id", ""}, // path shorter than the route
		{entry("POST", "/v1.0/teams", "POST /teams", 202, false), "id", ""},
	}
	for _, tt := range tests {
		if got := rawParam(tt.e, tt.name); got != tt.want {
			t.Errorf("rawParam(%s %s, %s) = %q, want %q", tt.e.Route, tt.e.Path, tt.name, got, tt.want)
		}
	}
	if got := entry("PUT", "/v1.0/groups/AbC/team", "PUT /groups/{id}/team", 201, false).param("id"); got != "abc" {
		t.Errorf("param lower-cases ids: got %q", got)
	}
}

func TestBoundID(t *testing.T) {
	for ref, want := range map[string]string{
		"https://graph.microsoft.com/v1.0/users('0d0e-1')":           "0d0e-1",
		"https://graph.microsoft.com/v1.0/users(0d0e-1)":             "0d0e-1",
		"https://graph.microsoft.com/v1.0/directoryObjects/0d0e-1":   "0d0e-1",
		"https://graph.microsoft.com/v1.0/users('a%40b.example')":    "a@b.example",
		"https://graph.microsoft.com/v1.0/users/0d0e-1":              "0d0e-1",
		"http://127.0.0.1:8900/v1.0/users('ABCD-ef')":                "ABCD-ef",
		"https://graph.microsoft.com/v1.0/directoryObjects('x-y-z')": "x-y-z",
	} {
		if got := boundID(ref); got != want {
			t.Errorf("boundID(%q) = %q, want %q", ref, got, want)
		}
	}
}

// measure counts served calls per limit, $batch items as calls of their
// own; throttled answers, envelopes and identity requests draw nothing.
func TestMeasureCountsServedCallsPerLimit(t *testing.T) {
	l := graphsim.DefaultLimits()
	entries := []logEntry{
		entry("POST", "/t/oauth2/v2.0/token", "POST /{tenant}/oauth2/v2.0/token", 200, false),
		entry("PUT", "/v1.0/groups/G1/team", "PUT /groups/{id}/team", 201, false),
		entry("PUT", "/v1.0/groups/G2/team", "PUT /groups/{id}/team", 429, false),
		entry("PUT", "/v1.0/groups/G2/team", "PUT /groups/{id}/team", 201, false),
		entry("GET", "/v1.0/teams/G1/members", "GET /teams/{id}/members", 200, true),
		entry("GET", "/v1.0/teams/G2/members", "GET /teams/{id}/members", 429, true),
		entry("POST", "/v1.0/$batch", "POST /$batch", 200, false),
		entry("POST", "/v1.0/teams/G1/members/add", "POST /teams/{id}/members/add", 200, false),
		entry("POST", "/v1.0/groups", "POST /groups", 201, false),
		entry("GET", "/v1.0/groups", "GET /groups", 200, true),
		entry("POST", "/v1.0/users/ORG/events", "POST /users/{userId}/events", 201, false),
		entry("PATCH", "/v1.0/users/ORG/events/E1", "PATCH /users/{userId}/events/{eventId}", 200, true),
	}
	w := measure(entries, l)
	want := map[string]int{
		"TeamFromGroup": 2, "TeamMembersList": 1, "TeamsOther": 1,
		"PerTeam g1": 3, "PerTeam g2": 1, "DirectoryWrites": 1, "MailboxRequests org": 2,
	}
	if !reflect.DeepEqual(w.Tokens, want) {
		t.Errorf("tokens = %v, want %v", w.Tokens, want)
	}
	if got := w.MailboxRequests; !reflect.DeepEqual(got, map[string]int{"org": 1}) {
		t.Errorf("mailbox requests = %v, want the one sent alone", got)
	}
}

func TestDepth(t *testing.T) {
	page := entry("GET", "/v1.0/users", "GET /users", 200, false)
	lookup := entry("GET", "/v1.0/users", "GET /users", 200, true)
	list := entry("GET", "/v1.0/teams/T/members", "GET /teams/{id}/members", 200, true)
	group := entry("POST", "/v1.0/groups", "POST /groups", 201, false)
	team := entry("PUT", "/v1.0/groups/G/team", "PUT /groups/{id}/team", 201, false)
	add := entry("POST", "/v1.0/teams/T/members/add", "POST /teams/{id}/members/add", 200, false)
	throttled := entry("POST", "/v1.0/teams/T/members/add", "POST /teams/{id}/members/add", 429, false)
	tests := []struct {
		name    string
		entries []logEntry
		want    int
	}{
		{"nothing", nil, 0},
		{"three directory pages, one after the other", []logEntry{page, page, page}, 3},
		{"look-ups in $batch are one round trip", []logEntry{lookup, lookup, lookup}, 1},
		{"lookup, create the group, make it a Team", []logEntry{lookup, group, team}, 3},
		{"list then add", []logEntry{list, add, add}, 2},
		{"a throttled write is no stage of its own", []logEntry{list, throttled}, 1},
	}
	for _, tt := range tests {
		if got := depth(tt.entries); got != tt.want {
			t.Errorf("%s: depth = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestLowerBoundTakesTheLargestTerm(t *testing.T) {
	l := graphsim.DefaultLimits()
	rep := func(n int, e logEntry) []logEntry {
		out := make([]logEntry, n)
		for i := range out {
			out[i] = e
		}
		return out
	}
	teamify := func(team string) logEntry {
		return entry("PUT", "/v1.0/groups/"+team+"/team", "PUT /groups/{id}/team", 201, false)
	}
	var teams []logEntry
	for i := range 100 {
		teams = append(teams, teamify(strings.Repeat("x", i+1)))
	}
	tests := []struct {
		name    string
		entries []logEntry
		latency time.Duration
		want    float64
		by      string
	}{
		// 100 Teams at 6 a second, the first 6 at once: 94 / 6 s, plus the
		// last answer's round trip.
		{"team creation rate", teams, 100 * time.Millisecond, 94.0/6 + 0.1, "TeamFromGroup"},
		// one Team written 10 times: 4 at once, then 4 a second.
		{"one busy Team", rep(10, entry("POST", "/v1.0/teams/T/members/add", "POST /teams/{id}/members/add", 200, false)), 0, 6.0 / 4, "PerTeam (busiest Team)"},
		// 3,000 meetings, 4 in flight, 0.1 s each.
		{"mailbox concurrency", rep(3000, entry("POST", "/v1.0/users/O/events", "POST /users/{userId}/events", 201, false)), 100 * time.Millisecond, 75, "mailbox concurrency"},
		// 30 directory pages one after the other.
		{"dependent round trips", rep(30, entry("GET", "/v1.0/users", "GET /users", 200, false)), 100 * time.Millisecond, 3, "latency × 30"},
		{"no work", nil, 100 * time.Millisecond, 0, ""},
	}
	for _, tt := range tests {
		b := lowerBound(measure(tt.entries, l), l, tt.latency)
		if math.Abs(b.Seconds-tt.want) > 1e-9 || !strings.HasPrefix(b.By, tt.by) {
			t.Errorf("%s: bound = %.4f s by %q, want %.4f s by %q…", tt.name, b.Seconds, b.By, tt.want, tt.by)
		}
	}
}

// bulkAddEntry is a served members/add with n members.
func bulkAddEntry(team string, n int) logEntry {
	e := entry("POST", "/v1.0/teams/"+team+"/members/add", "POST /teams/{id}/members/add", 200, false)
	values := make([]map[string]any, n)
	for i := range values {
		values[i] = map[string]any{"roles": []string{}, "user@odata.bind": "https://graph.microsoft.com/v1.0/users('u')"}
	}
	e.Body, _ = json.Marshal(map[string]any{"values": values})
	return e
}

// The count targets follow the formulas: 450 new members of one
// Team are 3 bulk adds, 10 of another 1; 40 Teams are 2 listing batches;
// 1.05 × 6 allows 6 requests, not 7.
func TestEvaluateRequestFormulas(t *testing.T) {
	build := func(memberRequests, noChangeRequests int) *Result {
		members := &CommandResult{Command: "sync-members", Requests: memberRequests,
			entries: []logEntry{bulkAddEntry("A", 200), bulkAddEntry("A", 200), bulkAddEntry("A", 50), bulkAddEntry("B", 10)}}
		return &Result{Teams: 40, Meetings: 120, TimeScale: 1, Phases: []*PhaseResult{
			{Name: phaseInitial, Commands: []*CommandResult{members}},
			{Name: phaseNoChange, Commands: []*CommandResult{{Command: "sync-members", Requests: noChangeRequests}}},
		}}
	}
	find := func(checks []Check, prefix string) Check {
		for _, c := range checks {
			if strings.HasPrefix(c.Target, prefix) {
				return c
			}
		}
		t.Fatalf("no check %q", prefix)
		return Check{}
	}
	tests := []struct {
		members, noChange         int
		membersPass, noChangePass bool
		baselineRatio             float64
		baselinePass              bool
	}{
		{6, 5, true, true, 460.0 / 6, true},
		{7, 6, false, false, 460.0 / 7, true},
	}
	for _, tt := range tests {
		checks := evaluate(build(tt.members, tt.noChange))
		m := find(checks, "initial member sync: requests")
		if m.Limit != 6 || m.Pass != tt.membersPass || !m.Asserted {
			t.Errorf("%d member requests: limit %v pass %v asserted %v, want limit 6 pass %v asserted", tt.members, m.Limit, m.Pass, m.Asserted, tt.membersPass)
		}
		n := find(checks, "no-change run")
		if n.Limit != 5 || n.Pass != tt.noChangePass {
			t.Errorf("%d no-change requests: limit %v pass %v, want limit 5 (2 + 3) pass %v", tt.noChange, n.Limit, n.Pass, tt.noChangePass)
		}
		b := find(checks, "initial member sync: ≥ 50")
		if math.Abs(b.Got-tt.baselineRatio) > 1e-9 || b.Pass != tt.baselinePass {
			t.Errorf("%d member requests: baseline ratio %v pass %v, want %v (460 members, one request each)", tt.members, b.Got, b.Pass, tt.baselineRatio)
		}
	}
}

// A measured baseline replaces the estimate; a command whose writes failed,
// for throttling or not, fails an asserted check; 26 queries miss a
// reported one.
func TestEvaluateUsesMeasuredBaselineAndCountsFailures(t *testing.T) {
	members := &CommandResult{Command: "sync-members", Requests: 10, DBQueries: 26, ThrottledFailures: 1, Failures: 1,
		entries: []logEntry{bulkAddEntry("A", 200)}}
	r := &Result{Teams: 1, TimeScale: 1, Phases: []*PhaseResult{{Name: phaseInitial, Commands: []*CommandResult{members}}},
		Baseline: []*BaselineStep{{Phase: phaseInitial, Command: "sync-members", Requests: 400}}}
	failed := map[string]bool{}
	for _, c := range evaluate(r) {
		if strings.HasPrefix(c.Target, "initial member sync: ≥ 50") && c.Got != 40 {
			t.Errorf("baseline ratio %v, want 400 / 10", c.Got)
		}
		if c.Asserted && !c.Pass {
			failed[c.Target] = true
		}
	}
	for _, want := range []string{"no request finally failing for throttling", "every attempted write lands (failures)", "initial member sync: ≥ 50 × fewer requests than the baseline"} {
		if !failed[want] {
			t.Errorf("asserted check %q passed; failed: %v", want, failed)
		}
	}
	for _, c := range evaluate(r) {
		if c.Target == "≤ 25 database queries per command" && (c.Pass || c.Asserted || c.Got != 26) {
			t.Errorf("queries check = %+v, want 26 reported as missed", c)
		}
	}
}

func TestRouteCounts(t *testing.T) {
	got := routeCounts([]logEntry{
		entry("GET", "/v1.0/teams/A/members", "GET /teams/{id}/members", 200, true),
		entry("GET", "/v1.0/teams/B/members", "GET /teams/{id}/members", 429, true),
		entry("POST", "/v1.0/$batch", "POST /$batch", 200, false),
		entry("POST", "/t/oauth2/v2.0/token", "POST /{tenant}/oauth2/v2.0/token", 200, false),
		entry("POST", "/v1.0/teams/A/members/add", "POST /teams/{id}/members/add", 200, false),
	})
	want := []routeCount{
		{Route: "GET /teams/{id}/members", InBatch: 2},
		{Route: "POST /$batch", Alone: 1},
		{Route: "POST /teams/{id}/members/add", Alone: 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("routeCounts = %+v, want %+v", got, want)
	}
}

func TestParseFlags(t *testing.T) {
	o, asJSON, err := parseFlags([]string{"-scenario", "l", "-latency", "50ms", "-time-scale", "5", "-baseline=false", "-json"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if o.Scenario != "l" || o.Latency != 50*time.Millisecond || o.TimeScale != 5 || o.Baseline || !asJSON {
		t.Errorf("options = %+v, json %v", o, asJSON)
	}
	for _, bad := range [][]string{{"-scenario", "M"}, {"-time-scale", "0"}, {"-latency", "-1s"}, {"extra"}} {
		if _, _, err := parseFlags(bad, &bytes.Buffer{}); err == nil {
			t.Errorf("parseFlags(%v) accepted", bad)
		}
	}
}

func TestScenarios(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	l, _ := scenarioNamed("L", now)
	s, _ := scenarioNamed("s", now)
	if l.Spec.Courses != 2000 || l.Spec.Learners != 30000 || l.Spec.Events != 3000 || l.Spec.LearnersPerCourse != 150 || l.Spec.OwnersPerCourse != 5 {
		t.Errorf("L = %+v", l.Spec)
	}
	if s.Name != "S" || s.Spec.Courses != 200 || s.Spec.Learners != 3000 || s.Spec.Events != 300 || s.Spec.LearnersPerCourse != 150 {
		t.Errorf("S = %+v", s.Spec)
	}
	if !s.Spec.Now.Equal(now) {
		t.Errorf("S is generated for %v, want %v", s.Spec.Now, now)
	}
}

// The spawner passes the exit code through and reports the child's peak
// RSS alone, in KiB: a child holding nothing is charged a few MB, not the
// memory of the test binary that started the spawner, and a child holding
// a 64 MiB string (awk keeps a copy or more) at least that much more.
func TestSpawnerReportsTheChildsPeakRSS(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("peak RSS is read on Linux only")
	}
	spawner, err := build(context.Background(), "cmd/elentra-teams-bench/spawner", t.TempDir(), t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	// The test binary holds 100 MiB while it starts the spawner.
	ballast := bytes.Repeat([]byte{1}, 100<<20)
	measure := func(script string) (int, int64) {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		cmd := exec.Command(spawner, "/bin/sh", "-c", script)
		cmd.ExtraFiles = []*os.File{w}
		_ = cmd.Run()
		w.Close()
		var kib int64
		out, _ := io.ReadAll(r)
		if _, err := fmt.Sscanf(string(out), "maxrss %d", &kib); err != nil {
			t.Fatalf("spawner wrote %q: %v", out, err)
		}
		return cmd.ProcessState.ExitCode(), kib
	}
	code, small := measure("exit 3")
	if code != 3 {
		t.Errorf("exit code %d, want the child's 3", code)
	}
	_, big := measure(`awk 'BEGIN { s = sprintf("%67108864s", ""); print length(s) > "/dev/null" }'`)
	if small <= 0 || small > 16<<10 {
		t.Errorf("a child holding nothing is charged %d KiB, want a few MB (not the test binary's 100 MiB)", small)
	}
	if big-small < 64<<10 || big > 1<<20 {
		t.Errorf("peak RSS %d KiB for nothing, %d KiB for 64 MiB: want the second larger by 64 MiB or more, and under 1 GiB", small, big)
	}
	runtime.KeepAlive(ballast)
}

// The churn moves 2 % of the ordinary learners to the next course list and
// edits 1 % of the events in the horizon; afterwards Elentra's learner rule
// (the tool's own reader) gives what the rule evaluated over the changed
// rows gives.
func TestChurnMovesLearnersBetweenCourses(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Minute)
	spec := school.Spec{Seed: 5, Courses: 12, Learners: 400, LearnersPerCourse: 50, Events: 300, Now: now, TeamsEnabled: true}
	sch := school.Generate(spec)
	tdb := elentratest.New(t, elentratest.WithSetup(func(ctx context.Context, db *elentra.DB) error { return sch.Load(ctx, db) }))
	ctx := context.Background()

	plan := planChurn(sch)
	if len(plan.moves) != 8 { // 400 ordinary learners, one in 50
		t.Errorf("%d learners moved, want 8", len(plan.moves))
	}
	if n := len(plan.retitled) + len(plan.rescheduled); n != 3 { // 300 events, one in 100
		t.Errorf("%d events edited, want 3", n)
	}
	for _, m := range plan.moves {
		if m.from == m.to {
			t.Errorf("learner %d stays in course list %d", m.proxyID, m.from)
		}
	}
	at := now.Add(time.Minute)
	if _, err := applyChurn(ctx, tdb.DB, sch, at); err != nil {
		t.Fatal(err)
	}

	// The rows after the churn, in Go: the old memberships end, new ones
	// start, a minute before the churn.
	changed := *sch
	changed.Members = append([]school.Member(nil), sch.Members...)
	for _, m := range plan.moves {
		for i := range changed.Members {
			if changed.Members[i].ID == m.memberID {
				changed.Members[i].Finish = at.Add(-time.Minute).Unix()
			}
		}
		changed.Members = append(changed.Members, school.Member{GroupID: m.to, ProxyID: m.proxyID, Start: at.Add(-time.Minute).Unix(), Active: true})
	}
	changed.Spec.Now = at
	want := school.ExpectedLearners(&changed)
	var courses []int
	for _, c := range sch.Courses {
		courses = append(courses, c.ID)
	}
	got, err := tdb.DB.Learners(ctx, courses, 1, at)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range courses {
		g, w := append([]int(nil), got[c]...), want[c]
		sort.Ints(g)
		if !reflect.DeepEqual(g, w) && (len(g) > 0 || len(w) > 0) {
			t.Errorf("course %d: learners %v, want %v", c, g, w)
		}
	}
	before := school.ExpectedLearners(sch)
	moved := 0
	for c := range want {
		if !reflect.DeepEqual(before[c], want[c]) {
			moved++
		}
	}
	if moved == 0 {
		t.Error("no course changed its learners")
	}

	var titles []string
	if err := tdb.Root.Select(&titles, "SELECT event_title FROM "+tdb.Table("events")+" WHERE event_title LIKE '% (revised)'"); err != nil {
		t.Fatal(err)
	}
	if len(titles) != len(plan.retitled) {
		t.Errorf("%d events retitled in the database, want %d", len(titles), len(plan.retitled))
	}
	for _, id := range plan.rescheduled {
		var start int64
		if err := tdb.Root.Get(&start, "SELECT event_start FROM "+tdb.Table("events")+" WHERE event_id = ?", id); err != nil {
			t.Fatal(err)
		}
		for _, e := range sch.Events {
			if e.ID == id && start != e.Start+3600 {
				t.Errorf("event %d starts at %d, want an hour after %d", id, start, e.Start)
			}
		}
	}
}

// The baseline writes what the tool wrote, one object per request: a
// replay of a tool's log on a second simulator makes the same Teams,
// members, roles and meetings with one request per member and meeting.
func TestBaselineReplaysOneObjectPerRequest(t *testing.T) {
	ctx := context.Background()
	users := []graphsim.User{{ID: "00000000-0000-4000-8000-0000000000a1", UserPrincipalName: "owner@x.example", Mailbox: true}}
	for _, id := range []string{"b1", "b2", "b3"} {
		users = append(users, graphsim.User{ID: "00000000-0000-4000-8000-0000000000" + id, UserPrincipalName: id + "@x.example", Mailbox: true})
	}
	seed := graphsim.Seed{TenantID: benchTenantID, Clients: []graphsim.Client{{ClientID: benchClientID, ClientSecret: "fake-test-secret", RedirectURIs: []string{benchRedirectURI}}}, Users: users}
	client := func(srv *httptest.Server) *msgraph.Client {
		ts, err := auth.AppTokenSource(ctx, config.Microsoft{TenantID: benchTenantID, ClientID: benchClientID, ClientSecret: "fake-test-secret", Authority: srv.URL}, time.Now)
		if err != nil {
			t.Fatal(err)
		}
		return msgraph.New(msgraph.Options{BaseURL: srv.URL, TokenSource: ts, Sleep: func(ctx context.Context, d time.Duration) error { return ctx.Err() }})
	}
	toolSim, baseSim := graphsim.New(seed, graphsim.Options{}), graphsim.New(seed, graphsim.Options{})
	toolSrv, baseSrv := httptest.NewServer(toolSim), httptest.NewServer(baseSim)
	defer toolSrv.Close()
	defer baseSrv.Close()

	// What the tool does: a group with its owner, its Team, one bulk add,
	// a meeting.
	tool := client(toolSrv)
	g, err := tool.CreateGroup(ctx, msgraph.GroupCreate{DisplayName: "MED 101 Anatomy", MailNickname: "elentra-1-101", Visibility: "Private", OwnerIDs: []string{users[0].ID}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tool.CreateTeamFromGroup(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := tool.AddMembers(ctx, g.ID, []msgraph.MemberAdd{{UserID: users[1].ID}, {UserID: users[2].ID, Owner: true}, {UserID: users[3].ID}}); err != nil {
		t.Fatal(err)
	}
	on := true
	start := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	if _, err := tool.CreateEvent(ctx, users[0].ID, msgraph.EventInput{Subject: "MED 101: Lecture", IsOnlineMeeting: &on, OnlineMeetingProvider: "teamsForBusiness",
		Start: &msgraph.DateTimeTimeZone{DateTime: start.Format("2006-01-02T15:04:05"), TimeZone: "UTC"},
		End:   &msgraph.DateTimeTimeZone{DateTime: start.Add(time.Hour).Format("2006-01-02T15:04:05"), TimeZone: "UTC"}, TransactionID: "elentra-event-1"}); err != nil {
		t.Fatal(err)
	}
	var entries []logEntry
	b, _ := json.Marshal(toolSim.Requests())
	if err := json.Unmarshal(b, &entries); err != nil {
		t.Fatal(err)
	}
	// A throttled answer in the log is no write to replay.
	entries = append(entries, entry("POST", "/v1.0/teams/"+g.ID+"/members/add", "POST /teams/{id}/members/add", http.StatusTooManyRequests, false))

	ops := replayOps(entries)
	if len(ops) != 6 { // group, Team, three members, one meeting
		t.Fatalf("%d writes to replay, want 6", len(ops))
	}
	st := (&baseline{graph: client(baseSrv), scale: 1, latency: 100 * time.Millisecond}).run(ctx, ops)
	if st.Requests != 6 || st.Failures != 0 || st.Writes != 6 {
		t.Errorf("baseline: %+v, want 6 writes in 6 requests without failures", st)
	}
	if math.Abs(st.GraphSeconds-0.6) > 1e-9 {
		t.Errorf("baseline time at Graph's pace %v s, want 6 round trips of 0.1 s without waits", st.GraphSeconds)
	}
	routes := baseSim.State().Counters.ByRoute
	if routes["POST /teams/{id}/members"] != 3 || routes["POST /teams/{id}/members/add"] != 0 || routes["POST /users/{userId}/events"] != 1 {
		t.Errorf("baseline routes %v: want one POST /teams/{id}/members per member, no bulk add, one event", routes)
	}
	toolState, baseState := toolSim.State(), baseSim.State()
	if !reflect.DeepEqual(toolState.Teams, baseState.Teams) {
		t.Errorf("Teams differ:\ntool     %+v\nbaseline %+v", toolState.Teams, baseState.Teams)
	}
	if len(baseState.Events) != 1 || baseState.Events[0].Subject != toolState.Events[0].Subject || baseState.Events[0].ID != toolState.Events[0].ID {
		t.Errorf("meetings differ:\ntool     %+v\nbaseline %+v", toolState.Events, baseState.Events)
	}
}

// Scenario S as CI runs it (ELENTRA_TEAMS_BENCH=S, on the server of
// ELENTRA_TEAMS_TEST_DSN): the whole benchmark, failing when a request
// count exceeds its formula or a write failed. Times, throttling, memory
// and database queries are logged, not asserted.
func TestScenarioS(t *testing.T) {
	if os.Getenv("ELENTRA_TEAMS_BENCH") != "S" {
		t.Skip("set ELENTRA_TEAMS_BENCH=S to run scenario S against a real MySQL/MariaDB (CI does)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	res, err := Run(ctx, Options{Scenario: "S", DSN: defaultDSN(), Latency: 100 * time.Millisecond, TimeScale: 1}, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	var report bytes.Buffer
	writeMarkdown(&report, res)
	t.Log("\n" + report.String())
	for _, c := range res.Checks {
		if c.Asserted && !c.Pass {
			t.Errorf("missed: %s: got %v, limit %v (%s)", c.Target, c.Got, c.Limit, c.Detail)
		}
	}
}

// Started outside the repository, the bench cannot build the binaries it
// runs: it says which build failed and why, and exits 1 (it panicked while
// cleaning up).
func TestAFailedBuildIsSaidAndExits1(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("needs the go command")
	}
	t.Chdir(t.TempDir()) // no go.mod here or above
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // where the bench makes its directory
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"-dsn", "bench:fake-password@tcp(127.0.0.1:1)/", "-baseline=false"}, &out, &errOut)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	msg := errOut.String()
	for _, want := range []string{"elentra-teams-bench: go build cmd/elentra-teams:", "run elentra-teams-bench inside the elentra-teams repository"} {
		if !strings.Contains(msg, want) {
			t.Errorf("stderr does not say %q:\n%s", want, msg)
		}
	}
	if out.Len() != 0 {
		t.Errorf("stdout: %s", out.String())
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "elentra-teams-bench-*")); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}
