package cli

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/elentra-teams/elentra-teams/pkg/auth"
	"github.com/elentra-teams/elentra-teams/pkg/config"
	"github.com/elentra-teams/elentra-teams/pkg/engine"
	"github.com/elentra-teams/elentra-teams/pkg/store"
)

// The one map from the domain packages' typed errors to the documented exit
// codes, wrapped as the commands and the engine's steps wrap them.
func TestExitCodeOf(t *testing.T) {
	step := func(err error) error { return fmt.Errorf("sync-teams: %w", err) }
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"no error", nil, ExitOK},
		{"any other error", errors.New("connection lost"), ExitFailed},
		{"every write failed", &engine.FailedError{Failed: 3}, ExitFailed},
		{"the lock lost mid-run", fmt.Errorf("%w: connection gone", engine.ErrLockLost), ExitFailed},
		{"the token endpoint failed", step(&auth.TokenEndpointError{Status: 502}), ExitFailed},
		{"a copied database", &store.CopyError{}, ExitFailed},
		{"interrupted", context.Canceled, ExitFailed},
		{"a flag error", &FlagError{Err: errors.New("--every 7m0s")}, ExitUsage},
		{"a configuration error", &config.Error{Key: "database.host", Problem: "missing"}, ExitUsage},
		{"some writes failed", &engine.PartialError{Failed: 1, Applied: 9}, ExitPartial},
		{"no token stored", &auth.NotAuthorizedError{Name: "delegated"}, ExitAuth},
		{"the sign-in refused", step(&auth.ReauthorizeError{Code: "invalid_grant"}), ExitAuth},
		{"the token undecryptable", step(auth.ErrUndecryptable), ExitAuth},
		{"another run holds the lock", fmt.Errorf("%w (elentra-teams.sync); this run does nothing", store.ErrLocked), ExitLocked},
		{"an explicit code", &ExitError{Code: ExitFailed}, ExitFailed},
	} {
		if got := ExitCodeOf(tc.err); got != tc.want {
			t.Errorf("%s: ExitCodeOf(%v) = %d, want %d", tc.name, tc.err, got, tc.want)
		}
	}
}
