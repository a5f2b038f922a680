package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// routeCount is how one route was called by one command: requests of its
// own and items inside $batch requests, throttled answers included.
type routeCount struct {
	Route   string `json:"route"`
	Alone   int    `json:"alone"`
	InBatch int    `json:"in_batch"`
}

// routeCounts tallies a command's log entries by route, the $batch
// envelopes as "POST /$batch".
func routeCounts(entries []logEntry) []routeCount {
	by := map[string]*routeCount{}
	for _, e := range entries {
		if !strings.HasPrefix(e.Path, "/v1.0/") {
			continue // identity
		}
		rc := by[e.Route]
		if rc == nil {
			rc = &routeCount{Route: e.Route}
			by[e.Route] = rc
		}
		if e.InBatch {
			rc.InBatch++
		} else {
			rc.Alone++
		}
	}
	out := make([]routeCount, 0, len(by))
	for _, k := range slices.Sorted(maps.Keys(by)) {
		out = append(out, *by[k])
	}
	return out
}

// writeMarkdown prints the result as Markdown tables, ready for
// docs/benchmarks.md.
func writeMarkdown(w io.Writer, r *Result) {
	fmt.Fprintf(w, "## Scenario %s: %d courses, %d learners, %d events in the horizon\n\n", r.Scenario, r.Courses, r.Learners, r.Events)
	fmt.Fprintf(w, "%s · commit %s · %s · %s mode · latency %g ms · time scale %g · sync.concurrency %d · %d Teams, %d meetings\n\n",
		r.Date.Format("2006-01-02 15:04 MST"), r.Commit, r.Machine, r.Mode, r.LatencyMS, r.TimeScale, r.Concurrency, r.Teams, r.Meetings)

	baseline := map[string]*BaselineStep{}
	for _, b := range r.Baseline {
		baseline[b.Phase+" "+b.Command] = b
	}
	fmt.Fprintln(w, "| phase | command | requests | throttled | wall s | bound s | wall/bound | bound set by | peak RSS MiB | DB queries | baseline requests | baseline throttled | baseline s (Graph's pace) |")
	fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|--:|---|--:|--:|--:|--:|--:|")
	for _, p := range r.Phases {
		var bReq, bThr int
		var bSec float64
		for _, c := range p.Commands {
			b := baseline[p.Name+" "+c.Command]
			bcols := "– | – | –"
			if b != nil {
				bcols = fmt.Sprintf("%d | %d | %.0f", b.Requests, b.Throttled, b.GraphSeconds)
				bReq, bThr, bSec = bReq+b.Requests, bThr+b.Throttled, bSec+b.GraphSeconds
			}
			fmt.Fprintf(w, "| %s | %s | %d | %d | %.1f | %.1f | %s | %s | %.0f | %d | %s |\n",
				p.Name, c.Command, c.Requests, c.Throttled, c.WallSeconds, c.BoundSeconds, ratio(c.WallSeconds, c.BoundSeconds),
				c.Bound.By, float64(c.PeakRSSKiB)/1024, c.DBQueries, bcols)
		}
		req, thr, wall, bound := p.Totals()
		bcols := "– | – | –"
		if bReq > 0 {
			bcols = fmt.Sprintf("**%d** | %d | **%.0f**", bReq, bThr, bSec)
		}
		fmt.Fprintf(w, "| **%s** | **all four** | **%d** | %d | **%.1f** | **%.1f** | **%s** | | | | %s |\n",
			p.Name, req, thr, wall, bound, ratio(wall, bound), bcols)
	}
	if p := r.phase(phaseChurn); p != nil && p.Change != "" {
		fmt.Fprintf(w, "\nChurn: %s.\n", p.Change)
	}

	fmt.Fprintln(w, "\nRequests by route (from the simulator's log; throttled answers included):")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| phase | command | route | sent alone | inside $batch |")
	fmt.Fprintln(w, "|---|---|---|--:|--:|")
	for _, p := range r.Phases {
		for _, c := range p.Commands {
			for _, rc := range c.Routes {
				fmt.Fprintf(w, "| %s | %s | `%s` | %d | %d |\n", p.Name, c.Command, rc.Route, rc.Alone, rc.InBatch)
			}
		}
	}

	fmt.Fprintln(w, "\nTargets:")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| target | got | limit | met | asserted in CI | detail |")
	fmt.Fprintln(w, "|---|--:|--:|---|---|---|")
	for _, c := range r.Checks {
		op := "≤"
		if c.AtLeast {
			op = "≥"
		}
		met := "yes"
		if !c.Pass {
			met = "**no**"
		}
		asserted := "reported"
		if c.Asserted {
			asserted = "asserted"
		}
		fmt.Fprintf(w, "| %s | %s | %s %s | %s | %s | %s |\n", c.Target, number(c.Got), op, number(c.Limit), met, asserted, c.Detail)
	}
}

func ratio(a, b float64) string {
	if b <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", a/b)
}

// number prints a count as an integer and anything else with two decimals.
func number(f float64) string {
	if f == float64(int64(f)) {
		return fmt.Sprintf("%d", int64(f))
	}
	return fmt.Sprintf("%.2f", f)
}
