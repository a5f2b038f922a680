package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/elentra-teams/elentra-teams/pkg/check"
	"github.com/elentra-teams/elentra-teams/pkg/config"
)

func TestUTF8Locale(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{}, false},
		{map[string]string{"LANG": "en_CA.UTF-8"}, true},
		{map[string]string{"LANG": "fr_CA.utf8"}, true},
		{map[string]string{"LANG": "C"}, false},
		// LC_ALL, then LC_CTYPE, decide before LANG.
		{map[string]string{"LANG": "en_CA.UTF-8", "LC_ALL": "C"}, false},
		{map[string]string{"LANG": "C", "LC_CTYPE": "C.UTF-8"}, true},
		{map[string]string{"LC_ALL": "POSIX", "LC_CTYPE": "C.UTF-8"}, false},
	}
	for _, tt := range tests {
		if got := utf8Locale(func(k string) string { return tt.env[k] }); got != tt.want {
			t.Errorf("utf8Locale(%v) = %v, want %v", tt.env, got, tt.want)
		}
	}
}

func sampleReport() *check.Report {
	return &check.Report{
		Checks: []check.Result{
			{ID: "config.file", Status: check.OK, Message: "configuration read from config file /etc/elentra-teams/config.yaml"},
			{ID: "elentra.teams_enabled", Status: check.Fail, Message: `microsoft_teams_enabled is "0"`, Fix: "run 'elentra-teams setup --enable'"},
			{ID: "token.account", Status: check.Skip, Message: "skipped: needs token.stored, which failed"},
			{ID: "cron.entry", Status: check.Warn, Message: "no cron entry\nruns sync", Fix: "install the lines below", Details: []string{"17 * * * * elentra-teams /usr/bin/elentra-teams sync --quiet"}},
		},
		Failed: 1, Warnings: 1, Skipped: 1, NotRun: []string{"graph.me"},
	}
}

func TestPrintChecksUTF8(t *testing.T) {
	var b bytes.Buffer
	printChecks(&b, sampleReport(), true)
	want := `✓ config.file: configuration read from config file /etc/elentra-teams/config.yaml
✗ elentra.teams_enabled: microsoft_teams_enabled is "0"
    fix: run 'elentra-teams setup --enable'
- token.account: skipped: needs token.stored, which failed
! cron.entry: no cron entry runs sync
    fix: install the lines below
      17 * * * * elentra-teams /usr/bin/elentra-teams sync --quiet
1 of 4 checks passed; 1 failed (✗), 1 warning(s) (!), 1 skipped (-): fix the failed ones first, from the top
Microsoft was not called (graph.me): run check-config --online to refresh the token and ask Microsoft Graph
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestPrintChecksASCIIHasNoOtherCharacters(t *testing.T) {
	var b bytes.Buffer
	printChecks(&b, sampleReport(), false)
	for _, prefix := range []string{"OK   config.file: ", "FAIL elentra.teams_enabled: ", "SKIP token.account: ", "WARN cron.entry: "} {
		if !strings.Contains(b.String(), "\n"+prefix) && !strings.HasPrefix(b.String(), prefix) {
			t.Errorf("no line starts with %q:\n%s", prefix, b.String())
		}
	}
	if regexp.MustCompile(`[^\x00-\x7f]`).MatchString(b.String()) {
		t.Errorf("ASCII output holds other characters:\n%s", b.String())
	}
}

func TestCronLines(t *testing.T) {
	f := &Factory{}
	cfg := config.Defaults()
	cfg.File = "/etc/elentra-teams/50% off.yaml"
	cfg.Database.Name = "entrada"
	lines, err := makeCronLines(f, &cfg, cronOptions{every: time.Hour, user: "elentra-teams", binary: "/usr/bin/elentra-teams"})
	if err != nil {
		t.Fatal(err)
	}
	sched, _ := cronSchedule(time.Hour, "", "entrada")
	want := sched + ` elentra-teams /usr/bin/elentra-teams --config '/etc/elentra-teams/50\% off.yaml' sync --quiet`
	if lines.CronD != want {
		t.Errorf("cron.d line = %q, want %q", lines.CronD, want)
	}
	if lines.Crontab != strings.Replace(want, " elentra-teams /usr", " /usr", 1) {
		t.Errorf("crontab line = %q", lines.Crontab)
	}
	// Another database starts at another minute (for these two names).
	other, _ := cronSchedule(time.Hour, "", "entrada_staging")
	if other == sched {
		t.Errorf("entrada and entrada_staging both start at %q", sched)
	}
}

// The schedule is written in plain fields, each correct for its interval:
// database "entrada" derives minute 40, "entrada_staging" minute 6.
func TestCronSchedule(t *testing.T) {
	for _, tt := range []struct {
		every time.Duration
		at    string
		db    string
		want  string
	}{
		{time.Hour, "", "entrada", "40 * * * *"},
		{time.Hour, "", "entrada_staging", "6 * * * *"},
		{5 * time.Minute, "", "entrada", "0,5,10,15,20,25,30,35,40,45,50,55 * * * *"},
		{10 * time.Minute, "", "entrada_staging", "6,16,26,36,46,56 * * * *"},
		{15 * time.Minute, "", "entrada", "10,25,40,55 * * * *"},
		{20 * time.Minute, "", "entrada", "0,20,40 * * * *"},
		{30 * time.Minute, "", "entrada", "10,40 * * * *"},
		{30 * time.Minute, "", "entrada_staging", "6,36 * * * *"},
		{2 * time.Hour, "", "entrada", "40 */2 * * *"},
		{3 * time.Hour, "", "entrada", "40 */3 * * *"},
		{6 * time.Hour, "", "entrada", "40 */6 * * *"},
		{12 * time.Hour, "", "entrada_staging", "6 */12 * * *"},
		// Daily: in the hour after midnight (the guide's time) at the
		// derived minute, or at --at.
		{24 * time.Hour, "", "entrada", "40 0 * * *"},
		{24 * time.Hour, "", "entrada_staging", "6 0 * * *"},
		{24 * time.Hour, "00:00", "entrada", "0 0 * * *"},
		{24 * time.Hour, "2:30", "entrada", "30 2 * * *"},
		{24 * time.Hour, "23:59", "entrada", "59 23 * * *"},
		{24 * time.Hour, "07:05", "entrada", "5 7 * * *"},
	} {
		got, err := cronSchedule(tt.every, tt.at, tt.db)
		if err != nil || got != tt.want {
			t.Errorf("cronSchedule(%s, %q, %s) = %q, %v; want %q", tt.every, tt.at, tt.db, got, err, tt.want)
			continue
		}
		// Read as cron reads it, the line runs once every interval, all
		// day, every day.
		runs := cronRunsInADay(t, got)
		if n := int(24 * time.Hour / tt.every); len(runs) != n {
			t.Errorf("%q runs %d times a day, want %d", got, len(runs), n)
		}
		for i := range runs {
			next := runs[(i+1)%len(runs)]
			if i == len(runs)-1 {
				next += 24 * 60
			}
			if gap := time.Duration(next-runs[i]) * time.Minute; gap != tt.every {
				t.Errorf("%q: %d min after a run at minute %d of the day, want %s", got, next-runs[i], runs[i], tt.every)
			}
		}
	}
	for _, bad := range []struct {
		every time.Duration
		at    string
	}{
		{7 * time.Minute, ""}, {90 * time.Minute, ""}, {48 * time.Hour, ""}, {time.Minute, ""}, {5 * time.Hour, ""}, {0, ""},
		{time.Hour, "00:00"}, {24 * time.Hour, "25:00"}, {24 * time.Hour, "1:2"},
	} {
		if got, err := cronSchedule(bad.every, bad.at, "entrada"); err == nil {
			t.Errorf("cronSchedule(%s, %q) = %q, accepted", bad.every, bad.at, got)
		}
	}
}

// cronRunsInADay reads the five time fields of a cron line as cron does
// (numbers, lists, ranges, steps and *) and returns the minutes of the day
// at which it runs; the day fields must be *.
func cronRunsInADay(t *testing.T, sched string) []int {
	t.Helper()
	f := strings.Fields(sched)
	if len(f) != 5 || f[2] != "*" || f[3] != "*" || f[4] != "*" {
		t.Fatalf("%q: want five fields, the last three *", sched)
	}
	field := func(s string, max int) map[int]bool {
		set := map[int]bool{}
		for _, part := range strings.Split(s, ",") {
			rng, step := part, 1
			if r, st, ok := strings.Cut(part, "/"); ok {
				n, err := strconv.Atoi(st)
				if err != nil || n < 1 {
					t.Fatalf("%q: bad step in %q", sched, part)
				}
				rng, step = r, n
			}
			lo, hi := 0, max
			if rng != "*" {
				a, b, isRange := strings.Cut(rng, "-")
				var err1, err2 error
				lo, err1 = strconv.Atoi(a)
				hi, err2 = lo, nil
				if isRange {
					hi, err2 = strconv.Atoi(b)
				} else if step > 1 {
					hi = max
				}
				if err1 != nil || err2 != nil || lo < 0 || hi > max || lo > hi {
					t.Fatalf("%q: bad field %q", sched, part)
				}
			}
			for v := lo; v <= hi; v += step {
				set[v] = true
			}
		}
		return set
	}
	mins, hours := field(f[0], 59), field(f[1], 23)
	var runs []int
	for h := 0; h < 24; h++ {
		for m := 0; m < 60; m++ {
			if hours[h] && mins[m] {
				runs = append(runs, h*60+m)
			}
		}
	}
	return runs
}

// TestCheckConfigJSONWithoutConfiguration runs the command when the config
// file cannot be loaded: exit 1, one failed check, every other skipped, and
// valid JSON with the documented fields.
func TestCheckConfigJSONWithoutConfiguration(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	bad := write(t, dir, "bad.yaml", "database:\n  hots: db.example.edu\n")
	var out, errOut bytes.Buffer
	code := Run(context.Background(), []string{"--config", bad, "check-config", "--output", "json"}, &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	if code != ExitFailed {
		t.Errorf("exit %d, want %d", code, ExitFailed)
	}
	if errOut.Len() != 0 {
		t.Errorf("stderr: %s", errOut.String())
	}
	var rep struct {
		Online bool `json:"online"`
		Checks []struct {
			ID, Status, Message, Fix string
		} `json:"checks"`
		Failed int `json:"failed"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if rep.Failed != 1 || rep.Checks[0].ID != "config.file" || rep.Checks[0].Status != "fail" ||
		!strings.Contains(rep.Checks[0].Message, "database.hots: unknown key") || !strings.Contains(rep.Checks[0].Fix, "database.host") {
		t.Errorf("first check = %+v, failed = %d", rep.Checks[0], rep.Failed)
	}
	for _, c := range rep.Checks[1:] {
		if c.Status != "skip" {
			t.Errorf("%s = %s, want skip", c.ID, c.Status)
		}
	}
}

// check-config's flags.
func TestCheckConfigFlags(t *testing.T) {
	view := func(o *checkConfigOptions) any { c := *o; c.f = nil; return c }
	testFlags(t, "", newCheckConfigCmd, view, []flagCase{
		{args: []string{"check-config"}, want: checkConfigOptions{}},
		{args: []string{"check-config", "--online", "--cron-path", "/etc/cron.d", "--cron-path", "/var/spool/cron/crontabs/www-data,/etc/crontab"},
			want: checkConfigOptions{online: true, cronPaths: []string{"/etc/cron.d", "/var/spool/cron/crontabs/www-data", "/etc/crontab"}}},
		{args: []string{"check-config", "--online=false"}, want: checkConfigOptions{}},
		{args: []string{"check-config", "--fix"}, wantErr: "unknown flag: --fix"},
		{args: []string{"check-config", "all"}, wantErr: `unknown command "all" for "elentra-teams check-config"`},
	})
}
