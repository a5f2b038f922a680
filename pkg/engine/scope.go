package engine

import (
	"context"
	"fmt"
	"html"
	"regexp"
	"sort"
	"strings"
	"text/template"

	"github.com/elentra-teams/elentra-teams/internal/text"
	"github.com/elentra-teams/elentra-teams/pkg/config"
	"github.com/elentra-teams/elentra-teams/pkg/elentra"
	"github.com/elentra-teams/elentra-teams/pkg/reconcile"
	"github.com/elentra-teams/elentra-teams/pkg/store"
)

// scope is the Elentra side of a sync, read with a handful of set-based
// queries whatever the number of courses and users.
type scope struct {
	// Courses in scope that exist in Elentra, by id.
	Courses map[int]elentra.Course
	// Enabled are the courses switched on (with the tool or in Elentra),
	// and with sync.all_active_courses every active course no switch
	// decides, restricted by --course.
	Enabled map[int]bool
	// Records are the tool's course rows (all of them, or --course's).
	Records map[int]store.TeamRecord
	// Switches are the course switches (the tool's and Elentra's), by
	// course id.
	Switches map[int]store.Switch
	// Learners and Contacts of the courses.
	Learners map[int][]int
	Contacts []elentra.Contact
	// Users are everyone above, by proxy id.
	Users map[int]store.User
}

type scopeNeeds int

const (
	needOwners  scopeNeeds = 1 << iota // contacts and their users
	needMembers                        // learners too
)

// readScope reads the courses in scope, their records, and as needed their
// contacts, learners and users.
func readScope(ctx context.Context, env *Env, needs scopeNeeds) (*scope, error) {
	cfg := env.Config
	now := env.Now()
	only := courseFilter(env)
	sc := &scope{Enabled: map[int]bool{}, Courses: map[int]elentra.Course{}}

	// A switch decides first: the tool's (courses enable/disable), then
	// Elentra's course switch; sync.all_active_courses covers every active
	// course no switch decides (store.SyncRules.CourseOn).
	switches, err := env.Store.CourseSwitches(ctx, cfg.Elentra.OrganisationID)
	if err != nil {
		return nil, err
	}
	sc.Switches = switches
	var enabledIDs []int
	for id, sw := range switches {
		if on, decides := sw.Decides(); decides && on {
			enabledIDs = append(enabledIDs, id)
		}
	}
	if cfg.Sync.AllActiveCourses {
		cs, err := env.DB.Courses(ctx, elentra.CourseFilter{OrganisationID: cfg.Elentra.OrganisationID, ActiveOnly: true}, now)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			if _, decides := switches[c.ID].Decides(); !decides {
				enabledIDs = append(enabledIDs, c.ID)
			}
		}
	}
	for _, id := range enabledIDs {
		if only == nil || only[id] {
			sc.Enabled[id] = true
		}
	}
	var recIDs []int
	if only != nil {
		recIDs = elentra.SortedIDs(only)
	}
	recs, err := env.Store.TeamRecords(ctx, recIDs)
	if err != nil {
		return nil, err
	}
	sc.Records = recs

	want := map[int]bool{}
	for id := range sc.Enabled {
		want[id] = true
	}
	for id, r := range recs {
		if r.GroupID != "" && (only == nil || only[id]) {
			want[id] = true
		}
	}
	if len(want) > 0 {
		cs, err := env.DB.Courses(ctx, elentra.CourseFilter{IDs: elentra.SortedIDs(want)}, now)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			sc.Courses[c.ID] = c
		}
	}
	ids := elentra.SortedIDs(sc.Courses)
	if needs&(needOwners|needMembers) != 0 && len(ids) > 0 {
		if sc.Contacts, err = env.DB.Contacts(ctx, ids); err != nil {
			return nil, err
		}
	}
	if needs&needMembers != 0 && len(ids) > 0 {
		if sc.Learners, err = env.DB.Learners(ctx, ids, cfg.Elentra.AppID, now); err != nil {
			return nil, err
		}
	}
	people := map[int]bool{}
	for _, c := range sc.Contacts {
		people[c.ProxyID] = true
	}
	for _, ls := range sc.Learners {
		for _, id := range ls {
			people[id] = true
		}
	}
	sc.Users = map[int]store.User{}
	if len(people) > 0 {
		us, err := env.Store.Users(ctx, elentra.SortedIDs(people))
		if err != nil {
			return nil, err
		}
		for _, u := range us {
			sc.Users[u.ProxyID] = u
		}
	}
	return sc, nil
}

// current reports whether a course should have an active Team.
func (sc *scope) current(id int) bool {
	c, ok := sc.Courses[id]
	return ok && sc.Enabled[id] && c.Active && c.Period != nil
}

// roles computes each course's desired people: owners from the owner
// contact types (and pcoord_id), members from the learners and the member
// contact types; owner wins.
func (sc *scope) roles(env *Env, courseID int) map[int]reconcile.Role {
	owner := map[string]bool{"pcoord_id": true}
	for _, t := range env.Config.Sync.OwnerContactTypes {
		owner[t] = true
	}
	member := map[string]bool{}
	for _, t := range env.Config.Sync.MemberContactTypes {
		member[t] = true
	}
	out := map[int]reconcile.Role{}
	for _, id := range sc.Learners[courseID] {
		out[id] = reconcile.RoleMember
	}
	for _, c := range sc.Contacts {
		if c.CourseID != courseID {
			continue
		}
		switch {
		case owner[c.Type]:
			out[c.ProxyID] = reconcile.RoleOwner
		case member[c.Type] && out[c.ProxyID] != reconcile.RoleOwner:
			out[c.ProxyID] = reconcile.RoleMember
		}
	}
	return out
}

// ownerIDs returns the Object IDs of a course's owners and how many owners
// have none.
func (sc *scope) ownerIDs(env *Env, courseID int) (ids []string, without int) {
	roles := sc.roles(env, courseID)
	var proxies []int
	for p, r := range roles {
		if r == reconcile.RoleOwner {
			proxies = append(proxies, p)
		}
	}
	sort.Ints(proxies)
	for _, p := range proxies {
		if u, ok := sc.Users[p]; ok && u.ObjectID != "" {
			ids = append(ids, strings.ToLower(u.ObjectID))
		} else {
			without++
		}
	}
	return ids, without
}

// names renders Team names and descriptions from the configured template.
type names struct{ tmpl *template.Template }

func newNames(env *Env) (*names, error) {
	t, err := config.ParseNameTemplate("team_name", env.Config.Sync.TeamNameTemplate)
	if err != nil {
		return nil, fmt.Errorf("sync.team_name_template: %w", err)
	}
	return &names{tmpl: t}, nil
}

func (n *names) displayName(c elentra.Course) string {
	period := ""
	if c.Period != nil {
		period = c.Period.Title
	}
	out, err := config.RenderTemplate(n.tmpl, map[string]any{"Code": c.Code, "Name": c.Name, "Period": period, "ID": c.ID})
	if err != nil {
		return text.Truncate(strings.TrimSpace(c.Code+" "+c.Name), 256)
	}
	s := strings.Join(strings.Fields(out), " ")
	if s == "" {
		s = fmt.Sprintf("Course %d", c.ID)
	}
	// group displayName: at most 256 characters
	return text.Truncate(s, 256)
}

var tagRE = regexp.MustCompile(`<[^>]*>`)

// plainText turns Elentra's HTML course description into the plain text a
// Team description holds.
func plainText(s string) string {
	s = tagRE.ReplaceAllString(s, " ")
	s = html.UnescapeString(s)
	return strings.Join(strings.Fields(s), " ")
}
