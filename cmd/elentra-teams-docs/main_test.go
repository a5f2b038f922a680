package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var clock = time.Date(2026, time.March, 3, 9, 0, 0, 0, time.UTC)

func now() time.Time { return clock }

func TestPageDate(t *testing.T) {
	for _, c := range []struct {
		name, flag, epoch string
		want              time.Time
		wantErr           string
	}{
		{"--date wins", "2026-05-01T12:00:00+02:00", "1700000000", time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC), ""},
		{"SOURCE_DATE_EPOCH next", "", "1700000000", time.Unix(1700000000, 0).UTC(), ""},
		{"the clock last", "", "", clock, ""},
		{"a date that is not RFC 3339", "May 2026", "", time.Time{}, "--date"},
		{"an epoch that is not a number", "", "yesterday", time.Time{}, "SOURCE_DATE_EPOCH"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := pageDate(c.flag, c.epoch, now)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Errorf("error %v, want one naming %s", err, c.wantErr)
				}
				return
			}
			if err != nil || !got.Equal(c.want) {
				t.Errorf("pageDate = %v, %v; want %v", got, err, c.want)
			}
		})
	}
}

func TestRunWritesPagesAndCompletions(t *testing.T) {
	out := t.TempDir()
	var stdout, stderr strings.Builder
	getenv := func(string) string { return "" }
	code := run([]string{"--out", out, "--version", "1.2.3", "--date", "2026-05-01T12:00:00Z"}, &stdout, &stderr, getenv, now)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, rel := range []string{"manpages/elentra-teams.1.gz", "manpages/elentra-teams-sync.1.gz", "completions/elentra-teams.bash", "completions/_elentra-teams", "completions/elentra-teams.fish"} {
		if _, err := os.Stat(filepath.Join(out, rel)); err != nil {
			t.Errorf("%s: %v", rel, err)
		}
	}
	if !strings.HasPrefix(stdout.String(), "wrote ") {
		t.Errorf("stdout %q", stdout.String())
	}
}

func TestRunUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"--date", "tomorrow"}, {"--nope"}, {"extra"}} {
		var stdout, stderr strings.Builder
		if code := run(append([]string{"--out", t.TempDir()}, args...), &stdout, &stderr, func(string) string { return "" }, now); code != 2 {
			t.Errorf("%q: exit %d, want 2 (stderr %q)", args, code, stderr.String())
		}
	}
}
