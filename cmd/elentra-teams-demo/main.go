// Command elentra-teams-demo shows the whole integration on a machine that
// has only Go: it starts an embedded MySQL-compatible server holding a
// synthetic medical school and the Microsoft identity platform and Graph
// simulator holding the school's directory, writes a temporary configuration,
// and runs the real elentra-teams commands an administrator would (setup,
// courses enable, authorize, sync-users, sync, check-config, status), printing
// each command line and its output, then a summary.
//
//	go run ./cmd/elentra-teams-demo [--courses N] [--learners N] [--faults]
//	go run ./cmd/elentra-teams-demo --rehearse
//
// With --rehearse it runs no command: it keeps the database and the
// simulator up, prints their configuration and waits for Ctrl-C, so that
// docs/setup.md can be followed by hand with the real binary.
//
// The production binary (cmd/elentra-teams) carries neither the embedded
// server, the simulator nor the school generator: they live only here.
//
// Exit codes: 0 the sync converged · 1 a step failed or the sync did not
// converge · 2 bad flags.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
