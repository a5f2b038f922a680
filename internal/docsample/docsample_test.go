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

// Pages whose quoted output is all produced by a test: every check-config
// line, fix, finding and error they show is in a sample
// (pkg/cli/docsamples_test.go makes them). Add a page here once its
// samples are marked.
var coveredPages = []string{"troubleshooting.md", "configuration.md"}

func TestCoveredPagesQuoteOnlySamples(t *testing.T) {
	for _, p := range coveredPages {
		lines, err := Unmarked(filepath.Join("..", "..", "docs", p))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range lines {
			t.Errorf("%s:%d: output that no sample produces (mark its block <!-- sample: NAME --> and add a producer to pkg/cli/docsamples_test.go): %s",
				l.File, l.Line, l.Text)
		}
	}
}
