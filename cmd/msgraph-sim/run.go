package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/elentra-teams/elentra-teams/pkg/msgraph/graphsim"
)

// listFlag collects comma-separated values from a repeatable flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*l = append(*l, part)
		}
	}
	return nil
}

type settings struct {
	listen   string
	seedPath string
	opts     graphsim.Options
}

func parseFlags(args []string, stderr io.Writer) (settings, error) {
	var s settings
	var bulkFail, noMailbox listFlag
	f := &s.opts.Faults
	fs := flag.NewFlagSet("msgraph-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&s.listen, "listen", "127.0.0.1:8900", "address to listen on (port 0 picks a free port)")
	fs.StringVar(&s.seedPath, "seed", "", "seed JSON file: tenant, clients, users, signed-in user (required)")
	fs.IntVar(&s.opts.PageSize, "page-size", 100, "page size of lists before @odata.nextLink")
	fs.IntVar(&s.opts.OperationPolls, "operation-polls", 0, "async operations succeed on this GET (0: 2nd GET or after 1 s)")
	fs.DurationVar(&s.opts.AccessTokenLifetime, "token-lifetime", time.Hour, "access token lifetime")
	fs.BoolVar(&s.opts.AnyScope, "any-scope", false, "accept any delegated scopes (skip permission checks)")
	fs.IntVar(&f.Throttle429Every, "fault-429-every", 0, "answer every Nth Graph request with 429")
	fs.IntVar(&f.Throttle429Storm, "fault-429-storm", 0, "answer the first N Graph requests with 429")
	fs.StringVar(&f.RetryAfterForm, "retry-after-form", graphsim.RetryAfterInt, "Retry-After form of 429s: int, float or date")
	fs.Float64Var(&f.RetryAfterSeconds, "retry-after-seconds", 0, "Retry-After delay in seconds (default 2, or 2.128 in float form)")
	fs.IntVar(&f.Unavailable503Every, "fault-503-every", 0, "answer every Nth Graph request with 503 (no Retry-After)")
	fs.IntVar(&f.BadGatewayTeamCreates, "fault-502-team-creates", 0, "answer the first N team creations with 502")
	fs.IntVar(&f.NotFoundAfterCreate, "fault-404-after-create", 0, "answer the first N calls on a new group or team with 404 (replication)")
	fs.BoolVar(&f.TeamifyDespite404, "fault-teamify-despite-404", false, "a PUT team answered 404 by replication still creates the team")
	fs.BoolVar(&f.FailOperations, "fault-fail-operations", false, "async team operations end failed")
	fs.Var(&bulkFail, "fault-bulk-add-fail", "user ids that members/add reports as failed (207); repeatable, comma-separated")
	fs.IntVar(&f.JoinURLAfterGets, "fault-join-url-after-gets", 0, "meetings get their joinUrl only on the Nth read")
	fs.BoolVar(&f.AuthorizeDenied, "fault-authorize-denied", false, "authorize redirects with error=access_denied")
	fs.Var(&noMailbox, "fault-no-mailbox", "user ids treated as having no mailbox; repeatable, comma-separated")
	fs.BoolVar(&f.NoTeamsForBusiness, "fault-no-teams-for-business", false, "calendars cannot host Teams meetings")
	fs.StringVar(&f.NicknamePolicy.Prefix, "nickname-prefix", "", "group naming policy prefix")
	fs.StringVar(&f.NicknamePolicy.Suffix, "nickname-suffix", "", "group naming policy suffix")
	fs.BoolVar(&s.opts.Limits.Enabled, "limits", false, "enforce Microsoft's throttling limits (Teams rates, per-team rate, Outlook mailbox concurrency, directory writes)")
	fs.DurationVar(&s.opts.Latency, "latency", 0, "delay every Graph request by this much (real time, divided by --time-scale)")
	fs.Float64Var(&s.opts.TimeScale, "time-scale", 1, "run Microsoft's time this many times faster: limits refill and Retry-After and latency shrink alike")
	if err := fs.Parse(args); err != nil {
		return s, err
	}
	if fs.NArg() > 0 {
		return s, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if s.seedPath == "" {
		return s, errors.New("--seed is required")
	}
	switch f.RetryAfterForm {
	case graphsim.RetryAfterInt, graphsim.RetryAfterFloat, graphsim.RetryAfterDate:
	default:
		return s, fmt.Errorf("--retry-after-form must be int, float or date, not %q", f.RetryAfterForm)
	}
	if s.opts.PageSize < 1 {
		return s, fmt.Errorf("--page-size must be at least 1")
	}
	if s.opts.TimeScale <= 0 || math.IsInf(s.opts.TimeScale, 0) || math.IsNaN(s.opts.TimeScale) {
		return s, fmt.Errorf("--time-scale must be a positive number, not %v", s.opts.TimeScale)
	}
	if s.opts.Latency < 0 {
		return s, fmt.Errorf("--latency must not be negative")
	}
	f.BulkAddFailUserIDs = bulkFail
	f.NoMailboxUserIDs = noMailbox
	return s, nil
}

// run serves until ctx is cancelled and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	s, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "msgraph-sim:", err)
		return 2
	}
	seed, err := graphsim.LoadSeed(s.seedPath)
	if err != nil {
		fmt.Fprintln(stderr, "msgraph-sim:", err)
		return 2
	}
	ln, err := net.Listen("tcp", s.listen)
	if err != nil {
		fmt.Fprintln(stderr, "msgraph-sim:", err)
		return 1
	}
	srv := &http.Server{Handler: graphsim.New(seed, s.opts), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "http://%s\n", ln.Addr())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		fmt.Fprintln(stderr, "msgraph-sim:", err)
		return 1
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		fmt.Fprintln(stderr, "msgraph-sim: shutdown:", err)
		return 1
	}
	return 0
}
