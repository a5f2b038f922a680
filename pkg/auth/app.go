package auth

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/elentra-teams/elentra-teams/pkg/config"
	"github.com/elentra-teams/elentra-teams/pkg/msgraph"
)

// GraphDefaultScope asks for the application permissions granted to the app.
const GraphDefaultScope = "https://graph.microsoft.com/.default"

// assertionType is the client_assertion_type of a certificate credential.
const assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// AppTokenSource returns the client-credentials token source of application
// mode: with the client secret, or with a client_assertion signed by the
// certificate of microsoft.client_certificate_file (a fresh assertion for
// every token request). Token errors are classified like the delegated ones,
// and the first is returned to every later call. Each token request is
// bounded by TokenTimeout, or by the Timeout of a shorter *http.Client that
// ctx carries under oauth2.HTTPClient.
func AppTokenSource(ctx context.Context, m config.Microsoft, now func() time.Time) (oauth2.TokenSource, error) {
	base := clientcredentials.Config{
		ClientID:     m.ClientID,
		ClientSecret: m.ClientSecret,
		TokenURL:     m.TokenEndpoint(),
		Scopes:       []string{GraphDefaultScope},
		AuthStyle:    oauth2.AuthStyleInParams,
	}
	tctx, timeout := tokenContext(ctx, 0)
	if m.ClientCertificateFile == "" {
		return &remembering{ts: oauth2.ReuseTokenSource(nil, &classifying{ts: base.TokenSource(tctx), endpoint: base.TokenURL,
			timeout: timeout, secret: base.ClientSecret})}, nil
	}
	cert, err := LoadCertificate(m.ClientCertificateFile)
	if err != nil {
		return nil, &config.Error{Key: "microsoft.client_certificate_file", Problem: err.Error(),
			Fix: "give a PEM file holding the certificate uploaded to the app registration and its RSA private key"}
	}
	return &remembering{ts: oauth2.ReuseTokenSource(nil, &assertionSource{ctx: tctx, timeout: timeout, base: base, cert: cert, now: now})}, nil
}

// classifying turns token errors into *ReauthorizeError or
// *TokenEndpointError.
type classifying struct {
	ts       oauth2.TokenSource
	endpoint string
	timeout  time.Duration
	secret   string
}

func (c *classifying) Token() (*oauth2.Token, error) {
	t, err := c.ts.Token()
	if err != nil {
		return nil, tokenRequestError(err, c.endpoint, c.timeout, c.secret)
	}
	return t, nil
}

type assertionSource struct {
	ctx     context.Context // with the token requests' HTTP client
	timeout time.Duration
	base    clientcredentials.Config
	cert    *Certificate
	now     func() time.Time
}

func (a *assertionSource) Token() (*oauth2.Token, error) {
	jwt, err := a.cert.Assertion(a.base.ClientID, a.base.TokenURL, a.now())
	if err != nil {
		return nil, err
	}
	cfg := a.base
	cfg.ClientSecret = ""
	cfg.EndpointParams = map[string][]string{"client_assertion_type": {assertionType}, "client_assertion": {jwt}}
	t, err := cfg.Token(a.ctx)
	if err != nil {
		return nil, tokenRequestError(err, a.base.TokenURL, a.timeout, jwt)
	}
	return t, nil
}

// remembering returns the first failure of its source to every later call,
// as TokenSource does for refreshes: a run whose credentials are refused or
// whose token endpoint fails stops instead of asking again for every
// action. A cancelled request is not remembered.
type remembering struct {
	mu     sync.Mutex
	ts     oauth2.TokenSource
	failed error
}

func (r *remembering) Token() (*oauth2.Token, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failed != nil {
		return nil, r.failed
	}
	t, err := r.ts.Token()
	if err != nil && !errors.Is(err, context.Canceled) {
		r.failed = err
	}
	return t, err
}

// Certificate is an app credential: the X.509 certificate registered on the
// app and its RSA private key.
type Certificate struct {
	Cert *x509.Certificate
	Key  *rsa.PrivateKey
}

// LoadCertificate reads a PEM file with a CERTIFICATE block and an RSA key
// (PKCS#1 or PKCS#8).
func LoadCertificate(path string) (*Certificate, error) {
	// A regular file, and no larger than a secret file may be: a
	// certificate with its key is a few KiB.
	data, err := config.ReadFile(path, config.MaxSecretFileSize)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %v", path, unwrapPath(err))
	}
	return ParseCertificate(data, path)
}

// ParseCertificate reads what LoadCertificate reads from a file; path names
// the file in its errors.
func ParseCertificate(data []byte, path string) (*Certificate, error) {
	var err error
	c := &Certificate{}
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		switch b.Type {
		case "CERTIFICATE":
			if c.Cert == nil {
				if c.Cert, err = x509.ParseCertificate(b.Bytes); err != nil {
					return nil, fmt.Errorf("%s: bad certificate: %v", path, err)
				}
			}
		case "RSA PRIVATE KEY":
			if strings.Contains(b.Headers["Proc-Type"], "ENCRYPTED") {
				return nil, fmt.Errorf("%s: the private key is encrypted; write it out unencrypted (openssl pkey -in KEY -out PLAIN.pem) into a file only elentra-teams can read", path)
			}
			if c.Key, err = x509.ParsePKCS1PrivateKey(b.Bytes); err != nil {
				return nil, fmt.Errorf("%s: bad RSA key: %v", path, err)
			}
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%s: bad private key: %v", path, err)
			}
			rk, ok := k.(*rsa.PrivateKey)
			if !ok {
				return nil, fmt.Errorf("%s: the private key is not RSA (Microsoft signs client assertions with RS256)", path)
			}
			c.Key = rk
		case "ENCRYPTED PRIVATE KEY":
			return nil, fmt.Errorf("%s: the private key is encrypted; write it out unencrypted (openssl pkey -in KEY -out PLAIN.pem) into a file only elentra-teams can read", path)
		}
	}
	if c.Cert == nil || c.Key == nil {
		return nil, fmt.Errorf("%s needs both a CERTIFICATE and a PRIVATE KEY block", path)
	}
	pub, ok := c.Cert.PublicKey.(*rsa.PublicKey)
	if !ok || pub.N.Cmp(c.Key.N) != 0 {
		return nil, fmt.Errorf("%s: the private key does not belong to the certificate", path)
	}
	return c, nil
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Thumbprint is the certificate's SHA-1 thumbprint as Entra shows it (hex).
func (c *Certificate) Thumbprint() string {
	sum := sha1.Sum(c.Cert.Raw)
	return hex.EncodeToString(sum[:])
}

// Assertion builds the signed JWT Microsoft's token endpoint takes as a
// client_assertion: RS256, x5t = base64url(SHA-1 of the certificate), aud =
// the token endpoint, iss = sub = the client id, valid ten minutes.
func (c *Certificate) Assertion(clientID, tokenURL string, now time.Time) (string, error) {
	sum := sha1.Sum(c.Cert.Raw)
	header := map[string]string{"alg": "RS256", "typ": "JWT", "x5t": base64.RawURLEncoding.EncodeToString(sum[:])}
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", err
	}
	claims := map[string]any{
		"aud": tokenURL, "iss": clientID, "sub": clientID, "jti": hex.EncodeToString(jti),
		"nbf": now.Add(-time.Minute).Unix(), "iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
	}
	hb, _ := json.Marshal(header)
	cb, _ := json.Marshal(claims)
	signing := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(cb)
	digest := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, c.Key, crypto.SHA256, digest[:])
	if err != nil {
		return "", err
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// AppAuthorizeOptions is what AuthorizeApp needs.
type AppAuthorizeOptions struct {
	TokenSource oauth2.TokenSource
	Graph       func(oauth2.TokenSource) *msgraph.Client
	// Organizer is microsoft.organizer: object id or userPrincipalName.
	Organizer string
	Timezone  string
	// ElentraZone and AllowMismatch as for the delegated flow.
	ElentraZone   *time.Location
	AllowMismatch bool
	Interactive   bool
	In            io.Reader
	Err           io.Writer
	Vault         *Vault
	Now           func() time.Time
}

// AppAuthorizeResult is what authorize reports in application mode.
type AppAuthorizeResult struct {
	OrganizerID     string `json:"organizer_object_id"`
	OrganizerUPN    string `json:"organizer_upn"`
	OutlookTimezone string `json:"outlook_timezone"`
	TeamsMeetingsOK bool   `json:"teams_meetings_allowed"`
}

// AuthorizeApp checks application mode's credentials (a client-credentials
// token) and the organiser mailbox (it exists, has a calendar that allows
// Teams meetings, and its time zone keeps Elentra's offsets), then records
// the organiser and zone. No browser is involved and no refresh token kept.
func AuthorizeApp(ctx context.Context, o AppAuthorizeOptions) (*AppAuthorizeResult, error) {
	tok, err := o.TokenSource.Token()
	if err != nil {
		var te *TokenEndpointError
		if errors.As(err, &te) {
			return nil, fmt.Errorf("no token for the app's credentials: %w", err)
		}
		return nil, fmt.Errorf("the app's credentials were refused: %w", err)
	}
	graph := o.Graph(oauth2.StaticTokenSource(tok))
	u, err := graph.GetUser(ctx, o.Organizer)
	if err != nil {
		if msgraph.IsNotFound(err) {
			return nil, &config.Error{Key: "microsoft.organizer", Problem: fmt.Sprintf("no directory user %q", o.Organizer), Fix: "name the user whose calendar holds the meetings (object id or userPrincipalName)"}
		}
		return nil, fmt.Errorf("look up the organiser %s (the app needs User.Read.All): %w", o.Organizer, err)
	}
	res := &AppAuthorizeResult{OrganizerID: u.ID, OrganizerUPN: u.UserPrincipalName}
	cal, err := graph.GetCalendar(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("cannot read the organiser's calendar (%v): the organiser needs an Exchange Online mailbox, and the app Calendars.ReadWrite with a Teams application access policy (docs/setup.md)", err)
	}
	if res.TeamsMeetingsOK = cal.AllowsTeamsMeetings(); !res.TeamsMeetingsOK {
		fmt.Fprintf(o.Err, "! the organiser's calendar does not allow Teams meetings (allowed: %s): give the organiser a Teams licence\n", strings.Join(cal.AllowedOnlineMeetingProviders, ", "))
	}
	zo := &AuthorizeOptions{Timezone: o.Timezone, ElentraZone: o.ElentraZone, AllowMismatch: o.AllowMismatch, Interactive: o.Interactive,
		In: o.In, Err: o.Err, Now: o.Now}
	zone, err := zo.chooseZoneOf(ctx, graph, u.ID)
	if err != nil {
		return nil, err
	}
	res.OutlookTimezone = zone
	now := o.Now()
	if err := o.Vault.Save(ctx, &Token{OAuth: tok, Scopes: []string{GraphDefaultScope}, AccountObjectID: u.ID, AccountUPN: u.UserPrincipalName,
		OutlookTimezone: zone, AuthorizedAt: now, RefreshUsedAt: now}); err != nil {
		return nil, err
	}
	return res, nil
}
