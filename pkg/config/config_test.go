package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"14d", 14 * 24 * time.Hour, true},
		{"336h", 336 * time.Hour, true},
		{"90m", 90 * time.Minute, true},
		{" 1d ", 24 * time.Hour, true},
		{"1.5d", 0, false},
		{"d", 0, false},
		{"fortnight", 0, false},
		{"-1d", 0, false},
	} {
		got, err := ParseDuration(c.in)
		if (err == nil) != c.ok || (c.ok && time.Duration(got) != c.want) {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v ok=%v", c.in, time.Duration(got), err, c.want, c.ok)
		}
	}
	if s := Duration(14 * 24 * time.Hour).String(); s != "14d" {
		t.Errorf("String = %q", s)
	}
	if s := Duration(90 * time.Minute).String(); s != "1h30m0s" {
		t.Errorf("String = %q", s)
	}
}

func TestKeysCoverEveryField(t *testing.T) {
	keys := Keys()
	paths := map[string]KeyInfo{}
	for _, k := range keys {
		paths[k.Path] = k
	}
	for _, want := range []string{
		"database.dsn", "database.host", "database.port", "database.socket", "database.user", "database.password",
		"database.password_file", "database.name", "database.auth_name", "database.tls",
		"microsoft.tenant_id", "microsoft.client_id", "microsoft.client_secret", "microsoft.client_secret_file",
		"microsoft.redirect_uri", "microsoft.authority", "microsoft.auth_url", "microsoft.token_url",
		"microsoft.graph_endpoint", "microsoft.scopes", "microsoft.auth_mode",
		"elentra.settings_file", "elentra.url", "elentra.organisation_id", "elentra.admin_user_id", "elentra.timezone",
		"elentra.app_id", "elentra.object_id_column", "identity.match",
		"sync.all_active_courses", "sync.all_course_events", "sync.owner_contact_types", "sync.member_contact_types",
		"sync.team_name_template", "sync.team_template", "sync.course_end", "sync.remove_unmanaged",
		"sync.removal_guard_percent", "sync.max_actions", "sync.concurrency", "sync.events_horizon",
		"sync.event_requires_team", "sync.event_attendees", "sync.event_subject_template",
		"token.encryption_key", "token.encryption_key_file",
	} {
		if _, ok := paths[want]; !ok {
			t.Errorf("key %s missing", want)
		}
	}
	if k := paths["microsoft.client_secret"]; !k.Secret || k.EnvName() != "ELENTRA_TEAMS_MICROSOFT_CLIENT_SECRET" {
		t.Errorf("client_secret = %+v, env %s", k, k.EnvName())
	}
	if k := paths["sync.events_horizon"]; k.Kind != KindDuration || k.Default != "14d" {
		t.Errorf("events_horizon = %+v", k)
	}
	if k := paths["database.port"]; k.Kind != KindInt || k.Default != 3306 {
		t.Errorf("port = %+v", k)
	}
}

func TestNearestKey(t *testing.T) {
	for in, want := range map[string]string{
		"sync.remove_unmanged":   "sync.remove_unmanaged",
		"database.hostname":      "database.host",
		"microsoft.tennant_id":   "microsoft.tenant_id",
		"sync.timezone":          "elentra.timezone",
		"completely.unrelated.x": "",
	} {
		if got := NearestKey(in); got != want {
			t.Errorf("NearestKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func validConfig() Config {
	c := Defaults()
	c.Database.Host = "127.0.0.1"
	c.Database.User = "elentra"
	c.Microsoft.TenantID = "00000000-0000-0000-0000-0000000000aa"
	c.Microsoft.ClientID = "00000000-0000-0000-0000-0000000000bb"
	c.Microsoft.ClientSecret = "fake-secret"
	c.Microsoft.RedirectURI = "http://localhost:8400/callback"
	c.Elentra.Timezone = "America/Toronto"
	c.Token.EncryptionKey = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	return c
}

func TestValidate(t *testing.T) {
	all := NeedDatabase | NeedMicrosoft | NeedTokenKey | NeedSync | NeedTimezone
	if err := (func() *Config { c := validConfig(); return &c })().Validate(all); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	cases := []struct {
		name  string
		needs Need
		edit  func(*Config)
		key   string
	}{
		{"no database", NeedDatabase, func(c *Config) { c.Database.Host = "" }, "database.host"},
		{"bad schema", NeedDatabase, func(c *Config) { c.Database.AuthName = "auth; drop" }, "database.auth_name"},
		{"bad tls", NeedDatabase, func(c *Config) { c.Database.TLS = "maybe" }, "database.tls"},
		{"bad zone", NeedDatabase, func(c *Config) { c.Elentra.Timezone = "Mars/Olympus" }, "elentra.timezone"},
		{"bad object id column", NeedDatabase, func(c *Config) { c.Elentra.ObjectIDColumn = "a.b.c" }, "elentra.object_id_column"},
		{"bad course switch column", NeedDatabase, func(c *Config) { c.Elentra.CourseSwitchColumn = "entrada.courses.course_id.`x`" }, "elentra.course_switch_column"},
		{"bad event switch column", NeedSync, func(c *Config) { c.Elentra.EventSwitchColumn = "entrada.events.event_id" }, "elentra.event_switch_column"},
		{"empty course switch on", NeedDatabase, func(c *Config) {
			c.Elentra.CourseSwitchColumn, c.Elentra.CourseSwitchOn = "entrada.courses.course_id.ms_teams", " "
		}, "elentra.course_switch_on"},
		{"empty event switch on", NeedDatabase, func(c *Config) {
			c.Elentra.EventSwitchColumn, c.Elentra.EventSwitchOn = "entrada.events.event_id.ms_teams", ""
		}, "elentra.event_switch_on"},
		{"tenant missing", NeedMicrosoft, func(c *Config) { c.Microsoft.TenantID = "" }, "microsoft.tenant_id"},
		{"client id not guid", NeedMicrosoft, func(c *Config) { c.Microsoft.ClientID = "my-app" }, "microsoft.client_id"},
		{"secret missing", NeedMicrosoft, func(c *Config) { c.Microsoft.ClientSecret = "" }, "microsoft.client_secret"},
		{"graph with version", NeedMicrosoft, func(c *Config) { c.Microsoft.GraphEndpoint = "https://graph.microsoft.com/v1.0" }, "microsoft.graph_endpoint"},
		{"plain http remote", NeedMicrosoft, func(c *Config) { c.Microsoft.Authority = "http://login.example.com" }, "microsoft.authority"},
		{"plain http to a name starting 127.", NeedMicrosoft, func(c *Config) { c.Microsoft.TokenURL = "http://127.attacker.example/token" }, "microsoft.token_url"},
		{"plain http to a name starting localhost", NeedMicrosoft, func(c *Config) { c.Microsoft.GraphEndpoint = "http://localhost.attacker.example" }, "microsoft.graph_endpoint"},
		{"no key", NeedTokenKey, func(c *Config) { c.Token.EncryptionKey = "" }, "token.encryption_key"},
		{"short key", NeedTokenKey, func(c *Config) { c.Token.EncryptionKey = "c2hvcnQ=" }, "token.encryption_key"},
		{"bad template", NeedSync, func(c *Config) { c.Sync.TeamNameTemplate = "{{.Cod}}" }, "sync.team_name_template"},
		{"bad course end", NeedSync, func(c *Config) { c.Sync.CourseEnd = "delete" }, "sync.course_end"},
		{"education delegated", NeedSync, func(c *Config) { c.Sync.TeamTemplate = "educationClass" }, "sync.team_template"},
		{"bad match", NeedSync, func(c *Config) { c.Identity.Match = []string{"email"} }, "identity.match"},
		{"bad contact type", NeedSync, func(c *Config) { c.Sync.OwnerContactTypes = []string{"dean"} }, "sync.owner_contact_types"},
		{"zero concurrency", NeedSync, func(c *Config) { c.Sync.Concurrency = 0 }, "sync.concurrency"},
		{"no zone", NeedTimezone, func(c *Config) { c.Elentra.Timezone = "" }, "elentra.timezone"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			tc.edit(&c)
			err := c.Validate(tc.needs)
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want *Error", err)
			}
			if ce.Key != tc.key || ce.Fix == "" {
				t.Errorf("got key %q fix %q (%v), want key %q with a fix", ce.Key, ce.Fix, err, tc.key)
			}
		})
	}
	// a command checks only what it needs
	c := validConfig()
	c.Microsoft = Microsoft{}
	c.Token = Token{}
	if err := c.Validate(NeedDatabase); err != nil {
		t.Errorf("database-only command failed on Microsoft keys: %v", err)
	}
}

func TestEncryptionKeyWhitespace(t *testing.T) {
	tok := Token{EncryptionKey: "  AAAAAAAAAAAAAAAAAAAAAA\nAAAAAAAAAAAAAAAAAAAAA=\n"}
	k, err := tok.Key()
	if err != nil || len(k) != 32 {
		t.Fatalf("Key = %d bytes, %v", len(k), err)
	}
}

func TestReadSecretFiles(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "secret")
	os.WriteFile(p, []byte("fake-from-file\n"), 0o600)
	c := validConfig()
	c.Microsoft.ClientSecretFile = p
	if err := c.ReadSecretFiles(NeedMicrosoft | NeedTokenKey); err != nil {
		t.Fatal(err)
	}
	if c.Microsoft.ClientSecret != "fake-from-file" {
		t.Errorf("secret = %q", c.Microsoft.ClientSecret)
	}
	c.Token.EncryptionKeyFile = filepath.Join(dir, "absent")
	err := c.ReadSecretFiles(NeedMicrosoft | NeedTokenKey)
	var ce *Error
	if !errors.As(err, &ce) || ce.Key != "token.encryption_key_file" || !strings.Contains(ce.Problem, "absent") {
		t.Errorf("missing file: %v", err)
	}
}

func TestRequiredScopes(t *testing.T) {
	m := Microsoft{Scopes: []string{"user.readbasic.all", "Mail.Read Sites.Read.All"}}
	got := strings.Join(m.RequiredScopes(), " ")
	want := "offline_access User.ReadBasic.All Group.ReadWrite.All Team.Create Team.ReadBasic.All TeamMember.ReadWrite.All Calendars.ReadWrite Mail.Read Sites.Read.All"
	if got != want {
		t.Errorf("scopes = %q\nwant %q", got, want)
	}
	m = Microsoft{Authority: "https://login.microsoftonline.com/", TenantID: "t"}
	if m.AuthorizeURL() != "https://login.microsoftonline.com/t/oauth2/v2.0/authorize" || m.TokenEndpoint() != "https://login.microsoftonline.com/t/oauth2/v2.0/token" {
		t.Errorf("endpoints %s %s", m.AuthorizeURL(), m.TokenEndpoint())
	}
	m.TokenURL = "http://127.0.0.1:9/token"
	if m.TokenEndpoint() != "http://127.0.0.1:9/token" {
		t.Error("token_url must override")
	}
}

// A name template renders into a capped buffer, and its functions make
// capped strings: check-config refuses a template that would take the
// memory of the machine, with the key and the limit.
func TestNameTemplatesAreCapped(t *testing.T) {
	for _, text := range []string{
		"{{range 2000000}}x{{end}}",
		"{{.Code}}{{range 200000}} {{$.Name}}{{end}}",
		// a string doubled in a variable, never written until the end
		`{{$x := "\\"}}{{range 24}}{{$x = js $x}}{{end}}{{len $x}}`,
		`{{$x := "a"}}{{range 20}}{{$x = print $x $x}}{{end}}{{len $x}}`,
		`{{$x := "a"}}{{range 20}}{{$x = printf "%s%s" $x $x}}{{end}}{{len $x}}`,
	} {
		t.Run(text, func(t *testing.T) {
			c := Defaults()
			c.Sync.TeamNameTemplate = text
			err := c.validateSync()
			var ce *Error
			if !errors.As(err, &ce) || ce.Key != "sync.team_name_template" || !strings.Contains(ce.Problem, "writes more than 64 KiB") {
				t.Fatalf("got %v, want sync.team_name_template refused for writing more than 64 KiB", err)
			}
			if !strings.Contains(ce.Fix, "{{.Code}}") {
				t.Errorf("fix %q names no field", ce.Fix)
			}
		})
	}
	// Up to the limit, a template writes what it writes.
	tm, err := ParseNameTemplate("t", "{{range 65536}}x{{end}}")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := RenderTemplate(tm, nil); err != nil || len(out) != MaxTemplateOutput {
		t.Errorf("a template of exactly the limit: %d bytes, %v", len(out), err)
	}
}

// IsLoopbackHost parses the address: a public name that merely starts like
// a loopback address is not this machine, so tokens never go to it over
// plain http.
func TestIsLoopbackHost(t *testing.T) {
	for h, want := range map[string]bool{
		"localhost":                  true,
		"LocalHost":                  true,
		"127.0.0.1":                  true,
		"127.0.0.2":                  true,
		"127.255.255.254":            true,
		"::1":                        true,
		"::ffff:127.0.0.1":           true,
		"127.attacker.example":       false,
		"127.0.0.1.attacker.example": false,
		"127.1":                      false, // not an address Go's resolver or the URL parser agree on
		"localhost.attacker.example": false,
		"attacker-localhost":         false,
		"0.0.0.0":                    false,
		"::":                         false,
		"10.0.0.1":                   false,
		"":                           false,
	} {
		if got := IsLoopbackHost(h); got != want {
			t.Errorf("IsLoopbackHost(%q) = %v, want %v", h, got, want)
		}
	}
}
