package cli

import (
	"github.com/spf13/cobra"
)

func newUsersCmd(f *Factory) *cobra.Command {
	var unmatched bool
	var course int
	c := &cobra.Command{
		Use:   "users",
		Short: "List users' Microsoft Object IDs and link or unlink them by hand",
		Example: `  elentra-teams users list --unmatched
  elentra-teams users link 1234 0f9e8d7c-6b5a-4321-9876-543210fedcba`,
		Args: cobra.NoArgs,
	}
	list := &cobra.Command{Use: "list", Short: "List users of enabled courses with their Object ID and its source", Args: cobra.NoArgs, RunE: stub(f, needsDB),
		Example: "  elentra-teams users list --unmatched --course 101"}
	list.Flags().BoolVar(&unmatched, "unmatched", false, "only users without an Object ID")
	list.Flags().IntVar(&course, "course", 0, "only users of this course `ID`")
	c.AddCommand(
		list,
		&cobra.Command{Use: "link PROXY_ID OBJECT_ID", Short: "Set a user's Object ID by hand (sync-users never overwrites it)", Args: cobra.ExactArgs(2), RunE: stub(f, needsDB),
			Example: "  elentra-teams users link 1234 0f9e8d7c-6b5a-4321-9876-543210fedcba"},
		&cobra.Command{Use: "unlink PROXY_ID", Short: "Remove a hand-set Object ID", Args: cobra.ExactArgs(1), RunE: stub(f, needsDB),
			Example: "  elentra-teams users unlink 1234"},
	)
	return c
}
