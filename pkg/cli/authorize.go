package cli

import (
	"github.com/spf13/cobra"
)

func newAuthorizeCmd(f *Factory) *cobra.Command {
	var noBrowser, status, force, allowMismatch bool
	var tz string
	c := &cobra.Command{
		Use:   "authorize",
		Short: "Sign in as Elentra's administrator and store the token the syncs use",
		Example: `  # on a server reached over SSH: open the printed URL, paste the address you land on
  elentra-teams authorize --no-browser --timezone America/Toronto
  elentra-teams authorize --status`,
		Args: cobra.NoArgs,
		RunE: stub(f, needsAuth),
	}
	c.Flags().BoolVar(&noBrowser, "no-browser", false, "print the sign-in URL and read the redirected URL from stdin")
	c.Flags().BoolVar(&status, "status", false, "show the stored token's account, scopes and age")
	c.Flags().BoolVar(&force, "force", false, "store a token of an account other than Elentra's administrator")
	c.Flags().StringVar(&tz, "timezone", "", "Outlook time zone `NAME` (IANA), checked against Elentra's")
	c.Flags().BoolVar(&allowMismatch, "allow-timezone-mismatch", false, "accept an Outlook time zone whose offsets differ from Elentra's")
	return c
}
