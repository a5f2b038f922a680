package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/elentra-teams/elentra-teams/pkg/auth"
	"github.com/elentra-teams/elentra-teams/pkg/config"
	"github.com/elentra-teams/elentra-teams/pkg/engine"
	"github.com/elentra-teams/elentra-teams/pkg/store"
)

// Exit codes; README.md and the root command's help list them.
const (
	ExitOK      = 0 // done
	ExitFailed  = 1 // failed, or check-config found a ✗
	ExitUsage   = 2 // usage or configuration error
	ExitPartial = 3 // some attempted writes failed, the rest applied
	ExitAuth    = 4 // not authorized: run authorize
	ExitLocked  = 5 // another run holds the lock
)

// FlagError is a command-line usage error: exit 2, and the usage is shown.
type FlagError struct{ Err error }

func (e *FlagError) Error() string { return e.Err.Error() }
func (e *FlagError) Unwrap() error { return e.Err }

// ExitError carries an explicit exit code with its message. An empty message
// means the command already printed what the user needs.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Err.Error()
}
func (e *ExitError) Unwrap() error { return e.Err }

// ExitCodeOf is the exit code of a command that returned err: what Run
// returns, and what a sync records in msteams_runs (engine.Env.ExitCode).
func ExitCodeOf(err error) int {
	code, _, _ := exitCode(err)
	return code
}

// exitCode is the one place that maps an error to the process exit code:
// the domain packages return typed errors (config's, auth's, the engine's,
// store.ErrLocked) and this turns them into codes. The second result says
// whether to print the error (silent errors have already said everything),
// the third whether to show usage.
func exitCode(err error) (code int, print bool, usage bool) {
	if err == nil {
		return ExitOK, false, false
	}
	var (
		fe  *FlagError
		ce  *config.Error
		pe  *engine.PartialError
		xe  *ExitError
		has = func(target any) bool { return errors.As(err, target) }
	)
	switch {
	case has(&xe):
		return xe.Code, xe.Err != nil, false
	case has(&fe):
		return ExitUsage, true, true
	case has(&ce):
		return ExitUsage, true, false
	case auth.NeedsAuthorize(err):
		return ExitAuth, true, false
	case errors.Is(err, store.ErrLocked):
		return ExitLocked, true, false
	case has(&pe):
		return ExitPartial, true, false
	case errors.Is(err, context.Canceled):
		return ExitFailed, true, false
	}
	return ExitFailed, true, false
}
