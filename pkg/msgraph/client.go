// Package msgraph is a thin typed client for the parts of Microsoft Graph v1.0
// that elentra-teams uses: users, groups, teams and their members, calendar
// events with Teams meetings, and JSON batching. It speaks net/http and
// encoding/json directly (no Graph SDK) and owns the behaviour every caller
// needs: retries that honour Retry-After, one throttle shared by all
// goroutines, token refresh on 401, paging, dry-run refusal of writes, and
// never re-sending a create whose outcome is unknown.
package msgraph

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// Defaults of Options. The Teams and Outlook numbers come from Microsoft's
// documentation (graph-wire.md §2.1, §2.2, §7.2).
const (
	DefaultBaseURL              = "https://graph.microsoft.com"
	DefaultRequestTimeout       = 60 * time.Second
	DefaultPollInterval         = 30 * time.Second // "wait >30 seconds between checks"
	DefaultMaxAttempts          = 8
	DefaultMaxElapsed           = 5 * time.Minute
	DefaultTeamCreate404Retries = 3 // "retry the Create team call three times,
	DefaultTeamCreate404Delay   = 10 * time.Second
	DefaultMailboxConcurrency   = 4 // Outlook: 4 concurrent requests per app and mailbox
	DefaultOperationTimeout     = 15 * time.Minute
	DefaultUserAgent            = "elentra-teams"

	backoffBase      = time.Second
	backoffCap       = 60 * time.Second
	maxResponseBytes = 64 << 20

	// bindBaseURL prefixes the @odata.bind references in request bodies. Graph
	// resolves them by their path; the documentation always writes them
	// against the public endpoint, whatever host the request goes to.
	bindBaseURL = "https://graph.microsoft.com/v1.0"
)

// Options configure a Client. Zero values take the defaults above.
type Options struct {
	// BaseURL is the Graph endpoint without /v1.0, e.g. https://graph.microsoft.com
	// or a simulator's http://127.0.0.1:PORT. The client appends /v1.0.
	BaseURL string
	// TokenSource gives the bearer token. If it also implements Refresher, a
	// 401 InvalidAuthenticationToken forces one refresh and one retry.
	TokenSource oauth2.TokenSource
	// HTTPClient sends the requests; the default has DefaultRequestTimeout.
	HTTPClient *http.Client
	// DryRun refuses every non-GET request (and every $batch holding one)
	// with ErrDryRun before anything is sent.
	DryRun bool
	// Logger receives one debug record per request (method, route, status,
	// duration, request ids); never a token or a request body.
	Logger *slog.Logger
	// Clock and Sleep are injectable so tests run without waiting.
	Clock func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// PollInterval is the wait between polls of a teamsAsyncOperation.
	PollInterval time.Duration
	// OperationTimeout bounds the polling of one teamsAsyncOperation.
	OperationTimeout time.Duration
	// MaxAttempts bounds the sends of one request, the first one included.
	MaxAttempts int
	// MaxElapsed bounds the total time one request may spend retrying.
	MaxElapsed time.Duration
	// TeamCreate404Retries and TeamCreate404Delay govern PUT /groups/{id}/team
	// right after the group was created (directory replication). A negative
	// TeamCreate404Retries means no retry.
	TeamCreate404Retries int
	TeamCreate404Delay   time.Duration
	// Concurrency caps the requests in flight across the client (0 = no cap).
	Concurrency int
	// MailboxConcurrency caps the requests in flight per mailbox on Outlook
	// routes (events, calendar, calendarView, outlook).
	MailboxConcurrency int
	// NoPacing turns off the client's own pacing under Microsoft's
	// documented Teams and directory limits (pace.go): the client then
	// learns of the limits only from 429s.
	NoPacing bool
	// Random returns a number in [0,1) for the backoff jitter.
	Random func() float64
	// UserAgent is sent as User-Agent, e.g. "elentra-teams/1.4.0".
	UserAgent string
}

// Refresher is implemented by a token source that can be told its access
// token was rejected and must be renewed now, before its expiry. The client
// retries with the token ForceRefresh returns; later Token calls should
// return it too (the implementation replaces what it caches).
type Refresher interface {
	ForceRefresh(ctx context.Context) (*oauth2.Token, error)
}

// Client talks to Microsoft Graph v1.0. It is safe for concurrent use.
type Client struct {
	opts     Options
	http     *http.Client
	log      *slog.Logger
	base     *url.URL // BaseURL + /v1.0
	basePath string   // escaped path of base, e.g. "/v1.0"
	baseErr  error

	throttleMu    sync.Mutex
	throttleUntil time.Time

	global     chan struct{} // nil when Concurrency is 0
	mailboxMu  sync.Mutex
	mailboxSem map[string]chan struct{}

	randMu sync.Mutex

	pacer pacer

	statsMu sync.Mutex
	stats   Stats
}

// New returns a client with opts, defaults filled in. A malformed BaseURL is
// reported by every call rather than here, so construction cannot fail.
func New(opts Options) *Client {
	if opts.BaseURL == "" {
		opts.BaseURL = DefaultBaseURL
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: DefaultRequestTimeout}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Sleep == nil {
		opts.Sleep = Sleep
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.OperationTimeout <= 0 {
		opts.OperationTimeout = DefaultOperationTimeout
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.MaxElapsed <= 0 {
		opts.MaxElapsed = DefaultMaxElapsed
	}
	if opts.TeamCreate404Retries < 0 {
		opts.TeamCreate404Retries = 0
	} else if opts.TeamCreate404Retries == 0 {
		opts.TeamCreate404Retries = DefaultTeamCreate404Retries
	}
	if opts.TeamCreate404Delay <= 0 {
		opts.TeamCreate404Delay = DefaultTeamCreate404Delay
	}
	if opts.MailboxConcurrency <= 0 {
		opts.MailboxConcurrency = DefaultMailboxConcurrency
	}
	if opts.Random == nil {
		opts.Random = randomFloat
	}
	if opts.UserAgent == "" {
		opts.UserAgent = DefaultUserAgent
	}
	c := &Client{
		opts:       opts,
		http:       opts.HTTPClient,
		log:        opts.Logger,
		mailboxSem: map[string]chan struct{}{},
		stats:      newStats(),
	}
	if opts.Concurrency > 0 {
		c.global = make(chan struct{}, opts.Concurrency)
	}
	c.base, c.baseErr = parseBaseURL(opts.BaseURL)
	if c.base != nil {
		c.basePath = c.base.EscapedPath()
	}
	return c
}

func parseBaseURL(raw string) (*url.URL, error) {
	raw = strings.TrimRight(raw, "/")
	// Accept a base that already ends in /v1.0 rather than calling /v1.0/v1.0.
	raw = strings.TrimSuffix(raw, "/v1.0")
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("graph: base url %q: %w", raw, err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("graph: base url %q: want http(s)://host", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("graph: base url %q: must not carry a query or fragment", raw)
	}
	u = u.JoinPath("v1.0")
	if !strings.HasPrefix(u.Path, "/") {
		// JoinPath on a host-only URL yields "v1.0"; links are compared
		// against the rooted form.
		u.Path, u.RawPath = "/"+u.Path, ""
	}
	return u, nil
}

// Sleep waits d in real time, or until ctx ends (its error then). It is
// Options.Sleep's default, and the one real-time wait of the tool's other
// packages too, so that every wait is cut short the same way.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func randomFloat() float64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return 0.5
	}
	// 53 random bits → [0,1), as math/rand does.
	n := uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
	return float64(n>>11) / (1 << 53)
}

func (c *Client) now() time.Time { return c.opts.Clock() }

func (c *Client) random() float64 {
	c.randMu.Lock()
	defer c.randMu.Unlock()
	r := c.opts.Random()
	if r < 0 {
		return 0
	}
	if r > 1 {
		return 1
	}
	return r
}

// newGUID returns a random (version 4) GUID for client-request-id.
func newGUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand does not fail on supported platforms; an id that is not
		// unique only weakens log correlation.
		return "00000000-0000-4000-8000-000000000000"
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// query keeps request parameters in the order they are added, so URLs (and
// the logs that show them) are stable.
type query []queryParam

type queryParam struct{ key, value string }

func (q query) add(key, value string) query { return append(q, queryParam{key, value}) }

func (q query) encode() string {
	var b strings.Builder
	for i, p := range q {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(escapeQuery(p.key))
		b.WriteByte('=')
		b.WriteString(escapeQuery(p.value))
	}
	return b.String()
}

// escapeQuery percent-encodes a query key or value but leaves the OData
// punctuation ($ ' ( ) , : / @) readable. Spaces become %20, not "+": OData
// servers do not all read "+" as a space.
func escapeQuery(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if 'a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z' || '0' <= ch && ch <= '9' ||
			strings.IndexByte("-._~$'(),:/@*!", ch) >= 0 {
			b.WriteByte(ch)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", ch)
	}
	return b.String()
}

// escapeSegment escapes one path segment (an id, a UPN) for use below /v1.0.
// Quotes and parentheses stay literal for the OData key form users('…').
func escapeSegment(s string) string {
	e := url.PathEscape(s)
	return strings.NewReplacer("%27", "'", "%28", "(", "%29", ")").Replace(e)
}

// odataString quotes s as an OData string literal: single quotes doubled.
func odataString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// mailboxPath returns "/me" for "me" (or "") and "/users/{id}" otherwise.
func mailboxPath(mailbox string) string {
	if mailbox == "" || strings.EqualFold(mailbox, "me") {
		return "/me"
	}
	return "/users/" + escapeSegment(mailbox)
}

// marshalBody encodes a request body; our own body types cannot fail, but a
// caller's batch body can.
func marshalBody(v any) ([]byte, error) {
	switch b := v.(type) {
	case nil:
		return nil, nil
	case json.RawMessage:
		return b, nil
	case []byte:
		return b, nil
	}
	return json.Marshal(v)
}
