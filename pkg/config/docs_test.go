package config_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/elentra-teams/elentra-teams/pkg/config"
)

// configurationDoc is the page that lists every key for administrators.
const configurationDoc = "../../docs/configuration.md"

// docRow is one row of the key table of docs/configuration.md.
type docRow struct {
	line                      int
	key, env, kind, def, does string
	secret                    bool
}

// readKeyTable returns the rows of the table under "## All keys".
func readKeyTable(t *testing.T) []docRow {
	t.Helper()
	b, err := os.ReadFile(configurationDoc)
	if err != nil {
		t.Fatalf("read %s: %v", configurationDoc, err)
	}
	var rows []docRow
	inSection := false
	for i, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "## ") {
			inSection = strings.TrimSpace(line) == "## All keys"
			continue
		}
		if !inSection || !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cells) != 5 {
			t.Errorf("%s:%d: want 5 cells (key, environment variable, type, default, what it does), got %d: %s",
				configurationDoc, i+1, len(cells), line)
			continue
		}
		kind, secret := strings.CutSuffix(cells[2], ", secret")
		rows = append(rows, docRow{
			line: i + 1, key: strings.Trim(cells[0], "`"), env: strings.Trim(cells[1], "`"),
			kind: kind, secret: secret, def: cells[3], does: cells[4],
		})
	}
	if len(rows) == 0 {
		t.Fatalf("%s has no key table under \"## All keys\"", configurationDoc)
	}
	return rows
}

// docDefault is how the table writes a key's default.
func docDefault(k config.KeyInfo) string {
	switch d := k.Default.(type) {
	case string:
		if d == "" {
			return "–"
		}
		return "`" + d + "`"
	case []string:
		return "`[" + strings.Join(d, ", ") + "]`"
	}
	return fmt.Sprintf("`%v`", k.Default)
}

// The key table of docs/configuration.md names every key of the code once,
// with its environment variable, type, secrecy and default as the code has
// them, and no key the code does not know.
func TestConfigurationDocListsEveryKey(t *testing.T) {
	rows := readKeyTable(t)
	byKey := map[string]docRow{}
	for _, r := range rows {
		if prev, dup := byKey[r.key]; dup {
			t.Errorf("%s:%d: %s is listed again (first at line %d)", configurationDoc, r.line, r.key, prev.line)
		}
		byKey[r.key] = r
		if _, known := config.LookupKey(r.key); !known {
			t.Errorf("%s:%d: %s is not a configuration key", configurationDoc, r.line, r.key)
		}
	}
	for _, k := range config.Keys() {
		r, ok := byKey[k.Path]
		if !ok {
			t.Errorf("%s does not list the key %s", configurationDoc, k.Path)
			continue
		}
		if r.env != k.EnvName() {
			t.Errorf("%s:%d: %s: environment variable %q, want %q", configurationDoc, r.line, k.Path, r.env, k.EnvName())
		}
		if r.kind != k.Kind.String() {
			t.Errorf("%s:%d: %s: type %q, want %q", configurationDoc, r.line, k.Path, r.kind, k.Kind.String())
		}
		if r.secret != k.Secret {
			t.Errorf("%s:%d: %s: marked secret %v, want %v", configurationDoc, r.line, k.Path, r.secret, k.Secret)
		}
		if want := docDefault(k); r.def != want {
			t.Errorf("%s:%d: %s: default %s, want %s", configurationDoc, r.line, k.Path, r.def, want)
		}
		if strings.TrimSpace(r.does) == "" {
			t.Errorf("%s:%d: %s: says nothing of what it does", configurationDoc, r.line, k.Path)
		}
	}
}

// Every secret key has a *_file key or is documented as environment-only,
// so that cron, which sees no shell variables, can be given each secret.
func TestConfigurationDocSaysWhereEachSecretGoes(t *testing.T) {
	rows := readKeyTable(t)
	byKey := map[string]docRow{}
	for _, r := range rows {
		byKey[r.key] = r
	}
	for _, k := range config.Keys() {
		if !k.Secret {
			continue
		}
		if _, hasFile := config.LookupKey(k.Path + "_file"); hasFile {
			continue
		}
		if r, ok := byKey[k.Path]; ok && !strings.Contains(r.does, "environment only") {
			t.Errorf("%s:%d: %s is a secret without a %s_file key: say it is given in the environment only",
				configurationDoc, r.line, k.Path, k.Path)
		}
	}
}
