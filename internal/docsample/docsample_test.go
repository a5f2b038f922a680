package docsample

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const page = "# A page\n" +
	"\n" +
	"<!-- sample: first -->\n" +
	"```\n" +
	"✓ a.b: fine\n" +
	"```\n" +
	"\n" +
	"```\n" +
	"! c.d: not marked\n" +
	"    fix: do this\n" +
	"```\n" +
	"\n" +
	"```sh\n" +
	"elentra-teams check-config   # a command, not output\n" +
	"```\n" +
	"<!-- sample: second -->\n" +
	"```\n" +
	"```\n"

func TestReadFindsTheMarkedBlocks(t *testing.T) {
	blocks, err := parse("p.md", []byte(page))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range blocks {
		got = append(got, b.Name+"@"+string(rune('0'+b.Line/10))+string(rune('0'+b.Line%10))+":"+b.Text)
	}
	want := []string{"first@04:✓ a.b: fine\n", "second@17:"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestReadRefusesBrokenMarkers(t *testing.T) {
	for _, bad := range []string{
		"<!-- sample: a -->\ntext\n",
		"<!-- sample: a -->\n```\nnever closed\n",
		"<!-- sample: two words -->\n```\n```\n",
		"<!-- sample:  -->\n```\n```\n",
	} {
		if _, err := parse("p.md", []byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestRewriteReplacesOnlyTheNamedBlocks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.md")
	if err := os.WriteFile(path, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Rewrite(path, map[string]string{"second": "✗ e.f: now\n", "absent": "x\n"}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	want := strings.Replace(page, "<!-- sample: second -->\n```\n```\n", "<!-- sample: second -->\n```\n✗ e.f: now\n```\n", 1)
	if string(b) != want {
		t.Errorf("got\n%s\nwant\n%s", b, want)
	}
	blocks, err := Read(path)
	if err != nil || len(blocks) != 2 || blocks[1].Text != "✗ e.f: now\n" || blocks[0].Text != "✓ a.b: fine\n" {
		t.Errorf("read back %+v, %v", blocks, err)
	}
}

func TestUnmarkedFindsOutputOutsideSamples(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.md")
	if err := os.WriteFile(path, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Unmarked(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []Line{{path, 9, "! c.d: not marked"}, {path, 10, "    fix: do this"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

// A block indented under a list item is read without its indentation,
// and rewritten with it.
func TestIndentedSamplesKeepTheirIndentation(t *testing.T) {
	const indented = "1. Run it:\n" +
		"\n" +
		"   <!-- sample: third -->\n" +
		"   ```\n" +
		"   $ elentra-teams authorize\n" +
		"   Authorized as a.\n" +
		"   ```\n" +
		"2. Next.\n"
	path := filepath.Join(t.TempDir(), "p.md")
	if err := os.WriteFile(path, []byte(indented), 0o644); err != nil {
		t.Fatal(err)
	}
	blocks, err := Read(path)
	if err != nil || len(blocks) != 1 || blocks[0].Text != "$ elentra-teams authorize\nAuthorized as a.\n" {
		t.Fatalf("read %+v, %v", blocks, err)
	}
	if err := Rewrite(path, map[string]string{"third": "$ elentra-teams authorize\n\nAuthorized as b.\n"}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	want := strings.Replace(indented, "   Authorized as a.\n", "\n   Authorized as b.\n", 1)
	if string(b) != want {
		t.Errorf("got\n%s\nwant\n%s", b, want)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(indented, "   <!-- sample: third -->\n", "", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Unmarked(path)
	if err != nil || len(got) != 2 || got[0].Line != 4 {
		t.Errorf("unmarked %+v, %v", got, err)
	}
}

// Each form of the tool's output a page may quote is found outside a
// sample; what the tool does not print is not.
func TestUnmarkedKnowsEachFormOfOutput(t *testing.T) {
	output := []string{
		"✓ database.privileges: database user elentra_teams@% has no privilege beyond what the tool needs",
		"- token.stored: skipped: needs database.migrations, which failed",
		"    fix: run 'elentra-teams setup'",
		"33 of 35 checks passed; 2 warning(s) (!)",
		"      GRANT SELECT ON `entrada_auth`.* TO 'elentra_teams'@'%';",
		"CREATE USER 'elentra_teams'@'%' IDENTIFIED BY '<a new password>';",
		"sync-users: would change: match user 13",
		"sync-members: nothing to change",
		"sync: changed: create team 2",
		"1 failed:",
		"  match user 2 → 76af9873-acc3-4d21-a7a9-50f6089af522 — Ingrid Nguyễn matches by mail",
		"  publish link course 2 event 3: opens 2026-12-01 18:50 UTC, closes 2026-12-01 19:50 UTC",
		"! course 2 MED 101: the course has no Elentra owner",
		"(2 notes on skipped courses or events: --output json lists them)",
		"elentra-teams: another elentra-teams run holds the lock",
		"note: no config file was read",
		"done: create msteams_schema_version",
		"-- deactivate Elentra's own Microsoft jobs in its cron table (id 1, 2, 3)",
		"nothing to do",
		"Open this address in any browser and sign in as Elentra's administrator (medtech@school.example.edu).",
		"Then paste the address of the page you land on (it may say it cannot be reached) and press Enter:",
		"Elentra user 1 (medtech@school.example.edu) is admin@school.example.edu: its Microsoft Object ID 9 is recorded.",
		"Authorized as admin@school.example.edu (9), Outlook time zone America/Toronto. The syncs can run now.",
		"The app's credentials work; meetings go to teams-meetings@school.example.edu",
		"Outlook time zones with the same offsets as Elentra's America/Toronto:",
		"Choose a number [22]: 22",
		"account:             admin@school.example.edu (9)",
		"Times are in America/Toronto (elentra.timezone).",
		"Last runs:",
		"ID  CODE     NAME                                      ENABLED  STATE  TEAM  NEXT SYNC",
		"EVENT  COURSE   START             TITLE",
		"COMMAND       STARTED           DURATION  CHANGES",
		"PROXY ID  NAME  EMAIL",
		"# /etc/cron.d/elentra-teams (no dot in the file name; the sixth field is the user)",
		"$ elentra-teams sync",
		`  "run_id": 4,`,
		`{"time":"…","level":"DEBUG","msg":"graph request"}`,
	}
	notOutput := []string{
		"elentra-teams check-config --online",
		"sudo -u elentra-teams elentra-teams check-config",
		"40 * * * * elentra-teams /usr/bin/elentra-teams --config /etc/elentra-teams/config.yaml sync --quiet",
		"microsoft:",
		"  redirect_uri: http://localhost:8400/callback",
		"GRANT SELECT ON db.* TO 'someone'@'%';",
		`{"tenant_id": "…",`,
		"/var/log/elentra-teams/*.log {",
	}
	var page strings.Builder
	page.WriteString("```\n")
	for _, l := range append(append([]string(nil), output...), notOutput...) {
		page.WriteString(l + "\n")
	}
	page.WriteString("```\n")
	path := filepath.Join(t.TempDir(), "p.md")
	if err := os.WriteFile(path, []byte(page.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Unmarked(path)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, l := range got {
		found[l.Text] = true
	}
	for _, l := range output {
		if !found[l] {
			t.Errorf("not found as output: %q", l)
		}
	}
	for _, l := range notOutput {
		if found[l] {
			t.Errorf("taken for output: %q", l)
		}
	}
}

// Pages whose quoted output is all produced by a test: every line of the
// tool's output they show (check-config's lines, setup's, authorize's,
// crontab's, a sync's, status's, JSON reports and logs, errors) is in a
// sample, which pkg/cli/docsamples_test.go makes. Paths are from the
// repository's root. Every page of docs/ is here but benchmarks.md, whose
// tables are measurements of a benchmark run (cmd/elentra-teams-bench),
// not what a command prints.
var coveredPages = []string{
	"README.md",
	"docs/architecture.md",
	"docs/configuration.md",
	"docs/operations.md",
	"docs/setup.md",
	"docs/simulator.md",
	"docs/troubleshooting.md",
}

func TestCoveredPagesQuoteOnlySamples(t *testing.T) {
	for _, p := range coveredPages {
		lines, err := Unmarked(filepath.Join("..", "..", p))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range lines {
			t.Errorf("%s:%d: output that no sample produces (mark its block <!-- sample: NAME --> and add a producer to pkg/cli/docsamples_test.go): %s",
				l.File, l.Line, l.Text)
		}
	}
}

// Every page of docs/ is covered, or said above not to quote output.
func TestEveryPageIsCovered(t *testing.T) {
	pages, err := filepath.Glob(filepath.Join("..", "..", "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{"docs/benchmarks.md": true}
	for _, p := range coveredPages {
		covered[p] = true
	}
	for _, p := range pages {
		if rel := "docs/" + filepath.Base(p); !covered[rel] {
			t.Errorf("%s is not in coveredPages: mark the output it quotes as samples, and add it", rel)
		}
	}
}
