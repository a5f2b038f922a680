// Package nfpmcheck builds the .deb that .goreleaser.yaml describes with
// nfpm, the library goreleaser packages with, and checks what it installs.
//
// It is a module of its own so that nfpm and its dependencies stay out of
// elentra-teams' go.mod; .ci/release-check.sh runs it. It stands in for a
// goreleaser snapshot where goreleaser is not installed: compiling goreleaser
// takes about five minutes on a fresh machine.
package nfpmcheck

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/blakesmith/ar"
	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/deb"
	"github.com/goreleaser/nfpm/v2/files"
	"go.yaml.in/yaml/v3"
)

// repoRoot is the elentra-teams module, two directories up.
const repoRoot = "../.."

// releaseConfig is the part of .goreleaser.yaml that makes the packages.
// goreleaser's contents entries have nfpm's own keys, so they decode
// straight into nfpm's types.
type releaseConfig struct {
	Before struct {
		Hooks []string `yaml:"hooks"`
	} `yaml:"before"`
	Builds []struct {
		Main   string `yaml:"main"`
		Binary string `yaml:"binary"`
	} `yaml:"builds"`
	NFPMs []struct {
		PackageName string         `yaml:"package_name"`
		Vendor      string         `yaml:"vendor"`
		Homepage    string         `yaml:"homepage"`
		Maintainer  string         `yaml:"maintainer"`
		Description string         `yaml:"description"`
		License     string         `yaml:"license"`
		Section     string         `yaml:"section"`
		Priority    string         `yaml:"priority"`
		Formats     []string       `yaml:"formats"`
		Bindir      string         `yaml:"bindir"`
		Scripts     nfpm.Scripts   `yaml:"scripts"`
		Contents    files.Contents `yaml:"contents"`
		Overrides   map[string]struct {
			Recommends []string `yaml:"recommends"`
		} `yaml:"overrides"`
	} `yaml:"nfpms"`
}

// generatedDir is where the before hook writes man pages and completions.
func generatedDir(t *testing.T, c releaseConfig) string {
	t.Helper()
	for _, h := range c.Before.Hooks {
		fields := strings.Fields(h)
		if i := slices.Index(fields, "--out"); i >= 0 && i+1 < len(fields) && slices.Contains(fields, "./cmd/elentra-teams-docs") {
			return fields[i+1]
		}
	}
	t.Fatal("no before hook runs ./cmd/elentra-teams-docs --out DIR")
	return ""
}

func goCmd(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// buildDeb does what the release does for linux/amd64: runs the before hook
// into a temporary directory, builds the binary, and packs the deb.
func buildDeb(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c releaseConfig
	if err := yaml.Unmarshal(data, &c); err != nil {
		t.Fatalf(".goreleaser.yaml: %v", err)
	}
	if len(c.NFPMs) != 1 || len(c.Builds) != 1 {
		t.Fatalf("want one build and one nfpms entry, found %d and %d", len(c.Builds), len(c.NFPMs))
	}
	n, b := c.NFPMs[0], c.Builds[0]
	if !slices.Contains(n.Formats, "deb") {
		t.Fatalf("nfpms formats %v make no deb", n.Formats)
	}

	work := t.TempDir()
	gen := generatedDir(t, c)
	goCmd(t, "run", "./cmd/elentra-teams-docs", "--out", filepath.Join(work, "gen"), "--version", "0.0.0", "--date", "2026-05-01T12:00:00Z")
	binary := filepath.Join(work, b.Binary)
	// No -trimpath: this build shares the cache of go test; only the layout is checked here.
	goCmd(t, "build", "-o", binary, b.Main)

	contents := files.Contents{{
		Source: binary, Destination: path.Join(n.Bindir, b.Binary),
		FileInfo: &files.ContentFileInfo{Mode: 0o755},
	}}
	for _, ct := range n.Contents {
		switch {
		case ct.Source == "":
		case strings.HasPrefix(ct.Source, gen+"/"):
			ct.Source = filepath.Join(work, "gen", strings.TrimPrefix(ct.Source, gen+"/"))
		default:
			ct.Source = filepath.Join(repoRoot, ct.Source)
		}
		contents = append(contents, ct)
	}
	info := nfpm.WithDefaults(&nfpm.Info{
		Name: n.PackageName, Arch: "amd64", Platform: "linux", Version: "0.0.0-check",
		Maintainer: n.Maintainer, Description: n.Description, Vendor: n.Vendor, Homepage: n.Homepage,
		License: n.License, Section: n.Section, Priority: n.Priority,
		Overridables: nfpm.Overridables{
			Contents:   contents,
			Recommends: n.Overrides["deb"].Recommends,
			Scripts: nfpm.Scripts{
				PreInstall: filepath.Join(repoRoot, n.Scripts.PreInstall),
			},
		},
	})
	if err := nfpm.PrepareForPackager(info, "deb"); err != nil {
		t.Fatalf("nfpm rejects the package: %v", err)
	}
	var pkg bytes.Buffer
	if err := deb.Default.Package(info, &pkg); err != nil {
		t.Fatalf("nfpm deb: %v", err)
	}
	return pkg.Bytes()
}

// entry is one file of a tar member of the deb, as dpkg-deb -c lists it.
type entry struct {
	mode  os.FileMode
	owner string
	dir   bool
	body  []byte
}

// readDeb returns the members of the deb's control and data archives.
func readDeb(t *testing.T, pkg []byte) (control, data map[string]entry) {
	t.Helper()
	control, data = map[string]entry{}, map[string]entry{}
	r := ar.NewReader(bytes.NewReader(pkg))
	for {
		h, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var into map[string]entry
		switch strings.TrimSuffix(h.Name, "/") {
		case "control.tar.gz":
			into = control
		case "data.tar.gz":
			into = data
		default:
			continue
		}
		zr, err := gzip.NewReader(r)
		if err != nil {
			t.Fatalf("%s: %v", h.Name, err)
		}
		tr := tar.NewReader(zr)
		for {
			th, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", h.Name, err)
			}
			body, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			name := "/" + strings.TrimSuffix(strings.TrimPrefix(th.Name, "./"), "/")
			into[name] = entry{
				mode:  os.FileMode(th.Mode).Perm(),
				owner: th.Uname + "/" + th.Gname,
				dir:   th.Typeflag == tar.TypeDir,
				body:  body,
			}
		}
	}
	if len(control) == 0 || len(data) == 0 {
		t.Fatalf("the deb has no control or data archive (control %d, data %d entries)", len(control), len(data))
	}
	return control, data
}

func TestDebInstallsWhatTheReleaseNeeds(t *testing.T) {
	control, data := readDeb(t, buildDeb(t))

	for _, want := range []struct {
		path  string
		mode  os.FileMode
		owner string
		dir   bool
	}{
		{"/usr/bin/elentra-teams", 0o755, "root/root", false},
		{"/etc/elentra-teams", 0o750, "root/elentra-teams", true},
		{"/etc/elentra-teams/config.yaml", 0o640, "root/elentra-teams", false},
		{"/etc/cron.d/elentra-teams", 0o644, "root/root", false},
		{"/var/lib/elentra-teams", 0o750, "elentra-teams/elentra-teams", true},
		{"/usr/share/man/man1/elentra-teams.1.gz", 0o644, "root/root", false},
		{"/usr/share/man/man1/elentra-teams-sync.1.gz", 0o644, "root/root", false},
		{"/usr/share/bash-completion/completions/elentra-teams", 0o644, "root/root", false},
		{"/usr/share/zsh/vendor-completions/_elentra-teams", 0o644, "root/root", false},
		{"/usr/share/fish/vendor_completions.d/elentra-teams.fish", 0o644, "root/root", false},
	} {
		got, ok := data[want.path]
		switch {
		case !ok:
			t.Errorf("the deb does not install %s", want.path)
		case got.mode != want.mode || got.owner != want.owner || got.dir != want.dir:
			t.Errorf("%s: %v %s (dir %v), want %v %s (dir %v)", want.path, got.mode, got.owner, got.dir, want.mode, want.owner, want.dir)
		}
	}
	if _, ok := data["/usr/share/zsh/site-functions/_elentra-teams"]; ok {
		t.Error("the deb carries the rpm's zsh completion path too")
	}
	for _, same := range []struct{ installed, source string }{
		{"/etc/elentra-teams/config.yaml", "packaging/config.yaml"},
		{"/etc/cron.d/elentra-teams", "packaging/cron.d/elentra-teams"},
	} {
		src, err := os.ReadFile(filepath.Join(repoRoot, same.source))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(data[same.installed].body, src) {
			t.Errorf("%s differs from %s", same.installed, same.source)
		}
	}

	conffiles := strings.Fields(string(control["/conffiles"].body))
	for _, want := range []string{"/etc/elentra-teams/config.yaml", "/etc/cron.d/elentra-teams"} {
		if !slices.Contains(conffiles, want) {
			t.Errorf("%s is not a conffile (conffiles: %q): an upgrade would overwrite the admin's edits", want, conffiles)
		}
	}
	preinst, ok := control["/preinst"]
	script, err := os.ReadFile(filepath.Join(repoRoot, "packaging/scripts/preinstall.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if !ok || !bytes.Equal(preinst.body, script) || preinst.mode&0o100 == 0 {
		t.Errorf("preinst is not the executable packaging/scripts/preinstall.sh (present %v, mode %v)", ok, preinst.mode)
	}
	fields := string(control["/control"].body)
	for _, want := range []string{"Package: elentra-teams\n", "Recommends: cron | cron-daemon\n", "Architecture: amd64\n"} {
		if !strings.Contains(fields, want) {
			t.Errorf("control lacks %q:\n%s", want, fields)
		}
	}
	if t.Failed() {
		var names []string
		for name, e := range data {
			names = append(names, fmt.Sprintf("%v %s %s", e.mode, e.owner, name))
		}
		slices.Sort(names)
		t.Logf("the deb holds:\n%s", strings.Join(names, "\n"))
	}
}
