package msgraph

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
)

func TestAddMemberSendsConversationMember(t *testing.T) {
	stub := newStub(t,
		step{method: "POST", path: "/teams/ee0f5ae2-8bc6-4ae5-8466-7daeebbfa062/members", status: 201,
			body: `{"@odata.type":"#microsoft.graph.aadUserConversationMember","roles":["owner"],
				"user@odata.bind":"https://graph.microsoft.com/v1.0/users('8b081ef6-4792-4def-b2c9-c363a1bf41d5')"}`,
			reply: `{"@odata.type":"#microsoft.graph.aadUserConversationMember",
				"id":"ZWUwZjVhZTItOGJjNi00YWU1LTg0NjYtN2RhZWViYmZhMDYyIyM3Mzc2MWYwNi0yYWM5LTQ2OWMtOWYxMC0yNzlhOGNjMjY3Zjk=",
				"roles":["owner"],"userId":"50dffbae-ad0f-428e-a86f-f53b0acfc641","displayName":"Cameron White",
				"email":"CameronW@M365x987948.OnMicrosoft.com"}`},
		step{method: "POST", path: "/teams/ee0f5ae2-8bc6-4ae5-8466-7daeebbfa062/members", status: 201,
			body: `{"@odata.type":"#microsoft.graph.aadUserConversationMember","roles":[],
				"user@odata.bind":"https://graph.microsoft.com/v1.0/users('73761f06-2ac9-469c-9f10-279a8cc267f9')"}`,
			reply: `{"id":"m2","roles":[],"userId":"73761f06-2ac9-469c-9f10-279a8cc267f9"}`},
	)
	c := newTestClient(stub.srv, newFakeClock(), nil)
	m, err := c.AddMember(context.Background(), "ee0f5ae2-8bc6-4ae5-8466-7daeebbfa062", "8b081ef6-4792-4def-b2c9-c363a1bf41d5", true)
	if err != nil {
		t.Fatalf("AddMember: %v", err)
	}
	if !m.IsOwner() || m.DisplayName != "Cameron White" || m.ID == "" {
		t.Errorf("member = %+v", m)
	}
	m, err = c.AddMember(context.Background(), "ee0f5ae2-8bc6-4ae5-8466-7daeebbfa062", "73761f06-2ac9-469c-9f10-279a8cc267f9", false)
	if err != nil || m.IsOwner() {
		t.Fatalf("AddMember as member = %+v, %v", m, err)
	}
}

func TestAddMembersReadsPartialSuccess(t *testing.T) {
	stub := newStub(t,
		step{method: "POST", path: "/teams/t1/members/add", status: 207,
			body: `{"values":[
				{"@odata.type":"microsoft.graph.aadUserConversationMember","roles":[],"user@odata.bind":"https://graph.microsoft.com/v1.0/users('18a80140-b0fb-4489-b360-2f6efaf225a0')"},
				{"@odata.type":"microsoft.graph.aadUserConversationMember","roles":["owner"],"user@odata.bind":"https://graph.microsoft.com/v1.0/users('86503198-b81b-43fe-81ee-ad45b8848ac9')"}]}`,
			reply: `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#Collection(microsoft.graph.addConversationMemberResult)",
				"value":[
				 {"@odata.type":"#microsoft.graph.aadUserConversationMemberResult","userId":"18a80140-b0fb-4489-b360-2f6efaf225a0","error":{"code":"NotFound","message":""}},
				 {"@odata.type":"#microsoft.graph.aadUserConversationMemberResult","userId":"86503198-b81b-43fe-81ee-ad45b8848ac9","error":null}]}`},
	)
	c := newTestClient(stub.srv, newFakeClock(), nil)
	results, err := c.AddMembers(context.Background(), "t1", []MemberAdd{
		{UserID: "18a80140-b0fb-4489-b360-2f6efaf225a0"},
		{UserID: "86503198-b81b-43fe-81ee-ad45b8848ac9", Owner: true},
	})
	if err != nil {
		t.Fatalf("AddMembers: %v", err)
	}
	if len(results) != 2 {
		t.Fatalf("%d results, want 2", len(results))
	}
	if r := results[0]; r.UserID != "18a80140-b0fb-4489-b360-2f6efaf225a0" || r.Err == nil || r.Err.Code != "NotFound" || !IsNotFound(r.Err) {
		t.Errorf("first result = %+v, want NotFound", r)
	}
	if r := results[1]; r.UserID != "86503198-b81b-43fe-81ee-ad45b8848ac9" || r.Err != nil {
		t.Errorf("second result = %+v, want success", r)
	}
}

// bulkAddBody is the exact JSON of POST …/members/add for users.
func bulkAddBody(users []string) string {
	type value struct {
		Type  string   `json:"@odata.type"`
		Roles []string `json:"roles"`
		Bind  string   `json:"user@odata.bind"`
	}
	values := make([]value, len(users))
	for i, u := range users {
		values[i] = value{"microsoft.graph.aadUserConversationMember", []string{}, "https://graph.microsoft.com/v1.0/users('" + u + "')"}
	}
	b, _ := json.Marshal(map[string]any{"values": values})
	return string(b)
}

func bulkAddReply(users []string) string {
	type result struct {
		UserID string `json:"userId"`
		Error  any    `json:"error"`
	}
	out := make([]result, len(users))
	for i, u := range users {
		out[i] = result{UserID: u}
	}
	b, _ := json.Marshal(map[string]any{"value": out})
	return string(b)
}

func TestAddMembersSplitsIntoCallsOf200(t *testing.T) {
	var users []string
	var adds []MemberAdd
	for i := range 250 {
		u := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		users = append(users, u)
		adds = append(adds, MemberAdd{UserID: u})
	}
	stub := newStub(t,
		step{method: "POST", path: "/teams/t1/members/add", status: 200, body: bulkAddBody(users[:200]), reply: bulkAddReply(users[:200])},
		step{method: "POST", path: "/teams/t1/members/add", status: 200, body: bulkAddBody(users[200:]), reply: bulkAddReply(users[200:])},
	)
	c := newTestClient(stub.srv, newFakeClock(), nil)
	results, err := c.AddMembers(context.Background(), "t1", adds)
	if err != nil {
		t.Fatalf("AddMembers: %v", err)
	}
	if len(results) != 250 {
		t.Fatalf("%d results, want 250", len(results))
	}
	for i, r := range results {
		if r.UserID != users[i] || r.Err != nil {
			t.Fatalf("result %d = %+v, want %s added", i, r, users[i])
		}
	}
	if got := c.Stats().ByRoute["POST /teams/{id}/members/add"]; got != 2 {
		t.Errorf("bulk add calls = %d, want 2", got)
	}
}

func TestUpdateMemberRoleAndRemoveMember(t *testing.T) {
	// Membership ids are opaque base64 and may hold '/' and '='.
	const membership = "ZWUw/ZjVh+ZTIt=="
	stub := newStub(t,
		step{method: "PATCH", path: "/teams/t1/members/ZWUw%2FZjVh+ZTIt==", status: 200,
			body:  `{"@odata.type":"#microsoft.graph.aadUserConversationMember","roles":["owner"]}`,
			reply: `{"id":"ZWUw/ZjVh+ZTIt==","roles":["owner"]}`},
		step{method: "PATCH", path: "/teams/t1/members/ZWUw%2FZjVh+ZTIt==", status: 200,
			body:  `{"@odata.type":"#microsoft.graph.aadUserConversationMember","roles":[]}`,
			reply: `{"id":"ZWUw/ZjVh+ZTIt==","roles":[]}`},
		step{method: "DELETE", path: "/teams/t1/members/ZWUw%2FZjVh+ZTIt==", status: 204},
	)
	c := newTestClient(stub.srv, newFakeClock(), nil)
	ctx := context.Background()
	if err := c.UpdateMemberRole(ctx, "t1", membership, true); err != nil {
		t.Fatalf("UpdateMemberRole owner: %v", err)
	}
	if err := c.UpdateMemberRole(ctx, "t1", membership, false); err != nil {
		t.Fatalf("UpdateMemberRole member: %v", err)
	}
	if err := c.RemoveMember(ctx, "t1", membership); err != nil {
		t.Fatalf("RemoveMember: %v", err)
	}
	if got := c.Stats().ByRoute["DELETE /teams/{id}/members/{id}"]; got != 1 {
		t.Errorf("stats DELETE route = %d, want 1", got)
	}
}

func TestListMembersPages(t *testing.T) {
	stub := newStub(t,
		step{method: "GET", path: "/teams/t1/members", status: 200,
			reply: `{"@odata.count":3,"value":[{"@odata.type":"#microsoft.graph.aadUserConversationMember","id":"m1","roles":[],"displayName":"Adele Vance","userId":"73761f06-2ac9-469c-9f10-279a8cc267f9","email":"AdeleV@M365x987948.OnMicrosoft.com"}],
				"@odata.nextLink":"{base}/v1.0/teams/t1/members?$skiptoken=2"}`},
		step{method: "GET", path: "/teams/t1/members", query: vals("$skiptoken", "2"), status: 200,
			reply: `{"value":[{"id":"m2","roles":["owner"],"userId":"u2"},{"id":"m3","roles":[],"userId":"u3"}]}`},
	)
	c := newTestClient(stub.srv, newFakeClock(), nil)
	members, err := c.ListMembers(context.Background(), "t1")
	if err != nil {
		t.Fatalf("ListMembers: %v", err)
	}
	var got []string
	for _, m := range members {
		got = append(got, fmt.Sprintf("%s:%s:%v", m.ID, m.UserID, m.IsOwner()))
	}
	want := []string{"m1:73761f06-2ac9-469c-9f10-279a8cc267f9:false", "m2:u2:true", "m3:u3:false"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("members %v, want %v", got, want)
	}
}

func TestListMembersOfTeamsThroughBatch(t *testing.T) {
	stub := newStub(t,
		step{method: "POST", path: "/$batch", status: 200,
			body: `{"requests":[{"id":"1","method":"GET","url":"/teams/t1/members"},
				{"id":"2","method":"GET","url":"/teams/t2/members"},
				{"id":"3","method":"GET","url":"/teams/t3/members"}]}`,
			reply: `{"responses":[
				{"id":"3","status":200,"headers":{"Content-Type":"application/json"},"body":{"value":[]}},
				{"id":"2","status":404,"headers":{"Content-Type":"application/json"},
				 "body":{"error":{"code":"NotFound","message":"No team found with Group Id t2","innerError":{"request-id":"rid-2"}}}},
				{"id":"1","status":200,"headers":{"Content-Type":"application/json"},
				 "body":{"value":[{"id":"m1","userId":"u1","roles":["owner"]}],"@odata.nextLink":"{base}/v1.0/teams/t1/members?$skiptoken=p2"}}]}`},
		// the next page travels in a batch of its own, made relative
		step{method: "POST", path: "/$batch", status: 200,
			body:  `{"requests":[{"id":"1","method":"GET","url":"/teams/t1/members?$skiptoken=p2"}]}`,
			reply: `{"responses":[{"id":"1","status":200,"headers":{"Content-Type":"application/json"},"body":{"value":[{"id":"m2","userId":"u2","roles":[]}]}}]}`},
	)
	c := newTestClient(stub.srv, newFakeClock(), nil)
	members, failures, err := c.ListMembersOfTeams(context.Background(), []string{"t1", "t2", "t3", "t1"})
	if err != nil {
		t.Fatalf("ListMembersOfTeams: %v", err)
	}
	if got := len(members["t1"]); got != 2 {
		t.Errorf("t1 has %d members, want 2 (both pages)", got)
	}
	if list, ok := members["t3"]; !ok || list == nil || len(list) != 0 {
		t.Errorf("t3 = %v (present %v), want an empty, present list", list, ok)
	}
	if _, ok := members["t2"]; ok {
		t.Error("t2 is listed as answered")
	}
	if err := failures["t2"]; !IsNotFound(err) {
		t.Errorf("t2 failure = %v, want not found", err)
	} else if ge, _ := AsError(err); ge.RequestID != "rid-2" || ge.Route != "/teams/t2/members" {
		t.Errorf("t2 error = %+v, want its request id and route", ge)
	}
	if len(failures) != 1 {
		t.Errorf("failures %v, want only t2", failures)
	}
	if got := c.Stats().ByRoute["POST /$batch"]; got != 2 || c.Stats().Requests != 2 {
		t.Errorf("$batch calls = %d of %d requests, want 2 of 2: next pages go in batches too", got, c.Stats().Requests)
	}
}
