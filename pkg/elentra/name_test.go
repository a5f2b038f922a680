package elentra

import "testing"

func TestUserName(t *testing.T) {
	for _, tc := range []struct {
		u              User
		full, fallback string
	}{
		{User{Username: "jdoe", FirstName: "Jane", LastName: "Doe"}, "Jane Doe", "Jane Doe"},
		{User{Username: "mononym", FirstName: " ", LastName: "Cher "}, "Cher", "Cher"},
		{User{Username: "medtech"}, "", "medtech"},
	} {
		if got := tc.u.FullName(); got != tc.full {
			t.Errorf("%+v: FullName() = %q, want %q", tc.u, got, tc.full)
		}
		if got := tc.u.Name(); got != tc.fallback {
			t.Errorf("%+v: Name() = %q, want %q", tc.u, got, tc.fallback)
		}
	}
}
