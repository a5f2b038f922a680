package msgraph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

const userSel = "id,displayName,mail,userPrincipalName"

func TestListUsersFollowsNextLinkAcrossThreePages(t *testing.T) {
	stub := newStub(t,
		step{method: "GET", path: "/users", query: vals("$select", userSel, "$top", "999"), status: 200,
			reply: `{"@odata.context":"{base}/v1.0/$metadata#users(id,displayName,mail,userPrincipalName)",
				"value":[{"id":"u1","displayName":"Ada","mail":"ada@med.example.edu","userPrincipalName":"ada@med.example.edu"},
				         {"id":"u2","displayName":"Bo","mail":null,"userPrincipalName":"bo@med.example.edu"}],
				"@odata.nextLink":"{base}/v1.0/users?$select=id,displayName,mail,userPrincipalName&$top=999&$skiptoken=RFNwdAIAAQ"}`},
		step{method: "GET", path: "/users", query: vals("$select", userSel, "$top", "999", "$skiptoken", "RFNwdAIAAQ"), status: 200,
			reply: `{"value":[{"id":"u3","displayName":"Cy","mail":"cy@med.example.edu","userPrincipalName":"cy@med.example.edu"},
			                 {"id":"u4","displayName":"Di","mail":"di@med.example.edu","userPrincipalName":"di@med.example.edu"}],
				"@odata.nextLink":"{base}/v1.0/users?$select=id,displayName,mail,userPrincipalName&$top=999&$skiptoken=RFNwdAIAAg"}`},
		step{method: "GET", path: "/users", query: vals("$select", userSel, "$top", "999", "$skiptoken", "RFNwdAIAAg"), status: 200,
			reply: `{"value":[{"id":"u5","displayName":"Ed","mail":"ed@med.example.edu","userPrincipalName":"ed@med.example.edu"}]}`},
	)
	c := newTestClient(stub.srv, newFakeClock(), nil)
	var pageSizes []int
	var ids []string
	err := c.ListUsers(context.Background(), func(page []User) error {
		pageSizes = append(pageSizes, len(page))
		for _, u := range page {
			ids = append(ids, u.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	if want := []int{2, 2, 1}; !reflect.DeepEqual(pageSizes, want) {
		t.Errorf("page sizes %v, want %v", pageSizes, want)
	}
	if want := []string{"u1", "u2", "u3", "u4", "u5"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("ids %v, want %v", ids, want)
	}
	if got := c.Stats().ByRoute["GET /users"]; got != 3 {
		t.Errorf("stats GET /users = %d, want 3", got)
	}
}

func TestListUsersStopsWhenCallbackFails(t *testing.T) {
	stub := newStub(t,
		step{method: "GET", path: "/users", query: vals("$select", userSel, "$top", "999"), status: 200,
			reply: `{"value":[{"id":"u1"}],"@odata.nextLink":"{base}/v1.0/users?$skiptoken=next"}`},
	)
	c := newTestClient(stub.srv, newFakeClock(), nil)
	stop := errors.New("enough")
	if err := c.ListUsers(context.Background(), func([]User) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("err = %v, want the callback's error", err)
	}
}

func TestNextLinkToAnotherHostIsNotFollowed(t *testing.T) {
	stub := newStub(t,
		step{method: "GET", path: "/users", query: vals("$select", userSel, "$top", "999"), status: 200,
			reply: `{"value":[{"id":"u1"}],"@odata.nextLink":"https://collector.example.com/v1.0/users?$skiptoken=x"}`},
	)
	c := newTestClient(stub.srv, newFakeClock(), nil)
	err := c.ListUsers(context.Background(), func([]User) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "not followed") {
		t.Fatalf("err = %v, want a refusal to follow the foreign link", err)
	}
}

func TestFindUsersDoublesQuotesInFilter(t *testing.T) {
	stub := newStub(t,
		step{method: "GET", path: "/users",
			query:  vals("$filter", "mail eq 'o''brien@med.example.edu'", "$select", userSel),
			status: 200, reply: `{"value":[{"id":"u9","mail":"O'Brien@med.example.edu"}]}`},
		step{method: "GET", path: "/users",
			query:  vals("$filter", "userPrincipalName eq 'nobody@med.example.edu'", "$select", userSel),
			status: 200, reply: `{"value":[]}`},
	)
	c := newTestClient(stub.srv, newFakeClock(), nil)
	users, err := c.FindUsers(context.Background(), "mail", "o'brien@med.example.edu")
	if err != nil || len(users) != 1 || users[0].ID != "u9" {
		t.Fatalf("FindUsers = %v, %v; want [u9]", users, err)
	}
	users, err = c.FindUsers(context.Background(), "userPrincipalName", "nobody@med.example.edu")
	if err != nil || len(users) != 0 {
		t.Fatalf("FindUsers = %v, %v; want no user", users, err)
	}
	if _, err := c.FindUsers(context.Background(), "mail eq 'x' or id", "y"); err == nil {
		t.Error("a property name holding an expression was accepted")
	}
}

func TestGetUserUsesKeyFormForDollarUPN(t *testing.T) {
	stub := newStub(t,
		step{method: "GET", path: "/users/8b081ef6-4792-4def-b2c9-c363a1bf41d5", query: vals("$select", userSel),
			status: 200, reply: `{"id":"8b081ef6-4792-4def-b2c9-c363a1bf41d5","displayName":"Cameron White"}`},
		step{method: "GET", path: "/users('$adele@med.example.edu')", query: vals("$select", userSel),
			status: 200, reply: `{"id":"u-dollar","userPrincipalName":"$adele@med.example.edu"}`},
		step{method: "GET", path: "/me", query: vals("$select", userSel),
			status: 200, reply: `{"id":"me-id","displayName":"Admin"}`},
	)
	c := newTestClient(stub.srv, newFakeClock(), nil)
	u, err := c.GetUser(context.Background(), "8b081ef6-4792-4def-b2c9-c363a1bf41d5")
	if err != nil || u.DisplayName != "Cameron White" {
		t.Fatalf("GetUser by id = %+v, %v", u, err)
	}
	u, err = c.GetUser(context.Background(), "$adele@med.example.edu")
	if err != nil || u.ID != "u-dollar" {
		t.Fatalf("GetUser by $UPN = %+v, %v", u, err)
	}
	u, err = c.Me(context.Background())
	if err != nil || u.ID != "me-id" {
		t.Fatalf("Me = %+v, %v", u, err)
	}
}

func TestGetUserNotFound(t *testing.T) {
	stub := newStub(t,
		step{method: "GET", path: "/users/missing@med.example.edu", query: vals("$select", userSel), status: 404,
			reply: `{"error":{"code":"Request_ResourceNotFound","message":"Resource 'missing@med.example.edu' does not exist or one of its queried reference-property objects are not present.","innerError":{"date":"2023-10-27T12:24:36","request-id":"b7dee9ee-d85b-4e7a-8686-74852cbfd85b","client-request-id":"b7dee9ee-d85b-4e7a-8686-74852cbfd85b"}}}`},
	)
	c := newTestClient(stub.srv, newFakeClock(), nil)
	_, err := c.GetUser(context.Background(), "missing@med.example.edu")
	if !IsNotFound(err) {
		t.Fatalf("err = %v, want not found", err)
	}
}

func TestCreateGroupSendsUnifiedGroupWithBinds(t *testing.T) {
	stub := newStub(t,
		step{method: "POST", path: "/groups", status: 201,
			body: `{"displayName":"MED101 Anatomy","description":"Anatomy, 2025","mailNickname":"et-med-101",
				"mailEnabled":true,"securityEnabled":false,"groupTypes":["Unified"],"visibility":"Private",
				"resourceBehaviorOptions":["WelcomeEmailDisabled"],
				"owners@odata.bind":["https://graph.microsoft.com/v1.0/users/o1"],
				"members@odata.bind":["https://graph.microsoft.com/v1.0/users/m1","https://graph.microsoft.com/v1.0/users/m2"]}`,
			reply: `{"id":"g1","displayName":"MED101 Anatomy","mailNickname":"et-med-101","visibility":"Private","resourceProvisioningOptions":[]}`},
	)
	c := newTestClient(stub.srv, newFakeClock(), nil)
	g, err := c.CreateGroup(context.Background(), GroupCreate{
		DisplayName: "MED101 Anatomy", Description: "Anatomy, 2025", MailNickname: "et-med-101", Visibility: "Private",
		OwnerIDs: []string{"o1"}, MemberIDs: []string{"m1", "m2"}, ResourceBehaviorOptions: []string{"WelcomeEmailDisabled"},
	})
	if err != nil {
		t.Fatalf("CreateGroup: %v", err)
	}
	if g.ID != "g1" || g.HasTeam() {
		t.Errorf("group = %+v, want g1 without a team", g)
	}
}

func TestCreateGroupRefusesMoreThan20Binds(t *testing.T) {
	stub := newStub(t)
	c := newTestClient(stub.srv, newFakeClock(), nil)
	var members []string
	for i := range 20 {
		members = append(members, fmt.Sprintf("m%d", i))
	}
	_, err := c.CreateGroup(context.Background(), GroupCreate{DisplayName: "X", MailNickname: "x", OwnerIDs: []string{"o1"}, MemberIDs: members})
	if err == nil || !strings.Contains(err.Error(), "at most 20") {
		t.Fatalf("err = %v, want the 20-bind limit", err)
	}
	if stub.served() != 0 {
		t.Errorf("%d requests sent, want none", stub.served())
	}
}

func TestGroupLookups(t *testing.T) {
	groupSel := "id,displayName,description,mailNickname,visibility,resourceProvisioningOptions"
	stub := newStub(t,
		step{method: "GET", path: "/groups", query: vals("$filter", "mailNickname eq 'et-med-101'", "$select", groupSel),
			status: 200, reply: `{"value":[{"id":"g1","mailNickname":"et-med-101","resourceProvisioningOptions":["Team"]}]}`},
		step{method: "GET", path: "/groups", query: vals("$search", `"mailNickname:et-med"`, "$select", groupSel),
			header: map[string]string{"ConsistencyLevel": "eventual"},
			status: 200, reply: `{"value":[{"id":"g1","mailNickname":"et-med-101"},{"id":"g2","mailNickname":"et-med-102"}]}`},
		step{method: "GET", path: "/groups/g2", query: vals("$select", groupSel),
			status: 200, reply: `{"id":"g2","displayName":"MED102","resourceProvisioningOptions":[]}`},
	)
	c := newTestClient(stub.srv, newFakeClock(), nil)
	ctx := context.Background()
	found, err := c.FindGroupsByMailNickname(ctx, "et-med-101")
	if err != nil || len(found) != 1 || !found[0].HasTeam() {
		t.Fatalf("FindGroupsByMailNickname = %+v, %v; want g1 with a team", found, err)
	}
	searched, err := c.SearchGroupsByMailNickname(ctx, "et-med")
	if err != nil || len(searched) != 2 {
		t.Fatalf("SearchGroupsByMailNickname = %+v, %v; want 2 groups", searched, err)
	}
	g, err := c.GetGroup(ctx, "g2")
	if err != nil || g.DisplayName != "MED102" {
		t.Fatalf("GetGroup = %+v, %v", g, err)
	}
}

// Nickname keys are looked up 20 to a $batch, each by the nickname or its
// prefix, quotes doubled; the answers come back in the order of the keys,
// a failed look-up with its own error.
func TestFindGroupsByNicknameKeysThroughBatch(t *testing.T) {
	groupSel := "id,displayName,description,mailNickname,visibility,resourceProvisioningOptions"
	filter := func(key string) string {
		return "/groups?$filter=mailNickname%20eq%20'" + key + "'%20or%20startswith(mailNickname,'" + key + "-')&$select=" + groupSel
	}
	stub := newStub(t,
		step{method: "POST", path: "/$batch", status: 200,
			body: `{"requests":[{"id":"1","method":"GET","url":"` + filter("et-o1-c1") + `"},
				{"id":"2","method":"GET","url":"` + filter("et-o1-c2''s") + `"}]}`,
			reply: `{"responses":[
				{"id":"2","status":403,"headers":{"Content-Type":"application/json"},
				 "body":{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges"}}},
				{"id":"1","status":200,"headers":{"Content-Type":"application/json"},
				 "body":{"value":[{"id":"g1","mailNickname":"et-o1-c1-MED101","resourceProvisioningOptions":["Team"]}]}}]}`},
	)
	c := newTestClient(stub.srv, newFakeClock(), nil)
	found, err := c.FindGroupsByNicknameKeys(context.Background(), []string{"et-o1-c1", "et-o1-c2's"})
	if err != nil {
		t.Fatalf("FindGroupsByNicknameKeys: %v", err)
	}
	if len(found) != 2 {
		t.Fatalf("%d answers, want 2", len(found))
	}
	if found[0].Err != nil || len(found[0].Found) != 1 || found[0].Found[0].ID != "g1" || !found[0].Found[0].HasTeam() {
		t.Errorf("first key = %+v, want g1 with a Team", found[0])
	}
	if ge, ok := AsError(found[1].Err); !ok || ge.Status != 403 || found[1].Found != nil {
		t.Errorf("second key = %+v, want its 403", found[1])
	}
}

// Directory look-ups go 20 to a $batch with FindUsers' filter and select;
// an invalid property name sends nothing.
func TestFindUsersEachThroughBatch(t *testing.T) {
	stub := newStub(t,
		step{method: "POST", path: "/$batch", status: 200,
			body: `{"requests":[{"id":"1","method":"GET","url":"/users?$filter=mail%20eq%20'o''brien@med.example.edu'&$select=` + userSel + `"},
				{"id":"2","method":"GET","url":"/users?$filter=userPrincipalName%20eq%20'o''brien@med.example.edu'&$select=` + userSel + `"}]}`,
			reply: `{"responses":[
				{"id":"1","status":200,"headers":{"Content-Type":"application/json"},"body":{"value":[]}},
				{"id":"2","status":200,"headers":{"Content-Type":"application/json"},
				 "body":{"value":[{"id":"u9","mail":null,"userPrincipalName":"o'brien@med.example.edu"}]}}]}`},
	)
	c := newTestClient(stub.srv, newFakeClock(), nil)
	ctx := context.Background()
	found, err := c.FindUsersEach(ctx, []UserLookup{{"mail", "o'brien@med.example.edu"}, {"userPrincipalName", "o'brien@med.example.edu"}})
	if err != nil {
		t.Fatalf("FindUsersEach: %v", err)
	}
	if len(found) != 2 || found[0].Err != nil || len(found[0].Found) != 0 || found[1].Err != nil || len(found[1].Found) != 1 || found[1].Found[0].ID != "u9" {
		t.Errorf("answers %+v, want none by mail and u9 by userPrincipalName", found)
	}
	if _, err := c.FindUsersEach(ctx, []UserLookup{{"mail eq 'x' or id", "y"}}); err == nil {
		t.Error("an invalid property name was accepted")
	}
}

func TestUpdateGroupSendsOnlyChangedFields(t *testing.T) {
	stub := newStub(t,
		step{method: "PATCH", path: "/groups/g1", body: `{"displayName":"MED101 Anatomy (2025)"}`, status: 204},
	)
	c := newTestClient(stub.srv, newFakeClock(), nil)
	name := "MED101 Anatomy (2025)"
	if err := c.UpdateGroup(context.Background(), "g1", GroupUpdate{DisplayName: &name}); err != nil {
		t.Fatalf("UpdateGroup: %v", err)
	}
	// Nothing to change: nothing sent (the stub fails on an extra request).
	if err := c.UpdateGroup(context.Background(), "g1", GroupUpdate{}); err != nil {
		t.Fatalf("empty UpdateGroup: %v", err)
	}
	if got := c.Stats().Requests; got != 1 {
		t.Errorf("requests = %d, want 1", got)
	}
}

func TestStatsCountByRouteAndStatus(t *testing.T) {
	stub := newStub(t,
		step{method: "GET", path: "/groups/g1", query: vals("$select", "id,displayName,description,mailNickname,visibility,resourceProvisioningOptions"),
			status: 404, reply: graphErrorJSON("Request_ResourceNotFound", "gone")},
		step{method: "GET", path: "/groups/g2", query: vals("$select", "id,displayName,description,mailNickname,visibility,resourceProvisioningOptions"),
			status: 200, reply: `{"id":"g2"}`},
	)
	c := newTestClient(stub.srv, newFakeClock(), nil)
	c.GetGroup(context.Background(), "g1")
	c.GetGroup(context.Background(), "g2")
	s := c.Stats()
	if s.Requests != 2 || s.ByRoute["GET /groups/{id}"] != 2 || s.ByStatus[http.StatusNotFound] != 1 || s.ByStatus[http.StatusOK] != 1 {
		t.Errorf("stats = %+v", s)
	}
}

func TestSearchGroupsByMailNicknameWords(t *testing.T) {
	groupSel := "id,displayName,description,mailNickname,visibility,resourceProvisioningOptions"
	stub := newStub(t,
		step{method: "GET", path: "/groups", query: vals("$search", `"mailNickname:elentra" AND "mailNickname:o1" AND "mailNickname:c7"`, "$select", groupSel),
			header: map[string]string{"ConsistencyLevel": "eventual"},
			status: 200, reply: `{"value":[{"id":"g7","mailNickname":"GRP-elentra-o1-c7-med-106-EDU"}]}`},
	)
	c := newTestClient(stub.srv, newFakeClock(), nil)
	found, err := c.SearchGroupsByMailNicknameWords(context.Background(), []string{"elentra", "o1", "c7"})
	if err != nil || len(found) != 1 || found[0].ID != "g7" {
		t.Fatalf("= %+v, %v", found, err)
	}
	if _, err := c.SearchGroupsByMailNicknameWords(context.Background(), []string{`a"b`}); err == nil {
		t.Error("a word with a quote was sent")
	}
}
