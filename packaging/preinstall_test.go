package packaging_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The preinstall script runs against stand-ins for getent, useradd, adduser
// and groupadd that keep a fake account database in a directory, so the
// test sees what the script would do to a real system without touching it.
const (
	getentStub = `#!/bin/sh
# getent DATABASE NAME: exit 0 when NAME is in $STATE/DATABASE, as getent does.
[ -f "$STATE/$1" ] || exit 2
while IFS=: read -r name rest; do
	[ "$name" = "$2" ] && { echo "$name:$rest"; exit 0; }
done < "$STATE/$1"
exit 2
`
	// useradd and adduser log their arguments and add the account (and, when
	// asked for a group of its own, the group), as the real ones do.
	useraddStub = `#!/bin/sh
echo "useradd $*" >> "$STATE/calls"
for last; do :; done
echo "$last:x:999:999::/var/lib/elentra-teams:/usr/sbin/nologin" >> "$STATE/passwd"
case " $* " in *" --user-group "*) echo "$last:x:999:" >> "$STATE/group" ;; esac
`
	adduserStub = `#!/bin/sh
echo "adduser $*" >> "$STATE/calls"
for last; do :; done
echo "$last:x:999:999::/var/lib/elentra-teams:/usr/sbin/nologin" >> "$STATE/passwd"
case " $* " in *" --group "*) echo "$last:x:999:" >> "$STATE/group" ;; esac
`
)

type fakeSystem struct {
	bin, state string
}

// newFakeSystem makes a PATH holding only the named stand-ins, so a tool the
// test leaves out is missing for the script, whatever this machine has.
func newFakeSystem(t *testing.T, tools ...string) fakeSystem {
	t.Helper()
	fs := fakeSystem{bin: t.TempDir(), state: t.TempDir()}
	stubs := map[string]string{"getent": getentStub, "useradd": useraddStub, "adduser": adduserStub}
	for _, name := range append([]string{"getent"}, tools...) {
		if err := os.WriteFile(filepath.Join(fs.bin, name), []byte(stubs[name]), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, db := range []string{"passwd", "group"} {
		if err := os.WriteFile(filepath.Join(fs.state, db), []byte("root:x:0:0:root:/root:/bin/sh\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return fs
}

func (fs fakeSystem) addGroup(t *testing.T, name string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(fs.state, "group"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(name + ":x:998:\n"); err != nil {
		t.Fatal(err)
	}
}

// install runs the preinstall script as dpkg would (preinst install).
func (fs fakeSystem) install(t *testing.T) (stderr string, code int) {
	t.Helper()
	cmd := exec.Command("/bin/sh", preinstall, "install")
	cmd.Env = []string{"PATH=" + fs.bin, "STATE=" + fs.state}
	var errBuf strings.Builder
	cmd.Stderr = &errBuf
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return errBuf.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return errBuf.String(), 0
}

func (fs fakeSystem) calls(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fs.state, "calls"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(data)), "\n")
}

func TestPreinstallCreatesTheSystemUserOnce(t *testing.T) {
	for _, c := range []struct {
		name        string
		tools       []string
		groupExists bool
		want        string
	}{
		{"useradd", []string{"useradd", "adduser"}, false,
			"useradd --system --user-group --home-dir /var/lib/elentra-teams --no-create-home --shell /usr/sbin/nologin --comment elentra-teams sync elentra-teams"},
		{"useradd joins a group made beforehand", []string{"useradd"}, true,
			"useradd --system --gid elentra-teams --home-dir /var/lib/elentra-teams --no-create-home --shell /usr/sbin/nologin --comment elentra-teams sync elentra-teams"},
		{"adduser only", []string{"adduser"}, false,
			"adduser --system --group --home /var/lib/elentra-teams --no-create-home --shell /usr/sbin/nologin elentra-teams"},
		{"adduser joins a group made beforehand", []string{"adduser"}, true,
			"adduser --system --ingroup elentra-teams --home /var/lib/elentra-teams --no-create-home --shell /usr/sbin/nologin elentra-teams"},
	} {
		t.Run(c.name, func(t *testing.T) {
			fs := newFakeSystem(t, c.tools...)
			if c.groupExists {
				fs.addGroup(t, "elentra-teams")
			}
			// An upgrade runs the script again: the second run must change nothing.
			for run := 1; run <= 2; run++ {
				if stderr, code := fs.install(t); code != 0 {
					t.Fatalf("run %d exited %d: %s", run, code, stderr)
				}
			}
			got := fs.calls(t)
			if len(got) != 1 || got[0] != c.want {
				t.Errorf("after two runs the script called\n%q\nwant once\n%q", got, c.want)
			}
		})
	}
}

func TestPreinstallLeavesAnExistingUserAlone(t *testing.T) {
	fs := newFakeSystem(t, "useradd")
	if err := os.WriteFile(filepath.Join(fs.state, "passwd"), []byte("elentra-teams:x:500:500::/home/elentra-teams:/bin/bash\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if stderr, code := fs.install(t); code != 0 {
		t.Fatalf("exited %d: %s", code, stderr)
	}
	if got := fs.calls(t); got != nil {
		t.Errorf("the script changed an account the admin made: %q", got)
	}
}

func TestPreinstallWithoutTools(t *testing.T) {
	fs := newFakeSystem(t)
	stderr, code := fs.install(t)
	if code == 0 {
		t.Fatal("the script succeeded with no way to create the user; the package would install without its account")
	}
	if !strings.Contains(stderr, "create the system user elentra-teams") {
		t.Errorf("stderr %q does not say what to do", stderr)
	}
}
