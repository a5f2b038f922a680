package graphsim

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// buildCourses creates the same teams, members and events in the given order.
func buildCourses(t *testing.T, order []string) *harness {
	h := newHarness(t, Options{})
	start := time.Date(2025, 3, 12, 14, 0, 0, 0, time.UTC)
	for _, nick := range order {
		tid := h.createTeam(nick)
		h.do("POST", "/v1.0/teams/"+tid+"/members/add", map[string]any{"values": []any{member(bobID), member(aliceID)}})
		expectStatus(t, h.do("POST", "/v1.0/me/events", eventBody(nick, "tx-"+nick, start, "Eastern Standard Time")), 201)
	}
	h.createGroup("LONELY")
	return h
}

func TestStateIsSortedAndStable(t *testing.T) {
	a := buildCourses(t, []string{"MED-101", "MED-102", "MED-103"})
	b := buildCourses(t, []string{"MED-103", "MED-101", "MED-102"})
	sa, sb := a.sim.State(), b.sim.State()
	sa.Counters, sb.Counters = Counters{}, Counters{}
	ja, _ := json.Marshal(sa)
	jb, _ := json.Marshal(sb)
	if string(ja) != string(jb) {
		t.Fatalf("same content in another order serialises differently:\n%s\n%s", ja, jb)
	}
	st := a.sim.State()
	if len(st.Teams) != 3 || len(st.Groups) != 1 || len(st.Events) != 3 || st.Groups[0].MailNickname != "LONELY" {
		t.Fatalf("state = %+v", st)
	}
	for i := 1; i < len(st.Teams); i++ {
		if st.Teams[i-1].ID >= st.Teams[i].ID {
			t.Errorf("teams not sorted by id")
		}
	}
	for _, tm := range st.Teams {
		for i := 1; i < len(tm.Members); i++ {
			if tm.Members[i-1].ID >= tm.Members[i].ID {
				t.Errorf("members of %s not sorted by id", tm.MailNickname)
			}
		}
	}
	for i := 1; i < len(st.Events); i++ {
		if st.Events[i-1].ID >= st.Events[i].ID {
			t.Errorf("events not sorted by id")
		}
	}
	if ev := st.Events[0]; ev.Start.TimeZone != "UTC" || ev.Start.DateTime != "2025-03-12T18:00:00.0000000" || ev.JoinURL == "" {
		t.Errorf("event state = %+v (14:00 New York is 18:00 UTC in March)", ev)
	}

	// The HTTP view has the documented keys.
	res, err := http.Get(a.srv.URL + "/_sim/state")
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	json.NewDecoder(res.Body).Decode(&raw)
	res.Body.Close()
	for _, k := range []string{"teams", "groups", "events", "counters"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("/_sim/state lacks %q", k)
		}
	}
	var teams []map[string]any
	json.Unmarshal(raw["teams"], &teams)
	for _, k := range []string{"id", "displayName", "description", "mailNickname", "archived", "members"} {
		if _, ok := teams[0][k]; !ok {
			t.Errorf("team state lacks %q", k)
		}
	}
}

func TestResetAndIntrospection(t *testing.T) {
	h := buildCourses(t, []string{"MED-101"})
	if got := len(h.sim.Requests()); got == 0 {
		t.Fatal("no requests logged")
	}
	var write *LoggedRequest
	for _, l := range h.sim.Requests() {
		if l.Route == "POST /teams/{id}/members/add" {
			l := l
			write = &l
		}
	}
	if write == nil || write.Status != 200 || !strings.Contains(string(write.Body), aliceID) {
		t.Errorf("logged bulk add = %+v", write)
	}

	res, err := http.Post(h.srv.URL+"/_sim/reset", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	st := h.sim.State()
	if res.StatusCode != 204 || len(st.Teams)+len(st.Groups)+len(st.Events) != 0 || st.Counters.Total != 0 {
		t.Errorf("after reset: %d %+v", res.StatusCode, st)
	}
	// Tokens survive a reset; the same content gets the same ids again.
	tid := h.createTeam("MED-101")
	if fresh := buildCourses(t, []string{"MED-101"}); fresh.sim.State().Teams[0].ID != tid {
		t.Errorf("team id after reset differs from a fresh simulator's")
	}

	req, _ := http.NewRequest("PUT", h.srv.URL+"/_sim/faults", strings.NewReader(`{"throttle_429_storm":1,"retry_after_form":"float"}`))
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if r := h.do("GET", "/v1.0/me", nil); r.status != 429 || r.header.Get("Retry-After") != "2.128" {
		t.Errorf("fault set over HTTP: %d %q", r.status, r.header.Get("Retry-After"))
	}
	req, _ = http.NewRequest("PUT", h.srv.URL+"/_sim/faults", strings.NewReader(`{"throttle_every":1}`))
	res, _ = http.DefaultClient.Do(req)
	res.Body.Close()
	if res.StatusCode != 400 {
		t.Errorf("unknown fault key accepted: %d", res.StatusCode)
	}
}

func TestLoadSeed(t *testing.T) {
	seed, err := LoadSeed(filepath.Join("..", "..", "..", "cmd", "msgraph-sim", "testdata", "seed.json"))
	if err != nil {
		t.Fatal(err)
	}
	if seed.TenantID == "" || len(seed.Clients) == 0 || len(seed.Users) < 3 || seed.SignedInUser == "" {
		t.Errorf("sample seed = %+v", seed)
	}
	dir := t.TempDir()
	for name, body := range map[string]string{
		"unknown field":  `{"tenant_id":"t","clients":[],"users":[],"tenantid":"x"}`,
		"no tenant":      `{"clients":[],"users":[]}`,
		"unknown signer": `{"tenant_id":"t","users":[{"id":"u1","userPrincipalName":"a@b"}],"signed_in_user":"u2"}`,
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".json")
		os.WriteFile(p, []byte(body), 0o600)
		if _, err := LoadSeed(p); err == nil {
			t.Errorf("%s: LoadSeed accepted %s", name, body)
		}
	}
}
