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
// and the doc follows in the same commit. A block indented under a list
// item is a sample too: its lines are compared without the fence's
// indentation, and rewritten with it.
//
// Unmarked finds the lines of a page's fenced blocks that look like the
// tool's output (check-config's lines, a sync's counts and findings, setup's,
// authorize's and crontab's lines, the heads of status's tables, a JSON
// report, an "elentra-teams:" error…) outside any sample, so that a page
// can be held to quote no output that no test produces.
package docsample

import (
	"bytes"
	"fmt"
	"os"
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
	Text string // the lines between the fences, each ending in a newline, without the fence's indentation

	indent     string // the fence's indentation, which each line of the block carries
	start, end int    // byte offsets of the block's lines in the page
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
		indent, ok := fence(lines, i+1)
		if !ok {
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
		blocks = append(blocks, Block{File: path, Name: name, Line: open + 1, Text: unindent(string(b[start:end]), indent),
			indent: indent, start: start, end: end})
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

// fence says whether line i of a page opens a fenced block, and with what
// indentation.
func fence(lines []line, i int) (indent string, ok bool) {
	if i >= len(lines) {
		return "", false
	}
	t := lines[i].text
	rest := strings.TrimLeft(t, " ")
	return t[:len(t)-len(rest)], strings.HasPrefix(rest, "```")
}

// unindent takes indent off each line of text that begins with it.
func unindent(text, indent string) string {
	if indent == "" {
		return text
	}
	var b strings.Builder
	for _, l := range strings.SplitAfter(text, "\n") {
		b.WriteString(strings.TrimPrefix(l, indent))
	}
	return b.String()
}

// reindent puts indent before each line of text that is not empty.
func reindent(text, indent string) string {
	if indent == "" {
		return text
	}
	var b strings.Builder
	for _, l := range strings.SplitAfter(text, "\n") {
		if l != "" && l != "\n" {
			b.WriteString(indent)
		}
		b.WriteString(l)
	}
	return b.String()
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
		out.WriteString(reindent(text, bl.indent))
		at = bl.end
	}
	out.Write(b[at:])
	if bytes.Equal(out.Bytes(), b) {
		return nil
	}
	return os.WriteFile(path, out.Bytes(), 0o644)
}

// looksLikeOutput matches the lines the tool prints that a page may quote,
// each form a line of its own kind begins with:
var looksLikeOutput = regexp.MustCompile(`^(?:` + strings.Join([]string{
	// check-config: a check's line (✓ ✗ ! -, or OK FAIL WARN SKIP, then
	// its id), its fix, its summary
	`(?:✓|✗|!|-|OK  |FAIL|WARN|SKIP) [a-z_]+\.[a-z_]+: `, `    fix: `, `\d+ of \d+ checks passed`, `Microsoft was not called`,
	// the statements database.privileges advises
	`\s*(?:CREATE USER|GRANT) .*'elentra_teams'@`,
	// a sync: a step's counts, its failures, a finding (! …), the notes,
	// why it stopped
	`sync(?:-[a-z]+)?: (?:changed|would change|nothing to change)`, `\d+ failed:$`, `! `, `\(\d+ notes? on `, `stopped: `,
	// a dry run's changes
	`  (?:match user|create team|rename team|archive team|unarchive team|add members|set role|remove member|` +
		`create event|update event|cancel event|fetch event|publish link|remove link) `,
	// a command's error, or its note on stderr
	`elentra-teams: `, `note: `,
	// setup: what it did, a --dry-run's headers, a run with nothing to do
	`done: `, `-- `, `nothing to do$`,
	// authorize, and authorize --status
	`Open this address `, `Then paste the address `, `Elentra user \d+ \(`, `Authorized as `, `The app's credentials work`,
	`Outlook time zones? `, `Choose a number `,
	`(?:account|authorized|refresh token used|unused-expiry|access token expiry|outlook time zone|scopes|mode|organiser|checked): {2,}`,
	// status, and the lists of courses, events and users: their headings
	// and the heads of their tables
	`Times are in `, `Installation `, `Courses \(\d+\):`, `Upcoming events, `, `Last runs:`,
	`(?:ID|COURSE|EVENT|COMMAND|PROXY ID) {2,}[A-Z]`,
	// crontab
	`# /etc/cron\.d/elentra-teams \(`, `# or, as user `,
	// a transcript: a command line, then what it printed
	`\$ elentra-teams `,
	// a JSON report (sync, check-config), a JSON log line
	`\s*"(?:run_id|dry_run|duration_seconds|counts|failures|findings|checks)": `, `\{"time":"`,
}, "|") + `)`)

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
	inBlock, marked, prev, indent := false, false, "", ""
	lines := splitLines(b)
	for i, l := range lines {
		switch {
		case !inBlock:
			if in, ok := fence(lines, i); ok {
				inBlock, indent = true, in
				_, marked = markerName(prev)
			}
		case strings.TrimSpace(l.text) == "```":
			inBlock = false
		case !marked && looksLikeOutput.MatchString(strings.TrimPrefix(l.text, indent)):
			out = append(out, Line{File: path, Line: i + 1, Text: l.text})
		}
		prev = l.text
	}
	return out, nil
}

// Producer prints one sample. It may fail t (the sample is then not
// compared) or skip it (a producer that needs what this machine lacks).
type Producer func(t *testing.T) string

// Verify compares every sample of the pages with what its producer prints
// now, one subtest per producer. A sample without a
// producer, or a producer without a sample, fails. With update, the samples
// are rewritten from the producers instead (those that failed or were
// skipped are left as they are).
func Verify(t *testing.T, pages []string, producers map[string]Producer, update bool) {
	t.Helper()
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
			t.Errorf("producer %s has no sample in %s (<!-- sample: %s --> before a fenced block)", n, strings.Join(pages, ", "), n)
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
