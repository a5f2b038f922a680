package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// --rehearse stands the school and the simulator up and runs nothing: the
// guide's steps, taken by hand with the configuration it prints, work
// against them; Ctrl-C takes everything down.
func TestRehearseServesTheGuidesSteps(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out bytes.Buffer
	up := make(chan *world, 1)
	done := make(chan error, 1)
	go func() {
		done <- rehearse(ctx, options{courses: 4, learners: 40}, &out, time.Now, func(w *world) { up <- w })
	}()
	var w *world
	select {
	case w = <-up:
	case err := <-done:
		t.Fatalf("rehearse ended before it was up: %v\n%s", err, out.String())
	case <-time.After(2 * time.Minute):
		t.Fatal("rehearse did not come up in 2 minutes")
	}
	printed := out.String()
	for _, want := range []string{w.config, w.graphURL, "setup --takeover", "authorize --no-browser", "_sim/state"} {
		if !strings.Contains(printed, want) {
			t.Errorf("the instructions do not mention %q:\n%s", want, printed)
		}
	}

	var transcript bytes.Buffer
	sh := &shell{config: w.config, out: &transcript}
	step := func(want int, onLine func(string, answerFunc), args ...string) commandResult {
		t.Helper()
		r := sh.run(ctx, onLine, args...)
		if r.code != want {
			t.Fatalf("elentra-teams %s exited %d, want %d\n%s", quoteArgs(args), r.code, want, transcript.String())
		}
		return r
	}
	// Step 6: configuration and database right, the tool's tables missing.
	r := step(1, nil, "check-config")
	for _, want := range []string{"✓ config.database", "✓ database.connect", "✓ database.schemas", "✗ database.migrations"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("check-config before setup lacks %q:\n%s", want, r.stdout)
		}
	}
	// Steps 7 to 11.
	step(0, nil, "setup", "--takeover")
	step(0, signInAsAdmin(sh), "authorize", "--no-browser", "--timezone", demoTimezone)
	courses, err := currentCourses(ctx, w.config)
	if err != nil || len(courses) == 0 {
		t.Fatalf("no current course to enable (%v)", err)
	}
	step(0, nil, "courses", "enable", strconv.Itoa(courses[0]))
	step(0, nil, "sync")

	resp, err := http.Get(w.graphURL + "/_sim/state")
	if err != nil {
		t.Fatal(err)
	}
	var state struct {
		Teams []struct{ Members []json.RawMessage }
	}
	err = json.NewDecoder(resp.Body).Decode(&state)
	_ = resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(state.Teams) != 1 || len(state.Teams[0].Members) < 2 {
		t.Errorf("after the guide's first sync the tenant holds %d Teams (want 1 with its people)", len(state.Teams))
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("rehearse ended with %v", err)
	}
	if _, err := os.Stat(w.config); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the configuration outlives the rehearsal: %v", err)
	}
}
