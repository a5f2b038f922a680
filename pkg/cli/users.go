package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/elentra-teams/elentra-teams/internal/text"
	"github.com/elentra-teams/elentra-teams/pkg/config"
	"github.com/elentra-teams/elentra-teams/pkg/store"
)

const usersLong = `List the Microsoft Object IDs of the users a sync covers, and set them by hand
where sync-users cannot match a user to the directory.

A user's Object ID comes, first found wins, from: a link made with
'users link' (source manual), the site's own column (elentra.object_id_column,
source profile), or a directory match by sync-users (source matched).
sync-users never overwrites a manual link.`

const usersListLong = `List the users of the synced courses (their learners, by the learner rule,
and their contacts of the types in sync.owner_contact_types and
sync.member_contact_types) or, with --course, of that course (synced or not).

Columns: proxy id, name, email, Object ID, its source (manual, profile or
matched) and the match status: sync-users' last outcome (matched, unmatched,
ambiguous, no_email), "linked by hand", "profile", or "not checked" when
sync-users has not looked at the user yet. --output json prints a JSON array.`

const usersLinkLong = `Set a user's Object ID by hand (source manual): sync-users never overwrites it,
and it wins over the site's column and any match.

PROXY_ID must be an Elentra user and OBJECT_ID a GUID (the user's "Object ID"
in Microsoft Entra admin centre). An Object ID that another user already has
is refused, naming that user, unless --force: one person may have two Elentra
accounts. With --dry-run, say what would change and change nothing.

Exit 2 when PROXY_ID or OBJECT_ID is malformed or Elentra has no such user;
exit 1 when the Object ID is another user's (and --force was not given).`

const usersUnlinkLong = `Remove a link made with 'users link'. The user keeps an Object ID from the
site's column if there is one; otherwise sync-users matches them again at its
next run. A user without a manual link is left as it is. With --dry-run, say
what would change and change nothing. Exit 2 when PROXY_ID is malformed, or
names neither an Elentra user nor a manual link.`

// usersListOptions are users list's flags, parsed and checked.
type usersListOptions struct {
	f *Factory

	unmatched bool
	course    int
}

// usersLinkOptions are users link's arguments and flags, parsed and checked.
type usersLinkOptions struct {
	f *Factory

	proxyID  int
	objectID string
	force    bool
	dryRun   bool
}

// usersUnlinkOptions is users unlink's argument, parsed.
type usersUnlinkOptions struct {
	f *Factory

	proxyID int
	dryRun  bool
}

func newUsersCmd(f *Factory) *cobra.Command {
	c := &cobra.Command{
		Use:   "users",
		Short: "List users' Microsoft Object IDs and link or unlink them by hand",
		Long:  usersLong,
		Example: `  elentra-teams users list --unmatched
  elentra-teams users link 1234 0f9e8d7c-6b5a-4321-9876-543210fedcba`,
		Args: cobra.NoArgs,
	}
	c.AddCommand(newUsersListCmd(f, nil), newUsersLinkCmd(f, nil), newUsersUnlinkCmd(f, nil))
	return c
}

func newUsersListCmd(f *Factory, runF func(*usersListOptions) error) *cobra.Command {
	o := &usersListOptions{f: f}
	c := &cobra.Command{Use: "list", Short: "List users of enabled courses with their Object ID and its source", Long: usersListLong, Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("course") && o.course < 1 {
				return &FlagError{Err: fmt.Errorf("--course %d is not a course id (a positive whole number)", o.course)}
			}
			if runF != nil {
				return runF(o)
			}
			return usersListRun(cmd.Context(), o)
		},
		Example: "  elentra-teams users list --unmatched --course 101"}
	c.Flags().BoolVar(&o.unmatched, "unmatched", false, "only users without an Object ID")
	c.Flags().IntVar(&o.course, "course", 0, "only users of this course `ID`")
	return c
}

func newUsersLinkCmd(f *Factory, runF func(*usersLinkOptions) error) *cobra.Command {
	o := &usersLinkOptions{f: f}
	c := &cobra.Command{Use: "link PROXY_ID OBJECT_ID", Short: "Set a user's Object ID by hand (sync-users never overwrites it)", Long: usersLinkLong, Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := proxyID(args[0])
			if err != nil {
				return err
			}
			objectID := strings.TrimSpace(args[1])
			if !config.IsGUID(objectID) {
				return &FlagError{Err: fmt.Errorf("%q is not an Object ID: use the user's GUID from Microsoft Entra, such as 0f9e8d7c-6b5a-4321-9876-543210fedcba", objectID)}
			}
			o.proxyID, o.objectID, o.dryRun = id, objectID, f.DryRun()
			if runF != nil {
				return runF(o)
			}
			return usersLinkRun(cmd.Context(), o)
		},
		Example: "  elentra-teams users link 1234 0f9e8d7c-6b5a-4321-9876-543210fedcba"}
	c.Flags().BoolVar(&o.force, "force", false, "link an Object ID that another user already has")
	return c
}

func newUsersUnlinkCmd(f *Factory, runF func(*usersUnlinkOptions) error) *cobra.Command {
	o := &usersUnlinkOptions{f: f}
	return &cobra.Command{Use: "unlink PROXY_ID", Short: "Remove a hand-set Object ID", Long: usersUnlinkLong, Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := proxyID(args[0])
			if err != nil {
				return err
			}
			o.proxyID, o.dryRun = id, f.DryRun()
			if runF != nil {
				return runF(o)
			}
			return usersUnlinkRun(cmd.Context(), o)
		},
		Example: "  elentra-teams users unlink 1234"}
}

func usersListRun(ctx context.Context, o *usersListOptions) error {
	f := o.f
	cfg, err := f.Config(needsDB)
	if err != nil {
		return err
	}
	st, err := f.Store(ctx, cfg)
	if err != nil {
		return err
	}
	lines, err := st.ListUsers(ctx, store.SyncRulesOf(cfg), store.UserListOptions{CourseID: o.course, Unmatched: o.unmatched}, f.Now())
	if err != nil {
		return idsError(err)
	}
	rows := make([][]string, 0, len(lines))
	for _, l := range lines {
		rows = append(rows, []string{fmt.Sprint(l.ProxyID), text.Shorten(l.Name, 30), l.Email, l.ObjectID, string(l.Source), string(l.MatchStatus)})
	}
	none := "no users: no course is enabled (see 'elentra-teams courses list')"
	switch {
	case o.unmatched:
		none = "every user has an Object ID"
	case o.course != 0:
		none = fmt.Sprintf("course %d has no learners or contacts now", o.course)
	}
	return writeList(f, lines, []string{"PROXY ID", "NAME", "EMAIL", "OBJECT ID", "SOURCE", "STATUS"}, rows, none)
}

// proxyID reads one PROXY_ID argument.
func proxyID(arg string) (int, error) {
	ids, err := parseIDs("user", []string{arg})
	if err != nil {
		return 0, err
	}
	return ids[0], nil
}

func usersLinkRun(ctx context.Context, o *usersLinkOptions) error {
	f := o.f
	cfg, err := f.Config(needsDB)
	if err != nil {
		return err
	}
	st, err := f.Store(ctx, cfg)
	if err != nil {
		return err
	}
	res, err := st.PlanLink(ctx, o.proxyID, o.objectID, o.force)
	if err != nil {
		var taken *store.ObjectIDTakenError
		if errors.As(err, &taken) {
			return err
		}
		return idsError(err)
	}
	if !o.dryRun {
		if err := st.ApplyLink(ctx, res, f.Now()); err != nil {
			return err
		}
	}
	if f.JSON() {
		return writeJSON(f, struct {
			DryRun bool `json:"dry_run"`
			*store.LinkResult
		}{o.dryRun, res})
	}
	who := fmt.Sprintf("user %d (%s)", res.ProxyID, res.Name)
	switch {
	case !res.Change:
		fmt.Fprintf(f.IO.Out, "%s is already linked to %s: nothing to do\n", who, res.ObjectID)
		return nil
	case o.dryRun:
		fmt.Fprintf(f.IO.Out, "%s would be linked to %s", who, res.ObjectID)
	default:
		fmt.Fprintf(f.IO.Out, "%s linked to %s", who, res.ObjectID)
	}
	if res.Previous != "" && !strings.EqualFold(res.Previous, res.ObjectID) {
		fmt.Fprintf(f.IO.Out, " (instead of %s, %s)", res.Previous, store.SourceText(res.PreviousSource))
	}
	fmt.Fprintln(f.IO.Out)
	if len(res.SharedWith) > 0 {
		fmt.Fprintf(f.IO.ErrOut, "note: linked with --force; user %s keeps the same Object ID\n", text.JoinInts(res.SharedWith))
	}
	return nil
}

func usersUnlinkRun(ctx context.Context, o *usersUnlinkOptions) error {
	f, id := o.f, o.proxyID
	cfg, err := f.Config(needsDB)
	if err != nil {
		return err
	}
	st, err := f.Store(ctx, cfg)
	if err != nil {
		return err
	}
	res, err := st.PlanUnlink(ctx, id)
	if err != nil {
		return idsError(err)
	}
	if !o.dryRun {
		if err := st.ApplyUnlink(ctx, res); err != nil {
			return err
		}
	}
	if f.JSON() {
		return writeJSON(f, struct {
			DryRun bool `json:"dry_run"`
			*store.UnlinkResult
		}{o.dryRun, res})
	}
	switch {
	case !res.Change && res.ObjectID != "":
		fmt.Fprintf(f.IO.Out, "user %d has no manual link (its Object ID %s is %s): nothing to do\n", id, res.ObjectID, store.SourceText(res.Source))
	case !res.Change:
		fmt.Fprintf(f.IO.Out, "user %d has no manual link: nothing to do\n", id)
	case o.dryRun:
		fmt.Fprintf(f.IO.Out, "user %d would be unlinked from %s\n", id, res.ObjectID)
	default:
		fmt.Fprintf(f.IO.Out, "user %d unlinked from %s\n", id, res.ObjectID)
	}
	return nil
}
