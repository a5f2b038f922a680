package graphsim

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestGraphAuthentication(t *testing.T) {
	h := newHarness(t, Options{})
	r := h.do("GET", "/v1.0/me", nil, "Authorization", "-", "client-request-id", "c0ffee00-0000-4000-8000-000000000001")
	expectError(t, r, 401, "InvalidAuthenticationToken")
	inner, _ := r.json["error"].(map[string]any)["innerError"].(map[string]any)
	if inner["request-id"] == "" || inner["request-id"] != r.header.Get("request-id") || inner["date"] == nil {
		t.Errorf("innerError = %v, request-id header %q", inner, r.header.Get("request-id"))
	}
	if inner["client-request-id"] != "c0ffee00-0000-4000-8000-000000000001" || r.header.Get("client-request-id") != "c0ffee00-0000-4000-8000-000000000001" {
		t.Errorf("client-request-id not echoed: header %q, innerError %v", r.header.Get("client-request-id"), inner["client-request-id"])
	}
	if r.header.Get("Content-Type") != "application/json" {
		t.Errorf("Content-Type = %q", r.header.Get("Content-Type"))
	}
	expectError(t, h.do("GET", "/v1.0/me", nil, "Authorization", "Bearer not-a-token"), 401, "InvalidAuthenticationToken")

	expectStatus(t, h.do("GET", "/v1.0/me", nil), 200)
	h.sim.ExpireAccessTokens()
	expectError(t, h.do("GET", "/v1.0/me", nil), 401, "InvalidAuthenticationToken")

	fresh, _ := h.sim.IssueToken(adminID, guideScopes)
	h.token = fresh
	h.clock.Advance(61 * time.Minute)
	expectError(t, h.do("GET", "/v1.0/me", nil), 401, "InvalidAuthenticationToken")
}

func TestScopesAreEnforced(t *testing.T) {
	h := newHarness(t, Options{})
	h.token, _ = h.sim.IssueToken(adminID, []string{"User.Read"})
	expectStatus(t, h.do("GET", "/v1.0/me", nil), 200)
	expectError(t, h.do("GET", "/v1.0/users", nil), 403, "Authorization_RequestDenied")
	expectError(t, h.do("POST", "/v1.0/teams", map[string]any{}), 403, "Forbidden")
	expectError(t, h.do("GET", "/v1.0/me/events", nil), 403, "ErrorAccessDenied")
	// The prefixed spelling of a scope counts the same.
	h.token, _ = h.sim.IssueToken(adminID, []string{"https://graph.microsoft.com/User.ReadBasic.All"})
	expectStatus(t, h.do("GET", "/v1.0/users", nil), 200)
}

func TestUsers(t *testing.T) {
	h := newHarness(t, Options{})
	r := h.do("GET", "/v1.0/users/"+aliceID, nil)
	expectStatus(t, r, 200)
	for _, k := range []string{"id", "displayName", "mail", "userPrincipalName", "businessPhones", "givenName", "surname", "jobTitle", "mobilePhone", "officeLocation", "preferredLanguage"} {
		if _, ok := r.json[k]; !ok {
			t.Errorf("default user properties lack %q: %s", k, r.raw)
		}
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q", ct)
	}
	if r.header.Get("request-id") == "" {
		t.Errorf("no request-id header")
	}

	for _, path := range []string{"/v1.0/users/alice@school.example", "/v1.0/users('ALICE@school.example')"} {
		if r := h.do("GET", path, nil); r.status != 200 || r.str("id") != aliceID {
			t.Errorf("%s: %d %s", path, r.status, r.raw)
		}
	}
	r = h.do("GET", "/v1.0/users/"+aliceID+"?$select=id,mail", nil)
	if len(r.json) != 3 || r.str("mail") != "Alice.Learner@school.example" { // id, mail, @odata.context
		t.Errorf("$select=id,mail gave %s", r.raw)
	}
	expectError(t, h.do("GET", "/v1.0/users/"+aliceID+"?$select=shoeSize", nil), 400, "Request_BadRequest")

	r = h.do("GET", "/v1.0/users/nobody@school.example", nil)
	expectError(t, r, 404, "Request_ResourceNotFound")
	if msg := r.json["error"].(map[string]any)["message"].(string); !strings.Contains(msg, "nobody@school.example") {
		t.Errorf("message = %q", msg)
	}

	filter := func(f string) []map[string]any {
		t.Helper()
		r := h.do("GET", "/v1.0/users?$select=id&$filter="+url.QueryEscape(f), nil)
		expectStatus(t, r, 200)
		return r.values()
	}
	if got := filter("mail eq 'alice.learner@SCHOOL.example'"); len(got) != 1 || got[0]["id"] != aliceID {
		t.Errorf("mail filter (any case) = %v", got)
	}
	if got := filter("userPrincipalName eq 'bob@school.example'"); len(got) != 1 || got[0]["id"] != bobID {
		t.Errorf("upn filter = %v", got)
	}
	h.sim.AddUser(User{ID: "aaaaaaaa-0000-4000-8000-000000000009", DisplayName: "Dana O'Neil", Mail: "dana.o'neil@school.example", UserPrincipalName: "dana@school.example"})
	if got := filter("mail eq 'dana.o''neil@school.example'"); len(got) != 1 {
		t.Errorf("doubled quote in filter = %v", got)
	}
	if got := filter("mail eq 'nobody@school.example'"); len(got) != 0 {
		t.Errorf("no match should be an empty value, got %v", got)
	}
	expectError(t, h.do("GET", "/v1.0/users?$filter="+url.QueryEscape("shoeSize eq '9'"), nil), 400, "Request_UnsupportedQuery")
	expectError(t, h.do("GET", "/v1.0/users?$top=1000", nil), 400, "Request_UnsupportedQuery")
}

func TestUsersPaging(t *testing.T) {
	h := newHarness(t, Options{PageSize: 3})
	for i := 0; i < 20; i++ {
		h.sim.AddUser(User{ID: fmt.Sprintf("bbbbbbbb-0000-4000-8000-%012d", i), DisplayName: fmt.Sprintf("Learner %d", i),
			Mail: fmt.Sprintf("l%d@school.example", i), UserPrincipalName: fmt.Sprintf("l%d@school.example", i)})
	}
	collect := func(first string) (ids []string, pages int) {
		next := first
		for next != "" {
			r := h.do("GET", next, nil)
			expectStatus(t, r, 200)
			for _, u := range r.values() {
				ids = append(ids, u["id"].(string))
			}
			pages++
			next = r.str("@odata.nextLink")
			if next != "" && !strings.HasPrefix(next, h.srv.URL+"/v1.0/users?") {
				t.Fatalf("nextLink %q is not an absolute URL on the simulator", next)
			}
		}
		return ids, pages
	}
	ids, pages := collect("/v1.0/users?$select=id,mail")
	if len(ids) != 24 || pages != 8 {
		t.Errorf("default page size 3: %d users in %d pages, want 24 in 8", len(ids), pages)
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Errorf("user %s appears twice across pages", id)
		}
		seen[id] = true
	}
	ids, pages = collect("/v1.0/users?$select=id&$top=10")
	if len(ids) != 24 || pages != 3 {
		t.Errorf("$top=10: %d users in %d pages, want 24 in 3", len(ids), pages)
	}
	expectError(t, h.do("GET", "/v1.0/users?$skiptoken=garbage", nil), 400, "Request_BadRequest")
}

func groupBody(nick string, extra map[string]any) map[string]any {
	b := map[string]any{"displayName": "Course " + nick, "mailNickname": nick, "groupTypes": []string{"Unified"},
		"mailEnabled": true, "securityEnabled": false}
	for k, v := range extra {
		if v == nil {
			delete(b, k)
		} else {
			b[k] = v
		}
	}
	return b
}

func TestCreateGroupValidation(t *testing.T) {
	h := newHarness(t, Options{})
	many := []string{}
	for i := 0; i < 21; i++ {
		many = append(many, userBind(aliceID))
	}
	cases := []struct {
		name   string
		body   map[string]any
		status int
		code   string
	}{
		{"no mailNickname", groupBody("x", map[string]any{"mailNickname": nil}), 400, "Request_BadRequest"},
		{"no displayName", groupBody("x", map[string]any{"displayName": nil}), 400, "Request_BadRequest"},
		{"space in nickname", groupBody("med 101", nil), 400, "Request_BadRequest"},
		{"at sign", groupBody("med@101", nil), 400, "Request_BadRequest"},
		{"parenthesis", groupBody("med(101)", nil), 400, "Request_BadRequest"},
		{"non-ASCII", groupBody("médecine", nil), 400, "Request_BadRequest"},
		{"65 characters", groupBody(strings.Repeat("a", 65), nil), 400, "Request_BadRequest"},
		{"security group", groupBody("sec", map[string]any{"groupTypes": []string{}, "mailEnabled": false, "securityEnabled": true}), 400, "Request_BadRequest"},
		{"bad visibility", groupBody("vis", map[string]any{"visibility": "Secret"}), 400, "Request_BadRequest"},
		{"bad behaviour option", groupBody("rbo", map[string]any{"resourceBehaviorOptions": []string{"MakeCoffee"}}), 400, "Request_BadRequest"},
		{"unknown property", groupBody("unk", map[string]any{"mailNickName2": "x"}), 400, "Request_BadRequest"},
		{"21 owners and members", groupBody("big", map[string]any{"owners@odata.bind": many[:1], "members@odata.bind": many[1:]}), 400, "Request_BadRequest"},
		{"unknown owner", groupBody("ghost", map[string]any{"owners@odata.bind": []string{userBind("99999999-0000-4000-8000-000000000000")}}), 404, "Request_ResourceNotFound"},
		{"malformed bind", groupBody("mal", map[string]any{"owners@odata.bind": []string{"https://example.com/users/1"}}), 400, "Request_BadRequest"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			expectError(t, h.do("POST", "/v1.0/groups", tc.body), tc.status, tc.code)
		})
	}
	expectStatus(t, h.do("POST", "/v1.0/groups", groupBody(strings.Repeat("a", 64), nil)), 201)
	expectError(t, h.do("POST", "/v1.0/groups", "", "Content-Type", "application/json"), 400, "Request_BadRequest")
	expectError(t, h.do("POST", "/v1.0/groups", `{"displayName":`), 400, "Request_BadRequest")
	if r := h.do("POST", "/v1.0/groups", groupBody("ct", nil), "Content-Type", "text/plain"); r.status != 415 {
		t.Errorf("text/plain body: %d", r.status)
	}
	if got := len(h.sim.State().Groups); got != 1 {
		t.Errorf("rejected requests created groups: %d groups", got)
	}
}

func TestCreateGroupOwnersAndConflicts(t *testing.T) {
	h := newHarness(t, Options{})
	r := h.do("POST", "/v1.0/groups", groupBody("MED101-2025", map[string]any{"visibility": "Private",
		"resourceBehaviorOptions": []string{"WelcomeEmailDisabled", "HideGroupInOutlook"},
		"members@odata.bind":      []string{"https://graph.microsoft.com/v1.0/directoryObjects/" + aliceID}}))
	expectStatus(t, r, 201)
	id := r.str("id")
	if r.str("visibility") != "Private" || r.str("mailNickname") != "MED101-2025" || r.str("mail") != "MED101-2025@school.example" {
		t.Errorf("created group = %s", r.raw)
	}
	if prov, _ := r.json["resourceProvisioningOptions"].([]any); len(prov) != 0 {
		t.Errorf("resourceProvisioningOptions before teamifying = %v", prov)
	}
	owners := h.do("GET", "/v1.0/groups/"+id+"/owners?$select=id", nil).values()
	if len(owners) != 1 || owners[0]["id"] != adminID {
		t.Errorf("a group created without owners is owned by the caller; owners = %v", owners)
	}
	members := h.do("GET", "/v1.0/groups/"+id+"/members?$select=id", nil).values()
	if len(members) != 1 || members[0]["id"] != aliceID {
		t.Errorf("members = %v", members)
	}

	r = h.do("POST", "/v1.0/groups", groupBody("MED102-2025", map[string]any{"owners@odata.bind": []string{userBind(bobID)}}))
	expectStatus(t, r, 201)
	owners = h.do("GET", "/v1.0/groups/"+r.str("id")+"/owners?$select=id", nil).values()
	if len(owners) != 1 || owners[0]["id"] != bobID {
		t.Errorf("named owner only, got %v", owners)
	}

	r = h.do("POST", "/v1.0/groups", groupBody("med101-2025", nil))
	expectError(t, r, 400, "Request_BadRequest")
	details, _ := r.json["error"].(map[string]any)["details"].([]any)
	if len(details) != 1 || details[0].(map[string]any)["code"] != "ObjectConflict" {
		t.Errorf("duplicate nickname details = %v", details)
	}

	app, _ := h.sim.IssueToken("", nil)
	h.token = app
	expectError(t, h.do("POST", "/v1.0/groups", groupBody("APP1", nil)), 400, "Request_BadRequest")
	expectStatus(t, h.do("POST", "/v1.0/groups", groupBody("APP1", map[string]any{"owners@odata.bind": []string{userBind(aliceID)}})), 201)
}

func TestNicknamePolicy(t *testing.T) {
	h := newHarness(t, Options{Faults: Faults{NicknamePolicy: NicknamePolicy{Prefix: "GRP_", Suffix: "_MED"}}})
	r := h.do("POST", "/v1.0/groups", groupBody("anat", nil))
	expectStatus(t, r, 201)
	if r.str("mailNickname") != "GRP_anat_MED" || r.str("displayName") != "GRP_Course anat_MED" {
		t.Errorf("policy not applied: %s", r.raw)
	}
	// A client that looks the group up by the nickname it asked for finds nothing.
	if got := h.do("GET", "/v1.0/groups?$filter="+url.QueryEscape("mailNickname eq 'anat'"), nil).values(); len(got) != 0 {
		t.Errorf("found %v by the requested nickname", got)
	}
}

func TestGroupQueriesAndUpdates(t *testing.T) {
	h := newHarness(t, Options{})
	id := h.createGroup("PHYS-200")
	h.createGroup("CHEM-100")
	got := h.do("GET", "/v1.0/groups?$filter="+url.QueryEscape("mailNickname eq 'phys-200'")+"&$select=id,mailNickname", nil).values()
	if len(got) != 1 || got[0]["id"] != id || len(got[0]) != 2 {
		t.Errorf("filter by nickname = %v", got)
	}
	search := "/v1.0/groups?$search=" + url.QueryEscape(`"mailNickname:PHYS"`)
	expectError(t, h.do("GET", search, nil), 400, "Request_UnsupportedQuery")
	got = h.do("GET", search, nil, "ConsistencyLevel", "eventual").values()
	if len(got) != 1 || got[0]["id"] != id {
		t.Errorf("$search = %v", got)
	}

	expectStatus(t, h.do("PATCH", "/v1.0/groups/"+id, map[string]any{"displayName": "Physics 200", "description": "Spring"}), 204)
	r := h.do("GET", "/v1.0/groups/"+id, nil)
	if r.str("displayName") != "Physics 200" || r.str("description") != "Spring" {
		t.Errorf("after PATCH: %s", r.raw)
	}
	expectError(t, h.do("PATCH", "/v1.0/groups/"+id, map[string]any{"mailNickname": "CHEM-100"}), 400, "Request_BadRequest")
	expectStatus(t, h.do("DELETE", "/v1.0/groups/"+id, nil), 204)
	expectError(t, h.do("GET", "/v1.0/groups/"+id, nil), 404, "Request_ResourceNotFound")
}

func TestUnknownRoutes(t *testing.T) {
	h := newHarness(t, Options{})
	expectError(t, h.do("GET", "/v1.0/widgets", nil), 400, "BadRequest")
	if r := h.do("DELETE", "/v1.0/users/"+aliceID, nil); r.status != 405 {
		t.Errorf("DELETE user: %d", r.status)
	}
}
