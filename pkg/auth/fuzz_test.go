package auth

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/oauth2"
)

// FuzzCodeFromPasted: whatever an administrator pastes, reading it never
// panics, an error stays one bounded line, and a code comes out of a
// redirected address only when the address carries this sign-in's state (so
// at most one of two sign-ins with different states accepts it).
func FuzzCodeFromPasted(f *testing.F) {
	f.Add("http://localhost:8400/callback?code=abc123&state=fuzz-state&session_state=x")
	f.Add("?code=abc&state=fuzz-state")
	f.Add("code=abc&state=%66uzz-state")
	f.Add("abc123")
	f.Add("http://localhost:8400/callback?error=access_denied&error_description=AADSTS65004%3A+User+declined.%0D%0ATrace+ID%3A+x&state=fuzz-state")
	f.Add("http://localhost:8400/callback?code=%zz&state=fuzz-state")
	f.Add("http://localhost:8400/callback#code=abc&state=fuzz-state")
	f.Add("a b")
	f.Fuzz(func(t *testing.T, in string) {
		mine := &Flow{State: "fuzz-state"}
		other := &Flow{State: "another-state"}
		code, err := mine.CodeFromPasted(in)
		_, err2 := other.CodeFromPasted(in)
		if err != nil {
			msg := err.Error()
			if strings.ContainsAny(msg, "\r\n") || len(msg) > 600 {
				t.Fatalf("error of %d bytes or several lines: %q", len(msg), msg)
			}
			return
		}
		if code == "" {
			t.Fatal("an empty code was accepted")
		}
		urlShaped := strings.Contains(in, "://") || strings.HasPrefix(strings.TrimSpace(in), "?") || strings.Contains(in, "code=") || strings.Contains(in, "error=")
		if urlShaped && err2 == nil {
			t.Fatalf("two sign-ins with different states both took %q", in)
		}
		if !urlShaped && strings.ContainsAny(code, " \t") {
			t.Fatalf("a bare code with blanks: %q", code)
		}
	})
}

// Secrets the token error fuzzer puts in bodies; they must never come out.
const (
	fuzzSecret  = "fuzz-client-secret-value"
	fuzzRefresh = "fuzz-refresh-token-value"
)

// FuzzTokenErrorBody: whatever a token endpoint answers (status, content
// type, body), the error made of it is a *ReauthorizeError or a
// *TokenEndpointError, one line of printable text of bounded length, and
// holds neither the client secret nor the refresh token of the request.
func FuzzTokenErrorBody(f *testing.F) {
	f.Add(400, "application/json", []byte(`{"error":"invalid_grant","error_description":"AADSTS700082: The refresh token has expired due to inactivity.\r\nTrace ID: x","error_codes":[700082]}`))
	f.Add(400, "application/json", []byte(`{"error":"invalid_request","error_description":"echo client_secret=`+fuzzSecret+`&refresh_token=`+fuzzRefresh+`"}`))
	f.Add(401, "application/json", []byte(`{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215]}`))
	f.Add(502, "text/html", []byte("<html><pre>client_id=c&client_secret="+fuzzSecret+"&grant_type=refresh_token&refresh_token="+fuzzRefresh+"</pre></html>"))
	f.Add(400, "text/plain", []byte("client_secret="+fuzzSecret+"&refresh_token="+fuzzRefresh))
	f.Add(400, "application/x-www-form-urlencoded", []byte("error=invalid_request&error_description="+url.QueryEscape("the secret is "+fuzzSecret)))
	f.Add(503, "application/json", []byte(`{"error":"temporarily_unavailable","error_description":"`+strings.Repeat("busy ", 500)+`"}`))
	f.Add(400, "application/json", []byte(`{"error":"`+strings.Repeat("x", 100)+`","error_codes":[-1]}`))
	f.Add(400, "application/json", []byte("{\"error\":\"bad\\u001b[31m\",\"error_description\":\"\\u001b]0;title\\u0007 eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.\"}"))
	f.Add(200, "application/json", []byte(`{"error":"invalid_scope"}`))
	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte) {
		re := retrieveErrorAsOAuth2Makes(status, contentType, body)
		err := tokenRequestError(re, "https://login.example.test/t/oauth2/v2.0/token", 0, fuzzSecret, fuzzRefresh)
		var (
			ra *ReauthorizeError
			te *TokenEndpointError
		)
		if !errors.As(err, &ra) && !errors.As(err, &te) {
			t.Fatalf("%T: %v", err, err)
		}
		msg := err.Error()
		for _, s := range []string{fuzzSecret, fuzzRefresh} {
			if strings.Contains(msg, s) {
				t.Fatalf("the error shows a secret: %q", msg)
			}
		}
		if !utf8.ValidString(msg) || len(msg) > 1200 {
			t.Fatalf("%d bytes, valid UTF-8 %v: %q", len(msg), utf8.ValidString(msg), msg)
		}
		for _, r := range msg {
			if !unicode.IsPrint(r) {
				t.Fatalf("the error holds %U: %q", r, msg)
			}
		}
	})
}

// retrieveErrorAsOAuth2Makes builds the *oauth2.RetrieveError x/oauth2
// makes of an answer (internal/token.go): the body kept whole, error and
// error_description read from a form body or a JSON one.
func retrieveErrorAsOAuth2Makes(status int, contentType string, body []byte) *oauth2.RetrieveError {
	u, _ := url.Parse("https://login.example.test/t/oauth2/v2.0/token")
	re := &oauth2.RetrieveError{Response: &http.Response{StatusCode: status, Request: &http.Request{URL: u}}, Body: body}
	content, _, _ := mime.ParseMediaType(contentType)
	switch content {
	case "application/x-www-form-urlencoded", "text/plain":
		if vals, err := url.ParseQuery(string(body)); err == nil {
			re.ErrorCode, re.ErrorDescription, re.ErrorURI = vals.Get("error"), vals.Get("error_description"), vals.Get("error_uri")
		}
	default:
		var tj struct {
			ErrorCode        string `json:"error"`
			ErrorDescription string `json:"error_description"`
			ErrorURI         string `json:"error_uri"`
		}
		if json.Unmarshal(body, &tj) == nil {
			re.ErrorCode, re.ErrorDescription, re.ErrorURI = tj.ErrorCode, tj.ErrorDescription, tj.ErrorURI
		}
	}
	return re
}

// FuzzOpenSealedToken: whatever the token row holds, opening it gives the
// token or ErrUndecryptable (run authorize again), never a panic or another
// error, and what it gives seals back to itself.
func FuzzOpenSealedToken(f *testing.F) {
	key := bytes.Repeat([]byte{7}, 32)
	s, err := NewSealer(key)
	if err != nil {
		f.Fatal(err)
	}
	at := s.Seal([]byte("fake-access-token"), "elentra-teams/delegated/access_token")
	rt := s.Seal([]byte("fake-refresh-token"), "elentra-teams/delegated/refresh_token")
	f.Add(at, rt)
	f.Add(at, []byte(nil))
	f.Add(rt, at) // the columns swapped
	f.Add(at[:len(at)-1], rt)
	f.Add(append([]byte{2}, at[1:]...), rt) // another format version
	f.Add([]byte{1}, []byte{})
	f.Fuzz(func(t *testing.T, access, refresh []byte) {
		v := &Vault{Table: &memTable{rows: map[string]StoredToken{"delegated": {Name: "delegated", AccessTokenEnc: access, RefreshTokenEnc: refresh,
			Expiry: time.Unix(1e9, 0)}}}, Sealer: s, Name: "delegated"}
		tok, err := v.Load(context.Background())
		if err != nil {
			if !errors.Is(err, ErrUndecryptable) {
				t.Fatalf("%T: %v", err, err)
			}
			return
		}
		if tok.OAuth == nil {
			t.Fatal("a token without its OAuth part")
		}
		again := v.encrypt(tok)
		if pt, err := s.Open(again.AccessTokenEnc, v.aad("access_token")); err != nil || string(pt) != tok.OAuth.AccessToken {
			t.Fatalf("the opened token does not seal back: %q %v", pt, err)
		}
	})
}

// FuzzParseCertificate: whatever microsoft.client_certificate_file holds,
// reading it never panics; it fails with an error naming the file, or
// gives a certificate and the RSA key that belongs to it, able to sign an
// assertion. Its inputs are a few kilobytes: fuzz it with
// -fuzzminimizetime 5s, or a worker spends a minute shrinking each new
// input and the fuzzer seems to stand still.
func FuzzParseCertificate(f *testing.F) {
	certPEM, keyPEM := selfSigned(f)
	block, _ := pem.Decode(keyPEM)
	rsaKey, _ := x509.ParsePKCS1PrivateKey(block.Bytes)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(rsaKey)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ecKey)
	otherCert, _ := selfSigned(f)
	f.Add(append(append([]byte{}, certPEM...), keyPEM...))
	f.Add(append(append([]byte{}, keyPEM...), certPEM...))
	f.Add(append(append([]byte{}, certPEM...), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})...))
	f.Add(append(append([]byte{}, certPEM...), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER})...))
	f.Add(append(append([]byte{}, otherCert...), keyPEM...))
	f.Add(append(append([]byte{}, certPEM...), pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{0x30, 0}})...))
	f.Add(certPEM)
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseCertificate(data, "app.pem")
		if err != nil {
			if msg := err.Error(); !strings.HasPrefix(msg, "app.pem") || len(msg) > 600 {
				t.Fatalf("error %q does not start with the file or is too long", msg)
			}
			return
		}
		if c.Cert == nil || c.Key == nil || c.Cert.PublicKey == nil {
			t.Fatal("a certificate without its parts")
		}
		if _, err := c.Assertion("22222222-3333-4444-5555-666666666666", "https://login.example.test/t/oauth2/v2.0/token", time.Unix(1e9, 0)); err != nil {
			t.Fatalf("the key cannot sign an assertion: %v", err)
		}
	})
}
