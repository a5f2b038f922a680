package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/oauth2"

	"github.com/elentra-teams/elentra-teams/internal/text"
	"github.com/elentra-teams/elentra-teams/pkg/auth"
	"github.com/elentra-teams/elentra-teams/pkg/msgraph"
	"github.com/elentra-teams/elentra-teams/pkg/reconcile"
	"github.com/elentra-teams/elentra-teams/pkg/store"
)

// authorizeOptions are authorize's flags, parsed and checked.
type authorizeOptions struct {
	f *Factory

	noBrowser, status, force, allowMismatch bool
	timezone                                string
	dryRun                                  bool // refused, once the configuration is read
}

func newAuthorizeCmd(f *Factory, runF func(*authorizeOptions) error) *cobra.Command {
	o := &authorizeOptions{f: f}
	c := &cobra.Command{
		Use:   "authorize",
		Short: "Sign in as Elentra's administrator and store the token the syncs use",
		Long: `Sign in to Microsoft as Elentra's administrator (elentra.admin_user_id, user 1)
and store the token, encrypted, for the syncs that cron runs. The sign-in uses
the authorization-code flow with PKCE. With a redirect URI of plain http to
this machine (http://localhost:PORT/…, 127.0.0.1 or [::1]) the tool listens
there for the browser's redirect, and takes only the one that carries this
sign-in's state; otherwise, and with --no-browser (a server reached over SSH),
it prints the address to open and reads the address you land on from
standard input.

Register a redirect URI for this tool only: Elentra 1.22's own
/api/ms-graph-oauth.php may redeem a code sent to it first.

The signed-in account must be Elentra's administrator (checked with GET /me:
its Object ID, or its address if no Object ID is known yet). The Outlook time
zone (--timezone, or a choice among those with Elentra's offsets) must keep
the offsets of elentra.timezone over the next twelve months.

In application mode (microsoft.auth_mode: application) no one signs in:
authorize gets a client-credentials token (client secret, or a certificate
with microsoft.client_certificate_file), checks the organiser mailbox
(microsoft.organizer) and its calendar, and records it with its time zone.`,
		Example: `  # on a server reached over SSH: open the printed URL, paste the address you land on
  elentra-teams authorize --no-browser --timezone America/Toronto
  elentra-teams authorize --status`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.dryRun = f.DryRun()
			if runF != nil {
				return runF(o)
			}
			if o.status {
				return authorizeStatus(cmd.Context(), o)
			}
			return authorizeRun(cmd.Context(), o)
		},
	}
	c.Flags().BoolVar(&o.noBrowser, "no-browser", false, "print the sign-in URL and read the redirected URL from stdin")
	c.Flags().BoolVar(&o.status, "status", false, "show the stored token's account, scopes and age")
	c.Flags().BoolVar(&o.force, "force", false, "store a token of an account other than Elentra's administrator")
	c.Flags().StringVar(&o.timezone, "timezone", "", "Outlook time zone `NAME` (IANA), checked against Elentra's")
	c.Flags().BoolVar(&o.allowMismatch, "allow-timezone-mismatch", false, "accept an Outlook time zone whose offsets differ from Elentra's")
	return c
}

func authorizeRun(ctx context.Context, o *authorizeOptions) error {
	f := o.f
	cfg, err := f.Config(needsAuth)
	if err != nil {
		return err
	}
	if o.dryRun {
		return &FlagError{Err: fmt.Errorf("authorize has no --dry-run: it changes nothing but the stored token")}
	}
	st, err := f.Store(ctx, cfg)
	if err != nil {
		return err
	}
	vault, err := f.Vault(cfg, st)
	if err != nil {
		return err
	}
	zone, err := time.LoadLocation(cfg.Elentra.Timezone)
	if err != nil {
		return err
	}
	if cfg.Microsoft.Application() {
		ts, err := auth.AppTokenSource(ctx, cfg.Microsoft, f.Now)
		if err != nil {
			return err
		}
		res, err := auth.AuthorizeApp(ctx, auth.AppAuthorizeOptions{
			TokenSource: ts, Graph: func(ts oauth2.TokenSource) *msgraph.Client { return f.Graph(cfg, ts) },
			Organizer: cfg.Microsoft.Organizer, Timezone: o.timezone, ElentraZone: zone, AllowMismatch: o.allowMismatch,
			Interactive: f.IO.StdinIsTerminal() && f.IO.StderrIsTerminal(), In: f.IO.In, Err: f.IO.ErrOut, Vault: vault, Now: f.Now,
		})
		if err != nil {
			return err
		}
		if f.JSON() {
			return writeJSON(f, res)
		}
		fmt.Fprintf(f.IO.ErrOut, "The app's credentials work; meetings go to %s (%s), Outlook time zone %s. The syncs can run now.\n",
			res.OrganizerUPN, res.OrganizerID, res.OutlookTimezone)
		return nil
	}
	admin, err := adminUser(ctx, st, cfg)
	if err != nil {
		return err
	}
	res, err := auth.Authorize(ctx, auth.AuthorizeOptions{
		Flow:           auth.NewFlow(auth.OAuthConfig(cfg.Microsoft)),
		RequiredScopes: cfg.Microsoft.RequiredScopes(),
		NoBrowser:      o.noBrowser,
		In:             f.IO.In,
		Out:            f.IO.Out,
		Err:            f.IO.ErrOut,
		Interactive:    f.IO.StdinIsTerminal() && f.IO.StderrIsTerminal(),
		Admin:          admin,
		Force:          o.force,
		Timezone:       o.timezone,
		ElentraZone:    zone,
		AllowMismatch:  o.allowMismatch,
		Graph: func(ts oauth2.TokenSource) *msgraph.Client {
			return f.Graph(cfg, ts)
		},
		Vault: vault,
		Now:   f.Now,
		RecordAdminObjectID: func(ctx2 context.Context, proxyID int, objectID string) error {
			return st.PutUser(ctx2, store.UserRecord{ProxyID: proxyID, ObjectID: objectID, Source: store.SourceMatched,
				MatchStatus: reconcile.MatchMatched, CheckedAt: f.Now()}, f.Now())
		},
	})
	if err != nil {
		return err
	}
	if f.JSON() {
		return writeJSON(f, res)
	}
	fmt.Fprintf(f.IO.ErrOut, "Authorized as %s (%s), Outlook time zone %s. The syncs can run now.\n", res.AccountUPN, res.AccountID, res.OutlookTimezone)
	return nil
}

func authorizeStatus(ctx context.Context, o *authorizeOptions) error {
	f := o.f
	cfg, err := f.Config(needsDB | needsTokenKey)
	if err != nil {
		return err
	}
	st, err := f.Store(ctx, cfg)
	if err != nil {
		return err
	}
	vault, err := f.Vault(cfg, st)
	if err != nil {
		return err
	}
	tok, err := vault.Load(ctx)
	if err != nil {
		return err
	}
	s := auth.StatusOf(tok, f.Now())
	w := f.IO.Out
	now := f.Now()
	if cfg.Microsoft.Application() {
		app := struct {
			Mode            string    `json:"auth_mode"`
			OrganizerID     string    `json:"organizer_object_id"`
			OrganizerUPN    string    `json:"organizer_upn"`
			OutlookTimezone string    `json:"outlook_timezone"`
			AuthorizedAt    time.Time `json:"authorized_at"`
		}{"application", s.AccountObjectID, s.AccountUPN, s.OutlookTimezone, s.AuthorizedAt}
		if f.JSON() {
			return writeJSON(f, app)
		}
		fmt.Fprintf(w, "mode:                application (client credentials: nothing expires for want of use)\n")
		fmt.Fprintf(w, "organiser:           %s (%s)\n", s.AccountUPN, s.AccountObjectID)
		fmt.Fprintf(w, "checked:             %s (%s ago)\n", s.AuthorizedAt.Local().Format(time.DateTime+" MST"), text.Ago(now.Sub(s.AuthorizedAt)))
		fmt.Fprintf(w, "outlook time zone:   %s\n", s.OutlookTimezone)
		return nil
	}
	if f.JSON() {
		return writeJSON(f, s)
	}
	fmt.Fprintf(w, "account:             %s (%s)\n", s.AccountUPN, s.AccountObjectID)
	fmt.Fprintf(w, "authorized:          %s (%s ago)\n", s.AuthorizedAt.Local().Format(time.DateTime+" MST"), text.Ago(now.Sub(s.AuthorizedAt)))
	fmt.Fprintf(w, "refresh token used:  %s (%s ago)\n", s.RefreshUsedAt.Local().Format(time.DateTime+" MST"), text.Ago(now.Sub(s.RefreshUsedAt)))
	fmt.Fprintf(w, "unused-expiry:       %d days left before Microsoft's 90 days without use\n", s.DaysLeftUnused)
	fmt.Fprintf(w, "access token expiry: %s\n", s.AccessExpiry.Local().Format(time.DateTime+" MST"))
	fmt.Fprintf(w, "outlook time zone:   %s\n", s.OutlookTimezone)
	fmt.Fprintf(w, "scopes:              %s\n", strings.Join(s.Scopes, " "))
	return nil
}

func writeJSON(f *Factory, v any) error {
	enc := json.NewEncoder(f.IO.Out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
