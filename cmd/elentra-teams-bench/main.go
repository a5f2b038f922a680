// Command elentra-teams-bench measures elentra-teams at the size of a school
// against the lower bound that Microsoft Graph's throttling limits and
// round-trip latency set.
//
// It builds the synthetic school (internal/school) in a real MySQL/MariaDB, runs
// msgraph-sim in its own process with Microsoft's limits, a latency and a
// time scale, and runs the real elentra-teams binary, one process per
// command, in three phases: the initial sync, a run that changes nothing,
// and one after 2 % churn. Per command it reports the Graph requests by
// route, the throttled answers, the wall time beside the limits' bound, the
// tool's peak RSS and its database queries; beside them, the peers' way
// (one request per member and per meeting, in sequence) on a simulator of
// its own. docs/benchmarks.md has the method and the figures.
//
//	go run ./cmd/elentra-teams-bench -scenario L
//
// Exit codes: 0 every asserted target met (request counts, failed writes) ·
// 1 one missed, or the run failed · 2 bad flags.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// defaultDSN is the server the bench uses without --dsn: the tests' server
// when set, else a local one.
func defaultDSN() string {
	if dsn := os.Getenv("ELENTRA_TEAMS_TEST_DSN"); dsn != "" {
		return dsn
	}
	return "root@tcp(127.0.0.1:3306)/"
}

func parseFlags(args []string, stderr io.Writer) (Options, bool, error) {
	o := Options{}
	var asJSON bool
	fs := flag.NewFlagSet("elentra-teams-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.Scenario, "scenario", "S", "S (200 courses, 3,000 learners, 300 events) or L (2,000, 30,000, 3,000)")
	fs.StringVar(&o.DSN, "dsn", defaultDSN(), "MySQL/MariaDB server, go-sql-driver form; the bench creates and drops its own databases (default $ELENTRA_TEAMS_TEST_DSN)")
	fs.DurationVar(&o.Latency, "latency", 100*time.Millisecond, "round trip of every Graph request, in Microsoft's time")
	fs.Float64Var(&o.TimeScale, "time-scale", 1, "run Microsoft's time this many times faster (limits, Retry-After and latency alike)")
	fs.IntVar(&o.Concurrency, "concurrency", 0, "sync.concurrency (0: the tool's default)")
	fs.BoolVar(&o.Baseline, "baseline", true, "also run the peers' way, one request per member and meeting in sequence")
	fs.Float64Var(&o.BaselineTimeScale, "baseline-time-scale", 100, "time scale of the baseline's simulator (the peers' way takes hours of Microsoft's time)")
	fs.StringVar(&o.ToolPath, "tool", "", "prebuilt elentra-teams binary (default: go build)")
	fs.StringVar(&o.SimPath, "sim", "", "prebuilt msgraph-sim binary (default: go build)")
	fs.BoolVar(&o.Keep, "keep", false, "leave the databases, the simulator and the configuration in place after the run, and say where (for profiling)")
	fs.BoolVar(&asJSON, "json", false, "print the result as JSON instead of Markdown tables")
	if err := fs.Parse(args); err != nil {
		return o, false, err
	}
	if fs.NArg() > 0 {
		return o, false, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if _, err := scenarioNamed(o.Scenario, time.Now()); err != nil {
		return o, false, err
	}
	if o.TimeScale <= 0 || o.BaselineTimeScale <= 0 {
		return o, false, errors.New("time scales must be positive")
	}
	if o.Latency < 0 || o.Concurrency < 0 {
		return o, false, errors.New("latency and concurrency must not be negative")
	}
	return o, asJSON, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, asJSON, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "elentra-teams-bench:", err)
		return 2
	}
	progress := func(format string, args ...any) {
		fmt.Fprintf(stderr, time.Now().Format("15:04:05 ")+format+"\n", args...)
	}
	res, err := Run(ctx, o, progress)
	if err != nil {
		fmt.Fprintln(stderr, "elentra-teams-bench:", err)
		return 1
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			fmt.Fprintln(stderr, "elentra-teams-bench:", err)
			return 1
		}
	} else {
		writeMarkdown(stdout, res)
	}
	for _, c := range res.Checks {
		if c.Asserted && !c.Pass {
			return 1
		}
	}
	return 0
}
