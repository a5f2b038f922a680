// Command msgraph-sim serves the Microsoft identity platform and Graph
// simulator (pkg/msgraph/graphsim) over HTTP for demos, benchmarks and
// rehearsals. It prints its base URL on stdout once listening and stops
// cleanly on SIGINT or SIGTERM.
//
// Exit codes: 0 stopped cleanly, 1 failed to serve, 2 bad flags or seed.
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
