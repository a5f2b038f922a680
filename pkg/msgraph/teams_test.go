package msgraph

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

const teamSettingsBody = `{"memberSettings":{"allowCreateUpdateChannels":true},
	"messagingSettings":{"allowUserEditMessages":true,"allowUserDeleteMessages":true},
	"funSettings":{"allowGiphy":true,"giphyContentRating":"strict"}}`

func TestCreateTeamFromGroupRetries404ThenCreated(t *testing.T) {
	notYet := graphErrorJSON("NotFound", "No team found with Group Id 71392b2f-1765-406e-86af-5907d9bdb2ab")
	stub := newStub(t,
		step{method: "PUT", path: "/groups/g1/team", body: teamSettingsBody, status: 404, reply: notYet},
		step{method: "PUT", path: "/groups/g1/team", body: teamSettingsBody, status: 404, reply: notYet},
		step{method: "PUT", path: "/groups/g1/team", body: teamSettingsBody, status: 201,
			reply: `{"id":"g1","displayName":"MED101 Anatomy","isArchived":false,"webUrl":"https://teams.microsoft.com/l/team/x"}`},
	)
	clock := newFakeClock()
	c := newTestClient(stub.srv, clock, nil)
	team, err := c.CreateTeamFromGroup(context.Background(), "g1")
	if err != nil {
		t.Fatalf("CreateTeamFromGroup: %v", err)
	}
	if team.ID != "g1" || team.DisplayName != "MED101 Anatomy" {
		t.Errorf("team = %+v", team)
	}
	if got, want := clock.Sleeps(), durations(10, 10); !reflect.DeepEqual(got, want) {
		t.Errorf("waits %v, want %v (the documented 10 s between retries)", got, want)
	}
}

func TestCreateTeamFromGroupGivesUpAfterThreeRetries(t *testing.T) {
	notYet := graphErrorJSON("NotFound", "No team found")
	var steps []step
	for range 4 {
		steps = append(steps, step{method: "PUT", path: "/groups/g1/team", body: teamSettingsBody, status: 404, reply: notYet})
	}
	stub := newStub(t, steps...)
	clock := newFakeClock()
	c := newTestClient(stub.srv, clock, nil)
	_, err := c.CreateTeamFromGroup(context.Background(), "g1")
	if !IsNotFound(err) {
		t.Fatalf("err = %v, want the last 404", err)
	}
	if got := len(clock.Sleeps()); got != 3 {
		t.Errorf("%d waits, want 3", got)
	}
}

func TestCreateTeamFromGroupConflictFetchesExistingTeam(t *testing.T) {
	stub := newStub(t,
		step{method: "PUT", path: "/groups/g1/team", body: teamSettingsBody, status: 404, reply: graphErrorJSON("NotFound", "No team found")},
		// The first PUT made the team after all: Graph now says it exists,
		// in the reworded message of 2025 that callers must not rely on.
		step{method: "PUT", path: "/groups/g1/team", body: teamSettingsBody, status: 409,
			reply: graphErrorJSON("Conflict", "Exception while invoking endpoint https://graph.microsoft.com/v1.0/groups/g1/team.")},
		step{method: "GET", path: "/teams/g1", status: 200, reply: `{"id":"g1","displayName":"MED101 Anatomy","isArchived":false}`},
	)
	c := newTestClient(stub.srv, newFakeClock(), nil)
	team, err := c.CreateTeamFromGroup(context.Background(), "g1")
	if err != nil || team.ID != "g1" {
		t.Fatalf("CreateTeamFromGroup = %+v, %v; want the existing team", team, err)
	}
}

func TestCreateTeamFromGroupConflictWaitsOutTheTeamsReplication(t *testing.T) {
	notYet := graphErrorJSON("NotFound", "No team found with Group Id g1")
	stub := newStub(t,
		step{method: "PUT", path: "/groups/g1/team", body: teamSettingsBody, status: 404, reply: notYet},
		step{method: "PUT", path: "/groups/g1/team", body: teamSettingsBody, status: 409, reply: graphErrorJSON("Conflict", "Team already exists")},
		// The team the 404 made is not readable yet either.
		step{method: "GET", path: "/teams/g1", status: 404, reply: notYet},
		step{method: "GET", path: "/teams/g1", status: 200, reply: `{"id":"g1","displayName":"MED101 Anatomy","isArchived":false}`},
	)
	clock := newFakeClock()
	c := newTestClient(stub.srv, clock, nil)
	team, err := c.CreateTeamFromGroup(context.Background(), "g1")
	if err != nil || team.ID != "g1" || team.DisplayName != "MED101 Anatomy" {
		t.Fatalf("CreateTeamFromGroup = %+v, %v; want the team once readable", team, err)
	}
	if got, want := clock.Sleeps(), durations(10, 10); !reflect.DeepEqual(got, want) {
		t.Errorf("waits %v, want %v", got, want)
	}
}

func TestCreateTeamFromGroupConflictWithTeamStillHidden(t *testing.T) {
	notYet := graphErrorJSON("NotFound", "No team found with Group Id g1")
	steps := []step{{method: "PUT", path: "/groups/g1/team", body: teamSettingsBody, status: 409, reply: graphErrorJSON("Conflict", "Team already exists")}}
	for range 4 {
		steps = append(steps, step{method: "GET", path: "/teams/g1", status: 404, reply: notYet})
	}
	stub := newStub(t, steps...)
	clock := newFakeClock()
	c := newTestClient(stub.srv, clock, nil)
	team, err := c.CreateTeamFromGroup(context.Background(), "g1")
	// The 409 proved the team exists: a GET that cannot see it yet is no failure.
	if err != nil || team == nil || team.ID != "g1" {
		t.Fatalf("CreateTeamFromGroup = %+v, %v; want the team by its id", team, err)
	}
	if got := len(clock.Sleeps()); got != 3 {
		t.Errorf("%d waits, want 3", got)
	}
}

func operationJSON(status, errJSON string) string {
	return fmt.Sprintf(`{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#teams('a40210cd-0060-4b91-aaa1-a44e0853d979')/operations/$entity",
		"id":"d708ecb3-3325-4f6e-a0f7-2f982901b856","operationType":"createTeam","createdDateTime":"2022-10-31T12:50:44.0819314Z",
		"status":%q,"lastActionDateTime":"2022-10-31T12:50:44.0819314Z","attemptsCount":1,
		"targetResourceId":"a40210cd-0060-4b91-aaa1-a44e0853d979",
		"targetResourceLocation":"/teams('a40210cd-0060-4b91-aaa1-a44e0853d979')",
		"Value":"{\"apps\":[],\"channels\":[],\"WorkflowId\":\"westeurope.0837160b-803e-4279-9f2c-a5cc46ffc748\"}",
		"error":%s}`, status, errJSON)
}

const (
	newTeamID   = "a40210cd-0060-4b91-aaa1-a44e0853d979"
	operationID = "d708ecb3-3325-4f6e-a0f7-2f982901b856"
	opPath      = "/teams('" + newTeamID + "')/operations('" + operationID + "')"
)

var accepted = map[string]string{
	"Location":         opPath,
	"Content-Location": "/teams('" + newTeamID + "')",
}

func TestCreateTeamPollsOperationUntilSucceeded(t *testing.T) {
	stub := newStub(t,
		step{method: "POST", path: "/teams", status: 202, replyHeader: accepted,
			body: `{"template@odata.bind":"https://graph.microsoft.com/v1.0/teamsTemplates('standard')",
				"displayName":"MED101 Anatomy","description":"Anatomy, 2025",
				"members":[{"@odata.type":"#microsoft.graph.aadUserConversationMember","roles":["owner"],
				  "user@odata.bind":"https://graph.microsoft.com/v1.0/users('0040b377-61d8-43db-94f5-81374122dc7e')"}]}`},
		step{method: "GET", path: opPath, status: 200, reply: operationJSON("notStarted", "null")},
		step{method: "GET", path: opPath, status: 200, reply: operationJSON("inProgress", "null")},
		step{method: "GET", path: opPath, status: 200, reply: operationJSON("succeeded", "null")},
	)
	clock := newFakeClock()
	c := newTestClient(stub.srv, clock, nil)
	id, err := c.CreateTeam(context.Background(), TeamCreate{
		DisplayName: "MED101 Anatomy", Description: "Anatomy, 2025",
		Members: []MemberAdd{{UserID: "0040b377-61d8-43db-94f5-81374122dc7e", Owner: true}},
	})
	if err != nil {
		t.Fatalf("CreateTeam: %v", err)
	}
	if id != newTeamID {
		t.Errorf("team id %q, want %q", id, newTeamID)
	}
	if got, want := clock.Sleeps(), durations(5, 5); !reflect.DeepEqual(got, want) {
		t.Errorf("poll waits %v, want %v (PollInterval between polls)", got, want)
	}
	if got := c.Stats().ByRoute["GET /teams/{id}/operations/{id}"]; got != 3 {
		t.Errorf("operation polls counted %d, want 3", got)
	}
}

func TestCreateTeamOperationFailedCarriesItsCode(t *testing.T) {
	stub := newStub(t,
		step{method: "POST", path: "/teams", status: 202, replyHeader: accepted,
			body: `{"template@odata.bind":"https://graph.microsoft.com/v1.0/teamsTemplates('standard')",
				"group@odata.bind":"https://graph.microsoft.com/v1.0/groups('71392b2f-1765-406e-86af-5907d9bdb2ab')"}`},
		step{method: "GET", path: opPath, status: 200, reply: operationJSON("inProgress", "null")},
		step{method: "GET", path: opPath, status: 200,
			reply: operationJSON("failed", `{"code":"GroupOwnerMissing","message":"The group has no owner."}`)},
	)
	c := newTestClient(stub.srv, newFakeClock(), nil)
	_, err := c.CreateTeam(context.Background(), TeamCreate{GroupID: "71392b2f-1765-406e-86af-5907d9bdb2ab"})
	ge, ok := AsError(err)
	if !ok {
		t.Fatalf("err = %v, want *Error", err)
	}
	if ge.Code != "GroupOwnerMissing" || ge.Message != "The group has no owner." || !HasCode(err, "GroupOwnerMissing") {
		t.Errorf("error = %+v, want the operation's code and message", ge)
	}
}

func TestCreateTeamOnGroupRefusesDisplayNameBeforeSending(t *testing.T) {
	stub := newStub(t)
	c := newTestClient(stub.srv, newFakeClock(), nil)
	_, err := c.CreateTeam(context.Background(), TeamCreate{GroupID: "g1", DisplayName: "X"})
	if err == nil {
		t.Fatal("want an error: Graph refuses displayName with group@odata.bind")
	}
}

func TestWaitOperationGivesUpAfterOperationTimeout(t *testing.T) {
	var steps []step
	for range 3 {
		steps = append(steps, step{method: "GET", path: opPath, status: 200, reply: operationJSON("inProgress", "null")})
	}
	stub := newStub(t, steps...)
	c := newTestClient(stub.srv, newFakeClock(), func(o *Options) { o.OperationTimeout = 12 * time.Second })
	_, err := c.WaitOperation(context.Background(), opPath)
	if err == nil || !strings.Contains(err.Error(), "still inProgress") {
		t.Fatalf("err = %v, want a timeout naming the status", err)
	}
}

func TestArchiveTeamWaitsForItsOperation(t *testing.T) {
	archiveOp := "/teams('g1')/operations('op-archive')"
	stub := newStub(t,
		step{method: "POST", path: "/teams/g1/archive", status: 202, replyHeader: map[string]string{"Location": archiveOp}},
		step{method: "GET", path: archiveOp, status: 200, reply: `{"id":"op-archive","operationType":"archiveTeam","status":"inProgress","error":null}`},
		step{method: "GET", path: archiveOp, status: 200, reply: `{"id":"op-archive","operationType":"archiveTeam","status":"succeeded","error":null}`},
	)
	c := newTestClient(stub.srv, newFakeClock(), nil)
	if err := c.ArchiveTeam(context.Background(), "g1"); err != nil {
		t.Fatalf("ArchiveTeam: %v", err)
	}
}

func TestGetAndUpdateTeam(t *testing.T) {
	stub := newStub(t,
		step{method: "GET", path: "/teams/g1", status: 200, reply: `{"id":"g1","displayName":"Old","description":"d","isArchived":true}`},
		step{method: "PATCH", path: "/teams/g1", body: `{"displayName":"New","description":"Desc"}`, status: 204},
	)
	c := newTestClient(stub.srv, newFakeClock(), nil)
	team, err := c.GetTeam(context.Background(), "g1")
	if err != nil || !team.IsArchived || team.DisplayName != "Old" {
		t.Fatalf("GetTeam = %+v, %v", team, err)
	}
	name, desc := "New", "Desc"
	if err := c.UpdateTeam(context.Background(), "g1", TeamUpdate{DisplayName: &name, Description: &desc}); err != nil {
		t.Fatalf("UpdateTeam: %v", err)
	}
}

func TestJoinedTeams(t *testing.T) {
	stub := newStub(t,
		step{method: "GET", path: "/me/joinedTeams", query: vals("$select", "id,displayName,description,isArchived"), status: 200,
			reply: `{"value":[{"id":"t1"},{"id":"t2"}],"@odata.nextLink":"{base}/v1.0/me/joinedTeams?$skiptoken=p2"}`},
		step{method: "GET", path: "/me/joinedTeams", query: vals("$skiptoken", "p2"), status: 200, reply: `{"value":[{"id":"t3"}]}`},
		step{method: "GET", path: "/users/u7/joinedTeams", query: vals("$select", "id"), status: 200, reply: `{"value":[{"id":"t1"}]}`},
	)
	c := newTestClient(stub.srv, newFakeClock(), nil)
	teams, err := c.ListJoinedTeams(context.Background(), "me")
	if err != nil || len(teams) != 3 {
		t.Fatalf("ListJoinedTeams = %v, %v; want 3 teams", teams, err)
	}
	n, err := c.JoinedTeamsCount(context.Background(), "u7")
	if err != nil || n != 1 {
		t.Fatalf("JoinedTeamsCount = %d, %v; want 1", n, err)
	}
}
