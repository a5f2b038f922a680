package main

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/elentra-teams/elentra-teams/pkg/msgraph/graphsim"
)

// summary is what the demo reports at the end, counted on the simulator's
// side of the wire (what Microsoft would hold and what it was asked).
type summary struct {
	coursesEnabled int
	teams          int
	owners         int
	members        int // members who are not owners
	meetings       int
	// requests are the HTTP requests to Graph ($batch envelopes counted
	// once); batched the requests they carried; throttled the 429 answers,
	// batch items included.
	requests  int
	batched   int
	throttled int
	// lastSyncWrites are the Graph writes of the last sync.
	lastSyncWrites int
	wall           time.Duration
}

func summarize(res *outcome, log []graphsim.LoggedRequest, wall time.Duration) summary {
	s := summary{coursesEnabled: len(res.enabledCourses), lastSyncWrites: res.lastSyncWrites, wall: wall}
	for _, t := range res.final.Teams {
		if t.Archived {
			continue
		}
		s.teams++
		for _, m := range t.Members {
			if slices.Contains(m.Roles, "owner") {
				s.owners++
			} else {
				s.members++
			}
		}
	}
	for _, e := range res.final.Events {
		if e.IsOnlineMeeting && !e.IsCancelled {
			s.meetings++
		}
	}
	for _, l := range log {
		if isIdentity(l) {
			continue
		}
		if l.InBatch {
			s.batched++
		} else {
			s.requests++
		}
		if l.Status == http.StatusTooManyRequests {
			s.throttled++
		}
	}
	return s
}

func printSummary(w io.Writer, s summary) {
	converged := "nothing to change, no Graph write"
	if s.lastSyncWrites > 0 {
		converged = fmt.Sprintf("NOT converged: %d Graph writes", s.lastSyncWrites)
	}
	fmt.Fprintf(w, `
Summary
  Teams            %d (one per enabled course: %d enabled)
  members          %d (%d owners, %d members)
  meetings         %d Teams meetings
  Graph requests   %d (+%d inside $batch), %d throttled
  last sync        %s
  wall time        %s
`, s.teams, s.coursesEnabled, s.owners+s.members, s.owners, s.members, s.meetings,
		s.requests, s.batched, s.throttled, converged, s.wall.Round(100*time.Millisecond))
}
