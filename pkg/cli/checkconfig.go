package cli

import (
	"github.com/spf13/cobra"
)

func newCheckConfigCmd(f *Factory) *cobra.Command {
	var online bool
	c := &cobra.Command{
		Use:   "check-config",
		Short: "Check the configuration, database, token and tenant; name the fix for each problem",
		Example: `  elentra-teams check-config
  elentra-teams check-config --online --output json`,
		Args: cobra.NoArgs,
		RunE: stub(f, 0),
	}
	c.Flags().BoolVar(&online, "online", false, "refresh the token for real and call Microsoft Graph")
	return c
}
