package config

import (
	"reflect"
	"sort"
	"strings"
)

// EnvPrefix starts every environment variable the tool reads.
const EnvPrefix = "ELENTRA_TEAMS_"

// Kind is the type of a key's value as an admin writes it.
type Kind int

const (
	KindString Kind = iota
	KindInt
	KindBool
	KindList
	KindDuration
)

func (k Kind) String() string {
	return [...]string{"string", "whole number", "true or false", "list", "duration"}[k]
}

// KeyInfo describes one configuration key.
type KeyInfo struct {
	Path    string // database.host
	Kind    Kind
	Secret  bool // never printed, never a flag
	Default any
}

// EnvName is the environment variable for the key.
func (k KeyInfo) EnvName() string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(k.Path, ".", "_"))
}

var durationType = reflect.TypeOf(Duration(0))

// Keys lists every configuration key with its kind and default, sorted.
func Keys() []KeyInfo {
	var out []KeyInfo
	walkKeys(reflect.ValueOf(Defaults()), "", &out)
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

func walkKeys(v reflect.Value, prefix string, out *[]KeyInfo) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("mapstructure")
		if tag == "" || tag == "-" {
			continue
		}
		path := tag
		if prefix != "" {
			path = prefix + "." + tag
		}
		fv := v.Field(i)
		if f.Type.Kind() == reflect.Struct {
			walkKeys(fv, path, out)
			continue
		}
		ki := KeyInfo{Path: path, Secret: f.Tag.Get("secret") == "true"}
		switch {
		case f.Type == durationType:
			ki.Kind = KindDuration
			ki.Default = Duration(fv.Int()).String()
		case f.Type.Kind() == reflect.String:
			ki.Kind = KindString
			ki.Default = fv.String()
		case f.Type.Kind() == reflect.Int:
			ki.Kind = KindInt
			ki.Default = int(fv.Int())
		case f.Type.Kind() == reflect.Bool:
			ki.Kind = KindBool
			ki.Default = fv.Bool()
		case f.Type.Kind() == reflect.Slice:
			ki.Kind = KindList
			ki.Default = append([]string{}, fv.Interface().([]string)...)
		default:
			panic("config: unsupported field type " + f.Type.String())
		}
		*out = append(*out, ki)
	}
}

// LookupKey returns the KeyInfo of a path.
func LookupKey(path string) (KeyInfo, bool) {
	for _, k := range Keys() {
		if k.Path == path {
			return k, true
		}
	}
	return KeyInfo{}, false
}

// NearestKey returns the known key closest to an unknown one, or "" when
// nothing is close enough to be a likely typo.
func NearestKey(unknown string) string {
	best, bestD := "", 1<<30
	for _, k := range Keys() {
		d := levenshtein(strings.ToLower(unknown), k.Path)
		// the same leaf under another section is a likely mistake too
		if leaf(unknown) == leaf(k.Path) && d > 2 {
			d = 2
		}
		if d < bestD {
			best, bestD = k.Path, d
		}
	}
	if bestD > 1+len(unknown)/3 {
		return ""
	}
	return best
}

func leaf(p string) string {
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		return p[i+1:]
	}
	return p
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
