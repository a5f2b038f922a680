package main

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// tinySchool keeps each demo run to a second or so (the faults run waits
// out a real Retry-After and a replication delay on top).
var tinySchool = []string{"--courses", "4", "--learners", "40"}

// The demo as a newcomer runs it: the real commands in order, a Team for
// every course it enabled, and a second sync that changes nothing.
func TestDemoRunsTheAdminsCommandsAndConverges(t *testing.T) {
	// A variable aimed at a real server must not reach the demo's commands.
	t.Setenv("ELENTRA_TEAMS_DATABASE_HOST", "db.invalid")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), tinySchool, &stdout, &stderr)
	transcript := stdout.String()
	if code != exitOK {
		t.Fatalf("exit %d\nstderr:\n%s\nstdout:\n%s", code, stderr.String(), transcript)
	}
	if !strings.Contains(stderr.String(), "ignoring ELENTRA_TEAMS_DATABASE_HOST") {
		t.Errorf("stderr does not say the variable was ignored: %q", stderr.String())
	}

	commands := commandLines(transcript)
	wantOrder := []string{
		"setup --menu --takeover",
		"courses list",
		"courses enable ",
		"authorize --no-browser --timezone America/Toronto",
		"sync-users",
		"sync",
		"sync",
		"check-config",
		"status",
	}
	i := 0
	for _, c := range commands {
		if i < len(wantOrder) && (c == wantOrder[i] || strings.HasSuffix(wantOrder[i], " ") && strings.HasPrefix(c, wantOrder[i])) {
			i++
		}
	}
	if i < len(wantOrder) {
		t.Errorf("the commands run were %q; missing %q in that order", commands, wantOrder[i])
	}

	enabled := enabledIDs(t, commands)
	if len(enabled) == 0 {
		t.Fatal("no course was enabled")
	}
	teams, enabledInSummary := summaryTeams(t, transcript)
	if teams != len(enabled) || enabledInSummary != len(enabled) {
		t.Errorf("summary: %d Teams for %d enabled courses; the demo enabled %d (%v)", teams, enabledInSummary, len(enabled), enabled)
	}

	last := outputOf(transcript, lastIndexOf(commands, "sync"))
	steps := 0
	for _, line := range strings.Split(last, "\n") {
		if strings.HasPrefix(line, "sync-") && strings.Contains(line, ": ") {
			steps++
			if !strings.HasSuffix(line, ": nothing to change") {
				t.Errorf("the second sync changed something: %q", line)
			}
		}
	}
	if steps < 3 {
		t.Errorf("the last sync reported %d steps, want users, teams and members at least:\n%s", steps, last)
	}
	if !strings.Contains(transcript, "last sync        nothing to change, no Graph write") {
		t.Errorf("the summary does not say the last sync wrote nothing:\n%s", tail(transcript))
	}

	// The generated secrets live in files; none is printed.
	for _, prefix := range []string{"demo-client-secret-", "demo-db-password-"} {
		if strings.Contains(transcript, prefix) || strings.Contains(stderr.String(), prefix) {
			t.Errorf("a generated secret (%s…) was printed", prefix)
		}
	}
}

// On the simulator's side: one Team per enabled course and no other, each
// with an owner, and the last sync sent no write.
func TestDemoTeamsAreTheEnabledCourses(t *testing.T) {
	res, err := runDemo(context.Background(), options{courses: 4, learners: 40}, io.Discard, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	nickname := regexp.MustCompile(`^elentra-[a-z2-7]{8}-o1-c(\d+)(-|$)`)
	var teamCourses []int
	for _, team := range res.final.Teams {
		m := nickname.FindStringSubmatch(team.MailNickname)
		if m == nil {
			t.Errorf("Team %q has nickname %q, not one of a course", team.DisplayName, team.MailNickname)
			continue
		}
		id, _ := strconv.Atoi(m[1])
		teamCourses = append(teamCourses, id)
		owners := 0
		for _, member := range team.Members {
			if slices.Contains(member.Roles, "owner") {
				owners++
			}
		}
		if owners == 0 || len(team.Members) <= owners {
			t.Errorf("Team %q has %d owners among %d members", team.DisplayName, owners, len(team.Members))
		}
	}
	slices.Sort(teamCourses)
	if !slices.Equal(teamCourses, res.enabledCourses) {
		t.Errorf("Teams for courses %v, enabled %v", teamCourses, res.enabledCourses)
	}
	if len(res.final.Groups) != 0 {
		t.Errorf("%d groups were left without a Team", len(res.final.Groups))
	}
	if res.lastSyncWrites != 0 {
		t.Errorf("the last sync made %d Graph writes", res.lastSyncWrites)
	}
	if res.summary.teams != len(res.enabledCourses) || res.summary.owners+res.summary.members == 0 {
		t.Errorf("summary %+v", res.summary)
	}

	// A meeting for every event of an enabled course in the 14-day horizon,
	// counted from the generated rows.
	sch := res.school
	from, to := sch.Spec.Now.Unix(), sch.Spec.Now.Add(14*24*time.Hour).Unix()
	want := 0
	for _, e := range sch.Events {
		if slices.Contains(res.enabledCourses, e.CourseID) && e.Start >= from && e.Start < to {
			want++
		}
	}
	if want == 0 {
		t.Fatal("the school has no event in the horizon: the check below would prove nothing")
	}
	if res.summary.meetings != want {
		t.Errorf("%d meetings, want %d (the events of the enabled courses in the next 14 days)", res.summary.meetings, want)
	}
}

// Under throttling, outages, a replication delay and a refused bulk add the
// first sync is partial (exit 3), and the syncs after it converge.
func TestDemoFaultsConverge(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out a real Retry-After and Microsoft's 10 s replication delay")
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), append([]string{"--faults"}, tinySchool...), &stdout, &stderr)
	transcript := stdout.String()
	if code != exitOK {
		t.Fatalf("exit %d\nstderr:\n%s\nstdout:\n%s", code, stderr.String(), transcript)
	}
	commands := commandLines(transcript)
	first := outputOf(transcript, slices.Index(commands, "sync"))
	if !strings.Contains(first, "(exit 3)") || !strings.Contains(first, "[NotFound]") {
		t.Errorf("the sync under faults should fail the refused learner's add and exit 3:\n%s", first)
	}
	for _, status := range []string{"429 Too Many Requests", "partial bulk add"} {
		if !strings.Contains(first, status) {
			t.Errorf("the note after the sync under faults does not count %q:\n%s", status, first)
		}
	}
	m := regexp.MustCompile(`Graph requests +\d+ \(\+\d+ inside \$batch\), (\d+) throttled`).FindStringSubmatch(transcript)
	if m == nil || m[1] == "0" {
		t.Errorf("the summary shows no throttling:\n%s", tail(transcript))
	}
	if !strings.Contains(transcript, "last sync        nothing to change, no Graph write") {
		t.Errorf("the syncs did not converge:\n%s", tail(transcript))
	}
}

func TestFlags(t *testing.T) {
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--courses", "0"}, exitUsage, "--courses 0: use 1 to 100"},
		{[]string{"--learners", "many"}, exitUsage, "invalid value"},
		{[]string{"--learners", "9000"}, exitUsage, "--learners 9000: use 1 to 2500"},
		{[]string{"now"}, exitUsage, "unexpected arguments: now"},
		{[]string{"-h"}, exitOK, "go run ./cmd/elentra-teams-demo"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tc.args, &stdout, &stderr)
			if code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
			if !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tc.want)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout %q: nothing should run", stdout.String())
			}
		})
	}
}

func TestQuoteArgs(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"courses", "enable", "1", "2"}, "courses enable 1 2"},
		{[]string{"--config", "/tmp/my dir/config.yaml"}, "--config '/tmp/my dir/config.yaml'"},
		{[]string{"users", "link", "O'Brien"}, `users link 'O'\''Brien'`},
		{[]string{""}, "''"},
	}
	for _, tc := range cases {
		if got := quoteArgs(tc.args); got != tc.want {
			t.Errorf("quoteArgs(%q) = %s, want %s", tc.args, got, tc.want)
		}
	}
}

// commandLines lists the elentra-teams command lines of a transcript.
func commandLines(transcript string) []string {
	var out []string
	for _, line := range strings.Split(transcript, "\n") {
		if rest, ok := strings.CutPrefix(line, "$ elentra-teams "); ok {
			out = append(out, rest)
		}
	}
	return out
}

// outputOf is what the n-th command printed, up to the next command.
func outputOf(transcript string, n int) string {
	parts := strings.Split(transcript, "\n$ elentra-teams ")
	if n < 0 || n+1 >= len(parts) {
		return ""
	}
	return parts[n+1]
}

func lastIndexOf(commands []string, c string) int {
	for i := len(commands) - 1; i >= 0; i-- {
		if commands[i] == c {
			return i
		}
	}
	return -1
}

func enabledIDs(t *testing.T, commands []string) []int {
	t.Helper()
	for _, c := range commands {
		if rest, ok := strings.CutPrefix(c, "courses enable "); ok {
			var ids []int
			for _, f := range strings.Fields(rest) {
				id, err := strconv.Atoi(f)
				if err != nil {
					t.Fatalf("courses enable %s: %v", rest, err)
				}
				ids = append(ids, id)
			}
			return ids
		}
	}
	return nil
}

func summaryTeams(t *testing.T, transcript string) (teams, enabled int) {
	t.Helper()
	m := regexp.MustCompile(`\n  Teams +(\d+) \(one per enabled course: (\d+) enabled\)`).FindStringSubmatch(transcript)
	if m == nil {
		t.Fatalf("no Teams line in the summary:\n%s", tail(transcript))
	}
	teams, _ = strconv.Atoi(m[1])
	enabled, _ = strconv.Atoi(m[2])
	return teams, enabled
}

func tail(s string) string {
	lines := strings.Split(s, "\n")
	return strings.Join(lines[max(0, len(lines)-15):], "\n")
}
