package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"
)

// Error is a configuration problem: the key, where its value came from, what
// is wrong and how to fix it. The command layer maps it to exit code 2.
type Error struct {
	Key     string
	Source  string // "config file /etc/elentra-teams/config.yaml", "env ELENTRA_TEAMS_…", "" when unknown
	Problem string
	Fix     string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Source != "" {
		b.WriteString(e.Source)
		b.WriteString(": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Problem)
	if e.Fix != "" {
		b.WriteString("; ")
		b.WriteString(e.Fix)
	}
	return b.String()
}

// Need says which parts of the configuration a command uses; Validate checks
// only those, so `setup` never fails for want of a Microsoft secret.
type Need uint

const (
	NeedDatabase  Need = 1 << iota // database.* and elentra.* basics
	NeedMicrosoft                  // tenant, client, secret, endpoints
	NeedTokenKey                   // token.encryption_key
	NeedSync                       // sync.* and identity.* policies
	NeedTimezone                   // elentra.timezone must name a zone
)

var (
	guidRE   = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	domainRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$`)
	identRE  = regexp.MustCompile(`^[A-Za-z0-9_$]{1,64}$`)
	// groupPrefixRE keeps nicknames within Graph's 64 ASCII characters with
	// room for the ids.
	groupPrefixRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,19}$`)
)

// IsGUID reports whether s has the form of a GUID.
func IsGUID(s string) bool { return guidRE.MatchString(s) }

// Validate checks the parts of the configuration a command needs. It returns
// the first problem as an *Error.
func (c *Config) Validate(needs Need) error {
	if needs&(NeedDatabase|NeedSync|NeedTimezone) != 0 {
		if err := c.validateDatabase(); err != nil {
			return err
		}
		if err := c.validateElentra(); err != nil {
			return err
		}
	}
	if needs&NeedMicrosoft != 0 {
		if err := c.validateMicrosoft(); err != nil {
			return err
		}
	}
	if needs&NeedTokenKey != 0 {
		if _, err := c.Token.Key(); err != nil {
			return err
		}
	}
	if needs&NeedSync != 0 {
		if err := c.validateSync(); err != nil {
			return err
		}
	}
	if needs&NeedTimezone != 0 {
		if c.Elentra.Timezone == "" {
			return &Error{Key: "elentra.timezone", Problem: "not set",
				Fix: "set it to Elentra's DEFAULT_TIMEZONE, e.g. America/Toronto (or point elentra.settings_file at settings.inc.php)"}
		}
	}
	return nil
}

func (c *Config) validateDatabase() error {
	d := c.Database
	if d.DSN == "" && d.Host == "" && d.Socket == "" {
		return &Error{Key: "database.host", Problem: "no database is configured",
			Fix: "set database.host (or database.socket, or database.dsn), or point --elentra-settings at Elentra's settings.inc.php"}
	}
	if d.DSN == "" && d.User == "" {
		return &Error{Key: "database.user", Problem: "not set", Fix: "set the MySQL user Elentra's database is read with"}
	}
	if d.Port < 1 || d.Port > 65535 {
		return &Error{Key: "database.port", Problem: fmt.Sprintf("%d is not a TCP port", d.Port), Fix: "use a number from 1 to 65535 (MySQL's is 3306)"}
	}
	for _, k := range []struct{ key, val string }{{"database.name", d.Name}, {"database.auth_name", d.AuthName}} {
		if !identRE.MatchString(k.val) {
			return &Error{Key: k.key, Problem: fmt.Sprintf("%q is not a schema name", k.val),
				Fix: "use letters, digits, _ or $ only, at most 64 (Elentra's defaults are entrada and entrada_auth)"}
		}
	}
	switch strings.ToLower(d.TLS) {
	case "", "off", "false", "true", "skip-verify", "preferred":
	default:
		return &Error{Key: "database.tls", Problem: fmt.Sprintf("%q is not a TLS mode", d.TLS), Fix: "use off, true, skip-verify or preferred"}
	}
	return nil
}

func (c *Config) validateElentra() error {
	e := c.Elentra
	if e.OrganisationID < 1 {
		return &Error{Key: "elentra.organisation_id", Problem: fmt.Sprintf("%d is not an organisation id", e.OrganisationID), Fix: "use the organisation_id of your school (usually 1)"}
	}
	if e.AdminUserID < 1 {
		return &Error{Key: "elentra.admin_user_id", Problem: fmt.Sprintf("%d is not a user id", e.AdminUserID), Fix: "use Elentra's administrator proxy id (1, the medtech:admin user)"}
	}
	if e.AppID < 1 {
		return &Error{Key: "elentra.app_id", Problem: fmt.Sprintf("%d is not an application id", e.AppID), Fix: "use Elentra's AUTH_APP_ID (usually 1)"}
	}
	if e.Timezone != "" {
		if _, err := time.LoadLocation(e.Timezone); err != nil {
			return &Error{Key: "elentra.timezone", Problem: fmt.Sprintf("%q is not an IANA time zone", e.Timezone), Fix: "use Elentra's DEFAULT_TIMEZONE, e.g. America/Toronto"}
		}
	}
	if e.URL != "" {
		if u, err := url.Parse(e.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return &Error{Key: "elentra.url", Problem: fmt.Sprintf("%q is not an http(s) URL", e.URL), Fix: "use Elentra's ENTRADA_URL, e.g. https://elentra.example.edu"}
		}
	}
	for _, k := range ColumnKeys(e) {
		if k.Spec == "" {
			continue
		}
		if _, err := ParseColumn(k.Key, k.Spec); err != nil {
			return err
		}
		if k.OnKey != "" && (strings.TrimSpace(k.On) == "" || len(k.On) > 255) {
			return &Error{Key: k.OnKey, Problem: fmt.Sprintf("%q is not a value a column holds", k.On),
				Fix: "give the value of " + k.Key + " that means on, e.g. 1 (the default)"}
		}
	}
	return nil
}

// ColumnKey is one of the keys that name a column of Elentra's:
// elentra.object_id_column, and Elentra's course and event switches with
// the keys of their "on" values.
type ColumnKey struct {
	Key  string // elentra.course_switch_column
	Spec string // its value, "" when unset
	// OnKey and On are the key of the value that means "on" and that
	// value; "" for object_id_column.
	OnKey, On string
	// Keyed is what the key column holds: proxy id, course_id or event_id.
	Keyed string
	// Example is a value of the key, for messages.
	Example string
}

// ColumnKeys returns the column keys of e, object_id_column first.
func ColumnKeys(e Elentra) []ColumnKey {
	return []ColumnKey{
		{Key: "elentra.object_id_column", Spec: e.ObjectIDColumn, Keyed: "proxy id",
			Example: "entrada_auth.user_data.id.microsoft_object_id"},
		{Key: "elentra.course_switch_column", Spec: e.CourseSwitchColumn, OnKey: "elentra.course_switch_on", On: e.CourseSwitchOn,
			Keyed: "course_id", Example: "entrada.courses.course_id.ms_teams_enabled"},
		{Key: "elentra.event_switch_column", Spec: e.EventSwitchColumn, OnKey: "elentra.event_switch_on", On: e.EventSwitchOn,
			Keyed: "event_id", Example: "entrada.events.event_id.ms_teams_meeting"},
	}
}

// Column names a column of Elentra's read by a key: key_column says whose
// value value_column holds.
type Column struct{ Schema, Table, KeyColumn, ValueColumn string }

// String is the column as the keys write it.
func (c Column) String() string {
	return c.Schema + "." + c.Table + "." + c.KeyColumn + "." + c.ValueColumn
}

// ParseColumn reads key's value, schema.table.key_column.value_column, each
// part a plain identifier (they are put in SQL, so nothing else is
// accepted).
func ParseColumn(key, s string) (Column, error) {
	parts := strings.Split(s, ".")
	bad := len(parts) != 4
	for _, p := range parts {
		if !identRE.MatchString(p) {
			bad = true
		}
	}
	if bad {
		example := "entrada_auth.user_data.id.microsoft_object_id"
		for _, k := range ColumnKeys(Elentra{}) {
			if k.Key == key {
				example = k.Example
			}
		}
		return Column{}, &Error{Key: key, Problem: fmt.Sprintf("%q is not schema.table.key_column.value_column", s),
			Fix: "name four plain identifiers, e.g. " + example}
	}
	return Column{parts[0], parts[1], parts[2], parts[3]}, nil
}

func (c *Config) validateMicrosoft() error {
	m := c.Microsoft
	switch m.AuthMode {
	case "delegated", "application":
	default:
		return &Error{Key: "microsoft.auth_mode", Problem: fmt.Sprintf("%q is not an auth mode", m.AuthMode), Fix: "use delegated (an administrator's sign-in) or application (client credentials)"}
	}
	if m.TenantID == "" {
		return &Error{Key: "microsoft.tenant_id", Problem: "not set", Fix: "set the Directory (tenant) ID of your app registration (Elentra's MS_AD_TENANT_ID)"}
	}
	if !IsGUID(m.TenantID) && !domainRE.MatchString(m.TenantID) {
		return &Error{Key: "microsoft.tenant_id", Problem: fmt.Sprintf("%q is neither a GUID nor a domain", m.TenantID), Fix: "copy the Directory (tenant) ID from the app registration's Overview page"}
	}
	if m.ClientID == "" {
		return &Error{Key: "microsoft.client_id", Problem: "not set", Fix: "set the Application (client) ID of your app registration (Elentra's MS_OAUTH_CLIENT_ID)"}
	}
	if !IsGUID(m.ClientID) {
		return &Error{Key: "microsoft.client_id", Problem: fmt.Sprintf("%q is not a GUID", m.ClientID), Fix: "copy the Application (client) ID from the app registration's Overview page"}
	}
	if m.ClientSecret == "" && !(m.Application() && m.ClientCertificateFile != "") {
		fix := "set ELENTRA_TEAMS_MICROSOFT_CLIENT_SECRET or microsoft.client_secret_file to the client secret's Value (not its ID)"
		if m.Application() {
			fix += ", or microsoft.client_certificate_file to a PEM file with the app's certificate and key"
		}
		return &Error{Key: "microsoft.client_secret", Problem: "not set", Fix: fix}
	}
	if m.RedirectURI == "" && !m.Application() {
		return &Error{Key: "microsoft.redirect_uri", Problem: "not set", Fix: "set it to the redirect URI registered for this tool, e.g. http://localhost:8400/callback"}
	}
	if m.Application() && m.Organizer == "" {
		return &Error{Key: "microsoft.organizer", Problem: "not set (application mode needs a mailbox for the meetings)",
			Fix: "name the user (object id or userPrincipalName) whose calendar holds the meetings; it needs a Teams application access policy (docs/setup.md)"}
	}
	for _, k := range []struct{ key, val string }{
		{"microsoft.redirect_uri", m.RedirectURI}, {"microsoft.authority", m.Authority}, {"microsoft.auth_url", m.AuthURL},
		{"microsoft.token_url", m.TokenURL}, {"microsoft.graph_endpoint", m.GraphEndpoint},
	} {
		if k.val == "" {
			continue
		}
		u, err := url.Parse(k.val)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return &Error{Key: k.key, Problem: fmt.Sprintf("%q is not an http(s) URL", k.val), Fix: "give a full URL"}
		}
		if k.key != "microsoft.redirect_uri" && u.Scheme == "http" && !IsLoopbackHost(u.Hostname()) {
			return &Error{Key: k.key, Problem: fmt.Sprintf("%q is plain http to a host that is not this machine", k.val), Fix: "use https (plain http is allowed for 127.0.0.1 and localhost only)"}
		}
	}
	if strings.HasSuffix(strings.TrimRight(m.GraphEndpoint, "/"), "/v1.0") {
		return &Error{Key: "microsoft.graph_endpoint", Problem: "ends with /v1.0", Fix: "give the base URL without the version, e.g. https://graph.microsoft.com"}
	}
	if strings.Contains(strings.TrimPrefix(m.Authority, "https://"), "/oauth2") {
		return &Error{Key: "microsoft.authority", Problem: "includes the endpoint path", Fix: "give the base URL without tenant or path, e.g. https://login.microsoftonline.com"}
	}
	return nil
}

// IsLoopbackHost reports whether a URL's host (as url.URL.Hostname gives it,
// without brackets or port) is this machine: the name localhost, or an IP
// address in the loopback range (127.0.0.0/8, ::1). The address is parsed,
// so a public name that only starts like one (127.example.com) is not this
// machine. It is the one rule for plain http endpoints and for the redirect
// URI that authorize answers itself.
func IsLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(h)
	return err == nil && ip.Zone() == "" && ip.Unmap().IsLoopback()
}

func (c *Config) validateSync() error {
	s := c.Sync
	for _, m := range c.Identity.Match {
		if m != "mail" && m != "userPrincipalName" {
			return &Error{Key: "identity.match", Problem: fmt.Sprintf("%q is not a directory property the tool matches on", m), Fix: "list mail and/or userPrincipalName"}
		}
	}
	if len(c.Identity.Match) == 0 {
		return &Error{Key: "identity.match", Problem: "empty", Fix: "list mail and/or userPrincipalName"}
	}
	validTypes := map[string]bool{"director": true, "ccoordinator": true, "pcoordinator": true, "faculty": true, "evaluationrep": true, "studentrep": true, "ta": true}
	for _, k := range []struct {
		key  string
		list []string
	}{{"sync.owner_contact_types", s.OwnerContactTypes}, {"sync.member_contact_types", s.MemberContactTypes}} {
		for _, t := range k.list {
			if !validTypes[t] {
				return &Error{Key: k.key, Problem: fmt.Sprintf("%q is not an Elentra contact type", t), Fix: "use director, ccoordinator, pcoordinator, faculty, evaluationrep, studentrep or ta"}
			}
		}
	}
	if err := checkTemplate("sync.team_name_template", s.TeamNameTemplate, map[string]any{"Code": "MED101", "Name": "Anatomy", "Period": "2026-2027", "ID": 1}); err != nil {
		return err
	}
	if err := checkTemplate("sync.event_subject_template", s.EventSubjectTemplate, map[string]any{"CourseCode": "MED101", "CourseName": "Anatomy", "Title": "Lecture", "ID": 1, "Start": time.Time{}}); err != nil {
		return err
	}
	switch s.TeamTemplate {
	case "standard":
	case "educationClass":
		if !c.Microsoft.Application() {
			return &Error{Key: "sync.team_template", Problem: "educationClass needs application mode", Fix: "use standard with microsoft.auth_mode delegated"}
		}
	default:
		return &Error{Key: "sync.team_template", Problem: fmt.Sprintf("%q is not a Teams template the tool supports", s.TeamTemplate), Fix: "use standard"}
	}
	if !groupPrefixRE.MatchString(s.GroupPrefix) {
		return &Error{Key: "sync.group_prefix", Problem: fmt.Sprintf("%q is not a nickname prefix", s.GroupPrefix),
			Fix: "use 1 to 20 lower-case letters, digits or '-', starting with a letter, e.g. elentra or elentra-staging"}
	}
	if s.AdminLeavesTeams && c.Microsoft.Application() {
		return &Error{Key: "sync.admin_leaves_teams", Problem: "applies to delegated mode only (in application mode no account joins the Teams)", Fix: "remove it"}
	}
	if s.FallbackOwner != "" && !c.Microsoft.Application() {
		return &Error{Key: "sync.fallback_owner", Problem: "applies to application mode only (in delegated mode the authorizing account owns every Team it creates)", Fix: "remove it, or set microsoft.auth_mode: application"}
	}
	if s.CourseEnd != "keep" && s.CourseEnd != "archive" {
		return &Error{Key: "sync.course_end", Problem: fmt.Sprintf("%q is not a course-end policy", s.CourseEnd), Fix: "use keep or archive"}
	}
	for _, k := range []struct {
		key string
		val int
	}{{"sync.removal_guard_percent", s.RemovalGuardPercent}, {"sync.cancel_guard_percent", s.CancelGuardPercent},
		{"sync.run_removal_guard_percent", s.RunRemovalGuardPercent}, {"sync.run_cancel_guard_percent", s.RunCancelGuardPercent},
		{"sync.run_archive_guard_percent", s.RunArchiveGuardPercent}} {
		if k.val < 0 || k.val > 100 {
			return &Error{Key: k.key, Problem: fmt.Sprintf("%d is not a percentage", k.val), Fix: "use 0 to 100"}
		}
	}
	for _, k := range []struct {
		key string
		val int
	}{{"sync.run_removal_guard_minimum", s.RunRemovalGuardMinimum}, {"sync.run_cancel_guard_minimum", s.RunCancelGuardMinimum},
		{"sync.run_archive_guard_minimum", s.RunArchiveGuardMinimum}} {
		if k.val < 0 {
			return &Error{Key: k.key, Problem: fmt.Sprintf("%d is negative", k.val), Fix: "use 0 or more: the run guard never holds this many or fewer"}
		}
	}
	if s.MaxActions < 1 {
		return &Error{Key: "sync.max_actions", Problem: fmt.Sprintf("%d caps every run at nothing", s.MaxActions), Fix: "use a positive number (default 5000)"}
	}
	if s.Concurrency < 1 || s.Concurrency > 64 {
		return &Error{Key: "sync.concurrency", Problem: fmt.Sprintf("%d workers is out of range", s.Concurrency), Fix: "use 1 to 64 (default 4)"}
	}
	if s.EventsHorizon <= 0 {
		return &Error{Key: "sync.events_horizon", Problem: "must be positive", Fix: "use e.g. 14d or 336h"}
	}
	switch s.EventAttendees {
	case "none", "teachers", "audience":
	default:
		return &Error{Key: "sync.event_attendees", Problem: fmt.Sprintf("%q is not an attendee policy", s.EventAttendees), Fix: "use none, teachers or audience"}
	}
	return nil
}

// checkTemplate parses a name template and runs it on sample data, so a typo
// in a field name is reported before any sync.
func checkTemplate(key, text string, sample map[string]any) error {
	t, err := ParseNameTemplate(key, text)
	if err != nil {
		return &Error{Key: key, Problem: "not a valid template: " + strings.TrimPrefix(err.Error(), "template: "), Fix: "use Go template syntax such as {{.Code}} {{.Name}}"}
	}
	out, err := RenderTemplate(t, sample)
	if errors.Is(err, ErrTemplateTooLong) {
		return &Error{Key: key, Problem: "the template " + ErrTemplateTooLong.Error() + " for one name",
			Fix: "a name is at most 256 characters: write it from fields such as " + fieldList(sample) + ", without a loop"}
	}
	if err != nil {
		return &Error{Key: key, Problem: "template fails: " + strings.TrimPrefix(err.Error(), "template: "), Fix: "use only the fields " + fieldList(sample)}
	}
	if strings.TrimSpace(out) == "" {
		return &Error{Key: key, Problem: "template gives an empty name", Fix: "use fields such as " + fieldList(sample)}
	}
	return nil
}

func fieldList(m map[string]any) string {
	var names []string
	for _, k := range []string{"Code", "Name", "Period", "ID", "CourseCode", "CourseName", "Title", "Start"} {
		if _, ok := m[k]; ok {
			names = append(names, "{{."+k+"}}")
		}
	}
	return strings.Join(names, " ")
}

// Key returns the 32-byte token encryption key.
func (t Token) Key() ([]byte, error) {
	if t.EncryptionKey == "" {
		return nil, &Error{Key: "token.encryption_key", Problem: "not set",
			Fix: "make one with `openssl rand -base64 32` and put it in a file named by token.encryption_key_file (mode 0600), or in ELENTRA_TEAMS_TOKEN_ENCRYPTION_KEY"}
	}
	clean := strings.Join(strings.Fields(t.EncryptionKey), "")
	key, err := base64.StdEncoding.DecodeString(clean)
	if err != nil || len(key) != 32 {
		return nil, &Error{Key: "token.encryption_key", Problem: "not standard base64 of 32 bytes",
			Fix: "make one with `openssl rand -base64 32`"}
	}
	return key, nil
}

// ReadSecretFiles loads the *_file keys of what a command needs into their
// values (a command that needs no database reads no password file). A file
// key wins over an inline value, so a secret can move to a file without
// editing Elentra's settings. Every needed file is tried; the first problem
// is returned.
func (c *Config) ReadSecretFiles(needs Need) error {
	var first error
	for _, s := range []struct {
		key  string
		path string
		dst  *string
		need Need
	}{
		{"database.password_file", c.Database.PasswordFile, &c.Database.Password, NeedDatabase | NeedSync | NeedTimezone},
		{"microsoft.client_secret_file", c.Microsoft.ClientSecretFile, &c.Microsoft.ClientSecret, NeedMicrosoft},
		{"token.encryption_key_file", c.Token.EncryptionKeyFile, &c.Token.EncryptionKey, NeedTokenKey},
	} {
		if s.path == "" || needs&s.need == 0 {
			continue
		}
		b, err := ReadFile(s.path, MaxSecretFileSize)
		if err != nil {
			if first == nil {
				fix := "check the path and that the user running elentra-teams can read it"
				if errors.Is(err, ErrNotRegular) || errors.Is(err, ErrTooLarge) {
					fix = "point it at a file that holds only the secret"
				}
				first = &Error{Key: s.key, Problem: fmt.Sprintf("cannot read %s: %v", s.path, unwrapPathError(err)), Fix: fix}
			}
			continue
		}
		v := strings.TrimRight(string(b), "\r\n")
		if strings.TrimSpace(v) == "" {
			if first == nil {
				first = &Error{Key: s.key, Problem: s.path + " is empty", Fix: "put the secret in the file"}
			}
			continue
		}
		*s.dst = v
	}
	return first
}

// AllNeeds is every part of the configuration.
const AllNeeds = NeedDatabase | NeedMicrosoft | NeedTokenKey | NeedSync | NeedTimezone

func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
