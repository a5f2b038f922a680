package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/elentra-teams/elentra-teams/internal/text"
)

// ElentraSettings is what Elentra's own PHP configuration says, as config
// keys: the define() constants of settings*.inc.php (and of the files it
// includes) and the array returned by the config.inc.php beside it.
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
	// Paths are the files read: the settings file, the files it includes,
	// config.inc.php.
	Paths []string
	// NotRead names each include that was not followed (file, line, the
	// include) and why.
	NotRead []string
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

// Bounds of following Elentra's includes: PHP has none, but real settings
// files include one or two others.
const (
	maxIncludeDepth = 8
	maxPHPFiles     = 32
)

// ReadElentraSettings reads an Elentra settings*.inc.php file and, when it
// exists, the config.inc.php in the same directory. A literal define() wins;
// a define() whose value is an expression (Elentra 1.9 reads most of them from
// the config.inc.php array) falls back to the array; what neither gives as a
// literal is listed in Unresolved, never guessed.
//
// Settings split across files are followed as PHP runs them: an include,
// include_once, require or require_once whose path is a literal (see
// PHPInclude.Path) is read where it stands, so that its defines take
// effect there (the first define of a constant wins, as in PHP), and a
// config.inc.php that returns `require` of another file gives that file's
// array. A relative path is read from the including file's directory,
// where PHP finds it when no directory of its include_path holds one of the
// name. What is not followed (a path that is an expression, one relative to
// PHP's working directory, a missing file) is listed in NotRead with its
// file and line. Together the files may hold MaxSettingsFileSize.
func ReadElentraSettings(path string) (*ElentraSettings, error) {
	es := &ElentraSettings{
		SettingsPath: path,
		Values:       map[string]string{},
		Sources:      map[string]string{},
		Files:        map[string]string{},
		Unresolved:   map[string]string{},
	}
	r := &phpFiles{es: es, left: MaxSettingsFileSize, seen: map[string]bool{}, defs: map[string]phpDefine{}}
	src, err := r.read(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read Elentra settings file: %w", err)
	}
	if err := r.defines(path, src, 0); err != nil {
		return nil, err
	}

	var arr *PHPArray
	cfgPath := filepath.Join(filepath.Dir(path), "config.inc.php")
	if cfgPath != filepath.Clean(path) {
		if csrc, err := r.read(cfgPath); err == nil {
			if arr, cfgPath, err = r.returnedArray(cfgPath, csrc, 0); err != nil {
				return nil, err
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
		d, ok := r.defs[m.constant]
		if !ok {
			continue
		}
		v := d.value
		if v.Resolved {
			es.Values[m.key] = v.Value
			es.Sources[m.key] = fmt.Sprintf("%s in %s:%d", m.constant, d.file, v.Line)
			es.Files[m.key] = d.file
			delete(es.Unresolved, m.key)
			continue
		}
		if av, ok := fromArray[m.key]; ok && av.Resolved {
			continue // the array gave it
		}
		es.Unresolved[m.key] = notLiteral(fmt.Sprintf("%s in %s:%d", m.constant, d.file, v.Line), m.key, v)
	}
	return es, nil
}

// phpDefine is the define() of a constant that took effect, and its file.
type phpDefine struct {
	value PHPValue
	file  string
}

// phpFiles reads Elentra's PHP files and follows their includes, within
// the bounds.
type phpFiles struct {
	es *ElentraSettings
	// left is how many bytes the files not read yet may hold together.
	left int64
	// seen holds the absolute paths of the files read.
	seen map[string]bool
	// defs are the constants defined so far: the first define wins.
	defs map[string]phpDefine
}

// read reads one file within what is left of the limit, and records it.
func (r *phpFiles) read(path string) ([]byte, error) {
	src, err := ReadFile(path, r.left)
	if errors.Is(err, ErrTooLarge) && r.left < MaxSettingsFileSize {
		return nil, &os.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w: with the files read before it, Elentra's settings files hold more than %s together",
			ErrTooLarge, byteSize(MaxSettingsFileSize))}
	}
	if err != nil {
		return nil, err
	}
	r.left -= int64(len(src))
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	if !r.seen[abs] {
		r.seen[abs] = true
		r.es.Paths = append(r.es.Paths, path)
	}
	return src, nil
}

// defines takes the define()s of one file in order, reading each file it
// includes where the include stands.
func (r *phpFiles) defines(path string, src []byte, depth int) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = ""
	}
	for _, st := range ParsePHPSettings(string(src), abs) {
		if st.Include == nil {
			if _, dup := r.defs[st.Define]; !dup {
				r.defs[st.Define] = phpDefine{value: st.Value, file: path}
			}
			continue
		}
		inc, isrc, err := r.follow(path, st.Include, depth)
		if err != nil {
			return err
		}
		if inc == "" {
			continue
		}
		if err := r.defines(inc, isrc, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// returnedArray is the array a config.inc.php returns: its own, or that of
// the file it returns with `return require …`.
func (r *phpFiles) returnedArray(path string, src []byte, depth int) (*PHPArray, string, error) {
	arr, err := ParsePHPReturnArray(string(src))
	if err != nil {
		return nil, path, fmt.Errorf("%s: %v", path, err)
	}
	if arr != nil {
		return arr, path, nil
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = ""
	}
	for _, st := range ParsePHPSettings(string(src), abs) {
		if st.Include == nil || !st.Include.Returned {
			continue
		}
		inc, isrc, err := r.follow(path, st.Include, depth)
		if err != nil || inc == "" {
			return nil, path, err
		}
		return r.returnedArray(inc, isrc, depth+1)
	}
	return nil, path, nil
}

// follow reads the file an include names, when it is to be read: it
// returns "" for one read before (PHP's _once skips it; run again, it
// defines nothing new, since the first define wins) and for one that is
// not followed, which is noted. A file that is not a regular one, or one
// past the limit, is an error, as the settings file itself is.
func (r *phpFiles) follow(from string, inc *PHPInclude, depth int) (string, []byte, error) {
	where := fmt.Sprintf("%s:%d: %s %s", from, inc.Line, inc.Keyword, text.Shorten(text.OneLine(inc.Expr), 120))
	p := inc.Path
	switch {
	case !inc.Resolved:
		return r.notRead(where, "not a literal path")
	case strings.Contains(p, "://"):
		return r.notRead(where, "a stream, not a file")
	case p == "." || p == ".." || strings.HasPrefix(p, "./") || strings.HasPrefix(p, "../"):
		return r.notRead(where, "relative to the working directory of PHP, which the tool cannot know (write it as __DIR__ . '/"+strings.TrimPrefix(p, "./")+"')")
	case strings.ContainsRune(p, 0):
		return r.notRead(where, "not a path")
	case !filepath.IsAbs(p):
		p = filepath.Join(filepath.Dir(from), p)
	}
	if abs, err := filepath.Abs(p); err == nil && r.seen[abs] {
		return "", nil, nil
	}
	switch {
	case depth+1 > maxIncludeDepth:
		return r.notRead(where, fmt.Sprintf("nested more than %d includes deep", maxIncludeDepth))
	case len(r.seen) >= maxPHPFiles:
		return r.notRead(where, fmt.Sprintf("more than %d files", maxPHPFiles))
	}
	src, err := r.read(p)
	switch {
	case errors.Is(err, ErrNotRegular) || errors.Is(err, ErrTooLarge):
		// Not an *os.PathError: the message names the include, not only
		// the file.
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = fmt.Errorf("%s: %w", pe.Path, pe.Err)
		}
		return "", nil, fmt.Errorf("%s: cannot read the file it includes: %w", where, err)
	case err != nil:
		return r.notRead(where, "cannot read "+pathErrText(err))
	}
	return p, src, nil
}

func (r *phpFiles) notRead(where, why string) (string, []byte, error) {
	r.es.NotRead = append(r.es.NotRead, where+": "+why)
	return "", nil, nil
}

// pathErrText says what went wrong with a path: "x.php: no such file or
// directory".
func pathErrText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Path + ": " + pe.Err.Error()
	}
	return err.Error()
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

// Why says why Elentra's settings did not give key, when they might have:
// its define() or array entry is not a literal (Unresolved), or, for a key
// that Elentra's settings can give, an include that was not read may have
// set it (NotRead). A nil ElentraSettings (none were read) says nothing.
func (es *ElentraSettings) Why(key string) (string, bool) {
	if es == nil {
		return "", false
	}
	var parts []string
	if why, ok := es.Unresolved[key]; ok {
		parts = append(parts, why)
	}
	if len(es.NotRead) > 0 && elentraKey(key) {
		parts = append(parts, "Elentra's settings include a file that was not read ("+strings.Join(es.NotRead, "; ")+")")
	}
	return strings.Join(parts, "; "), len(parts) > 0
}

// elentraKey reports whether Elentra's settings files can give key.
func elentraKey(key string) bool {
	for _, m := range elentraDefines {
		if m.key == key {
			return true
		}
	}
	for _, m := range elentraArray {
		if m.key == key {
			return true
		}
	}
	return false
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
