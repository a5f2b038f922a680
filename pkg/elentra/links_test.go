package elentra_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/elentra-teams/elentra-teams/pkg/elentra"
	"github.com/elentra-teams/elentra-teams/pkg/elentra/elentratest"
)

func TestEventLinkInsertUpdateDeleteRoundTrip(t *testing.T) {
	ctx := context.Background()
	tdb := elentratest.New(t)
	start := time.Date(2026, 10, 20, 13, 0, 0, 0, time.UTC)
	link := elentra.EventLink{
		EventID: 42, Title: "Join the Teams meeting", URL: "https://teams.example/l/meetup-join/fake-1",
		ReleaseDate: start.Add(-10 * time.Minute), UpdatedBy: 1,
	}
	inserted, err := tdb.DB.InsertEventLink(ctx, link, now)
	if err != nil {
		t.Fatal(err)
	}
	if inserted.ID == 0 || inserted.EntityID == 0 || !inserted.Published() {
		t.Fatalf("inserted link = %+v, want ids and published", inserted)
	}

	got := readLink(t, tdb.DB, inserted.ID)
	if got.EventID != 42 || got.Title != link.Title || got.URL != link.URL || got.Notes != "" ||
		!got.ReleaseDate.Equal(link.ReleaseDate) || !got.ReleaseUntil.IsZero() || !got.UpdatedDate.Equal(now) || got.UpdatedBy != 1 || !got.Published() {
		t.Errorf("read back = %+v", got)
	}
	// What Elentra's event page reads: the type-3 entity pointing at the link.
	var entity struct {
		EventID     int   `db:"event_id"`
		Release     int64 `db:"release_date"`
		UpdatedDate int64 `db:"updated_date"`
		Active      int   `db:"active"`
	}
	if err := tdb.Root.Get(&entity, "SELECT event_id, release_date, updated_date, active FROM event_resource_entities WHERE entity_type = 3 AND entity_value = ?", inserted.ID); err != nil {
		t.Fatal(err)
	}
	if entity.EventID != 42 || entity.Release != link.ReleaseDate.Unix() || entity.UpdatedDate != now.Unix() || entity.Active != 1 {
		t.Errorf("entity row = %+v", entity)
	}

	later := now.Add(time.Hour)
	change := got
	change.URL = "https://teams.example/l/meetup-join/fake-2"
	change.ReleaseDate = start.Add(5*time.Minute - 10*time.Minute)
	change.ReleaseUntil = start.Add(2 * time.Hour)
	if _, err := tdb.DB.UpdateEventLink(ctx, change, later); err != nil {
		t.Fatal(err)
	}
	// A second update in the same second changes no row and must still succeed.
	if _, err := tdb.DB.UpdateEventLink(ctx, change, later); err != nil {
		t.Fatalf("repeated update: %v", err)
	}
	got = readLink(t, tdb.DB, inserted.ID)
	if got.URL != change.URL || !got.ReleaseDate.Equal(change.ReleaseDate) || !got.ReleaseUntil.Equal(change.ReleaseUntil) || !got.UpdatedDate.Equal(later) || !got.Published() {
		t.Errorf("after update = %+v", got)
	}

	if err := tdb.DB.DeleteEventLink(ctx, inserted.ID); err != nil {
		t.Fatal(err)
	}
	if err := tdb.DB.DeleteEventLink(ctx, inserted.ID); err != nil {
		t.Errorf("deleting a deleted link: %v", err)
	}
	links, err := tdb.DB.EventLinksOfEvents(ctx, []int{42})
	if err != nil || len(links) != 0 {
		t.Errorf("links after delete = %+v, %v", links, err)
	}
	var n int
	if err := tdb.Root.Get(&n, "SELECT COUNT(*) FROM event_resource_entities"); err != nil || n != 0 {
		t.Errorf("%d entity rows left after delete (err %v)", n, err)
	}
	if _, err := tdb.DB.UpdateEventLink(ctx, change, later); !errors.Is(err, elentra.ErrLinkNotFound) {
		t.Errorf("updating a deleted link: %v, want ErrLinkNotFound", err)
	}
}

// A crash between the two writes of InsertEventLink leaves an event_links row
// without its entity: the next run finds it among the event's links, sees it
// unpublished, and UpdateEventLink finishes it.
func TestEventLinkInterruptedInsertIsFoundAndFinished(t *testing.T) {
	ctx := context.Background()
	tdb := elentratest.New(t)
	tdb.Exec(t, "INSERT INTO event_links (elink_id, event_id, link, link_title, link_notes, release_date, updated_date, updated_by) VALUES (7, 42, 'https://teams.example/fake', 'Join', '', 100, 50, 1)")

	links, err := tdb.DB.EventLinksOfEvents(ctx, []int{42})
	if err != nil {
		t.Fatal(err)
	}
	if len(links) != 1 || links[0].ID != 7 || links[0].EntityID != 0 || links[0].Published() {
		t.Fatalf("orphan link = %+v, want link 7 unpublished", links)
	}
	l := links[0]
	if _, err := tdb.DB.UpdateEventLink(ctx, l, now); err != nil {
		t.Fatal(err)
	}
	got := readLink(t, tdb.DB, 7)
	if !got.Published() || got.EntityReleaseDate.Unix() != 100 {
		t.Errorf("after finishing = %+v, want published with release 100", got)
	}
	if _, err := tdb.DB.UpdateEventLink(ctx, got, now); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := tdb.Root.Get(&n, "SELECT COUNT(*) FROM event_resource_entities WHERE entity_value = 7"); err != nil || n != 1 {
		t.Errorf("%d entities for link 7 after two updates, want 1 (err %v)", n, err)
	}
}

func TestInsertEventLinkRefusesAnExistingLink(t *testing.T) {
	tdb := elentratest.New(t)
	if _, err := tdb.DB.InsertEventLink(context.Background(), elentra.EventLink{ID: 3, EventID: 1}, now); err == nil {
		t.Error("InsertEventLink with an id succeeded")
	}
}

func readLink(t *testing.T, db *elentra.DB, id int) elentra.EventLink {
	t.Helper()
	links, err := db.EventLinks(context.Background(), []int{id})
	if err != nil {
		t.Fatal(err)
	}
	if len(links) != 1 {
		t.Fatalf("EventLinks(%d) = %d links, want 1", id, len(links))
	}
	return links[0]
}
