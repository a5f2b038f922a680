// Package gendocs writes the man pages and shell completion scripts that the
// release packages install, from the same cobra command tree the binary runs,
// so `man elentra-teams-sync` and `elentra-teams sync --help` cannot drift.
//
// The output is byte-for-byte reproducible: the page date comes from the
// caller (the release's commit date), and the gzip headers carry no time.
package gendocs

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
	"github.com/spf13/pflag"
)

// Directories under the output directory, as .goreleaser.yaml reads them.
const (
	ManDir        = "manpages"
	CompletionDir = "completions"
)

// Options are what a page says besides the commands themselves.
type Options struct {
	// Version is printed in each page's footer ("elentra-teams 1.4.0").
	Version string
	// Date is the page date (only its month and year are printed).
	Date time.Time
}

// Generate replaces outDir/manpages and outDir/completions with the pages and
// scripts of root, so a command that was renamed leaves no stale page behind.
// It returns the paths it wrote, relative to outDir.
func Generate(root *cobra.Command, outDir string, opts Options) ([]string, error) {
	pages, err := ManPages(root, opts)
	if err != nil {
		return nil, err
	}
	scripts, err := Completions(root)
	if err != nil {
		return nil, err
	}
	var written []string
	for _, set := range []struct {
		dir   string
		files []File
	}{{ManDir, pages}, {CompletionDir, scripts}} {
		dir := filepath.Join(outDir, set.dir)
		if err := os.RemoveAll(dir); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		for _, f := range set.files {
			if err := os.WriteFile(filepath.Join(dir, f.Name), f.Data, 0o644); err != nil {
				return nil, err
			}
			written = append(written, filepath.Join(set.dir, f.Name))
		}
	}
	return written, nil
}

// File is one generated file: its name and its content.
type File struct {
	Name string
	Data []byte
}

// ManPages renders a gzipped section-1 page for root and for every command
// under it that --help lists, named as man looks them up:
// elentra-teams.1.gz, elentra-teams-sync.1.gz, elentra-teams-courses-enable.1.gz.
func ManPages(root *cobra.Command, opts Options) ([]File, error) {
	prepare(root)
	date := opts.Date
	// Title is left to cobra: the command path, ELENTRA-TEAMS\-SYNC.
	header := doc.GenManHeader{
		Section: "1",
		Date:    &date,
		Source:  strings.TrimSpace(root.Name() + " " + opts.Version),
		Manual:  root.Name() + " manual",
	}
	restore := escapeProse(root)
	defer restore()
	var pages []File
	var walk func(c *cobra.Command) error
	walk = func(c *cobra.Command) error {
		h := header // GenMan fills the header in, so each page gets a copy
		var page bytes.Buffer
		if err := doc.GenMan(c, &h, &page); err != nil {
			return fmt.Errorf("man page of %q: %w", c.CommandPath(), err)
		}
		gz, err := gzipped(page.Bytes())
		if err != nil {
			return err
		}
		name := strings.ReplaceAll(c.CommandPath(), " ", "-") + ".1.gz"
		pages = append(pages, File{Name: name, Data: gz})
		for _, sub := range c.Commands() {
			if !sub.IsAvailableCommand() || sub.IsAdditionalHelpTopicCommand() {
				continue
			}
			if err := walk(sub); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(root); err != nil {
		return nil, err
	}
	return pages, nil
}

// Completions renders the bash, zsh and fish completion scripts, with the
// names each shell's vendor directory expects.
func Completions(root *cobra.Command) ([]File, error) {
	prepare(root)
	name := root.Name()
	var bash, zsh, fish bytes.Buffer
	if err := root.GenBashCompletionV2(&bash, true); err != nil {
		return nil, fmt.Errorf("bash completion: %w", err)
	}
	if err := root.GenZshCompletion(&zsh); err != nil {
		return nil, fmt.Errorf("zsh completion: %w", err)
	}
	if err := root.GenFishCompletion(&fish, true); err != nil {
		return nil, fmt.Errorf("fish completion: %w", err)
	}
	return []File{
		{Name: name + ".bash", Data: bash.Bytes()},
		{Name: "_" + name, Data: zsh.Bytes()},
		{Name: name + ".fish", Data: fish.Bytes()},
	}, nil
}

// prepare adds the `completion` command that cobra otherwise adds only when
// the program runs, so the pages list it as --help does, and drops cobra's
// "Auto generated" history section, whose date would make each build differ.
func prepare(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.DisableAutoGenTag = true
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// cobra hands descriptions and flag usages to md2man as Markdown, where the
// help text is plain prose: ELENTRA_TEAMS_* and *_file would lose their
// underscores and stars to emphasis.
var (
	proseEscaper = strings.NewReplacer(`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "<", `\<`, ">", `\>`, "#", `\#`)
	// Backquotes in a flag's usage name its value (`FILE`) and stay.
	usageEscaper = strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "<", `\<`, ">", `\>`, "#", `\#`)
)

// escapeProse escapes the descriptions and flag usages of the tree for
// Markdown and returns the function that puts the originals back. Flags
// inherited by several commands are one value, so each is escaped once.
func escapeProse(root *cobra.Command) (restore func()) {
	type saved struct{ short, long string }
	commands := map[*cobra.Command]saved{}
	usages := map[*pflag.Flag]string{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		commands[c] = saved{c.Short, c.Long}
		c.Short, c.Long = proseEscaper.Replace(c.Short), proseEscaper.Replace(c.Long)
		for _, fs := range []*pflag.FlagSet{c.LocalFlags(), c.InheritedFlags()} {
			fs.VisitAll(func(f *pflag.Flag) {
				if _, done := usages[f]; !done {
					usages[f] = f.Usage
					f.Usage = usageEscaper.Replace(f.Usage)
				}
			})
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	return func() {
		for c, s := range commands {
			c.Short, c.Long = s.short, s.long
		}
		for f, u := range usages {
			f.Usage = u
		}
	}
}

// gzipped compresses a page with no name or time in the gzip header, so the
// same page always gives the same bytes.
func gzipped(data []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(data); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
