package engine

import (
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// FuzzRepairDoubleEncoded: a repair only ever undoes a double encoding. When
// it changes a name, the result is valid UTF-8, shorter in characters, and
// encodes back through Windows-1252 to exactly the name it was given (the
// repair is lossless); when it does not, the name is returned as it was.
func FuzzRepairDoubleEncoded(f *testing.F) {
	for _, s := range []string{"HÃ©lÃ¨ne", "ZoÃ«", "O\u00e2\u20ac\u2122Brien", "Hélène", "Ãngel", "Anatomy", "Ã", "Ã\x81", "Ã\u0081",
		"\xc3\xa9\xff", "Ã©Ã©Ã©", "Â\u00a0", "Ä\u0080", "Å\u00a1", "what?", "Zo?e", "H??l??ne"} {
		f.Add(s)
	}
	enc := charmap.Windows1252.NewEncoder()
	f.Fuzz(func(t *testing.T, s string) {
		out, changed := repairDoubleEncoded(s)
		if !changed {
			if out != s {
				t.Fatalf("%q → %q, yet not changed", s, out)
			}
		} else {
			if !utf8.ValidString(out) {
				t.Fatalf("%q → %q, not UTF-8", s, out)
			}
			if utf8.RuneCountInString(out) >= utf8.RuneCountInString(s) {
				t.Fatalf("%q → %q is not shorter", s, out)
			}
			// The repair is the inverse of reading UTF-8 as Windows-1252:
			// encoding the input is the output, and no character was
			// dropped or replaced on the way.
			back, err := enc.String(s)
			if err != nil || back != out {
				t.Fatalf("%q → %q, but Windows-1252 of it is %q (%v)", s, out, back, err)
			}
			if strings.ContainsRune(out, utf8.RuneError) && !strings.ContainsRune(s, utf8.RuneError) {
				t.Fatalf("%q → %q invents a replacement character", s, out)
			}
		}
		if lostCharacters(s) && !strings.Contains(s, "?") {
			t.Fatalf("%q: characters lost without a '?'", s)
		}
	})
}
