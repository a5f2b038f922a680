package conformance_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/elentra-teams/elentra-teams/pkg/msgraph"
	"github.com/elentra-teams/elentra-teams/pkg/msgraph/graphsim"
)

func teamState(t *testing.T, sim *graphsim.Sim, id string) graphsim.TeamState {
	t.Helper()
	for _, ts := range sim.State().Teams {
		if ts.ID == id {
			return ts
		}
	}
	t.Fatalf("team %s is not in the simulator's state", id)
	return graphsim.TeamState{}
}

// roles maps user id → "owner" or "member" for a team in the simulator.
func roles(ts graphsim.TeamState) map[string]string {
	out := map[string]string{}
	for _, m := range ts.Members {
		out[m.UserID] = "member"
		if slices.Contains(m.Roles, "owner") {
			out[m.UserID] = "owner"
		}
	}
	return out
}

func TestTeamFromGroupWithPut(t *testing.T) {
	e := newEnv(t, graphsim.Options{}, nil)
	g := e.newGroup("elentra-course-201")
	team := must(e.client.CreateTeamFromGroup(e.ctx, g.ID))(t)
	if team.ID != g.ID || team.DisplayName != "Course elentra-course-201" || team.IsArchived || !strings.HasPrefix(team.WebURL, "https://teams.microsoft.com/") {
		t.Errorf("CreateTeamFromGroup = %+v", team)
	}
	if got := must(e.client.GetGroup(e.ctx, g.ID))(t); !got.HasTeam() {
		t.Errorf("group after PUT /team: resourceProvisioningOptions %v, want Team", got.ResourceProvisioningOptions)
	}
	got := must(e.client.GetTeam(e.ctx, g.ID))(t)
	if got.ID != g.ID || got.DisplayName != team.DisplayName {
		t.Errorf("GetTeam = %+v", got)
	}

	name, desc := "MED201 Physiology", "Elentra course 201"
	if err := e.client.UpdateTeam(e.ctx, g.ID, msgraph.TeamUpdate{DisplayName: &name, Description: &desc}); err != nil {
		t.Fatal(err)
	}
	if ts := teamState(t, e.sim, g.ID); ts.DisplayName != name || ts.Description != desc {
		t.Errorf("after UpdateTeam the simulator holds %q / %q", ts.DisplayName, ts.Description)
	}
	if err := e.client.UpdateTeam(e.ctx, g.ID, msgraph.TeamUpdate{}); err != nil {
		t.Fatal(err)
	}

	// A second PUT meets the team: the client treats the 409 as done.
	again := must(e.client.CreateTeamFromGroup(e.ctx, g.ID))(t)
	if again.ID != g.ID {
		t.Errorf("CreateTeamFromGroup on a team = %+v", again)
	}
	if _, err := e.client.GetTeam(e.ctx, "5e1f0000-dead-4000-8000-000000000000"); !msgraph.IsNotFound(err) {
		t.Errorf("GetTeam(unknown) = %v, want not found", err)
	}
}

func TestTeamCreateWithPostFromTemplateAndFromGroup(t *testing.T) {
	e := newEnv(t, graphsim.Options{}, nil)
	id := must(e.client.CreateTeam(e.ctx, msgraph.TeamCreate{
		DisplayName: "MED301 Pathology", Description: "Elentra course 301", Visibility: "Private",
		Members: []msgraph.MemberAdd{{UserID: danaID, Owner: true}, {UserID: leeID}},
	}))(t)
	ts := teamState(t, e.sim, id)
	if ts.DisplayName != "MED301 Pathology" || ts.Description != "Elentra course 301" {
		t.Errorf("team from template: %+v", ts)
	}
	want := map[string]string{adminID: "owner", danaID: "owner", leeID: "member"}
	if got := roles(ts); !mapsEqual(got, want) {
		t.Errorf("members = %v, want %v", got, want)
	}
	// 202, then the operation is polled until it succeeds, PollInterval apart.
	wantRoutes := []string{"202 POST /teams", "200 GET /teams/{id}/operations/{opId}", "200 GET /teams/{id}/operations/{opId}"}
	if got := e.routes(); !slices.Equal(got, wantRoutes) {
		t.Errorf("requests = %q, want %q", got, wantRoutes)
	}
	if got := e.clock.Sleeps(); !slices.Equal(got, []time.Duration{msgraph.DefaultPollInterval}) {
		t.Errorf("waits = %v, want one poll interval", got)
	}

	g := e.newGroup("elentra-course-302")
	fromGroup := must(e.client.CreateTeam(e.ctx, msgraph.TeamCreate{GroupID: g.ID, Description: "Elentra course 302"}))(t)
	if fromGroup != g.ID {
		t.Errorf("CreateTeam(group) = %s, want the group id %s", fromGroup, g.ID)
	}
	if got := must(e.client.GetTeam(e.ctx, g.ID))(t); got.DisplayName != "Course elentra-course-302" || got.Description != "Elentra course 302" {
		t.Errorf("team on the group = %+v", got)
	}
	// The group has its team now: POST /teams again is a conflict, not a second team.
	if _, err := e.client.CreateTeam(e.ctx, msgraph.TeamCreate{GroupID: g.ID}); !msgraph.IsConflict(err) {
		t.Errorf("second POST /teams on the group: %v, want a conflict", err)
	}
}

func TestArchiveAndUnarchive(t *testing.T) {
	e := newEnv(t, graphsim.Options{}, nil)
	id := e.newTeam("elentra-course-401")
	if err := e.client.ArchiveTeam(e.ctx, id); err != nil {
		t.Fatal(err)
	}
	if got := must(e.client.GetTeam(e.ctx, id))(t); !got.IsArchived {
		t.Errorf("after ArchiveTeam: isArchived false")
	}
	if err := e.client.UnarchiveTeam(e.ctx, id); err != nil {
		t.Fatal(err)
	}
	if got := must(e.client.GetTeam(e.ctx, id))(t); got.IsArchived {
		t.Errorf("after UnarchiveTeam: isArchived true")
	}
	var ops int
	for _, r := range e.routes() {
		if r == "202 POST /teams/{id}/archive" || r == "202 POST /teams/{id}/unarchive" {
			ops++
		}
	}
	if ops != 2 {
		t.Errorf("requests = %q, want one archive and one unarchive answered 202", e.routes())
	}
}

func TestFailedOperationsAreSurfacedWithTheirCode(t *testing.T) {
	e := newEnv(t, graphsim.Options{}, nil)
	id := e.newTeam("elentra-course-402")
	e.sim.SetFaults(graphsim.Faults{FailOperations: true})

	teamID, err := e.client.CreateTeam(e.ctx, msgraph.TeamCreate{DisplayName: "MED402 Never"})
	ge, ok := msgraph.AsError(err)
	if !ok || ge.Code != "InternalServerError" || !strings.Contains(ge.Message, "createTeam") {
		t.Fatalf("CreateTeam with a failing operation: %v", err)
	}
	if teamID == "" {
		t.Errorf("the failed create did not say which team it was for")
	}
	// The operation answered: the outcome is known (failed), not unknown.
	if !msgraph.HasCode(err, "InternalServerError") || errors.Is(err, msgraph.ErrOutcomeUnknown) {
		t.Errorf("err = %v", err)
	}
	err = e.client.ArchiveTeam(e.ctx, id)
	if ge, ok := msgraph.AsError(err); !ok || ge.Code != "InternalServerError" {
		t.Errorf("ArchiveTeam with a failing operation: %v", err)
	}
	if teamState(t, e.sim, id).Archived {
		t.Errorf("a failed archive archived the team")
	}
}

func TestJoinedTeamsPage(t *testing.T) {
	e := newEnv(t, graphsim.Options{PageSize: 2}, nil)
	var ids []string
	for _, nick := range []string{"c1", "c2", "c3", "c4", "c5"} {
		ids = append(ids, e.newTeam("elentra-course-"+nick))
	}
	joined := must(e.client.ListJoinedTeams(e.ctx, "me"))(t)
	var got []string
	for _, tm := range joined {
		got = append(got, tm.ID)
	}
	slices.Sort(got)
	slices.Sort(ids)
	if !slices.Equal(got, ids) {
		t.Errorf("ListJoinedTeams = %v, want %v", got, ids)
	}
	if n := must(e.client.JoinedTeamsCount(e.ctx, "me"))(t); n != 5 {
		t.Errorf("JoinedTeamsCount = %d, want 5", n)
	}
	pages := 0
	for _, r := range e.routes() {
		if r == "200 GET /me/joinedTeams" {
			pages++
		}
	}
	if pages != 6 { // 3 pages for each of the two calls
		t.Errorf("joinedTeams pages fetched = %d, want 6", pages)
	}
}

func TestPutTeamRetriesReplication404(t *testing.T) {
	e := newEnv(t, graphsim.Options{}, nil)
	// The fault counts calls on groups created after it is set.
	e.sim.SetFaults(graphsim.Faults{NotFoundAfterCreate: 2})
	g := e.newGroup("elentra-course-502")
	team := must(e.client.CreateTeamFromGroup(e.ctx, g.ID))(t)
	if team.ID != g.ID {
		t.Errorf("CreateTeamFromGroup = %+v", team)
	}
	wantWaits := []time.Duration{msgraph.DefaultTeamCreate404Delay, msgraph.DefaultTeamCreate404Delay}
	if got := e.clock.Sleeps(); !slices.Equal(got, wantWaits) {
		t.Errorf("waits = %v, want %v", got, wantWaits)
	}
	puts := 0
	for _, r := range e.routes() {
		if strings.HasSuffix(r, "PUT /groups/{id}/team") {
			puts++
		}
	}
	if puts != 3 {
		t.Errorf("PUT /groups/{id}/team sent %d times, want 3 (two 404s, then 201)", puts)
	}
	_ = teamState(t, e.sim, g.ID)

	// Replication that outlasts the three retries is reported, not hidden.
	e.sim.SetFaults(graphsim.Faults{NotFoundAfterCreate: 10})
	g = e.newGroup("elentra-course-503")
	if _, err := e.client.CreateTeamFromGroup(e.ctx, g.ID); !msgraph.IsNotFound(err) {
		t.Errorf("CreateTeamFromGroup after 4 404s: %v, want not found", err)
	}
}

// TeamifyDespite404: the PUT answered 404 made the team all the same, so the
// retry meets 409, which the client must take as done.
func TestPutTeam404ThatTeamifiedThen409(t *testing.T) {
	e := newEnv(t, graphsim.Options{}, nil)
	e.sim.SetFaults(graphsim.Faults{NotFoundAfterCreate: 1, TeamifyDespite404: true})
	g := e.newGroup("elentra-course-601")
	team, err := e.client.CreateTeamFromGroup(e.ctx, g.ID)
	if err != nil {
		t.Fatalf("CreateTeamFromGroup: %v (requests %q)", err, e.routes())
	}
	if team.ID != g.ID {
		t.Errorf("CreateTeamFromGroup = %+v", team)
	}
	var puts []string
	for _, r := range e.routes() {
		if strings.HasSuffix(r, "PUT /groups/{id}/team") {
			puts = append(puts, r)
		}
	}
	if !slices.Equal(puts, []string{"404 PUT /groups/{id}/team", "409 PUT /groups/{id}/team"}) {
		t.Errorf("PUTs = %q, want a 404 then a 409", puts)
	}
	if n := len(e.sim.State().Teams); n != 1 {
		t.Errorf("%d teams exist, want 1", n)
	}
}

func TestMembers(t *testing.T) {
	e := newEnv(t, graphsim.Options{PageSize: 2}, nil)
	id := e.newTeam("elentra-course-701")

	m := must(e.client.AddMember(e.ctx, id, leeID, false))(t)
	if m.UserID != leeID || m.IsOwner() || m.ID == "" || m.Email != "lee.olearner@school.example.edu" {
		t.Errorf("AddMember = %+v", m)
	}
	must(e.client.AddMember(e.ctx, id, danaID, true))(t)
	must(e.client.AddMember(e.ctx, id, samID, false))(t)

	// Four members, two a page: the client follows @odata.nextLink.
	list := must(e.client.ListMembers(e.ctx, id))(t)
	got := map[string]bool{}
	for _, mm := range list {
		got[mm.UserID] = mm.IsOwner()
	}
	want := map[string]bool{adminID: true, danaID: true, leeID: false, samID: false}
	if !mapsEqual(got, want) {
		t.Errorf("ListMembers owners = %v, want %v", got, want)
	}

	if err := e.client.UpdateMemberRole(e.ctx, id, m.ID, true); err != nil {
		t.Fatal(err)
	}
	if r := roles(teamState(t, e.sim, id)); r[leeID] != "owner" {
		t.Errorf("after UpdateMemberRole(owner) lee is %q", r[leeID])
	}
	if err := e.client.UpdateMemberRole(e.ctx, id, m.ID, false); err != nil {
		t.Fatal(err)
	}
	if err := e.client.RemoveMember(e.ctx, id, m.ID); err != nil {
		t.Fatal(err)
	}
	if r := roles(teamState(t, e.sim, id)); r[leeID] != "" || len(r) != 3 {
		t.Errorf("after RemoveMember: %v", r)
	}
	if err := e.client.RemoveMember(e.ctx, id, m.ID); !msgraph.IsNotFound(err) {
		t.Errorf("removing a removed membership: %v, want not found", err)
	}
	if _, err := e.client.ListMembers(e.ctx, "5e1f0000-dead-4000-8000-000000000000"); !msgraph.IsNotFound(err) {
		t.Errorf("ListMembers(unknown team) = %v, want not found", err)
	}
}

// More than 200 adds travel in several calls; a 207 is read user by user.
func TestAddMembersInBulk(t *testing.T) {
	e := newEnv(t, graphsim.Options{}, nil)
	id := e.newTeam("elentra-course-801")
	learners := e.addUsers("5e1f2222", 230)
	failing := []string{learners[3], learners[215]}
	e.sim.SetFaults(graphsim.Faults{BulkAddFailUserIDs: failing})

	adds := []msgraph.MemberAdd{{UserID: danaID, Owner: true}}
	for _, l := range learners {
		adds = append(adds, msgraph.MemberAdd{UserID: l})
	}
	results, err := e.client.AddMembers(e.ctx, id, adds)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != len(adds) {
		t.Fatalf("%d results for %d adds", len(results), len(adds))
	}
	for i, r := range results {
		if r.UserID != adds[i].UserID {
			t.Fatalf("result %d is for %s, want %s (order of adds)", i, r.UserID, adds[i].UserID)
		}
		shouldFail := slices.Contains(failing, r.UserID)
		if (r.Err != nil) != shouldFail {
			t.Errorf("user %s: err %v, want failure %v", r.UserID, r.Err, shouldFail)
		}
		if shouldFail && (r.Err.Code != "NotFound" || !msgraph.IsNotFound(r.Err)) {
			t.Errorf("user %s: err %+v, want code NotFound", r.UserID, r.Err)
		}
	}
	var calls []string
	for _, r := range e.routes() {
		if strings.HasSuffix(r, "/members/add") {
			calls = append(calls, r)
		}
	}
	// Both chunks hold a failing user, so both answer 207.
	if !slices.Equal(calls, []string{"207 POST /teams/{id}/members/add", "207 POST /teams/{id}/members/add"}) {
		t.Errorf("bulk calls = %q, want two 207s", calls)
	}
	r := roles(teamState(t, e.sim, id))
	if len(r) != 1+len(adds)-len(failing) || r[danaID] != "owner" || r[learners[0]] != "member" || r[learners[3]] != "" {
		t.Errorf("team holds %d members (dana %q), want %d", len(r), r[danaID], 1+len(adds)-len(failing))
	}

	// All fine → 200, and adding existing members again changes nothing.
	e.sim.SetFaults(graphsim.Faults{})
	again, err := e.client.AddMembers(e.ctx, id, adds[:3])
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range again {
		if res.Err != nil {
			t.Errorf("re-adding %s: %v", res.UserID, res.Err)
		}
	}
	if got := len(roles(teamState(t, e.sim, id))); got != len(r) {
		t.Errorf("re-adding changed the member count to %d", got)
	}
}

func TestListMembersOfTeamsThroughBatch(t *testing.T) {
	e := newEnv(t, graphsim.Options{PageSize: 2}, nil)
	var ids []string
	for i, nick := range []string{"b1", "b2", "b3"} {
		id := e.newTeam("elentra-course-" + nick)
		ids = append(ids, id)
		for _, u := range []string{leeID, samID, danaID}[:i+1] {
			must(e.client.AddMember(e.ctx, id, u, false))(t)
		}
	}
	missing := "5e1f0000-dead-4000-8000-000000000000"
	members, failures, err := e.client.ListMembersOfTeams(e.ctx, append(ids, missing))
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		if n := len(members[id]); n != i+2 { // the admin owner plus i+1 added
			t.Errorf("team %d: %d members, want %d", i+1, n, i+2)
		}
	}
	if _, ok := members[missing]; ok || !msgraph.IsNotFound(failures[missing]) {
		t.Errorf("missing team: members %v, failure %v", members[missing], failures[missing])
	}
	if len(failures) != 1 {
		t.Errorf("failures = %v", failures)
	}
}

func mapsEqual[K comparable, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
