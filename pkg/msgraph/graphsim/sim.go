// Package graphsim is an in-memory Microsoft identity platform (v2 endpoints)
// and Microsoft Graph v1.0 for the routes elentra-teams uses: users, groups,
// teams and their members, async team operations, calendar events with Teams
// meetings, time zones and JSON batching.
//
// It encodes Microsoft's documented wire shapes on its own (it never imports
// the client package), is strict about the requests it accepts, is
// deterministic (ids derive from content and counters, time comes from an
// injected clock) and can inject the faults a client must survive:
// throttling, outages, replication delays, failed operations, partial bulk
// adds, late meeting links, consent refusal, missing mailboxes. With Limits
// on it enforces Microsoft's throttling limits too, at a time scale that
// lets a large scenario run faster while keeping its shape.
package graphsim

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"
)

// Client is an app registration the identity endpoints accept.
type Client struct {
	ClientID     string   `json:"client_id"`
	ClientSecret string   `json:"client_secret"`
	RedirectURIs []string `json:"redirect_uris"`
	// Certificate is the PEM certificate uploaded to the app registration;
	// a client_assertion signed by its key authenticates the app.
	Certificate string `json:"certificate,omitempty"`
}

// User is a directory user; Mailbox says whether it has an Exchange Online
// mailbox (calendar routes answer 404 MailboxNotEnabledForRESTAPI without).
type User struct {
	ID                string `json:"id"`
	DisplayName       string `json:"displayName"`
	Mail              string `json:"mail"`
	UserPrincipalName string `json:"userPrincipalName"`
	Mailbox           bool   `json:"mailbox"`
}

// Seed is the tenant the simulator starts from and returns to on Reset.
type Seed struct {
	TenantID     string   `json:"tenant_id"`
	Clients      []Client `json:"clients"`
	Users        []User   `json:"users"`
	SignedInUser string   `json:"signed_in_user"`
}

// LoadSeed reads a seed JSON file, refusing unknown fields so a misspelt key
// is not silently ignored.
func LoadSeed(path string) (Seed, error) {
	f, err := os.Open(path)
	if err != nil {
		return Seed{}, err
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	var seed Seed
	if err := dec.Decode(&seed); err != nil {
		return Seed{}, fmt.Errorf("read seed %s: %w", path, err)
	}
	if err := seed.validate(); err != nil {
		return Seed{}, fmt.Errorf("seed %s: %w", path, err)
	}
	return seed, nil
}

func (s Seed) validate() error {
	if s.TenantID == "" {
		return fmt.Errorf("tenant_id is empty")
	}
	ids := map[string]bool{}
	for _, u := range s.Users {
		if u.ID == "" || u.UserPrincipalName == "" {
			return fmt.Errorf("user %q needs an id and a userPrincipalName", u.DisplayName)
		}
		if ids[strings.ToLower(u.ID)] {
			return fmt.Errorf("user id %s appears twice", u.ID)
		}
		ids[strings.ToLower(u.ID)] = true
	}
	if s.SignedInUser != "" && !ids[strings.ToLower(s.SignedInUser)] {
		return fmt.Errorf("signed_in_user %s is not one of the users", s.SignedInUser)
	}
	for _, c := range s.Clients {
		if c.ClientID == "" {
			return fmt.Errorf("a client has no client_id")
		}
	}
	return nil
}

// NicknamePolicy emulates a tenant group naming policy: the directory keeps
// Prefix+value+Suffix as both displayName and mailNickname of new groups.
type NicknamePolicy struct {
	Prefix string `json:"prefix,omitempty"`
	Suffix string `json:"suffix,omitempty"`
}

// Retry-After header forms for throttled answers.
const (
	RetryAfterInt   = "int"   // "2"
	RetryAfterFloat = "float" // "2.128", as an earlier revision of the throttling doc shows
	RetryAfterDate  = "date"  // an HTTP date
)

// Faults are the failures the simulator injects. The zero value injects
// nothing. Counting faults count Graph requests (batch items included, the
// $batch envelope and identity requests excluded) from the moment they are
// set.
type Faults struct {
	// Throttle429Every answers every Nth Graph request with 429.
	Throttle429Every int `json:"throttle_429_every,omitempty"`
	// Throttle429Storm answers the next N Graph requests with 429.
	Throttle429Storm int `json:"throttle_429_storm,omitempty"`
	// RetryAfterForm is int (default), float or date.
	RetryAfterForm string `json:"retry_after_form,omitempty"`
	// RetryAfterSeconds is the delay announced (default 2, or 2.128 in float form).
	RetryAfterSeconds float64 `json:"retry_after_seconds,omitempty"`
	// Unavailable503Every answers every Nth Graph request with 503 and no Retry-After.
	Unavailable503Every int `json:"unavailable_503_every,omitempty"`
	// BadGatewayTeamCreates answers the first N team creations (POST /teams,
	// PUT /groups/{id}/team) with 502 and creates nothing.
	BadGatewayTeamCreates int `json:"bad_gateway_team_creates,omitempty"`
	// NotFoundAfterCreate answers the first N calls addressing a group (or a
	// team) after its creation with 404, as directory replication does.
	NotFoundAfterCreate int `json:"not_found_after_create,omitempty"`
	// UnlistedAfterCreate leaves a new group out of the first N listings
	// ($filter, $search) that would show it, as directory replication does
	// for minutes: a look-up right after a create may not find it, while a
	// second create of its nickname already conflicts.
	UnlistedAfterCreate int `json:"unlisted_after_create,omitempty"`
	// TeamifyDespite404 makes a PUT /groups/{id}/team answered 404 by the
	// replication fault create the team anyway, so the retry meets 409.
	TeamifyDespite404 bool `json:"teamify_despite_404,omitempty"`
	// FailOperations makes async team operations end "failed" (no team is made).
	FailOperations bool `json:"fail_operations,omitempty"`
	// BulkAddFailUserIDs lists users that members/add reports as failed (207).
	BulkAddFailUserIDs []string `json:"bulk_add_fail_user_ids,omitempty"`
	// JoinURLAfterGets creates online meetings without onlineMeeting.joinUrl;
	// it appears on the Nth read of the event.
	JoinURLAfterGets int `json:"join_url_after_gets,omitempty"`
	// AuthorizeDenied makes the authorize endpoint redirect with error=access_denied.
	AuthorizeDenied bool `json:"authorize_denied,omitempty"`
	// NoMailboxUserIDs lists users treated as having no mailbox.
	NoMailboxUserIDs []string `json:"no_mailbox_user_ids,omitempty"`
	// NoTeamsForBusiness drops teamsForBusiness from the calendars' allowed
	// providers; online meetings are then created without a meeting.
	NoTeamsForBusiness bool `json:"no_teams_for_business,omitempty"`
	// NicknamePolicy changes the displayName and mailNickname of new groups.
	NicknamePolicy NicknamePolicy `json:"nickname_policy,omitzero"`
}

// Options tune the simulator.
type Options struct {
	// Clock is the time source for tokens, codes, operations and events (default time.Now).
	Clock func() time.Time
	// PageSize is the page size of lists (default 100); /users honours $top up to 999.
	PageSize int
	// OperationPolls makes async operations finish on this GET; by default an
	// operation finishes on the 2nd GET or once 1 s of Clock time has passed.
	OperationPolls int
	// AccessTokenLifetime defaults to 1 hour.
	AccessTokenLifetime time.Duration
	// AnyScope skips the delegated permission checks (every route then accepts
	// any token of the tenant).
	AnyScope bool
	Faults   Faults
	// Limits enforces Microsoft's throttling limits; off by default. An
	// enabled Limits takes the documented number for every zero field.
	Limits Limits
	// Latency delays every Graph request (a $batch once), in real time: for
	// a simulator run as its own process by a benchmark. Keep 0 in unit
	// tests.
	Latency time.Duration
	// TimeScale runs Microsoft's time faster: at 10 every limit's window is
	// 10 times shorter (the same burst, 10 times the rate), every Retry-After
	// of a limit and the Latency 10 times shorter, so a large scenario keeps
	// its shape in a tenth of the time. 0 means 1. Faults keep the
	// Retry-After they name.
	TimeScale float64
}

// LoggedRequest is one request the simulator answered.
type LoggedRequest struct {
	Time   time.Time       `json:"time"`
	Method string          `json:"method"`
	Path   string          `json:"path"`
	Query  string          `json:"query,omitempty"`
	Route  string          `json:"route"`
	Status int             `json:"status"`
	Body   json.RawMessage `json:"body,omitempty"`
	// InBatch marks an item of a $batch request.
	InBatch bool `json:"inBatch,omitempty"`
}

// Counters summarise the request log. ByRoute keys are route templates such
// as "POST /teams/{id}/members/add"; ByStatus keys are status codes.
type Counters struct {
	Total     int            `json:"total"`
	ByRoute   map[string]int `json:"byRoute"`
	ByStatus  map[string]int `json:"byStatus"`
	Throttled int            `json:"throttled"`
	// ThrottledByLimit counts the 429s of Limits by the field that gave
	// them, e.g. "TeamCreate", "PerTeam", "MailboxConcurrency".
	ThrottledByLimit map[string]int `json:"throttledByLimit"`
}

// Sim is the simulator; it is an http.Handler.
type Sim struct {
	mu       sync.Mutex
	seed     Seed
	opts     Options
	faults   Faults
	clock    func() time.Time
	pageSize int

	// identity
	codes   map[string]*authCode
	access  map[string]*accessToken
	refresh map[string]*refreshToken

	// directory and workloads
	users      []*User
	usersByID  map[string]*User // by foldKey of the id
	usersByKey map[string]*User // by foldKey of the id or userPrincipalName
	usersJSON  map[*User]map[string]any
	groups     map[string]*group
	ops        map[string]*operation
	mailboxes  map[string]*mailbox // by lower-cased user id
	created    map[string]int      // creation counts per id basis, for unique deterministic ids
	seq        int                 // request-id counter

	// fault bookkeeping
	graphRequests  int
	stormLeft      int
	badGatewayLeft int
	requestLog     []LoggedRequest
	counters       Counters

	// limits
	limits    Limits
	timeScale float64
	buckets   map[string]*bucket
	inFlight  map[string]int // requests in flight per app and mailbox
	// onMailboxHold, when set (by tests), runs while a request holds a
	// mailbox slot, before it is answered: a test parks requests there to
	// have them in flight at once without real time passing.
	onMailboxHold func()
}

// New returns a simulator serving seed.
func New(seed Seed, opts Options) *Sim {
	s := &Sim{seed: seed, opts: opts}
	s.clock = opts.Clock
	if s.clock == nil {
		s.clock = time.Now
	}
	s.pageSize = opts.PageSize
	if s.pageSize <= 0 {
		s.pageSize = 100
	}
	if s.opts.AccessTokenLifetime <= 0 {
		s.opts.AccessTokenLifetime = time.Hour
	}
	s.limits = opts.Limits.withDefaults()
	s.timeScale = opts.TimeScale
	if s.timeScale <= 0 {
		s.timeScale = 1
	}
	s.inFlight = map[string]int{}
	s.codes = map[string]*authCode{}
	s.access = map[string]*accessToken{}
	s.refresh = map[string]*refreshToken{}
	s.resetLocked()
	s.setFaultsLocked(opts.Faults)
	return s
}

// Reset clears groups, teams, operations, events, the request log and the
// counters, and restores the seeded users. Clients and issued tokens stay,
// so an authorized client keeps working across a reset.
func (s *Sim) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resetLocked()
	s.setFaultsLocked(s.faults)
}

func (s *Sim) resetLocked() {
	s.users = nil
	for _, u := range s.seed.Users {
		u := u
		s.users = append(s.users, &u)
	}
	s.indexUsers()
	s.groups = map[string]*group{}
	s.ops = map[string]*operation{}
	s.mailboxes = map[string]*mailbox{}
	s.created = map[string]int{}
	s.seq = 0
	s.requestLog = nil
	s.counters = Counters{ByRoute: map[string]int{}, ByStatus: map[string]int{}, ThrottledByLimit: map[string]int{}}
	// Requests in flight keep their mailbox slots: they release them when done.
	s.buckets = map[string]*bucket{}
}

// SetFaults replaces the injected faults and restarts their counters.
func (s *Sim) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setFaultsLocked(f)
}

func (s *Sim) setFaultsLocked(f Faults) {
	s.faults = f
	s.graphRequests = 0
	s.stormLeft = f.Throttle429Storm
	s.badGatewayLeft = f.BadGatewayTeamCreates
}

// Faults returns the faults in force.
func (s *Sim) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

// Requests returns a copy of the request log.
func (s *Sim) Requests() []LoggedRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]LoggedRequest(nil), s.requestLog...)
}

// Counters returns a copy of the counters.
func (s *Sim) Counters() Counters {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.countersCopy()
}

func (s *Sim) countersCopy() Counters {
	return Counters{Total: s.counters.Total, Throttled: s.counters.Throttled,
		ByRoute: maps.Clone(s.counters.ByRoute), ByStatus: maps.Clone(s.counters.ByStatus),
		ThrottledByLimit: maps.Clone(s.counters.ThrottledByLimit)}
}

func (s *Sim) record(l LoggedRequest) {
	s.requestLog = append(s.requestLog, l)
	s.counters.Total++
	s.counters.ByRoute[l.Route]++
	s.counters.ByStatus[fmt.Sprint(l.Status)]++
	if l.Status == http.StatusTooManyRequests {
		s.counters.Throttled++
	}
}

// AddUser adds (or replaces, by id) a directory user.
func (s *Sim) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.userByID(u.ID); old != nil {
		*old = u
	} else {
		s.users = append(s.users, &u)
	}
	s.indexUsers()
}

// SetMailbox gives a user a mailbox or takes it away.
func (s *Sim) SetMailbox(userID string, has bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.userByID(userID); u != nil {
		u.Mailbox = has
	}
}

// indexUsers rebuilds the look-ups of users by id and by id or
// userPrincipalName (s.mu held). Each key keeps the first user in directory
// order that carries it, so a look-up finds what a scan in order would: a
// directory of 30,000 users is searched for every member of every bulk add.
func (s *Sim) indexUsers() {
	s.usersJSON = nil
	s.usersByID = make(map[string]*User, len(s.users))
	s.usersByKey = make(map[string]*User, 2*len(s.users))
	for _, u := range s.users {
		id := foldKey(u.ID)
		if _, seen := s.usersByID[id]; !seen {
			s.usersByID[id] = u
		}
		for _, k := range []string{id, foldKey(u.UserPrincipalName)} {
			if _, seen := s.usersByKey[k]; !seen {
				s.usersByKey[k] = u
			}
		}
	}
}

// foldKey maps s to one representative of its strings.EqualFold class: each
// rune becomes the smallest rune of its simple case-folding orbit, so two
// strings have equal keys exactly when EqualFold says they are equal.
func foldKey(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		b.WriteRune(least)
	}
	return b.String()
}

func (s *Sim) userByID(id string) *User {
	return s.usersByID[foldKey(id)]
}

// userByKey finds a user by object id or userPrincipalName, as /users/{key} does.
func (s *Sim) userByKey(key string) *User {
	return s.usersByKey[foldKey(key)]
}

func (s *Sim) hasMailbox(u *User) bool {
	if !u.Mailbox {
		return false
	}
	for _, id := range s.faults.NoMailboxUserIDs {
		if strings.EqualFold(id, u.ID) {
			return false
		}
	}
	return true
}

// tenantDomain is the domain group mail addresses get: the signed-in user's
// UPN domain, else the first user's.
func (s *Sim) tenantDomain() string {
	var upn string
	if u := s.userByID(s.seed.SignedInUser); u != nil {
		upn = u.UserPrincipalName
	} else if len(s.users) > 0 {
		upn = s.users[0].UserPrincipalName
	}
	if i := strings.LastIndexByte(upn, '@'); i >= 0 {
		return upn[i+1:]
	}
	return "contoso.onmicrosoft.com"
}

// deterministicGUID derives a GUID-shaped id from its parts, so the same
// sequence of requests yields the same ids on every run.
func deterministicGUID(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	h[6] = h[6]&0x0f | 0x40
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// newID returns a deterministic id for the nth object created from basis.
func (s *Sim) newID(kind, basis string) string {
	key := kind + "\x00" + strings.ToLower(basis)
	n := s.created[key]
	s.created[key] = n + 1
	return deterministicGUID(s.seed.TenantID, kind, strings.ToLower(basis), fmt.Sprint(n))
}

func (s *Sim) nextRequestID() string {
	s.seq++
	return deterministicGUID(s.seed.TenantID, "request", fmt.Sprint(s.seq))
}

// ServeHTTP routes identity (/{tenant}/oauth2/v2.0/...), Graph (/v1.0/...)
// and introspection (/_sim/...) requests.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/_sim/"):
		s.serveSim(w, r)
	case p == "/v1.0" || strings.HasPrefix(p, "/v1.0/"):
		s.serveGraph(w, r)
	case strings.Contains(p, "/oauth2/v2.0/"):
		s.serveIdentity(w, r)
	default:
		http.NotFound(w, r)
	}
}

// State is the simulator's state as GET /_sim/state reports it; every list
// is sorted by id so equal states serialise equally.
type State struct {
	Teams    []TeamState  `json:"teams"`
	Groups   []GroupState `json:"groups"`
	Events   []EventState `json:"events"`
	Counters Counters     `json:"counters"`
}

// TeamState is a team (and its group) in State.
type TeamState struct {
	ID           string        `json:"id"`
	DisplayName  string        `json:"displayName"`
	Description  string        `json:"description"`
	MailNickname string        `json:"mailNickname"`
	Archived     bool          `json:"archived"`
	Members      []MemberState `json:"members"`
}

// MemberState is a team membership in State.
type MemberState struct {
	ID     string   `json:"id"`
	UserID string   `json:"userId"`
	Roles  []string `json:"roles"`
}

// GroupState is a group without a team in State.
type GroupState struct {
	ID           string `json:"id"`
	DisplayName  string `json:"displayName"`
	MailNickname string `json:"mailNickname"`
}

// EventState is a calendar event in State, times in UTC.
type EventState struct {
	Mailbox         string        `json:"mailbox"`
	ID              string        `json:"id"`
	Subject         string        `json:"subject"`
	Start           StateDateTime `json:"start"`
	End             StateDateTime `json:"end"`
	IsOnlineMeeting bool          `json:"isOnlineMeeting"`
	JoinURL         string        `json:"joinUrl"`
	IsCancelled     bool          `json:"isCancelled"`
	TransactionID   string        `json:"transactionId"`
}

// StateDateTime is a dateTimeTimeZone in State.
type StateDateTime struct {
	DateTime string `json:"dateTime"`
	TimeZone string `json:"timeZone"`
}

// State returns the current state.
func (s *Sim) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := State{Teams: []TeamState{}, Groups: []GroupState{}, Events: []EventState{}, Counters: s.countersCopy()}
	for _, g := range s.groups {
		if g.team == nil {
			st.Groups = append(st.Groups, GroupState{ID: g.id, DisplayName: g.displayName, MailNickname: g.mailNickname})
			continue
		}
		ts := TeamState{ID: g.id, DisplayName: g.displayName, Description: g.description,
			MailNickname: g.mailNickname, Archived: g.team.archived, Members: []MemberState{}}
		for _, m := range g.memberships {
			ts.Members = append(ts.Members, MemberState{ID: membershipID(g.id, m.userID), UserID: m.userID, Roles: m.roles()})
		}
		sort.Slice(ts.Members, func(i, j int) bool { return ts.Members[i].ID < ts.Members[j].ID })
		st.Teams = append(st.Teams, ts)
	}
	for mbID, mb := range s.mailboxes {
		for _, e := range mb.events {
			if e.deleted {
				continue
			}
			st.Events = append(st.Events, EventState{
				Mailbox: mbID, ID: e.id, Subject: e.subject,
				Start:           StateDateTime{DateTime: formatGraphTime(e.start.UTC()), TimeZone: "UTC"},
				End:             StateDateTime{DateTime: formatGraphTime(e.end.UTC()), TimeZone: "UTC"},
				IsOnlineMeeting: e.isOnlineMeeting, JoinURL: e.joinURL, IsCancelled: e.cancelled,
				TransactionID: e.transactionID,
			})
		}
	}
	sort.Slice(st.Teams, func(i, j int) bool { return st.Teams[i].ID < st.Teams[j].ID })
	sort.Slice(st.Groups, func(i, j int) bool { return st.Groups[i].ID < st.Groups[j].ID })
	sort.Slice(st.Events, func(i, j int) bool {
		if st.Events[i].ID != st.Events[j].ID {
			return st.Events[i].ID < st.Events[j].ID
		}
		return st.Events[i].Mailbox < st.Events[j].Mailbox
	})
	return st
}
