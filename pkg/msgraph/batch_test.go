package msgraph

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestBatchMixedStatusesResendsOnlyThrottledItems(t *testing.T) {
	stub := newStub(t,
		step{method: "POST", path: "/$batch", status: 200,
			body: `{"requests":[
				{"id":"1","method":"GET","url":"/users/u1?$select=id"},
				{"id":"2","method":"GET","url":"/users/u2?$select=id"},
				{"id":"3","method":"GET","url":"/groups/g3"},
				{"id":"4","method":"GET","url":"/teams/t4/members"},
				{"id":"5","method":"GET","url":"/teams/t5","dependsOn":["2"]},
				{"id":"6","method":"GET","url":"/teams/t6/members","dependsOn":["4"]}]}`,
			// Any order, as Graph answers.
			reply: `{"responses":[
				{"id":"6","status":424,"headers":{},"body":{"error":{"code":"FailedDependency","message":"dependency failed"}}},
				{"id":"3","status":403,"headers":{"Cache-Control":"no-cache","x-ms-resource-unit":"1","Content-Type":"application/json"},
				 "body":{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation.",
				   "innerError":{"date":"2025-02-13T10:17:06","request-id":"93b6f17e-c05d-4f45-ad2a-6665c708d8a0","client-request-id":"e70c5c1b-8b47-68c0-3171-3d22f5e0bd54"}}}},
				{"id":"1","status":200,"headers":{"Content-Type":"application/json"},"body":{"id":"u1"}},
				{"id":"4","status":429,"headers":{"retry-after":"3","Content-Type":"application/json"},
				 "body":{"error":{"code":"TooManyRequests","message":"Please retry again later."}}},
				{"id":"5","status":424,"headers":{},"body":{"error":{"code":"FailedDependency","message":"dependency failed"}}},
				{"id":"2","status":404,"headers":{"Content-Type":"application/json"},
				 "body":{"error":{"code":"Request_ResourceNotFound","message":"Resource 'u2' does not exist."}}}]}`},
		// Item 4 again, and 6, which only failed because 4 was throttled.
		step{method: "POST", path: "/$batch", status: 200,
			body: `{"requests":[
				{"id":"4","method":"GET","url":"/teams/t4/members"},
				{"id":"6","method":"GET","url":"/teams/t6/members","dependsOn":["4"]}]}`,
			reply: `{"responses":[
				{"id":"4","status":200,"headers":{},"body":{"value":[{"id":"m4"}]}},
				{"id":"6","status":200,"headers":{},"body":{"value":[]}}]}`},
	)
	clock := newFakeClock()
	c := newTestClient(stub.srv, clock, nil)
	resps, err := c.Batch(context.Background(), []BatchRequest{
		{ID: "1", Method: "GET", URL: "/users/u1?$select=id"},
		{ID: "2", Method: "GET", URL: "/users/u2?$select=id"},
		{ID: "3", Method: "GET", URL: "/groups/g3"},
		{ID: "4", Method: "GET", URL: "/teams/t4/members"},
		{ID: "5", Method: "GET", URL: "/teams/t5", DependsOn: []string{"2"}},
		{ID: "6", Method: "GET", URL: "/teams/t6/members", DependsOn: []string{"4"}},
	})
	if err != nil {
		t.Fatalf("Batch: %v", err)
	}
	var ids []string
	var statuses []int
	for _, r := range resps {
		ids = append(ids, r.ID)
		statuses = append(statuses, r.Status)
	}
	if want := []string{"1", "2", "3", "4", "5", "6"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("response ids %v, want request order %v", ids, want)
	}
	if want := []int{200, 404, 403, 200, 424, 200}; !reflect.DeepEqual(statuses, want) {
		t.Errorf("statuses %v, want %v", statuses, want)
	}
	if got, want := clock.Sleeps(), durations(3); !reflect.DeepEqual(got, want) {
		t.Errorf("waits %v, want %v (the item's retry-after)", got, want)
	}
	if !IsNotFound(resps[1].Err()) || resps[1].Err().Route != "/users/u2" {
		t.Errorf("item 2 error = %v, want not found on /users/u2", resps[1].Err())
	}
	if e := resps[2].Err(); e == nil || e.Code != "Authorization_RequestDenied" || e.RequestID != "93b6f17e-c05d-4f45-ad2a-6665c708d8a0" {
		t.Errorf("item 3 error = %+v", e)
	}
	if resps[0].Err() != nil {
		t.Errorf("item 1 error = %v, want nil", resps[0].Err())
	}
	var user User
	if err := resps[0].Decode(&user); err != nil || user.ID != "u1" {
		t.Errorf("item 1 decoded %+v, %v", user, err)
	}
	if err := resps[4].Decode(&user); err == nil {
		t.Error("decoding a 424 item succeeded")
	}
	s := c.Stats()
	if s.Throttled != 1 || s.BatchItems != 8 || s.Requests != 2 || s.Retries != 2 {
		t.Errorf("stats throttled=%d items=%d requests=%d retries=%d, want 1, 8, 2, 2", s.Throttled, s.BatchItems, s.Requests, s.Retries)
	}
}

func TestBatchGivesUpOnThrottledItemAfterMaxAttempts(t *testing.T) {
	body := `{"requests":[{"id":"a","method":"GET","url":"/me"}]}`
	reply := `{"responses":[{"id":"a","status":429,"headers":{"Retry-After":"1"},"body":{"error":{"code":"TooManyRequests","message":"slow down"}}}]}`
	stub := newStub(t,
		step{method: "POST", path: "/$batch", status: 200, body: body, reply: reply},
		step{method: "POST", path: "/$batch", status: 200, body: body, reply: reply},
	)
	c := newTestClient(stub.srv, newFakeClock(), func(o *Options) { o.MaxAttempts = 2 })
	resps, err := c.Batch(context.Background(), []BatchRequest{{ID: "a", Method: "GET", URL: "/me"}})
	if err != nil {
		t.Fatalf("Batch: %v", err)
	}
	if resps[0].Status != 429 || !IsThrottled(resps[0].Err()) {
		t.Errorf("item = %d %v, want the 429 returned as it is", resps[0].Status, resps[0].Err())
	}
}

// batchBody is the exact $batch JSON of GET items named by ids, with deps
// giving each id's dependsOn.
func batchBody(ids []string, deps map[string][]string) string {
	type item struct {
		ID        string   `json:"id"`
		Method    string   `json:"method"`
		URL       string   `json:"url"`
		DependsOn []string `json:"dependsOn,omitempty"`
	}
	items := make([]item, len(ids))
	for i, id := range ids {
		items[i] = item{ID: id, Method: "GET", URL: "/users/" + id, DependsOn: deps[id]}
	}
	b, _ := json.Marshal(map[string]any{"requests": items})
	return string(b)
}

func batchOK(ids []string) string {
	var parts []string
	for _, id := range ids {
		parts = append(parts, fmt.Sprintf(`{"id":%q,"status":200,"headers":{},"body":{"id":%q}}`, id, id))
	}
	return `{"responses":[` + strings.Join(parts, ",") + `]}`
}

func TestBatchSplitsAt20KeepingDependsOnChainsTogether(t *testing.T) {
	var ids []string
	var reqs []BatchRequest
	deps := map[string][]string{"r19": {"r18"}, "r20": {"r19"}} // a chain r18 → r19 → r20
	for i := range 25 {
		id := fmt.Sprintf("r%d", i)
		ids = append(ids, id)
		reqs = append(reqs, BatchRequest{ID: id, Method: "GET", URL: "/users/" + id, DependsOn: deps[id]})
	}
	// 18 singles fill the first batch; the chain of 3 would make it 21, so it
	// opens the second batch whole.
	stub := newStub(t,
		step{method: "POST", path: "/$batch", status: 200, body: batchBody(ids[:18], nil), reply: batchOK(ids[:18])},
		step{method: "POST", path: "/$batch", status: 200, body: batchBody(ids[18:], deps), reply: batchOK(ids[18:])},
	)
	c := newTestClient(stub.srv, newFakeClock(), nil)
	resps, err := c.Batch(context.Background(), reqs)
	if err != nil {
		t.Fatalf("Batch: %v", err)
	}
	for i, r := range resps {
		var u User
		if r.ID != ids[i] || r.Decode(&u) != nil || u.ID != ids[i] {
			t.Errorf("response %d = %s %+v, want %s", i, r.ID, u, ids[i])
		}
	}
}

func TestBatchRejectsInvalidRequestsBeforeSending(t *testing.T) {
	chain := make([]BatchRequest, 21)
	for i := range chain {
		chain[i] = BatchRequest{ID: fmt.Sprint(i), Method: "GET", URL: "/me"}
		if i > 0 {
			chain[i].DependsOn = []string{fmt.Sprint(i - 1)}
		}
	}
	tests := []struct {
		name string
		reqs []BatchRequest
		want string
	}{
		{"chain longer than a batch", chain, "does not fit"},
		{"duplicate ids ignoring case", []BatchRequest{{ID: "a", Method: "GET", URL: "/me"}, {ID: "A", Method: "GET", URL: "/me"}}, "duplicate"},
		{"unknown dependency", []BatchRequest{{ID: "a", Method: "GET", URL: "/me", DependsOn: []string{"b"}}}, "unknown request"},
		{"absolute url", []BatchRequest{{ID: "a", Method: "GET", URL: "https://graph.microsoft.com/v1.0/me"}}, "relative"},
		{"missing id", []BatchRequest{{Method: "GET", URL: "/me"}}, "no id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stub := newStub(t)
			c := newTestClient(stub.srv, newFakeClock(), nil)
			_, err := c.Batch(context.Background(), tt.reqs)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one saying %q", err, tt.want)
			}
		})
	}
}

func TestBatchWriteItemCarriesContentType(t *testing.T) {
	stub := newStub(t,
		step{method: "POST", path: "/$batch", status: 200,
			body: `{"requests":[{"id":"1","method":"PATCH","url":"/groups/g1","headers":{"Content-Type":"application/json"},
				"body":{"displayName":"New"}}]}`,
			reply: `{"responses":[{"id":"1","status":204,"headers":{}}]}`},
	)
	c := newTestClient(stub.srv, newFakeClock(), nil)
	resps, err := c.Batch(context.Background(), []BatchRequest{{ID: "1", Method: "patch", URL: "/groups/g1", Body: map[string]string{"displayName": "New"}}})
	if err != nil || resps[0].Status != 204 || resps[0].Err() != nil {
		t.Fatalf("Batch = %+v, %v", resps, err)
	}
}

// An item the service could not answer (503 without Retry-After, or a 502
// on a GET) is sent again after a backoff, as a request of its own would
// be; a 502 on a create that must not be repeated is returned as it is.
func TestBatchResendsUnavailableItems(t *testing.T) {
	stub := newStub(t,
		step{method: "POST", path: "/$batch", status: 200,
			body: `{"requests":[{"id":"1","method":"GET","url":"/users/u1"},{"id":"2","method":"GET","url":"/users/u2"},
				{"id":"3","method":"POST","url":"/groups","body":{"displayName":"x"},"headers":{"Content-Type":"application/json"}}]}`,
			reply: `{"responses":[
				{"id":"1","status":503,"headers":{},"body":{"error":{"code":"serviceNotAvailable","message":"try later"}}},
				{"id":"2","status":502,"headers":{},"body":{"error":{"code":"BadGateway","message":"Failed to execute backend request."}}},
				{"id":"3","status":502,"headers":{},"body":{"error":{"code":"BadGateway","message":"Failed to execute backend request."}}}]}`},
		step{method: "POST", path: "/$batch", status: 200,
			body:  `{"requests":[{"id":"1","method":"GET","url":"/users/u1"},{"id":"2","method":"GET","url":"/users/u2"}]}`,
			reply: `{"responses":[{"id":"1","status":200,"headers":{},"body":{"id":"u1"}},{"id":"2","status":200,"headers":{},"body":{"id":"u2"}}]}`},
	)
	clock := newFakeClock()
	c := newTestClient(stub.srv, clock, nil)
	resps, err := c.Batch(context.Background(), []BatchRequest{
		{ID: "1", Method: "GET", URL: "/users/u1"},
		{ID: "2", Method: "GET", URL: "/users/u2"},
		{ID: "3", Method: "POST", URL: "/groups", Body: map[string]string{"displayName": "x"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if resps[0].Status != 200 || resps[1].Status != 200 {
		t.Errorf("statuses %d %d, want the unavailable GETs answered on the retry", resps[0].Status, resps[1].Status)
	}
	if resps[2].Status != 502 {
		t.Errorf("the create was re-sent: %d", resps[2].Status)
	}
	if len(clock.Sleeps()) == 0 {
		t.Error("the retry did not wait")
	}
}

// An answer to a $batch that does not give each request exactly one response
// with an HTTP status fails the batch: the outcome of the items would be a
// guess (a write answered twice, 200 then 500, is neither).
func TestBatchRefusesAnAnswerThatIsNotOnePerRequest(t *testing.T) {
	body := batchBody([]string{"a", "b"}, nil)
	tests := []struct{ name, reply, says string }{
		{"answered twice", `{"responses":[{"id":"a","status":200},{"id":"b","status":200},{"id":"A","status":500}]}`, `request "A" answered twice`},
		{"not sent", `{"responses":[{"id":"a","status":200},{"id":"b","status":200},{"id":"c","status":200}]}`, `an answer for request "c", which was not sent`},
		{"no status", `{"responses":[{"id":"a","status":200},{"id":"b"}]}`, `request "b" answered with 0, not an HTTP status`},
		{"missing", `{"responses":[{"id":"b","status":200}]}`, `no answer for request "a"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stub := newStub(t, step{method: "POST", path: "/$batch", status: 200, body: body, reply: tt.reply})
			c := newTestClient(stub.srv, newFakeClock(), nil)
			resps, err := c.Batch(context.Background(), []BatchRequest{{ID: "a", Method: "GET", URL: "/users/a"}, {ID: "b", Method: "GET", URL: "/users/b"}})
			if err == nil || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("got %+v, %v; want an error saying %s", resps, err, tt.says)
			}
		})
	}
}
