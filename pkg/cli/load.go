package cli

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"strconv"
	"strings"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"

	"github.com/elentra-teams/elentra-teams/pkg/config"
)

// Where the configuration file is looked for when --config is not given.
var defaultConfigPaths = []string{"elentra-teams.yaml", "/etc/elentra-teams/config.yaml"}

// loadedConfig is a Config plus what is needed to say where each value came from.
type loadedConfig struct {
	cfg     *config.Config
	file    string          // config file read, "" when none
	fileKey map[string]bool // keys set in the config file
	elentra *config.ElentraSettings
	flags   *pflag.FlagSet
}

// sourceOf describes where the value of key came from, for error messages.
func (l *loadedConfig) sourceOf(key string) string {
	if key == "elentra.settings_file" && l.flags != nil {
		if f := l.flags.Lookup("elentra-settings"); f != nil && f.Changed {
			return "--elentra-settings"
		}
	}
	if ki, ok := config.LookupKey(key); ok {
		if _, set := lookupEnv(ki.EnvName()); set {
			return "env " + ki.EnvName()
		}
	}
	if l.fileKey[key] {
		return "config file " + l.file
	}
	if l.elentra != nil {
		if s, ok := l.elentra.Sources[key]; ok {
			return s
		}
	}
	return ""
}

// annotate fills in the source of a configuration error, and for a key that
// Elentra's settings could not give as a literal, or may give in a file that
// was not read, says so.
func (l *loadedConfig) annotate(err error) error {
	var ce *config.Error
	if !errors.As(err, &ce) {
		return err
	}
	if ce.Source == "" {
		ce.Source = l.sourceOf(ce.Key)
	}
	if why, ok := l.elentra.Why(ce.Key); ok && ce.Problem == "not set" {
		ce.Problem = "not set (" + why + ")"
	}
	return err
}

// logElentra logs, at debug level, what Elentra's settings files did not
// give: each value that is not a literal, each include that was not read.
func (l *loadedConfig) logElentra(logger *slog.Logger) {
	if l.elentra == nil {
		return
	}
	for _, k := range l.elentra.UnresolvedKeys() {
		logger.Debug("Elentra setting not read", "key", k, "why", l.elentra.Unresolved[k])
	}
	for _, inc := range l.elentra.NotRead {
		logger.Debug("Elentra settings file not read", "include", inc)
	}
}

// loadConfig builds the Config: flag > env > config file > Elentra settings
// files > defaults, using one viper instance with every key bound to its env
// name (viper ignores env vars of keys it has not seen otherwise).
func loadConfig(flags *pflag.FlagSet, configFlag string) (*loadedConfig, error) {
	v := viper.New()
	keys := config.Keys()
	for _, k := range keys {
		v.SetDefault(k.Path, k.Default)
		if err := v.BindEnv(k.Path, k.EnvName()); err != nil {
			return nil, err
		}
	}
	l := &loadedConfig{fileKey: map[string]bool{}, flags: flags}

	// Environment values are checked here, so a typo names the variable.
	for _, k := range keys {
		if val, ok := lookupEnv(k.EnvName()); ok {
			if err := checkScalar(k, val); err != nil {
				return nil, &config.Error{Source: "env " + k.EnvName(), Key: k.Path, Problem: err.Error(), Fix: fixFor(k)}
			}
		}
	}

	path, explicit := configFlag, configFlag != ""
	if !explicit {
		if p, ok := lookupEnv(config.EnvPrefix + "CONFIG"); ok {
			path, explicit = p, true
		}
	}
	if !explicit {
		for _, p := range defaultConfigPaths {
			if _, err := os.Stat(p); err == nil {
				path = p
				break
			}
		}
	}
	if path != "" {
		data, err := config.ReadFile(path, config.MaxConfigFileSize)
		if errors.Is(err, config.ErrNotRegular) || errors.Is(err, config.ErrTooLarge) {
			return nil, &config.Error{Source: "config file " + path, Problem: errors.Unwrap(err).Error(),
				Fix: "point --config (or ELENTRA_TEAMS_CONFIG) at the YAML config file, a few KiB"}
		}
		if err != nil {
			return nil, &config.Error{Source: "config file " + path, Problem: "cannot read it: " + pathErr(err),
				Fix: "check --config (or ELENTRA_TEAMS_CONFIG) and the file's permissions"}
		}
		if err := checkConfigFile(path, data, l.fileKey); err != nil {
			return nil, err
		}
		v.SetConfigType("yaml")
		if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
			return nil, &config.Error{Source: "config file " + path, Problem: "not valid YAML: " + err.Error(), Fix: "fix the YAML syntax"}
		}
		l.file = path
	}

	if f := flags.Lookup("elentra-settings"); f != nil {
		if err := v.BindPFlag("elentra.settings_file", f); err != nil {
			return nil, err
		}
	}
	if sp := v.GetString("elentra.settings_file"); sp != "" {
		es, err := config.ReadElentraSettings(sp)
		if err != nil {
			l.elentra = nil
			return nil, &config.Error{Source: l.sourceOf("elentra.settings_file"), Key: "elentra.settings_file", Problem: pathErr(err),
				Fix: "point it at Elentra's settings.inc.php (or settings-production.inc.php), readable by this user"}
		}
		l.elentra = es
		for key, val := range es.Values {
			k, _ := config.LookupKey(key)
			if err := checkScalar(k, val); err != nil {
				return nil, &config.Error{Source: es.Sources[key], Key: key, Problem: err.Error(), Fix: "set " + key + " in the config file to override it"}
			}
			// Elentra's values sit just above the defaults: SetDefault
			// replaces the default, and file, env and flags still win.
			v.SetDefault(key, val)
		}
	}

	cfg := config.Defaults()
	err := v.Unmarshal(&cfg, viper.DecodeHook(mapstructure.ComposeDecodeHookFunc(durationHook, listHook)))
	if err != nil {
		return nil, &config.Error{Problem: err.Error(), Fix: "check the types of the keys in the config file"}
	}
	cfg.File = l.file
	l.cfg = &cfg
	// Read what secret files can be read; a command reports a problem only
	// with the files it needs (Factory.Config), so `crontab` works before
	// the secrets exist.
	_ = cfg.ReadSecretFiles(config.AllNeeds)
	return l, nil
}

// lookupEnv treats an empty variable as unset, as viper does.
func lookupEnv(name string) (string, bool) {
	v, ok := os.LookupEnv(name)
	return v, ok && v != ""
}

func pathErr(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Path + ": " + pe.Err.Error()
	}
	return err.Error()
}

// checkScalar checks a value given as text (env, Elentra settings) against the key's kind.
func checkScalar(k config.KeyInfo, val string) error {
	switch k.Kind {
	case config.KindInt:
		if _, err := strconv.Atoi(strings.TrimSpace(val)); err != nil {
			return fmt.Errorf("%q is not a whole number", val)
		}
	case config.KindBool:
		if _, err := strconv.ParseBool(strings.TrimSpace(val)); err != nil {
			return fmt.Errorf("%q is not true or false", val)
		}
	case config.KindDuration:
		if _, err := config.ParseDuration(val); err != nil {
			return err
		}
	}
	return nil
}

func fixFor(k config.KeyInfo) string {
	switch k.Kind {
	case config.KindInt:
		return fmt.Sprintf("write a whole number (default %v)", k.Default)
	case config.KindBool:
		return "write true or false"
	case config.KindDuration:
		return fmt.Sprintf("write a duration such as 336h or 14d (default %v)", k.Default)
	case config.KindList:
		return "write a list, e.g. [a, b] in YAML or \"a b\" in the environment"
	}
	return ""
}

// checkConfigFile walks the YAML so that an unknown key or a value of the
// wrong type is reported with its line, the key and the nearest known key.
func checkConfigFile(path string, data []byte, seen map[string]bool) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return &config.Error{Source: "config file " + path, Problem: "not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: "), Fix: "fix the YAML syntax"}
	}
	if len(doc.Content) == 0 {
		return nil // empty file
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return &config.Error{Source: fmt.Sprintf("config file %s: line %d", path, root.Line), Problem: "the file must be a mapping of sections (database:, microsoft:, …)", Fix: "see docs/configuration.md"}
	}
	sections := map[string]bool{}
	for _, k := range config.Keys() {
		if i := strings.IndexByte(k.Path, '.'); i > 0 {
			sections[k.Path[:i]] = true
		}
	}
	return walkYAML(path, root, "", sections, seen)
}

func walkYAML(path string, n *yaml.Node, prefix string, sections map[string]bool, seen map[string]bool) error {
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		key := kn.Value
		full := key
		if prefix != "" {
			full = prefix + "." + key
		}
		src := fmt.Sprintf("config file %s: line %d", path, kn.Line)
		if prefix == "" && sections[key] {
			if vn.Kind == yaml.ScalarNode && (vn.Tag == "!!null" || vn.Value == "") {
				continue // an empty section
			}
			if vn.Kind != yaml.MappingNode {
				return &config.Error{Source: src, Key: key, Problem: "must be a section of keys", Fix: "indent its keys under " + key + ":"}
			}
			if err := walkYAML(path, vn, key, sections, seen); err != nil {
				return err
			}
			continue
		}
		k, ok := config.LookupKey(full)
		if !ok {
			fix := "see docs/configuration.md for the keys"
			if near := config.NearestKey(full); near != "" {
				fix = fmt.Sprintf("did you mean %q?", near)
			}
			return &config.Error{Source: src, Key: full, Problem: "unknown key", Fix: fix}
		}
		seen[full] = true
		if err := checkYAMLValue(k, vn); err != nil {
			return &config.Error{Source: fmt.Sprintf("config file %s: line %d", path, vn.Line), Key: full, Problem: err.Error(), Fix: fixFor(k)}
		}
	}
	return nil
}

func checkYAMLValue(k config.KeyInfo, n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if k.Kind == config.KindList {
		if n.Kind == yaml.SequenceNode {
			for _, c := range n.Content {
				if c.Kind != yaml.ScalarNode {
					return fmt.Errorf("list entries must be plain values")
				}
			}
			return nil
		}
		if n.Kind == yaml.ScalarNode {
			return nil
		}
		return fmt.Errorf("is a %s, not a list", nodeKind(n))
	}
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("is a %s, not a %s", nodeKind(n), k.Kind)
	}
	switch k.Kind {
	case config.KindInt:
		if n.Tag != "!!int" {
			return fmt.Errorf("%q is not a whole number", n.Value)
		}
	case config.KindBool:
		if n.Tag != "!!bool" {
			return fmt.Errorf("%q is not true or false", n.Value)
		}
	case config.KindDuration:
		if _, err := config.ParseDuration(n.Value); err != nil {
			return err
		}
	}
	return nil
}

func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	}
	return "value"
}

var durationType = reflect.TypeOf(config.Duration(0))

// durationHook decodes "14d" and "336h" into config.Duration.
func durationHook(from, to reflect.Type, data any) (any, error) {
	if to != durationType {
		return data, nil
	}
	switch d := data.(type) {
	case string:
		return config.ParseDuration(d)
	case config.Duration:
		return d, nil
	}
	return data, nil
}

// listHook decodes a string into a list, split on commas and spaces, as
// environment variables and Elentra's MS_OAUTH_SCOPES give lists.
func listHook(from, to reflect.Type, data any) (any, error) {
	if from.Kind() != reflect.String || to.Kind() != reflect.Slice {
		return data, nil
	}
	return strings.FieldsFunc(data.(string), func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' }), nil
}
