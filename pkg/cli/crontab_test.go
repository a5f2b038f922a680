package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/elentra-teams/elentra-teams/pkg/config"
)

// crontab's flags: how often, as whom, which binary.
func TestCrontabFlags(t *testing.T) {
	view := func(o *crontabOptions) any { return o.cronOptions }
	testFlags(t, "", newCrontabCmd, view, []flagCase{
		{args: []string{"crontab"}, want: cronOptions{every: time.Hour, user: "elentra-teams"}},
		{args: []string{"crontab", "--every", "30m", "--user", "www-data", "--binary", "/opt/elentra teams/elentra-teams"},
			want: cronOptions{every: 30 * time.Minute, user: "www-data", binary: "/opt/elentra teams/elentra-teams"}},
		{args: []string{"crontab", "--every", "6h"}, want: cronOptions{every: 6 * time.Hour, user: "elentra-teams"}},
		// --every is checked with the configuration read (crontabRun)
		{args: []string{"crontab", "--every", "7m"}, want: cronOptions{every: 7 * time.Minute, user: "elentra-teams"}},
		{args: []string{"crontab", "--every", "hourly"}, wantErr: `invalid argument "hourly" for "--every" flag`},
		// --at is a daily run's time: alone it makes the run daily, with
		// --every it needs a day, and it is a time of day.
		{args: []string{"crontab", "--at", "00:00"}, want: cronOptions{every: 24 * time.Hour, at: "00:00", user: "elentra-teams"}},
		{args: []string{"crontab", "--at", "2:30", "--every", "24h"}, want: cronOptions{every: 24 * time.Hour, at: "2:30", user: "elentra-teams"}},
		{args: []string{"crontab", "--every", "1440m", "--at", "23:59"}, want: cronOptions{every: 24 * time.Hour, at: "23:59", user: "elentra-teams"}},
		{args: []string{"crontab", "--at", "02:30", "--every", "1h"}, wantErr: "--at sets the time of a daily run, and --every 1h0m0s is not a day"},
		{args: []string{"crontab", "--every", "12h", "--at", "02:30"}, wantErr: "--at sets the time of a daily run, and --every 12h0m0s is not a day"},
		{args: []string{"crontab", "--at", "24:00"}, wantErr: `--at "24:00": give the time of day of the daily run as HH:MM on the 24-hour clock, 00:00 to 23:59`},
		{args: []string{"crontab", "--at", "2:5"}, wantErr: `--at "2:5": give the time of day`},
		{args: []string{"crontab", "--at", "0230"}, wantErr: `--at "0230": give the time of day`},
		{args: []string{"crontab", "--at", "12:60"}, wantErr: `--at "12:60": give the time of day`},
		{args: []string{"crontab", "--at", "-1:30"}, wantErr: `--at "-1:30": give the time of day`},
		{args: []string{"crontab", "--at", "midnight"}, wantErr: `--at "midnight": give the time of day`},
		{args: []string{"crontab", "now"}, wantErr: `unknown command "now" for "elentra-teams crontab"`},
	})
}

// crontabOn is crontab's options on a factory that has read cfg: its run
// needs no database and no file.
func crontabOn(t *testing.T, cfg config.Config, output string, o cronOptions) (*crontabOptions, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	clearEnv(t)
	f := testFactory(false)
	f.flags.output = output
	f.loaded = &loadedConfig{cfg: &cfg, file: cfg.File}
	return &crontabOptions{f: f, cronOptions: o}, f.IO.Out.(*bytes.Buffer), f.IO.ErrOut.(*bytes.Buffer)
}

// crontab's run, without a database: the two forms of the line, as text or
// JSON, the note when no config file was read, and --every refused once the
// configuration is read.
func TestCrontabRun(t *testing.T) {
	cfg := config.Defaults()
	cfg.Database.Name = "entrada"
	sched, err := cronSchedule(2*time.Hour, "", "entrada")
	if err != nil {
		t.Fatal(err)
	}
	every2h := cronOptions{every: 2 * time.Hour, user: "www-data", binary: "/usr/bin/elentra-teams"}

	t.Run("text, with a config file", func(t *testing.T) {
		withFile := cfg
		withFile.File = "/etc/elentra-teams/config.yaml"
		o, out, errOut := crontabOn(t, withFile, "text", every2h)
		if err := crontabRun(o); err != nil {
			t.Fatal(err)
		}
		line := "/usr/bin/elentra-teams --config /etc/elentra-teams/config.yaml sync --quiet"
		want := "# /etc/cron.d/elentra-teams (no dot in the file name; the sixth field is the user)\n" +
			sched + " www-data " + line + "\n\n" +
			"# or, as user www-data, with 'crontab -e'\n" +
			sched + " " + line + "\n"
		if out.String() != want {
			t.Errorf("stdout:\n%s\nwant:\n%s", out, want)
		}
		if errOut.Len() != 0 {
			t.Errorf("stderr: %s", errOut)
		}
	})
	t.Run("JSON, without a config file", func(t *testing.T) {
		o, out, errOut := crontabOn(t, cfg, "json", every2h)
		if err := crontabRun(o); err != nil {
			t.Fatal(err)
		}
		var got cronLines
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		want := cronLines{CronD: sched + " www-data /usr/bin/elentra-teams sync --quiet", Crontab: sched + " /usr/bin/elentra-teams sync --quiet", User: "www-data"}
		if got != want {
			t.Errorf("got %+v, want %+v", got, want)
		}
		if !strings.HasPrefix(errOut.String(), "note: no config file was read, so the lines name none: the job will look for /etc/elentra-teams/config.yaml") {
			t.Errorf("stderr: %s", errOut)
		}
	})
	t.Run("--every 7m", func(t *testing.T) {
		o, out, _ := crontabOn(t, cfg, "text", cronOptions{every: 7 * time.Minute, user: "elentra-teams"})
		err := crontabRun(o)
		if msg := checkUsage(err, false, "--every 7m0s: use minutes that divide an hour (5m, 10m, 15m, 20m, 30m) or hours that divide a day"); msg != "" {
			t.Error(msg)
		}
		if out.Len() != 0 {
			t.Errorf("stdout: %s", out)
		}
	})
}
