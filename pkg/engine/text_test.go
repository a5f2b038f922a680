package engine

import "testing"

func TestRepairDoubleEncoded(t *testing.T) {
	for in, want := range map[string]string{
		"HÃ©lÃ¨ne":                 "Hélène",
		"ZoÃ«":                     "Zoë",
		"O\u00e2\u20ac\u2122Brien": "O\u2019Brien", // a right quote through Windows-1252
		"Hélène":                   "Hélène",       // already right
		"Ãngel":                    "Ãngel",        // a genuine Ã
		"Anatomy":                  "Anatomy",
	} {
		got, changed := repairDoubleEncoded(in)
		if got != want || changed != (in != want) {
			t.Errorf("%q → %q (changed %v), want %q", in, got, changed, want)
		}
	}
	for s, want := range map[string]bool{"Zo? Smith": false, "Zo?e": true, "H??l??ne": true, "What is it?": false, "Hélène": false} {
		if lostCharacters(s) != want {
			t.Errorf("lostCharacters(%q) = %v", s, !want)
		}
	}
}
