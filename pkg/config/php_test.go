package config

import (
	"os"
	"path/filepath"
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
