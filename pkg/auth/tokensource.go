package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// StoredToken is a token row as the database keeps it: the tokens encrypted.
type StoredToken struct {
	Name            string // "delegated" or "application"
	AccessTokenEnc  []byte
	RefreshTokenEnc []byte
	Expiry          time.Time
	Scopes          string // space-separated, normalised
	AccountObjectID string
	AccountUPN      string
	ClientType      string // "confidential"
	OutlookTimezone string // IANA
	AuthorizedAt    time.Time
	RefreshUsedAt   time.Time // last successful refresh (Microsoft's 90-day inactivity clock restarts then)
	Version         int       // bumped on every write; refreshes compare and swap on it
}

// TokenTable persists StoredTokens (pkg/store implements it on msteams_tokens).
type TokenTable interface {
	// GetToken returns the row, or nil and no error when there is none.
	GetToken(ctx context.Context, name string) (*StoredToken, error)
	// PutToken inserts or replaces the row (authorize), setting Version.
	PutToken(ctx context.Context, t *StoredToken) error
	// SwapToken writes t only if the stored version is still fromVersion,
	// then sets t.Version to the new version; it reports whether it wrote.
	SwapToken(ctx context.Context, t *StoredToken, fromVersion int) (bool, error)
}

// Token is a decrypted token with what is known of it.
type Token struct {
	OAuth           *oauth2.Token
	Scopes          []string
	AccountObjectID string
	AccountUPN      string
	OutlookTimezone string
	AuthorizedAt    time.Time
	RefreshUsedAt   time.Time
	Version         int
}

// Vault encrypts tokens into a TokenTable and decrypts them back.
type Vault struct {
	Table  TokenTable
	Sealer *Sealer
	Name   string // row name, "delegated"
}

func (v *Vault) aad(field string) string { return "elentra-teams/" + v.Name + "/" + field }

// Load decrypts the stored token; *NotAuthorizedError when none is stored.
func (v *Vault) Load(ctx context.Context) (*Token, error) {
	st, err := v.Table.GetToken(ctx, v.Name)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return nil, &NotAuthorizedError{Name: v.Name}
	}
	return v.decrypt(st)
}

func (v *Vault) decrypt(st *StoredToken) (*Token, error) {
	at, err := v.Sealer.Open(st.AccessTokenEnc, v.aad("access_token"))
	if err != nil {
		return nil, err
	}
	var rt []byte
	if len(st.RefreshTokenEnc) > 0 {
		if rt, err = v.Sealer.Open(st.RefreshTokenEnc, v.aad("refresh_token")); err != nil {
			return nil, err
		}
	}
	return &Token{
		OAuth:           &oauth2.Token{AccessToken: string(at), RefreshToken: string(rt), TokenType: "Bearer", Expiry: st.Expiry},
		Scopes:          strings.Fields(st.Scopes),
		AccountObjectID: st.AccountObjectID,
		AccountUPN:      st.AccountUPN,
		OutlookTimezone: st.OutlookTimezone,
		AuthorizedAt:    st.AuthorizedAt,
		RefreshUsedAt:   st.RefreshUsedAt,
		Version:         st.Version,
	}, nil
}

func (v *Vault) encrypt(t *Token) *StoredToken {
	st := &StoredToken{
		Name:            v.Name,
		AccessTokenEnc:  v.Sealer.Seal([]byte(t.OAuth.AccessToken), v.aad("access_token")),
		Expiry:          t.OAuth.Expiry,
		Scopes:          strings.Join(t.Scopes, " "),
		AccountObjectID: t.AccountObjectID,
		AccountUPN:      t.AccountUPN,
		ClientType:      "confidential",
		OutlookTimezone: t.OutlookTimezone,
		AuthorizedAt:    t.AuthorizedAt,
		RefreshUsedAt:   t.RefreshUsedAt,
		Version:         t.Version,
	}
	if t.OAuth.RefreshToken != "" {
		st.RefreshTokenEnc = v.Sealer.Seal([]byte(t.OAuth.RefreshToken), v.aad("refresh_token"))
	}
	return st
}

// Save stores a token as a new authorization (replacing any other).
func (v *Vault) Save(ctx context.Context, t *Token) error {
	st := v.encrypt(t)
	if err := v.Table.PutToken(ctx, st); err != nil {
		return err
	}
	t.Version = st.Version
	return nil
}

// expiryMargin: an access token this close to its expiry is refreshed first,
// so a request never leaves with a token that dies on the way.
const expiryMargin = 2 * time.Minute

// TokenSource gives the syncs a valid access token. It refreshes when the
// token is near expiry, and persists every rotated refresh token before the
// new access token is used, so a crash never loses the only valid grant. Two
// processes refreshing at once both succeed: the second sees the first's
// write (compare-and-swap on the row's version) and adopts its token. A
// refresh that fails is not tried again by the same TokenSource: its error
// (a *ReauthorizeError or a *TokenEndpointError) is returned at once.
type TokenSource struct {
	Vault  *Vault
	OAuth  *oauth2.Config
	Now    func() time.Time
	Logger *slog.Logger
	// Ctx is used by Token(), which oauth2.TokenSource gives no context.
	Ctx context.Context
	// Timeout bounds each request to the token endpoint; zero means
	// TokenTimeout.
	Timeout time.Duration

	mu  sync.Mutex
	cur *Token
	// failed is the first failure of a refresh: every later call returns it
	// without asking the endpoint again, so a run whose sign-in was refused,
	// or whose token endpoint fails or hangs, stops instead of trying again
	// for every action. The next run (a new TokenSource) asks again.
	failed error
}

// Token implements oauth2.TokenSource.
func (s *TokenSource) Token() (*oauth2.Token, error) {
	ctx := s.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failed != nil {
		return nil, s.failed
	}
	if s.cur == nil {
		t, err := s.Vault.Load(ctx)
		if err != nil {
			return nil, err
		}
		s.cur = t
	}
	if s.valid(s.cur) {
		return s.cur.OAuth, nil
	}
	return s.refreshLocked(ctx, false)
}

// ForceRefresh gets a new access token even if the current one looks valid
// (Graph answered 401). It implements msgraph.Refresher.
func (s *TokenSource) ForceRefresh(ctx context.Context) (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failed != nil {
		return nil, s.failed
	}
	if s.cur == nil {
		t, err := s.Vault.Load(ctx)
		if err != nil {
			return nil, err
		}
		s.cur = t
	}
	return s.refreshLocked(ctx, true)
}

// Current returns the token as last loaded or refreshed (nil before any use).
func (s *TokenSource) Current() *Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

func (s *TokenSource) valid(t *Token) bool {
	return t.OAuth.AccessToken != "" && s.Now().Add(expiryMargin).Before(t.OAuth.Expiry)
}

func (s *TokenSource) refreshLocked(ctx context.Context, force bool) (*oauth2.Token, error) {
	// Another process may have refreshed since we loaded: take its token
	// instead of spending (and racing on) the refresh token.
	stored, err := s.Vault.Load(ctx)
	if err != nil {
		return nil, err
	}
	if stored.Version != s.cur.Version {
		prev := s.cur
		s.cur = stored
		if s.valid(stored) && (!force || stored.OAuth.AccessToken != prev.OAuth.AccessToken) {
			return stored.OAuth, nil
		}
	}
	if s.cur.OAuth.RefreshToken == "" {
		return nil, &ReauthorizeError{Code: "no_refresh_token", Meaning: "the stored token has no refresh token (offline_access was not granted)"}
	}
	from := s.cur.Version
	// An expired copy makes x/oauth2 refresh; it adopts the rotated refresh
	// token, or keeps the old one when the response has none.
	old := &oauth2.Token{RefreshToken: s.cur.OAuth.RefreshToken, Expiry: time.Unix(1, 0)}
	tctx, timeout := tokenContext(ctx, s.Timeout)
	nt, err := s.OAuth.TokenSource(tctx, old).Token()
	if err != nil {
		err = tokenRequestError(err, s.OAuth.Endpoint.TokenURL, timeout, s.OAuth.ClientSecret, old.RefreshToken)
		if ctx.Err() == nil {
			s.failed = err
		}
		return nil, err
	}
	next := *s.cur
	next.OAuth = nt
	next.RefreshUsedAt = s.Now()
	if sc, ok := nt.Extra("scope").(string); ok && sc != "" {
		next.Scopes = NormalizeScopes(sc)
	}
	st := s.Vault.encrypt(&next)
	wrote, err := s.Vault.Table.SwapToken(ctx, st, from)
	if err != nil {
		return nil, fmt.Errorf("saving the refreshed token: %w", err)
	}
	if !wrote {
		// Lost the race: the other writer's refresh token is the newest
		// stored one (and Microsoft keeps ours valid too). Use theirs.
		winner, err := s.Vault.Load(ctx)
		if err != nil {
			return nil, err
		}
		s.cur = winner
		if s.Logger != nil {
			s.Logger.Debug("token refreshed by another run meanwhile; using its token")
		}
		if s.valid(winner) {
			return winner.OAuth, nil
		}
		return nil, errors.New("the stored token changed during refresh and is not valid; run the command again")
	}
	next.Version = st.Version
	s.cur = &next
	if s.Logger != nil {
		s.Logger.Debug("access token refreshed", "expires", nt.Expiry.UTC().Format(time.RFC3339))
	}
	return nt, nil
}

// tokenContext gives x/oauth2 the HTTP client of a token request: the one
// ctx carries under oauth2.HTTPClient (a test's transport), else a plain
// one, with a Timeout of at most timeout (TokenTimeout when zero). It
// returns the bound that applies, for the error of a request that outlives
// it.
func tokenContext(ctx context.Context, timeout time.Duration) (context.Context, time.Duration) {
	if timeout <= 0 {
		timeout = TokenTimeout
	}
	c := &http.Client{}
	if hc, ok := ctx.Value(oauth2.HTTPClient).(*http.Client); ok && hc != nil {
		cp := *hc
		c = &cp
	}
	if c.Timeout > 0 && c.Timeout < timeout {
		timeout = c.Timeout
	}
	c.Timeout = timeout
	return context.WithValue(ctx, oauth2.HTTPClient, c), timeout
}
