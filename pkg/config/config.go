// Package config holds elentra-teams' typed configuration, its defaults, its
// per-command validation and the readers of Elentra's own PHP settings files.
//
// It knows nothing of cobra or viper: the command layer fills a Config from
// flags, environment, the config file and Elentra's settings, then hands it to
// the domain packages.
package config

import (
	"fmt"
	"strings"
	"time"
)

// Config is the whole configuration. The mapstructure tags are the key paths
// of the config file (`database.host`), and, upper-cased with `_` for `.` and
// the ELENTRA_TEAMS_ prefix, the environment variable names.
type Config struct {
	Database  Database  `mapstructure:"database"`
	Microsoft Microsoft `mapstructure:"microsoft"`
	Elentra   Elentra   `mapstructure:"elentra"`
	Identity  Identity  `mapstructure:"identity"`
	Sync      Sync      `mapstructure:"sync"`
	Token     Token     `mapstructure:"token"`

	// File is the config file that was read, "" when none was. Not a key.
	File string `mapstructure:"-"`
}

// Database says how to reach Elentra's MySQL/MariaDB server.
type Database struct {
	// DSN is a complete go-sql-driver DSN; when set, the parts below are not used
	// to build one (Name and AuthName still name the two schemas).
	DSN          string `mapstructure:"dsn" secret:"true"`
	Host         string `mapstructure:"host"`
	Port         int    `mapstructure:"port"`
	Socket       string `mapstructure:"socket"`
	User         string `mapstructure:"user"`
	Password     string `mapstructure:"password" secret:"true"`
	PasswordFile string `mapstructure:"password_file"`
	Name         string `mapstructure:"name"`
	AuthName     string `mapstructure:"auth_name"`
	// TLS is off, true (verify), skip-verify or preferred.
	TLS string `mapstructure:"tls"`
}

// Microsoft names the Entra ID application and the endpoints.
type Microsoft struct {
	TenantID         string   `mapstructure:"tenant_id"`
	ClientID         string   `mapstructure:"client_id"`
	ClientSecret     string   `mapstructure:"client_secret" secret:"true"`
	ClientSecretFile string   `mapstructure:"client_secret_file"`
	RedirectURI      string   `mapstructure:"redirect_uri"`
	Authority        string   `mapstructure:"authority"`
	AuthURL          string   `mapstructure:"auth_url"`
	TokenURL         string   `mapstructure:"token_url"`
	GraphEndpoint    string   `mapstructure:"graph_endpoint"`
	Scopes           []string `mapstructure:"scopes"`
	AuthMode         string   `mapstructure:"auth_mode"`
	// ClientCertificateFile is a PEM file holding the app's certificate and
	// its private key: application mode signs a client_assertion with it
	// instead of sending a client secret.
	ClientCertificateFile string `mapstructure:"client_certificate_file"`
	// Organizer is the mailbox (object id or userPrincipalName) whose
	// calendar holds the meetings in application mode.
	Organizer string `mapstructure:"organizer"`
}

// Elentra holds what the tool needs to know of the Elentra installation.
type Elentra struct {
	SettingsFile   string `mapstructure:"settings_file"`
	URL            string `mapstructure:"url"`
	OrganisationID int    `mapstructure:"organisation_id"`
	AdminUserID    int    `mapstructure:"admin_user_id"`
	Timezone       string `mapstructure:"timezone"`
	AppID          int    `mapstructure:"app_id"`
	// ObjectIDColumn is schema.table.key_column.value_column holding Microsoft
	// Object IDs by proxy id, when the site keeps them in its own column.
	ObjectIDColumn string `mapstructure:"object_id_column"`
	// CourseSwitchColumn and EventSwitchColumn are Elentra's own Teams
	// switches, schema.table.key_column.value_column keyed by course_id and
	// event_id; CourseSwitchOn and EventSwitchOn are the values that mean
	// "on". They come after the tool's own switches and before the
	// sync.all_* policies (store.Switch).
	CourseSwitchColumn string `mapstructure:"course_switch_column"`
	CourseSwitchOn     string `mapstructure:"course_switch_on"`
	EventSwitchColumn  string `mapstructure:"event_switch_column"`
	EventSwitchOn      string `mapstructure:"event_switch_on"`
}

// Identity says how Elentra users are matched to directory users.
type Identity struct {
	Match []string `mapstructure:"match"`
}

// Sync holds the policies of the sync commands.
type Sync struct {
	AllActiveCourses    bool     `mapstructure:"all_active_courses"`
	AllCourseEvents     bool     `mapstructure:"all_course_events"`
	OwnerContactTypes   []string `mapstructure:"owner_contact_types"`
	MemberContactTypes  []string `mapstructure:"member_contact_types"`
	TeamNameTemplate    string   `mapstructure:"team_name_template"`
	TeamTemplate        string   `mapstructure:"team_template"`
	CourseEnd           string   `mapstructure:"course_end"`
	RemoveUnmanaged     bool     `mapstructure:"remove_unmanaged"`
	RemovalGuardPercent int      `mapstructure:"removal_guard_percent"`
	// The guards on the other writes a student notices (docs/configuration.md,
	// "Guards"): cancellations per course, and removals, cancellations and
	// archives per run (a share, and a floor under which it never holds).
	CancelGuardPercent     int      `mapstructure:"cancel_guard_percent"`
	RunRemovalGuardPercent int      `mapstructure:"run_removal_guard_percent"`
	RunRemovalGuardMinimum int      `mapstructure:"run_removal_guard_minimum"`
	RunCancelGuardPercent  int      `mapstructure:"run_cancel_guard_percent"`
	RunCancelGuardMinimum  int      `mapstructure:"run_cancel_guard_minimum"`
	RunArchiveGuardPercent int      `mapstructure:"run_archive_guard_percent"`
	RunArchiveGuardMinimum int      `mapstructure:"run_archive_guard_minimum"`
	MaxActions             int      `mapstructure:"max_actions"`
	Concurrency            int      `mapstructure:"concurrency"`
	EventsHorizon          Duration `mapstructure:"events_horizon"`
	EventRequiresTeam      bool     `mapstructure:"event_requires_team"`
	EventAttendees         string   `mapstructure:"event_attendees"`
	EventSubjectTemplate   string   `mapstructure:"event_subject_template"`
	// GroupPrefix starts every group's nickname, before the installation's
	// id (which keeps installations sharing a tenant apart).
	GroupPrefix string `mapstructure:"group_prefix"`
	// FallbackOwner (object id or userPrincipalName) owns the Teams of
	// courses without an Elentra owner in application mode.
	FallbackOwner string `mapstructure:"fallback_owner"`
	// AdminLeavesTeams: in delegated mode the authorizing account leaves a
	// Team once it has an Elentra owner (Microsoft's 1,000-Team cap).
	AdminLeavesTeams bool `mapstructure:"admin_leaves_teams"`
}

// Token says how the stored OAuth tokens are encrypted.
type Token struct {
	EncryptionKey     string `mapstructure:"encryption_key" secret:"true"`
	EncryptionKeyFile string `mapstructure:"encryption_key_file"`
}

// Duration is a time.Duration that also reads whole days ("14d").
type Duration time.Duration

// String prints days when the duration is a whole number of days.
func (d Duration) String() string {
	td := time.Duration(d)
	if td != 0 && td%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", td/(24*time.Hour))
	}
	return td.String()
}

// ParseDuration reads Go's form ("336h", "90m") or whole days ("14d").
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if n, ok := strings.CutSuffix(s, "d"); ok && n != "" {
		var days int64
		if _, err := fmt.Sscanf(n, "%d", &days); err == nil && fmt.Sprint(days) == n {
			if days < 0 || days > 36500 {
				return 0, fmt.Errorf("%q is out of range", s)
			}
			return Duration(time.Duration(days) * 24 * time.Hour), nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (use Go's form such as 336h, or days such as 14d)", s)
	}
	return Duration(d), nil
}

// Default values. The scopes every command needs are added by RequiredScopes,
// whatever microsoft.scopes says.
const (
	DefaultAuthority     = "https://login.microsoftonline.com"
	DefaultGraphEndpoint = "https://graph.microsoft.com"
)

// GuideScopes are the delegated scopes of Elentra's Teams guide; the tool adds
// Calendars.ReadWrite for meetings.
var GuideScopes = []string{
	"offline_access", "User.ReadBasic.All", "Group.ReadWrite.All", "Team.Create",
	"Team.ReadBasic.All", "TeamMember.ReadWrite.All", "Calendars.ReadWrite",
}

// Defaults returns the configuration every key starts from.
func Defaults() Config {
	return Config{
		Database: Database{Port: 3306, Name: "entrada", AuthName: "entrada_auth", TLS: "off"},
		Microsoft: Microsoft{
			Authority:     DefaultAuthority,
			GraphEndpoint: DefaultGraphEndpoint,
			Scopes:        []string{},
			AuthMode:      "delegated",
		},
		Elentra:  Elentra{OrganisationID: 1, AdminUserID: 1, AppID: 1, CourseSwitchOn: "1", EventSwitchOn: "1"},
		Identity: Identity{Match: []string{"mail", "userPrincipalName"}},
		Sync: Sync{
			OwnerContactTypes:      []string{"director", "ccoordinator", "pcoordinator", "faculty"},
			MemberContactTypes:     []string{"ta"},
			TeamNameTemplate:       "{{.Code}} {{.Name}}",
			GroupPrefix:            "elentra",
			TeamTemplate:           "standard",
			CourseEnd:              "keep",
			RemovalGuardPercent:    30,
			CancelGuardPercent:     30,
			RunRemovalGuardPercent: 5,
			RunRemovalGuardMinimum: 50,
			RunCancelGuardPercent:  10,
			RunCancelGuardMinimum:  20,
			RunArchiveGuardPercent: 20,
			RunArchiveGuardMinimum: 5,
			MaxActions:             5000,
			Concurrency:            4,
			EventsHorizon:          Duration(14 * 24 * time.Hour),
			EventAttendees:         "none",
			EventSubjectTemplate:   "{{.CourseCode}}: {{.Title}}",
		},
	}
}

// RequiredScopes returns the configured scopes plus the ones the commands
// need, without duplicates (compared case-insensitively), in a stable order.
func (m Microsoft) RequiredScopes() []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range append(append([]string{}, GuideScopes...), m.Scopes...) {
		for _, f := range strings.Fields(s) {
			k := strings.ToLower(f)
			if !seen[k] {
				seen[k] = true
				out = append(out, f)
			}
		}
	}
	return out
}

// Application reports whether the tool runs with application permissions.
func (m Microsoft) Application() bool { return m.AuthMode == "application" }

// AuthorizeURL is the authorization endpoint: auth_url, or authority + tenant.
func (m Microsoft) AuthorizeURL() string {
	if m.AuthURL != "" {
		return m.AuthURL
	}
	return strings.TrimRight(m.Authority, "/") + "/" + m.TenantID + "/oauth2/v2.0/authorize"
}

// TokenEndpoint is the token endpoint: token_url, or authority + tenant.
func (m Microsoft) TokenEndpoint() string {
	if m.TokenURL != "" {
		return m.TokenURL
	}
	return strings.TrimRight(m.Authority, "/") + "/" + m.TenantID + "/oauth2/v2.0/token"
}
