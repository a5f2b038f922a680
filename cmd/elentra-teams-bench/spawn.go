package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
)

// spawnEnv, set to 1, makes this binary a spawner: it runs the command in
// its arguments as its child and writes the child's peak RSS to file
// descriptor 3.
//
// Why a spawner: Linux starts a child with vfork, so until exec the child
// runs in its parent's memory, and exec records that memory's high-water
// mark in the child's ru_maxrss. Started straight from the bench, which
// holds the simulator's request log, the tool would be charged the bench's
// memory. The spawner is a fresh process of a few MB.
const spawnEnv = "ELENTRA_TEAMS_BENCH_SPAWN"

// spawn runs args[0] with args[1:], stdin, stdout and stderr passed
// through, and returns its exit code; "maxrss KiB" goes to descriptor 3.
func spawn(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "elentra-teams-bench: spawn: no command")
		return 2
	}
	report := os.NewFile(3, "maxrss")
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, spawnEnv+"=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "elentra-teams-bench: spawn:", err)
		return 127
	}
	// An interrupted bench interrupts the tool, which then stops between
	// actions as it does under cron.
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		for sig := range signals {
			_ = cmd.Process.Signal(sig)
		}
	}()
	err := cmd.Wait()
	signal.Stop(signals)
	if cmd.ProcessState == nil {
		fmt.Fprintln(os.Stderr, "elentra-teams-bench: spawn:", err)
		return 127
	}
	if report != nil {
		fmt.Fprintf(report, "maxrss %d\n", peakRSSKiB(cmd.ProcessState))
		_ = report.Close()
	}
	return cmd.ProcessState.ExitCode()
}
