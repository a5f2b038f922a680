package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/elentra-teams/elentra-teams/internal/school"
	"github.com/elentra-teams/elentra-teams/pkg/engine"
	"github.com/elentra-teams/elentra-teams/pkg/msgraph/graphsim"
)

// Options say what to run and how.
type Options struct {
	// Scenario is "S" or "L".
	Scenario string
	// DSN names the MySQL/MariaDB server (go-sql-driver form; any database
	// part is ignored). The bench creates and drops its own databases.
	DSN string
	// Latency is the round trip of every Graph request, in Microsoft's time.
	Latency time.Duration
	// TimeScale runs Microsoft's time this many times faster in the
	// simulator (limits, Retry-After and latency alike).
	TimeScale float64
	// Concurrency is sync.concurrency; 0 keeps the tool's default.
	Concurrency int
	// Baseline runs the peers' way beside the tool, on a simulator of its
	// own at BaselineTimeScale.
	Baseline          bool
	BaselineTimeScale float64
	// ToolPath and SimPath are prebuilt binaries; empty: built with go build.
	ToolPath, SimPath string
	// Keep leaves the world standing after the run, to profile the tool
	// against it.
	Keep bool
	// Now is when the school is generated for; the tool's own clock must
	// agree, so it is the real time.
	Now time.Time
}

// simArgs are the simulator's flags for a benchmark at scale: Microsoft's
// limits, the latency, and pages as large as Graph sends a Team's members
// in (one page; graph-wire.md §3).
func (o Options) simArgs(scale float64) []string {
	return []string{"--limits", "--latency", o.Latency.String(), "--time-scale", strconv.FormatFloat(scale, 'f', -1, 64), "--page-size", "1000"}
}

// Scenario is a school size.
type Scenario struct {
	Name string
	Spec school.Spec
}

// scenarioNamed returns scenario L (school.Large) or S (a tenth of L's
// courses, learners and events, the same per-course shape), generated for
// now.
func scenarioNamed(name string, now time.Time) (Scenario, error) {
	spec := school.Large()
	spec.Now = now
	switch strings.ToUpper(name) {
	case "L":
	case "S":
		spec.Courses /= 10
		spec.Learners /= 10
		spec.Events /= 10
	default:
		return Scenario{}, fmt.Errorf("unknown scenario %q (want S or L)", name)
	}
	return Scenario{Name: strings.ToUpper(name), Spec: spec}, nil
}

// commands are the sync commands a phase runs, in the order sync runs them.
var commands = []string{"sync-users", "sync-teams", "sync-members", "sync-events"}

// Phase names.
const (
	phaseInitial  = "initial"
	phaseNoChange = "no-change"
	phaseChurn    = "churn"
)

// CommandResult is one run of one command.
type CommandResult struct {
	Command  string `json:"command"`
	ExitCode int    `json:"exit_code"`
	// WallSeconds is the process's wall time, real seconds at the run's
	// time scale.
	WallSeconds float64 `json:"wall_seconds"`
	// Bound is the limits' lower bound for the work done, in Microsoft's
	// time; BoundSeconds is the same at the run's time scale.
	Bound        Bound   `json:"bound"`
	BoundSeconds float64 `json:"bound_seconds"`
	// Requests is the HTTP requests to Graph the simulator answered (a
	// $batch once, retries included); Throttled its 429 answers, $batch
	// items included. ReportedRequests, Retries and ByRoute are the tool's
	// own report: it leaves out what the command asks before the sync
	// starts (the look-up of sync.fallback_owner).
	Requests         int            `json:"requests"`
	Throttled        int            `json:"throttled"`
	ReportedRequests int            `json:"reported_requests"`
	Retries          int            `json:"retries"`
	ByRoute          map[string]int `json:"reported_by_route"`
	// Routes counts the Graph calls by route from the simulator's log:
	// requests of their own and items of $batch requests, throttled
	// answers included.
	Routes            []routeCount   `json:"routes"`
	Failures          int            `json:"failures"`
	ThrottledFailures int            `json:"throttled_failures"`
	Applied           map[string]int `json:"applied"`
	PeakRSSKiB        int64          `json:"peak_rss_kib"`
	DBQueries         int64          `json:"db_queries"`

	entries []logEntry
}

// Ratio is wall time over the bound at the same scale (0 without a bound).
func (c *CommandResult) Ratio() float64 {
	if c.BoundSeconds <= 0 {
		return 0
	}
	return c.WallSeconds / c.BoundSeconds
}

// PhaseResult is the four commands of one phase.
type PhaseResult struct {
	Name string `json:"name"`
	// Change says what the phase changed in Elentra before it ran.
	Change   string           `json:"change,omitempty"`
	Commands []*CommandResult `json:"commands"`
}

// Totals sums the phase's commands.
func (p *PhaseResult) Totals() (requests, throttled int, wall, bound float64) {
	for _, c := range p.Commands {
		requests += c.Requests
		throttled += c.Throttled
		wall += c.WallSeconds
		bound += c.BoundSeconds
	}
	return
}

func (p *PhaseResult) command(name string) *CommandResult {
	for _, c := range p.Commands {
		if c.Command == name {
			return c
		}
	}
	return nil
}

// Result is a whole benchmark.
type Result struct {
	Scenario          string    `json:"scenario"`
	Courses           int       `json:"courses"`
	Learners          int       `json:"learners"`
	Events            int       `json:"events_in_horizon"`
	Date              time.Time `json:"date"`
	Commit            string    `json:"commit"`
	Machine           string    `json:"machine"`
	Mode              string    `json:"auth_mode"`
	LatencyMS         float64   `json:"latency_ms"`
	TimeScale         float64   `json:"time_scale"`
	BaselineTimeScale float64   `json:"baseline_time_scale,omitempty"`
	Concurrency       int       `json:"concurrency"`
	// Teams is the number of Teams the initial sync made; Meetings the
	// number of meetings it made.
	Teams    int             `json:"teams"`
	Meetings int             `json:"meetings"`
	Phases   []*PhaseResult  `json:"phases"`
	Baseline []*BaselineStep `json:"baseline,omitempty"`
	Checks   []Check         `json:"checks"`
}

func (r *Result) phase(name string) *PhaseResult {
	for _, p := range r.Phases {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Run runs the benchmark o describes; progress gets a line per step.
func Run(ctx context.Context, o Options, progress func(format string, args ...any)) (*Result, error) {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	o.Now = o.Now.UTC().Truncate(time.Minute)
	if o.TimeScale <= 0 {
		o.TimeScale = 1
	}
	sc, err := scenarioNamed(o.Scenario, o.Now)
	if err != nil {
		return nil, err
	}
	w, err := startWorld(ctx, o, sc, progress)
	if err != nil {
		return nil, err
	}
	if o.Keep {
		defer progress("kept: elentra-teams --config %s (simulator at %s, pid %d; databases %s and %s_auth)", w.config, w.sim.url, w.sim.cmd.Process.Pid, w.dbName, w.dbName)
	} else {
		defer w.close()
	}

	res := &Result{
		Scenario: sc.Name, Courses: sc.Spec.Courses, Learners: sc.Spec.Learners, Events: sc.Spec.Events,
		Date: o.Now, Commit: commit(ctx), Machine: machine(), Mode: "application",
		LatencyMS: float64(o.Latency) / float64(time.Millisecond), TimeScale: o.TimeScale, Concurrency: o.Concurrency,
	}
	if res.Concurrency == 0 {
		res.Concurrency = 4 // the tool's default (sync.concurrency)
	}
	seen, err := w.sim.requests(ctx, 0)
	if err != nil {
		return nil, err
	}
	pos := len(seen) // setup's and authorize's requests are not a phase's
	limits := graphsim.DefaultLimits()
	for _, name := range []string{phaseInitial, phaseNoChange, phaseChurn} {
		ph := &PhaseResult{Name: name}
		if name == phaseChurn {
			if ph.Change, err = applyChurn(ctx, w.db, w.school, time.Now()); err != nil {
				return nil, err
			}
			progress("churn: %s", ph.Change)
		}
		for _, cmdName := range commands {
			c, err := w.runCommand(ctx, cmdName)
			if err != nil {
				return nil, fmt.Errorf("%s phase: %w", name, err)
			}
			entries, err := w.sim.requests(ctx, pos)
			if err != nil {
				return nil, err
			}
			pos += len(entries)
			c.entries = entries
			c.Routes = routeCounts(entries)
			work := measure(entries, limits)
			c.Bound = lowerBound(work, limits, o.Latency)
			c.BoundSeconds = c.Bound.Seconds / o.TimeScale
			c.Requests, c.Throttled = httpRequests(entries), throttledAnswers(entries)
			progress("%s %-12s %6d requests %5d throttled %8.1f s (bound %.1f s: %s) %4d MB %3d queries",
				name, cmdName, c.Requests, c.Throttled, c.WallSeconds, c.BoundSeconds, c.Bound.By, c.PeakRSSKiB/1024, c.DBQueries)
			ph.Commands = append(ph.Commands, c)
		}
		res.Phases = append(res.Phases, ph)
	}
	initial := res.phase(phaseInitial)
	res.Teams = countServed(initial.command("sync-teams").entries, "PUT /groups/{id}/team")
	res.Meetings = countServed(initial.command("sync-events").entries, "POST /users/{userId}/events")

	if o.Baseline {
		res.BaselineTimeScale = o.BaselineTimeScale
		if res.Baseline, err = runBaseline(ctx, o, w, res, progress); err != nil {
			return nil, fmt.Errorf("baseline: %w", err)
		}
	}
	res.Checks = evaluate(res)
	return res, nil
}

// runCommand runs one command of the tool as its own process, through the
// spawner, and reads its JSON report, wall time and peak resident memory.
func (w *world) runCommand(ctx context.Context, name string) (*CommandResult, error) {
	rssRead, rssWrite, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer func() { _ = rssRead.Close() }()
	cmd := exec.CommandContext(ctx, w.spawner, w.tool, "--config", w.config, "--output", "json", name)
	cmd.Env = toolEnv()
	cmd.ExtraFiles = []*os.File{rssWrite}
	// Cancelled, the spawner passes SIGINT on to the tool and waits for it;
	// killing the spawner would leave the tool running.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = time.Minute
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	runErr := cmd.Run()
	wall := time.Since(start)
	_ = rssWrite.Close()
	if cmd.ProcessState == nil {
		return nil, fmt.Errorf("%s: %w", name, runErr)
	}
	c := &CommandResult{Command: name, ExitCode: cmd.ProcessState.ExitCode(), WallSeconds: wall.Seconds()}
	if line, err := io.ReadAll(rssRead); err == nil {
		_, _ = fmt.Sscanf(string(line), "maxrss %d", &c.PeakRSSKiB)
	}
	// 0: done; 3: some writes failed and are in the report. Anything else
	// means the run itself did not happen as measured.
	if c.ExitCode != 0 && c.ExitCode != 3 {
		return nil, fmt.Errorf("elentra-teams %s exited %d: %s", name, c.ExitCode, strings.TrimSpace(stderr.String()))
	}
	var rep engine.Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		return nil, fmt.Errorf("elentra-teams %s: read its JSON report: %w", name, err)
	}
	c.ReportedRequests, c.Retries, c.ByRoute = rep.Graph.Requests, rep.Graph.Retries, rep.Graph.ByRoute
	c.DBQueries = rep.DBQueries
	c.Applied = map[string]int{}
	for k, n := range rep.Counts {
		if n.Applied > 0 {
			c.Applied[string(k)] = n.Applied
		}
	}
	for _, f := range rep.AllFailures() {
		c.Failures++
		if f.Status == http.StatusTooManyRequests {
			c.ThrottledFailures++
		}
	}
	return c, nil
}

// httpRequests counts the HTTP requests to Graph among entries, as a client
// counts them.
func httpRequests(entries []logEntry) int {
	n := 0
	for _, e := range entries {
		if e.isHTTP() {
			n++
		}
	}
	return n
}

// throttledAnswers counts the 429 answers among entries, $batch items
// included.
func throttledAnswers(entries []logEntry) int {
	n := 0
	for _, e := range entries {
		if e.isGraph() && e.Status == http.StatusTooManyRequests {
			n++
		}
	}
	return n
}

// countServed counts the calls of a route answered with success.
func countServed(entries []logEntry, route string) int {
	n := 0
	for _, e := range entries {
		if e.Route == route && e.Status >= 200 && e.Status < 300 {
			n++
		}
	}
	return n
}

// commit names the checked-out commit, marked when the tree has changes.
func commit(ctx context.Context) string {
	out, err := exec.CommandContext(ctx, "git", "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.CommandContext(ctx, "git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
		c += " (with uncommitted changes)"
	}
	return c
}
