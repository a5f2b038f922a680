package check

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/elentra-teams/elentra-teams/internal/text"
	"github.com/elentra-teams/elentra-teams/pkg/auth"
)

// warnDaysBeforeUnused: how early to warn that the refresh token is about
// to die of Microsoft's 90 days without use.
const warnDaysBeforeUnused = 14

const authorizeFix = "run 'elentra-teams authorize' signed in as Elentra's administrator"

// authorizeWith is authorizeFix with flags for authorize.
func authorizeWith(flags string) string {
	return "run 'elentra-teams authorize " + flags + "' signed in as Elentra's administrator"
}

func checkTokenStored(ctx context.Context, e *Env) Result {
	key, err := e.Config.Token.Key()
	if err != nil {
		return configResult(err)
	}
	sealer, err := auth.NewSealer(key)
	if err != nil {
		return fail(err.Error(), "make a key with `openssl rand -base64 32`")
	}
	name := e.TokenName
	if name == "" {
		name = "delegated"
	}
	e.vault = &auth.Vault{Table: e.store, Sealer: sealer, Name: name}
	tok, err := e.vault.Load(ctx)
	var na *auth.NotAuthorizedError
	switch {
	case errors.As(err, &na):
		return fail("not authorized: no Microsoft token is stored, so no sync can run", authorizeFix+" (it stores the token the syncs use)")
	case errors.Is(err, auth.ErrUndecryptable):
		return fail("the stored token cannot be decrypted with token.encryption_key"+e.source("token.encryption_key")+": the key changed since authorize",
			"put the key used at authorize back, or "+authorizeFix)
	case err != nil:
		return fail("cannot read the stored token: "+text.OneLine(err.Error()), "run 'elentra-teams setup' if the tool's tables are missing")
	}
	e.token = tok
	return pass("a token of %s is stored, authorized %s", accountName(tok), tok.AuthorizedAt.Format("2006-01-02"))
}

func accountName(t *auth.Token) string {
	if t.AccountUPN != "" {
		return t.AccountUPN
	}
	return t.AccountObjectID
}

// checkTokenAccount: the token must be Elentra's administrator's, or the
// syncs act as someone else: the Teams they create are that account's, the
// meetings go to its calendar. (Elentra never reads this token: its own
// "Invalid access token" is about the token its own pages stored.)
func checkTokenAccount(_ context.Context, e *Env) Result {
	t, a := e.token, e.admin
	if e.Config.Microsoft.Application() {
		// The recorded account is the organiser whose calendar holds the
		// meetings; it must still be the configured one.
		org := e.Config.Microsoft.Organizer
		if !strings.EqualFold(org, t.AccountObjectID) && !strings.EqualFold(org, t.AccountUPN) {
			return fail(fmt.Sprintf("authorize recorded the organiser %s, but microsoft.organizer is now %s", accountName(t), org),
				"run 'elentra-teams authorize' to check and record the new organiser")
		}
		return pass("application mode: meetings go to the organiser %s's calendar", accountName(t))
	}
	who := fmt.Sprintf("Elentra user %d (%s)", a.ProxyID, a.Email)
	switch {
	case a.ObjectID != "" && strings.EqualFold(a.ObjectID, t.AccountObjectID):
		return pass("the token is %s's, Elentra's administrator (user %d)", accountName(t), a.ProxyID)
	case a.ObjectID == "" && a.Email != "" && strings.EqualFold(a.Email, t.AccountUPN):
		return pass("the token is %s's, the address of Elentra's administrator (user %d)", accountName(t), a.ProxyID)
	case a.ObjectID != "":
		return fail(fmt.Sprintf("the token is %s's (%s), not %s's, whose Object ID is %s: the syncs act as that account (the Teams they create are its, the meetings go to its calendar)",
			accountName(t), t.AccountObjectID, who, strings.ToLower(a.ObjectID)), authorizeFix+" ("+a.Email+")")
	}
	return fail(fmt.Sprintf("the token is %s's (%s), and %s has no Microsoft Object ID to compare: unless they are the same account, the syncs act as another account than Elentra's administrator",
		accountName(t), t.AccountObjectID, who), authorizeFix+" ("+a.Email+"), or link the administrator's account with 'elentra-teams users link "+fmt.Sprint(a.ProxyID)+" OBJECT_ID'")
}

// checkTokenRefresh: offline, from the dates stored; online, by refreshing
// the token at Microsoft (which also restarts the 90-day clock).
func checkTokenRefresh(ctx context.Context, e *Env) Result {
	if e.Config.Microsoft.Application() {
		if !e.Online {
			return pass("application mode: each run gets its token from the app's credentials (--online tries them)")
		}
		return e.appTokenOnline(ctx)
	}
	if e.Online {
		return e.refreshOnline(ctx)
	}
	return refreshResult(e.token, e.now())
}

// appTokenOnline gets a client-credentials token, as every run in
// application mode does.
func (e *Env) appTokenOnline(ctx context.Context) Result {
	m := e.Config.Microsoft
	ts, err := auth.AppTokenSource(ctx, m, e.now)
	if err != nil {
		return configResult(err)
	}
	if _, err := ts.Token(); err != nil {
		return refreshError(err, m.TokenEndpoint(), m.TenantID)
	}
	e.ts = ts
	return pass("Microsoft gave a token for the app's credentials (client credentials)")
}

// refreshResult judges a stored token by its refresh token and its last use.
func refreshResult(t *auth.Token, now time.Time) Result {
	if t.OAuth.RefreshToken == "" {
		return fail("the stored token has no refresh token (offline_access was not granted): it dies within the hour and cron cannot renew it",
			"add offline_access to the app registration's API permissions, then "+authorizeFix)
	}
	last := auth.StatusOf(t, now).RefreshUsedAt
	idle := now.Sub(last)
	remaining := auth.InactivityLimit - idle
	// Whole days, rounded (the database keeps whole seconds, rounded too),
	// so that the days used and left add up to 90.
	unused := int(math.Round(idle.Hours() / 24))
	left := int(auth.InactivityLimit/(24*time.Hour)) - unused
	switch {
	case remaining <= 0:
		return fail(fmt.Sprintf("the refresh token was last used %s (%d days ago): Microsoft drops it after 90 days without use (AADSTS700082)",
			last.Format("2006-01-02"), unused), authorizeFix+", then make sure cron runs sync")
	case left < warnDaysBeforeUnused:
		leftText := fmt.Sprintf("%d days left", left)
		if left < 1 {
			leftText = "less than a day left"
		}
		return warn(fmt.Sprintf("the refresh token was last used %d days ago: %s before Microsoft drops it after 90 days without use", unused, leftText),
			"make sure cron runs 'elentra-teams sync' (every run renews it), or run 'elentra-teams check-config --online' now")
	}
	return pass("the refresh token was last used %s; %d days left of Microsoft's 90 without use (every sync renews it)",
		last.Format("2006-01-02"), left)
}

func (e *Env) refreshOnline(ctx context.Context) Result {
	m := e.Config.Microsoft
	ts := &auth.TokenSource{Vault: e.vault, OAuth: auth.OAuthConfig(m), Now: e.now, Logger: e.Logger, Ctx: ctx}
	nt, err := ts.ForceRefresh(ctx)
	if err != nil {
		return refreshError(err, m.TokenEndpoint(), m.TenantID)
	}
	e.ts = ts
	if cur := ts.Current(); cur != nil {
		e.token = cur
	}
	return pass("Microsoft refreshed the token just now (valid until %s; the 90-day clock restarted)", nt.Expiry.Local().Format("15:04"))
}

// refreshError explains a refused or failed refresh.
func refreshError(err error, endpoint, tenant string) Result {
	err = auth.ClassifyTokenError(err) // never an answer's body
	var re *auth.ReauthorizeError
	if errors.As(err, &re) {
		fix := re.Fix
		if fix == "" {
			fix = authorizeFix
		}
		msg := "Microsoft refused the stored sign-in"
		switch {
		case re.AADSTS != 0:
			msg += fmt.Sprintf(" (AADSTS%d)", re.AADSTS)
		case re.Code != "":
			msg += " (" + re.Code + ")"
		}
		if re.Meaning != "" {
			msg += ": " + re.Meaning
		}
		return fail(msg, fix)
	}
	var te *auth.TokenEndpointError
	if errors.As(err, &te) {
		switch {
		case te.AADSTS == 90002 || te.AADSTS == 900023:
			return fail(fmt.Sprintf("Microsoft does not know tenant %q (AADSTS%d)", tenant, te.AADSTS),
				"set microsoft.tenant_id to the Directory (tenant) ID on the app registration's Overview page (Elentra's MS_AD_TENANT_ID)")
		case te.Status == 0:
			return fail(text.OneLine(te.Error()),
				"check that this machine reaches "+hostOf(endpoint)+" (firewall, proxy: HTTPS_PROXY), and microsoft.authority")
		case te.Transient():
			return fail(text.OneLine(te.Error()),
				"the endpoint (or a proxy on the way) failed: try again later; if it lasts, check the proxy (HTTPS_PROXY), microsoft.authority and microsoft.token_url")
		}
		return fail(text.OneLine(te.Error()), "check microsoft.tenant_id, microsoft.client_id and the client secret, then "+authorizeFix)
	}
	return fail(fmt.Sprintf("cannot reach Microsoft's token endpoint %s: %s", endpoint, text.OneLine(err.Error())),
		"check that this machine reaches "+hostOf(endpoint)+" (firewall, proxy: HTTPS_PROXY), and microsoft.authority")
}

func hostOf(u string) string {
	s := strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://")
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s = s[:i]
	}
	return s
}

func checkTokenScopes(_ context.Context, e *Env) Result {
	if e.Config.Microsoft.Application() {
		return pass("application mode: the app's permissions are granted in its registration (--online calls Graph with them)")
	}
	required := e.Config.Microsoft.RequiredScopes()
	if len(e.token.Scopes) == 0 {
		return pass("Microsoft did not say which scopes it granted: nothing to compare")
	}
	missing := auth.MissingScopes(required, e.token.Scopes)
	if len(missing) > 0 {
		return warn("the token lacks "+strings.Join(missing, ", ")+": the syncs that need them fail with 403",
			"grant them (with admin consent) in the app registration's API permissions, then "+authorizeFix)
	}
	return pass("the token holds every scope the syncs need: %s", strings.Join(auth.NormalizeScopes(strings.Join(required, " ")), ", "))
}

// zoneSpan is how far ahead the offsets are compared: a year holds both
// daylight-saving changes.
const zoneSpan = 365 * 24 * time.Hour

func checkTokenTimezone(_ context.Context, e *Env) Result {
	return zoneResult(e.token.OutlookTimezone, e.Config.Elentra.Timezone, e.now())
}

// zoneResult compares the Outlook time zone recorded at authorize with
// Elentra's: meetings are created in the first, Elentra's times read in the
// second, so any difference in offset puts meetings at the wrong hour.
func zoneResult(outlook, elentraZone string, now time.Time) Result {
	if outlook == "" {
		return fail("no Outlook time zone is recorded with the token: meetings cannot be placed", authorizeWith("--timezone "+elentraZone))
	}
	ol, err := time.LoadLocation(outlook)
	if err != nil {
		return fail(fmt.Sprintf("the Outlook time zone %q recorded with the token is not one this machine knows", outlook), authorizeWith("--timezone "+elentraZone))
	}
	el, err := time.LoadLocation(elentraZone)
	if err != nil {
		return fail(fmt.Sprintf("elentra.timezone %q is not a time zone this machine knows", elentraZone), "set it to Elentra's DEFAULT_TIMEZONE")
	}
	if mm := auth.CompareZoneOffsets(ol, el, now, zoneSpan); mm != nil {
		return fail(fmt.Sprintf("the Outlook time zone differs from Elentra's: %v, so meetings would land at the wrong hour", mm),
			authorizeWith("--timezone "+elentraZone)+" (or choose a zone with the same offsets)")
	}
	if outlook == elentraZone {
		return pass("the Outlook time zone is Elentra's, %s", outlook)
	}
	return pass("the Outlook time zone %s keeps the offsets of Elentra's %s", outlook, elentraZone)
}
