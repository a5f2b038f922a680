package check

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/elentra-teams/elentra-teams/pkg/config"
)

func TestSyncCommand(t *testing.T) {
	tests := []struct {
		line   string
		user   bool
		ok     bool
		config string
	}{
		{"17 * * * * elentra-teams /usr/bin/elentra-teams --config /etc/elentra-teams/config.yaml sync --quiet", true, true, "/etc/elentra-teams/config.yaml"},
		{"17 * * * * /usr/bin/elentra-teams --config=/etc/et.yaml sync", false, true, "/etc/et.yaml"},
		{"@hourly elentra-teams sync", false, true, ""},
		{"@hourly root elentra-teams sync", true, true, ""},
		{"*/30 * * * * root nice -n 10 /opt/et/elentra-teams --log-level info --log-file /var/log/et.log sync", true, true, ""},
		{`0 * * * * deploy /bin/sh -c '/usr/bin/elentra-teams --config "/etc/et.yaml" sync --quiet'`, true, true, "/etc/et.yaml"},
		{"17 * * * * elentra-teams /usr/bin/elentra-teams sync-users", true, false, ""},
		{"17 * * * * elentra-teams /usr/bin/elentra-teams check-config", true, false, ""},
		{"17 * * * * elentra-teams /usr/bin/elentra-teams --dry-run status sync", true, false, ""},
		{"17 * * * * root /usr/bin/backup sync", true, false, ""},
		{"MAILTO=elentra-teams sync", true, false, ""},
		// The user column of a user crontab would swallow the program.
		{"17 * * * * elentra-teams sync", true, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			cfg, ok := syncCommand(commandFields(tt.line, tt.user))
			if ok != tt.ok || cfg != tt.config {
				t.Errorf("got %v %q, want %v %q", ok, cfg, tt.ok, tt.config)
			}
		})
	}
}

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func cronEnv(file string, src CronSources) *Env {
	cfg := config.Defaults()
	cfg.File = file
	return &Env{Config: &cfg, Cron: src, CronLines: []string{"17 * * * * elentra-teams /usr/bin/elentra-teams sync --quiet"}}
}

func TestCronEntry(t *testing.T) {
	dir := t.TempDir()
	cronD := filepath.Join(dir, "cron.d")
	conf := filepath.Join(dir, "config.yaml")
	line := "17 * * * * elentra-teams /usr/bin/elentra-teams --config " + conf + " sync --quiet\n"
	noCrontab := func(context.Context) (string, error) { return "", errors.New("no crontab for elentra-teams") }

	write(t, filepath.Join(cronD, "other"), "# nothing of ours\n0 0 * * * root /usr/bin/true\n")
	r := checkCronEntry(context.Background(), cronEnv(conf, CronSources{Paths: []string{cronD, filepath.Join(dir, "missing")}, UserCrontab: noCrontab}))
	if r.Status != Warn || !strings.Contains(r.Message, "no cron entry runs elentra-teams sync") || len(r.Details) == 0 {
		t.Errorf("without an entry: %+v, want a warning with the lines to install", r)
	}
	if !strings.Contains(r.Message, "crontab -l") {
		t.Errorf("the message does not say crontab -l was read: %q", r.Message)
	}

	// The user's crontab (no user column) counts.
	userTab := func(context.Context) (string, error) {
		return "17 * * * * /usr/bin/elentra-teams --config " + conf + " sync --quiet\n", nil
	}
	if r := checkCronEntry(context.Background(), cronEnv(conf, CronSources{Paths: []string{cronD}, UserCrontab: userTab})); r.Status != OK || !strings.Contains(r.Message, "crontab -l") {
		t.Errorf("an entry in crontab -l: %+v", r)
	}

	// A cron.d file named with a dot is skipped by cron.
	write(t, filepath.Join(cronD, "elentra-teams.rpmnew"), line)
	if r := checkCronEntry(context.Background(), cronEnv(conf, CronSources{Paths: []string{cronD}})); r.Status != Warn || !strings.Contains(r.Message, "never run: cron skips") {
		t.Errorf("a dotted file: %+v", r)
	}
	// /etc/crontab itself is a file with the user column.
	write(t, filepath.Join(dir, "crontab"), "SHELL=/bin/sh\n"+line)
	if r := checkCronEntry(context.Background(), cronEnv(conf, CronSources{Paths: []string{cronD, filepath.Join(dir, "crontab")}})); r.Status != OK {
		t.Errorf("an entry in a crontab file: %+v", r)
	}
	// An entry for another configuration does not count; the same file by
	// another path does.
	if r := checkCronEntry(context.Background(), cronEnv(filepath.Join(dir, "staging.yaml"), CronSources{Paths: []string{filepath.Join(dir, "crontab")}})); r.Status != Warn || !strings.Contains(r.Message, "only for another configuration") {
		t.Errorf("another configuration's entry: %+v", r)
	}
	if r := checkCronEntry(context.Background(), cronEnv(filepath.Join(dir, ".", "config.yaml"), CronSources{Paths: []string{filepath.Join(dir, "crontab")}})); r.Status != OK {
		t.Errorf("the same configuration by another spelling: %+v", r)
	}
}

// What is not a regular crontab (a pipe left in /etc/cron.d, a device named
// with --cron-path) is skipped, never read: a pipe would block check-config
// and /dev/zero would take the machine's memory.
func TestCronSkipsWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	cronD := filepath.Join(dir, "cron.d")
	conf := filepath.Join(dir, "config.yaml")
	write(t, filepath.Join(cronD, "elentra-teams"), "17 * * * * elentra-teams /usr/bin/elentra-teams --config "+conf+" sync --quiet\n")
	if err := syscall.Mkfifo(filepath.Join(cronD, "a-pipe"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := checkCronEntry(context.Background(), cronEnv(conf, CronSources{Paths: []string{"/dev/zero", cronD}}))
	if r.Status != OK {
		t.Errorf("got %+v, want the entry beside the pipe found", r)
	}
}
