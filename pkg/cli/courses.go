package cli

import (
	"github.com/spf13/cobra"
)

func newCoursesCmd(f *Factory) *cobra.Command {
	c := &cobra.Command{
		Use:   "courses",
		Short: "List courses and switch their Teams sync on or off",
		Example: `  elentra-teams courses list
  elentra-teams courses enable 101 102`,
		Args: cobra.NoArgs,
	}
	c.AddCommand(
		&cobra.Command{Use: "list", Short: "List courses with what a sync would do with each", Args: cobra.NoArgs, RunE: stub(f, needsDB),
			Example: "  elentra-teams courses list --output json"},
		&cobra.Command{Use: "enable ID...", Short: "Give these courses a Team", Args: cobra.MinimumNArgs(1), RunE: stub(f, needsDB),
			Example: "  elentra-teams courses enable 101 102"},
		&cobra.Command{Use: "disable ID...", Short: "Stop syncing these courses (course_end policy applies)", Args: cobra.MinimumNArgs(1), RunE: stub(f, needsDB),
			Example: "  elentra-teams courses disable 101"},
	)
	return c
}
