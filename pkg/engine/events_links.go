package engine

import (
	"context"

	"github.com/elentra-teams/elentra-teams/pkg/elentra"
	"github.com/elentra-teams/elentra-teams/pkg/reconcile"
)

// findLinks reads the recorded links, and for events with a meeting but no
// recorded link, a link with the tool's title that a run published without
// recording it (adopted rather than published twice). Two queries at most.
func (run *eventsRun) findLinks(ctx context.Context, meetings map[int]reconcile.Meeting) (map[int]reconcile.Link, error) {
	out := map[int]reconcile.Link{}
	var recorded, unrecorded []int
	for id, w := range run.wants {
		rec := run.records[id]
		switch {
		case rec.ElinkID != 0:
			recorded = append(recorded, rec.ElinkID)
		case w.Exists && w.InScope && (reconcile.LiveEventState(rec.State) || meetings[id].GraphEventID != ""):
			unrecorded = append(unrecorded, id)
		}
	}
	if len(recorded) > 0 {
		links, err := run.env.DB.EventLinks(ctx, recorded)
		if err != nil {
			return nil, err
		}
		for _, l := range links {
			if rec, ok := run.records[l.EventID]; ok && rec.ElinkID == l.ID {
				out[l.EventID] = plannerLink(l)
			}
		}
	}
	if len(unrecorded) > 0 {
		links, err := run.env.DB.EventLinksOfEvents(ctx, unrecorded)
		if err != nil {
			return nil, err
		}
		for _, l := range links { // ordered by id: the first one published is kept
			if _, has := out[l.EventID]; !has && l.Title == reconcile.LinkTitle {
				out[l.EventID] = plannerLink(l)
			}
		}
	}
	return out, nil
}

// plannerLink is an Elentra event link as the planner weighs it, Published
// read from its listing on the event page.
func plannerLink(l elentra.EventLink) reconcile.Link {
	return reconcile.Link{ID: l.ID, URL: l.URL, Title: l.Title, ReleaseDate: l.ReleaseDate, ReleaseUntil: l.ReleaseUntil, Published: l.Published()}
}
