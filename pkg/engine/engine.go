// Package engine runs the syncs: it reads the desired state from Elentra
// and the actual state from Microsoft Graph and the tool's tables, asks
// pkg/reconcile for a plan, and applies it with bounded concurrency,
// recording each action as it lands. It knows nothing of cobra or viper.
package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/elentra-teams/elentra-teams/internal/text"
	"github.com/elentra-teams/elentra-teams/pkg/auth"
	"github.com/elentra-teams/elentra-teams/pkg/config"
	"github.com/elentra-teams/elentra-teams/pkg/elentra"
	"github.com/elentra-teams/elentra-teams/pkg/msgraph"
	"github.com/elentra-teams/elentra-teams/pkg/reconcile"
	"github.com/elentra-teams/elentra-teams/pkg/store"
)

// Env is everything a sync needs, built by the command layer.
type Env struct {
	DB     *elentra.DB
	Store  *store.Store
	Graph  *msgraph.Client
	Config *config.Config
	Now    func() time.Time
	Logger *slog.Logger

	DryRun bool
	// Force turns the guards off (--force with --course or --event: the
	// command layer allows it no wider).
	Force bool
	// Confirm, when set (--force at a terminal without --course or
	// --event), is shown what the guards of a step held back and says
	// whether to apply it all. Without it, held writes stay undone and
	// their findings say so.
	Confirm func(step string, held []reconcile.Held) bool
	// CourseIDs and EventIDs restrict a run (--course, --event).
	CourseIDs []int
	EventIDs  []int
	// AllUsers: sync-users matches every active user, not only those of
	// enabled courses.
	AllUsers bool
	// AllowLongEvents: sync-events makes meetings for events longer than 24
	// hours (--allow-long-events) instead of reporting them.
	AllowLongEvents bool

	// Installation is this installation's id (store.CheckInstallation):
	// in every group nickname, meeting marker and transactionId it makes.
	// Run sets it.
	Installation string

	// AdminObjectID is the authorizing account (owner of what it creates,
	// never removed).
	AdminObjectID string
	// OutlookTimezone is the zone meetings are created in (IANA).
	OutlookTimezone string
	// Mailbox is where meetings live: "me" in delegated mode, the
	// organiser's object id in application mode (never put in a Team).
	Mailbox string
	// FallbackOwnerID (application mode, sync.fallback_owner resolved to an
	// object id) owns the Teams of courses without an Elentra owner.
	FallbackOwnerID string

	// LockCheckInterval is how often the run lock's connection is checked.
	LockCheckInterval time.Duration
	// ReplicationDelay is the wait between looks for an object Microsoft
	// has made but not yet lists (default 10 s, Microsoft's advice);
	// Sleep waits (default msgraph.Sleep, cut short by ctx): tests inject
	// both.
	ReplicationDelay time.Duration
	Sleep            func(ctx context.Context, d time.Duration) error

	// Progress, when set, is told how far a step's apply is (the command
	// layer draws a progress bar with it when stderr is a terminal).
	Progress func(step string, done, total int)

	// ExitCode is the command layer's map from a run's error to the
	// process's exit code (required): Run records what it returns in
	// msteams_runs, so that the record says what the process exited with.
	ExitCode func(error) int
}

// Failure is one attempted write that did not land.
type Failure struct {
	Kind     reconcile.Kind `json:"kind"`
	CourseID int            `json:"course_id,omitempty"`
	EventID  int            `json:"event_id,omitempty"`
	ProxyID  int            `json:"proxy_id,omitempty"`
	UserID   string         `json:"user_id,omitempty"`
	Status   int            `json:"status,omitempty"`
	Code     string         `json:"code,omitempty"`
	Message  string         `json:"message"`

	err error // what failed, for the step to stop on a sign-in or token endpoint failure
}

// Bounds of a report, so that a failure repeated for thousands of actions
// keeps the printed report and msteams_runs.report small: each report (the
// run's, and each step's) lists its first MaxFailuresListed failures and
// counts the others in failures_omitted (the counts hold them all); a
// failure's message is cut at MaxFailureMessage characters.
const (
	MaxFailuresListed = 100
	MaxFailureMessage = 500
)

// Count is what happened to the actions of one kind.
type Count struct {
	Planned  int `json:"planned"`
	Applied  int `json:"applied"`
	Failed   int `json:"failed"`
	Deferred int `json:"deferred,omitempty"`
}

// GraphUsage is what a run cost in Microsoft Graph.
type GraphUsage struct {
	Requests  int            `json:"requests"`
	Throttled int            `json:"throttled"`
	Retries   int            `json:"retries"`
	ByRoute   map[string]int `json:"by_route,omitempty"`
}

// Report is the result of one command: printed as text or JSON, and kept
// in msteams_runs.
type Report struct {
	Command  string    `json:"command"`
	RunID    int64     `json:"run_id,omitempty"`
	DryRun   bool      `json:"dry_run"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Duration float64   `json:"duration_seconds"`
	Disabled string    `json:"disabled,omitempty"`
	// Ran says the steps began: a run refused before (the lock held, a
	// copied database) has nothing to report but its error.
	Ran       bool                     `json:"-"`
	Counts    map[reconcile.Kind]Count `json:"counts"`
	Failures  []Failure                `json:"failures"`
	Findings  []reconcile.Finding      `json:"findings"`
	Plan      []reconcile.Action       `json:"plan,omitempty"`
	Graph     GraphUsage               `json:"graph"`
	DBQueries int64                    `json:"db_queries"`
	Stopped   string                   `json:"stopped,omitempty"`
	Error     string                   `json:"error,omitempty"`
	Steps     []*Report                `json:"steps,omitempty"`
	// FailuresOmitted counts the failures beyond MaxFailuresListed, which
	// Failures does not list (Counts holds them all).
	FailuresOmitted int `json:"failures_omitted,omitempty"`
	// DisabledChanged: this run found the integration switched off (or off
	// another way) and the previous recorded run of its command did not,
	// or there is none. --quiet prints Disabled only then, so that cron
	// mails it once per change and not at every run.
	DisabledChanged bool `json:"-"`

	mu   sync.Mutex
	halt *halt // the step's, set by Run
}

func newReport(command string, dryRun bool, now time.Time) *Report {
	return &Report{Command: command, DryRun: dryRun, Started: now, Counts: map[reconcile.Kind]Count{}, Failures: []Failure{}, Findings: []reconcile.Finding{}}
}

func (r *Report) planned(p reconcile.Plan) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, n := range p.Counts() {
		c := r.Counts[k]
		c.Planned += n
		r.Counts[k] = c
	}
	r.Findings = append(r.Findings, p.Findings...)
	if r.DryRun {
		r.Plan = append(r.Plan, p.Actions...)
	}
}

func (r *Report) deferred(as []reconcile.Action) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, n := range (&reconcile.Plan{Actions: as}).Counts() {
		c := r.Counts[k]
		c.Deferred += n
		r.Counts[k] = c
	}
}

func (r *Report) applied(k reconcile.Kind, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.Counts[k]
	c.Applied += n
	r.Counts[k] = c
}

// fail counts a failure, and lists it while the report holds fewer than
// MaxFailuresListed. A failure to get a token (the sign-in refused, the
// token endpoint failing or silent) stops the step: every later action
// would meet it too.
func (r *Report) fail(f Failure) {
	r.mu.Lock()
	c := r.Counts[f.Kind]
	c.Failed++
	r.Counts[f.Kind] = c
	if len(r.Failures) < MaxFailuresListed {
		f.Message = cutMessage(f.Message, MaxFailureMessage)
		r.Failures = append(r.Failures, f)
	} else {
		r.FailuresOmitted++
	}
	h := r.halt
	r.mu.Unlock()
	if h != nil && isTokenFailure(f.err) {
		h.stop(f.err)
	}
}

func (r *Report) note(f reconcile.Finding) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Findings = append(r.Findings, f)
}

// failure builds a Failure from an error, keeping Graph's status and code.
func failure(kind reconcile.Kind, courseID, eventID int, userID string, err error) Failure {
	f := Failure{Kind: kind, CourseID: courseID, EventID: eventID, UserID: userID, Message: err.Error(), err: err}
	if ge, ok := msgraph.AsError(err); ok {
		f.Status, f.Code = ge.Status, ge.Code
	}
	if errors.Is(err, msgraph.ErrOutcomeUnknown) && f.Code == "" {
		f.Code = "OutcomeUnknown"
	}
	return f
}

// Totals sums the counts of a report and its steps.
func (r *Report) Totals() (applied, failed int) {
	for _, c := range r.Counts {
		applied += c.Applied
		failed += c.Failed
	}
	for _, s := range r.Steps {
		a, f := s.Totals()
		applied += a
		failed += f
	}
	return applied, failed
}

// AllFindings returns the findings of a report and its steps.
func (r *Report) AllFindings() []reconcile.Finding {
	out := append([]reconcile.Finding(nil), r.Findings...)
	for _, s := range r.Steps {
		out = append(out, s.AllFindings()...)
	}
	return out
}

// AllFailures returns the failures listed in a report and its steps (see
// FailuresLeftOut for those only counted).
func (r *Report) AllFailures() []Failure {
	out := append([]Failure(nil), r.Failures...)
	for _, s := range r.Steps {
		out = append(out, s.AllFailures()...)
	}
	return out
}

// FailuresLeftOut is how many failures of a report and its steps are
// counted but not listed (beyond MaxFailuresListed per report).
func (r *Report) FailuresLeftOut() int {
	n := r.FailuresOmitted
	for _, s := range r.Steps {
		n += s.FailuresLeftOut()
	}
	return n
}

// PartialError means some attempted writes failed and the others applied.
type PartialError struct{ Failed, Applied int }

func (e *PartialError) Error() string {
	return fmt.Sprintf("%d of %d attempted changes failed (see the report); the next run retries them", e.Failed, e.Failed+e.Applied)
}

// FailedError means every attempted write failed.
type FailedError struct{ Failed int }

func (e *FailedError) Error() string {
	return fmt.Sprintf("all %d attempted changes failed (see the report); the next run retries them", e.Failed)
}

// outcome turns a finished report into the command's error.
func (r *Report) outcome() error {
	applied, failed := r.Totals()
	switch {
	case failed == 0:
		return nil
	case applied == 0:
		return &FailedError{Failed: failed}
	default:
		return &PartialError{Failed: failed, Applied: applied}
	}
}

// Step is one sync command's work inside a run.
type Step struct {
	Name string
	Run  func(ctx context.Context, env *Env, r *Report) error
}

// Steps of the sync commands.
var (
	UsersStep   = Step{Name: "sync-users", Run: syncUsers}
	TeamsStep   = Step{Name: "sync-teams", Run: syncTeams}
	MembersStep = Step{Name: "sync-members", Run: syncMembers}
)

// ErrLockLost is returned when the run lock's connection died mid-run.
var ErrLockLost = errors.New("run lock lost")

// Run executes steps under the run lock with a run record: it honours
// microsoft_teams_enabled, refuses to start when another run holds the lock
// (store.ErrLocked), stops applying when the lock is lost, and records the
// run. With one step the report is that step's; with several each step gets
// its own report under Steps.
func Run(ctx context.Context, env *Env, command string, steps ...Step) (*Report, error) {
	rep := newReport(command, env.DryRun, env.Now())
	if env.ExitCode == nil {
		return rep, errors.New("engine: Env.ExitCode is not set: the run could not be recorded")
	}
	stats0 := env.Graph.Stats()
	q0 := env.DB.QueryCount()
	// measure fills in what the run cost; called before the run record is
	// written (so it holds the figures) and again when Run returns.
	measure := func() {
		rep.Finished = env.Now()
		rep.Duration = rep.Finished.Sub(rep.Started).Seconds()
		rep.Graph = graphUsage(stats0, env.Graph.Stats())
		rep.DBQueries = env.DB.QueryCount() - q0
	}
	defer measure()

	enabled, found, err := env.DB.Setting(ctx, elentra.SettingTeamsEnabled, env.Config.Elentra.OrganisationID)
	if err != nil {
		return rep, err
	}
	if !found || strings.TrimSpace(enabled) != "1" {
		v := "absent"
		if found {
			v = fmt.Sprintf("%q", enabled)
		}
		rep.Disabled = fmt.Sprintf("the Teams integration is switched off in Elentra (setting microsoft_teams_enabled is %s); nothing was done — run 'elentra-teams setup --enable' to switch it on", v)
		return rep, recordDisabled(ctx, env, command, rep, measure)
	}

	// A database copied from another installation (or holding its
	// records) must not act on that installation's Teams and meetings:
	// nothing is read from or written to Microsoft until setup says which
	// it is.
	inst, err := env.Store.CheckInstallation(ctx)
	if err != nil {
		return rep, err
	}
	env.Installation = inst.ID

	runCtx := ctx
	if !env.DryRun {
		interval := env.LockCheckInterval
		if interval == 0 {
			interval = 5 * time.Second
		}
		lock, err := store.AcquireRunLock(ctx, env.DB, "sync", interval)
		if err != nil {
			return rep, err
		}
		defer lock.Release()
		var cancel context.CancelCauseFunc
		runCtx, cancel = context.WithCancelCause(ctx)
		defer cancel(nil)
		go func() {
			select {
			case <-lock.Lost():
				cancel(fmt.Errorf("%w: %v", ErrLockLost, lock.Err()))
			case <-runCtx.Done():
			}
		}()
		id, err := env.Store.StartRun(ctx, command, env.Now())
		if err != nil {
			return rep, err
		}
		rep.RunID = id
	}

	var runErr error
	rep.Ran = true
	if len(steps) == 1 {
		runErr = runStep(runCtx, env, steps[0], rep)
	} else {
		for _, st := range steps {
			sub := newReport(st.Name, env.DryRun, env.Now())
			rep.Steps = append(rep.Steps, sub)
			err := runStep(runCtx, env, st, sub)
			sub.Finished = env.Now()
			sub.Duration = sub.Finished.Sub(sub.Started).Seconds()
			if err != nil {
				sub.Error = cutMessage(err.Error(), MaxFailureMessage)
				runErr = fmt.Errorf("%s: %w", st.Name, err)
				if stopsRun(runCtx, err) {
					break
				}
				// a step that failed as a whole does not keep the next
				// ones (members after a failed Teams step still converge)
			}
		}
	}
	if cause := context.Cause(runCtx); cause != nil && errors.Is(cause, ErrLockLost) {
		runErr = cause
		rep.Stopped = cause.Error()
	} else if ctx.Err() != nil {
		rep.Stopped = "interrupted"
	}
	if runErr == nil {
		runErr = rep.outcome()
	}
	if runErr != nil {
		rep.Error = cutMessage(runErr.Error(), MaxFailureMessage)
	}
	if rep.RunID != 0 {
		measure()
		code := env.ExitCode(runErr)
		summary, _ := json.Marshal(rep.summary())
		full, _ := json.Marshal(rep)
		// the run record is written even when ctx was cancelled
		if err := env.Store.FinishRun(context.WithoutCancel(ctx), rep.RunID, rep.Finished, code, string(summary), string(full), rep.Error); err != nil && env.Logger != nil {
			env.Logger.Warn("could not record the end of the run", "error", err)
		}
	}
	return rep, runErr
}

// recordDisabled records a run that found the integration switched off, as
// any other run (it did nothing and exits 0; a dry run is not recorded),
// after comparing it with the previous recorded run of the same command:
// the report's DisabledChanged is set when that run was not switched off
// in the same way, or there is none. Nothing else is touched: no lock is
// taken, Microsoft is not called.
func recordDisabled(ctx context.Context, env *Env, command string, rep *Report, measure func()) error {
	summary, _, err := env.Store.LastRunSummary(ctx, command)
	if err != nil {
		return err
	}
	var prev struct {
		Disabled string `json:"disabled"`
	}
	_ = json.Unmarshal([]byte(summary), &prev) // none, unfinished or unreadable: not switched off
	rep.DisabledChanged = prev.Disabled != rep.Disabled
	if env.DryRun {
		return nil
	}
	id, err := env.Store.StartRun(ctx, command, rep.Started)
	if err != nil {
		return err
	}
	rep.RunID = id
	measure()
	sum, _ := json.Marshal(rep.summary())
	full, _ := json.Marshal(rep)
	return env.Store.FinishRun(context.WithoutCancel(ctx), id, rep.Finished, env.ExitCode(nil), string(sum), string(full), "")
}

// runStep runs one step with its halt: an action that fails to get a token
// stops the step from starting more (forEach), and the step's error is
// that failure.
func runStep(ctx context.Context, env *Env, st Step, r *Report) error {
	ctx, h := withHalt(ctx)
	r.mu.Lock()
	r.halt = h
	r.mu.Unlock()
	err := st.Run(ctx, env, r)
	if herr := h.err(); herr != nil && (err == nil || errors.Is(err, errHalted)) {
		err = herr
	}
	return err
}

// stopsRun: errors after which the next steps must not run.
func stopsRun(ctx context.Context, err error) bool {
	return ctx.Err() != nil || isTokenFailure(err)
}

// isTokenFailure: no token can be had in this run, so no action can be
// done: the sign-in must be renewed, or the token endpoint failed (a token
// source does not ask it again in the same run).
func isTokenFailure(err error) bool {
	var te *auth.TokenEndpointError
	return err != nil && (auth.NeedsAuthorize(err) || errors.As(err, &te))
}

// halt is a step's stop: set once, by the first action that failed to get a
// token; the step starts no more actions.
type halt struct {
	mu    sync.Mutex
	cause error
}

type haltKey struct{}

// errHalted is what forEach returns when the step was stopped; runStep
// replaces it with the cause.
var errHalted = errors.New("step stopped")

func withHalt(ctx context.Context) (context.Context, *halt) {
	h := &halt{}
	return context.WithValue(ctx, haltKey{}, h), h
}

func (h *halt) stop(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cause == nil {
		h.cause = err
	}
}

func (h *halt) err() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.cause
}

// halted reports whether the step of ctx was stopped.
func halted(ctx context.Context) bool {
	h, _ := ctx.Value(haltKey{}).(*halt)
	return h != nil && h.err() != nil
}

func (r *Report) summary() map[string]any {
	counts := map[string]Count{}
	var add func(rr *Report)
	add = func(rr *Report) {
		for k, c := range rr.Counts {
			t := counts[string(k)]
			t.Planned += c.Planned
			t.Applied += c.Applied
			t.Failed += c.Failed
			t.Deferred += c.Deferred
			counts[string(k)] = t
		}
		for _, s := range rr.Steps {
			add(s)
		}
	}
	add(r)
	s := map[string]any{"counts": counts, "findings": len(r.AllFindings()), "failures": len(r.AllFailures()) + r.FailuresLeftOut(),
		"graph_requests": r.Graph.Requests, "throttled": r.Graph.Throttled}
	if r.Disabled != "" {
		s["disabled"] = r.Disabled
	}
	return s
}

func graphUsage(a, b msgraph.Stats) GraphUsage {
	u := GraphUsage{Requests: b.Requests - a.Requests, Throttled: b.Throttled - a.Throttled, Retries: b.Retries - a.Retries, ByRoute: map[string]int{}}
	for k, v := range b.ByRoute {
		if d := v - a.ByRoute[k]; d > 0 {
			u.ByRoute[k] = d
		}
	}
	return u
}

// forEach runs fn on each item with at most n at once, stopping early (and
// returning ctx's error) when ctx is done, or errHalted when the step was
// stopped (the items under way finish). fn's errors are its own business:
// it records failures in the report.
func forEach[T any](ctx context.Context, n int, items []T, fn func(ctx context.Context, item T)) error {
	if n < 1 {
		n = 1
	}
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for _, it := range items {
		select {
		case <-ctx.Done():
			wg.Wait()
			return context.Cause(ctx)
		case sem <- struct{}{}:
		}
		if halted(ctx) {
			<-sem
			wg.Wait()
			return errHalted
		}
		wg.Add(1)
		go func(it T) {
			defer wg.Done()
			defer func() { <-sem }()
			fn(ctx, it)
		}(it)
	}
	wg.Wait()
	return context.Cause(ctx)
}

// progress returns the function that counts one finished item of a step's
// apply, telling env.Progress; a no-op without one.
func (env *Env) progress(step string, total int) func() {
	if env.Progress == nil || total == 0 {
		return func() {}
	}
	var done atomic.Int64
	env.Progress(step, 0, total)
	return func() { env.Progress(step, int(done.Add(1)), total) }
}

// capPlan applies sync.max_actions: what is over the cap is deferred to the
// next run and said in a finding.
func capPlan(env *Env, r *Report, p reconcile.Plan) []reconcile.Action {
	b := newBudget(env)
	kept := b.take(r, p.Actions)
	b.report(r)
	return kept
}

// budget is what is left of sync.max_actions in a run applied in parts.
type budget struct {
	max, left, deferred int
}

func newBudget(env *Env) *budget {
	return &budget{max: env.Config.Sync.MaxActions, left: env.Config.Sync.MaxActions}
}

// take keeps the actions that fit what is left and defers the rest.
func (b *budget) take(r *Report, actions []reconcile.Action) []reconcile.Action {
	kept, deferred := reconcile.Cap(actions, b.left)
	b.left -= (&reconcile.Plan{Actions: kept}).Weight()
	if len(deferred) > 0 {
		r.deferred(deferred)
		b.deferred += (&reconcile.Plan{Actions: deferred}).Weight()
	}
	return kept
}

// report says, once, what the cap left for the next run.
func (b *budget) report(r *Report) {
	if b.deferred == 0 {
		return
	}
	r.note(reconcile.Finding{Kind: reconcile.FindingMaxActions, Severity: reconcile.Warning,
		Message: fmt.Sprintf("sync.max_actions (%d) reached: %d changes are left for the next run", b.max, b.deferred),
		Fix:     "if these changes are expected (a first sync of a large school), raise sync.max_actions or let the next runs finish them"})
}

// sleep waits d (env.Sleep, or msgraph's real-time wait), or until ctx is
// done: its error then says why the run stopped (a lost run lock), not only
// that it did.
func (env *Env) sleep(ctx context.Context, d time.Duration) error {
	if env.Sleep != nil {
		return env.Sleep(ctx, d)
	}
	if err := msgraph.Sleep(ctx, d); err != nil {
		return context.Cause(ctx)
	}
	return nil
}

// guards are the configuration's guards on the writes a student notices.
func (env *Env) guards() reconcile.Guards {
	s := env.Config.Sync
	return reconcile.Guards{TeamRemovalPercent: s.RemovalGuardPercent, CourseCancelPercent: s.CancelGuardPercent,
		RunRemovalPercent: s.RunRemovalGuardPercent, RunRemovalMinimum: s.RunRemovalGuardMinimum,
		RunCancelPercent: s.RunCancelGuardPercent, RunCancelMinimum: s.RunCancelGuardMinimum,
		RunArchivePercent: s.RunArchiveGuardPercent, RunArchiveMinimum: s.RunArchiveGuardMinimum,
		Force: env.Force}
}

// release decides what becomes of the writes the guards of a step held
// back: applied when a person at the terminal confirms them (env.Confirm),
// otherwise left undone with the findings that say so and how to go ahead.
// It returns the actions to apply. A dry run asks nothing.
func (env *Env) release(r *Report, step string, held []reconcile.Held) []reconcile.Action {
	if len(held) == 0 {
		return nil
	}
	if env.DryRun || env.Confirm == nil || !env.Confirm(step, held) {
		for _, h := range held {
			r.note(h.Finding)
		}
		return nil
	}
	var out []reconcile.Action
	n := 0
	for _, h := range held {
		out = append(out, h.Actions...)
		n += h.Count()
	}
	r.note(reconcile.Finding{Kind: reconcile.FindingGuardConfirmed, Severity: reconcile.Note,
		Message: fmt.Sprintf("%d changes the guards held back were confirmed at the terminal (--force) and applied", n)})
	return out
}

func courseFilter(env *Env) map[int]bool {
	if len(env.CourseIDs) == 0 {
		return nil
	}
	m := map[int]bool{}
	for _, id := range env.CourseIDs {
		m[id] = true
	}
	return m
}

// cutMessage keeps at most n characters of a failure's message, marking the
// cut.
func cutMessage(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return text.Truncate(s, n) + "…"
}
