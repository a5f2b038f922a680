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
		// "sync" as the value of a flag is not the command.
		{"17 * * * * u /usr/bin/elentra-teams --log-file sync status", true, false, ""},
		{"17 * * * * u /usr/bin/elentra-teams --output sync", true, false, ""},
		{"17 * * * * u /usr/bin/elentra-teams --log-file sync sync", true, true, ""},
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

// FuzzCronLines: whatever a crontab holds, an entry found runs elentra-teams
// sync: it is a whole, uncommented line of the file, its command holds the
// program and then the sync command, and the --config it names is the
// program's own, unquoted.
func FuzzCronLines(f *testing.F) {
	f.Add("17 * * * * elentra-teams /usr/bin/elentra-teams --config /etc/elentra-teams/config.yaml sync --quiet\n", true)
	f.Add("@hourly /usr/bin/elentra-teams --config=/etc/et.yaml sync\n", false)
	f.Add("# 17 * * * * root elentra-teams sync\nMAILTO=root\n*/30 * * * * root nice -n 10 /opt/et/elentra-teams --log-level info --log-file /var/log/et.log sync\n", true)
	f.Add(`0 * * * * deploy /bin/sh -c '/usr/bin/elentra-teams --config "/etc/et.yaml" sync --quiet'`, true)
	f.Add("17 * * * * elentra-teams /usr/bin/elentra-teams --dry-run status sync\r\n17 * * * * elentra-teams sync", true)
	f.Add("@reboot elentra-teams --config\n@reboot elentra-teams --config sync\n", false)
	f.Add(`* * * * * u "elentra-teams" '--config=' sync`, true)
	f.Fuzz(func(t *testing.T, text string, userColumn bool) {
		entries := findSyncEntries([]cronFile{{source: "/etc/cron.d/elentra-teams", text: text, userColumn: userColumn}})
		lines := map[string]bool{}
		for _, l := range strings.Split(text, "\n") {
			lines[strings.TrimSpace(l)] = true
		}
		if len(entries) > len(lines) {
			t.Fatalf("%d entries from %d lines", len(entries), len(lines))
		}
		for _, en := range entries {
			if en.line == "" || !lines[en.line] || strings.HasPrefix(en.line, "#") {
				t.Fatalf("entry %q is not a whole, uncommented line of the file", en.line)
			}
			if en.ignored != "" {
				t.Fatalf("/etc/cron.d/elentra-teams is run by cron, yet %q", en.ignored)
			}
			fields := commandFields(en.line, userColumn)
			prog, sync := -1, -1
			for i, fl := range fields {
				if prog < 0 && filepath.Base(strings.Trim(fl, `'"`)) == "elentra-teams" {
					prog = i
				}
				if prog >= 0 && i > prog && strings.Trim(fl, `'";`) == "sync" && !flagValue(fields[prog+1:], i-prog-1) {
					sync = i
					break
				}
			}
			if prog < 0 || sync < 0 {
				t.Fatalf("%q: no elentra-teams followed by sync in %q", en.line, fields)
			}
			if en.config != "" {
				if strings.Trim(en.config, `'";`) != en.config {
					t.Fatalf("%q: --config %q keeps its quotes", en.line, en.config)
				}
				if !strings.Contains(strings.Join(fields[prog:sync], " "), en.config) {
					t.Fatalf("%q: --config %q is not among the program's flags", en.line, en.config)
				}
			}
		}
	})
}
