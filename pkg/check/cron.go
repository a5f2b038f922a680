package check

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/elentra-teams/elentra-teams/pkg/config"
)

// CronSources say where this machine's cron entries are.
type CronSources struct {
	// Paths are crontab files, or directories whose every file is one
	// (/etc/cron.d). A missing path is skipped.
	Paths []string
	// UserCrontab returns the current user's crontab (`crontab -l`); nil
	// when it is not to be read. An error means there is none.
	UserCrontab func(ctx context.Context) (string, error)
}

// DefaultCronSources are /etc/cron.d, /etc/crontab and `crontab -l`.
func DefaultCronSources() CronSources {
	return CronSources{Paths: []string{"/etc/cron.d", "/etc/crontab"}, UserCrontab: userCrontab}
}

func userCrontab(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "crontab", "-l").Output()
	return string(out), err
}

// cronEntry is a line of a crontab that runs elentra-teams sync.
type cronEntry struct {
	source string // file, or "crontab -l"
	line   string
	config string // its --config, "" when none
	// ignored says why cron does not run it ("" when it does).
	ignored string
}

// cronFile is one crontab's text, with whether it has the user column
// (/etc/crontab and /etc/cron.d files do; `crontab -l` does not).
type cronFile struct {
	source     string
	text       string
	userColumn bool
}

// maxCrontabSize is the most read of a crontab: what is not a regular file
// of at most this size (a pipe, a device, a stray archive in /etc/cron.d)
// is not one, and is skipped.
const maxCrontabSize = 1 << 20

// readCron collects the crontabs of the sources.
func readCron(ctx context.Context, src CronSources) []cronFile {
	var out []cronFile
	for _, p := range src.Paths {
		fi, err := os.Stat(p)
		if err != nil {
			continue
		}
		if !fi.IsDir() {
			if b, err := config.ReadFile(p, maxCrontabSize); err == nil {
				out = append(out, cronFile{source: p, text: string(b), userColumn: true})
			}
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			continue
		}
		for _, en := range entries {
			if en.IsDir() {
				continue
			}
			f := filepath.Join(p, en.Name())
			if b, err := config.ReadFile(f, maxCrontabSize); err == nil {
				out = append(out, cronFile{source: f, text: string(b), userColumn: true})
			}
		}
	}
	if src.UserCrontab != nil {
		if text, err := src.UserCrontab(ctx); err == nil {
			out = append(out, cronFile{source: "crontab -l", text: text})
		}
	}
	return out
}

// findSyncEntries returns the lines that run `elentra-teams … sync`: an
// elentra-teams program followed, after its global flags, by the sync
// command. Commented lines are left out; a line in a cron.d file whose name
// cron ignores (with a dot, as a package manager's .dpkg-dist copy) is kept
// with the reason.
func findSyncEntries(files []cronFile) []cronEntry {
	var out []cronEntry
	for _, f := range files {
		ignored := ""
		base := filepath.Base(f.source)
		if f.userColumn && filepath.Base(filepath.Dir(f.source)) == "cron.d" && strings.ContainsAny(base, ".~") {
			ignored = "cron skips files in /etc/cron.d whose names hold a dot or end in ~"
		}
		for _, line := range strings.Split(f.text, "\n") {
			t := strings.TrimSpace(line)
			if t == "" || strings.HasPrefix(t, "#") {
				continue
			}
			cmd := commandFields(t, f.userColumn)
			cfg, ok := syncCommand(cmd)
			if !ok {
				continue
			}
			out = append(out, cronEntry{source: f.source, line: t, config: cfg, ignored: ignored})
		}
	}
	return out
}

// commandFields returns the command part of a crontab line: after the five
// time fields (or an @reboot-style word) and, in system crontabs, the user.
// A variable assignment gives none.
func commandFields(line string, userColumn bool) []string {
	fields := strings.Fields(line)
	if len(fields) == 0 || strings.Contains(fields[0], "=") {
		return nil
	}
	skip := 5
	if strings.HasPrefix(fields[0], "@") {
		skip = 1
	}
	if userColumn {
		skip++
	}
	if len(fields) <= skip {
		return nil
	}
	return fields[skip:]
}

// syncCommand reports whether a command runs elentra-teams sync, and the
// --config it names. The program may sit behind a wrapper (nice, flock, a
// shell -c string): it is the first field whose base name is elentra-teams.
func syncCommand(fields []string) (configFile string, ok bool) {
	for i, f := range fields {
		f = strings.Trim(f, `'"`)
		if filepath.Base(f) != "elentra-teams" {
			continue
		}
		rest := fields[i+1:]
		for j := 0; j < len(rest); j++ {
			a := strings.Trim(rest[j], `'";`)
			switch {
			case flagValue(rest, j):
				// the value of the flag before it (--log-file sync), even
				// when it reads as a command
			case a == "--config" && j+1 < len(rest):
				configFile = strings.Trim(rest[j+1], `'";`)
				j++
			case strings.HasPrefix(a, "--config="):
				configFile = strings.TrimPrefix(a, "--config=")
			case a == "sync":
				return configFile, true
			case strings.HasPrefix(a, "-"):
				// another global flag (its value, if separate, is skipped
				// by the first case)
			default:
				return "", false // another command
			}
		}
		return "", false
	}
	return "", false
}

// flagValue reports whether rest[j] is the value of the flag before it.
func flagValue(rest []string, j int) bool {
	if j == 0 {
		return false
	}
	prev := strings.Trim(rest[j-1], `'"`)
	if !strings.HasPrefix(prev, "--") || strings.Contains(prev, "=") {
		return false
	}
	switch prev {
	case "--elentra-settings", "--log-level", "--log-format", "--log-file", "--output":
		return true
	}
	return false
}

// sameFile compares two paths after making them absolute and clean.
func sameFile(a, b string) bool {
	if a == "" || b == "" {
		return a == b
	}
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && filepath.Clean(aa) == filepath.Clean(bb)
}

func checkCronEntry(ctx context.Context, e *Env) Result {
	files := readCron(ctx, e.Cron)
	entries := findSyncEntries(files)
	var mine, others, ignored []cronEntry
	for _, en := range entries {
		switch {
		case en.ignored != "":
			ignored = append(ignored, en)
		case en.config == "" || e.Config.File == "" || sameFile(en.config, e.Config.File):
			mine = append(mine, en)
		default:
			others = append(others, en)
		}
	}
	if len(mine) > 0 {
		return pass("cron runs elentra-teams sync for this configuration (%s)", mine[0].source)
	}
	searched := make([]string, 0, len(e.Cron.Paths)+1)
	searched = append(searched, e.Cron.Paths...)
	if e.Cron.UserCrontab != nil {
		searched = append(searched, "crontab -l")
	}
	msg := "no cron entry runs elentra-teams sync (looked in " + strings.Join(searched, ", ") + "): nothing syncs until one does, and nothing says so"
	switch {
	case len(ignored) > 0:
		msg = fmt.Sprintf("the cron entry in %s is never run: %s", ignored[0].source, ignored[0].ignored)
	case len(others) > 0:
		msg = fmt.Sprintf("cron runs elentra-teams sync only for another configuration (%s in %s)", others[0].config, others[0].source)
	}
	fix := "install the lines below (as root in /etc/cron.d/elentra-teams, or with 'crontab -e' as the user that runs the tool); 'elentra-teams crontab --every 30m' prints them for another interval"
	return warn(msg, fix).with(e.CronLines...)
}
