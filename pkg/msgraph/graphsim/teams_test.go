package graphsim

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

var locationPattern = regexp.MustCompile(`^/teams\('([0-9a-f-]{36})'\)/operations\('([0-9a-f-]{36})'\)$`)

func TestPutTeam(t *testing.T) {
	h := newHarness(t, Options{})
	gid := h.do("POST", "/v1.0/groups", groupBody("ANAT-1", map[string]any{"members@odata.bind": []string{userBind(aliceID)}})).str("id")
	r := h.do("PUT", "/v1.0/groups/"+gid+"/team", map[string]any{"memberSettings": map[string]any{"allowCreateUpdateChannels": false},
		"funSettings": map[string]any{"allowGiphy": true, "giphyContentRating": "strict"}})
	expectStatus(t, r, 201)
	if r.str("id") != gid || r.json["isArchived"] != false || r.json["memberSettings"].(map[string]any)["allowCreateUpdateChannels"] != false {
		t.Errorf("team = %s", r.raw)
	}
	expectError(t, h.do("PUT", "/v1.0/groups/"+gid+"/team", map[string]any{}), 409, "Conflict")
	prov := h.do("GET", "/v1.0/groups/"+gid, nil).json["resourceProvisioningOptions"].([]any)
	if len(prov) != 1 || prov[0] != "Team" {
		t.Errorf("resourceProvisioningOptions = %v", prov)
	}
	// The group's owner (the caller) shows as a team owner, its member as a member.
	roles := map[string]string{}
	for _, m := range h.do("GET", "/v1.0/teams/"+gid+"/members", nil).values() {
		rl := m["roles"].([]any)
		roles[m["userId"].(string)] = fmt.Sprint(rl)
	}
	if roles[adminID] != "[owner]" || roles[aliceID] != "[]" || len(roles) != 2 {
		t.Errorf("team roles = %v", roles)
	}
	expectError(t, h.do("PUT", "/v1.0/groups/"+gid+"/team", map[string]any{"funSettings": map[string]any{"allowGifs": true}}), 400, "BadRequest")
	expectError(t, h.do("PUT", "/v1.0/groups/99999999-0000-4000-8000-000000000000/team", map[string]any{}), 404, "NotFound")
}

func TestReplicationFault(t *testing.T) {
	h := newHarness(t, Options{Faults: Faults{NotFoundAfterCreate: 2}})
	gid := h.createGroup("REPL-1")
	for i := 0; i < 2; i++ {
		expectError(t, h.do("PUT", "/v1.0/groups/"+gid+"/team", map[string]any{}), 404, "NotFound")
	}
	expectStatus(t, h.do("PUT", "/v1.0/groups/"+gid+"/team", map[string]any{}), 201)
	// The new team is itself not visible for the next two calls.
	expectError(t, h.do("GET", "/v1.0/teams/"+gid, nil), 404, "NotFound")
	expectError(t, h.do("GET", "/v1.0/teams/"+gid+"/members", nil), 404, "NotFound")
	expectStatus(t, h.do("GET", "/v1.0/teams/"+gid, nil), 200)

	// PUT answered 404 yet the team was made: the retry meets 409.
	h.sim.SetFaults(Faults{NotFoundAfterCreate: 1, TeamifyDespite404: true})
	gid = h.createGroup("REPL-2")
	expectError(t, h.do("PUT", "/v1.0/groups/"+gid+"/team", map[string]any{}), 404, "NotFound")
	expectError(t, h.do("PUT", "/v1.0/groups/"+gid+"/team", map[string]any{}), 409, "Conflict")
}

func (h *harness) pollOperation(location string) map[string]any {
	h.t.Helper()
	r := h.do("GET", "/v1.0"+location, nil)
	expectStatus(h.t, r, 200)
	return r.json
}

func TestPostTeamAndOperationWalk(t *testing.T) {
	h := newHarness(t, Options{OperationPolls: 3})
	r := h.do("POST", "/v1.0/teams", map[string]any{
		"template@odata.bind": "https://graph.microsoft.com/v1.0/teamsTemplates('standard')",
		"displayName":         "Anatomy 101 (2025)", "description": "Gross anatomy",
		"members": []any{member(aliceID, "owner")},
	})
	expectStatus(t, r, 202)
	if len(r.raw) != 0 {
		t.Errorf("202 has a body: %s", r.raw)
	}
	loc := r.header.Get("Location")
	m := locationPattern.FindStringSubmatch(loc)
	if m == nil {
		t.Fatalf("Location = %q, want /teams('{id}')/operations('{op}')", loc)
	}
	teamID := m[1]
	if cl := r.header.Get("Content-Location"); cl != "/teams('"+teamID+"')" {
		t.Errorf("Content-Location = %q", cl)
	}
	var statuses []string
	for i := 0; i < 3; i++ {
		op := h.pollOperation(loc)
		statuses = append(statuses, op["status"].(string))
		if op["operationType"] != "createTeam" || op["targetResourceId"] != teamID || op["targetResourceLocation"] != "/teams('"+teamID+"')" || op["attemptsCount"] != float64(1) {
			t.Errorf("operation = %v", op)
		}
		if v, has := op["error"]; !has || v != nil {
			t.Errorf("error = %v, want null", v)
		}
	}
	if got := strings.Join(statuses, ","); got != "notStarted,inProgress,succeeded" {
		t.Errorf("operation walk = %s", got)
	}
	// Also reachable as /teams/{id}/operations/{op}.
	if op := h.pollOperation("/teams/" + teamID + "/operations/" + m[2]); op["status"] != "succeeded" {
		t.Errorf("path form: %v", op)
	}
	team := h.do("GET", "/v1.0/teams/"+teamID, nil)
	if team.str("displayName") != "Anatomy 101 (2025)" || team.str("description") != "Gross anatomy" {
		t.Errorf("team = %s", team.raw)
	}
	// The nickname is derived by the service, not chosen by the client.
	g := h.do("GET", "/v1.0/groups/"+teamID, nil)
	if g.str("mailNickname") != "Anatomy1012025" {
		t.Errorf("derived mailNickname = %q", g.str("mailNickname"))
	}
	owners := map[string]bool{}
	for _, mm := range h.do("GET", "/v1.0/teams/"+teamID+"/members", nil).values() {
		if fmt.Sprint(mm["roles"]) == "[owner]" {
			owners[mm["userId"].(string)] = true
		}
	}
	if !owners[adminID] || !owners[aliceID] {
		t.Errorf("owners = %v, want the delegated creator and the named owner", owners)
	}
}

func TestOperationDefaultsAndFailure(t *testing.T) {
	h := newHarness(t, Options{})
	gid := h.createGroup("OPS-1")
	r := h.do("POST", "/v1.0/teams", map[string]any{"template@odata.bind": "https://graph.microsoft.com/v1.0/teamsTemplates('standard')",
		"group@odata.bind": "https://graph.microsoft.com/v1.0/groups('" + gid + "')"})
	expectStatus(t, r, 202)
	loc := r.header.Get("Location")
	if s := h.pollOperation(loc)["status"]; s != "notStarted" {
		t.Errorf("first poll = %v", s)
	}
	if s := h.pollOperation(loc)["status"]; s != "succeeded" {
		t.Errorf("second poll = %v, want succeeded by default", s)
	}
	expectError(t, h.do("POST", "/v1.0/teams", map[string]any{"template@odata.bind": "https://graph.microsoft.com/v1.0/teamsTemplates('standard')",
		"group@odata.bind": "https://graph.microsoft.com/v1.0/groups('" + gid + "')"}), 409, "Conflict")

	// A description may come with the group binding (only displayName,
	// visibility, specialization and members are inherited and refused).
	described := h.createGroup("OPS-3")
	expectStatus(t, h.do("POST", "/v1.0/teams", map[string]any{"template@odata.bind": "https://graph.microsoft.com/v1.0/teamsTemplates('standard')",
		"group@odata.bind": "https://graph.microsoft.com/v1.0/groups('" + described + "')", "description": "Histology, 2025"}), 202)
	if d := h.do("GET", "/v1.0/teams/"+described, nil).str("description"); d != "Histology, 2025" {
		t.Errorf("description of a team made from a group = %q", d)
	}

	// One second of clock time finishes an operation at its first poll.
	r = h.do("POST", "/v1.0/teams/"+gid+"/archive", nil)
	expectStatus(t, r, 202)
	h.clock.Advance(time.Second)
	if s := h.pollOperation(r.header.Get("Location")); s["status"] != "succeeded" || s["operationType"] != "archiveTeam" {
		t.Errorf("archive operation = %v", s)
	}
	if h.do("GET", "/v1.0/teams/"+gid, nil).json["isArchived"] != true {
		t.Errorf("team not archived")
	}
	expectStatus(t, h.do("POST", "/v1.0/teams/"+gid+"/unarchive", nil), 202)
	if h.do("GET", "/v1.0/teams/"+gid, nil).json["isArchived"] != false {
		t.Errorf("team still archived")
	}

	h.sim.SetFaults(Faults{FailOperations: true})
	gid = h.createGroup("OPS-2")
	r = h.do("POST", "/v1.0/teams", map[string]any{"template@odata.bind": "https://graph.microsoft.com/v1.0/teamsTemplates('standard')",
		"group@odata.bind": "https://graph.microsoft.com/v1.0/groups('" + gid + "')"})
	loc = r.header.Get("Location")
	h.pollOperation(loc)
	op := h.pollOperation(loc)
	opErr, _ := op["error"].(map[string]any)
	if op["status"] != "failed" || opErr["code"] == nil || opErr["message"] == nil {
		t.Errorf("failed operation = %v", op)
	}
	expectError(t, h.do("GET", "/v1.0/teams/"+gid, nil), 404, "NotFound")
}

func TestPostTeamValidation(t *testing.T) {
	h := newHarness(t, Options{})
	tmpl := "https://graph.microsoft.com/v1.0/teamsTemplates('standard')"
	gid := h.createGroup("VAL-1")
	gbind := "https://graph.microsoft.com/v1.0/groups('" + gid + "')"
	noType := member(aliceID)
	delete(noType, "@odata.type")
	noBind := member(aliceID)
	delete(noBind, "user@odata.bind")
	badType := member(aliceID)
	badType["@odata.type"] = "#microsoft.graph.conversationMember"
	cases := []struct {
		name string
		body map[string]any
	}{
		{"no template", map[string]any{"displayName": "X"}},
		{"no displayName", map[string]any{"template@odata.bind": tmpl}},
		{"mailNickname", map[string]any{"template@odata.bind": tmpl, "displayName": "X", "mailNickname": "x"}},
		{"group bind with displayName", map[string]any{"template@odata.bind": tmpl, "group@odata.bind": gbind, "displayName": "X"}},
		{"group bind with visibility", map[string]any{"template@odata.bind": tmpl, "group@odata.bind": gbind, "visibility": "Private"}},
		{"group bind with members", map[string]any{"template@odata.bind": tmpl, "group@odata.bind": gbind, "members": []any{member(aliceID)}}},
		{"member without @odata.type", map[string]any{"template@odata.bind": tmpl, "displayName": "X", "members": []any{noType}}},
		{"member with wrong @odata.type", map[string]any{"template@odata.bind": tmpl, "displayName": "X", "members": []any{badType}}},
		{"member without user bind", map[string]any{"template@odata.bind": tmpl, "displayName": "X", "members": []any{noBind}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			expectError(t, h.do("POST", "/v1.0/teams", tc.body), 400, "BadRequest")
		})
	}
	expectError(t, h.do("POST", "/v1.0/teams", ""), 400, "BadRequest")

	// @odata.type without '#' is accepted, as the bulk-add doc writes it.
	plain := member(aliceID)
	plain["@odata.type"] = "microsoft.graph.aadUserConversationMember"
	expectStatus(t, h.do("POST", "/v1.0/teams", map[string]any{"template@odata.bind": tmpl, "displayName": "Plain", "members": []any{plain}}), 202)
	expectStatus(t, h.do("POST", "/v1.0/teams", map[string]any{"template@odata.bind": "https://graph.microsoft.com/v1.0/teamsTemplates(%27standard%27)", "displayName": "Escaped"}), 202)
	expectError(t, h.do("POST", "/v1.0/teams", map[string]any{"template@odata.bind": "https://graph.microsoft.com/v1.0/teamsTemplates('nonesuch')", "displayName": "X"}), 404, "NotFound")

	app, _ := h.sim.IssueToken("", nil)
	h.token = app
	expectError(t, h.do("POST", "/v1.0/teams", map[string]any{"template@odata.bind": tmpl, "displayName": "App", "members": []any{member(aliceID)}}), 400, "BadRequest")
	expectStatus(t, h.do("POST", "/v1.0/teams", map[string]any{"template@odata.bind": tmpl, "displayName": "App", "members": []any{member(aliceID, "owner")}}), 202)
}

func TestBadGatewayOnTeamCreation(t *testing.T) {
	h := newHarness(t, Options{Faults: Faults{BadGatewayTeamCreates: 1}})
	gid := h.createGroup("GW-1")
	expectError(t, h.do("PUT", "/v1.0/groups/"+gid+"/team", map[string]any{}), 502, "BadGateway")
	expectStatus(t, h.do("PUT", "/v1.0/groups/"+gid+"/team", map[string]any{}), 201)
}

func TestMembers(t *testing.T) {
	h := newHarness(t, Options{})
	tid := h.createTeam("MEM-1")

	r := h.do("POST", "/v1.0/teams/"+tid+"/members", member(aliceID))
	expectStatus(t, r, 201)
	mid := r.str("id")
	decoded, err := base64.StdEncoding.DecodeString(mid)
	if err != nil || string(decoded) != tid+"##"+aliceID {
		t.Errorf("membership id %q decodes to %q, want teamId##userId", mid, decoded)
	}
	if r.str("@odata.type") != "#microsoft.graph.aadUserConversationMember" || r.str("userId") != aliceID ||
		r.str("displayName") != "Alice Learner" || r.str("email") != "Alice.Learner@school.example" || len(r.json["roles"].([]any)) != 0 {
		t.Errorf("member = %s", r.raw)
	}
	// Adding an existing member again answers 201 with the membership unchanged.
	r = h.do("POST", "/v1.0/teams/"+tid+"/members", member(aliceID, "owner"))
	if r.status != 201 || r.str("id") != mid || len(r.json["roles"].([]any)) != 0 {
		t.Errorf("duplicate add: %d %s", r.status, r.raw)
	}
	expectError(t, h.do("POST", "/v1.0/teams/"+tid+"/members", member("99999999-0000-4000-8000-000000000000")), 404, "NotFound")

	r = h.do("PATCH", "/v1.0/teams/"+tid+"/members/"+url.PathEscape(mid), map[string]any{"@odata.type": "#microsoft.graph.aadUserConversationMember", "roles": []string{"owner"}})
	if r.status != 200 || fmt.Sprint(r.json["roles"]) != "[owner]" {
		t.Errorf("PATCH roles: %d %s", r.status, r.raw)
	}
	got := h.do("GET", "/v1.0/teams/"+tid+"/members?$filter="+url.QueryEscape("(microsoft.graph.aadUserConversationMember/userId eq '"+aliceID+"')"), nil).values()
	if len(got) != 1 || got[0]["id"] != mid {
		t.Errorf("filter by userId = %v", got)
	}
	expectStatus(t, h.do("DELETE", "/v1.0/teams/"+tid+"/members/"+url.PathEscape(mid), nil), 204)
	expectError(t, h.do("DELETE", "/v1.0/teams/"+tid+"/members/"+url.PathEscape(mid), nil), 404, "NotFound")
	expectError(t, h.do("GET", "/v1.0/teams/99999999-0000-4000-8000-000000000000/members", nil), 404, "NotFound")
}

func TestBulkAddMembers(t *testing.T) {
	h := newHarness(t, Options{})
	tid := h.createTeam("BULK-1")
	plain := member(aliceID)
	plain["@odata.type"] = "microsoft.graph.aadUserConversationMember"
	r := h.do("POST", "/v1.0/teams/"+tid+"/members/add", map[string]any{"values": []any{plain, member(bobID, "owner")}})
	expectStatus(t, r, 200)
	if !strings.HasSuffix(r.str("@odata.context"), "#Collection(microsoft.graph.aadUserConversationMemberResult)") {
		t.Errorf("context = %q", r.str("@odata.context"))
	}
	for _, v := range r.values() {
		if v["@odata.type"] != "#microsoft.graph.aadUserConversationMemberResult" || v["error"] != nil {
			t.Errorf("result = %v", v)
		}
	}
	// Existing members are not an error and nothing changes.
	expectStatus(t, h.do("POST", "/v1.0/teams/"+tid+"/members/add", map[string]any{"values": []any{member(bobID)}}), 200)
	ghost := "99999999-0000-4000-8000-000000000000"
	r = h.do("POST", "/v1.0/teams/"+tid+"/members/add", map[string]any{"values": []any{member(ghost), member(carolID)}})
	expectStatus(t, r, 207)
	results := map[string]any{}
	for _, v := range r.values() {
		results[v["userId"].(string)] = v["error"]
	}
	if e, _ := results[ghost].(map[string]any); e["code"] != "NotFound" {
		t.Errorf("unknown user result = %v", results[ghost])
	}
	if results[carolID] != nil {
		t.Errorf("carol = %v, want added", results[carolID])
	}
	st := h.sim.State().Teams[0]
	roles := map[string]string{}
	for _, m := range st.Members {
		roles[m.UserID] = fmt.Sprint(m.Roles)
	}
	if roles[bobID] != "[owner]" || roles[aliceID] != "[]" || roles[carolID] != "[]" || roles[adminID] != "[owner]" || len(roles) != 4 {
		t.Errorf("state members = %v", roles)
	}

	h.sim.SetFaults(Faults{BulkAddFailUserIDs: []string{aliceID}})
	tid2 := h.createTeam("BULK-2")
	r = h.do("POST", "/v1.0/teams/"+tid2+"/members/add", map[string]any{"values": []any{member(aliceID), member(bobID)}})
	expectStatus(t, r, 207)
	h.sim.SetFaults(Faults{})

	var values []any
	for i := 0; i < 201; i++ {
		values = append(values, member(aliceID))
	}
	expectError(t, h.do("POST", "/v1.0/teams/"+tid+"/members/add", map[string]any{"values": values}), 400, "BadRequest")
	noRoles := member(aliceID)
	delete(noRoles, "roles")
	expectError(t, h.do("POST", "/v1.0/teams/"+tid+"/members/add", map[string]any{"values": []any{noRoles}}), 400, "BadRequest")
	expectError(t, h.do("POST", "/v1.0/teams/"+tid+"/members/add", map[string]any{"values": []any{}}), 400, "BadRequest")

	// TeamMember.ReadWriteNonOwnerRole.All cannot add owners.
	h.token, _ = h.sim.IssueToken(adminID, []string{"TeamMember.ReadWriteNonOwnerRole.All"})
	expectStatus(t, h.do("POST", "/v1.0/teams/"+tid+"/members/add", map[string]any{"values": []any{member(aliceID)}}), 200)
	expectError(t, h.do("POST", "/v1.0/teams/"+tid+"/members/add", map[string]any{"values": []any{member(aliceID, "owner")}}), 403, "Forbidden")
}

func TestMembersPagingAndJoinedTeams(t *testing.T) {
	h := newHarness(t, Options{PageSize: 2})
	tid := h.createTeam("PAGE-1")
	h.createTeam("PAGE-2")
	h.createTeam("PAGE-3")
	h.do("POST", "/v1.0/teams/"+tid+"/members/add", map[string]any{"values": []any{member(aliceID), member(bobID), member(carolID)}})
	var n int
	for next := "/v1.0/teams/" + tid + "/members"; next != ""; {
		r := h.do("GET", next, nil)
		expectStatus(t, r, 200)
		n += len(r.values())
		next = r.str("@odata.nextLink")
	}
	if n != 4 {
		t.Errorf("paged members = %d, want 4", n)
	}
	r := h.do("GET", "/v1.0/me/joinedTeams", nil)
	if len(r.values()) != 2 || r.str("@odata.nextLink") == "" {
		t.Errorf("joinedTeams first page = %s", r.raw)
	}
	if got := h.do("GET", "/v1.0/users/"+aliceID+"/joinedTeams", nil).values(); len(got) != 1 || got[0]["id"] != tid {
		t.Errorf("alice's joinedTeams = %v", got)
	}
}

func TestTeamFromGroupWithoutOwner(t *testing.T) {
	h := newHarness(t, Options{})
	gid := h.createGroup("NOOWNER-1")
	// No Graph route removes a group's last owner here, so drop it directly.
	h.sim.mu.Lock()
	h.sim.groups[gid].memberships = nil
	h.sim.mu.Unlock()
	expectError(t, h.do("POST", "/v1.0/teams", map[string]any{"template@odata.bind": "https://graph.microsoft.com/v1.0/teamsTemplates('standard')",
		"group@odata.bind": "https://graph.microsoft.com/v1.0/groups('" + gid + "')"}), 400, "BadRequest")
	expectError(t, h.do("PUT", "/v1.0/groups/"+gid+"/team", map[string]any{}), 400, "BadRequest")
}

func TestConcurrentClients(t *testing.T) {
	h := newHarness(t, Options{})
	tid := h.createTeam("CONC-1")
	start := time.Date(2025, 3, 12, 14, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			tx := fmt.Sprintf("tx-%d", i%4) // four distinct events, each posted four times
			if r := h.do("POST", "/v1.0/me/events", eventBody("Concurrent", tx, start, "UTC")); r.status != 201 {
				errs <- fmt.Sprintf("event %d: %d", i, r.status)
			}
			if r := h.do("POST", "/v1.0/teams/"+tid+"/members/add", map[string]any{"values": []any{member(aliceID), member(bobID)}}); r.status != 200 {
				errs <- fmt.Sprintf("members %d: %d", i, r.status)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	st := h.sim.State()
	if len(st.Events) != 4 || len(st.Teams[0].Members) != 3 {
		t.Errorf("after concurrent retries: %d events, %d members; want 4 and 3", len(st.Events), len(st.Teams[0].Members))
	}
}
