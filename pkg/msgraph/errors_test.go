package msgraph

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestErrorDecodingOfDocumentedBodies serves each error example of
// graph-wire.md and checks what a caller matches on.
func TestErrorDecodingOfDocumentedBodies(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		body        string
		code        string
		innerCode   string
		message     string
		requestID   string
		clientReqID string
		details     int
		notFound    bool
		conflict    bool
		throttled   bool
	}{
		{name: "errors.md invalidRange", status: 416,
			body: `{"error":{"code":"invalidRange","message":"Uploaded fragment overlaps with existing data.","innerError":{"request-id":"request-id","date":"date-time"}}}`,
			code: "invalidRange", message: "Uploaded fragment overlaps with existing data.", requestID: "request-id"},
		{name: "directory not found", status: 404,
			body: `{"error":{"code":"Request_ResourceNotFound","message":"Resource '<id>' does not exist or one of its queried reference-property objects are not present.","innerError":{"date":"2023-10-27T12:24:36","request-id":"b7dee9ee-d85b-4e7a-8686-74852cbfd85b","client-request-id":"b7dee9ee-d85b-4e7a-8686-74852cbfd85b"}}}`,
			code: "Request_ResourceNotFound", message: "Resource '<id>' does not exist or one of its queried reference-property objects are not present.",
			requestID: "b7dee9ee-d85b-4e7a-8686-74852cbfd85b", clientReqID: "b7dee9ee-d85b-4e7a-8686-74852cbfd85b", notFound: true},
		{name: "duplicate mailNickname", status: 400,
			body: `{"error":{"code":"Request_BadRequest","message":"Another object with the same value for property mailNickname already exists.","details":[{"code":"ObjectConflict","message":"Another object with the same value for property mailNickname already exists.","target":"mailNickname"}]}}`,
			code: "Request_BadRequest", message: "Another object with the same value for property mailNickname already exists.", details: 1, conflict: true},
		{name: "already a member, no code", status: 400,
			body:    `{"error":{"message":"One or more added object references already exist for the following modified properties: 'members'."}}`,
			message: "One or more added object references already exist for the following modified properties: 'members'."},
		{name: "batch item forbidden", status: 403,
			body: `{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation.","innerError":{"date":"2025-02-13T10:17:06","request-id":"93b6f17e-c05d-4f45-ad2a-6665c708d8a0","client-request-id":"e70c5c1b-8b47-68c0-3171-3d22f5e0bd54"}}}`,
			code: "Authorization_RequestDenied", message: "Insufficient privileges to complete the operation.",
			requestID: "93b6f17e-c05d-4f45-ad2a-6665c708d8a0", clientReqID: "e70c5c1b-8b47-68c0-3171-3d22f5e0bd54"},
		{name: "teams forbidden with inner code", status: 403,
			body: `{"error":{"code":"Forbidden","message":"Forbidden","innerError":{"code":"AccessDenied","date":"2022-01-01T00:00:00","request-id":"r-1"}}}`,
			code: "Forbidden", innerCode: "AccessDenied", message: "Forbidden", requestID: "r-1"},
		{name: "teams NotFound", status: 404,
			body: `{"error":{"code":"NotFound","message":"No team found with Group Id 8231f9f2-701f-4c6e-93ce-ecb563e3c1ee"}}`,
			code: "NotFound", message: "No team found with Group Id 8231f9f2-701f-4c6e-93ce-ecb563e3c1ee", notFound: true},
		{name: "teams ItemNotFound", status: 404,
			body: `{"error":{"code":"ItemNotFound","message":"No team found with Group Id 8231f9f2-701f-4c6e-93ce-ecb563e3c1ee"}}`,
			code: "ItemNotFound", message: "No team found with Group Id 8231f9f2-701f-4c6e-93ce-ecb563e3c1ee", notFound: true},
		{name: "teams empty payload", status: 400,
			body: `{"error":{"code":"BadRequest","message":"Empty Payload. JSON content expected."}}`,
			code: "BadRequest", message: "Empty Payload. JSON content expected."},
		{name: "team exists", status: 409,
			body: `{"error":{"code":"Conflict","message":"Exception while invoking endpoint https://graph.microsoft.com/v1.0/groups/g1/team."}}`,
			code: "Conflict", message: "Exception while invoking endpoint https://graph.microsoft.com/v1.0/groups/g1/team.", conflict: true},
		{name: "outlook not found", status: 404,
			body: `{"error":{"code":"ErrorItemNotFound","message":"The specified object was not found in the store."}}`,
			code: "ErrorItemNotFound", message: "The specified object was not found in the store.", notFound: true},
		{name: "expired token", status: 401,
			body: `{"error":{"code":"InvalidAuthenticationToken","message":"Access token has expired or is not yet valid."}}`,
			code: "InvalidAuthenticationToken", message: "Access token has expired or is not yet valid."},
		{name: "throttled", status: 429, body: throttledBody,
			code: "TooManyRequests", innerCode: "429", message: "Please retry again later.", requestID: "94fb3b52-452a-4535-a601-69e0a90e3aa2", throttled: true},
		{name: "dev proxy throttled", status: 429,
			body: `{"error":{"code":"Too Many Requests","message":"Some error was generated by the proxy.","innerError":{"request-id":"11111111-2222-4333-8444-555555555555","date":"2025-03-10T09:00:00"}}}`,
			code: "Too Many Requests", message: "Some error was generated by the proxy.", requestID: "11111111-2222-4333-8444-555555555555", throttled: true},
		{name: "transient bad gateway", status: 502,
			body: `{"error":{"code":"BadGateway","message":"Failed to execute backend request."}}`,
			code: "BadGateway", message: "Failed to execute backend request."},
		{name: "not JSON", status: 502, body: `<html><body>Bad gateway</body></html>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
			}))
			defer srv.Close()
			c := newTestClient(srv, newFakeClock(), func(o *Options) { o.MaxAttempts = 1 })
			_, err := c.GetTeam(context.Background(), "g1")
			ge, ok := AsError(err)
			if !ok {
				t.Fatalf("err = %v, want *Error", err)
			}
			if ge.Status != tt.status || ge.Code != tt.code || ge.InnerCode != tt.innerCode || ge.Message != tt.message {
				t.Errorf("got status %d code %q inner %q message %q\nwant status %d code %q inner %q message %q",
					ge.Status, ge.Code, ge.InnerCode, ge.Message, tt.status, tt.code, tt.innerCode, tt.message)
			}
			if tt.requestID != "" && ge.RequestID != tt.requestID {
				t.Errorf("request id %q, want %q", ge.RequestID, tt.requestID)
			}
			if tt.clientReqID != "" && ge.ClientRequestID != tt.clientReqID {
				t.Errorf("client request id %q, want %q", ge.ClientRequestID, tt.clientReqID)
			}
			if tt.clientReqID == "" && !guidPattern.MatchString(ge.ClientRequestID) {
				t.Errorf("client request id %q, want the GUID this client sent", ge.ClientRequestID)
			}
			if len(ge.Details) != tt.details {
				t.Errorf("%d details, want %d", len(ge.Details), tt.details)
			}
			if ge.Method != "GET" || ge.Route != "/teams/g1" {
				t.Errorf("method/route %s %s, want GET /teams/g1", ge.Method, ge.Route)
			}
			if IsNotFound(err) != tt.notFound || IsConflict(err) != tt.conflict || IsThrottled(err) != tt.throttled {
				t.Errorf("IsNotFound=%v IsConflict=%v IsThrottled=%v, want %v %v %v",
					IsNotFound(err), IsConflict(err), IsThrottled(err), tt.notFound, tt.conflict, tt.throttled)
			}
			if tt.code != "" && !HasCode(err, strings.ToLower(tt.code)) {
				t.Errorf("HasCode(%q) is false", tt.code)
			}
			if tt.status == 502 && tt.code == "" && strings.Contains(err.Error(), "<html>") {
				t.Errorf("error %q copies a non-Graph body", err)
			}
		})
	}
}

func TestErrorStringNamesMethodRouteStatusCodeAndRequestID(t *testing.T) {
	ge := &Error{Status: 400, Code: "Request_BadRequest", Message: "Invalid value specified for property 'mailNickname'.",
		RequestID: "0000aaaa-11bb-cccc-dd22-eeeeee333333", Method: "POST", Route: "/groups"}
	want := "graph: POST /groups: 400 Request_BadRequest: Invalid value specified for property 'mailNickname'. (request-id 0000aaaa-11bb-cccc-dd22-eeeeee333333)"
	if got := ge.Error(); got != want {
		t.Errorf("Error() =\n  %s\nwant\n  %s", got, want)
	}
	if IsNotFound(errors.New("404 not found")) {
		t.Error("IsNotFound matched the text of a plain error")
	}
	if HasCode(fmt.Errorf("wrapped: %w", ge), "request_badrequest") != true {
		t.Error("HasCode does not see through wrapping")
	}
}

// TestNoTokenInErrorsOrLogs runs calls that succeed, fail, are refused and
// throttled with debug logging on, and looks for the token everywhere.
func TestNoTokenInErrorsOrLogs(t *testing.T) {
	stub := newStub(t,
		step{method: "GET", path: "/teams/t1", status: 200, reply: `{"id":"t1"}`},
		step{method: "GET", path: "/teams/t2", status: 404, reply: graphErrorJSON("NotFound", "No team found with Group Id t2")},
		step{method: "GET", path: "/teams/t3", status: 429, reply: throttledBody, replyHeader: map[string]string{"Retry-After": "1"}},
		step{method: "GET", path: "/teams/t3", status: 401, reply: graphErrorJSON("InvalidAuthenticationToken", "Access token validation failure.")},
		step{method: "GET", path: "/teams/t3", status: 401, reply: graphErrorJSON("InvalidAuthenticationToken", "Access token validation failure.")},
		step{method: "POST", path: "/groups", drop: true,
			body: `{"displayName":"X","mailNickname":"x","mailEnabled":true,"securityEnabled":false,"groupTypes":["Unified"]}`},
	)
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := newTestClient(stub.srv, newFakeClock(), func(o *Options) { o.Logger = logger })
	ctx := context.Background()
	var errs []error
	if _, err := c.GetTeam(ctx, "t1"); err != nil {
		t.Fatalf("GetTeam t1: %v", err)
	}
	_, err := c.GetTeam(ctx, "t2")
	errs = append(errs, err)
	_, err = c.GetTeam(ctx, "t3")
	errs = append(errs, err)
	_, err = c.CreateGroup(ctx, GroupCreate{DisplayName: "X", MailNickname: "x"})
	errs = append(errs, err)
	for i, err := range errs {
		if err == nil {
			t.Fatalf("call %d succeeded; the test needs it to fail", i)
		}
		if strings.Contains(err.Error(), testToken) || strings.Contains(fmt.Sprintf("%+v", err), testToken) {
			t.Errorf("error %d carries the token: %v", i, err)
		}
	}
	out := logs.String()
	if strings.Contains(out, testToken) || strings.Contains(strings.ToLower(out), "authorization") {
		t.Errorf("logs carry the token or the Authorization header:\n%s", out)
	}
	// The logs are not empty: they name the route, the status and Graph's
	// request id, which is what makes them worth keeping.
	for _, want := range []string{`"route":"/teams/{id}"`, `"status":404`, `"request_id":"5b6e9a4e-0000-4000-8000-00000000beef"`, `"msg":"graph request failed"`} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %s:\n%s", want, out)
		}
	}
}
