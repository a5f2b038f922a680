package auth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/elentra-teams/elentra-teams/pkg/msgraph"
)

func testSealer(t *testing.T) *Sealer {
	t.Helper()
	s, err := NewSealer(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSealRoundTripAndTamper(t *testing.T) {
	s := testSealer(t)
	ct := s.Seal([]byte("fake-refresh-token"), "elentra-teams/delegated/refresh_token")
	if bytes.Contains(ct, []byte("fake-refresh-token")) {
		t.Fatal("ciphertext holds the plaintext")
	}
	pt, err := s.Open(ct, "elentra-teams/delegated/refresh_token")
	if err != nil || string(pt) != "fake-refresh-token" {
		t.Fatalf("Open = %q, %v", pt, err)
	}
	if _, err := s.Open(ct, "elentra-teams/delegated/access_token"); !errors.Is(err, ErrUndecryptable) {
		t.Errorf("ciphertext moved to another column decrypted: %v", err)
	}
	ct[len(ct)-1] ^= 1
	if _, err := s.Open(ct, "elentra-teams/delegated/refresh_token"); !errors.Is(err, ErrUndecryptable) {
		t.Errorf("tampered ciphertext decrypted: %v", err)
	}
	other, _ := NewSealer(bytes.Repeat([]byte{8}, 32))
	if _, err := other.Open(s.Seal([]byte("x"), "a"), "a"); !errors.Is(err, ErrUndecryptable) {
		t.Errorf("another key decrypted: %v", err)
	}
	if a, b := s.Seal([]byte("x"), "a"), s.Seal([]byte("x"), "a"); bytes.Equal(a, b) {
		t.Error("two seals of the same text are equal: nonce reused")
	}
	if _, err := NewSealer([]byte("short")); err == nil {
		t.Error("a short key was accepted")
	}
}

func TestNormalizeScopes(t *testing.T) {
	got := NormalizeScopes("https://graph.microsoft.com/User.ReadBasic.All https://graph.microsoft.com/Group.ReadWrite.All offline_access openid User.ReadBasic.All")
	want := "Group.ReadWrite.All openid User.ReadBasic.All"
	if strings.Join(got, " ") != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := NormalizeScopes("https%3A%2F%2Fgraph.microsoft.com%2Fmail.read"); strings.Join(got, " ") != "mail.read" {
		t.Errorf("url-encoded: %q", got)
	}
	required := []string{"offline_access", "User.ReadBasic.All", "Group.ReadWrite.All", "Calendars.ReadWrite"}
	if m := MissingScopes(required, []string{"user.readbasic.all", "group.readwrite.all"}); strings.Join(m, ",") != "Calendars.ReadWrite" {
		t.Errorf("missing = %v", m)
	}
	if m := MissingScopes(required, nil); m != nil {
		t.Errorf("a server that omits scope must not make every scope missing: %v", m)
	}
}

func retrieveError(status int, body string) error {
	var b struct {
		Error string `json:"error"`
	}
	_ = b
	code := ""
	if i := strings.Index(body, `"error":"`); i >= 0 {
		rest := body[i+9:]
		code = rest[:strings.IndexByte(rest, '"')]
	}
	return &oauth2.RetrieveError{Response: &http.Response{StatusCode: status}, Body: []byte(body), ErrorCode: code}
}

func TestClassifyTokenError(t *testing.T) {
	cases := []struct {
		body     string
		aadsts   int
		contains []string
	}{
		{`{"error":"invalid_grant","error_description":"AADSTS700082: The refresh token has expired due to inactivity.","error_codes":[700082]}`,
			700082, []string{"AADSTS700082", "90 days", "run 'elentra-teams authorize'"}},
		{`{"error":"invalid_grant","error_description":"AADSTS70008: expired","error_codes":[70008]}`, 70008, []string{"expired or was revoked"}},
		{`{"error":"invalid_grant","error_description":"AADSTS70043: sign-in frequency"}`, 70043, []string{"Conditional Access"}},
		{`{"error":"invalid_grant","error_description":"AADSTS65001: consent","error_codes":[65001]}`, 65001, []string{"consent"}},
		{`{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215]}`,
			7000215, []string{"client secret is wrong", "microsoft.client_secret"}},
	}
	for _, c := range cases {
		err := ClassifyTokenError(fmt.Errorf("refresh: %w", retrieveError(400, c.body)))
		var re *ReauthorizeError
		if !errors.As(err, &re) {
			t.Errorf("%s: got %v", c.body, err)
			continue
		}
		if re.AADSTS != c.aadsts {
			t.Errorf("AADSTS = %d, want %d", re.AADSTS, c.aadsts)
		}
		for _, w := range c.contains {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%q lacks %q", err, w)
			}
		}
	}
	// a server error is not a reason to re-authorize
	if err := ClassifyTokenError(retrieveError(503, `{"error":"temporarily_unavailable"}`)); errors.As(err, new(*ReauthorizeError)) {
		t.Errorf("temporarily_unavailable classified as reauthorize: %v", err)
	}
	plain := errors.New("dial tcp: connection refused")
	if ClassifyTokenError(plain) != plain {
		t.Error("a network error must pass through")
	}
}

func testFlow() *Flow {
	return NewFlow(&oauth2.Config{ClientID: "c", RedirectURL: "http://localhost:8400/callback",
		Endpoint: oauth2.Endpoint{AuthURL: "https://login.example.test/t/oauth2/v2.0/authorize", TokenURL: "https://login.example.test/t/oauth2/v2.0/token"},
		Scopes:   []string{"offline_access", "User.ReadBasic.All"}})
}

func TestAuthCodeURL(t *testing.T) {
	f := testFlow()
	u, err := url.Parse(f.AuthCodeURL("admin@example.edu"))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	for k, want := range map[string]string{
		"client_id": "c", "response_type": "code", "redirect_uri": "http://localhost:8400/callback",
		"state": f.State, "code_challenge_method": "S256", "login_hint": "admin@example.edu",
		"scope": "offline_access User.ReadBasic.All", "response_mode": "query",
	} {
		if q.Get(k) != want {
			t.Errorf("%s = %q, want %q", k, q.Get(k), want)
		}
	}
	if q.Get("code_challenge") == "" || q.Get("code_challenge") == f.Verifier {
		t.Error("the challenge must be the S256 hash, not the verifier")
	}
	if g := testFlow(); g.State == f.State || g.Verifier == f.Verifier {
		t.Error("state and verifier must be fresh per flow")
	}
}

func TestCodeFromPasted(t *testing.T) {
	f := testFlow()
	good := "http://localhost:8400/callback?code=abc123&state=" + url.QueryEscape(f.State) + "&session_state=x"
	for _, in := range []string{good, "  " + good + "\n", "?code=abc123&state=" + f.State, "abc123"} {
		code, err := f.CodeFromPasted(in)
		if err != nil || code != "abc123" {
			t.Errorf("%q: %q, %v", in, code, err)
		}
	}
	if _, err := f.CodeFromPasted("http://localhost:8400/callback?code=abc&state=other"); !errors.Is(err, ErrStateMismatch) {
		t.Errorf("state mismatch: %v", err)
	}
	_, err := f.CodeFromPasted("http://localhost:8400/callback?error=access_denied&error_description=the+user+canceled+the+authentication&state=" + f.State)
	var re *RedirectError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "access_denied: the user canceled the authentication") {
		t.Errorf("error redirect: %v", err)
	}
	if _, err := f.CodeFromPasted(""); err == nil {
		t.Error("empty input accepted")
	}
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestWaitLoopback(t *testing.T) {
	port := freePort(t)
	redirect := fmt.Sprintf("http://localhost:%d/callback", port)
	ready := make(chan struct{})
	var q url.Values
	var werr error
	done := make(chan struct{})
	go func() {
		q, werr = WaitLoopback(context.Background(), redirect, "s", 10*time.Second, func() { close(ready) })
		close(done)
	}()
	<-ready
	// another path is not the redirect
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/other", port))
	if err != nil || resp.StatusCode != 404 {
		t.Fatalf("other path: %v %v", resp, err)
	}
	resp.Body.Close()
	resp, err = http.Get(fmt.Sprintf("http://127.0.0.1:%d/callback?code=xyz&state=s", port))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	<-done
	if werr != nil || q.Get("code") != "xyz" {
		t.Fatalf("got %v, %v", q, werr)
	}
	// closed after one request
	if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second); err == nil {
		c.Close()
		t.Error("the listener is still open after the redirect")
	}
	// bound to loopback only: the port is not open on other addresses
	if addrs, _ := net.InterfaceAddrs(); len(addrs) > 0 {
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok || ipn.IP.IsLoopback() || ipn.IP.To4() == nil {
				continue
			}
			go WaitLoopback(context.Background(), redirect, "s", 2*time.Second, nil)
			time.Sleep(100 * time.Millisecond)
			if c, err := net.DialTimeout("tcp", fmt.Sprintf("%s:%d", ipn.IP, port), 300*time.Millisecond); err == nil {
				c.Close()
				t.Errorf("the listener answers on %s", ipn.IP)
			}
			break
		}
	}
}

func TestWaitLoopbackTimeout(t *testing.T) {
	redirect := fmt.Sprintf("http://127.0.0.1:%d/cb", freePort(t))
	_, err := WaitLoopback(context.Background(), redirect, "s", 50*time.Millisecond, nil)
	if err == nil || !strings.Contains(err.Error(), "--no-browser") {
		t.Errorf("timeout: %v", err)
	}
}

func TestIsLoopbackRedirect(t *testing.T) {
	for in, want := range map[string]string{
		"http://localhost:8400/callback":                     "127.0.0.1:8400",
		"http://LOCALHOST:8400/callback":                     "127.0.0.1:8400",
		"http://127.0.0.1:8400/":                             "127.0.0.1:8400",
		"http://127.0.0.2:8400/":                             "127.0.0.2:8400",
		"http://[::1]:8400/cb":                               "[::1]:8400",
		"http://localhost/callback":                          "127.0.0.1:80", // the browser comes to port 80
		"https://localhost:8400/callback":                    "",             // no certificate to answer https with
		"http://127.attacker.example:8400/callback":          "",
		"http://localhost.attacker.example:8400/callback":    "",
		"http://user@localhost:8400/callback":                "",
		"https://elentra.example.edu/api/ms-graph-oauth.php": "",
		"://nonsense": "",
	} {
		addr, ok := LoopbackListenAddr(in)
		if addr != want || ok != (want != "") || IsLoopbackRedirect(in) != ok {
			t.Errorf("%s: listens on %q (%v), want %q", in, addr, ok, want)
		}
	}
}

func TestCompareZoneOffsets(t *testing.T) {
	toronto, _ := time.LoadLocation("America/Toronto")
	newYork, _ := time.LoadLocation("America/New_York")
	regina, _ := time.LoadLocation("America/Regina") // no daylight saving
	chicago, _ := time.LoadLocation("America/Chicago")
	from := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
	year := 365 * 24 * time.Hour
	if m := CompareZoneOffsets(toronto, newYork, from, year); m != nil {
		t.Errorf("Toronto and New York differ: %v", m)
	}
	m := CompareZoneOffsets(regina, chicago, from, year)
	if m == nil {
		t.Fatal("Regina and Chicago differ in summer")
	}
	if m.At.Before(time.Date(2027, 3, 14, 0, 0, 0, 0, time.UTC)) || m.At.After(time.Date(2027, 3, 15, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("first difference at %v, want Chicago's DST start on 2027-03-14", m.At)
	}
	if !strings.Contains(m.Error(), "UTC-06:00") || !strings.Contains(m.Error(), "UTC-05:00") {
		t.Errorf("message %q", m.Error())
	}
}

// memTable is an in-memory TokenTable with the same compare-and-swap rule as
// the database table, for tests of the TokenSource's own logic.
type memTable struct {
	mu   sync.Mutex
	rows map[string]StoredToken
}

func (m *memTable) GetToken(_ context.Context, name string) (*StoredToken, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.rows[name]
	if !ok {
		return nil, nil
	}
	return &r, nil
}

func (m *memTable) PutToken(_ context.Context, t *StoredToken) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.rows == nil {
		m.rows = map[string]StoredToken{}
	}
	t.Version = m.rows[t.Name].Version + 1
	m.rows[t.Name] = *t
	return nil
}

func (m *memTable) SwapToken(_ context.Context, t *StoredToken, from int) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.rows[t.Name].Version != from {
		return false, nil
	}
	t.Version = from + 1
	m.rows[t.Name] = *t
	return true, nil
}

// A failed look-up of the Outlook time zones names what Microsoft's answer
// points at: the mailbox, or the token's permission; never the
// administrator's Object ID (the account was checked before the call).
func TestZonesErrorNamesTheCause(t *testing.T) {
	route := "/me/outlook/supportedTimeZones(TimeZoneStandard=microsoft.graph.timeZoneStandard'Iana')"
	for _, tt := range []struct {
		name string
		err  error
		app  bool
		says []string
	}{
		{"no mailbox", &msgraph.Error{Status: 404, Code: "MailboxNotEnabledForRESTAPI", Message: "The mailbox is either inactive, soft-deleted, or is hosted on-premise.", Method: "GET", Route: route}, false,
			[]string{"cannot list the account's Outlook time zones (graph: GET ", "404 MailboxNotEnabledForRESTAPI", "): the account has no Exchange Online mailbox", "give it an Exchange Online licence"}},
		{"mailbox code, other status", &msgraph.Error{Status: 401, Code: "MailboxNotEnabledForRESTAPI", Method: "GET", Route: route}, false,
			[]string{"the account has no Exchange Online mailbox"}},
		{"organiser without mailbox", &msgraph.Error{Status: 404, Code: "ResourceNotFound", Method: "GET", Route: "/users/u1/outlook/supportedTimeZones"}, true,
			[]string{"cannot list the organiser's Outlook time zones", "the organiser has no Exchange Online mailbox"}},
		{"scope missing", &msgraph.Error{Status: 403, Code: "Forbidden", Message: "Missing scope permissions on the request.", Method: "GET", Route: route}, false,
			[]string{"the token may not read them: grant the delegated permission User.ReadBasic.All (with admin consent)", "run authorize again"}},
		{"app permission missing", &msgraph.Error{Status: 403, Code: "ErrorAccessDenied", Method: "GET", Route: route}, true,
			[]string{"grant the application permission User.Read.All", "Exchange Online restricts the app to chosen mailboxes"}},
		{"anything else", errors.New("connection reset"), false,
			[]string{"(connection reset): listing them needs an Exchange Online mailbox for the account and the delegated permission User.ReadBasic.All in the token"}},
	} {
		got := zonesError(tt.err, tt.app).Error()
		for _, s := range tt.says {
			if !strings.Contains(got, s) {
				t.Errorf("%s: %q lacks %q", tt.name, got, s)
			}
		}
		if strings.Contains(got, "Object ID") {
			t.Errorf("%s: %q blames an Object ID", tt.name, got)
		}
	}
}

// The pasted address and the time zone's number can be typed ahead (or
// piped in) together: each prompt reads its own line and loses none.
func TestPromptsShareOneReader(t *testing.T) {
	o := &AuthorizeOptions{In: strings.NewReader("http://localhost:8400/callback?code=x&state=y\n2\n")}
	first, err := o.readLine()
	if err != nil || first != "http://localhost:8400/callback?code=x&state=y\n" {
		t.Fatalf("first answer %q, %v", first, err)
	}
	if second, err := o.readLine(); err != nil || second != "2\n" {
		t.Errorf("second answer %q, %v: lost to the first prompt's buffer", second, err)
	}
}
