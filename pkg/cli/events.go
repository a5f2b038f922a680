package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/elentra-teams/elentra-teams/internal/text"
	"github.com/elentra-teams/elentra-teams/pkg/config"
	"github.com/elentra-teams/elentra-teams/pkg/store"
)

const eventsLong = `List learning events and choose which get a Teams meeting.

An event gets a meeting by the first of these that decides: its switch here
('events enable' or 'events disable'); Elentra's own event switch, when
elentra.event_switch_column names it and it holds a value for the event
(elentra.event_switch_on means on, any other value off); with
sync.all_course_events, whether its course is synced; whether its parent
event gets one. sync-events makes meetings for the enabled events starting
within sync.events_horizon.

Ids that are not whole numbers are a usage error; ids Elentra does not have
(or whose course belongs to another organisation) are named in the error,
and then nothing is switched (exit 2 in both cases).`

const eventsListLong = `List events with their switch and meeting: the events of the synced courses
and every event switched on or holding a meeting, or with --course the events
of those courses (synced or not, to find the ids to enable).

Columns: event id, course code, start (in elentra.timezone), title, enabled
(yes, "elentra" for Elentra's event switch, "all" for sync.all_course_events,
or no), the meeting's state as the
last sync recorded it, the time its join link opens (joinable-from, in
elentra.timezone) and the join link, shortened. --output json prints a JSON
array with every field in full (times in UTC, RFC 3339).`

// eventsListOptions are events list's flags, parsed and checked.
type eventsListOptions struct {
	f *Factory

	upcoming bool
	courses  []int
}

func newEventsCmd(f *Factory) *cobra.Command {
	c := &cobra.Command{
		Use:   "events",
		Short: "List learning events and switch their Teams meetings on or off",
		Long:  eventsLong,
		Example: `  elentra-teams events list --upcoming
  elentra-teams events enable 5012`,
		Args: cobra.NoArgs,
	}
	c.AddCommand(newEventsListCmd(f, nil), newEventsEnableCmd(f, nil), newEventsDisableCmd(f, nil))
	return c
}

func newEventsListCmd(f *Factory, runF func(*eventsListOptions) error) *cobra.Command {
	o := &eventsListOptions{f: f}
	c := &cobra.Command{Use: "list", Short: "List events with their meeting, link and joinable-from time", Long: eventsListLong, Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, id := range o.courses {
				if id < 1 {
					return &FlagError{Err: fmt.Errorf("--course %d is not a course id (a positive whole number)", id)}
				}
			}
			if runF != nil {
				return runF(o)
			}
			return eventsListRun(cmd.Context(), o)
		},
		Example: "  elentra-teams events list --upcoming\n  elentra-teams events list --course 101"}
	c.Flags().BoolVar(&o.upcoming, "upcoming", false, "only events starting within sync.events_horizon")
	c.Flags().IntSliceVar(&o.courses, "course", nil, "the events of this course `ID` (repeatable)")
	return c
}

func newEventsEnableCmd(f *Factory, runF func(*switchOptions) error) *cobra.Command {
	return switchCommand(f, runF, &cobra.Command{Use: "enable ID...", Short: "Give these events a Teams meeting", Args: cobra.MinimumNArgs(1),
		Long: `Switch events on: sync-events makes a meeting for each once it starts within
sync.events_horizon. An event already on is left as it is. With --dry-run,
say what would change and change nothing.`,
		Example: "  elentra-teams events enable 5012 5013"}, "event", true)
}

func newEventsDisableCmd(f *Factory, runF func(*switchOptions) error) *cobra.Command {
	return switchCommand(f, runF, &cobra.Command{Use: "disable ID...", Short: "Cancel these events' meetings at the next sync", Args: cobra.MinimumNArgs(1),
		Long: `Switch events off, also against Elentra's event switch and
sync.all_course_events: sync-events cancels a
meeting it made for them and removes its link from the event page. With
--dry-run, say what would change and change nothing.`,
		Example: "  elentra-teams events disable 5012"}, "event", false)
}

// eventTimeLayout shows a time to the minute in Elentra's zone.
const eventTimeLayout = "2006-01-02 15:04"

func eventsListRun(ctx context.Context, o *eventsListOptions) error {
	f := o.f
	cfg, err := f.Config(needsDB | config.NeedTimezone)
	if err != nil {
		return err
	}
	zone, err := time.LoadLocation(cfg.Elentra.Timezone)
	if err != nil {
		return err
	}
	st, err := f.Store(ctx, cfg)
	if err != nil {
		return err
	}
	lines, err := st.ListEvents(ctx, store.SyncRulesOf(cfg), store.EventListOptions{CourseIDs: o.courses, Upcoming: o.upcoming}, f.Now())
	if err != nil {
		return idsError(err)
	}
	local := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(zone).Format(eventTimeLayout)
	}
	rows := make([][]string, 0, len(lines))
	for _, l := range lines {
		enabled := enabledBy(l.Enabled, l.EnabledBy)
		rows = append(rows, []string{fmt.Sprint(l.ID), l.CourseCode, local(l.Start), text.Shorten(l.Title, 40), enabled, string(l.State),
			local(l.JoinableFrom), text.Shorten(l.JoinURL, 32)})
	}
	none := "no events: enable a course or an event first (see 'elentra-teams events list --course ID')"
	if o.upcoming {
		none = fmt.Sprintf("no events in the next %s (sync.events_horizon)", cfg.Sync.EventsHorizon)
	}
	return writeList(f, lines, []string{"EVENT", "COURSE", "START", "TITLE", "ENABLED", "MEETING", "JOINABLE FROM", "LINK"}, rows, none)
}
