package auth

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/elentra-teams/elentra-teams/pkg/msgraph"
)

// Admin is Elentra's administrator (elentra.admin_user_id, user 1 by
// default): the account the token must belong to, because cron acts as it.
type Admin struct {
	ProxyID  int
	Name     string
	Email    string
	ObjectID string // "" when no Object ID is known yet
}

// AuthorizeOptions is what Authorize needs; the command layer fills it.
type AuthorizeOptions struct {
	Flow *Flow
	// RequiredScopes are the scopes the commands need (warned about when missing).
	RequiredScopes []string
	// NoBrowser: print the URL and read the redirected URL from In.
	NoBrowser bool
	// LoopbackTimeout bounds the wait for the browser's redirect.
	LoopbackTimeout time.Duration
	In              io.Reader
	Out             io.Writer // the URL alone on a line, and choices
	Err             io.Writer // instructions and warnings
	// Interactive: a person is at a terminal and can choose a time zone.
	Interactive bool

	Admin Admin
	// Force accepts an account that is not Elentra's administrator.
	Force bool
	// Timezone is the Outlook time zone asked for (IANA), "" to choose.
	Timezone string
	// ElentraZone is elentra.timezone; the Outlook zone must keep its offsets.
	ElentraZone   *time.Location
	AllowMismatch bool

	// Graph returns a client using the given token (the new one).
	Graph func(oauth2.TokenSource) *msgraph.Client
	Vault *Vault
	Now   func() time.Time
	// RecordAdminObjectID stores the administrator's Object ID when it was
	// found by address (so later checks compare ids).
	RecordAdminObjectID func(ctx context.Context, proxyID int, objectID string) error

	lines *bufio.Reader // In, buffered once for every prompt (readLine)
}

// AuthorizeResult is what authorize reports.
type AuthorizeResult struct {
	AccountID         string   `json:"account_object_id"`
	AccountName       string   `json:"account_name"`
	AccountUPN        string   `json:"account_upn"`
	AdminProxyID      int      `json:"elentra_admin_user_id"`
	IsAdmin           bool     `json:"is_elentra_admin"`
	RecordedObjectID  bool     `json:"recorded_admin_object_id"`
	Scopes            []string `json:"scopes"`
	MissingScopes     []string `json:"missing_scopes,omitempty"`
	OutlookTimezone   string   `json:"outlook_timezone"`
	TeamsMeetingsOK   bool     `json:"teams_meetings_allowed"`
	RefreshTokenSaved bool     `json:"refresh_token_saved"`
}

// Authorize runs the sign-in, checks the account, scopes and time zone, and
// stores the token encrypted. Nothing is stored when any step fails.
func Authorize(ctx context.Context, o AuthorizeOptions) (*AuthorizeResult, error) {
	code, err := o.obtainCode(ctx)
	if err != nil {
		return nil, err
	}
	tok, err := o.Flow.Exchange(ctx, code)
	if err != nil {
		return nil, err
	}
	graph := o.Graph(oauth2.StaticTokenSource(tok))

	me, err := graph.Me(ctx)
	if err != nil {
		return nil, fmt.Errorf("signed in, but GET /me failed: %w", err)
	}
	res := &AuthorizeResult{AccountID: me.ID, AccountName: me.DisplayName, AccountUPN: me.UserPrincipalName, AdminProxyID: o.Admin.ProxyID}
	if err := o.checkAdmin(ctx, me, res); err != nil {
		return nil, err
	}

	granted, _ := tok.Extra("scope").(string)
	res.Scopes = NormalizeScopes(granted)
	res.MissingScopes = MissingScopes(o.RequiredScopes, res.Scopes)
	if len(res.MissingScopes) > 0 {
		fmt.Fprintf(o.Err, "! the token lacks %s: grant them (with admin consent) in the app registration's API permissions, then run authorize again\n",
			strings.Join(res.MissingScopes, ", "))
	}

	zone, err := o.chooseZone(ctx, graph)
	if err != nil {
		return nil, err
	}
	res.OutlookTimezone = zone

	cal, err := graph.GetCalendar(ctx, "me")
	if err != nil {
		fmt.Fprintf(o.Err, "! cannot read the account's calendar (%v): meetings cannot be created until it can\n", err)
	} else if res.TeamsMeetingsOK = cal.AllowsTeamsMeetings(); !res.TeamsMeetingsOK {
		fmt.Fprintf(o.Err, "! the account's calendar does not allow Teams meetings (allowed: %s): give the account a Teams licence\n",
			strings.Join(cal.AllowedOnlineMeetingProviders, ", "))
	}

	if tok.RefreshToken == "" {
		return nil, errors.New("no refresh token came back from Microsoft (offline_access was not granted), so cron could not keep the sign-in alive; add offline_access to the app's permissions and run authorize again")
	}
	now := o.Now()
	t := &Token{OAuth: tok, Scopes: res.Scopes, AccountObjectID: me.ID, AccountUPN: me.UserPrincipalName,
		OutlookTimezone: zone, AuthorizedAt: now, RefreshUsedAt: now}
	if err := o.Vault.Save(ctx, t); err != nil {
		return nil, err
	}
	res.RefreshTokenSaved = true
	if res.RecordedObjectID && o.RecordAdminObjectID != nil {
		if err := o.RecordAdminObjectID(ctx, o.Admin.ProxyID, me.ID); err != nil {
			return nil, fmt.Errorf("the token is stored, but recording the administrator's Object ID failed: %w", err)
		}
		fmt.Fprintf(o.Err, "Elentra user %d (%s) is %s: its Microsoft Object ID %s is recorded.\n", o.Admin.ProxyID, o.Admin.Email, me.UserPrincipalName, me.ID)
	}
	return res, nil
}

// readLine reads one answer from o.In. Every prompt reads through the one
// buffered reader, so that answers typed ahead (or piped in) are never
// lost to a reader that buffered past its own line.
func (o *AuthorizeOptions) readLine() (string, error) {
	if o.lines == nil {
		o.lines = bufio.NewReader(o.In)
	}
	return o.lines.ReadString('\n')
}

func (o *AuthorizeOptions) obtainCode(ctx context.Context) (string, error) {
	url := o.Flow.AuthCodeURL(o.Admin.Email)
	redirect := o.Flow.OAuth.RedirectURL
	if !o.NoBrowser && IsLoopbackRedirect(redirect) {
		timeout := o.LoopbackTimeout
		if timeout == 0 {
			timeout = 5 * time.Minute
		}
		addr, _ := LoopbackListenAddr(redirect)
		q, err := WaitLoopback(ctx, redirect, o.Flow.State, timeout, func() {
			fmt.Fprintf(o.Err, "Open this address in a browser on this machine and sign in as Elentra's administrator (%s).\n", o.Admin.Email)
			fmt.Fprintf(o.Err, "On a server reached over SSH, forward the port first (ssh -L %s:%s …) or use --no-browser.\n",
				portOfAddr(addr), addr)
			fmt.Fprintln(o.Out, url)
		})
		if err != nil {
			return "", err
		}
		return o.Flow.CodeFromQuery(q)
	}
	if !o.NoBrowser {
		fmt.Fprintf(o.Err, "microsoft.redirect_uri %s is not plain http to this machine (http://localhost:PORT/…), so the sign-in is finished by pasting.\n", redirect)
	}
	fmt.Fprintf(o.Err, "Open this address in any browser and sign in as Elentra's administrator (%s).\n", o.Admin.Email)
	fmt.Fprintln(o.Out, url)
	fmt.Fprintln(o.Err, "Then paste the address of the page you land on (it may say it cannot be reached) and press Enter:")
	line, err := o.readLine()
	if err != nil && (err != io.EOF || strings.TrimSpace(line) == "") {
		return "", errors.New("no redirected address was read from standard input")
	}
	return o.Flow.CodeFromPasted(line)
}

func portOfAddr(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "PORT"
	}
	return port
}

func (o *AuthorizeOptions) checkAdmin(ctx context.Context, me *msgraph.User, res *AuthorizeResult) error {
	a := o.Admin
	switch {
	case a.ObjectID != "" && strings.EqualFold(a.ObjectID, me.ID):
		res.IsAdmin = true
	case a.ObjectID == "" && a.Email != "" && (strings.EqualFold(a.Email, me.Mail) || strings.EqualFold(a.Email, me.UserPrincipalName)):
		res.IsAdmin = true
		res.RecordedObjectID = true // by Authorize, once the token is stored
	}
	if res.IsAdmin {
		return nil
	}
	who := fmt.Sprintf("Elentra user %d (%s", a.ProxyID, a.Email)
	if a.ObjectID != "" {
		who += ", Object ID " + a.ObjectID
	}
	who += ")"
	if !o.Force {
		return fmt.Errorf("signed in as %s (%s), not as %s: the syncs would act as this account (the Teams they create would be its, the meetings would go to its calendar); sign in as Elentra's administrator, or run authorize --force to use this one anyway",
			me.UserPrincipalName, me.ID, who)
	}
	fmt.Fprintf(o.Err, "! signed in as %s, not %s; stored anyway (--force): meetings are made in this account's calendar, and those already in another account's stay there\n", me.UserPrincipalName, who)
	return nil
}

// chooseZone settles the Outlook time zone: the one asked for, or a choice
// among the zones Outlook supports whose offsets match Elentra's, and checks
// its offsets over the next twelve months against Elentra's zone.
func (o *AuthorizeOptions) chooseZone(ctx context.Context, graph *msgraph.Client) (string, error) {
	return o.chooseZoneOf(ctx, graph, "me")
}

func (o *AuthorizeOptions) chooseZoneOf(ctx context.Context, graph *msgraph.Client, mailbox string) (string, error) {
	zones, err := graph.SupportedTimeZones(ctx, mailbox, "Iana")
	if err != nil {
		return "", zonesError(err, mailbox != "me")
	}
	supported := map[string]bool{}
	for _, z := range zones {
		supported[z.Alias] = true
	}
	now := o.Now()
	year := 365 * 24 * time.Hour
	name := o.Timezone
	if name == "" {
		var matching []string
		for _, z := range zones {
			loc, err := time.LoadLocation(z.Alias)
			if err != nil {
				continue
			}
			if CompareZoneOffsets(loc, o.ElentraZone, now, year) == nil {
				matching = append(matching, z.Alias)
			}
		}
		sort.Strings(matching)
		name, err = o.pickZone(matching)
		if err != nil {
			return "", err
		}
	}
	if !supported[name] {
		return "", fmt.Errorf("%q is not a time zone the account's Outlook supports; pick one it lists (authorize without --timezone shows them)", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return "", fmt.Errorf("%q is not an IANA time zone this machine knows: %v", name, err)
	}
	if m := CompareZoneOffsets(loc, o.ElentraZone, now, year); m != nil {
		if !o.AllowMismatch {
			return "", fmt.Errorf("the Outlook time zone's offset differs from Elentra's (%v): meetings would land at the wrong hour; choose a zone matching elentra.timezone %s, or use --allow-timezone-mismatch", m, o.ElentraZone)
		}
		fmt.Fprintf(o.Err, "! %v (accepted: --allow-timezone-mismatch)\n", m)
	}
	return name, nil
}

// zonesError says why the Outlook time zones of the signed-in account (or,
// in application mode, of the organiser) could not be listed. The account
// is known by then (GET /me, or the organiser's look-up, passed), so the
// causes are its mailbox and the token's permissions.
func zonesError(err error, app bool) error {
	who, perm := "the account", "the delegated permission User.ReadBasic.All"
	if app {
		who, perm = "the organiser", "the application permission User.Read.All"
	}
	why := fmt.Sprintf("listing them needs an Exchange Online mailbox for %s and %s in the token", who, perm)
	if ge, ok := msgraph.AsError(err); ok {
		switch {
		case ge.Status == http.StatusForbidden:
			why = fmt.Sprintf("the token may not read them: grant %s (with admin consent) in the app registration's API permissions, then run authorize again", perm)
			if app {
				why += "; if Exchange Online restricts the app to chosen mailboxes, include the organiser's"
			}
		case ge.Status == http.StatusNotFound || strings.Contains(strings.ToLower(ge.Code), "mailbox"):
			why = fmt.Sprintf("%s has no Exchange Online mailbox (or it is inactive, or hosted on-premises): give it an Exchange Online licence in the Microsoft 365 admin center, then run authorize again (a new mailbox takes a while to be ready)", who)
		}
	}
	return fmt.Errorf("cannot list %s's Outlook time zones (%v): %s", who, err, why)
}

func (o *AuthorizeOptions) pickZone(matching []string) (string, error) {
	elentra := o.ElentraZone.String()
	hasElentra := false
	for _, z := range matching {
		if z == elentra {
			hasElentra = true
		}
	}
	if !o.Interactive {
		if hasElentra {
			fmt.Fprintf(o.Err, "Outlook time zone: %s (Elentra's; choose another with --timezone)\n", elentra)
			return elentra, nil
		}
		return "", fmt.Errorf("the account's Outlook does not list Elentra's time zone %s; give one with the same offsets with --timezone (candidates: %s)",
			elentra, strings.Join(firstN(matching, 8), ", "))
	}
	if len(matching) == 0 {
		return "", fmt.Errorf("no Outlook time zone keeps the offsets of Elentra's %s; check elentra.timezone", elentra)
	}
	fmt.Fprintf(o.Err, "Outlook time zones with the same offsets as Elentra's %s:\n", elentra)
	def := 1
	for i, z := range matching {
		fmt.Fprintf(o.Err, "  %2d) %s\n", i+1, z)
		if z == elentra {
			def = i + 1
		}
	}
	fmt.Fprintf(o.Err, "Choose a number [%d]: ", def)
	line, _ := o.readLine()
	line = strings.TrimSpace(line)
	if line == "" {
		return matching[def-1], nil
	}
	n, err := strconv.Atoi(line)
	if err != nil || n < 1 || n > len(matching) {
		return "", fmt.Errorf("%q is not one of the numbers listed", line)
	}
	return matching[n-1], nil
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// Status is what `authorize --status` shows.
type Status struct {
	AccountObjectID string    `json:"account_object_id"`
	AccountUPN      string    `json:"account_upn"`
	Scopes          []string  `json:"scopes"`
	OutlookTimezone string    `json:"outlook_timezone"`
	AuthorizedAt    time.Time `json:"authorized_at"`
	RefreshUsedAt   time.Time `json:"refresh_token_last_used"`
	AccessExpiry    time.Time `json:"access_token_expiry"`
	DaysLeftUnused  int       `json:"days_before_90_days_unused"`
	HasRefreshToken bool      `json:"has_refresh_token"`
}

// InactivityLimit is how long Microsoft keeps an unused refresh token.
const InactivityLimit = 90 * 24 * time.Hour

// StatusOf describes a stored token.
func StatusOf(t *Token, now time.Time) Status {
	last := t.RefreshUsedAt
	if last.IsZero() {
		last = t.AuthorizedAt
	}
	return Status{
		AccountObjectID: t.AccountObjectID, AccountUPN: t.AccountUPN, Scopes: t.Scopes, OutlookTimezone: t.OutlookTimezone,
		AuthorizedAt: t.AuthorizedAt, RefreshUsedAt: last, AccessExpiry: t.OAuth.Expiry,
		DaysLeftUnused:  max(0, int(InactivityLimit/(24*time.Hour))-int(math.Round(now.Sub(last).Hours()/24))),
		HasRefreshToken: t.OAuth.RefreshToken != "",
	}
}
