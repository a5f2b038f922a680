package engine

import (
	"runtime"
	"testing"
	"time"

	"github.com/elentra-teams/elentra-teams/pkg/config"
	"github.com/elentra-teams/elentra-teams/pkg/elentra"
)

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// A name template that would write megabytes (configured before
// check-config refused such templates, or by data no sample foresaw) renders
// into the capped buffer: the sync keeps its fallback name and its memory.
func TestNamesRenderIntoACappedBuffer(t *testing.T) {
	cfg := config.Defaults()
	cfg.Sync.TeamNameTemplate = "{{range 2000000}}{{$.Name}} {{end}}"
	cfg.Sync.EventSubjectTemplate = "{{range 2000000}}{{$.Title}} {{end}}"
	env := &Env{Config: &cfg}
	course := elentra.Course{ID: 7, Code: "MED101", Name: "Anatomy"}

	n, err := newNames(env)
	if err != nil {
		t.Fatal(err)
	}
	var name string
	if a := allocated(func() { name = n.displayName(course) }); a > 4<<20 {
		t.Errorf("the Team name took %d MiB to render", a>>20)
	}
	if name != "MED101 Anatomy" {
		t.Errorf("Team name %q, want the fallback MED101 Anatomy", name)
	}

	subject, err := config.ParseNameTemplate("event_subject", cfg.Sync.EventSubjectTemplate)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 9, 8, 13, 0, 0, 0, time.UTC)
	ev := elentra.Event{ID: 9, CourseID: 7, Title: "Lecture", Start: start, Finish: start.Add(time.Hour)}
	var spec string
	run := &eventsRun{env: env, subject: subject, local: time.UTC, zone: "UTC"}
	if a := allocated(func() { spec = run.eventSpec(ev, course, nil).Subject }); a > 4<<20 {
		t.Errorf("the meeting subject took %d MiB to render", a>>20)
	}
	if spec != "Lecture" {
		t.Errorf("subject %q, want the fallback Lecture", spec)
	}
}
