package check

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"time"

	"github.com/elentra-teams/elentra-teams/pkg/config"
	"github.com/elentra-teams/elentra-teams/pkg/elentra"
	"github.com/elentra-teams/elentra-teams/pkg/engine"
	"github.com/elentra-teams/elentra-teams/pkg/reconcile"
	"github.com/elentra-teams/elentra-teams/pkg/store"
)

// StatusReport is what `status` shows: each course's Team, each upcoming event's
// meeting, and the last runs of each job. It is read from the database
// alone (Elentra and the tool's tables): no Graph call.
type StatusReport struct {
	// Installation is this installation (nil before setup); Copy says why
	// no sync writes to Microsoft when the database is a copy of another
	// installation's.
	Installation *store.Installation `json:"installation,omitempty"`
	Copy         string              `json:"copy,omitempty"`
	// SetAside are the records of earlier installations that `setup
	// --new-installation` set aside: no sync acts on them.
	SetAside []store.SetAsideSummary `json:"set_aside,omitempty"`
	Courses  []CourseStatus          `json:"courses"`
	Events   []EventStatus           `json:"events"`
	Runs     []RunStatus             `json:"runs"`
}

// CourseStatus is one course that is enabled or still has a Team.
type CourseStatus struct {
	CourseID  int    `json:"course_id"`
	Code      string `json:"code"`
	Name      string `json:"name"`
	InElentra bool   `json:"in_elentra"`
	Enabled   bool   `json:"enabled"`
	// Current: active in a current curriculum period, so it should have
	// an active Team.
	Current bool                `json:"current"`
	State   reconcile.TeamState `json:"team_state"`
	GroupID string              `json:"team_id,omitempty"`
	// Owners and members in Elentra (by the syncs' rules) and in the Team
	// as this tool recorded its additions.
	ElentraOwners  int `json:"elentra_owners"`
	ElentraMembers int `json:"elentra_members"`
	TeamOwners     int `json:"team_owners"`
	TeamMembers    int `json:"team_members"`
	// WithoutObjectID are Elentra's people of the course who cannot be
	// added for want of a Microsoft Object ID.
	WithoutObjectID int        `json:"without_object_id"`
	LastSync        *time.Time `json:"last_sync,omitempty"`
	LastError       string     `json:"last_error,omitempty"`
	LastErrorAt     *time.Time `json:"last_error_at,omitempty"`
}

// EventStatus is one upcoming event of the synced courses.
type EventStatus struct {
	EventID      int                  `json:"event_id"`
	CourseID     int                  `json:"course_id"`
	CourseCode   string               `json:"course_code"`
	Title        string               `json:"title"`
	Start        time.Time            `json:"start"`
	Enabled      bool                 `json:"enabled"`
	State        reconcile.EventState `json:"meeting_state"`
	JoinableFrom *time.Time           `json:"joinable_from,omitempty"`
	LastError    string               `json:"last_error,omitempty"`
}

// RunStatus is one recorded run.
type RunStatus struct {
	Command  string         `json:"command"`
	Started  time.Time      `json:"started"`
	Duration *float64       `json:"duration_seconds,omitempty"`
	ExitCode *int           `json:"exit_code,omitempty"`
	Counts   map[string]int `json:"applied,omitempty"`
	Failed   int            `json:"failed"`
	Findings int            `json:"findings"`
	// Disabled: the run found the integration switched off and did nothing.
	Disabled bool   `json:"disabled,omitempty"`
	Error    string `json:"error,omitempty"`
}

// RunsPerCommand is how many of each command's last runs Status keeps.
const RunsPerCommand = 3

// recentRunsScanned bounds the run history read for the last runs of each
// command: enough for a schedule of every job every few minutes.
const recentRunsScanned = 200

// ReadStatus reads the status of the configuration's courses, events and
// runs with a constant number of queries.
func ReadStatus(ctx context.Context, st *store.Store, cfg *config.Config, now time.Time) (*StatusReport, error) {
	db := st.DB()
	a, err := engine.ReadAudience(ctx, &engine.Env{DB: db, Store: st, Config: cfg, Now: func() time.Time { return now }})
	if err != nil {
		return nil, err
	}
	out := &StatusReport{Courses: []CourseStatus{}, Events: []EventStatus{}, Runs: []RunStatus{}}
	inst, err := st.CheckInstallation(ctx)
	var ce *store.CopyError
	switch {
	case errors.As(err, &ce):
		out.Copy = err.Error()
	case err != nil && !errors.As(err, new(*store.NoInstallationError)):
		return nil, err
	}
	out.Installation = inst
	if out.SetAside, err = st.SetAside(ctx); err != nil {
		return nil, err
	}

	ids := map[int]bool{}
	for id := range a.Courses {
		ids[id] = true
	}
	for id, r := range a.Records {
		if r.GroupID != "" || a.Enabled[id] {
			ids[id] = true
		}
	}
	sorted := elentra.SortedIDs(ids)
	managed, err := st.ManagedMembers(ctx, sorted)
	if err != nil {
		return nil, err
	}
	for _, id := range sorted {
		c, exists := a.Courses[id]
		rec := a.Records[id]
		cs := CourseStatus{CourseID: id, Code: c.Code, Name: c.Name, InElentra: exists, Enabled: a.Enabled[id],
			Current: a.Current(id), State: rec.State, GroupID: rec.GroupID, LastError: rec.LastError,
			ElentraOwners: a.Count(id, reconcile.RoleOwner), ElentraMembers: a.Count(id, reconcile.RoleMember)}
		if cs.State == "" {
			cs.State = reconcile.StateNone
		}
		for p := range a.Roles[id] {
			if u, ok := a.Users[p]; ok && u.ObjectID == "" {
				cs.WithoutObjectID++
			}
		}
		for _, role := range managed[id] {
			if role == string(reconcile.RoleOwner) {
				cs.TeamOwners++
			} else {
				cs.TeamMembers++
			}
		}
		cs.LastSync = timePtr(rec.LastSyncedAt)
		cs.LastErrorAt = timePtr(rec.LastErrorAt)
		out.Courses = append(out.Courses, cs)
	}

	events, err := st.ListEvents(ctx, store.SyncRulesOf(cfg), store.EventListOptions{Upcoming: true, CourseSwitches: a.Switches}, now)
	if err != nil {
		return nil, err
	}
	for _, e := range events {
		out.Events = append(out.Events, EventStatus{EventID: e.ID, CourseID: e.CourseID, CourseCode: e.CourseCode, Title: e.Title,
			Start: e.Start, Enabled: e.Enabled, State: e.State, JoinableFrom: timePtr(e.JoinableFrom), LastError: e.LastError})
	}

	runs, err := st.RecentRuns(ctx, recentRunsScanned)
	if err != nil {
		return nil, err
	}
	out.Runs = lastRunsPerCommand(runs, RunsPerCommand)
	return out, nil
}

// lastRunsPerCommand keeps the newest n runs of each command, commands in
// the order of their newest run.
func lastRunsPerCommand(runs []store.Run, n int) []RunStatus {
	kept := map[string]int{}
	out := []RunStatus{}
	for _, r := range runs {
		if kept[r.Command] >= n {
			continue
		}
		kept[r.Command]++
		rs := RunStatus{Command: r.Command, Started: r.Started, ExitCode: r.ExitCode, Error: r.Error}
		if r.Finished != nil {
			d := r.Finished.Sub(r.Started).Seconds()
			rs.Duration = &d
		}
		rs.Counts, rs.Failed, rs.Findings, rs.Disabled = runCounts(r.Summary)
		out = append(out, rs)
	}
	// Group by command, commands in the order of their newest run; the
	// runs came newest first and stay so within a command.
	order := map[string]int{}
	for i, r := range out {
		if _, ok := order[r.Command]; !ok {
			order[r.Command] = i
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return order[out[i].Command] < order[out[j].Command] })
	return out
}

// runCounts reads a run's summary (what engine records): the changes
// applied by kind, the failed ones, the findings, and whether the run found
// the integration switched off.
func runCounts(summary string) (applied map[string]int, failed, findings int, disabled bool) {
	var s struct {
		Counts map[string]struct {
			Applied int `json:"applied"`
			Failed  int `json:"failed"`
		} `json:"counts"`
		Findings int    `json:"findings"`
		Failures int    `json:"failures"`
		Disabled string `json:"disabled"`
	}
	if summary == "" || json.Unmarshal([]byte(summary), &s) != nil {
		return nil, 0, 0, false
	}
	for kind, c := range s.Counts {
		if c.Applied > 0 {
			if applied == nil {
				applied = map[string]int{}
			}
			applied[kind] = c.Applied
		}
		failed += c.Failed
	}
	return applied, failed, s.Findings, s.Disabled != ""
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}
