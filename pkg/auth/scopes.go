package auth

import (
	"sort"
	"strings"
)

// graphPrefix is how the identity platform may spell Graph's scopes.
const graphPrefix = "https://graph.microsoft.com/"

// NormalizeScopes turns a token response's `scope` into plain scope names:
// prefixes removed, URL-encoded spaces decoded, case folded for comparison,
// and offline_access dropped (Microsoft never lists it). A server may omit
// `scope` altogether: the result is then empty.
func NormalizeScopes(granted string) []string {
	granted = strings.ReplaceAll(granted, "%20", " ")
	granted = strings.ReplaceAll(granted, "+", " ")
	seen := map[string]bool{}
	var out []string
	for _, s := range strings.Fields(granted) {
		s = strings.ReplaceAll(s, "%2F", "/")
		s = strings.ReplaceAll(s, "%3A", ":")
		s = strings.TrimPrefix(strings.TrimPrefix(s, graphPrefix), "https://graph.microsoft.com//")
		k := strings.ToLower(s)
		if k == "offline_access" || k == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i]) < strings.ToLower(out[j]) })
	return out
}

// MissingScopes lists the required scopes a token was not granted, ignoring
// offline_access (never listed) and openid/profile/email. When the server
// did not say what it granted, nothing is reported missing.
func MissingScopes(required, granted []string) []string {
	if len(granted) == 0 {
		return nil
	}
	have := map[string]bool{}
	for _, g := range granted {
		have[strings.ToLower(g)] = true
	}
	var missing []string
	for _, r := range required {
		k := strings.ToLower(strings.TrimPrefix(r, graphPrefix))
		switch k {
		case "offline_access", "openid", "profile", "email":
			continue
		}
		if !have[k] {
			missing = append(missing, strings.TrimPrefix(r, graphPrefix))
		}
	}
	return missing
}
