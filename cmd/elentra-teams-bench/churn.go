package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/elentra-teams/elentra-teams/internal/school"
	"github.com/elentra-teams/elentra-teams/pkg/elentra"
)

// Churn rates of the third phase.
const (
	// movedEvery: one learner in 50 (2 %) moves to another course list.
	movedEvery = 50
	// editedEvery: one event in 100 (1 %) of the horizon is edited.
	editedEvery = 100
)

// churn is what the third phase changes in Elentra.
type churn struct {
	// moves end one course-list membership and start another for the same
	// learner (the group the next courses take their audience from).
	moves []move
	// retitled and rescheduled events.
	retitled, rescheduled []int
}

type move struct {
	memberID, proxyID, from, to int
}

// planChurn picks 2 % of the learners in course lists, each moved to the
// next course list, and 1 % of the events in the horizon, alternately
// retitled and moved an hour later. In this school a course takes its
// learners from a course list (its section), so moving a learner between
// lists moves them between courses, as a cohort change does in Elentra.
func planChurn(s *school.School) churn {
	var sections []int
	isSection := map[int]bool{}
	for _, g := range s.Groups {
		if g.Type == "course_list" {
			sections = append(sections, g.ID)
			isSection[g.ID] = true
		}
	}
	next := map[int]int{}
	for i, id := range sections {
		next[id] = sections[(i+1)%len(sections)]
	}
	var c churn
	k := 0
	for _, m := range s.Members {
		// Ordinary memberships only: the edge cases keep their meaning.
		if !isSection[m.GroupID] || !m.Active || m.Start != 0 || m.Finish != 0 || s.Why[fmt.Sprintf("user %d", m.ProxyID)] != "" {
			continue
		}
		if k%movedEvery == 0 && len(sections) > 1 {
			c.moves = append(c.moves, move{memberID: m.ID, proxyID: m.ProxyID, from: m.GroupID, to: next[m.GroupID]})
		}
		k++
	}
	start, end := s.Spec.Now.Unix(), s.Spec.Now.Add(horizonOf(s.Spec)).Unix()
	k = 0
	for _, e := range s.Events {
		if e.Start < start || e.Start > end || s.Why[fmt.Sprintf("event %d", e.ID)] != "" {
			continue
		}
		if k%editedEvery == 0 {
			if len(c.retitled) <= len(c.rescheduled) {
				c.retitled = append(c.retitled, e.ID)
			} else {
				c.rescheduled = append(c.rescheduled, e.ID)
			}
		}
		k++
	}
	return c
}

func horizonOf(spec school.Spec) time.Duration {
	if spec.Horizon > 0 {
		return spec.Horizon
	}
	return 14 * 24 * time.Hour
}

// applyChurn writes the churn into Elentra's tables, dated now, and says
// what it did.
func applyChurn(ctx context.Context, db *elentra.DB, s *school.School, now time.Time) (string, error) {
	c := planChurn(s)
	// A minute ago: the learner rule sees the old membership ended and the
	// new one started, whatever the clock skew between bench and tool.
	at := now.Add(-time.Minute).Unix()
	if len(c.moves) > 0 {
		ids := make([]any, len(c.moves))
		var rows []string
		var args []any
		for i, m := range c.moves {
			ids[i] = m.memberID
			rows = append(rows, "(?, ?, ?, 0, 1, ?, ?)")
			args = append(args, m.to, m.proxyID, at, at, at)
		}
		if _, err := db.Exec(ctx, "UPDATE "+db.Table("group_members")+" SET finish_date = ?, updated_date = ? WHERE gmember_id IN ("+placeholders(len(ids))+")",
			append([]any{at, at}, ids...)...); err != nil {
			return "", fmt.Errorf("end the moved learners' memberships: %w", err)
		}
		if _, err := db.Exec(ctx, "INSERT INTO "+db.Table("group_members")+" (group_id, proxy_id, start_date, finish_date, member_active, created_date, updated_date) VALUES "+
			strings.Join(rows, ", "), args...); err != nil {
			return "", fmt.Errorf("start the moved learners' new memberships: %w", err)
		}
	}
	if len(c.retitled) > 0 {
		if _, err := db.Exec(ctx, "UPDATE "+db.Table("events")+" SET event_title = CONCAT(event_title, ' (revised)'), updated_date = ? WHERE event_id IN ("+placeholders(len(c.retitled))+")",
			append([]any{at}, intArgs(c.retitled)...)...); err != nil {
			return "", fmt.Errorf("retitle events: %w", err)
		}
	}
	if len(c.rescheduled) > 0 {
		if _, err := db.Exec(ctx, "UPDATE "+db.Table("events")+" SET event_start = event_start + 3600, event_finish = event_finish + 3600, updated_date = ? WHERE event_id IN ("+placeholders(len(c.rescheduled))+")",
			append([]any{at}, intArgs(c.rescheduled)...)...); err != nil {
			return "", fmt.Errorf("reschedule events: %w", err)
		}
	}
	return fmt.Sprintf("%d learners moved to another course list, %d events retitled, %d moved an hour later", len(c.moves), len(c.retitled), len(c.rescheduled)), nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func intArgs(ids []int) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}
