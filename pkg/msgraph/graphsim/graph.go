package graphsim

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Error families: each Graph workload names its errors differently.
const (
	famDirectory = "directory"
	famTeams     = "teams"
	famOutlook   = "outlook"
)

// odataJSON is the media type Graph answers OData bodies with; clients must
// parse it rather than compare it with "application/json".
const odataJSON = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"

// call is one Graph request, from the wire or from a $batch item.
type call struct {
	method          string
	path            string   // decoded, normalised path below /v1.0
	rawPath         string   // path below /v1.0 as received, for nextLink
	segs            []string // normalised segments (keys of name('key') split out)
	fnArgs          map[string]string
	query           url.Values
	header          http.Header
	body            []byte
	base            string // scheme://host of the simulator as the client reached it
	tok             *accessToken
	params          map[string]string
	rt              *route
	requestID       string
	clientRequestID string
	inBatch         bool

	pathKnown bool   // the path names a resource, whatever the method
	admitted  bool   // prepared and through the mailbox gate
	early     *reply // the answer decided on arrival (bad path, token, mailbox full)
	slot      string // the mailbox slot held while in flight
}

// reply is a handler's answer before headers are finalised.
type reply struct {
	status int
	header http.Header
	body   any
	err    *graphErr
}

type graphErr struct {
	code    string
	message string
	details []map[string]string
	inner   map[string]any
}

func gerr(status int, code, msg string) *reply {
	return &reply{status: status, err: &graphErr{code: code, message: msg}}
}

func ok(status int, body any) *reply { return &reply{status: status, body: body} }

func (rp *reply) with(k, v string) *reply {
	if rp.header == nil {
		rp.header = http.Header{}
	}
	rp.header.Set(k, v)
	return rp
}

// route is one Graph operation.
type route struct {
	method  string
	pattern string
	segs    []string
	family  string
	perms   []string // any one of these delegated permissions allows the call
	handle  func(s *Sim, c *call) *reply
}

func (rt *route) template() string { return rt.method + " " + rt.pattern }

var keySegment = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9]*)\('((?:[^']|'')*)'\)$`)
var fnSegment = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9]*)\((.*)\)$`)

// splitPath turns "/users('a@b')/events" into ["users","a@b","events"], and
// keeps the arguments of function segments such as
// supportedTimeZones(TimeZoneStandard=microsoft.graph.timeZoneStandard'Iana').
func splitPath(escaped string) (segs []string, fnArgs map[string]string, err error) {
	fnArgs = map[string]string{}
	for _, raw := range strings.Split(strings.Trim(escaped, "/"), "/") {
		if raw == "" {
			continue
		}
		seg, err := url.PathUnescape(raw)
		if err != nil {
			return nil, nil, err
		}
		if m := keySegment.FindStringSubmatch(seg); m != nil {
			segs = append(segs, m[1], strings.ReplaceAll(m[2], "''", "'"))
			continue
		}
		if m := fnSegment.FindStringSubmatch(seg); m != nil {
			segs = append(segs, m[1])
			fnArgs[strings.ToLower(m[1])] = m[2]
			continue
		}
		segs = append(segs, seg)
	}
	return segs, fnArgs, nil
}

func (s *Sim) match(c *call) (*route, map[string]string, bool) {
	pathMatched := false
	for _, rt := range graphRoutes {
		if len(rt.segs) != len(c.segs) {
			continue
		}
		params := map[string]string{}
		okk := true
		for i, p := range rt.segs {
			if strings.HasPrefix(p, "{") {
				params[strings.Trim(p, "{}")] = c.segs[i]
				continue
			}
			if !strings.EqualFold(p, c.segs[i]) {
				okk = false
				break
			}
		}
		if !okk {
			continue
		}
		pathMatched = true
		if rt.method == c.method {
			return rt, params, true
		}
	}
	return nil, nil, pathMatched
}

var graphRoutes []*route

func addRoute(method, pattern, family string, perms []string, h func(*Sim, *call) *reply) {
	rt := &route{method: method, pattern: pattern, family: family, perms: perms, handle: h}
	rt.segs = strings.Split(strings.Trim(pattern, "/"), "/")
	graphRoutes = append(graphRoutes, rt)
}

// addMailboxRoute registers a route under /me and /users/{userId}.
func addMailboxRoute(method, rest, family string, perms []string, h func(*Sim, *call) *reply) {
	addRoute(method, "/me"+rest, family, perms, h)
	addRoute(method, "/users/{userId}"+rest, family, perms, h)
}

// serveGraph answers one request under /v1.0.
func (s *Sim) serveGraph(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	escaped := strings.TrimPrefix(r.URL.EscapedPath(), "/v1.0")
	c := &call{method: r.Method, rawPath: escaped, query: r.URL.Query(), header: r.Header, body: body,
		base: baseURL(r), clientRequestID: r.Header.Get("client-request-id")}
	if strings.EqualFold(strings.Trim(escaped, "/"), "$batch") {
		s.pause(r, c)
		s.serveBatch(w, c)
		return
	}
	// A request is in flight from its arrival to its answer: the mailbox
	// gate admits it on arrival, the latency passes, then it is served.
	s.mu.Lock()
	s.admit(c)
	s.mu.Unlock()
	s.pause(r, c)
	s.mu.Lock()
	status, hdr, out := s.dispatch(c)
	s.leaveMailbox(c.slot)
	s.mu.Unlock()
	writeReply(w, status, hdr, out)
}

// pause is the time a request spends in flight: the latency (real time,
// shortened by the time scale) and, for tests, the mailbox hold hook.
func (s *Sim) pause(r *http.Request, c *call) {
	if c.slot != "" && s.onMailboxHold != nil {
		s.onMailboxHold()
	}
	d := s.latency()
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
}

// latency is the real time each request waits: Options.Latency at the
// time scale.
func (s *Sim) latency() time.Duration {
	return time.Duration(float64(s.opts.Latency) / s.timeScale)
}

func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func writeReply(w http.ResponseWriter, status int, hdr http.Header, body []byte) {
	for k, vs := range hdr {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(status)
	w.Write(body)
}

// dispatch runs one Graph call (s.mu held) and logs it.
func (s *Sim) dispatch(c *call) (int, http.Header, []byte) {
	c.requestID = s.nextRequestID()
	if c.clientRequestID == "" {
		c.clientRequestID = c.requestID
	}
	rp := s.run(c)
	status, hdr, body := s.finalize(c, rp)
	route := "unmatched"
	if c.rt != nil {
		route = c.rt.template()
	}
	l := LoggedRequest{Time: s.clock(), Method: c.method, Path: "/v1.0" + c.path, Query: encodeQuery(c.query),
		Route: route, Status: status, InBatch: c.inBatch}
	if c.method != http.MethodGet && len(c.body) > 0 && json.Valid(c.body) {
		l.Body = json.RawMessage(append([]byte(nil), c.body...))
	}
	s.record(l)
	return status, hdr, body
}

func encodeQuery(q url.Values) string {
	if len(q) == 0 {
		return ""
	}
	// Graph clients write "$filter" unescaped; keep the log readable.
	return strings.ReplaceAll(q.Encode(), "%24", "$")
}

// prepare parses and routes c and checks its token: what is known of a
// request on arrival. A non-nil reply ends the call.
func (s *Sim) prepare(c *call) *reply {
	segs, fnArgs, err := splitPath(c.rawPath)
	if err != nil {
		return gerr(400, "BadRequest", "Invalid request URL.")
	}
	c.segs, c.fnArgs = segs, fnArgs
	c.path = "/" + strings.Join(segs, "/")
	c.rt, c.params, c.pathKnown = s.match(c)
	// Authentication comes first, as on Graph: no token, no information.
	return s.authenticate(c)
}

// admit prepares c and passes it through its mailbox's concurrency gate
// (s.mu held); c.early holds the answer when either turns it away.
func (s *Sim) admit(c *call) {
	c.admitted = true
	if c.early = s.prepare(c); c.early == nil {
		c.slot, c.early = s.enterMailbox(c)
	}
}

func (s *Sim) run(c *call) *reply {
	if !c.admitted {
		// A $batch item: it arrives, runs and leaves in one go.
		s.admit(c)
		defer s.leaveMailbox(c.slot)
	}
	if c.early != nil {
		return c.early
	}
	rt, segs := c.rt, c.segs
	if rp := s.injectedFault(c); rp != nil {
		return rp
	}
	if rt == nil {
		if c.pathKnown {
			return gerr(405, "Request_BadRequest", fmt.Sprintf("The HTTP method '%s' is not allowed for the requested resource.", c.method))
		}
		seg := ""
		if len(segs) > 0 {
			seg = segs[len(segs)-1]
		}
		return gerr(400, "BadRequest", fmt.Sprintf("Resource not found for the segment '%s'.", seg))
	}
	if rp := s.takeTokens(c); rp != nil {
		return rp
	}
	if c.tok.userID == "" && len(segs) > 0 && strings.EqualFold(segs[0], "me") {
		return gerr(400, "BadRequest", "/me request is only valid with delegated authentication flow.")
	}
	if rp := s.authorizeScopes(c); rp != nil {
		return rp
	}
	return rt.handle(s, c)
}

func (s *Sim) authenticate(c *call) *reply {
	h := c.header.Get("Authorization")
	unauth := func(msg string) *reply {
		return gerr(401, "InvalidAuthenticationToken", msg).
			with("WWW-Authenticate", `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="`+graphAppID+`"`)
	}
	if h == "" {
		return unauth("Access token is empty.")
	}
	scheme, tok, found := strings.Cut(h, " ")
	if !found || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return unauth("Access token is empty.")
	}
	at := s.access[strings.TrimSpace(tok)]
	if at == nil {
		return unauth("IDX14100: JWT is not well formed, there are no dots (.).")
	}
	if at.tenantID != s.seed.TenantID {
		return unauth("Access token validation failure. Invalid audience.")
	}
	if !s.clock().Before(at.expires) {
		return unauth("Access token has expired or is not yet valid.")
	}
	c.tok = at
	return nil
}

// authorizeScopes checks a delegated token's scopes against the route's
// permissions; app-only tokens are assumed to hold the application
// permissions the tenant admin granted.
func (s *Sim) authorizeScopes(c *call) *reply {
	if s.opts.AnyScope || c.tok.userID == "" || len(c.rt.perms) == 0 {
		return nil
	}
	have := map[string]bool{}
	var shown []string
	for _, sc := range c.tok.scopes {
		if isOIDCScope(sc) {
			continue
		}
		n := normScope(sc)
		have[n] = true
		shown = append(shown, sc)
	}
	if have[".default"] {
		return nil
	}
	for _, p := range c.rt.perms {
		if have[p] {
			return nil
		}
	}
	switch c.rt.family {
	case famTeams:
		return gerr(403, "Forbidden", fmt.Sprintf("Missing scope permissions on the request. API requires one of '%s'. Scopes on the request '%s'", strings.Join(c.rt.perms, ", "), strings.Join(shown, ", ")))
	case famOutlook:
		return gerr(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
	default:
		return gerr(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
	}
}

// injectedFault applies the counting faults: a 429 storm, every-Nth 429 and
// every-Nth 503.
func (s *Sim) injectedFault(c *call) *reply {
	s.graphRequests++
	n := s.graphRequests
	f := s.faults
	if s.stormLeft > 0 {
		s.stormLeft--
		return s.throttledFault()
	}
	if f.Throttle429Every > 0 && n%f.Throttle429Every == 0 {
		return s.throttledFault()
	}
	if f.Unavailable503Every > 0 && n%f.Unavailable503Every == 0 {
		return gerr(503, "serviceNotAvailable", "The service is temporarily unavailable. Please retry later.")
	}
	return nil
}

// throttledFault builds the 429 of the throttling faults, with the
// Retry-After form and delay they ask for.
func (s *Sim) throttledFault() *reply {
	f := s.faults
	secs := f.RetryAfterSeconds
	var ra string
	switch f.RetryAfterForm {
	case RetryAfterFloat:
		if secs <= 0 {
			secs = 2.128
		}
		ra = strconv.FormatFloat(secs, 'f', -1, 64)
	case RetryAfterDate:
		if secs <= 0 {
			secs = 2
		}
		ra = s.clock().Add(time.Duration(math.Ceil(secs)) * time.Second).UTC().Format(http.TimeFormat)
	default:
		if secs <= 0 {
			secs = 2
		}
		ra = strconv.Itoa(int(math.Ceil(secs)))
	}
	return s.throttled(ra)
}

// throttled builds the 429 of graph-wire.md §7.1 with Retry-After ra.
func (s *Sim) throttled(ra string) *reply {
	rp := gerr(429, "TooManyRequests", "Please retry again later.")
	rp.err.inner = map[string]any{"code": "429", "message": "Please retry after", "status": "429"}
	return rp.with("Retry-After", ra)
}

// finalize turns a reply into status, headers and body bytes.
func (s *Sim) finalize(c *call, rp *reply) (int, http.Header, []byte) {
	hdr := http.Header{}
	for k, vs := range rp.header {
		hdr[k] = vs
	}
	hdr.Set("request-id", c.requestID)
	hdr.Set("client-request-id", c.clientRequestID)
	hdr.Set("Cache-Control", "no-store")
	var body []byte
	switch {
	case rp.err != nil:
		inner := map[string]any{
			"date":              s.clock().UTC().Format("2006-01-02T15:04:05"),
			"request-id":        c.requestID,
			"client-request-id": c.clientRequestID,
		}
		for k, v := range rp.err.inner {
			inner[k] = v
		}
		e := map[string]any{"code": rp.err.code, "message": rp.err.message, "innerError": inner}
		if len(rp.err.details) > 0 {
			e["details"] = rp.err.details
		}
		body = marshal(map[string]any{"error": e})
		hdr.Set("Content-Type", "application/json")
	case rp.body != nil:
		body = marshal(rp.body)
		if hdr.Get("Content-Type") == "" {
			hdr.Set("Content-Type", odataJSON)
		}
	}
	return rp.status, hdr, body
}

// marshal encodes JSON without HTML escaping, as Graph does (join URLs keep
// their '&').
func marshal(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err) // only simulator-built values are encoded here
	}
	return bytes.TrimRight(buf.Bytes(), "\n")
}

// errBadRequestCode is the 400 code each workload uses.
func errBadRequestCode(family string) string {
	switch family {
	case famDirectory:
		return "Request_BadRequest"
	case famOutlook:
		return "ErrorInvalidRequest"
	default:
		return "BadRequest"
	}
}

func (c *call) bad(msg string) *reply { return gerr(400, errBadRequestCode(c.rt.family), msg) }

// object decodes the JSON object body of a write, strictly: a JSON media
// type, a non-empty object, and only the named properties (annotations such
// as "@odata.type" aside).
func (c *call) object(typeName string, allowed ...string) (map[string]json.RawMessage, *reply) {
	if len(bytes.TrimSpace(c.body)) == 0 {
		return nil, c.bad("Empty Payload. JSON content expected.")
	}
	mt, _, err := mime.ParseMediaType(c.header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return nil, gerr(415, "UnsupportedMediaType", "Content-Type must be application/json for a JSON payload.")
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(c.body, &obj); err != nil || obj == nil {
		return nil, c.bad("Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.")
	}
	if typeName != "" {
		for k := range obj {
			if strings.HasPrefix(k, "@") {
				continue
			}
			known := false
			for _, a := range allowed {
				if a == k {
					known = true
					break
				}
			}
			if !known {
				return nil, c.bad(fmt.Sprintf("Invalid property '%s': the property does not exist on type '%s'. Make sure to only use property names that are defined by the type.", k, typeName))
			}
		}
	}
	return obj, nil
}

// optionalObject is object for routes whose body may be empty.
func (c *call) optionalObject(typeName string, allowed ...string) (map[string]json.RawMessage, *reply) {
	if len(bytes.TrimSpace(c.body)) == 0 {
		return map[string]json.RawMessage{}, nil
	}
	return c.object(typeName, allowed...)
}

func present(obj map[string]json.RawMessage, k string) bool {
	v, ok := obj[k]
	return ok && string(bytes.TrimSpace(v)) != "null"
}

func getString(obj map[string]json.RawMessage, k string) (string, bool) {
	v, ok := obj[k]
	if !ok {
		return "", false
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return "", false
	}
	return s, true
}

func getBool(obj map[string]json.RawMessage, k string) (bool, bool) {
	v, ok := obj[k]
	if !ok {
		return false, false
	}
	var b bool
	if json.Unmarshal(v, &b) != nil {
		return false, false
	}
	return b, true
}

func getStrings(obj map[string]json.RawMessage, k string) ([]string, bool) {
	v, ok := obj[k]
	if !ok {
		return nil, false
	}
	var ss []string
	if json.Unmarshal(v, &ss) != nil {
		return nil, false
	}
	return ss, true
}

// bindID extracts the key from an @odata.bind URL such as
// "https://graph.microsoft.com/v1.0/users('id')" or ".../directoryObjects/id".
// Graph's own host, the simulator's host and relative URLs are accepted.
func (c *call) bindID(raw string, collections ...string) (string, bool) {
	rest := raw
	for _, prefix := range []string{"https://graph.microsoft.com/v1.0/", c.base + "/v1.0/", "/v1.0/", "/"} {
		if strings.HasPrefix(strings.ToLower(rest), strings.ToLower(prefix)) {
			rest = rest[len(prefix):]
			break
		}
	}
	if strings.Contains(rest, "://") {
		return "", false
	}
	segs, _, err := splitPath(rest)
	if err != nil || len(segs) != 2 {
		return "", false
	}
	for _, col := range collections {
		if strings.EqualFold(segs[0], col) && segs[1] != "" {
			return segs[1], true
		}
	}
	return "", false
}

// selection parses $select against the properties a type knows.
func (c *call) selection(typeName string, known []string) ([]string, *reply) {
	raw := c.query.Get("$select")
	if raw == "" {
		return nil, nil
	}
	var out []string
	for _, p := range strings.Split(raw, ",") {
		p = strings.TrimSpace(p)
		found := ""
		for _, k := range known {
			if strings.EqualFold(k, p) {
				found = k
				break
			}
		}
		if found == "" {
			msg := fmt.Sprintf("Could not find a property named '%s' on type 'microsoft.graph.%s'.", p, typeName)
			if c.rt.family == famOutlook {
				return nil, gerr(400, "RequestBroker--ParseUri", msg)
			}
			return nil, c.bad("Parsing OData Select and Expand failed: " + msg)
		}
		out = append(out, found)
	}
	return out, nil
}

// project keeps the selected properties (plus annotations and always) of obj.
func project(obj map[string]any, sel []string, always ...string) map[string]any {
	if sel == nil {
		return obj
	}
	out := map[string]any{}
	for k, v := range obj {
		if strings.HasPrefix(k, "@") {
			out[k] = v
		}
	}
	for _, k := range append(append([]string(nil), always...), sel...) {
		if v, ok := obj[k]; ok {
			out[k] = v
		}
	}
	return out
}

func knownKeys(sample map[string]any) []string {
	var keys []string
	for k := range sample {
		if !strings.HasPrefix(k, "@") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// page cuts items into the page the request asks for and builds the
// absolute @odata.nextLink of the next one.
func (c *call) page(items []any, size int) ([]any, string, *reply) {
	offset := 0
	if tok := c.query.Get("$skiptoken"); tok != "" {
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(raw), "offset:"))
		if err != nil || err2 != nil || !strings.HasPrefix(string(raw), "offset:") || n < 0 {
			return nil, "", c.bad("Invalid $skiptoken.")
		}
		offset = n
	}
	if offset > len(items) {
		offset = len(items)
	}
	end := offset + size
	if end >= len(items) {
		return items[offset:], "", nil
	}
	q := url.Values{}
	for k, v := range c.query {
		q[k] = v
	}
	q.Set("$skiptoken", base64.RawURLEncoding.EncodeToString([]byte("offset:"+strconv.Itoa(end))))
	next := c.base + "/v1.0" + c.rawPath + "?" + strings.ReplaceAll(q.Encode(), "%24", "$")
	return items[offset:end], next, nil
}

// topSize reads $top (1..max) or returns def.
func (c *call) topSize(def, max int) (int, *reply) {
	raw := c.query.Get("$top")
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > max {
		if c.rt.family == famDirectory {
			return 0, gerr(400, "Request_UnsupportedQuery", fmt.Sprintf("Invalid page size specified: '%s'. Must be between 1 and %d inclusive.", raw, max))
		}
		return 0, c.bad(fmt.Sprintf("Invalid $top value '%s'.", raw))
	}
	return n, nil
}

// collection builds a list answer.
func (c *call) collection(context string, value []any, next string, extra map[string]any) map[string]any {
	if value == nil {
		value = []any{}
	}
	out := map[string]any{"@odata.context": c.base + "/v1.0/$metadata#" + context, "value": value}
	if next != "" {
		out["@odata.nextLink"] = next
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

func (c *call) context(fragment string) string { return c.base + "/v1.0/$metadata#" + fragment }

func formatGraphTime(t time.Time) string { return t.Format("2006-01-02T15:04:05.0000000") }

func isoUTC(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// toMap round-trips a value through JSON so filters see the wire form.
func toMap(v any) map[string]any {
	var m map[string]any
	json.Unmarshal(marshal(v), &m)
	return m
}
