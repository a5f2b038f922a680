package check

import (
	"context"
	"log/slog"
	"time"

	"golang.org/x/oauth2"

	"github.com/elentra-teams/elentra-teams/pkg/auth"
	"github.com/elentra-teams/elentra-teams/pkg/config"
	"github.com/elentra-teams/elentra-teams/pkg/elentra"
	"github.com/elentra-teams/elentra-teams/pkg/engine"
	"github.com/elentra-teams/elentra-teams/pkg/msgraph"
	"github.com/elentra-teams/elentra-teams/pkg/store"
)

// Env is what the checks look at, filled by the command layer. The checks
// keep what they open (the database, the token) in it for the checks that
// depend on them.
type Env struct {
	Now    func() time.Time
	Online bool
	Logger *slog.Logger

	// Config is the loaded configuration, nil when loading failed; LoadErr
	// is then why (a *config.Error names the key and the fix).
	Config  *config.Config
	LoadErr error
	// Source says where a key's value came from ("env ELENTRA_TEAMS_…",
	// "config file …"), "" when unknown; nil is allowed.
	Source func(key string) string
	// FileKeys are the keys set in the config file.
	FileKeys map[string]bool
	// Elentra is what Elentra's settings files gave, nil when none was
	// read: a key they left unset says why.
	Elentra *config.ElentraSettings
	// ConfigPaths are where a config file is looked for when none is named.
	ConfigPaths []string

	// OpenDB opens Elentra's database (once; the caller closes it).
	OpenDB func(ctx context.Context, cfg *config.Config) (*elentra.DB, error)
	// Graph returns a Graph client on a token source (online checks).
	Graph func(ts oauth2.TokenSource) *msgraph.Client
	// TokenName is the msteams_tokens row of the delegated token.
	TokenName string

	// Cron says where this machine's cron entries are; CronLines are the
	// lines `elentra-teams crontab` prints for this configuration, shown
	// when no entry runs the tool.
	Cron      CronSources
	CronLines []string

	// Filled by the checks as they pass.
	db       *elentra.DB
	store    *store.Store
	admin    *store.User
	vault    *auth.Vault
	token    *auth.Token
	ts       oauth2.TokenSource
	graph    *msgraph.Client
	mailbox  string // where meetings live: "me", or the organiser's id
	audience *engine.Audience
	columns  *columnsInfo
}

// source describes where a key's value came from, for messages: " (from
// env ELENTRA_TEAMS_…)" or "".
func (e *Env) source(key string) string {
	if e.Source == nil {
		return ""
	}
	if s := e.Source(key); s != "" {
		return " (from " + s + ")"
	}
	return ""
}

func (e *Env) now() time.Time {
	if e.Now == nil {
		return time.Now()
	}
	return e.Now()
}

// Audience reads who the enabled courses put in their Teams, once, by the
// syncs' own rules.
func (e *Env) readAudience(ctx context.Context) (*engine.Audience, error) {
	if e.audience != nil {
		return e.audience, nil
	}
	a, err := engine.ReadAudience(ctx, &engine.Env{DB: e.db, Store: e.store, Config: e.Config, Now: e.now, Logger: e.Logger})
	if err != nil {
		return nil, err
	}
	e.audience = a
	return a, nil
}
