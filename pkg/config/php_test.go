package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParsePHPDefines(t *testing.T) {
	src := `<?php
/*
 * define("COMMENTED", "no");
 */
// define('ALSO_COMMENTED', 'no');
# define('HASH_COMMENTED', 'no');
define("DATABASE_HOST", "db.example.edu:3307");
define('DATABASE_USER', 'elentra');
define( 'DATABASE_PASS' , 'it\'s a \\ secret' ) ;
DEFINE("ENTRADA_URL", "https://elentra.example.edu");
define("ESCAPED", "tab\there \"quoted\" \x41\101\u{e9} \$notvar");
define("INTERPOLATED", "prefix $config->x");
define("CONCAT", ENTRADA_ABSOLUTE.DIRECTORY_SEPARATOR."core");
define("FROM_CONFIG", $config->database->host);
define("AUTH_APP_ID", 1);
define("NEG", -5);
define("HEX", 0x1F);
define("FLAG", true);
define("NOTHING", null);
if (!defined("GUARDED")) define("GUARDED", 'yes');
define("DATABASE_HOST", "second definition is ignored");
$s = "define('IN_STRING', 'no')";
?>
<html>define('IN_HTML', 'no')</html>
<?php define("AFTER_HTML", 'yes');`
	got := ParsePHPDefines(src)
	want := map[string]struct {
		value    string
		resolved bool
		expr     string
	}{
		"DATABASE_HOST": {"db.example.edu:3307", true, ""},
		"DATABASE_USER": {"elentra", true, ""},
		"DATABASE_PASS": {`it's a \ secret`, true, ""},
		"ENTRADA_URL":   {"https://elentra.example.edu", true, ""},
		"ESCAPED":       {"tab\there \"quoted\" AAé $notvar", true, ""},
		"INTERPOLATED":  {"", false, `"prefix $config->x"`},
		"CONCAT":        {"", false, `ENTRADA_ABSOLUTE.DIRECTORY_SEPARATOR."core"`},
		"FROM_CONFIG":   {"", false, "$config->database->host"},
		"AUTH_APP_ID":   {"1", true, ""},
		"NEG":           {"-5", true, ""},
		"HEX":           {"31", true, ""},
		"FLAG":          {"1", true, ""},
		"NOTHING":       {"", true, ""},
		"GUARDED":       {"yes", true, ""},
		"AFTER_HTML":    {"yes", true, ""},
	}
	for name, w := range want {
		v, ok := got.Values[name]
		if !ok {
			t.Errorf("%s not found", name)
			continue
		}
		if v.Resolved != w.resolved || v.Value != w.value || (w.expr != "" && v.Expr != w.expr) {
			t.Errorf("%s = %+v, want value %q resolved %v expr %q", name, v, w.value, w.resolved, w.expr)
		}
	}
	for _, absent := range []string{"COMMENTED", "ALSO_COMMENTED", "HASH_COMMENTED", "IN_STRING", "IN_HTML"} {
		if _, ok := got.Values[absent]; ok {
			t.Errorf("%s should not be read", absent)
		}
	}
	if len(got.Names) != len(want) {
		t.Errorf("got %d names %v, want %d", len(got.Names), got.Names, len(want))
	}
	if got.Values["DATABASE_HOST"].Line != 7 {
		t.Errorf("DATABASE_HOST line = %d, want 7", got.Values["DATABASE_HOST"].Line)
	}
}

func TestParsePHPReturnArray(t *testing.T) {
	src := `<?php
// Elentra 1.9 core/config/config.inc.php
return array(
    "entrada_url" => "https://elentra.example.edu",
    "database" => array(
        "host" => 'localhost', # trailing comment
        "username" => "elentra",
        "password" => "p\"ass",
        "entrada_database" => "entrada",
        "auth_database" => "entrada_auth",
        "clerkship_database" => ENTRADA_CLERKSHIP,
    ),
    'admin' => [
        'firstname' => 'System',
        'email' => 'admin@example.edu'
    ],
    "list" => array("a", "b", 5 => "c", "d"),
);`
	arr, err := ParsePHPReturnArray(src)
	if err != nil {
		t.Fatal(err)
	}
	if arr == nil {
		t.Fatal("no array")
	}
	for _, c := range []struct {
		path []string
		want string
	}{
		{[]string{"entrada_url"}, "https://elentra.example.edu"},
		{[]string{"database", "host"}, "localhost"},
		{[]string{"database", "password"}, `p"ass`},
		{[]string{"database", "auth_database"}, "entrada_auth"},
		{[]string{"admin", "email"}, "admin@example.edu"},
		{[]string{"list", "0"}, "a"},
		{[]string{"list", "1"}, "b"},
		{[]string{"list", "5"}, "c"},
		{[]string{"list", "6"}, "d"},
	} {
		v, ok := arr.Lookup(c.path...)
		if !ok || !v.Resolved || v.Value != c.want {
			t.Errorf("%v = %+v (found %v), want %q", c.path, v, ok, c.want)
		}
	}
	if v, ok := arr.Lookup("database", "clerkship_database"); !ok || v.Resolved || v.Expr != "ENTRADA_CLERKSHIP" {
		t.Errorf("clerkship_database = %+v, want unresolved ENTRADA_CLERKSHIP", v)
	}
}

func TestParsePHPReturnArrayMalformed(t *testing.T) {
	for _, src := range []string{
		`<?php return array("a" => "b";`,
		`<?php return ["a" => array("b" => 1);`,
		`<?php return array("a" => "b"]`,
	} {
		if _, err := ParsePHPReturnArray(src); err == nil {
			t.Errorf("%q: no error", src)
		}
	}
	if arr, err := ParsePHPReturnArray(`<?php $x = 1;`); arr != nil || err != nil {
		t.Errorf("no return: got %v, %v", arr, err)
	}
}

func TestReadElentraSettings(t *testing.T) {
	dir := t.TempDir()
	settings := `<?php
define("DATABASE_TYPE", "mysqli");
define("DATABASE_HOST", $config->database->host);
define("DATABASE_NAME", $config->database->entrada_database);
define("DATABASE_USER", $config->database->username);
define("DATABASE_PASS", $config->database->password);
define("AUTH_DATABASE", "elentra_auth");
define("ENTRADA_URL", $config->entrada_url);
define("DEFAULT_TIMEZONE", "America/Toronto");
define("AUTH_APP_ID", "1");
define("MS_AD_TENANT_ID", "00000000-0000-0000-0000-0000000000aa");
define("MS_OAUTH_CLIENT_ID", "00000000-0000-0000-0000-0000000000bb");
define("MS_OAUTH_CLIENT_SECRET", "fake-secret-" . "concatenated");
define("MS_OAUTH_SCOPES", "offline_access User.ReadBasic.All");
`
	cfgInc := `<?php
return array(
  "entrada_url" => "https://elentra.example.edu",
  "database" => array("host" => "/var/run/mysqld/mysqld.sock", "username" => "elentra", "password" => "fake-db-password",
    "entrada_database" => "entrada", "auth_database" => "entrada_auth"),
);`
	sp := filepath.Join(dir, "settings-production.inc.php")
	os.WriteFile(sp, []byte(settings), 0o600)
	os.WriteFile(filepath.Join(dir, "config.inc.php"), []byte(cfgInc), 0o600)

	es, err := ReadElentraSettings(sp)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"database.host":       "/var/run/mysqld/mysqld.sock",
		"database.name":       "entrada",
		"database.user":       "elentra",
		"database.password":   "fake-db-password",
		"database.auth_name":  "elentra_auth", // the literal define wins over the array
		"elentra.url":         "https://elentra.example.edu",
		"elentra.timezone":    "America/Toronto",
		"elentra.app_id":      "1",
		"microsoft.tenant_id": "00000000-0000-0000-0000-0000000000aa",
		"microsoft.client_id": "00000000-0000-0000-0000-0000000000bb",
		"microsoft.scopes":    "offline_access User.ReadBasic.All",
	}
	for k, v := range want {
		if es.Values[k] != v {
			t.Errorf("%s = %q, want %q", k, es.Values[k], v)
		}
	}
	why, ok := es.Unresolved["microsoft.client_secret"]
	if !ok || !strings.Contains(why, "MS_OAUTH_CLIENT_SECRET") || !strings.Contains(why, "not a literal") {
		t.Errorf("client secret should be unresolved and named, got %q", why)
	}
	if _, ok := es.Values["microsoft.client_secret"]; ok {
		t.Error("an unresolved secret must not be guessed")
	}
	if !strings.Contains(es.Sources["database.auth_name"], "AUTH_DATABASE") {
		t.Errorf("source of database.auth_name = %q", es.Sources["database.auth_name"])
	}

	if _, err := ReadElentraSettings(filepath.Join(dir, "missing.inc.php")); err == nil {
		t.Error("a missing settings file must be an error")
	}
}

// FuzzParsePHPDefines: the reader never panics, and what it reports is sane:
// names are identifiers, resolved values carry no expression.
func FuzzParsePHPDefines(f *testing.F) {
	f.Add(`<?php define("A", "b"); define('C', 'd\'e');`)
	f.Add(`<?php define("X", $config->y . "z"); ?>html<?php define("Y", 1.5e3);`)
	f.Fuzz(func(t *testing.T, src string) {
		d := ParsePHPDefines(src)
		if len(d.Names) != len(d.Values) {
			t.Fatalf("names %d != values %d", len(d.Names), len(d.Values))
		}
		for _, n := range d.Names {
			if !validConstName(n) {
				t.Fatalf("invalid constant name %q", n)
			}
			v := d.Values[n]
			if v.Resolved && v.Expr != "" {
				t.Fatalf("%s resolved with expression %q", n, v.Expr)
			}
		}
		if utf8.ValidString(src) {
			_ = tokenizePHP(src)
		}
	})
}

// FuzzParsePHPReturnArray: never panics or loops; keys are listed once.
func FuzzParsePHPReturnArray(f *testing.F) {
	f.Add(`<?php return array("database" => array("host" => "h", "port" => 3306), "x" => [1, 2]);`)
	f.Add(`<?php return [`)
	f.Fuzz(func(t *testing.T, src string) {
		arr, err := ParsePHPReturnArray(src)
		if err != nil || arr == nil {
			return
		}
		var check func(a *PHPArray, depth int)
		check = func(a *PHPArray, depth int) {
			if depth > maxArrayDepth+1 {
				t.Fatal("too deep")
			}
			seen := map[string]bool{}
			for _, k := range a.Keys {
				if seen[k] {
					t.Fatalf("key %q listed twice", k)
				}
				seen[k] = true
				_, v := a.Values[k]
				sub, s := a.Arrays[k]
				if v == s {
					t.Fatalf("key %q is both or neither value and array", k)
				}
				if s {
					check(sub, depth+1)
				}
			}
		}
		check(arr, 0)
	})
}

// A secret whose define() or config.inc.php entry is an expression is named
// by its file and line, never by its text: the expression may hold most of
// the secret, and Unresolved reaches errors and the debug log.
func TestReadElentraSettingsNeverQuotesASecretExpression(t *testing.T) {
	dir := t.TempDir()
	sp, cp := filepath.Join(dir, "settings.inc.php"), filepath.Join(dir, "config.inc.php")
	write := func(path, src string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	read := func() *ElentraSettings {
		t.Helper()
		es, err := ReadElentraSettings(sp)
		if err != nil {
			t.Fatal(err)
		}
		for k, why := range es.Unresolved {
			if strings.Contains(why, "SuperSecret") || strings.Contains(why, "abc~") {
				t.Errorf("%s: %q quotes the secret's expression", k, why)
			}
		}
		return es
	}
	write(cp, `<?php
return array(
  "database" => array(
    "password" => "SuperSecretDbPart" . getenv("X"),
  ),
);`)
	write(sp, `<?php
define("DATABASE_HOST", $config->database->host . "x");
define("MS_OAUTH_CLIENT_SECRET", "abc~" . "SuperSecretClientPart");
`)
	es := read()
	tests := []struct{ key, want string }{
		{"microsoft.client_secret", "MS_OAUTH_CLIENT_SECRET in " + sp + ":3 is not a literal"},
		{"database.password", "'database' => 'password' in " + cp + ":4 is not a literal"},
		// What is not secret keeps its expression: it helps, and cannot leak.
		{"database.host", `DATABASE_HOST in ` + sp + `:2 is "$config->database->host . \"x\"", not a literal`},
	}
	for _, tt := range tests {
		if got := es.Unresolved[tt.key]; got != tt.want {
			t.Errorf("%s: %q, want %q", tt.key, got, tt.want)
		}
	}
	// A define() that is an expression, as the array's entry is: the
	// define is named, the same way.
	write(sp, "<?php\n\ndefine('DATABASE_PASS', 'SuperSecret' . $config->database->password);\n")
	if got, want := read().Unresolved["database.password"], "DATABASE_PASS in "+sp+":3 is not a literal"; got != want {
		t.Errorf("database.password: %q, want %q", got, want)
	}
}

// ParsePHPSettings gives the defines and includes in the order PHP runs
// them, with the path of each include whose operand is a literal.
func TestParsePHPSettings(t *testing.T) {
	src := `<?php
define("A", "1");
if (defined("ENTRADA_TESTING_CONFIG")) {
	$config_data = require ENTRADA_TESTING_CONFIG;
} else {
	$config_data = require "config.inc.php";
}
$config = new Zend_Config(require_once 'zend.inc.php', true);
require_once __DIR__ . '/settings-db.inc.php';
include(dirname(__FILE__) . "/sub/secrets.inc.php");
INCLUDE_ONCE __DIR__ . DIRECTORY_SEPARATOR . 'local' . DIRECTORY_SEPARATOR . 'x.php' ?>
<?php require dirname(__DIR__) . '/shared.inc.php';
include '/etc/elentra/absolute.inc.php';
include './cwd.inc.php';
include 'a.php' or die('no a');
include $dir . '/b.php';
include "c-$env.php";
$loader->include('not-a-construct.php');
Loader::require('nor-this.php');
// include 'commented.php';
define("B", "2");
return require __DIR__ . '/returned.php';
`
	file := "/srv/elentra/core/config/settings.inc.php"
	type inc struct {
		keyword, path string
		resolved      bool
		line          int
	}
	var got []any
	for _, st := range ParsePHPSettings(src, file) {
		if st.Include == nil {
			got = append(got, st.Define+"="+st.Value.Value)
			continue
		}
		got = append(got, inc{st.Include.Keyword, st.Include.Path, st.Include.Resolved, st.Include.Line})
	}
	want := []any{
		"A=1",
		inc{"require", "", false, 4},
		inc{"require", "config.inc.php", true, 6},
		inc{"require_once", "zend.inc.php", true, 8},
		inc{"require_once", "/srv/elentra/core/config/settings-db.inc.php", true, 9},
		inc{"include", "/srv/elentra/core/config/sub/secrets.inc.php", true, 10},
		inc{"include_once", "/srv/elentra/core/config/local/x.php", true, 11},
		inc{"require", "/srv/elentra/core/shared.inc.php", true, 12},
		inc{"include", "/etc/elentra/absolute.inc.php", true, 13},
		inc{"include", "./cwd.inc.php", true, 14},
		// PHP includes the value of `'a.php' or die()`: not a path.
		inc{"include", "", false, 15},
		inc{"include", "", false, 16},
		inc{"include", "", false, 17},
		"B=2",
		inc{"require", "/srv/elentra/core/config/returned.php", true, 22},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d statements:\n%v\nwant %d:\n%v", len(got), got, len(want), want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("statement %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	sts := ParsePHPSettings(src, file)
	if last := sts[len(sts)-1].Include; last == nil || !last.Returned {
		t.Errorf("the last include is returned: %+v", last)
	}
	if first := sts[1].Include; first.Returned || first.Expr != "ENTRADA_TESTING_CONFIG" {
		t.Errorf("the first include = %+v, want its expression ENTRADA_TESTING_CONFIG, not returned", first)
	}
	// Without the file's own path, __DIR__ is not known.
	if st := ParsePHPSettings(`<?php require __DIR__ . '/x.php';`, ""); len(st) != 1 || st[0].Include.Resolved {
		t.Errorf("__DIR__ without a file: %+v", st)
	}
}

// writeFiles writes name → content under dir, making directories.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// Settings split across files are read as PHP runs them: each literal
// include where it stands (the first define of a constant wins), relative
// to the including file; each include that is not followed is named with
// its file and line.
func TestReadElentraSettingsFollowsIncludes(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"settings.inc.php": `<?php
define("DATABASE_HOST", "db.example.edu");
require_once __DIR__ . '/settings-db.inc.php';
include 'sub/secrets.inc.php';
define("DATABASE_NAME", "defined_after_the_include");
require_once(dirname(__FILE__) . '/settings-db.inc.php');
include $dir . '/other.inc.php';
include './cwd.inc.php';
include 'missing.inc.php';
define("ENTRADA_URL", "https://elentra.example.edu");
`,
		"settings-db.inc.php": `<?php
define("DATABASE_HOST", "defined_after_the_settings_file");
define("DATABASE_NAME", "entrada_prod");
define("DATABASE_USER", "elentra");
include 'settings.inc.php';
`,
		"sub/secrets.inc.php": `<?php
require __DIR__ . '/../settings-db.inc.php';
define('MS_OAUTH_CLIENT_SECRET', 'fake-secret-from-an-include');
include 'deeper.inc.php';
`,
		"sub/deeper.inc.php": `<?php define("DEFAULT_TIMEZONE", "America/Halifax");`,
	})
	sp := filepath.Join(dir, "settings.inc.php")
	es, err := ReadElentraSettings(sp)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ key, value, file string }{
		{"database.host", "db.example.edu", "settings.inc.php"},
		{"database.name", "entrada_prod", "settings-db.inc.php"},
		{"database.user", "elentra", "settings-db.inc.php"},
		{"microsoft.client_secret", "fake-secret-from-an-include", "sub/secrets.inc.php"},
		{"elentra.timezone", "America/Halifax", "sub/deeper.inc.php"},
		{"elentra.url", "https://elentra.example.edu", "settings.inc.php"},
	} {
		if es.Values[tt.key] != tt.value || es.Files[tt.key] != filepath.Join(dir, tt.file) {
			t.Errorf("%s = %q from %s, want %q from %s", tt.key, es.Values[tt.key], es.Files[tt.key], tt.value, tt.file)
		}
	}
	if want := "DATABASE_NAME in " + filepath.Join(dir, "settings-db.inc.php") + ":3"; es.Sources["database.name"] != want {
		t.Errorf("source of database.name = %q, want %q", es.Sources["database.name"], want)
	}
	wantPaths := []string{sp, filepath.Join(dir, "settings-db.inc.php"), filepath.Join(dir, "sub/secrets.inc.php"), filepath.Join(dir, "sub/deeper.inc.php")}
	if !slices.Equal(es.Paths, wantPaths) {
		t.Errorf("Paths = %q, want %q", es.Paths, wantPaths)
	}
	wantNotRead := []string{
		sp + ":7: include $dir . '/other.inc.php': not a literal path",
		sp + ":8: include './cwd.inc.php': relative to the working directory of PHP, which the tool cannot know (write it as __DIR__ . '/cwd.inc.php')",
		sp + ":9: include 'missing.inc.php': cannot read " + filepath.Join(dir, "missing.inc.php") + ": no such file or directory",
	}
	if !slices.Equal(es.NotRead, wantNotRead) {
		t.Errorf("NotRead =\n%q\nwant\n%q", es.NotRead, wantNotRead)
	}
	// A key Elentra's settings could have given says which includes were
	// not read; another key does not.
	if why, ok := es.Why("database.password"); !ok || !strings.Contains(why, sp+":7: include $dir . '/other.inc.php': not a literal path") {
		t.Errorf("Why(database.password) = %q, %v", why, ok)
	}
	if why, ok := es.Why("sync.concurrency"); ok {
		t.Errorf("Why(sync.concurrency) = %q", why)
	}
}

// What an include may lead to is bounded: a chain deeper than
// maxIncludeDepth is cut and said, files past the limit together are an
// error, and so is an include of what is not a file.
func TestReadElentraSettingsIncludeBounds(t *testing.T) {
	t.Run("depth", func(t *testing.T) {
		dir := t.TempDir()
		files := map[string]string{}
		for i := 0; i <= maxIncludeDepth+1; i++ {
			files[fmt.Sprintf("f%d.inc.php", i)] = fmt.Sprintf("<?php\ninclude 'f%d.inc.php';\ndefine('C%d', 'x');\n", i+1, i)
		}
		writeFiles(t, dir, files)
		es, err := ReadElentraSettings(filepath.Join(dir, "f0.inc.php"))
		if err != nil {
			t.Fatal(err)
		}
		if len(es.Paths) != maxIncludeDepth+1 || len(es.NotRead) != 1 ||
			!strings.HasSuffix(es.NotRead[0], fmt.Sprintf("f%d.inc.php:2: include 'f%d.inc.php': nested more than %d includes deep", maxIncludeDepth, maxIncludeDepth+1, maxIncludeDepth)) {
			t.Errorf("read %d files, not read %q", len(es.Paths), es.NotRead)
		}
	})
	t.Run("size together", func(t *testing.T) {
		dir := t.TempDir()
		half := strings.Repeat("// padding\n", int(MaxSettingsFileSize/2/11)+1)
		writeFiles(t, dir, map[string]string{
			"settings.inc.php": "<?php\ninclude 'a.inc.php';\n" + half,
			"a.inc.php":        "<?php\n" + half,
		})
		_, err := ReadElentraSettings(filepath.Join(dir, "settings.inc.php"))
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "settings.inc.php:2: include 'a.inc.php': cannot read the file it includes") ||
			!strings.Contains(err.Error(), "Elentra's settings files hold more than 4 MiB together") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("not a file", func(t *testing.T) {
		dir := t.TempDir()
		writeFiles(t, dir, map[string]string{"settings.inc.php": "<?php\nrequire '/dev/zero';\n"})
		_, err := ReadElentraSettings(filepath.Join(dir, "settings.inc.php"))
		if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "settings.inc.php:2: require '/dev/zero': cannot read the file it includes") {
			t.Errorf("err = %v", err)
		}
	})
}

// A config.inc.php may return another file's array.
func TestReadElentraSettingsReturnedInclude(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"settings.inc.php": `<?php define("DATABASE_HOST", $config->database->host);`,
		"config.inc.php":   `<?php return require __DIR__ . '/config-production.inc.php';`,
		"config-production.inc.php": `<?php
return array(
  "database" => array("host" => "db-prod.example.edu"),
);`,
	})
	es, err := ReadElentraSettings(filepath.Join(dir, "settings.inc.php"))
	if err != nil {
		t.Fatal(err)
	}
	prod := filepath.Join(dir, "config-production.inc.php")
	if es.Values["database.host"] != "db-prod.example.edu" || es.ConfigPath != prod || es.Files["database.host"] != prod {
		t.Errorf("database.host = %q from %s (config %s), want db-prod.example.edu from %s", es.Values["database.host"], es.Files["database.host"], es.ConfigPath, prod)
	}
}

// FuzzParsePHPSettings: never panics; each include is whole (a keyword, a
// line, a path exactly when resolved), and the defines agree with
// ParsePHPDefines.
func FuzzParsePHPSettings(f *testing.F) {
	f.Add(`<?php require_once __DIR__ . '/a.php'; define("A", "b"); include "c.php";`)
	f.Add(`<?php $x = new Zend_Config(require "config.inc.php"); return include(dirname(__FILE__) . DIRECTORY_SEPARATOR . 'd.php');`)
	f.Fuzz(func(t *testing.T, src string) {
		sts := ParsePHPSettings(src, "/srv/elentra/core/config/settings.inc.php")
		lines := strings.Count(src, "\n") + 1
		var first []string
		seen := map[string]bool{}
		for _, st := range sts {
			if inc := st.Include; inc != nil {
				switch inc.Keyword {
				case "include", "include_once", "require", "require_once":
				default:
					t.Fatalf("keyword %q", inc.Keyword)
				}
				if inc.Line < 1 || inc.Line > lines {
					t.Fatalf("include at line %d of %d", inc.Line, lines)
				}
				if inc.Resolved != (inc.Path != "") {
					t.Fatalf("include resolved %v with path %q", inc.Resolved, inc.Path)
				}
				continue
			}
			if !validConstName(st.Define) {
				t.Fatalf("invalid constant name %q", st.Define)
			}
			if !seen[st.Define] {
				seen[st.Define] = true
				first = append(first, st.Define)
			}
		}
		if d := ParsePHPDefines(src); !slices.Equal(d.Names, first) {
			t.Fatalf("ParsePHPDefines names %q, ParsePHPSettings %q", d.Names, first)
		}
	})
}

// FuzzReadElentraSettings: following includes ends, within the bounds,
// whatever the settings file says (includes of itself, of each other, of
// what does not exist): each file is read once, and every include not
// followed is named.
func FuzzReadElentraSettings(f *testing.F) {
	f.Add(`<?php include 'settings.inc.php'; include __DIR__ . '/a.inc.php'; define("DATABASE_NAME", "x");`)
	f.Add(`<?php require 'missing.php'; require $x; require './a.inc.php';`)
	f.Fuzz(func(t *testing.T, src string) {
		dir := t.TempDir()
		writeFiles(t, dir, map[string]string{
			"settings.inc.php": src,
			"a.inc.php":        "<?php\ninclude 'settings.inc.php';\ninclude 'b.inc.php';\ndefine('DATABASE_HOST', 'a');\n",
			"b.inc.php":        "<?php\nrequire_once __DIR__ . '/a.inc.php';\nrequire dirname(__FILE__) . '/settings.inc.php';\n",
		})
		es, err := ReadElentraSettings(filepath.Join(dir, "settings.inc.php"))
		if err != nil {
			if !errors.Is(err, ErrNotRegular) && !errors.Is(err, ErrTooLarge) && !strings.Contains(err.Error(), "array") {
				t.Fatalf("error %v", err)
			}
			return
		}
		if len(es.Paths) > maxPHPFiles+1 {
			t.Fatalf("%d files read", len(es.Paths))
		}
		seen := map[string]bool{}
		for _, p := range es.Paths {
			if seen[p] {
				t.Fatalf("%s read twice: %q", p, es.Paths)
			}
			seen[p] = true
		}
		for _, n := range es.NotRead {
			if !strings.Contains(n, ".php:") {
				t.Fatalf("not read without its file and line: %q", n)
			}
		}
	})
}
