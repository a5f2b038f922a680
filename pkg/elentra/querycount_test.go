package elentra_test

import (
	"context"
	"testing"
	"time"

	"github.com/elentra-teams/elentra-teams/internal/school"
	"github.com/elentra-teams/elentra-teams/pkg/elentra"
	"github.com/elentra-teams/elentra-teams/pkg/elentra/elentratest"
	"github.com/elentra-teams/elentra-teams/pkg/store"
)

func withStore() elentratest.Option {
	return elentratest.WithSetup(func(ctx context.Context, db *elentra.DB) error {
		_, err := store.Migrate(ctx, db)
		return err
	})
}

// readCounts loads a school and returns how many queries each read takes over
// all of its courses, events and users.
func readCounts(t *testing.T, spec school.Spec) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	tdb := elentratest.New(t, withStore())
	s := school.Generate(spec)
	start := time.Now()
	if err := s.Load(ctx, tdb.DB); err != nil {
		t.Fatal(err)
	}
	t.Logf("loaded %d courses, %d users in %v", len(s.Courses), len(s.Users), time.Since(start))
	now := s.Spec.Now
	var courseIDs, userIDs []int
	for _, c := range s.Courses {
		courseIDs = append(courseIDs, c.ID)
	}
	for _, u := range s.Users {
		userIDs = append(userIDs, u.ID)
	}
	counts := map[string]int64{}
	measure := func(name string, read func() (int, error)) {
		before, start := tdb.DB.QueryCount(), time.Now()
		n, err := read()
		t.Logf("%s: %d rows in %v", name, n, time.Since(start))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if n == 0 {
			t.Fatalf("%s read nothing: the count would prove nothing", name)
		}
		counts[name] = tdb.DB.QueryCount() - before
	}
	var eventIDs []int
	measure("Courses", func() (int, error) {
		c, err := tdb.DB.Courses(ctx, elentra.CourseFilter{OrganisationID: s.Spec.OrganisationID, ActiveOnly: true}, now)
		return len(c), err
	})
	measure("CoursesByID", func() (int, error) {
		c, err := tdb.DB.Courses(ctx, elentra.CourseFilter{IDs: courseIDs}, now)
		return len(c), err
	})
	measure("Learners", func() (int, error) {
		l, err := tdb.DB.Learners(ctx, courseIDs, s.Spec.AppID, now)
		return len(l), err
	})
	measure("Contacts", func() (int, error) {
		c, err := tdb.DB.Contacts(ctx, courseIDs)
		return len(c), err
	})
	measure("Events", func() (int, error) {
		e, err := tdb.DB.Events(ctx, elentra.EventFilter{CourseIDs: courseIDs, From: now, To: now.Add(14 * 24 * time.Hour)})
		for _, ev := range e {
			eventIDs = append(eventIDs, ev.ID)
		}
		return len(e), err
	})
	measure("EventAudiences", func() (int, error) {
		a, err := tdb.DB.EventAudiences(ctx, eventIDs)
		return len(a), err
	})
	measure("EventContacts", func() (int, error) {
		c, err := tdb.DB.EventContacts(ctx, eventIDs)
		return len(c), err
	})
	measure("Users", func() (int, error) {
		u, err := store.New(tdb.DB).Users(ctx, userIDs)
		return len(u), err
	})
	measure("Settings", func() (int, error) {
		m, err := tdb.DB.Settings(ctx, []string{elentra.SettingTeamsEnabled, elentra.SettingMeetingWindow, elentra.SettingUserMenu}, s.Spec.OrganisationID)
		return len(m), err
	})
	return counts
}

func TestQueryCountIsConstantInTheSizeOfTheSchool(t *testing.T) {
	base := school.Spec{Seed: 3, Courses: 12, Learners: 120, LearnersPerCourse: 30, EventsPerCourse: 2, TeamsEnabled: true}
	small := readCounts(t, base)
	large := readCounts(t, base.Scaled(10))
	// Learners reads the students once, then the course audiences.
	want := map[string]int64{"Learners": 2}
	for name, n := range small {
		if w := max(want[name], int64(1)); n != w {
			t.Errorf("%s took %d queries on %d courses, want %d", name, n, base.Courses, w)
		}
		if large[name] != n {
			t.Errorf("%s took %d queries on %d courses and %d on %d", name, n, base.Courses, large[name], base.Courses*10)
		}
	}
}

func TestLongIDListsAreReadInChunks(t *testing.T) {
	tdb := elentratest.New(t, withStore())
	ids := make([]int, 2*elentra.MaxInList+1)
	for i := range ids {
		ids[i] = i + 1
	}
	tdb.Exec(t, "INSERT INTO "+tdb.AuthTable("user_data")+" (id, username) VALUES (1, 'first'), (?, 'last')", len(ids))
	before := tdb.DB.QueryCount()
	users, err := store.New(tdb.DB).Users(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	if q := tdb.DB.QueryCount() - before; q != 3 {
		t.Errorf("%d ids took %d queries, want 3 chunks of at most %d", len(ids), q, elentra.MaxInList)
	}
	if len(users) != 2 || users[0].ProxyID != 1 || users[1].ProxyID != len(ids) {
		t.Errorf("users = %+v, want the first and the last", users)
	}
}
