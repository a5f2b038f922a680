package engine

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// Elentra's tables are MyISAM with 3-byte utf8, and older installs wrote
// UTF-8 through latin1 connections: names come back double-encoded
// ("HÃ©lÃ¨ne") or with characters MySQL could not store replaced by '?'.
// The tool repairs the first (it is lossless) and reports both.

// repairDoubleEncoded undoes UTF-8 that was read as Windows-1252 and encoded
// again. It changes s only when the result is valid UTF-8 and shorter, so a
// genuine "Ã" in a name (rare, and not followed by a continuation byte) is
// kept.
func repairDoubleEncoded(s string) (string, bool) {
	if !strings.ContainsAny(s, "ÃÂâÅÄ") {
		return s, false
	}
	b, err := charmap.Windows1252.NewEncoder().String(s)
	if err != nil || !utf8.ValidString(b) || utf8.RuneCountInString(b) >= utf8.RuneCountInString(s) {
		return s, false
	}
	return b, true
}

// lostCharRE finds a '?' inside a word, or several in a row: what MySQL
// stores for a character its column's charset cannot hold.
var lostCharRE = regexp.MustCompile(`\p{L}\?+\p{L}|\?\?`)

// lostCharacters reports text in which characters were probably lost.
func lostCharacters(s string) bool { return lostCharRE.MatchString(s) }
