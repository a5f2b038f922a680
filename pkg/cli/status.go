package cli

import (
	"github.com/spf13/cobra"
)

func newStatusCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show each course's Team and members, each event's meeting, and recent runs",
		Example: `  elentra-teams status
  elentra-teams status --output json`,
		Args: cobra.NoArgs,
		RunE: stub(f, needsDB),
	}
}
