package graphsim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testTenant   = "11111111-1111-4111-8111-111111111111"
	testClient   = "22222222-2222-4222-8222-222222222222"
	testSecret   = "fake-secret-for-tests"
	testRedirect = "http://127.0.0.1:8400/callback"
	adminID      = "aaaaaaaa-0000-4000-8000-000000000001"
	aliceID      = "aaaaaaaa-0000-4000-8000-000000000002"
	bobID        = "aaaaaaaa-0000-4000-8000-000000000003"
	carolID      = "aaaaaaaa-0000-4000-8000-000000000004" // no mailbox
)

// guideScopes are the delegated scopes elentra-teams asks for.
var guideScopes = []string{"offline_access", "User.ReadBasic.All", "Group.ReadWrite.All", "Team.Create",
	"Team.ReadBasic.All", "TeamMember.ReadWrite.All", "Calendars.ReadWrite"}

func testSeed() Seed {
	return Seed{
		TenantID: testTenant,
		Clients:  []Client{{ClientID: testClient, ClientSecret: testSecret, RedirectURIs: []string{testRedirect}}},
		Users: []User{
			{ID: adminID, DisplayName: "Medtech Admin", Mail: "admin@school.example", UserPrincipalName: "admin@school.example", Mailbox: true},
			{ID: aliceID, DisplayName: "Alice Learner", Mail: "Alice.Learner@school.example", UserPrincipalName: "alice@school.example", Mailbox: true},
			{ID: bobID, DisplayName: "Bob O'Brien", Mail: "bob.obrien@school.example", UserPrincipalName: "bob@school.example", Mailbox: true},
			{ID: carolID, DisplayName: "Carol NoMail", Mail: "carol@school.example", UserPrincipalName: "carol@school.example", Mailbox: false},
		},
		SignedInUser: adminID,
	}
}

// fakeClock is the injected time source; tests move it explicitly.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type harness struct {
	t     *testing.T
	sim   *Sim
	srv   *httptest.Server
	clock *fakeClock
	token string // delegated token of the admin with the guide scopes
}

func newHarness(t *testing.T, opts Options) *harness {
	t.Helper()
	clk := &fakeClock{t: time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)}
	opts.Clock = clk.Now
	sim := New(testSeed(), opts)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	access, _ := sim.IssueToken(adminID, guideScopes)
	return &harness{t: t, sim: sim, srv: srv, clock: clk, token: access}
}

type resp struct {
	status int
	header http.Header
	raw    []byte
	json   map[string]any
}

// do sends a request; body may be nil, a string (sent as is) or a value
// (JSON-encoded). hdrs are name/value pairs; "Authorization" defaults to
// the harness token, a "-" value removes a header.
func (h *harness) do(method, path string, body any, hdrs ...string) *resp {
	h.t.Helper()
	var rd io.Reader
	var ctype string
	switch b := body.(type) {
	case nil:
	case string:
		rd, ctype = strings.NewReader(b), "application/json"
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		rd, ctype = bytes.NewReader(buf), "application/json"
	}
	url := path
	if !strings.HasPrefix(path, "http") {
		url = h.srv.URL + path
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+h.token)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdrs); i += 2 {
		if hdrs[i+1] == "-" {
			req.Header.Del(hdrs[i])
		} else {
			req.Header.Set(hdrs[i], hdrs[i+1])
		}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := &resp{status: res.StatusCode, header: res.Header, raw: raw}
	if len(raw) > 0 {
		json.Unmarshal(raw, &r.json)
	}
	return r
}

func (r *resp) errCode() string {
	e, _ := r.json["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func (r *resp) str(key string) string {
	v, _ := r.json[key].(string)
	return v
}

func (r *resp) values() []map[string]any {
	list, _ := r.json["value"].([]any)
	var out []map[string]any
	for _, v := range list {
		m, _ := v.(map[string]any)
		out = append(out, m)
	}
	return out
}

func expectStatus(t *testing.T, r *resp, want int) {
	t.Helper()
	if r.status != want {
		t.Fatalf("status = %d, want %d; body %s", r.status, want, r.raw)
	}
}

func expectError(t *testing.T, r *resp, status int, code string) {
	t.Helper()
	if r.status != status || r.errCode() != code {
		t.Fatalf("got %d %q, want %d %q; body %s", r.status, r.errCode(), status, code, r.raw)
	}
}

func userBind(id string) string { return "https://graph.microsoft.com/v1.0/users('" + id + "')" }

func member(id string, roles ...string) map[string]any {
	if roles == nil {
		roles = []string{}
	}
	return map[string]any{"@odata.type": "#microsoft.graph.aadUserConversationMember", "roles": roles, "user@odata.bind": userBind(id)}
}

// createGroup makes a Unified group owned by the caller and returns its id.
func (h *harness) createGroup(nick string) string {
	h.t.Helper()
	r := h.do("POST", "/v1.0/groups", map[string]any{"displayName": "Course " + nick, "mailNickname": nick,
		"groupTypes": []string{"Unified"}, "mailEnabled": true, "securityEnabled": false})
	expectStatus(h.t, r, 201)
	return r.str("id")
}

// createTeam makes a group and teamifies it with PUT; returns the team id.
func (h *harness) createTeam(nick string) string {
	h.t.Helper()
	id := h.createGroup(nick)
	expectStatus(h.t, h.do("PUT", "/v1.0/groups/"+id+"/team", map[string]any{}), 201)
	return id
}
