package gendocs

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/elentra-teams/elentra-teams/pkg/cli"
)

var pageDate = time.Date(2026, time.May, 1, 12, 0, 0, 0, time.UTC)

// toyTree is a small command tree with a nested command and a hidden one.
func toyTree() *cobra.Command {
	root := &cobra.Command{Use: "tool", Short: "Does things", Long: "Tool does things.\n\nExit codes:\n  0  ok"}
	courses := &cobra.Command{Use: "courses", Short: "Switch courses"}
	enable := &cobra.Command{Use: "enable ID...", Short: "Enable courses", Run: func(*cobra.Command, []string) {}}
	enable.Flags().Bool("all", false, "enable every active course")
	courses.AddCommand(enable)
	secret := &cobra.Command{Use: "debug-dump", Short: "Internal", Hidden: true, Run: func(*cobra.Command, []string) {}}
	root.AddCommand(courses, secret)
	return root
}

func gunzip(t *testing.T, data []byte) string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func names(files []File) []string {
	var out []string
	for _, f := range files {
		out = append(out, f.Name)
	}
	slices.Sort(out)
	return out
}

func TestManPagesNamesAndContent(t *testing.T) {
	pages, err := ManPages(toyTree(), Options{Version: "1.2.3", Date: pageDate})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"tool-completion-bash.1.gz", "tool-completion-fish.1.gz", "tool-completion-powershell.1.gz",
		"tool-completion-zsh.1.gz", "tool-completion.1.gz", "tool-courses-enable.1.gz", "tool-courses.1.gz", "tool.1.gz",
	}
	if got := names(pages); !slices.Equal(got, want) {
		t.Errorf("pages:\n got %q\nwant %q (hidden commands get none)", got, want)
	}
	for _, p := range pages {
		if p.Name != "tool-courses-enable.1.gz" {
			continue
		}
		text := gunzip(t, p.Data)
		for _, want := range []string{
			`.TH "TOOL-COURSES-ENABLE" "1" "May 2026" "tool 1.2.3" "tool manual"`,
			"tool-courses-enable - Enable courses",
			"enable every active course",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("%s lacks %q:\n%s", p.Name, want, text)
			}
		}
		if strings.Contains(text, "Auto generated") || strings.Contains(text, "HISTORY") {
			t.Errorf("%s has cobra's dated history section:\n%s", p.Name, text)
		}
	}
}

// TestManPagesKeepProse: help text is prose, not Markdown, so underscores
// and stars reach the page as written, and the tree is left as it was for
// the completions generated from it next.
func TestManPagesKeepProse(t *testing.T) {
	root := toyTree()
	root.Long = "Set ELENTRA_TEAMS_DATABASE_HOST, or the *_file keys, or [brackets] and <angles>."
	root.PersistentFlags().String("settings", "", "Elentra's settings*.inc.php `FILE` (from a_b_c)")
	pages, err := ManPages(root, Options{Version: "1.2.3", Date: pageDate})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pages {
		text := gunzip(t, p.Data)
		if p.Name == "tool.1.gz" {
			for _, want := range []string{"ELENTRA_TEAMS_DATABASE_HOST, or the *_file keys, or [brackets] and <angles>"} {
				if !strings.Contains(text, want) {
					t.Errorf("%s lacks %q:\n%s", p.Name, want, text)
				}
			}
		}
		// the flag is inherited: every page shows its usage, escaped once
		if !strings.Contains(text, "settings*\\&.inc.php \\fBFILE\\fR (from a_b_c)") {
			t.Errorf("%s renders the flag usage wrong:\n%s", p.Name, text)
		}
	}
	if root.Long != "Set ELENTRA_TEAMS_DATABASE_HOST, or the *_file keys, or [brackets] and <angles>." {
		t.Errorf("the tree keeps the escaped description %q", root.Long)
	}
	if u := root.PersistentFlags().Lookup("settings").Usage; u != "Elentra's settings*.inc.php `FILE` (from a_b_c)" {
		t.Errorf("the tree keeps the escaped usage %q", u)
	}
}

// TestManPagesAreReproducible: a rebuild of the same commit gives the same
// bytes, whatever the clock says, so the packages' checksums are stable.
func TestManPagesAreReproducible(t *testing.T) {
	opts := Options{Version: "1.2.3", Date: pageDate}
	first, err := ManPages(toyTree(), opts)
	if err != nil {
		t.Fatal(err)
	}
	second, err := ManPages(toyTree(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != len(second) {
		t.Fatalf("%d pages, then %d", len(first), len(second))
	}
	for i := range first {
		if first[i].Name != second[i].Name || !bytes.Equal(first[i].Data, second[i].Data) {
			t.Errorf("%s differs between two runs", first[i].Name)
		}
		zr, err := gzip.NewReader(bytes.NewReader(first[i].Data))
		if err != nil {
			t.Fatal(err)
		}
		if !zr.ModTime.IsZero() || zr.Name != "" {
			t.Errorf("%s: gzip header carries time %v, name %q", first[i].Name, zr.ModTime, zr.Name)
		}
	}
	later, err := ManPages(toyTree(), Options{Version: "1.2.3", Date: pageDate.AddDate(0, 1, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if text := gunzip(t, later[0].Data); !strings.Contains(text, `"Jun 2026"`) {
		t.Errorf("the page date does not follow Options.Date:\n%s", text)
	}
}

func TestCompletions(t *testing.T) {
	scripts, err := Completions(toyTree())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"tool.bash": "complete -o default -F __start_tool tool",
		"_tool":     "#compdef tool",
		"tool.fish": "complete -c tool ",
	}
	if got := names(scripts); !slices.Equal(got, []string{"_tool", "tool.bash", "tool.fish"}) {
		t.Errorf("scripts %q", got)
	}
	for _, s := range scripts {
		if w, ok := want[s.Name]; ok && !strings.Contains(string(s.Data), w) {
			t.Errorf("%s lacks %q", s.Name, w)
		}
	}
}

func TestGenerateReplacesStaleFiles(t *testing.T) {
	out := t.TempDir()
	stale := filepath.Join(out, ManDir, "tool-renamed.1.gz")
	if err := os.MkdirAll(filepath.Dir(stale), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stale, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	written, err := Generate(toyTree(), out, Options{Version: "1.2.3", Date: pageDate})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the page of a command that no longer exists is still there (%v)", err)
	}
	for _, rel := range []string{"manpages/tool.1.gz", "manpages/tool-courses-enable.1.gz", "completions/_tool", "completions/tool.bash", "completions/tool.fish"} {
		if !slices.Contains(written, filepath.FromSlash(rel)) {
			t.Errorf("Generate did not report %s", rel)
		}
		if fi, err := os.Stat(filepath.Join(out, rel)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", rel, err)
		}
	}
}

// TestEveryCommandOfTheBinaryHasAPage walks the real command tree, so a new
// command cannot ship without its page and its completion.
func TestEveryCommandOfTheBinaryHasAPage(t *testing.T) {
	newRoot := func() *cobra.Command {
		var sink bytes.Buffer
		return cli.NewRootCmd(&cli.Factory{IO: &cli.IOStreams{In: strings.NewReader(""), Out: &sink, ErrOut: &sink}, Now: func() time.Time { return pageDate }})
	}
	pages, err := ManPages(newRoot(), Options{Version: "1.2.3", Date: pageDate})
	if err != nil {
		t.Fatal(err)
	}
	got := names(pages)
	root := newRoot()
	root.InitDefaultCompletionCmd()
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if !c.IsAvailableCommand() && c != root {
			return
		}
		want := strings.ReplaceAll(c.CommandPath(), " ", "-") + ".1.gz"
		if !slices.Contains(got, want) {
			t.Errorf("no man page for %q", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	for _, must := range []string{"elentra-teams.1.gz", "elentra-teams-sync.1.gz", "elentra-teams-crontab.1.gz", "elentra-teams-completion.1.gz"} {
		if !slices.Contains(got, must) {
			t.Errorf("no %s among %q", must, got)
		}
	}
	for _, p := range pages {
		if p.Name == "elentra-teams.1.gz" && !strings.Contains(gunzip(t, p.Data), "another run holds the lock") {
			t.Error("the main page does not list the exit codes that --help lists")
		}
	}

	scripts, err := Completions(newRoot())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range scripts {
		if s.Name == "elentra-teams.fish" && !strings.Contains(string(s.Data), "complete -c elentra-teams ") {
			t.Errorf("fish completion does not complete elentra-teams:\n%.300s", s.Data)
		}
	}
}
