package check

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/elentra-teams/elentra-teams/internal/text"
	"github.com/elentra-teams/elentra-teams/pkg/msgraph"
	"github.com/elentra-teams/elentra-teams/pkg/reconcile"
)

// Teams' cap on the teams one user belongs to, archived ones included
// (graph-wire.md §11), and where the warning starts.
const (
	teamsPerUserCap = 1000
	teamsWarnAbove  = 800
)

// graphError explains a failed Graph call.
func graphError(what string, err error) Result {
	if ge, ok := msgraph.AsError(err); ok {
		switch {
		case ge.Status == http.StatusUnauthorized:
			return fail(fmt.Sprintf("%s: Microsoft Graph refused the token (401 %s)", what, ge.Code), authorizeFix)
		case ge.Status == http.StatusForbidden:
			return fail(fmt.Sprintf("%s: Microsoft Graph refused (403 %s): %s", what, ge.Code, text.OneLine(ge.Message)),
				"grant the app's delegated permissions with admin consent, then "+authorizeFix)
		}
		return fail(fmt.Sprintf("%s: %s", what, text.OneLine(ge.Error())), "try again later; if it persists, check Microsoft 365's service health")
	}
	return fail(fmt.Sprintf("%s: %s", what, text.OneLine(err.Error())),
		"check that this machine reaches microsoft.graph_endpoint (firewall, proxy: HTTPS_PROXY)")
}

func checkGraphMe(ctx context.Context, e *Env) Result {
	e.graph = e.Graph(e.ts)
	if e.Config.Microsoft.Application() {
		// An app token has no /me: look the organiser up instead.
		u, err := e.graph.GetUser(ctx, e.Config.Microsoft.Organizer)
		if err != nil {
			return graphError("GET /users/{organizer}", err)
		}
		e.mailbox = u.ID
		return pass("the organiser %s (%s) is found with the app's permissions", u.UserPrincipalName, u.ID)
	}
	e.mailbox = "me"
	me, err := e.graph.Me(ctx)
	if err != nil {
		return graphError("GET /me", err)
	}
	if e.token != nil && e.token.AccountObjectID != "" && !strings.EqualFold(me.ID, e.token.AccountObjectID) {
		return fail(fmt.Sprintf("GET /me answers %s (%s), not the account the token was stored for (%s)", me.UserPrincipalName, me.ID, e.token.AccountObjectID),
			authorizeFix)
	}
	return pass("GET /me answers %s (%s)", me.UserPrincipalName, me.ID)
}

func checkTeamsMeetings(ctx context.Context, e *Env) Result {
	cal, err := e.graph.GetCalendar(ctx, e.mailbox)
	if err != nil {
		if ge, ok := msgraph.AsError(err); ok && (ge.Status == http.StatusNotFound || strings.Contains(strings.ToLower(ge.Code), "mailbox")) {
			return fail("the authorizing account has no Exchange Online mailbox ("+ge.Code+"): no Teams meeting can be created",
				"give the account an Exchange Online and Teams licence in the Microsoft 365 admin center")
		}
		return graphError("GET /me/calendar", err)
	}
	if !cal.AllowsTeamsMeetings() {
		allowed := strings.Join(cal.AllowedOnlineMeetingProviders, ", ")
		if allowed == "" {
			allowed = "none"
		}
		return fail("the authorizing account's calendar does not allow Teams meetings (allowedOnlineMeetingProviders: "+allowed+")",
			"give the account a Microsoft Teams licence, and allow Teams as an online meeting provider in Outlook (Exchange admin center)")
	}
	return pass("the authorizing account's calendar allows Teams meetings")
}

// checkTeamsLimit: in the delegated model the authorizing account owns every
// Team it creates, and Teams caps one user at 1,000 teams.
func checkTeamsLimit(ctx context.Context, e *Env) Result {
	if e.Config.Microsoft.Application() {
		return pass("application mode: no account joins the Teams, so Teams' 1,000-team cap per user does not apply")
	}
	var n int
	var source string
	if e.Online {
		count, err := e.graph.JoinedTeamsCount(ctx, "me")
		if err != nil {
			return graphError("GET /me/joinedTeams", err)
		}
		n, source = count, "per Microsoft Graph"
	} else {
		recs, err := e.store.TeamRecords(ctx, nil)
		if err != nil {
			return fail(text.OneLine(err.Error()), "run 'elentra-teams setup'")
		}
		for _, r := range recs {
			if r.GroupID != "" && (r.State == reconcile.StateTeam || r.State == reconcile.StateArchived || r.State == reconcile.StateGroup) {
				n++
			}
		}
		source = "created by this tool (--online counts every team it is in)"
	}
	if n > teamsWarnAbove {
		return warn(fmt.Sprintf("the authorizing account is in %d teams %s: Teams stops at %d per user, archived teams included", n, source, teamsPerUserCap),
			"set sync.admin_leaves_teams: true (the account leaves Teams whose courses have their own owners), remove archived Teams no longer needed, or run in application mode")
	}
	return pass("the authorizing account is in %d teams %s, below Teams' cap of %d", n, source, teamsPerUserCap)
}
