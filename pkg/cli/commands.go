package cli

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/elentra-teams/elentra-teams/pkg/config"
	"github.com/elentra-teams/elentra-teams/pkg/engine"
)

// Configuration each kind of command needs (validated before it runs).
const (
	needsDB       = config.NeedDatabase
	needsTokenKey = config.NeedTokenKey
	needsAuth     = config.NeedDatabase | config.NeedMicrosoft | config.NeedTokenKey | config.NeedTimezone
	needsSync     = config.NeedDatabase | config.NeedMicrosoft | config.NeedTokenKey | config.NeedSync
	needsEvent    = needsSync | config.NeedTimezone
)

// syncOptions is what a sync command runs with: the steps it runs and the
// configuration they need, then its flags, parsed and checked.
type syncOptions struct {
	f *Factory

	command string
	needs   config.Need
	steps   []engine.Step

	courses   []int
	events    []int
	force     bool
	quiet     bool
	all       bool // sync-users --all
	allowLong bool // --allow-long-events
	dryRun    bool
}

// errForceTooWide refuses --force that would turn the guards off for a
// whole school with nobody to confirm: on a cron line it would stay on.
var errForceTooWide = errors.New("--force turns the guards off; give it with --course ID or --event ID, or run the command at a terminal to confirm the changes the guards hold, with their counts")

// checkForce says whether --force may be used as given: with --course or
// --event, in a dry run, or where a person can confirm.
func (o *syncOptions) checkForce(io *IOStreams) error {
	if !o.force || len(o.courses) > 0 || len(o.events) > 0 || o.dryRun || io.CanPrompt() {
		return nil
	}
	return &FlagError{Err: errForceTooWide}
}

// syncCommand gives the sync command c its flags (--event and
// --allow-long-events with withEvents) and its RunE, which parses them into
// o and checks them, then calls runF (tests) or syncRun.
func syncCommand(f *Factory, runF func(*syncOptions) error, c *cobra.Command, o *syncOptions, withEvents bool) *cobra.Command {
	o.f = f
	c.RunE = func(cmd *cobra.Command, args []string) error {
		o.dryRun = f.DryRun()
		if err := o.checkForce(f.IO); err != nil {
			return err
		}
		if runF != nil {
			return runF(o)
		}
		return syncRun(cmd.Context(), o)
	}
	c.Flags().IntSliceVar(&o.courses, "course", nil, "only this course `ID` (repeatable)")
	if withEvents {
		c.Flags().IntSliceVar(&o.events, "event", nil, "only this event `ID` (repeatable)")
	}
	c.Flags().BoolVar(&o.force, "force", false, "turn the guards off: with --course or --event, or at a terminal after confirming what they held")
	c.Flags().BoolVarP(&o.quiet, "quiet", "q", false, "print only what failed (for cron)")
	if withEvents {
		c.Flags().BoolVar(&o.allowLong, "allow-long-events", false, "make meetings for events longer than 24 hours (otherwise reported as bad data)")
	}
	return c
}
