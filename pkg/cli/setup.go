package cli

import (
	"github.com/spf13/cobra"
)

func newSetupCmd(f *Factory) *cobra.Command {
	var enable, menu, takeover bool
	c := &cobra.Command{
		Use:   "setup",
		Short: "Create or upgrade the tool's tables and Elentra's Teams settings",
		Example: `  elentra-teams setup --dry-run
  elentra-teams setup --menu --takeover`,
		Args: cobra.NoArgs,
		RunE: stub(f, needsDB),
	}
	c.Flags().BoolVar(&enable, "enable", false, "set microsoft_teams_enabled to 1 even when an admin set another value")
	c.Flags().BoolVar(&menu, "menu", false, "append microsoft to user_menu_ordering (Elentra 1.22's menu entry)")
	c.Flags().BoolVar(&takeover, "takeover", false, "deactivate Elentra's own 'artisan microsoft:' cron jobs")
	return c
}
