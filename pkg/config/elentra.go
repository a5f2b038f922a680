package config

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ElentraSettings is what Elentra's own PHP configuration says, as config
// keys: the define() constants of settings*.inc.php and the array returned by
// the config.inc.php beside it.
type ElentraSettings struct {
	SettingsPath string
	// ConfigPath is the config.inc.php that was read, "" when there is none.
	ConfigPath string
	// Values maps config keys (database.host) to the values found.
	Values map[string]string
	// Sources maps config keys to where their value was found, for messages.
	Sources map[string]string
	// Files maps config keys to the file their value was read from.
	Files map[string]string
	// Unresolved maps config keys to a description of the PHP expression that
	// would have given their value but is not a literal.
	Unresolved map[string]string
}

// elentraDefines maps Elentra's PHP constants to configuration keys.
var elentraDefines = []struct{ constant, key string }{
	{"MS_AD_TENANT_ID", "microsoft.tenant_id"},
	{"MS_OAUTH_CLIENT_ID", "microsoft.client_id"},
	{"MS_OAUTH_CLIENT_SECRET", "microsoft.client_secret"},
	{"MS_OAUTH_SCOPES", "microsoft.scopes"},
	{"DEFAULT_TIMEZONE", "elentra.timezone"},
	{"AUTH_APP_ID", "elentra.app_id"},
	{"ENTRADA_URL", "elentra.url"},
	{"DATABASE_HOST", "database.host"},
	{"DATABASE_NAME", "database.name"},
	{"DATABASE_USER", "database.user"},
	{"DATABASE_PASS", "database.password"},
	{"AUTH_DATABASE", "database.auth_name"},
}

// elentraArray maps config.inc.php's array entries to configuration keys.
var elentraArray = []struct {
	path []string
	key  string
}{
	{[]string{"entrada_url"}, "elentra.url"},
	{[]string{"database", "host"}, "database.host"},
	{[]string{"database", "username"}, "database.user"},
	{[]string{"database", "password"}, "database.password"},
	{[]string{"database", "entrada_database"}, "database.name"},
	{[]string{"database", "auth_database"}, "database.auth_name"},
}

// ReadElentraSettings reads an Elentra settings*.inc.php file and, when it
// exists, the config.inc.php in the same directory. A literal define() wins;
// a define() whose value is an expression (Elentra 1.9 reads most of them from
// the config.inc.php array) falls back to the array; what neither gives as a
// literal is listed in Unresolved, never guessed.
func ReadElentraSettings(path string) (*ElentraSettings, error) {
	src, err := ReadFile(path, MaxSettingsFileSize)
	if err != nil {
		return nil, fmt.Errorf("cannot read Elentra settings file: %w", err)
	}
	es := &ElentraSettings{
		SettingsPath: path,
		Values:       map[string]string{},
		Sources:      map[string]string{},
		Files:        map[string]string{},
		Unresolved:   map[string]string{},
	}
	defs := ParsePHPDefines(string(src))

	var arr *PHPArray
	cfgPath := filepath.Join(filepath.Dir(path), "config.inc.php")
	if cfgPath != filepath.Clean(path) {
		if csrc, err := ReadFile(cfgPath, MaxSettingsFileSize); err == nil {
			arr, err = ParsePHPReturnArray(string(csrc))
			if err != nil {
				return nil, fmt.Errorf("%s: %v", cfgPath, err)
			}
			es.ConfigPath = cfgPath
		} else if !os.IsNotExist(err) {
			return nil, fmt.Errorf("cannot read Elentra config file: %w", err)
		}
	}

	fromArray := map[string]PHPValue{}
	if arr != nil {
		for _, m := range elentraArray {
			if v, ok := arr.Lookup(m.path...); ok {
				fromArray[m.key] = v
				if v.Resolved {
					es.Values[m.key] = v.Value
					es.Sources[m.key] = fmt.Sprintf("'%s' in %s:%d", strings.Join(m.path, "' => '"), cfgPath, v.Line)
					es.Files[m.key] = cfgPath
				} else {
					es.Unresolved[m.key] = notLiteral(fmt.Sprintf("'%s' in %s:%d", strings.Join(m.path, "' => '"), cfgPath, v.Line), m.key, v)
				}
			}
		}
	}
	for _, m := range elentraDefines {
		v, ok := defs.Values[m.constant]
		if !ok {
			continue
		}
		if v.Resolved {
			es.Values[m.key] = v.Value
			es.Sources[m.key] = fmt.Sprintf("%s in %s:%d", m.constant, path, v.Line)
			es.Files[m.key] = path
			delete(es.Unresolved, m.key)
			continue
		}
		if av, ok := fromArray[m.key]; ok && av.Resolved {
			continue // the array gave it
		}
		es.Unresolved[m.key] = notLiteral(fmt.Sprintf("%s in %s:%d", m.constant, path, v.Line), m.key, v)
	}
	return es, nil
}

// notLiteral says that the value at where is an expression. It quotes the
// expression only for a key that is not secret: the text of a secret's
// expression may hold most of the secret ("abc~" . "…"), and what is said
// here reaches errors and the debug log.
func notLiteral(where, key string, v PHPValue) string {
	if k, ok := LookupKey(key); ok && k.Secret {
		return where + " is not a literal"
	}
	return fmt.Sprintf("%s is %q, not a literal", where, v.Expr)
}

// UnresolvedKeys returns the keys of Unresolved in order.
func (es *ElentraSettings) UnresolvedKeys() []string {
	keys := make([]string, 0, len(es.Unresolved))
	for k := range es.Unresolved {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
