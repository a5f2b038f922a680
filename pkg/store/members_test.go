package store_test

import (
	"context"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/elentra-teams/elentra-teams/pkg/elentra"
	"github.com/elentra-teams/elentra-teams/pkg/store"
)

// The memberships the tool added come back per course with their roles,
// lower-cased; a membership someone else made, a forgotten one and a course
// not asked for do not.
func TestManagedMembersAreWhatTheToolAddedAndKept(t *testing.T) {
	ctx := context.Background()
	tdb := migrated(t)
	s := store.New(tdb.DB)
	now := time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC)
	recs := []store.MemberRecord{
		{CourseID: 1, ObjectID: "AAAAAAAA-0000-4000-8000-000000000001", ProxyID: 11, Role: "owner"},
		{CourseID: 1, ObjectID: "aaaaaaaa-0000-4000-8000-000000000002", ProxyID: 12, Role: "member"},
		{CourseID: 1, ObjectID: "aaaaaaaa-0000-4000-8000-000000000003", ProxyID: 13, Role: "member"},
		{CourseID: 2, ObjectID: "aaaaaaaa-0000-4000-8000-000000000002", ProxyID: 12, Role: "owner"},
		{CourseID: 3, ObjectID: "aaaaaaaa-0000-4000-8000-000000000004", ProxyID: 14, Role: "member"},
	}
	// more courses than one IN list holds, so that the reading is cut in two
	for c := 10; c < 10+elentra.MaxInList+5; c++ {
		recs = append(recs, store.MemberRecord{CourseID: c, ObjectID: fmt.Sprintf("bbbbbbbb-0000-4000-8000-%012d", c), Role: "member"})
	}
	if err := s.RecordMembers(ctx, recs, now); err != nil {
		t.Fatal(err)
	}
	if err := s.ForgetMembers(ctx, []store.MemberRecord{{CourseID: 1, ObjectID: "AAAAAAAA-0000-4000-8000-000000000003"}}); err != nil {
		t.Fatal(err)
	}
	// a membership the tool found in the Team but did not add
	if _, err := tdb.Root.Exec("INSERT INTO "+tdb.Table(store.MembershipsTable)+
		" (course_id, object_id, role, added_by_tool, updated_at) VALUES (2, 'cccccccc-0000-4000-8000-000000000005', 'member', 0, ?)", now); err != nil {
		t.Fatal(err)
	}

	ids := []int{1, 2}
	for c := 10; c < 10+elentra.MaxInList+5; c++ {
		ids = append(ids, c)
	}
	got, err := s.ManagedMembers(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]map[string]string{
		1: {"aaaaaaaa-0000-4000-8000-000000000001": "owner", "aaaaaaaa-0000-4000-8000-000000000002": "member"},
		2: {"aaaaaaaa-0000-4000-8000-000000000002": "owner"},
	}
	for c := 10; c < 10+elentra.MaxInList+5; c++ {
		want[c] = map[string]string{fmt.Sprintf("bbbbbbbb-0000-4000-8000-%012d", c): "member"}
	}
	if !maps.EqualFunc(got, want, maps.Equal) {
		t.Errorf("ManagedMembers = %v courses, want %v; course 1: %v, course 2: %v, course 3 (not asked): %v",
			len(got), len(want), got[1], got[2], got[3])
	}
}
