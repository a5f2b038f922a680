package msgraph

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
)

// request is one Graph call before it is sent. Its body is kept as bytes so
// a retry sends exactly the same thing again.
type request struct {
	method   string
	path     string // escaped, below /v1.0, starting with "/"
	rawQuery string
	header   map[string]string
	body     []byte
	// replayable says the request may be sent again when its outcome is
	// unknown: reads, PUT/PATCH/DELETE, and the POSTs that are idempotent
	// by design (bulk add, cancel, events carrying a transactionId).
	replayable bool
	// readOnly lets a POST through dry-run: a $batch holding only GETs.
	readOnly bool
}

func newRequest(method, path string, q query) *request {
	return &request{
		method:     method,
		path:       path,
		rawQuery:   q.encode(),
		replayable: method != http.MethodPost,
		readOnly:   method == http.MethodGet,
	}
}

// withBody sets a JSON body and decides, for a POST, whether it can be re-sent.
func (r *request) withBody(v any) (*request, error) {
	b, err := marshalBody(v)
	if err != nil {
		return nil, fmt.Errorf("graph: %s %s: encode body: %w", r.method, routeTemplate(r.path), err)
	}
	r.body = b
	r.replayable = replayable(r.method, r.path, b)
	return r, nil
}

func (r *request) withHeader(key, value string) *request {
	if r.header == nil {
		r.header = map[string]string{}
	}
	r.header[key] = value
	return r
}

// replayable classifies a request by method, path and body: true when sending
// it twice cannot create a second object.
func replayable(method, escapedPath string, body []byte) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	case http.MethodPost:
	default:
		return false
	}
	p, err := url.PathUnescape(escapedPath)
	if err != nil {
		p = escapedPath
	}
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	p = strings.TrimRight(p, "/")
	switch {
	case strings.HasSuffix(p, "/members/add"), strings.HasSuffix(p, "/cancel"):
		return true
	case strings.HasSuffix(p, "/events"):
		// transactionId makes Outlook answer a repeated create with the
		// event it already made.
		var tx struct {
			TransactionID string `json:"transactionId"`
		}
		return json.Unmarshal(body, &tx) == nil && tx.TransactionID != ""
	}
	return false
}

// response is a received Graph answer; the body is fully read.
type response struct {
	status int
	header http.Header
	body   []byte
}

// call sends req and decodes a success body into out (when out is not nil
// and there is a body).
func (c *Client) call(ctx context.Context, req *request, out any) (*response, error) {
	resp, err := c.send(ctx, req)
	if err != nil {
		return nil, err
	}
	if out != nil && len(bytes.TrimSpace(resp.body)) > 0 {
		if err := json.Unmarshal(resp.body, out); err != nil {
			return resp, fmt.Errorf("graph: %s %s: decode response: %w", req.method, routeTemplate(req.path), err)
		}
	}
	return resp, nil
}

// send performs req with the retry policy: wait for the shared throttle,
// send, and on 429/502/503/504 or a transport error wait (Retry-After, else
// exponential backoff with full jitter) and send again, bounded by
// MaxAttempts and MaxElapsed. A 401 forces one token refresh. A non-2xx
// answer is returned as *Error.
func (c *Client) send(ctx context.Context, req *request) (*response, error) {
	route := routeTemplate(req.path)
	if c.baseErr != nil {
		return nil, c.baseErr
	}
	if c.opts.DryRun && !req.readOnly {
		return nil, fmt.Errorf("graph: %s %s: %w", req.method, route, ErrDryRun)
	}
	if c.opts.TokenSource == nil {
		return nil, fmt.Errorf("graph: %s %s: no token source configured", req.method, route)
	}
	clientRequestID := newGUID()
	start := c.now()
	var forcedToken *oauth2.Token
	refreshed := false
	for attempt := 1; ; attempt++ {
		if err := c.waitThrottle(ctx); err != nil {
			return nil, fmt.Errorf("graph: %s %s: %w", req.method, route, err)
		}
		tok := forcedToken
		if tok == nil {
			var err error
			if tok, err = c.opts.TokenSource.Token(); err != nil {
				return nil, fmt.Errorf("graph: %s %s: get access token: %w", req.method, route, err)
			}
		}
		resp, written, err := c.roundTrip(ctx, req, tok, clientRequestID, route, attempt)
		if err != nil {
			unknown := written && !req.replayable
			if ctx.Err() != nil {
				if unknown {
					return nil, fmt.Errorf("graph: %s %s: %w: %w", req.method, route, ErrOutcomeUnknown, ctx.Err())
				}
				return nil, fmt.Errorf("graph: %s %s: %w", req.method, route, ctx.Err())
			}
			if unknown {
				return nil, fmt.Errorf("graph: %s %s: %w: %w", req.method, route, ErrOutcomeUnknown, err)
			}
			wait := c.backoff(attempt)
			if !c.mayRetry(attempt, start, wait) {
				return nil, fmt.Errorf("graph: %s %s: giving up after %d attempts: %w", req.method, route, attempt, err)
			}
			c.countRetry()
			c.logRetry(ctx, req, route, attempt, 0, wait)
			if err := c.opts.Sleep(ctx, wait); err != nil {
				return nil, fmt.Errorf("graph: %s %s: %w", req.method, route, err)
			}
			continue
		}
		if isSuccess(resp.status) {
			return resp, nil
		}
		gerr := decodeError(resp.status, resp.header, resp.body)
		gerr.Method, gerr.Route, gerr.Attempts = req.method, unescapePath(req.path), attempt
		if gerr.ClientRequestID == "" {
			gerr.ClientRequestID = clientRequestID
		}
		switch {
		case resp.status == http.StatusUnauthorized && !refreshed &&
			(gerr.Code == "" || strings.EqualFold(gerr.Code, "InvalidAuthenticationToken")):
			// The token was refused before its known expiry (revoked, clock
			// skew, or the simulator expired it): renew once, then retry.
			refreshed = true
			if r, ok := c.opts.TokenSource.(Refresher); ok {
				t, err := r.ForceRefresh(ctx)
				if err != nil {
					return nil, fmt.Errorf("graph: %s %s: refresh access token after 401: %w", req.method, route, err)
				}
				forcedToken = t
			}
			c.countRetry()
			continue
		case retryableStatus(resp.status):
			if !req.replayable && (resp.status == http.StatusBadGateway || resp.status == http.StatusGatewayTimeout) {
				// A gateway error says nothing about whether the backend
				// acted: a create may have happened.
				return nil, fmt.Errorf("%w (%w)", gerr, ErrOutcomeUnknown)
			}
			wait, hinted := retryAfter(resp.header, c.now())
			if !hinted {
				wait = c.backoff(attempt)
			}
			if !c.mayRetry(attempt, start, wait) {
				return nil, gerr
			}
			c.countRetry()
			c.logRetry(ctx, req, route, attempt, resp.status, wait)
			if resp.status == http.StatusTooManyRequests && hinted {
				// One throttled answer slows every worker of this client: the
				// wait happens in waitThrottle at the top of the loop.
				c.throttleFor(wait)
				continue
			}
			if err := c.opts.Sleep(ctx, wait); err != nil {
				return nil, fmt.Errorf("graph: %s %s: %w", req.method, route, err)
			}
			continue
		default:
			return nil, gerr
		}
	}
}

func retryableStatus(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// mayRetry reports whether another attempt is allowed after waiting wait.
func (c *Client) mayRetry(attempt int, start time.Time, wait time.Duration) bool {
	if attempt >= c.opts.MaxAttempts {
		return false
	}
	return c.now().Sub(start)+wait <= c.opts.MaxElapsed
}

// backoff is exponential with full jitter: a random wait in [0, min(cap,
// base·2^(attempt-1))], so workers that failed together do not retry together.
func (c *Client) backoff(attempt int) time.Duration {
	ceiling := backoffCap
	if attempt <= 16 {
		if d := backoffBase << (attempt - 1); d < ceiling {
			ceiling = d
		}
	}
	return time.Duration(c.random() * float64(ceiling))
}

// retryAfter reads Retry-After in its three forms: integer seconds,
// fractional seconds ("2.128"), or an HTTP date. ok is false when the header
// is absent or unreadable, or asks for more than maxRetryAfter: the wait is
// then the client's own backoff. A wait read is never negative.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	if h == nil {
		return 0, false
	}
	return parseRetryAfter(h.Get("Retry-After"), now)
}

// maxRetryAfter is the longest Retry-After taken at its word.
const maxRetryAfter = 24 * time.Hour

func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if strings.Trim(v, "0123456789.") == "" {
		// Digits with an optional fraction only: ParseFloat alone would
		// take NaN, Inf, signs, exponents and hexadecimal too.
		secs, err := strconv.ParseFloat(v, 64)
		if err != nil || secs > maxRetryAfter.Seconds() {
			return 0, false
		}
		return time.Duration(secs * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := max(t.Sub(now), 0)
		if d > maxRetryAfter {
			return 0, false
		}
		return d, true
	}
	return 0, false
}

// throttleFor makes every request of the client wait until now+d (or later,
// if another 429 already asked for more).
func (c *Client) throttleFor(d time.Duration) {
	until := c.now().Add(d)
	c.throttleMu.Lock()
	if until.After(c.throttleUntil) {
		c.throttleUntil = until
	}
	c.throttleMu.Unlock()
}

// waitThrottle sleeps until the shared throttle instant, if it is ahead.
func (c *Client) waitThrottle(ctx context.Context) error {
	c.throttleMu.Lock()
	until := c.throttleUntil
	c.throttleMu.Unlock()
	if d := until.Sub(c.now()); d > 0 {
		return c.opts.Sleep(ctx, d)
	}
	return ctx.Err()
}

// acquire takes a slot of the global cap and, on Outlook routes, of the
// mailbox's cap; release gives them back.
func (c *Client) acquire(ctx context.Context, mailboxes []string) (release func(), err error) {
	var held []chan struct{}
	release = func() {
		for i := len(held) - 1; i >= 0; i-- {
			<-held[i]
		}
	}
	// Mailboxes first, in a fixed order, then the global slot: one order for
	// every caller means no deadlock.
	for _, mb := range mailboxes {
		sem := c.mailboxSemaphore(mb)
		select {
		case sem <- struct{}{}:
			held = append(held, sem)
		case <-ctx.Done():
			release()
			return nil, ctx.Err()
		}
	}
	if c.global != nil {
		select {
		case c.global <- struct{}{}:
			held = append(held, c.global)
		case <-ctx.Done():
			release()
			return nil, ctx.Err()
		}
	}
	return release, nil
}

func (c *Client) mailboxSemaphore(mailbox string) chan struct{} {
	c.mailboxMu.Lock()
	defer c.mailboxMu.Unlock()
	sem, ok := c.mailboxSem[mailbox]
	if !ok {
		sem = make(chan struct{}, c.opts.MailboxConcurrency)
		c.mailboxSem[mailbox] = sem
	}
	return sem
}

// outlookSegments are the path segments after /me or /users/{id} that reach
// the mailbox, where Outlook allows 4 concurrent requests per app.
var outlookSegments = map[string]bool{
	"events": true, "calendar": true, "calendars": true, "calendarView": true,
	"outlook": true, "mailboxSettings": true,
}

// mailboxOf names the mailbox an escaped path reaches ("me" or a lower-case
// user id), or "" when the path is not an Outlook route.
func mailboxOf(escapedPath string) string {
	segs := strings.Split(strings.Trim(escapedPath, "/"), "/")
	switch {
	case len(segs) >= 2 && segs[0] == "me" && outlookSegments[segs[1]]:
		return "me"
	case len(segs) >= 3 && segs[0] == "users" && outlookSegments[segs[2]]:
		id, err := url.PathUnescape(segs[1])
		if err != nil {
			id = segs[1]
		}
		return strings.ToLower(id)
	}
	return ""
}

// roundTrip sends one attempt. written reports that the whole request left
// this process, so a failure after that leaves its outcome unknown.
func (c *Client) roundTrip(ctx context.Context, req *request, tok *oauth2.Token, clientRequestID, route string, attempt int) (*response, bool, error) {
	// Every attempt counts against Microsoft's limits, a retry too.
	if err := c.pace(ctx, req); err != nil {
		return nil, false, err
	}
	mailboxes := req.mailboxes()
	release, err := c.acquire(ctx, mailboxes)
	if err != nil {
		return nil, false, err
	}
	defer release()

	u := c.base.String() + req.path
	if req.rawQuery != "" {
		u += "?" + req.rawQuery
	}
	var body io.Reader
	if req.body != nil {
		body = bytes.NewReader(req.body)
	}
	// The transport reports the write from its own goroutine.
	var written atomic.Bool
	trace := &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				written.Store(true)
			}
		},
	}
	hreq, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), req.method, u, body)
	if err != nil {
		return nil, false, fmt.Errorf("build request: %w", err)
	}
	hreq.Header.Set("Authorization", tok.Type()+" "+tok.AccessToken)
	hreq.Header.Set("Accept", "application/json")
	hreq.Header.Set("client-request-id", clientRequestID)
	hreq.Header.Set("User-Agent", c.opts.UserAgent)
	if req.body != nil {
		hreq.Header.Set("Content-Type", "application/json")
	}
	for k, v := range req.header {
		hreq.Header.Set(k, v)
	}

	began := c.now()
	hresp, err := c.http.Do(hreq)
	if err != nil {
		c.countResponse(req.method, route, 0)
		c.log.LogAttrs(ctx, slog.LevelDebug, "graph request failed",
			slog.String("method", req.method), slog.String("route", route),
			slog.String("path", c.logPath(req)), slog.Int("attempt", attempt),
			slog.Duration("duration", c.now().Sub(began)),
			slog.String("client_request_id", clientRequestID),
			slog.String("error", err.Error()))
		return nil, written.Load(), err
	}
	defer hresp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(hresp.Body, maxResponseBytes))
	c.countResponse(req.method, route, hresp.StatusCode)
	c.log.LogAttrs(ctx, slog.LevelDebug, "graph request",
		slog.String("method", req.method), slog.String("route", route),
		slog.String("path", c.logPath(req)), slog.Int("attempt", attempt),
		slog.Int("status", hresp.StatusCode), slog.Duration("duration", c.now().Sub(began)),
		slog.String("request_id", hresp.Header.Get("request-id")),
		slog.String("client_request_id", clientRequestID))
	if err != nil {
		// The answer was cut short: the server acted on the request, so this
		// is an unknown outcome like a reset.
		return nil, true, fmt.Errorf("read response: %w", err)
	}
	return &response{status: hresp.StatusCode, header: hresp.Header, body: data}, true, nil
}

// mailboxes lists the Outlook mailboxes a request reaches: one for a direct
// call, the distinct ones of the items for a $batch.
func (r *request) mailboxes() []string {
	if mb := mailboxOf(r.path); mb != "" {
		return []string{mb}
	}
	if r.path != "/$batch" {
		return nil
	}
	var in struct {
		Requests []struct {
			URL string `json:"url"`
		} `json:"requests"`
	}
	if json.Unmarshal(r.body, &in) != nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, item := range in.Requests {
		p := item.URL
		if i := strings.IndexByte(p, '?'); i >= 0 {
			p = p[:i]
		}
		if mb := mailboxOf(p); mb != "" && !seen[mb] {
			seen[mb] = true
			out = append(out, mb)
		}
	}
	slices.Sort(out)
	return out
}

func (c *Client) logPath(req *request) string { return req.relativeURL() }

// relativeURL is the request's path and query below /v1.0: what a log shows
// and what a $batch item carries.
func (r *request) relativeURL() string {
	if r.rawQuery == "" {
		return r.path
	}
	return r.path + "?" + r.rawQuery
}

func (c *Client) logRetry(ctx context.Context, req *request, route string, attempt, status int, wait time.Duration) {
	c.log.LogAttrs(ctx, slog.LevelDebug, "graph retry",
		slog.String("method", req.method), slog.String("route", route),
		slog.Int("attempt", attempt), slog.Int("status", status), slog.Duration("wait", wait))
}

// resolveLink turns an @odata.nextLink (absolute) or an operation Location
// (relative, without /v1.0) into a path and query below /v1.0. An absolute
// link to another host is refused: following it would send the token there.
func (c *Client) resolveLink(link string) (path, rawQuery string, err error) {
	if c.baseErr != nil {
		return "", "", c.baseErr
	}
	u, err := url.Parse(link)
	if err != nil {
		return "", "", fmt.Errorf("graph: link %q: %w", link, err)
	}
	p := u.EscapedPath()
	if u.IsAbs() || u.Host != "" {
		if !strings.EqualFold(u.Scheme, c.base.Scheme) || !strings.EqualFold(u.Host, c.base.Host) {
			return "", "", fmt.Errorf("graph: link %q leaves %s://%s: not followed", link, c.base.Scheme, c.base.Host)
		}
		if !strings.HasPrefix(p, c.basePath+"/") {
			return "", "", fmt.Errorf("graph: link %q is not below %s: not followed", link, c.basePath)
		}
		return strings.TrimPrefix(p, c.basePath), u.RawQuery, nil
	}
	if !strings.HasPrefix(p, "/") {
		return "", "", fmt.Errorf("graph: link %q is neither absolute nor rooted", link)
	}
	// A rooted link normally omits the version (Location: /teams('…')/…);
	// accept one that carries it.
	if strings.HasPrefix(p, c.basePath+"/") {
		p = strings.TrimPrefix(p, c.basePath)
	}
	return p, u.RawQuery, nil
}

func unescapePath(p string) string {
	if u, err := url.PathUnescape(p); err == nil {
		return u
	}
	return p
}

// errorf is a helper for caller errors that happen before sending.
func errorf(method, path, format string, args ...any) error {
	return fmt.Errorf("graph: %s %s: %s", method, routeTemplate(path), fmt.Sprintf(format, args...))
}
