package cli

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/elentra-teams/elentra-teams/pkg/config"
)

// Configuration each kind of command needs (validated before it runs).
const (
	needsDB       = config.NeedDatabase
	needsTokenKey = config.NeedTokenKey
	needsAuth     = config.NeedDatabase | config.NeedMicrosoft | config.NeedTokenKey | config.NeedTimezone
	needsSync     = config.NeedDatabase | config.NeedMicrosoft | config.NeedTokenKey | config.NeedSync
	needsEvent    = needsSync | config.NeedTimezone
)

// syncFlags are the flags of every sync command.
type syncFlags struct {
	courses []int
	events  []int
	force   bool
	quiet   bool
	all     bool
}

// errForceTooWide refuses --force that would turn the guards off for a
// whole school with nobody to confirm: on a cron line it would stay on.
var errForceTooWide = errors.New("--force turns the guards off; give it with --course ID or --event ID, or run the command at a terminal to confirm the changes the guards hold, with their counts")

// checkForce says whether --force may be used as given: with --course or
// --event, in a dry run, or where a person can confirm.
func (s syncFlags) checkForce(io *IOStreams, dryRun bool) error {
	if !s.force || len(s.courses) > 0 || len(s.events) > 0 || dryRun || io.CanPrompt() {
		return nil
	}
	return &FlagError{Err: errForceTooWide}
}

func addSyncFlags(c *cobra.Command, s *syncFlags, withEvents bool) {
	c.Flags().IntSliceVar(&s.courses, "course", nil, "only this course `ID` (repeatable)")
	if withEvents {
		c.Flags().IntSliceVar(&s.events, "event", nil, "only this event `ID` (repeatable)")
	}
	c.Flags().BoolVar(&s.force, "force", false, "turn the guards off: with --course or --event, or at a terminal after confirming what they held")
	c.Flags().BoolVarP(&s.quiet, "quiet", "q", false, "print only what failed (for cron)")
}
