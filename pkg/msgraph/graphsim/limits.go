package graphsim

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Rate is a limit of Requests per Per, enforced as a token bucket that holds
// Requests tokens and refills them evenly over Per: a burst of Requests goes
// through at once, then one request every Per/Requests.
type Rate struct {
	Requests int
	Per      time.Duration
}

func perSecond(n int) Rate { return Rate{Requests: n, Per: time.Second} }

// Limits are Microsoft's throttling limits for the calls elentra-teams makes
// (throttling-limits.md; graph-wire.md §7.2). Buckets are kept per app and
// tenant (the token's client and tenant), per team, and per app and
// mailbox. A zero Rate or MailboxConcurrency takes the documented number.
type Limits struct {
	Enabled bool

	// Teams, per app per tenant.
	TeamCreate      Rate // POST /teams: 10 rps
	TeamFromGroup   Rate // PUT /groups/{id}/team: 6 rps
	TeamGet         Rate // GET /teams/{id}, joinedTeams: 30 rps
	TeamPatch       Rate // PATCH /teams/{id}: 30 rps
	TeamMembersList Rate // GET /teams/{id}/members: 60 rps
	TeamsOtherGet   Rate // other Teams GETs (operations, one member): 30 rps
	TeamsOther      Rate // other Teams calls (members add, update, remove; archive): 30 rps
	// PerTeam: "A maximum of 4 requests per second per app can be issued on
	// a given team", whatever the route.
	PerTeam Rate

	// Outlook, per app and mailbox.
	MailboxConcurrency int  // requests in flight: 4
	MailboxRequests    Rate // 10,000 requests per 10 minutes

	// Identity and access, per app and tenant: the write quota that every
	// directory write (POST, PATCH, DELETE /groups…) costs 1 of, 3,000
	// requests per 2 minutes 30 seconds.
	DirectoryWrites Rate
}

// DefaultLimits returns the documented limits, enabled.
func DefaultLimits() Limits {
	return Limits{
		Enabled:            true,
		TeamCreate:         perSecond(10),
		TeamFromGroup:      perSecond(6),
		TeamGet:            perSecond(30),
		TeamPatch:          perSecond(30),
		TeamMembersList:    perSecond(60),
		TeamsOtherGet:      perSecond(30),
		TeamsOther:         perSecond(30),
		PerTeam:            perSecond(4),
		MailboxConcurrency: 4,
		MailboxRequests:    Rate{Requests: 10000, Per: 10 * time.Minute},
		DirectoryWrites:    Rate{Requests: 3000, Per: 150 * time.Second},
	}
}

// withDefaults fills the zero fields of an enabled l from DefaultLimits.
func (l Limits) withDefaults() Limits {
	if !l.Enabled {
		return l
	}
	d := DefaultLimits()
	for _, p := range []struct{ got, def *Rate }{
		{&l.TeamCreate, &d.TeamCreate}, {&l.TeamFromGroup, &d.TeamFromGroup}, {&l.TeamGet, &d.TeamGet},
		{&l.TeamPatch, &d.TeamPatch}, {&l.TeamMembersList, &d.TeamMembersList}, {&l.TeamsOtherGet, &d.TeamsOtherGet},
		{&l.TeamsOther, &d.TeamsOther}, {&l.PerTeam, &d.PerTeam}, {&l.MailboxRequests, &d.MailboxRequests},
		{&l.DirectoryWrites, &d.DirectoryWrites},
	} {
		if p.got.Requests <= 0 || p.got.Per <= 0 {
			*p.got = *p.def
		}
	}
	if l.MailboxConcurrency <= 0 {
		l.MailboxConcurrency = d.MailboxConcurrency
	}
	return l
}

// bucket is one token bucket; tokens are refilled lazily from the clock.
type bucket struct {
	tokens float64
	last   time.Time
}

// bucketUse names the bucket a call draws from and the limit it enforces.
type bucketUse struct {
	key  string // limit name + scope, e.g. "TeamCreate app/tenant"
	name string // limit name, for the counters
	rate Rate
	kind string // famTeams, famOutlook or famDirectory: shapes the 429
}

// tokenSlack absorbs float rounding: a bucket refilled for exactly the
// announced Retry-After must hold its token.
const tokenSlack = 1e-9

// limitsFor lists the buckets c draws from (s.mu held; c authenticated and
// routed).
func (s *Sim) limitsFor(c *call) []bucketUse {
	l := s.limits
	app := c.tok.clientID + "/" + c.tok.tenantID
	use := func(name string, r Rate, scope, kind string) bucketUse {
		return bucketUse{key: name + " " + scope, name: name, rate: r, kind: kind}
	}
	var out []bucketUse
	switch c.rt.family {
	case famTeams:
		var name string
		var r Rate
		switch tmpl := c.rt.template(); {
		case tmpl == "POST /teams":
			name, r = "TeamCreate", l.TeamCreate
		case tmpl == "PUT /groups/{id}/team":
			name, r = "TeamFromGroup", l.TeamFromGroup
		case tmpl == "GET /teams/{id}" || strings.HasSuffix(tmpl, "/joinedTeams"):
			name, r = "TeamGet", l.TeamGet
		case tmpl == "PATCH /teams/{id}":
			name, r = "TeamPatch", l.TeamPatch
		case tmpl == "GET /teams/{id}/members":
			name, r = "TeamMembersList", l.TeamMembersList
		case c.method == http.MethodGet:
			name, r = "TeamsOtherGet", l.TeamsOtherGet
		default:
			name, r = "TeamsOther", l.TeamsOther
		}
		out = append(out, use(name, r, app, famTeams))
		if id, onTeam := c.params["id"]; onTeam {
			out = append(out, use("PerTeam", l.PerTeam, app+" team "+strings.ToLower(id), famTeams))
		}
	case famOutlook:
		if mb := s.mailboxKey(c); mb != "" {
			out = append(out, use("MailboxRequests", l.MailboxRequests, app+" mailbox "+mb, famOutlook))
		}
	case famDirectory:
		if c.method != http.MethodGet {
			out = append(out, use("DirectoryWrites", l.DirectoryWrites, app, famDirectory))
		}
	}
	return out
}

// mailboxKey names the mailbox an Outlook call reaches: the lower-cased
// object id of /me or /users/{userId} (a UPN is resolved, so both spellings
// share one mailbox), or "" when there is none.
func (s *Sim) mailboxKey(c *call) string {
	if key, has := c.params["userId"]; has {
		if u := s.userByKey(key); u != nil {
			return strings.ToLower(u.ID)
		}
		return strings.ToLower(key)
	}
	return strings.ToLower(c.tok.userID)
}

// takeTokens draws one token from every bucket c uses, or none when one of
// them is empty: then it answers 429 with the Retry-After after which that
// bucket holds a token again (s.mu held).
func (s *Sim) takeTokens(c *call) *reply {
	if !s.limits.Enabled {
		return nil
	}
	now := s.clock()
	uses := s.limitsFor(c)
	var worst *bucketUse
	var worstWait float64 // seconds of unscaled time
	for i := range uses {
		u := &uses[i]
		b := s.refill(u, now)
		if b.tokens+tokenSlack >= 1 {
			continue
		}
		// The time the bucket needs to refill the missing part of a token,
		// on Microsoft's clock (unscaled).
		wait := (1 - b.tokens) * u.rate.Per.Seconds() / float64(u.rate.Requests)
		if worst == nil || wait > worstWait {
			worst, worstWait = u, wait
		}
	}
	if worst != nil {
		return s.limitReply(c, *worst, worstWait)
	}
	for i := range uses {
		s.buckets[uses[i].key].tokens--
	}
	return nil
}

// refill brings a bucket up to now; a new bucket starts full.
func (s *Sim) refill(u *bucketUse, now time.Time) *bucket {
	b := s.buckets[u.key]
	if b == nil {
		b = &bucket{tokens: float64(u.rate.Requests), last: now}
		s.buckets[u.key] = b
		return b
	}
	if elapsed := now.Sub(b.last); elapsed > 0 {
		per := u.rate.Per.Seconds() / s.timeScale // the period on the simulator's clock
		b.tokens = math.Min(float64(u.rate.Requests), b.tokens+elapsed.Seconds()*float64(u.rate.Requests)/per)
		b.last = now
	}
	return b
}

// limitReply is the 429 of an empty bucket. Retry-After is the wait rounded
// up to whole seconds, as Graph announces it, then divided by the time
// scale; a scaled delay is written as a decimal number of seconds.
func (s *Sim) limitReply(c *call, u bucketUse, waitSeconds float64) *reply {
	s.counters.ThrottledByLimit[u.name]++
	ra := formatSeconds(math.Max(1, math.Ceil(waitSeconds-tokenSlack)) / s.timeScale)
	switch u.kind {
	case famOutlook:
		return gerr(429, "ApplicationThrottled", "Application is over its MailboxRequests limit.").with("Retry-After", ra)
	case famDirectory:
		rp := s.throttled(ra)
		// throttling-limits.md: throttled identity requests say which limit hit.
		rp.with("x-ms-throttle-scope", "Tenant_Application/Write/"+c.tok.clientID+"/"+c.tok.tenantID)
		rp.with("x-ms-throttle-information", "WriteLimitExceeded")
		return rp
	}
	return s.throttled(ra)
}

func formatSeconds(secs float64) string {
	return strconv.FormatFloat(secs, 'f', -1, 64)
}

// enterMailbox admits an Outlook call into its mailbox's concurrency gate:
// the key to release when the call is done, or, with MailboxConcurrency
// calls of the app already in flight on that mailbox, the 429 Outlook gives
// (s.mu held). Calls outside Outlook, or with limits off, pass with "".
func (s *Sim) enterMailbox(c *call) (string, *reply) {
	if !s.limits.Enabled || c.rt == nil || c.tok == nil || c.rt.family != famOutlook {
		return "", nil
	}
	mb := s.mailboxKey(c)
	if mb == "" {
		return "", nil
	}
	key := c.tok.clientID + "/" + c.tok.tenantID + " mailbox " + mb
	if s.inFlight[key] >= s.limits.MailboxConcurrency {
		s.counters.ThrottledByLimit["MailboxConcurrency"]++
		// Outlook's own answer (seen in the wild; the value of Retry-After
		// is not documented: one second, scaled).
		return "", gerr(429, "ApplicationThrottled", "Application is over its MailboxConcurrency limit.").
			with("Retry-After", formatSeconds(1/s.timeScale))
	}
	s.inFlight[key]++
	return key, nil
}

func (s *Sim) leaveMailbox(key string) {
	if key == "" {
		return
	}
	if s.inFlight[key]--; s.inFlight[key] <= 0 {
		delete(s.inFlight, key)
	}
}
