// Command spawner runs a command as its child and reports the child's peak
// resident set size, for elentra-teams-bench.
//
// Linux starts a child with vfork: until exec the child runs in its
// parent's memory, and exec records that memory's high-water mark in the
// child's ru_maxrss. A child of the bench, which holds the simulator's
// request log, would be charged the bench's memory; a child of this small
// process is charged a few MB at most, less than any Go program uses.
//
//	spawner COMMAND [ARG…] 3>FILE
//
// It passes stdin, stdout, stderr and the exit code through, passes SIGINT
// and SIGTERM on to the child, and writes "maxrss KiB" to descriptor 3.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "spawner: no command")
		return 2
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// An interrupted bench interrupts the tool, which then stops between
	// actions as it does under cron.
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "spawner:", err)
		return 127
	}
	go func() {
		for sig := range signals {
			_ = cmd.Process.Signal(sig)
		}
	}()
	_ = cmd.Wait()
	signal.Stop(signals)
	if report := os.NewFile(3, "maxrss"); report != nil {
		fmt.Fprintf(report, "maxrss %d\n", peakRSSKiB(cmd.ProcessState))
		_ = report.Close()
	}
	return cmd.ProcessState.ExitCode()
}
