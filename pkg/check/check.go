// Package check holds check-config's checks: each one looks at one thing an
// administrator can get wrong (a configuration key, the database, Elentra's
// settings, the stored token, the tenant, the schedule) and says what it
// found and, when something is wrong, how to fix it.
//
// Checks run in a fixed order; a check that needs another (the token needs
// the database) is skipped, with the reason, when that one failed. Without
// Env.Online nothing leaves the machine but the database connection: the
// checks read what is stored, so check-config is fast and safe to run from
// cron. With it, the token is refreshed for real and Graph is called.
//
// The package knows nothing of cobra or viper: the command layer hands it a
// loaded configuration (or the error that stopped loading it) and prints the
// Report.
package check

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"
)

// Status is the outcome of one check.
type Status string

// The outcomes, printed ✓ ✗ ! and - (OK FAIL WARN SKIP in ASCII).
const (
	// OK: nothing to do.
	OK Status = "ok"
	// Fail: the syncs cannot work until it is fixed; check-config exits 1.
	Fail Status = "fail"
	// Warn: worth fixing, but the syncs work; never changes the exit code.
	Warn Status = "warn"
	// Skip: not checked because a check it needs did not pass.
	Skip Status = "skip"
)

// Result is what one check found.
type Result struct {
	ID     string `json:"id"`
	Status Status `json:"status"`
	// Message names what was checked and what was found, in one line.
	Message string `json:"message"`
	// Fix is what to do, in one or two sentences; empty when OK.
	Fix string `json:"fix,omitempty"`
	// Details are lines to show under the message: the cron lines to
	// install, the GRANT statements, the first users without an Object ID.
	Details []string `json:"details,omitempty"`
}

// Check is one check.
type Check struct {
	ID string
	// DependsOn are the checks that must pass (OK or Warn) for this one to run.
	DependsOn []string
	// OnlineDependsOn are added to DependsOn when the checks run online.
	OnlineDependsOn []string
	// Online marks a check that only makes sense with a call to Microsoft:
	// offline it is neither run nor listed.
	Online bool
	Run    func(ctx context.Context, env *Env) Result
}

// Report is the outcome of a whole run.
type Report struct {
	Online   bool     `json:"online"`
	Checks   []Result `json:"checks"`
	Failed   int      `json:"failed"`
	Warnings int      `json:"warnings"`
	Skipped  int      `json:"skipped"`
	// NotRun are the checks left out because they need --online.
	NotRun []string `json:"not_run,omitempty"`
}

// Passed reports whether no check failed: warnings never fail a run.
func (r *Report) Passed() bool { return r.Failed == 0 }

// notRun marks a check left out offline, for its dependents.
const notRun Status = "not-run"

// Run runs the checks in order and returns what they found. A check whose
// dependency failed or was skipped is skipped with the reason; a check that
// panics fails (with what it hit) instead of ending the run, so one broken
// check never hides the others.
func Run(ctx context.Context, env *Env, checks []Check) *Report {
	rep := &Report{Online: env.Online, Checks: []Result{}}
	seen := map[string]Status{}
	for _, c := range checks {
		deps := c.DependsOn
		if env.Online {
			deps = append(append([]string(nil), deps...), c.OnlineDependsOn...)
		}
		if c.Online && !env.Online || dependsOnNotRun(deps, seen) {
			seen[c.ID] = notRun
			rep.NotRun = append(rep.NotRun, c.ID)
			continue
		}
		var res Result
		if dep, st, blocked := blocker(deps, seen); blocked {
			what := "failed"
			if st != Fail {
				what = "was skipped"
			}
			res = Result{Status: Skip, Message: fmt.Sprintf("skipped: needs %s, which %s", dep, what)}
		} else {
			res = runOne(ctx, env, c)
		}
		res.ID = c.ID
		seen[c.ID] = res.Status
		switch res.Status {
		case Fail:
			rep.Failed++
		case Warn:
			rep.Warnings++
		case Skip:
			rep.Skipped++
		}
		rep.Checks = append(rep.Checks, res)
	}
	return rep
}

func dependsOnNotRun(deps []string, seen map[string]Status) bool {
	for _, d := range deps {
		if seen[d] == notRun {
			return true
		}
	}
	return false
}

// blocker returns the first dependency that did not pass. A dependency that
// is not among the checks run before is a programming error: it blocks, so
// that a renamed check cannot silently drop a guard.
func blocker(deps []string, seen map[string]Status) (string, Status, bool) {
	for _, d := range deps {
		st, ok := seen[d]
		if !ok || (st != OK && st != Warn) {
			return d, st, true
		}
	}
	return "", "", false
}

func runOne(ctx context.Context, env *Env, c Check) (res Result) {
	defer func() {
		if p := recover(); p != nil {
			stack := strings.SplitN(string(debug.Stack()), "\n", 12)
			if env.Logger != nil {
				env.Logger.Error("check panicked", "check", c.ID, "panic", p, "stack", strings.Join(stack, "\n"))
			}
			res = Result{Status: Fail, Message: fmt.Sprintf("the check itself failed: %v", p),
				Fix: "report this as a bug of elentra-teams, with the output of check-config --log-level debug"}
		}
	}()
	return c.Run(ctx, env)
}

// Constructors of results, for the checks.

func pass(format string, args ...any) Result {
	return Result{Status: OK, Message: fmt.Sprintf(format, args...)}
}

func fail(message, fix string) Result {
	return Result{Status: Fail, Message: message, Fix: fix}
}

func warn(message, fix string) Result {
	return Result{Status: Warn, Message: message, Fix: fix}
}

// with adds detail lines to a result.
func (r Result) with(details ...string) Result {
	r.Details = append(r.Details, details...)
	return r
}
