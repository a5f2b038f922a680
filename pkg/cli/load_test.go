package cli

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/elentra-teams/elentra-teams/pkg/config"
)

func flagSet(settings string) *pflag.FlagSet {
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	fs.String("elentra-settings", "", "")
	if settings != "" {
		fs.Set("elentra-settings", settings)
	}
	return fs
}

// clearEnv unsets every ELENTRA_TEAMS_ variable for the test.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, config.EnvPrefix) {
			name := kv[:strings.IndexByte(kv, '=')]
			t.Setenv(name, "")
			os.Unsetenv(name)
		}
	}
	t.Chdir(t.TempDir()) // no ./elentra-teams.yaml
}

func write(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEnvOnlyConfiguration(t *testing.T) {
	clearEnv(t)
	for k, v := range map[string]string{
		"ELENTRA_TEAMS_DATABASE_HOST":               "db.example.edu",
		"ELENTRA_TEAMS_DATABASE_USER":               "elentra",
		"ELENTRA_TEAMS_DATABASE_PASSWORD":           "fake-db-password",
		"ELENTRA_TEAMS_MICROSOFT_TENANT_ID":         "00000000-0000-0000-0000-0000000000aa",
		"ELENTRA_TEAMS_MICROSOFT_CLIENT_ID":         "00000000-0000-0000-0000-0000000000bb",
		"ELENTRA_TEAMS_MICROSOFT_CLIENT_SECRET":     "fake-secret",
		"ELENTRA_TEAMS_MICROSOFT_REDIRECT_URI":      "http://localhost:8400/callback",
		"ELENTRA_TEAMS_MICROSOFT_SCOPES":            "Mail.Read, Sites.Read.All",
		"ELENTRA_TEAMS_ELENTRA_TIMEZONE":            "America/Toronto",
		"ELENTRA_TEAMS_SYNC_EVENTS_HORIZON":         "21d",
		"ELENTRA_TEAMS_SYNC_CONCURRENCY":            "8",
		"ELENTRA_TEAMS_SYNC_REMOVE_UNMANAGED":       "true",
		"ELENTRA_TEAMS_TOKEN_ENCRYPTION_KEY":        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"ELENTRA_TEAMS_SYNC_OWNER_CONTACT_TYPES":    "director faculty",
		"ELENTRA_TEAMS_ELENTRA_OBJECT_ID_COLUMN":    "",
		"ELENTRA_TEAMS_SYNC_EVENT_SUBJECT_TEMPLATE": "{{.Title}}",
	} {
		t.Setenv(k, v)
	}
	l, err := loadConfig(flagSet(""), "")
	if err != nil {
		t.Fatal(err)
	}
	c := l.cfg
	if err := c.Validate(config.NeedDatabase | config.NeedMicrosoft | config.NeedTokenKey | config.NeedSync | config.NeedTimezone); err != nil {
		t.Fatalf("env-only config does not validate: %v", err)
	}
	if c.Database.Host != "db.example.edu" || c.Database.Password != "fake-db-password" || c.Database.Port != 3306 {
		t.Errorf("database = %+v", c.Database)
	}
	if time.Duration(c.Sync.EventsHorizon) != 21*24*time.Hour || c.Sync.Concurrency != 8 || !c.Sync.RemoveUnmanaged {
		t.Errorf("sync = %+v", c.Sync)
	}
	if strings.Join(c.Microsoft.Scopes, "|") != "Mail.Read|Sites.Read.All" {
		t.Errorf("scopes = %q", c.Microsoft.Scopes)
	}
	if strings.Join(c.Sync.OwnerContactTypes, "|") != "director|faculty" {
		t.Errorf("owner types = %q", c.Sync.OwnerContactTypes)
	}
	if c.Sync.EventSubjectTemplate != "{{.Title}}" || c.Sync.TeamNameTemplate != "{{.Code}} {{.Name}}" {
		t.Errorf("templates = %q %q", c.Sync.EventSubjectTemplate, c.Sync.TeamNameTemplate)
	}
	if c.File != "" {
		t.Errorf("no file expected, got %q", c.File)
	}
}

func TestPrecedence(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	settings := write(t, dir, "settings.inc.php", `<?php
define("DATABASE_HOST", "from-elentra");
define("DATABASE_USER", "elentra-user");
define("DATABASE_NAME", "elentra_db");
define("DEFAULT_TIMEZONE", "America/Edmonton");
define("AUTH_APP_ID", "7");
`)
	cfgFile := write(t, dir, "config.yaml", `
database:
  host: from-file
elentra:
  timezone: Europe/Paris
sync:
  concurrency: 2
  events_horizon: 336h
`)
	t.Setenv("ELENTRA_TEAMS_ELENTRA_TIMEZONE", "Asia/Tokyo")

	l, err := loadConfig(flagSet(settings), cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	c := l.cfg
	checks := []struct{ name, got, want string }{
		{"env beats file", c.Elentra.Timezone, "Asia/Tokyo"},
		{"file beats Elentra", c.Database.Host, "from-file"},
		{"Elentra beats default (name)", c.Database.Name, "elentra_db"},
		{"Elentra beats default (user)", c.Database.User, "elentra-user"},
		{"default", c.Database.AuthName, "entrada_auth"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s: got %q, want %q", ch.name, ch.got, ch.want)
		}
	}
	if c.Elentra.AppID != 7 || c.Sync.Concurrency != 2 || time.Duration(c.Sync.EventsHorizon) != 336*time.Hour {
		t.Errorf("app id %d, concurrency %d, horizon %v", c.Elentra.AppID, c.Sync.Concurrency, c.Sync.EventsHorizon)
	}
	if c.File != cfgFile {
		t.Errorf("File = %q", c.File)
	}
	if src := l.sourceOf("database.name"); !strings.Contains(src, "DATABASE_NAME in "+settings) {
		t.Errorf("source of database.name = %q", src)
	}
	if src := l.sourceOf("elentra.timezone"); src != "env ELENTRA_TEAMS_ELENTRA_TIMEZONE" {
		t.Errorf("source of elentra.timezone = %q", src)
	}
}

// Elentra's switch columns and their on values come from the config file
// or the environment; an on value YAML reads as a number is its text.
func TestElentraSwitchKeys(t *testing.T) {
	clearEnv(t)
	cfgFile := write(t, t.TempDir(), "c.yaml", `
database:
  host: db
  user: u
elentra:
  course_switch_column: entrada.courses.course_id.ms_teams_enabled
  course_switch_on: 1
  event_switch_on: "Yes"
`)
	t.Setenv("ELENTRA_TEAMS_ELENTRA_EVENT_SWITCH_COLUMN", "entrada.event_ms.event_id.teams")
	l, err := loadConfig(flagSet(""), cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	e := l.cfg.Elentra
	if e.CourseSwitchColumn != "entrada.courses.course_id.ms_teams_enabled" || e.CourseSwitchOn != "1" ||
		e.EventSwitchColumn != "entrada.event_ms.event_id.teams" || e.EventSwitchOn != "Yes" {
		t.Errorf("elentra = %+v", e)
	}
	if err := l.cfg.Validate(config.NeedDatabase); err != nil {
		t.Errorf("valid switch keys: %v", err)
	}
	t.Setenv("ELENTRA_TEAMS_ELENTRA_EVENT_SWITCH_COLUMN", "entrada.event_ms.event_id.teams; --")
	if l, err = loadConfig(flagSet(""), cfgFile); err == nil {
		err = l.cfg.Validate(config.NeedDatabase)
	}
	if err == nil || !strings.Contains(err.Error(), "elentra.event_switch_column") {
		t.Errorf("a column that is not four identifiers: %v", err)
	}
}

func TestSettingsFileFromConfigFile(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	settings := write(t, dir, "settings-production.inc.php", `<?php define("DATABASE_HOST", "php-host");`)
	cfgFile := write(t, dir, "c.yaml", "elentra:\n  settings_file: "+settings+"\n")
	l, err := loadConfig(flagSet(""), cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	if l.cfg.Database.Host != "php-host" {
		t.Errorf("elentra.settings_file in the config file was not read: host %q", l.cfg.Database.Host)
	}
}

func TestConfigErrors(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	cases := []struct {
		name, body string
		want       []string
	}{
		{"malformed", "database:\n  host: [unclosed\n", []string{"bad.yaml", "not valid YAML"}},
		{"unknown key", "sync:\n  remove_unmanged: true\n", []string{"bad.yaml: line 2", "sync.remove_unmanged", `did you mean "sync.remove_unmanaged"`}},
		{"unknown section", "databse:\n  host: x\n", []string{"line 1", "databse", "unknown key"}},
		{"wrong type", "sync:\n  concurrency: four\n", []string{"line 2", "sync.concurrency", `"four" is not a whole number`, "default 4"}},
		{"bool", "sync:\n  remove_unmanaged: maybe\n", []string{"sync.remove_unmanaged", "true or false"}},
		{"duration", "sync:\n  events_horizon: soon\n", []string{"sync.events_horizon", "336h", "14d"}},
		{"list of maps", "identity:\n  match: {a: b}\n", []string{"identity.match", "not a list"}},
		{"not a mapping", "- a\n- b\n", []string{"must be a mapping"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := write(t, dir, "bad.yaml", tc.body)
			_, err := loadConfig(flagSet(""), p)
			var ce *config.Error
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a configuration error", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not contain %q", err, w)
				}
			}
			if code, _, _ := exitCode(err); code != ExitUsage {
				t.Errorf("exit code %d, want 2", code)
			}
		})
	}
	t.Run("env type", func(t *testing.T) {
		t.Setenv("ELENTRA_TEAMS_DATABASE_PORT", "mysql")
		_, err := loadConfig(flagSet(""), "")
		if err == nil || !strings.Contains(err.Error(), "env ELENTRA_TEAMS_DATABASE_PORT") || !strings.Contains(err.Error(), "database.port") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("missing config file", func(t *testing.T) {
		_, err := loadConfig(flagSet(""), filepath.Join(dir, "nope.yaml"))
		if err == nil || !strings.Contains(err.Error(), "nope.yaml") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("unreadable settings", func(t *testing.T) {
		_, err := loadConfig(flagSet(filepath.Join(dir, "absent.inc.php")), "")
		if err == nil || !strings.Contains(err.Error(), "--elentra-settings") || !strings.Contains(err.Error(), "absent.inc.php") {
			t.Errorf("got %v", err)
		}
	})
}

// A secret file that does not exist yet stops only the commands that need it.
func TestMissingSecretFileOnlyForCommandsThatNeedIt(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	p := write(t, dir, "c.yaml", "microsoft:\n  client_secret_file: "+filepath.Join(dir, "not-yet")+"\n")
	l, err := loadConfig(flagSet(""), p)
	if err != nil {
		t.Fatalf("loading failed for want of a secret file: %v", err)
	}
	if err := l.cfg.ReadSecretFiles(config.NeedDatabase); err != nil {
		t.Errorf("a database-only command read the client secret file: %v", err)
	}
	err = l.cfg.ReadSecretFiles(config.NeedMicrosoft)
	var ce *config.Error
	if !errors.As(err, &ce) || ce.Key != "microsoft.client_secret_file" {
		t.Errorf("got %v", err)
	}
}

// No flag takes a secret, so none can show in `ps` or a shell's history:
// secrets come from the environment or *_file keys.
func TestNoFlagTakesASecret(t *testing.T) {
	root := NewRootCmd(&Factory{IO: &IOStreams{}, Now: time.Now})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.Flags().VisitAll(func(f *pflag.Flag) {
			n := strings.ToLower(f.Name)
			for _, bad := range []string{"secret", "password", "token", "key"} {
				if strings.Contains(n, bad) {
					t.Errorf("%s --%s looks like it takes a secret", c.CommandPath(), f.Name)
				}
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// The config file, Elentra's settings files and the secret files are read
// only when they are regular files, and only up to their limit: a mistyped
// path (/dev/zero, a pipe, a dump) stops the command at once with one line
// that names the file, what it is and the fix.
func TestInputFilesAreBounded(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// Valid files, padded past their limits with comments: read whole,
	// they load.
	bigYAML := write(t, dir, "big.yaml", "database:\n  host: db\n"+strings.Repeat("# padding\n", config.MaxConfigFileSize/10+1))
	bigPHP := write(t, dir, "settings.inc.php", "<?php\ndefine('DATABASE_HOST', 'db');\n"+strings.Repeat("// padding\n", config.MaxSettingsFileSize/11+1))
	okYAML := write(t, dir, "ok.yaml", "database:\n  host: db\n")
	secretYAML := write(t, dir, "secret.yaml", "database:\n  password_file: /dev/zero\n")

	tests := []struct {
		name, config, settings string
		need                   config.Need
		want                   []string
	}{
		{"config file over the limit", bigYAML, "", 0,
			[]string{"config file " + bigYAML + ": larger than the limit of 1 MiB; point --config"}},
		{"config file /dev/zero", "/dev/zero", "", 0,
			[]string{"config file /dev/zero: not a regular file (a character device); point --config (or ELENTRA_TEAMS_CONFIG) at the YAML config file"}},
		{"config file a pipe", fifo, "", 0,
			[]string{"config file " + fifo + ": not a regular file (a named pipe)"}},
		{"config file a directory", dir, "", 0,
			[]string{"config file " + dir + ": not a regular file (a directory)"}},
		{"settings over the limit", okYAML, bigPHP, 0,
			[]string{"--elentra-settings: elentra.settings_file: " + bigPHP + ": larger than the limit of 4 MiB; point it at Elentra's settings.inc.php"}},
		{"settings /dev/zero", okYAML, "/dev/zero", 0,
			[]string{"--elentra-settings: elentra.settings_file: /dev/zero: not a regular file (a character device)"}},
		{"settings a pipe", okYAML, fifo, 0,
			[]string{"elentra.settings_file: " + fifo + ": not a regular file (a named pipe)"}},
		{"secret file /dev/zero", secretYAML, "", config.NeedDatabase,
			[]string{"database.password_file: cannot read /dev/zero: not a regular file (a character device); point it at a file that holds only the secret"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := loadConfig(flagSet(tt.settings), tt.config)
			if err == nil && tt.need != 0 {
				err = l.cfg.ReadSecretFiles(tt.need)
			}
			var ce *config.Error
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a configuration error", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("%q is more than one line", err)
			}
			if code, _, _ := exitCode(err); code != ExitUsage {
				t.Errorf("exit code %d, want %d", code, ExitUsage)
			}
		})
	}

	// config.inc.php beside the settings is bounded the same way.
	sub := filepath.Join(dir, "elentra")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	settings := write(t, sub, "settings.inc.php", "<?php\ndefine('DATABASE_HOST', 'db');\n")
	if err := syscall.Mkfifo(filepath.Join(sub, "config.inc.php"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadConfig(flagSet(settings), okYAML); err == nil || !strings.Contains(err.Error(), filepath.Join(sub, "config.inc.php")+": not a regular file (a named pipe)") {
		t.Errorf("config.inc.php a pipe: got %v", err)
	}
}
