package cli

import (
	"github.com/spf13/cobra"
)

func newEventsCmd(f *Factory) *cobra.Command {
	var upcoming bool
	c := &cobra.Command{
		Use:   "events",
		Short: "List learning events and switch their Teams meetings on or off",
		Example: `  elentra-teams events list --upcoming
  elentra-teams events enable 5012`,
		Args: cobra.NoArgs,
	}
	list := &cobra.Command{Use: "list", Short: "List events with their meeting, link and joinable-from time", Args: cobra.NoArgs, RunE: stub(f, needsDB),
		Example: "  elentra-teams events list --upcoming"}
	list.Flags().BoolVar(&upcoming, "upcoming", false, "only events starting within sync.events_horizon")
	c.AddCommand(
		list,
		&cobra.Command{Use: "enable ID...", Short: "Give these events a Teams meeting", Args: cobra.MinimumNArgs(1), RunE: stub(f, needsDB),
			Example: "  elentra-teams events enable 5012 5013"},
		&cobra.Command{Use: "disable ID...", Short: "Cancel these events' meetings at the next sync", Args: cobra.MinimumNArgs(1), RunE: stub(f, needsDB),
			Example: "  elentra-teams events disable 5012"},
	)
	return c
}
