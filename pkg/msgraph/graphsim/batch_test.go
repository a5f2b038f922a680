package graphsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"
)

type batchResponse struct {
	Responses []struct {
		ID      string            `json:"id"`
		Status  int               `json:"status"`
		Headers map[string]string `json:"headers"`
		Body    map[string]any    `json:"body"`
	} `json:"responses"`
}

func (h *harness) batch(requests []map[string]any) (*resp, map[string]int, batchResponse) {
	h.t.Helper()
	r := h.do("POST", "/v1.0/$batch", map[string]any{"requests": requests})
	var br batchResponse
	json.Unmarshal(r.raw, &br)
	statuses := map[string]int{}
	for _, x := range br.Responses {
		statuses[x.ID] = x.Status
	}
	return r, statuses, br
}

func TestBatch(t *testing.T) {
	h := newHarness(t, Options{})
	tid := h.createTeam("BATCH-1")
	r, statuses, br := h.batch([]map[string]any{
		{"id": "1", "method": "GET", "url": "/users/" + aliceID + "?$select=id"},
		{"id": "2", "method": "GET", "url": "users('bob@school.example')"},
		{"id": "3", "method": "POST", "url": "/teams/" + tid + "/members", "headers": map[string]string{"Content-Type": "application/json"}, "body": member(aliceID)},
		{"id": "4", "method": "GET", "url": "/users/nobody@school.example"},
		{"id": "5", "method": "GET", "url": "/users/" + bobID, "dependsOn": []string{"4"}},
		{"id": "6", "method": "GET", "url": "/me", "dependsOn": []string{"1"}},
	})
	expectStatus(t, r, 200)
	want := map[string]int{"1": 200, "2": 200, "3": 201, "4": 404, "5": 424, "6": 200}
	for id, st := range want {
		if statuses[id] != st {
			t.Errorf("item %s: status %d, want %d", id, statuses[id], st)
		}
	}
	for _, x := range br.Responses {
		if x.ID == "4" {
			e, _ := x.Body["error"].(map[string]any)
			if e["code"] != "Request_ResourceNotFound" || x.Headers["Content-Type"] != "application/json" {
				t.Errorf("item 4 = %+v", x)
			}
		}
	}
	c := h.sim.Counters()
	if c.ByRoute["POST /$batch"] != 1 || c.ByRoute["GET /users/{id}"] != 3 || c.ByRoute["POST /teams/{id}/members"] != 1 || c.ByRoute["GET /me"] != 1 {
		t.Errorf("counters by route = %v", c.ByRoute)
	}

	var many []map[string]any
	for i := 0; i < 21; i++ {
		many = append(many, map[string]any{"id": strconv.Itoa(i), "method": "GET", "url": "/me"})
	}
	r, _, _ = h.batch(many)
	expectError(t, r, 400, "BadRequest")
	r, _, _ = h.batch([]map[string]any{{"id": "1", "method": "GET", "url": "/me"}, {"id": "1", "method": "GET", "url": "/me"}})
	expectError(t, r, 400, "BadRequest")
	r, _, _ = h.batch([]map[string]any{{"id": "1", "method": "POST", "url": "/teams/" + tid + "/members", "body": member(bobID)}})
	expectError(t, r, 400, "BadRequest")
	r, _, _ = h.batch([]map[string]any{{"id": "1", "method": "GET", "url": "/me", "dependsOn": []string{"9"}}})
	expectError(t, r, 400, "BadRequest")
	r, _, _ = h.batch([]map[string]any{{"id": "1", "method": "GET", "url": "/me", "dependsOn": []string{"2"}}, {"id": "2", "method": "GET", "url": "/me", "dependsOn": []string{"1"}}})
	expectError(t, r, 400, "BadRequest")
	_, statuses, _ = h.batch([]map[string]any{{"id": "a", "method": "GET", "url": "https://graph.microsoft.com/v1.0/me"}})
	if statuses["a"] != 400 {
		t.Errorf("absolute url item: %d", statuses["a"])
	}
	// The outer request's token is what the items use.
	h.token = "expired-or-unknown"
	r, _, _ = h.batch([]map[string]any{{"id": "1", "method": "GET", "url": "/me"}})
	expectError(t, r, 401, "InvalidAuthenticationToken")
}

func TestBatchItemThrottling(t *testing.T) {
	h := newHarness(t, Options{Faults: Faults{Throttle429Every: 2, RetryAfterSeconds: 7}})
	var reqs []map[string]any
	for i := 1; i <= 4; i++ {
		reqs = append(reqs, map[string]any{"id": strconv.Itoa(i), "method": "GET", "url": "/me"})
	}
	r, statuses, br := h.batch(reqs)
	expectStatus(t, r, 200)
	if statuses["1"] != 200 || statuses["2"] != 429 || statuses["3"] != 200 || statuses["4"] != 429 {
		t.Errorf("statuses = %v, want every 2nd item throttled", statuses)
	}
	for _, x := range br.Responses {
		if x.Status == 429 && (x.Headers["Retry-After"] != "7" || x.Body["error"].(map[string]any)["code"] != "TooManyRequests") {
			t.Errorf("throttled item = %+v", x)
		}
	}
	if c := h.sim.Counters(); c.Throttled != 2 {
		t.Errorf("throttled counter = %d", c.Throttled)
	}
}

func TestThrottlingForms(t *testing.T) {
	for _, tc := range []struct {
		form  string
		check func(t *testing.T, h *harness, v string)
	}{
		{RetryAfterInt, func(t *testing.T, _ *harness, v string) {
			if v != "2" {
				t.Errorf("int Retry-After = %q", v)
			}
		}},
		{RetryAfterFloat, func(t *testing.T, _ *harness, v string) {
			if v != "2.128" {
				t.Errorf("float Retry-After = %q", v)
			}
		}},
		{RetryAfterDate, func(t *testing.T, h *harness, v string) {
			when, err := http.ParseTime(v)
			if err != nil || !when.Equal(h.clock.Now().Add(2*time.Second).Truncate(time.Second)) {
				t.Errorf("date Retry-After = %q (%v)", v, err)
			}
		}},
	} {
		t.Run(tc.form, func(t *testing.T) {
			h := newHarness(t, Options{Faults: Faults{Throttle429Storm: 2, RetryAfterForm: tc.form}})
			for i := 0; i < 2; i++ {
				r := h.do("GET", "/v1.0/me", nil)
				expectError(t, r, 429, "TooManyRequests")
				tc.check(t, h, r.header.Get("Retry-After"))
				inner := r.json["error"].(map[string]any)["innerError"].(map[string]any)
				if inner["code"] != "429" || inner["status"] != "429" || inner["message"] != "Please retry after" || inner["request-id"] == nil {
					t.Errorf("innerError = %v", inner)
				}
			}
			expectStatus(t, h.do("GET", "/v1.0/me", nil), 200)
		})
	}
}

func TestServiceUnavailable(t *testing.T) {
	h := newHarness(t, Options{Faults: Faults{Unavailable503Every: 3}})
	var got []int
	for i := 0; i < 6; i++ {
		r := h.do("GET", "/v1.0/me", nil)
		got = append(got, r.status)
		if r.status == 503 && r.header.Get("Retry-After") != "" {
			t.Errorf("503 with Retry-After %q", r.header.Get("Retry-After"))
		}
	}
	if fmt.Sprint(got) != "[200 200 503 200 200 503]" {
		t.Errorf("statuses = %v", got)
	}
	if c := h.sim.Counters(); c.ByStatus["503"] != 2 || c.ByStatus["200"] != 4 || c.Total != 6 {
		t.Errorf("counters = %+v", c)
	}
}
