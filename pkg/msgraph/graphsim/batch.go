package graphsim

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

const maxBatchRequests = 20

type batchItem struct {
	ID        string            `json:"id"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers"`
	Body      json.RawMessage   `json:"body"`
	DependsOn []string          `json:"dependsOn"`
}

type batchResult struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    json.RawMessage   `json:"body,omitempty"`
}

// itemHeaders are the response headers a batch item reports.
var itemHeaders = []string{"Content-Type", "Location", "Content-Location", "Retry-After", "Preference-Applied", "Cache-Control"}

// serveBatch answers POST /v1.0/$batch (json-batching.md): every item runs
// through the same handlers with the outer request's token, in order, a
// dependsOn chain waiting for its dependencies and failing with 424 when one
// of them failed.
func (s *Sim) serveBatch(w http.ResponseWriter, outer *call) {
	s.mu.Lock()
	outer.requestID = s.nextRequestID()
	if outer.clientRequestID == "" {
		outer.clientRequestID = outer.requestID
	}
	outer.rt = &route{method: "POST", pattern: "/$batch", family: famDirectory}
	outer.path = "/$batch"
	rp, items := s.checkBatch(outer)
	s.mu.Unlock()
	if rp != nil {
		s.mu.Lock()
		status, hdr, body := s.finalize(outer, rp)
		s.record(LoggedRequest{Time: s.clock(), Method: outer.method, Path: "/v1.0/$batch", Route: "POST /$batch", Status: status})
		s.mu.Unlock()
		writeReply(w, status, hdr, body)
		return
	}
	results := map[string]*batchResult{}
	var run func(it *batchItem)
	byID := map[string]*batchItem{}
	for _, it := range items {
		byID[strings.ToLower(it.ID)] = it
	}
	run = func(it *batchItem) {
		key := strings.ToLower(it.ID)
		if results[key] != nil {
			return
		}
		for _, dep := range it.DependsOn {
			d := byID[strings.ToLower(dep)]
			run(d)
		}
		for _, dep := range it.DependsOn {
			if r := results[strings.ToLower(dep)]; r.Status >= 400 {
				results[key] = &batchResult{ID: it.ID, Status: http.StatusFailedDependency,
					Headers: map[string]string{"Content-Type": "application/json"},
					Body: marshal(map[string]any{"error": map[string]any{"code": "FailedDependency",
						"message": fmt.Sprintf("The request depends on request '%s', which failed.", dep)}})}
				return
			}
		}
		results[key] = s.runBatchItem(outer, it)
	}
	for _, it := range items {
		run(it)
	}
	var responses []*batchResult
	for _, it := range items {
		responses = append(responses, results[strings.ToLower(it.ID)])
	}
	s.mu.Lock()
	status, hdr, body := s.finalize(outer, ok(200, map[string]any{"responses": responses}))
	l := LoggedRequest{Time: s.clock(), Method: outer.method, Path: "/v1.0/$batch", Route: "POST /$batch", Status: status}
	if json.Valid(outer.body) {
		l.Body = json.RawMessage(outer.body)
	}
	s.record(l)
	s.mu.Unlock()
	writeReply(w, status, hdr, body)
}

// checkBatch validates the envelope; a malformed batch fails whole with 400.
func (s *Sim) checkBatch(c *call) (*reply, []*batchItem) {
	if c.method != http.MethodPost {
		return gerr(405, "BadRequest", "The $batch endpoint only accepts POST."), nil
	}
	if rp := s.authenticate(c); rp != nil {
		return rp, nil
	}
	obj, rp := c.object("batchRequest", "requests")
	if rp != nil {
		return rp, nil
	}
	var raws []map[string]json.RawMessage
	if err := json.Unmarshal(obj["requests"], &raws); err != nil || raws == nil {
		return gerr(400, "BadRequest", "Invalid batch payload: 'requests' must be an array."), nil
	}
	if len(raws) == 0 {
		return gerr(400, "BadRequest", "Invalid batch payload: the batch has no requests."), nil
	}
	if len(raws) > maxBatchRequests {
		return gerr(400, "BadRequest", fmt.Sprintf("Invalid batch payload: the number of requests (%d) exceeds the maximum of %d.", len(raws), maxBatchRequests)), nil
	}
	var items []*batchItem
	seen := map[string]bool{}
	for _, raw := range raws {
		for k := range raw {
			switch k {
			case "id", "method", "url", "headers", "body", "dependsOn":
			default:
				return gerr(400, "BadRequest", fmt.Sprintf("Invalid batch payload: unknown property '%s' in a request.", k)), nil
			}
		}
		b, _ := json.Marshal(raw)
		it := &batchItem{}
		if err := json.Unmarshal(b, it); err != nil {
			return gerr(400, "BadRequest", fmt.Sprintf("Invalid batch payload: %v.", err)), nil
		}
		if it.ID == "" {
			return gerr(400, "BadRequest", "Invalid batch payload: every request needs an id."), nil
		}
		if seen[strings.ToLower(it.ID)] {
			return gerr(400, "BadRequest", fmt.Sprintf("Invalid batch payload: the request id '%s' appears more than once.", it.ID)), nil
		}
		seen[strings.ToLower(it.ID)] = true
		switch strings.ToUpper(it.Method) {
		case "GET", "POST", "PUT", "PATCH", "DELETE":
			it.Method = strings.ToUpper(it.Method)
		default:
			return gerr(400, "BadRequest", fmt.Sprintf("Invalid batch payload: request '%s' has an invalid method '%s'.", it.ID, it.Method)), nil
		}
		if it.URL == "" {
			return gerr(400, "BadRequest", fmt.Sprintf("Invalid batch payload: request '%s' has no url.", it.ID)), nil
		}
		hasBody := len(it.Body) > 0 && string(bytes.TrimSpace(it.Body)) != "null"
		if hasBody && headerFold(it.Headers, "Content-Type") == "" {
			return gerr(400, "BadRequest", fmt.Sprintf("Write request id : %s does not contain Content-Type header or body.", it.ID)), nil
		}
		items = append(items, it)
	}
	for _, it := range items {
		for _, dep := range it.DependsOn {
			if !seen[strings.ToLower(dep)] || strings.EqualFold(dep, it.ID) {
				return gerr(400, "BadRequest", fmt.Sprintf("Invalid batch payload: request '%s' depends on unknown request '%s'.", it.ID, dep)), nil
			}
		}
	}
	// Reject dependency cycles before running anything.
	state := map[string]int{}
	byID := map[string]*batchItem{}
	for _, it := range items {
		byID[strings.ToLower(it.ID)] = it
	}
	var visit func(id string) bool
	visit = func(id string) bool {
		switch state[id] {
		case 1:
			return false
		case 2:
			return true
		}
		state[id] = 1
		for _, d := range byID[id].DependsOn {
			if !visit(strings.ToLower(d)) {
				return false
			}
		}
		state[id] = 2
		return true
	}
	for _, it := range items {
		if !visit(strings.ToLower(it.ID)) {
			return gerr(400, "BadRequest", "Invalid batch payload: dependsOn forms a cycle."), nil
		}
	}
	return nil, items
}

func headerFold(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func (s *Sim) runBatchItem(outer *call, it *batchItem) *batchResult {
	u, err := url.Parse(it.URL)
	if err != nil || u.IsAbs() || u.Host != "" {
		return &batchResult{ID: it.ID, Status: 400, Headers: map[string]string{"Content-Type": "application/json"},
			Body: marshal(map[string]any{"error": map[string]any{"code": "BadRequest", "message": "Invalid request URI: batch urls are relative to the version root, e.g. /me."}})}
	}
	hdr := http.Header{}
	for k, v := range it.Headers {
		hdr.Set(k, v)
	}
	hdr.Set("Authorization", outer.header.Get("Authorization"))
	var body []byte
	if len(it.Body) > 0 && string(bytes.TrimSpace(it.Body)) != "null" {
		body = it.Body
		mt, _, _ := mime.ParseMediaType(hdr.Get("Content-Type"))
		var str string
		if mt != "application/json" && json.Unmarshal(it.Body, &str) == nil {
			// Non-JSON bodies travel base64-encoded.
			if dec, err := base64.StdEncoding.DecodeString(str); err == nil {
				body = dec
			}
		}
	}
	path := u.EscapedPath()
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	c := &call{method: it.Method, rawPath: path, query: u.Query(), header: hdr, body: body, base: outer.base,
		clientRequestID: hdr.Get("client-request-id"), inBatch: true}
	s.mu.Lock()
	status, rh, out := s.dispatch(c)
	s.mu.Unlock()
	res := &batchResult{ID: it.ID, Status: status, Headers: map[string]string{}}
	for _, k := range itemHeaders {
		if v := rh.Get(k); v != "" {
			res.Headers[k] = v
		}
	}
	if len(out) > 0 {
		res.Body = out
	}
	return res
}
