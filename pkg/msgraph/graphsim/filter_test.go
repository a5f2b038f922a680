package graphsim

import "testing"

func TestFilterExpressions(t *testing.T) {
	member := map[string]any{
		"userId": "AAA", "displayName": "Harry O'Neil", "roles": []any{"owner"},
		"singleValueExtendedProperties": []any{map[string]any{"id": "String {x} Name K", "value": "v1"}},
	}
	cases := []struct {
		filter string
		want   bool
	}{
		{"userId eq 'aaa'", true},
		{"(microsoft.graph.aadUserConversationMember/userId eq 'AAA')", true},
		{"userId ne 'aaa'", false},
		{"displayName eq 'Harry O''Neil'", true},
		{"userId in ('bbb', 'aaa')", true},
		{"userId eq 'bbb' or displayName eq 'harry o''neil'", true},
		{"userId eq 'aaa' and displayName eq 'x'", false},
		{"not (userId eq 'aaa')", false},
		{"startswith(displayName,'harry')", true},
		{"roles/any(r:r eq 'owner')", true},
		{"roles/all(r:r eq 'guest')", false},
		{"singleValueExtendedProperties/Any(ep: ep/id eq 'String {x} Name K' and ep/value eq 'v1')", true},
		{"singleValueExtendedProperties/Any(ep: ep/id eq 'String {x} Name K' and ep/value eq 'v2')", false},
		{"missing eq null", true},
	}
	for _, tc := range cases {
		e, _, err := parseFilter(tc.filter)
		if err != nil {
			t.Errorf("%s: %v", tc.filter, err)
			continue
		}
		if got := (&compiledFilter{e}).match(member); got != tc.want {
			t.Errorf("%s = %v, want %v", tc.filter, got, tc.want)
		}
	}
	for _, bad := range []string{"userId eq", "userId eq 'open", "userId eq 'a')", "frobnicate(userId)", "userId = 'a'"} {
		if _, _, err := parseFilter(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
