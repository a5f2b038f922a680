package msgraph

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// FuzzDecodeError: whatever body comes with a failed answer, the error keeps
// its status, takes code and message only from Graph's error JSON (never the
// text of a proxy's page), and prints as one bounded line of printable text.
func FuzzDecodeError(f *testing.F) {
	f.Add(404, `{"error":{"code":"Request_ResourceNotFound","message":"Resource 'x' does not exist.","innerError":{"request-id":"r1","date":"2025-03-10T09:00:00"}}}`, "req-1")
	f.Add(400, `{"error":{"code":"Request_BadRequest","message":"Another object with the same value for property mailNickname already exists.","details":[{"code":"ObjectConflict","message":"m","target":"mailNickname"}]}}`, "")
	f.Add(403, `{"error":{"code":"Forbidden","message":"","innerError":{"code":"AccessDenied","innerError":{"code":"NoLicense"}}}}`, "")
	f.Add(502, "<html><body>Bad Gateway\r\nfrom the proxy</body></html>", "")
	f.Add(429, `{"error":{"code":"TooManyRequests","message":"line one\nline two\u001b[31mred"}}`, "id\twith tab")
	f.Add(500, `{"error":null}`, "")
	f.Add(0, "", "")
	f.Fuzz(func(t *testing.T, status int, body, requestID string) {
		h := http.Header{}
		h["Request-Id"] = []string{requestID}
		ge := decodeError(status, h, []byte(body))
		if ge.Status != status {
			t.Fatalf("status %d, want %d", ge.Status, status)
		}
		var eb errorBody
		if json.Unmarshal([]byte(body), &eb) != nil || eb.Error == nil {
			if ge.Code != "" || ge.Message != "" || len(ge.Details) != 0 {
				t.Fatalf("text of a body that is not Graph's error JSON was taken: %+v", ge)
			}
		} else if ge.Code != eb.Error.Code || ge.Message != eb.Error.Message {
			t.Fatalf("code %q message %q, want %q %q", ge.Code, ge.Message, eb.Error.Code, eb.Error.Message)
		}
		for _, e := range []*Error{ge, {Status: status, Method: "GET", Route: "/users/" + body, Code: body, InnerCode: requestID, Message: body + body, RequestID: body, Attempts: 3}} {
			s := e.Error()
			if !strings.HasPrefix(s, "graph: ") || !utf8.ValidString(s) {
				t.Fatalf("%q", s)
			}
			for _, r := range s {
				if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
					t.Fatalf("%q holds control character %U", s, r)
				}
			}
			if len(s) > 3*maxCodeText+maxMessageText+maxRouteText+128 {
				t.Fatalf("an error of %d bytes", len(s))
			}
		}
	})
}

// FuzzRetryAfter: a Retry-After that is read is never negative and never
// more than maxRetryAfter; the forms Graph sends are read exactly.
func FuzzRetryAfter(f *testing.F) {
	now := time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)
	for _, s := range []string{"10", "2.128", "0", "86400", "86401", "Mon, 10 Mar 2025 09:00:30 GMT", "Mon, 10 Mar 2025 08:59:00 GMT",
		"Wed, 12 Mar 2025 09:00:00 GMT", "NaN", "-1", "1e3", "0x10", "Inf", " 7 ", "soon"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := parseRetryAfter(v, now)
		if !ok {
			if d != 0 {
				t.Fatalf("%q: unread, yet %v", v, d)
			}
			return
		}
		if d < 0 || d > maxRetryAfter {
			t.Fatalf("%q: %v is out of [0, %v]", v, d, maxRetryAfter)
		}
		// Whole seconds are read exactly.
		var n int
		if _, err := fmt.Sscanf(strings.TrimSpace(v), "%d", &n); err == nil && fmt.Sprint(n) == strings.TrimSpace(v) && d != time.Duration(n)*time.Second {
			t.Fatalf("%q: %v", v, d)
		}
	})
}

// FuzzResolveLink: an @odata.nextLink or Location that resolves leads to a
// URL on the Graph host, by its scheme, below /v1.0: following it never
// sends the token elsewhere.
func FuzzResolveLink(f *testing.F) {
	for _, s := range []string{
		"https://graph.microsoft.com/v1.0/users?$skiptoken=abc",
		"/teams('t1')/operations('o1')",
		"/v1.0/teams('t1')/operations('o1')",
		"https://evil.example/v1.0/users",
		"//evil.example/v1.0/users",
		"https://graph.microsoft.com@evil.example/v1.0/users",
		"https://graph.microsoft.com.evil.example/v1.0/users",
		"http://graph.microsoft.com/v1.0/users",
		"https://graph.microsoft.com/v1.0/../beta/users",
		"/v1.0/%2e%2e/beta/users",
		"/\\evil.example/users",
		"https://GRAPH.microsoft.com:443/v1.0/users",
		"http://127.0.0.1:8400/sim/v1.0/users?$top=5",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	graph := New(Options{BaseURL: "https://graph.microsoft.com"})
	sim := New(Options{BaseURL: "http://127.0.0.1:8400/sim/"})
	f.Fuzz(func(t *testing.T, link string, onSim bool) {
		c := graph
		if onSim {
			c = sim
		}
		path, rawQuery, err := c.resolveLink(link)
		if err != nil {
			return
		}
		if !strings.HasPrefix(path, "/") {
			t.Fatalf("%q: path %q is not rooted", link, path)
		}
		// The URL roundTrip sends.
		full := c.base.String() + path
		if rawQuery != "" {
			full += "?" + rawQuery
		}
		u, err := url.Parse(full)
		if err != nil {
			return // http.NewRequest refuses it: nothing is sent
		}
		if u.Scheme != c.base.Scheme || u.Host != c.base.Host || u.User != nil {
			t.Fatalf("%q leads to %s://%s (user %v), not %s://%s", link, u.Scheme, u.Host, u.User, c.base.Scheme, c.base.Host)
		}
		if !strings.HasPrefix(u.EscapedPath(), c.basePath+"/") {
			t.Fatalf("%q leads to %s, not below %s", link, u.EscapedPath(), c.basePath)
		}
	})
}

// FuzzBatchAnswer: whatever Graph answers to a $batch, each request gets
// exactly one response, its own (by id, in request order, with an HTTP
// status), or the batch fails.
func FuzzBatchAnswer(f *testing.F) {
	f.Add(`{"responses":[{"id":"1","status":200,"body":{"id":"u1"}},{"id":"2","status":404,"body":{"error":{"code":"NotFound"}}}]}`, uint8(2))
	f.Add(`{"responses":[{"id":"2","status":204},{"id":"1","status":429,"headers":{"Retry-After":"3"}}]}`, uint8(2))
	f.Add(`{"responses":[{"id":"A","status":201,"body":"eyJ4IjoxfQ=="}]}`, uint8(1))
	f.Add(`{"responses":[{"id":"1","status":200},{"id":"1","status":500}]}`, uint8(1))
	f.Add(`{"responses":[{"id":"1","status":200},{"id":"9","status":200}]}`, uint8(1))
	f.Add(`{"responses":[{"id":"1"}]}`, uint8(1))
	f.Add(`{"responses":[]}`, uint8(3))
	f.Add(``, uint8(1))
	f.Add(`[1,2]`, uint8(1))
	f.Fuzz(func(t *testing.T, body string, n uint8) {
		count := int(n%maxBatchSize) + 1
		items := make([]batchItem, count)
		chunk := make([]int, count)
		for i := range items {
			id := fmt.Sprint(i + 1)
			if i == 0 {
				id = "a" // matched without case
			}
			items[i] = batchItem{wire: batchWireRequest{ID: id, Method: http.MethodGet, URL: "/users/" + id}, key: strings.ToLower(id)}
			chunk[i] = count - 1 - i // any order of the items
		}
		answers, err := parseBatchAnswer([]byte(body), items, chunk)
		if err != nil {
			if answers != nil {
				t.Fatal("answers with an error")
			}
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("error of more than one line: %q", err)
			}
			return
		}
		if len(answers) != len(chunk) {
			t.Fatalf("%d answers to %d requests", len(answers), len(chunk))
		}
		for k, i := range chunk {
			a := answers[k]
			if a.ID != items[i].wire.ID || a.method != items[i].wire.Method || a.url != items[i].wire.URL {
				t.Fatalf("answer %d is %q (%s %s), want request %q", k, a.ID, a.method, a.url, items[i].wire.ID)
			}
			if a.Status < 100 || a.Status > 599 {
				t.Fatalf("request %q answered with status %d", a.ID, a.Status)
			}
			_ = a.Err() // never panics, whatever the body
		}
		// Each answer sent back was used once: as many answers as requests.
		var wire struct {
			Responses []json.RawMessage `json:"responses"`
		}
		if json.Unmarshal([]byte(body), &wire) == nil && len(wire.Responses) != len(chunk) {
			t.Fatalf("%d answers in the body for %d requests, and no error", len(wire.Responses), len(chunk))
		}
	})
}
