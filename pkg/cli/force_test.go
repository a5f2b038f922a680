package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// runAt runs one command line as a person at a terminal (stdin and stderr
// count as one) who types answer when asked.
func (e *authEnv) runAt(answer string, args ...string) (stdout, stderr string, code int) {
	var out, errOut bytes.Buffer
	yes := true
	io := &IOStreams{In: strings.NewReader(answer), Out: &out, ErrOut: &errOut, stdinTTY: &yes, stderrTTY: &yes}
	code = Run(context.Background(), append([]string{"--config", e.cfgPath}, args...), io)
	e.mu.Lock()
	e.outputs.WriteString(out.String() + errOut.String())
	e.mu.Unlock()
	return out.String(), errOut.String(), code
}

func (e *authEnv) memberships(courseID int) int {
	e.t.Helper()
	var n int
	if err := e.tdb.Root.Get(&n, "SELECT COUNT(*) FROM "+e.tdb.Table("msteams_memberships")+" WHERE course_id = ?", courseID); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// --force widens nothing unseen: in cron (no terminal) it needs --course or
// --event; at a terminal the guards still hold, and what they held is made
// only once the person has seen it with its counts and said yes.
func TestForceNeedsACourseOrAConfirmation(t *testing.T) {
	e := newAuthEnv(t, "America/Toronto")
	e.authorize(t)
	if _, stderr, code := e.run([]string{"sync", "--quiet"}, nil); code != 0 {
		t.Fatalf("sync: %d %s", code, stderr)
	}
	var course int
	if err := e.tdb.Root.Get(&course, "SELECT course_id FROM "+e.tdb.Table("msteams_memberships")+" GROUP BY course_id ORDER BY COUNT(*) DESC LIMIT 1"); err != nil {
		t.Fatal(err)
	}
	before := e.memberships(course)
	// The course's enrolment reads empty: the Team's guard holds.
	if _, err := e.tdb.Root.Exec("UPDATE "+e.tdb.Table("course_audience")+" SET audience_active = 0 WHERE course_id = ?", course); err != nil {
		t.Fatal(err)
	}
	// In cron (--quiet prints only what needs a person): the guard that
	// held is mailed.
	stdout, _, code := e.run([]string{"sync-members", "--quiet"}, nil)
	if code != 0 || !strings.HasPrefix(stdout, "! course ") || !strings.Contains(stdout, "would be removed, more than sync.removal_guard_percent") || e.memberships(course) != before {
		t.Fatalf("without --force: exit %d, %d of %d memberships left\n%s", code, e.memberships(course), before, stdout)
	}

	// In cron: refused before anything is read or written.
	_, stderr, code := e.run([]string{"sync-members", "--force"}, nil)
	if code != ExitUsage || !strings.Contains(stderr, "--course ID or --event ID") {
		t.Errorf("--force without a terminal: exit %d\n%s", code, stderr)
	}

	// At a terminal, answered no: the counts are shown, nothing is removed.
	_, stderr, code = e.runAt("n\n", "sync-members", "--force")
	if code != 0 || e.memberships(course) != before {
		t.Errorf("answered no: exit %d, %d of %d memberships left", code, e.memberships(course), before)
	}
	for _, want := range []string{"sync-members: the guards held back these changes:", "would be removed", "Make these ", "changes now? [y/N]"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("the prompt lacks %q:\n%s", want, stderr)
		}
	}

	// At a terminal, answered yes: removed.
	stdout, stderr, code = e.runAt("y\n", "sync-members", "--force")
	if code != 0 || !strings.Contains(stdout, "remove member") {
		t.Fatalf("answered yes: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if n := e.memberships(course); n >= before {
		t.Errorf("answered yes: %d of %d memberships left", n, before)
	}
	e.assertNoSecrets()
}
