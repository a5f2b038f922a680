package msgraph

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // zone tests must not depend on the machine's zoneinfo

	"golang.org/x/oauth2"
)

// testToken is an obviously fake bearer token; tests assert it never shows in
// errors or logs.
const testToken = "fake-access-token-0000-not-a-secret"

// staticTokens always gives the same token and cannot be forced to refresh.
type staticTokens struct{ token string }

func (s staticTokens) Token() (*oauth2.Token, error) {
	return &oauth2.Token{AccessToken: s.token, TokenType: "Bearer"}, nil
}

// refreshingTokens gives current from Token, like a cache that has not yet
// noticed the token was revoked, and next from ForceRefresh: only a client
// that retries with the token ForceRefresh returned gets through.
type refreshingTokens struct {
	mu        sync.Mutex
	current   string
	next      string
	refreshes int
}

func (r *refreshingTokens) Token() (*oauth2.Token, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return &oauth2.Token{AccessToken: r.current, TokenType: "Bearer"}, nil
}

func (r *refreshingTokens) ForceRefresh(context.Context) (*oauth2.Token, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refreshes++
	return &oauth2.Token{AccessToken: r.next, TokenType: "Bearer"}, nil
}

// fakeClock is the injected Clock and Sleep: Sleep records the wait and moves
// the clock forward instead of waiting.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	sleeps  []time.Duration
	onSleep func(time.Duration)
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)}
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	f.sleeps = append(f.sleeps, d)
	f.now = f.now.Add(d)
	hook := f.onSleep
	f.mu.Unlock()
	if hook != nil {
		hook(d)
	}
	return ctx.Err()
}

func (f *fakeClock) Sleeps() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.sleeps...)
}

// step is one exchange a graphStub expects, in order: what the request must
// be, exactly, and what Graph answers.
type step struct {
	method string
	path   string            // escaped path below /v1.0, as on the wire
	query  url.Values        // exact query; nil means none
	body   string            // expected JSON body; "" means no body at all
	header map[string]string // request headers that must carry these values
	token  string            // expected bearer token; default testToken

	status      int
	reply       string            // response body; "{base}" becomes the server's URL
	replyHeader map[string]string // "{base}" replaced too
	drop        bool              // close the connection instead of answering
}

// graphStub is a strict Graph double: it serves its steps in order, fails the
// test on any request that differs from the next step (method, path, query,
// headers, JSON body) and on steps left unserved.
type graphStub struct {
	t     *testing.T
	mu    sync.Mutex
	steps []step
	next  int
	srv   *httptest.Server
}

func newStub(t *testing.T, steps ...step) *graphStub {
	t.Helper()
	s := &graphStub{t: t, steps: steps}
	s.srv = httptest.NewServer(s)
	t.Cleanup(func() {
		s.srv.Close()
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.next != len(s.steps) {
			t.Errorf("stub: %d of %d expected requests were made; next unserved: %s %s",
				s.next, len(s.steps), s.steps[s.next].method, s.steps[s.next].path)
		}
	})
	return s
}

func (s *graphStub) served() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.next
}

func (s *graphStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.next >= len(s.steps) {
		s.mu.Unlock()
		s.t.Errorf("stub: unexpected extra request %s %s", r.Method, r.URL.RequestURI())
		writeGraphError(w, http.StatusBadRequest, "BadRequest", "unexpected request")
		return
	}
	st := s.steps[s.next]
	s.next++
	s.mu.Unlock()
	if problems := checkRequest(r, st); len(problems) > 0 {
		s.t.Errorf("stub: request %s %s does not match step %d:\n  %s", r.Method, r.URL.RequestURI(), s.next, strings.Join(problems, "\n  "))
		writeGraphError(w, http.StatusBadRequest, "BadRequest", "request does not match")
		return
	}
	if st.drop {
		dropConnection(w)
		return
	}
	base := "http://" + r.Host
	for k, v := range st.replyHeader {
		w.Header().Set(k, strings.ReplaceAll(v, "{base}", base))
	}
	w.Header().Set("request-id", "5b6e9a4e-0000-4000-8000-00000000beef")
	w.Header().Set("client-request-id", r.Header.Get("client-request-id"))
	if st.reply != "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(st.status)
	io.WriteString(w, strings.ReplaceAll(st.reply, "{base}", base))
}

// dropConnection closes the connection after the request was read: the
// client sees a reset after having written its request.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		conn.Close()
	}
}

var guidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// checkRequest lists every way r differs from st and from what Graph expects
// of every request.
func checkRequest(r *http.Request, st step) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if r.Method != st.method {
		bad("method %s, want %s", r.Method, st.method)
	}
	if got, want := r.URL.EscapedPath(), "/v1.0"+st.path; got != want {
		bad("path %s, want %s", got, want)
	}
	if strings.Contains(r.URL.RawQuery, "+") {
		bad("raw query %q encodes a space as '+'", r.URL.RawQuery)
	}
	if got := r.URL.Query(); !(len(got) == 0 && len(st.query) == 0) && !reflect.DeepEqual(got, st.query) {
		bad("query %v, want %v", got, st.query)
	}
	token := st.token
	if token == "" {
		token = testToken
	}
	if got := r.Header.Get("Authorization"); got != "Bearer "+token {
		bad("Authorization header does not carry the expected bearer token")
	}
	if got := r.Header.Get("Accept"); got != "application/json" {
		bad("Accept %q", got)
	}
	if got := r.Header.Get("client-request-id"); !guidPattern.MatchString(got) {
		bad("client-request-id %q is not a GUID", got)
	}
	if got := r.Header.Get("User-Agent"); !strings.HasPrefix(got, "elentra-teams") {
		bad("User-Agent %q", got)
	}
	for k, v := range st.header {
		if got := r.Header.Get(k); got != v {
			bad("header %s = %q, want %q", k, got, v)
		}
	}
	body, _ := io.ReadAll(r.Body)
	if st.body == "" {
		if len(body) != 0 {
			bad("unexpected body %s", body)
		}
		if ct := r.Header.Get("Content-Type"); ct != "" {
			bad("Content-Type %q without a body", ct)
		}
		return problems
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		bad("Content-Type %q, want application/json", ct)
	}
	if diff := jsonDiff(body, []byte(st.body)); diff != "" {
		bad("body: %s", diff)
	}
	return problems
}

// jsonDiff compares two JSON documents by value ("" when equal).
func jsonDiff(got, want []byte) string {
	var g, w any
	if err := decodeJSONNumber(got, &g); err != nil {
		return fmt.Sprintf("not JSON (%v): %s", err, got)
	}
	if err := decodeJSONNumber(want, &w); err != nil {
		return fmt.Sprintf("test's expected JSON is bad: %v", err)
	}
	if reflect.DeepEqual(g, w) {
		return ""
	}
	gc, _ := json.Marshal(g)
	wc, _ := json.Marshal(w)
	return fmt.Sprintf("\n    got  %s\n    want %s", gc, wc)
}

func decodeJSONNumber(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	return d.Decode(v)
}

// writeGraphError answers with Graph's error JSON (graph-wire.md §8).
func writeGraphError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("request-id", "5b6e9a4e-0000-4000-8000-00000000dead")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":{"code":%q,"message":%q,"innerError":{"date":"2025-03-10T09:00:00","request-id":"5b6e9a4e-0000-4000-8000-00000000dead","client-request-id":"00000000-0000-4000-8000-000000000000"}}}`, code, message)
}

func graphErrorJSON(code, message string) string {
	return fmt.Sprintf(`{"error":{"code":%q,"message":%q,"innerError":{"date":"2025-03-10T09:00:00","request-id":"5b6e9a4e-0000-4000-8000-00000000dead"}}}`, code, message)
}

// newTestClient returns a client aimed at srv with the fake clock injected,
// no jitter (Random = 1, so backoff waits equal their ceilings), and opts
// adjusted by mod.
func newTestClient(srv *httptest.Server, clock *fakeClock, mod func(*Options)) *Client {
	opts := Options{
		BaseURL:      srv.URL,
		TokenSource:  staticTokens{testToken},
		HTTPClient:   srv.Client(),
		Clock:        clock.Now,
		Sleep:        clock.Sleep,
		PollInterval: 5 * time.Second,
		Random:       func() float64 { return 1 },
		UserAgent:    "elentra-teams/test",
	}
	if mod != nil {
		mod(&opts)
	}
	return New(opts)
}

func vals(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

func durations(secs ...float64) []time.Duration {
	out := make([]time.Duration, len(secs))
	for i, s := range secs {
		out[i] = time.Duration(s * float64(time.Second))
	}
	return out
}
