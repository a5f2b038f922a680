// Package packaging_test checks what the deb and rpm install: the example
// configuration, the cron file and the preinstall script, against the real
// binary built as .goreleaser.yaml builds it.
package packaging_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/go-viper/mapstructure/v2"
	"go.yaml.in/yaml/v3"

	"github.com/elentra-teams/elentra-teams/pkg/config"
)

const (
	module      = "github.com/elentra-teams/elentra-teams"
	cronFile    = "cron.d/elentra-teams"
	exampleConf = "config.yaml"
	preinstall  = "scripts/preinstall.sh"
	// Values put in for goreleaser's templates when the test builds the binary.
	testVersion = "1.2.3-test"
	testCommit  = "0123456789abcdef0123456789abcdef01234567"
	testDate    = "2026-05-01T12:00:00Z"
)

// binary is elentra-teams built with the flags and ldflags of .goreleaser.yaml.
var binary string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "elentra-teams-packaging-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary, err = buildAsReleased(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "building elentra-teams as .goreleaser.yaml does:", err)
		return 1
	}
	return m.Run()
}

// goreleaserConfig is the part of .goreleaser.yaml these tests read.
type goreleaserConfig struct {
	Version int `yaml:"version"`
	Before  struct {
		Hooks []string `yaml:"hooks"`
	} `yaml:"before"`
	Builds []struct {
		ID           string   `yaml:"id"`
		Main         string   `yaml:"main"`
		Binary       string   `yaml:"binary"`
		Env          []string `yaml:"env"`
		Goos         []string `yaml:"goos"`
		Goarch       []string `yaml:"goarch"`
		Flags        []string `yaml:"flags"`
		Ldflags      []string `yaml:"ldflags"`
		ModTimestamp string   `yaml:"mod_timestamp"`
	} `yaml:"builds"`
	Archives []struct {
		Formats []string `yaml:"formats"`
		Files   []struct {
			Src string `yaml:"src"`
		} `yaml:"files"`
	} `yaml:"archives"`
	NFPMs []struct {
		Formats []string `yaml:"formats"`
		Bindir  string   `yaml:"bindir"`
		Scripts struct {
			Preinstall string `yaml:"preinstall"`
		} `yaml:"scripts"`
		Contents []nfpmContent `yaml:"contents"`
	} `yaml:"nfpms"`
}

type nfpmContent struct {
	Src      string `yaml:"src"`
	Dst      string `yaml:"dst"`
	Type     string `yaml:"type"`
	Packager string `yaml:"packager"`
	FileInfo struct {
		Mode  os.FileMode `yaml:"mode"`
		Owner string      `yaml:"owner"`
		Group string      `yaml:"group"`
	} `yaml:"file_info"`
}

func readGoreleaser(t *testing.T) goreleaserConfig {
	t.Helper()
	c, err := parseGoreleaser()
	if err != nil {
		t.Fatalf(".goreleaser.yaml: %v", err)
	}
	return c
}

func parseGoreleaser() (goreleaserConfig, error) {
	var c goreleaserConfig
	data, err := os.ReadFile("../.goreleaser.yaml")
	if err == nil {
		err = yaml.Unmarshal(data, &c)
	}
	return c, err
}

// buildAsReleased builds cmd/elentra-teams with the environment, flags and
// ldflags of .goreleaser.yaml's build, its templates filled with test values.
func buildAsReleased(dir string) (string, error) {
	c, err := parseGoreleaser()
	if err != nil {
		return "", err
	}
	if len(c.Builds) != 1 {
		return "", fmt.Errorf("want one build in .goreleaser.yaml, found %d", len(c.Builds))
	}
	b := c.Builds[0]
	fill := strings.NewReplacer("{{ .Version }}", testVersion, "{{ .FullCommit }}", testCommit, "{{ .CommitDate }}", testDate)
	ldflags := fill.Replace(strings.Join(b.Ldflags, " "))
	if strings.Contains(ldflags, "{{") {
		return "", fmt.Errorf("ldflags use a template this test does not fill: %s", ldflags)
	}
	out := filepath.Join(dir, b.Binary)
	args := append([]string{"build"}, b.Flags...)
	args = append(args, "-ldflags", ldflags, "-o", out, b.Main)
	cmd := exec.Command("go", args...)
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), b.Env...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, msg)
	}
	return out, nil
}

// run runs the built binary in an empty directory with no ELENTRA_TEAMS_*
// variable of the caller, and returns stdout, stderr and the exit code.
func run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = t.TempDir()
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, config.EnvPrefix) {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("running %s: %v", binary, err)
		}
		code = ee.ExitCode()
	}
	return stdout.String(), stderr.String(), code
}

func absPath(t *testing.T, rel string) string {
	t.Helper()
	p, err := filepath.Abs(rel)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestReleasedBinaryReportsBuildInfo catches an -X that names no variable:
// the linker ignores it silently and `version` would print "dev".
func TestReleasedBinaryReportsBuildInfo(t *testing.T) {
	stdout, stderr, code := run(t, "version", "--output", "json")
	if code != 0 {
		t.Fatalf("version exited %d: %s", code, stderr)
	}
	var got struct{ Version, Commit, Date string }
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("version --output json: %v\n%s", err, stdout)
	}
	if got.Version != testVersion || got.Commit != testCommit || got.Date != testDate {
		t.Errorf("version reports %+v, want version %s, commit %s, date %s", got, testVersion, testCommit, testDate)
	}
}

func TestExampleConfigLoads(t *testing.T) {
	// crontab loads the configuration and validates none of it, so exit 0
	// means the loader accepted every key, type and value in the file.
	stdout, stderr, code := run(t, "--config", absPath(t, exampleConf), "crontab", "--binary", "/usr/bin/elentra-teams")
	if code != 0 || stderr != "" {
		t.Fatalf("crontab with %s exited %d, stderr:\n%s", exampleConf, code, stderr)
	}
	if !strings.Contains(stdout, " elentra-teams /usr/bin/elentra-teams --config ") {
		t.Errorf("crontab printed no cron.d line for the elentra-teams user:\n%s", stdout)
	}
}

// exampleKeyLine is a key of a section, set or commented out:
// "  redirect_uri: …" or "  # settings_file: …".
var exampleKeyLine = regexp.MustCompile(`^  (# )?([a-z_]+): (.*)$`)

var sectionLine = regexp.MustCompile(`^([a-z_]+):\s*$`)

type exampleKey struct {
	path      string // elentra.settings_file
	value     string
	commented bool
	line      int
}

func exampleKeys(t *testing.T) ([]string, []exampleKey) {
	t.Helper()
	data, err := os.ReadFile(exampleConf)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	var keys []exampleKey
	section := ""
	for i, line := range lines {
		if m := sectionLine.FindStringSubmatch(line); m != nil {
			section = m[1]
			continue
		}
		m := exampleKeyLine.FindStringSubmatch(line)
		if m == nil || section == "" {
			continue
		}
		path := section + "." + m[2]
		if _, ok := config.LookupKey(path); !ok {
			t.Errorf("%s:%d: %q looks like a key but %s is not one", exampleConf, i+1, line, path)
			continue
		}
		keys = append(keys, exampleKey{path: path, value: m[3], commented: m[1] != "", line: i})
	}
	return lines, keys
}

// TestExampleConfigShowsEveryKey: every key an admin may put in the file is
// there, set or commented out, and no secret is (secrets come from *_file).
func TestExampleConfigShowsEveryKey(t *testing.T) {
	_, keys := exampleKeys(t)
	shown := map[string]bool{}
	for _, k := range keys {
		shown[k.path] = true
	}
	for _, k := range config.Keys() {
		switch {
		case k.Secret && shown[k.Path]:
			t.Errorf("%s holds the secret key %s; secrets belong in the environment or a *_file", exampleConf, k.Path)
		case !k.Secret && !shown[k.Path]:
			t.Errorf("%s does not show %s", exampleConf, k.Path)
		}
	}
	for _, k := range keys {
		if strings.HasSuffix(k.path, "_file") && k.path != "elentra.settings_file" && !strings.HasPrefix(k.value, "/etc/elentra-teams/") {
			t.Errorf("%s = %s: secret files belong in /etc/elentra-teams/", k.path, k.value)
		}
	}
}

// TestExampleConfigCommentedKeysAreValid uncomments every key, as an admin
// would, with the secret files and Elentra's settings file in place, and
// checks that the loader accepts the result and that every value is valid.
func TestExampleConfigCommentedKeysAreValid(t *testing.T) {
	lines, keys := exampleKeys(t)
	dir := t.TempDir()
	fakeFiles := map[string]string{
		"elentra.settings_file":        "<?php\ndefine(\"DATABASE_NAME\", \"entrada\");\n",
		"database.password_file":       "not-a-real-password\n",
		"microsoft.client_secret_file": "not-a-real-client-secret\n",
		// base64 of 32 bytes of "0": obviously not a real key
		"token.encryption_key_file": "MDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA=\n",
	}
	uncommented := 0
	for _, k := range keys {
		value := k.value
		if content, ok := fakeFiles[k.path]; ok {
			value = filepath.Join(dir, filepath.Base(k.value))
			if err := os.WriteFile(value, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		lines[k.line] = "  " + leaf(k.path) + ": " + value
		if k.commented {
			uncommented++
		}
	}
	if uncommented < 30 {
		t.Fatalf("only %d commented keys found in %s; the test no longer reads it right", uncommented, exampleConf)
	}
	doc := strings.Join(lines, "\n")
	all := filepath.Join(dir, "all-keys.yaml")
	if err := os.WriteFile(all, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}

	if _, stderr, code := run(t, "--config", all, "crontab"); code != 0 || stderr != "" {
		t.Fatalf("crontab with every key of %s uncommented exited %d, stderr:\n%s", exampleConf, code, stderr)
	}

	// The loader lives in the command layer and `crontab` validates nothing,
	// so the values are decoded here as the loader does and validated by the
	// configuration's own rules for every command.
	var raw map[string]any
	if err := yaml.Unmarshal([]byte(doc), &raw); err != nil {
		t.Fatal(err)
	}
	cfg := config.Defaults()
	dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
		Result:     &cfg,
		DecodeHook: durationHook,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := dec.Decode(raw); err != nil {
		t.Fatalf("decoding %s: %v", all, err)
	}
	if err := cfg.ReadSecretFiles(config.AllNeeds); err != nil {
		t.Fatal(err)
	}
	// Some keys belong to one auth mode and are refused in the other, so the
	// values are validated in each mode, without the other mode's keys.
	everything := config.NeedDatabase | config.NeedMicrosoft | config.NeedTokenKey | config.NeedSync | config.NeedTimezone
	delegated, application := cfg, cfg
	delegated.Microsoft.AuthMode = "delegated"
	delegated.Sync.FallbackOwner = ""
	application.Microsoft.AuthMode = "application"
	application.Sync.AdminLeavesTeams = false
	for mode, c := range map[string]config.Config{"delegated": delegated, "application": application} {
		if err := c.Validate(everything); err != nil {
			t.Errorf("the example values do not validate in %s mode: %v", mode, err)
		}
	}
}

func leaf(path string) string { return path[strings.LastIndexByte(path, '.')+1:] }

var durationType = reflect.TypeOf(config.Duration(0))

func durationHook(from, to reflect.Type, data any) (any, error) {
	if to == durationType && from.Kind() == reflect.String {
		return config.ParseDuration(data.(string))
	}
	return data, nil
}

// cronTime matches one of the five time fields of a cron line.
var cronTime = regexp.MustCompile(`^[0-9*][0-9*,/-]*$`)

type cronJob struct {
	schedule, user, command string
	commented               bool
}

// cronJobs reads the job lines of a cron.d file, commented out or not: the
// lines whose first five fields are cron times.
func cronJobs(text string) []cronJob {
	var jobs []cronJob
	for _, line := range strings.Split(text, "\n") {
		body, commented := strings.CutPrefix(strings.TrimSpace(line), "#")
		fields := strings.Fields(body)
		if len(fields) < 7 {
			continue
		}
		isJob := true
		for _, f := range fields[:5] {
			isJob = isJob && cronTime.MatchString(f)
		}
		if isJob {
			jobs = append(jobs, cronJob{
				schedule:  strings.Join(fields[:5], " "),
				user:      fields[5],
				command:   strings.Join(fields[6:], " "),
				commented: commented,
			})
		}
	}
	return jobs
}

func TestCronFile(t *testing.T) {
	data, err := os.ReadFile(cronFile)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	if !strings.HasSuffix(text, "\n") {
		t.Error("the cron file does not end with a newline: cron ignores an unterminated last line")
	}
	c := readGoreleaser(t)
	var confDst string
	for _, n := range c.NFPMs {
		for _, ct := range n.Contents {
			if ct.Src == "packaging/"+exampleConf {
				confDst = ct.Dst
			}
		}
	}
	if confDst == "" {
		t.Fatal(".goreleaser.yaml does not install the example configuration")
	}

	jobs := cronJobs(text)
	if len(jobs) == 0 {
		t.Fatalf("no job line in %s", cronFile)
	}
	syncJobs := 0
	for _, j := range jobs {
		if j.user != "elentra-teams" {
			t.Errorf("job %q runs as %q, want the elentra-teams user in the sixth field", j.command, j.user)
		}
		if !strings.HasPrefix(j.command, "/usr/bin/elentra-teams ") {
			t.Errorf("job %q does not run the packaged /usr/bin/elentra-teams", j.command)
		}
		if !strings.HasSuffix(j.command, " sync --quiet") {
			continue // cron mails what a run prints: the sync line is quiet
		}
		syncJobs++
		if !j.commented {
			t.Errorf("the sync line is active; it must stay commented until the site is configured")
		}
		if !strings.Contains(j.command, " --config "+confDst+" ") {
			t.Errorf("sync line %q does not name the installed configuration %s", j.command, confDst)
		}
	}
	if syncJobs != 1 {
		t.Errorf("found %d sync lines, want 1", syncJobs)
	}

	// The minute is the one `elentra-teams crontab` derives for the example
	// configuration (Elentra's default database), so the two never disagree.
	stdout, stderr, code := run(t, "--config", absPath(t, exampleConf), "crontab", "--binary", "/usr/bin/elentra-teams")
	if code != 0 {
		t.Fatalf("crontab exited %d: %s", code, stderr)
	}
	printed := cronJobs(stdout)
	if len(printed) == 0 {
		t.Fatalf("crontab printed no cron.d line:\n%s", stdout)
	}
	if !strings.HasSuffix(printed[0].command, " sync --quiet") {
		t.Errorf("`elentra-teams crontab` prints %q, not the quiet sync of the cron file", printed[0].command)
	}
	if printed[0].schedule != jobs[0].schedule {
		t.Errorf("the cron file runs at %q, `elentra-teams crontab` says %q", jobs[0].schedule, printed[0].schedule)
	}

	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !regexp.MustCompile(`^[A-Z_]+=\S*$`).MatchString(line) {
			t.Errorf("active line %q is neither a variable nor commented", line)
		}
	}
}

func TestGoreleaserConfig(t *testing.T) {
	c := readGoreleaser(t)
	if c.Version != 2 {
		t.Errorf("version: %d, want 2", c.Version)
	}
	if len(c.Builds) != 1 {
		t.Fatalf("%d builds, want only cmd/elentra-teams", len(c.Builds))
	}
	b := c.Builds[0]
	if b.Main != "./cmd/elentra-teams" || b.Binary != "elentra-teams" {
		t.Errorf("build %s → %s, want ./cmd/elentra-teams → elentra-teams", b.Main, b.Binary)
	}
	if !slices.Contains(b.Env, "CGO_ENABLED=0") || !slices.Contains(b.Flags, "-trimpath") || b.ModTimestamp != "{{ .CommitTimestamp }}" {
		t.Errorf("build must be CGO_ENABLED=0, -trimpath, mod_timestamp {{ .CommitTimestamp }}: env %v flags %v mod_timestamp %q", b.Env, b.Flags, b.ModTimestamp)
	}
	for _, want := range []string{"linux", "darwin"} {
		if !slices.Contains(b.Goos, want) {
			t.Errorf("goos %v lacks %s", b.Goos, want)
		}
	}
	for _, want := range []string{"amd64", "arm64"} {
		if !slices.Contains(b.Goarch, want) {
			t.Errorf("goarch %v lacks %s", b.Goarch, want)
		}
	}
	if len(c.Archives) == 0 || len(c.Archives[0].Formats) == 0 {
		t.Error("archives must name archives.formats")
	}
	if len(c.NFPMs) != 1 {
		t.Fatalf("%d nfpms, want 1", len(c.NFPMs))
	}
	n := c.NFPMs[0]
	if !slices.Contains(n.Formats, "deb") || !slices.Contains(n.Formats, "rpm") || n.Bindir != "/usr/bin" {
		t.Errorf("nfpm formats %v bindir %q, want deb and rpm into /usr/bin", n.Formats, n.Bindir)
	}

	byDst := map[string]nfpmContent{}
	for _, ct := range n.Contents {
		byDst[ct.Dst] = ct
	}
	conf := byDst["/etc/elentra-teams/config.yaml"]
	if conf.Src != "packaging/"+exampleConf || conf.Type != "config|noreplace" || conf.FileInfo.Mode != 0o640 ||
		conf.FileInfo.Owner != "root" || conf.FileInfo.Group != "elentra-teams" {
		t.Errorf("config entry %+v, want packaging/config.yaml as config|noreplace, 0640 root:elentra-teams", conf)
	}
	cron := byDst["/etc/cron.d/elentra-teams"]
	if cron.Src != "packaging/"+cronFile || !strings.HasPrefix(cron.Type, "config") || cron.FileInfo.Mode&0o022 != 0 {
		t.Errorf("cron entry %+v, want packaging/cron.d/elentra-teams as a config file writable by root only", cron)
	}
	for dst := range byDst {
		if strings.HasPrefix(dst, "/etc/cron.d/") && strings.Contains(filepath.Base(dst), ".") {
			t.Errorf("%s: cron skips files in /etc/cron.d whose name has a dot", dst)
		}
	}

	// Every packaged source exists, except what the before hook generates,
	// and that must be under the directory the hook writes.
	generated := ""
	for _, h := range c.Before.Hooks {
		if strings.Contains(h, "./cmd/elentra-teams-docs") {
			if m := regexp.MustCompile(`--out (\S+)`).FindStringSubmatch(h); m != nil {
				generated = m[1] + "/"
			}
		}
	}
	if generated == "" {
		t.Fatal("no before hook runs ./cmd/elentra-teams-docs --out DIR")
	}
	var srcs []string
	for _, ct := range n.Contents {
		srcs = append(srcs, ct.Src)
	}
	for _, a := range c.Archives {
		for _, f := range a.Files {
			srcs = append(srcs, f.Src)
		}
	}
	srcs = append(srcs, n.Scripts.Preinstall)
	for _, src := range srcs {
		if src == "" || strings.HasPrefix(src, generated) {
			continue
		}
		if _, err := os.Stat(filepath.Join("..", src)); err != nil {
			t.Errorf("packaged file %s: %v", src, err)
		}
	}
	for _, dst := range []string{"/usr/share/man/man1/", "/usr/share/bash-completion/completions/elentra-teams"} {
		if ct, ok := byDst[dst]; !ok || !strings.HasPrefix(ct.Src, generated) {
			t.Errorf("%s is not installed from the generated %s", dst, generated)
		}
	}
	if n.Scripts.Preinstall != "packaging/"+preinstall {
		t.Errorf("preinstall script %q, want packaging/%s", n.Scripts.Preinstall, preinstall)
	}
}

// TestProductionBinaryDeps: the released binary carries neither the Graph
// simulator nor the embedded database nor the synthetic school.
func TestProductionBinaryDeps(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "./cmd/elentra-teams")
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, module+"/pkg/cli") {
		t.Fatalf("go list -deps does not list pkg/cli; the list is not what this test expects:\n%s", out)
	}
	for _, dep := range deps {
		for _, banned := range []string{module + "/pkg/msgraph/graphsim", "github.com/dolthub/go-mysql-server", module + "/internal/school"} {
			if dep == banned || strings.HasPrefix(dep, banned+"/") {
				t.Errorf("cmd/elentra-teams depends on %s", dep)
			}
		}
	}
}

// TestClientAndSimulatorWrittenApart: the Graph client and the simulator
// never import each other (tests included), so a wrong field name cannot
// hide by being wrong on both sides.
func TestClientAndSimulatorWrittenApart(t *testing.T) {
	for pkg, banned := range map[string]string{
		"./pkg/msgraph":          module + "/pkg/msgraph/graphsim",
		"./pkg/msgraph/graphsim": module + "/pkg/msgraph",
	} {
		cmd := exec.Command("go", "list", "-deps", "-test", pkg)
		cmd.Dir = ".."
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			if dep == banned {
				t.Errorf("%s (or its tests) imports %s", pkg, banned)
			}
		}
	}
}
