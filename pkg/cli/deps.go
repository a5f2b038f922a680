package cli

import (
	"context"
	"fmt"

	"golang.org/x/oauth2"

	"github.com/elentra-teams/elentra-teams/pkg/auth"
	"github.com/elentra-teams/elentra-teams/pkg/config"
	"github.com/elentra-teams/elentra-teams/pkg/elentra"
	"github.com/elentra-teams/elentra-teams/pkg/msgraph"
	"github.com/elentra-teams/elentra-teams/pkg/store"
)

// The rows of msteams_tokens: the delegated sign-in, or application mode's
// organiser and zone.
const (
	delegatedToken   = "delegated"
	applicationToken = "application"
)

// DB opens Elentra's database once per command and closes it when the
// command ends.
func (f *Factory) DB(ctx context.Context, cfg *config.Config) (*elentra.DB, error) {
	if f.db != nil {
		return f.db, nil
	}
	db, err := elentra.Open(ctx, cfg.Database)
	if err != nil {
		return nil, fmt.Errorf("cannot reach Elentra's database: %w", err)
	}
	for _, set := range []func() error{
		func() error { return db.SetObjectIDColumn(cfg.Elentra.ObjectIDColumn) },
		func() error { return db.SetCourseSwitch(cfg.Elentra.CourseSwitchColumn, cfg.Elentra.CourseSwitchOn) },
		func() error { return db.SetEventSwitch(cfg.Elentra.EventSwitchColumn, cfg.Elentra.EventSwitchOn) },
	} {
		if err := set(); err != nil {
			db.Close()
			return nil, err
		}
	}
	f.db = db
	f.cleanups = append(f.cleanups, func() { db.Close() })
	return db, nil
}

// Store opens the database and checks that the tool's tables are current.
func (f *Factory) Store(ctx context.Context, cfg *config.Config) (*store.Store, error) {
	db, err := f.DB(ctx, cfg)
	if err != nil {
		return nil, err
	}
	pending, err := store.Pending(ctx, db)
	if err != nil {
		return nil, err
	}
	if len(pending) > 0 {
		return nil, fmt.Errorf("the tool's tables in %s are not current (%d migration(s) pending); run 'elentra-teams setup'", db.Name(), len(pending))
	}
	return store.New(db), nil
}

// Vault is the encrypted token store.
func (f *Factory) Vault(cfg *config.Config, st *store.Store) (*auth.Vault, error) {
	key, err := cfg.Token.Key()
	if err != nil {
		return nil, err
	}
	sealer, err := auth.NewSealer(key)
	if err != nil {
		return nil, err
	}
	name := delegatedToken
	if cfg.Microsoft.Application() {
		name = applicationToken
	}
	return &auth.Vault{Table: st, Sealer: sealer, Name: name}, nil
}

// session is what a sync acts as: a token source, the account that owns
// what it creates (delegated), the mailbox of the meetings and its zone.
type session struct {
	ts       oauth2.TokenSource
	account  string // the authorizing account's object id; "" in application mode
	mailbox  string // "me", or the organiser's object id
	timezone string // IANA
}

// Session opens the stored authorization: the delegated token (refreshed
// and persisted as it rotates), or in application mode a client-credentials
// token source and the organiser recorded by authorize. Nothing stored is an
// *auth.NotAuthorizedError (exit 4).
func (f *Factory) Session(ctx context.Context, cfg *config.Config, st *store.Store) (*session, error) {
	if !cfg.Microsoft.Application() {
		ts, err := f.TokenSource(ctx, cfg, st)
		if err != nil {
			return nil, err
		}
		tok := ts.Current()
		return &session{ts: ts, account: tok.AccountObjectID, mailbox: "me", timezone: tok.OutlookTimezone}, nil
	}
	v, err := f.Vault(cfg, st)
	if err != nil {
		return nil, err
	}
	rec, err := v.Load(ctx)
	if err != nil {
		return nil, err
	}
	ts, err := auth.AppTokenSource(ctx, cfg.Microsoft, f.Now)
	if err != nil {
		return nil, err
	}
	return &session{ts: ts, mailbox: rec.AccountObjectID, timezone: rec.OutlookTimezone}, nil
}

// TokenSource is the stored delegated token, refreshed and persisted as it
// rotates. No stored token is an *auth.NotAuthorizedError (exit 4).
func (f *Factory) TokenSource(ctx context.Context, cfg *config.Config, st *store.Store) (*auth.TokenSource, error) {
	v, err := f.Vault(cfg, st)
	if err != nil {
		return nil, err
	}
	ts := &auth.TokenSource{Vault: v, OAuth: auth.OAuthConfig(cfg.Microsoft), Now: f.Now, Logger: f.Logger, Ctx: ctx}
	if _, err := ts.Token(); err != nil {
		return nil, err
	}
	return ts, nil
}

// Graph is a Microsoft Graph client on the token source; in dry-run it
// refuses every write.
func (f *Factory) Graph(cfg *config.Config, ts oauth2.TokenSource) *msgraph.Client {
	return msgraph.New(msgraph.Options{
		BaseURL:     cfg.Microsoft.GraphEndpoint,
		TokenSource: ts,
		DryRun:      f.DryRun(),
		Logger:      f.Logger,
		UserAgent:   "elentra-teams/" + version,
	})
}

// adminUser reads Elentra's administrator (elentra.admin_user_id).
func adminUser(ctx context.Context, st *store.Store, cfg *config.Config) (auth.Admin, error) {
	users, err := st.Users(ctx, []int{cfg.Elentra.AdminUserID})
	if err != nil {
		return auth.Admin{}, err
	}
	if len(users) == 0 {
		return auth.Admin{}, &config.Error{Key: "elentra.admin_user_id", Problem: fmt.Sprintf("Elentra has no user %d", cfg.Elentra.AdminUserID),
			Fix: "set it to the proxy id of Elentra's medtech:admin user"}
	}
	u := users[0]
	return auth.Admin{ProxyID: u.ProxyID, Name: u.FullName(), Email: u.Email, ObjectID: u.ObjectID}, nil
}
