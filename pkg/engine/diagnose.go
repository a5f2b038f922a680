package engine

import (
	"context"
	"sort"

	"github.com/elentra-teams/elentra-teams/pkg/elentra"
	"github.com/elentra-teams/elentra-teams/pkg/reconcile"
	"github.com/elentra-teams/elentra-teams/pkg/store"
)

// Audience is the Elentra side of a sync as the syncs themselves read it:
// the courses in scope and who each course puts in its Team. check-config
// and status read it so that what they report (users without an Object ID,
// courses without an owner, Elentra's head counts) follows the very rules a
// sync applies, never a second copy of them.
type Audience struct {
	// Courses are the courses in scope that exist in Elentra, by id: the
	// enabled ones and those that still have a Team.
	Courses map[int]elentra.Course
	// Enabled are the courses switched on (or every active course with
	// sync.all_active_courses).
	Enabled map[int]bool
	// Records are the tool's course rows, by course id.
	Records map[int]store.TeamRecord
	// Switches are the course switches (the tool's and Elentra's), by
	// course id.
	Switches map[int]store.Switch
	// Roles are, per course, the role of each proxy id in its Team.
	Roles map[int]map[int]reconcile.Role
	// Users are the people of every course above, by proxy id; a proxy id
	// Elentra has no user for is absent.
	Users map[int]store.User
}

// ReadAudience reads the Audience of env's configuration with the same few
// set-based queries a sync uses. env needs DB, Store, Config and Now; it
// makes no Graph call.
func ReadAudience(ctx context.Context, env *Env) (*Audience, error) {
	sc, err := readScope(ctx, env, needOwners|needMembers)
	if err != nil {
		return nil, err
	}
	a := &Audience{Courses: sc.Courses, Enabled: sc.Enabled, Records: sc.Records, Switches: sc.Switches, Users: sc.Users,
		Roles: make(map[int]map[int]reconcile.Role, len(sc.Courses))}
	for id := range sc.Courses {
		a.Roles[id] = sc.roles(env, id)
	}
	return a, nil
}

// Current reports whether a course should have an active Team now: enabled,
// active, in a current curriculum period (the rule of sync-teams).
func (a *Audience) Current(courseID int) bool {
	c, ok := a.Courses[courseID]
	return ok && a.Enabled[courseID] && c.Active && c.Period != nil
}

// EnabledIDs returns the enabled courses that exist in Elentra, ascending.
func (a *Audience) EnabledIDs() []int {
	var ids []int
	for id := range a.Courses {
		if a.Enabled[id] {
			ids = append(ids, id)
		}
	}
	sort.Ints(ids)
	return ids
}

// Count returns how many people of a course have role.
func (a *Audience) Count(courseID int, role reconcile.Role) int {
	n := 0
	for _, r := range a.Roles[courseID] {
		if r == role {
			n++
		}
	}
	return n
}
