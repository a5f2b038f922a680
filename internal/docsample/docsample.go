// Package docsample keeps the output quoted in docs/ true to the code. A
// fenced block of a doc page that follows the line
//
//	<!-- sample: NAME -->
//
// is a sample: exactly what the producer NAME prints, made by a test that
// runs the real commands (or the code that writes the lines) against fixed
// data at a fixed time. Verify compares each sample with its producer's
// output, and with update rewrites the blocks instead, so a line cannot drift
// from the code that prints it: change the code, run the test with -update,
// and the doc follows in the same commit.
//
// Unmarked finds the lines of a page that look like the tool's output
// (check-config's ✓ ✗ ! - lines and their fixes, a sync's ! findings, an
// "elentra-teams:" error) outside any sample, so that a page can be held to
// quote no output that no test produces.
package docsample

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// Marker is how a sample's name is written on the line before its block.
const (
	markerOpen  = "<!-- sample: "
	markerClose = " -->"
)

// Block is one sample of a page.
type Block struct {
	File string // the page's path
	Name string // the producer's name
	Line int    // the line of the opening fence, from 1
	Text string // the lines between the fences, each ending in a newline

	start, end int // byte offsets of Text in the page
}

// Read returns the samples of a page, in order. A marker not followed by a
// fenced block, or a block left open, is an error.
func Read(path string) ([]Block, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parse(path, b)
}

func parse(path string, b []byte) ([]Block, error) {
	var blocks []Block
	lines := splitLines(b)
	for i := 0; i < len(lines); i++ {
		name, ok := markerName(lines[i].text)
		if !ok {
			continue
		}
		if name == "" || strings.ContainsAny(name, " \t") {
			return nil, fmt.Errorf("%s:%d: a sample's name is one word: %q", path, i+1, lines[i].text)
		}
		if i+1 >= len(lines) || !strings.HasPrefix(lines[i+1].text, "```") {
			return nil, fmt.Errorf("%s:%d: sample %s is not followed by a fenced block", path, i+1, name)
		}
		open := i + 1
		closing := -1
		for j := open + 1; j < len(lines); j++ {
			if strings.TrimSpace(lines[j].text) == "```" {
				closing = j
				break
			}
		}
		if closing < 0 {
			return nil, fmt.Errorf("%s:%d: the block of sample %s is never closed", path, open+1, name)
		}
		start, end := lines[open].end, lines[closing].start
		blocks = append(blocks, Block{File: path, Name: name, Line: open + 1, Text: string(b[start:end]), start: start, end: end})
		i = closing
	}
	return blocks, nil
}

// line is one line of a page: its text without the newline, and its
// bounds with the newline.
type line struct {
	text       string
	start, end int
}

func splitLines(b []byte) []line {
	var out []line
	for start := 0; start < len(b); {
		end := bytes.IndexByte(b[start:], '\n')
		next := len(b)
		if end >= 0 {
			next = start + end + 1
		}
		out = append(out, line{text: strings.TrimRight(string(b[start:next]), "\r\n"), start: start, end: next})
		start = next
	}
	return out
}

func markerName(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, markerOpen) || !strings.HasSuffix(s, markerClose) {
		return "", false
	}
	return strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(s, markerOpen), markerClose)), true
}

// Rewrite replaces the text of the samples of a page whose names are in
// texts, and leaves everything else as it is.
func Rewrite(path string, texts map[string]string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	blocks, err := parse(path, b)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	at := 0
	for _, bl := range blocks {
		text, ok := texts[bl.Name]
		if !ok {
			continue
		}
		out.Write(b[at:bl.start])
		out.WriteString(text)
		at = bl.end
	}
	out.Write(b[at:])
	if bytes.Equal(out.Bytes(), b) {
		return nil
	}
	return os.WriteFile(path, out.Bytes(), 0o644)
}

// looksLikeOutput matches the lines the tool prints that a page may quote:
// a check-config line (✓ ✗ ! -, or OK FAIL WARN SKIP, then a check id), its
// fix, a sync's finding (! …) and a command's error (elentra-teams: …).
var looksLikeOutput = regexp.MustCompile(`^(?:(?:✓|✗|!|-|OK  |FAIL|WARN|SKIP) [a-z_]+\.[a-z_]+: |    fix: |! |elentra-teams: )`)

// Line is a line of a page.
type Line struct {
	File string
	Line int
	Text string
}

// Unmarked returns the lines of a page's fenced blocks that look like the
// tool's output and are in no sample.
func Unmarked(path string) ([]Line, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []Line
	inBlock, marked, prev := false, false, ""
	for i, l := range splitLines(b) {
		switch {
		case !inBlock && strings.HasPrefix(l.text, "```"):
			inBlock = true
			_, marked = markerName(prev)
		case inBlock && strings.TrimSpace(l.text) == "```":
			inBlock = false
		case inBlock && !marked && looksLikeOutput.MatchString(l.text):
			out = append(out, Line{File: path, Line: i + 1, Text: l.text})
		}
		prev = l.text
	}
	return out, nil
}

// Producer prints one sample. It may fail t (the sample is then not
// compared) or skip it (a producer that needs what this machine lacks).
type Producer func(t *testing.T) string

// Verify compares every sample of the pages in dir (*.md) with what its
// producer prints now, one subtest per producer. A sample without a
// producer, or a producer without a sample, fails. With update, the samples
// are rewritten from the producers instead (those that failed or were
// skipped are left as they are).
func Verify(t *testing.T, dir string, producers map[string]Producer, update bool) {
	t.Helper()
	pages, err := filepath.Glob(filepath.Join(dir, "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string][]Block{}
	for _, p := range pages {
		blocks, err := Read(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range blocks {
			byName[b.Name] = append(byName[b.Name], b)
		}
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
		if producers[n] == nil {
			b := byName[n][0]
			t.Errorf("%s:%d: no producer makes sample %s", b.File, b.Line, n)
		}
	}
	for n := range producers {
		if byName[n] == nil {
			t.Errorf("producer %s has no sample in %s/*.md (<!-- sample: %s --> before a fenced block)", n, dir, n)
		}
	}
	sort.Strings(names)
	made := map[string]map[string]string{} // page → name → text
	for _, n := range names {
		p := producers[n]
		if p == nil {
			continue
		}
		var got string
		ok := t.Run(n, func(t *testing.T) {
			got = p(t)
			if got != "" && !strings.HasSuffix(got, "\n") {
				got += "\n"
			}
			if update {
				return
			}
			for _, b := range byName[n] {
				if b.Text != got {
					t.Errorf("%s:%d: sample %s is not what the code prints (go test ./pkg/cli -run TestDocSamples -update rewrites it)\n--- the page says:\n%s--- the code prints:\n%s",
						b.File, b.Line, n, b.Text, got)
				}
			}
		})
		if update && ok && got != "" {
			for _, b := range byName[n] {
				if made[b.File] == nil {
					made[b.File] = map[string]string{}
				}
				made[b.File][n] = got
			}
		}
	}
	for page, texts := range made {
		if err := Rewrite(page, texts); err != nil {
			t.Error(err)
		}
	}
}
