package msgraph

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// maxBatchSize is Graph's limit of requests in one $batch.
const maxBatchSize = 20

// BatchRequest is one request inside a JSON batch. URL is relative to /v1.0
// (e.g. "/users/abc?$select=id"), already escaped. Body is JSON-encoded unless
// it is json.RawMessage or []byte; a Content-Type header is added when absent
// (Graph demands one with a body). DependsOn names requests that must run
// first; a chain travels in one batch.
type BatchRequest struct {
	ID        string
	Method    string
	URL       string
	Headers   map[string]string
	Body      any
	DependsOn []string
}

// BatchResponse is Graph's answer to one BatchRequest.
type BatchResponse struct {
	ID      string
	Status  int
	Headers map[string]string
	Body    json.RawMessage

	method, url string // of the request, for errors
}

// Header returns the value of a response header of the item, by name in any
// case (Graph writes Retry-After in one batch and retry-after in another).
func (r BatchResponse) Header(name string) string {
	for k, v := range r.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// Err decodes the Graph error of a non-2xx item, or returns nil for a 2xx.
// It returns *Error, so assign it to an error variable only when non-nil.
func (r BatchResponse) Err() *Error {
	if isSuccess(r.Status) {
		return nil
	}
	h := http.Header{}
	for k, v := range r.Headers {
		h.Set(k, v)
	}
	ge := decodeError(r.Status, h, r.bodyBytes())
	ge.Method = r.method
	ge.Route = unescapePath(pathOnly(r.url))
	return ge
}

// Decode unmarshals the body of a 2xx item into v; a non-2xx item returns its
// *Error.
func (r BatchResponse) Decode(v any) error {
	if err := r.Err(); err != nil {
		return err
	}
	body := r.bodyBytes()
	if len(bytes.TrimSpace(body)) == 0 {
		return fmt.Errorf("graph: %s %s: batch item %s: empty body", r.method, routeTemplate(r.url), r.ID)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("graph: %s %s: batch item %s: decode: %w", r.method, routeTemplate(r.url), r.ID, err)
	}
	return nil
}

// bodyBytes returns the item body; Graph sends non-JSON bodies as a base64
// string.
func (r BatchResponse) bodyBytes() []byte {
	b := bytes.TrimSpace(r.Body)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if json.Unmarshal(b, &s) == nil {
			if dec, err := base64.StdEncoding.DecodeString(s); err == nil {
				return dec
			}
		}
	}
	return b
}

func pathOnly(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i]
	}
	return u
}

type batchWireRequest struct {
	ID        string            `json:"id"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers,omitempty"`
	Body      json.RawMessage   `json:"body,omitempty"`
	DependsOn []string          `json:"dependsOn,omitempty"`
}

type batchWireResponse struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

// Batch sends reqs through POST /$batch, 20 a batch, keeping each dependsOn
// chain within one batch (a chain longer than 20 is refused). Responses come
// back in the order of reqs. Items answered 429 or 503 (and 502/504 for an
// item that may be repeated) are sent again in a new batch after the longest
// of their Retry-After, or a backoff (their dependents answered 424 go with
// them), as often as MaxAttempts and MaxElapsed allow; other failures, 424 of
// a dependency that really failed included, are returned as they are.
// In dry-run a batch holding anything but GETs is refused.
func (c *Client) Batch(ctx context.Context, reqs []BatchRequest) ([]BatchResponse, error) {
	items, err := c.prepareBatch(reqs)
	if err != nil {
		return nil, err
	}
	results := make([]BatchResponse, len(items))
	pending := make([]int, len(items))
	for i := range items {
		pending[i] = i
	}
	start := c.now()
	for round := 1; len(pending) > 0; round++ {
		chunks, err := chunkBatch(items, pending)
		if err != nil {
			return nil, err
		}
		for _, chunk := range chunks {
			if err := c.sendBatch(ctx, items, chunk, results); err != nil {
				return nil, err
			}
		}
		throttled, wait, hinted := c.retryableItems(items, pending, results, round)
		if len(throttled) == 0 {
			break
		}
		if round >= c.opts.MaxAttempts || c.now().Sub(start)+wait > c.opts.MaxElapsed {
			break // the retryable items are returned as they are
		}
		pending = withDependents(items, throttled, results)
		c.countBatchRetries(len(pending))
		if hinted {
			// Throttled items slow the whole client, like a throttled request.
			c.throttleFor(wait)
		} else if err := c.opts.Sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("graph: POST /$batch: %w", err)
		}
	}
	return results, nil
}

// Lookup is the answer to one look-up sent in a $batch: the first page of
// what it found (a look-up by a filter names one object, or a few), or why
// it failed.
type Lookup[T any] struct {
	Found []T
	Err   error
}

// lookupBatch sends GET requests through $batch, 20 a request, and decodes
// the first page of each answer. The answers come in the order of reqs; the
// error is for the batch as a whole.
func lookupBatch[T any](ctx context.Context, c *Client, reqs []*request) ([]Lookup[T], error) {
	items := make([]BatchRequest, len(reqs))
	for i, r := range reqs {
		items[i] = BatchRequest{ID: strconv.Itoa(i + 1), Method: r.method, URL: r.relativeURL()}
	}
	resps, err := c.Batch(ctx, items)
	if err != nil {
		return nil, err
	}
	out := make([]Lookup[T], len(resps))
	for i, resp := range resps {
		var p page[T]
		if err := resp.Decode(&p); err != nil {
			out[i].Err = err
			continue
		}
		out[i].Found = p.Value
	}
	return out, nil
}

// batchItem is a validated request ready for the wire.
type batchItem struct {
	wire       batchWireRequest
	key        string // lower-case id: Graph compares ids without case
	dependsOn  []string
	replayable bool
}

func (c *Client) prepareBatch(reqs []BatchRequest) ([]batchItem, error) {
	items := make([]batchItem, len(reqs))
	index := make(map[string]int, len(reqs))
	for i, r := range reqs {
		key := strings.ToLower(r.ID)
		switch {
		case r.ID == "":
			return nil, fmt.Errorf("graph: POST /$batch: request %d has no id", i+1)
		case r.Method == "":
			return nil, fmt.Errorf("graph: POST /$batch: request %q has no method", r.ID)
		case !strings.HasPrefix(r.URL, "/") || strings.HasPrefix(r.URL, "/v1.0/"):
			return nil, fmt.Errorf("graph: POST /$batch: request %q: url %q must be relative to /v1.0 and start with /", r.ID, r.URL)
		}
		if _, dup := index[key]; dup {
			return nil, fmt.Errorf("graph: POST /$batch: duplicate request id %q", r.ID)
		}
		index[key] = i
		method := strings.ToUpper(r.Method)
		body, err := marshalBody(r.Body)
		if err != nil {
			return nil, fmt.Errorf("graph: POST /$batch: request %q: encode body: %w", r.ID, err)
		}
		headers := map[string]string{}
		for k, v := range r.Headers {
			headers[k] = v
		}
		if body != nil && !hasHeader(headers, "Content-Type") {
			headers["Content-Type"] = "application/json"
		}
		if len(headers) == 0 {
			headers = nil
		}
		items[i] = batchItem{
			wire:       batchWireRequest{ID: r.ID, Method: method, URL: r.URL, Headers: headers, Body: body},
			key:        key,
			replayable: replayable(method, pathOnly(r.URL), body),
		}
		if c.opts.DryRun && method != http.MethodGet {
			return nil, fmt.Errorf("graph: POST /$batch (holding %s %s): %w", method, routeTemplate(r.URL), ErrDryRun)
		}
	}
	for i, r := range reqs {
		for _, dep := range r.DependsOn {
			d := strings.ToLower(dep)
			if _, ok := index[d]; !ok || d == items[i].key {
				return nil, fmt.Errorf("graph: POST /$batch: request %q depends on unknown request %q", r.ID, dep)
			}
			items[i].dependsOn = append(items[i].dependsOn, d)
		}
	}
	return items, nil
}

func hasHeader(h map[string]string, name string) bool {
	for k := range h {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// chunkBatch groups the pending items (indexes into items, in request order)
// into batches of at most 20, a dependsOn chain never split. Chains are
// connected components of the dependsOn graph among the pending items.
func chunkBatch(items []batchItem, pending []int) ([][]int, error) {
	pos := make(map[string]int, len(pending)) // key → position in pending
	for p, i := range pending {
		pos[items[i].key] = p
	}
	parent := make([]int, len(pending))
	for p := range parent {
		parent[p] = p
	}
	find := func(p int) int {
		for parent[p] != p {
			parent[p] = parent[parent[p]]
			p = parent[p]
		}
		return p
	}
	for p, i := range pending {
		for _, dep := range items[i].dependsOn {
			if q, ok := pos[dep]; ok {
				parent[find(p)] = find(q)
			}
		}
	}
	// Components in order of their first request.
	var order []int
	members := map[int][]int{}
	for p, i := range pending {
		root := find(p)
		if _, ok := members[root]; !ok {
			order = append(order, root)
		}
		members[root] = append(members[root], i)
	}
	var chunks [][]int
	var current []int
	for _, root := range order {
		comp := members[root]
		if len(comp) > maxBatchSize {
			return nil, fmt.Errorf("graph: POST /$batch: a dependsOn chain of %d requests (starting with %q) does not fit in one batch of %d",
				len(comp), items[comp[0]].wire.ID, maxBatchSize)
		}
		if len(current)+len(comp) > maxBatchSize {
			chunks = append(chunks, current)
			current = nil
		}
		current = append(current, comp...)
	}
	if len(current) > 0 {
		chunks = append(chunks, current)
	}
	for _, ch := range chunks {
		slices.Sort(ch)
	}
	return chunks, nil
}

// sendBatch sends one $batch of the items at indexes chunk and stores the
// answers in results.
func (c *Client) sendBatch(ctx context.Context, items []batchItem, chunk []int, results []BatchResponse) error {
	inChunk := make(map[string]bool, len(chunk))
	for _, i := range chunk {
		inChunk[items[i].key] = true
	}
	wire := make([]batchWireRequest, len(chunk))
	readOnly, replay := true, true
	for n, i := range chunk {
		w := items[i].wire
		w.DependsOn = nil
		// A dependency answered in an earlier round is done; only the ones
		// travelling in this batch stay.
		for _, dep := range items[i].dependsOn {
			if inChunk[dep] {
				w.DependsOn = append(w.DependsOn, items[indexOfKey(items, dep)].wire.ID)
			}
		}
		wire[n] = w
		readOnly = readOnly && w.Method == http.MethodGet
		replay = replay && items[i].replayable
	}
	req, err := newRequest(http.MethodPost, "/$batch", nil).withBody(map[string]any{"requests": wire})
	if err != nil {
		return err
	}
	req.readOnly, req.replayable = readOnly, replay
	resp, err := c.call(ctx, req, nil)
	if err != nil {
		return err
	}
	answers, err := parseBatchAnswer(resp.body, items, chunk)
	if err != nil {
		return err
	}
	throttled := 0
	for n, i := range chunk {
		if answers[n].Status == http.StatusTooManyRequests {
			throttled++
		}
		results[i] = answers[n]
	}
	c.countBatchItems(len(chunk), throttled)
	return nil
}

// parseBatchAnswer reads Graph's answer to one $batch of the items at
// indexes chunk and returns one response per item, in the order of chunk.
// Each request id must be answered exactly once (ids compared without case,
// as Graph does) with an HTTP status; an answer missing, repeated, for an id
// that was not sent, or with a status that is not one is an error, for the
// outcome of the items would be a guess.
func parseBatchAnswer(body []byte, items []batchItem, chunk []int) ([]BatchResponse, error) {
	var out struct {
		Responses []batchWireResponse `json:"responses"`
	}
	if len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, &out); err != nil {
			return nil, fmt.Errorf("graph: POST /$batch: decode response: %w", err)
		}
	}
	sent := make(map[string]bool, len(chunk))
	for _, i := range chunk {
		sent[items[i].key] = true
	}
	byKey := make(map[string]batchWireResponse, len(out.Responses))
	for _, r := range out.Responses {
		key := strings.ToLower(r.ID)
		switch _, dup := byKey[key]; {
		case !sent[key]:
			return nil, fmt.Errorf("graph: POST /$batch: an answer for request %q, which was not sent", printable(r.ID, maxCodeText))
		case dup:
			return nil, fmt.Errorf("graph: POST /$batch: request %q answered twice", printable(r.ID, maxCodeText))
		case r.Status < 100 || r.Status > 599:
			return nil, fmt.Errorf("graph: POST /$batch: request %q answered with %d, not an HTTP status", printable(r.ID, maxCodeText), r.Status)
		}
		byKey[key] = r
	}
	answers := make([]BatchResponse, len(chunk))
	for n, i := range chunk {
		r, ok := byKey[items[i].key]
		if !ok {
			return nil, fmt.Errorf("graph: POST /$batch: no answer for request %q", items[i].wire.ID)
		}
		answers[n] = BatchResponse{
			ID: items[i].wire.ID, Status: r.Status, Headers: r.Headers, Body: r.Body,
			method: items[i].wire.Method, url: items[i].wire.URL,
		}
	}
	return answers, nil
}

func indexOfKey(items []batchItem, key string) int {
	for i := range items {
		if items[i].key == key {
			return i
		}
	}
	return -1
}

// retryableItems returns the pending items to send again, as a request of
// their own would be: answered 429 or 503 (the service refused them), or
// 502/504 when the item may be repeated safely; and how long to wait: the
// longest Retry-After among them (hinted), or a backoff when one of them
// carried none.
func (c *Client) retryableItems(items []batchItem, pending []int, results []BatchResponse, round int) ([]int, time.Duration, bool) {
	var throttled []int
	var longest time.Duration
	hinted := true
	for _, i := range pending {
		switch results[i].Status {
		case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		case http.StatusBadGateway, http.StatusGatewayTimeout:
			if !items[i].replayable {
				continue
			}
		default:
			continue
		}
		throttled = append(throttled, i)
		d, ok := parseRetryAfter(results[i].Header("Retry-After"), c.now())
		if !ok {
			hinted = false
			continue
		}
		longest = max(longest, d)
	}
	if len(throttled) > 0 && !hinted {
		longest = max(longest, c.backoff(round))
	}
	return throttled, longest, hinted
}

// withDependents adds to the throttled items those answered 424 because
// something they depend on (directly or not) is being sent again; returned
// in request order.
func withDependents(items []batchItem, throttled []int, results []BatchResponse) []int {
	again := map[string]bool{}
	for _, i := range throttled {
		again[items[i].key] = true
	}
	for changed := true; changed; {
		changed = false
		for i := range items {
			if again[items[i].key] || results[i].Status != http.StatusFailedDependency {
				continue
			}
			for _, dep := range items[i].dependsOn {
				if again[dep] {
					again[items[i].key] = true
					changed = true
					break
				}
			}
		}
	}
	var out []int
	for i := range items {
		if again[items[i].key] {
			out = append(out, i)
		}
	}
	return out
}
