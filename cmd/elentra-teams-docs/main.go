// Command elentra-teams-docs writes the man pages and shell completion
// scripts of elentra-teams for the release packages (a goreleaser before
// hook runs it). It is a build tool: it is never packaged.
//
//	go run ./cmd/elentra-teams-docs --out packaging/build --version 1.4.0 --date 2026-05-01T12:00:00Z
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/elentra-teams/elentra-teams/internal/gendocs"
	"github.com/elentra-teams/elentra-teams/pkg/cli"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, os.Getenv, time.Now))
}

// run parses the flags and writes the files; it returns the exit code.
func run(args []string, stdout, stderr io.Writer, getenv func(string) string, now func() time.Time) int {
	fs := flag.NewFlagSet("elentra-teams-docs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	outDir := fs.String("out", "packaging/build", "`DIR` to write manpages/ and completions/ into (both are replaced)")
	version := fs.String("version", "dev", "version printed in the man pages' footer")
	dateFlag := fs.String("date", "", "page date, RFC 3339 (default $SOURCE_DATE_EPOCH, else now)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "elentra-teams-docs: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	date, err := pageDate(*dateFlag, getenv("SOURCE_DATE_EPOCH"), now)
	if err != nil {
		fmt.Fprintf(stderr, "elentra-teams-docs: %v\n", err)
		return 2
	}

	root := cli.NewRootCmd(&cli.Factory{IO: &cli.IOStreams{In: os.Stdin, Out: stdout, ErrOut: stderr}, Now: now})
	written, err := gendocs.Generate(root, *outDir, gendocs.Options{Version: *version, Date: date})
	if err != nil {
		fmt.Fprintf(stderr, "elentra-teams-docs: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %d files under %s\n", len(written), *outDir)
	return 0
}

// pageDate picks the date a release build must use (--date, then
// SOURCE_DATE_EPOCH, the reproducible-builds convention), and only falls back
// to the clock for a build by hand.
func pageDate(flagValue, sourceDateEpoch string, now func() time.Time) (time.Time, error) {
	if flagValue != "" {
		d, err := time.Parse(time.RFC3339, flagValue)
		if err != nil {
			return time.Time{}, fmt.Errorf("--date %q: use RFC 3339, e.g. 2026-05-01T12:00:00Z", flagValue)
		}
		return d.UTC(), nil
	}
	if sourceDateEpoch != "" {
		secs, err := strconv.ParseInt(sourceDateEpoch, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q is not a number of seconds", sourceDateEpoch)
		}
		return time.Unix(secs, 0).UTC(), nil
	}
	return now().UTC(), nil
}
