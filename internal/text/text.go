// Package text holds the small text helpers the domain packages and the
// command layer share: cutting a text to a length, keeping it on one line,
// saying how long ago, listing ids, counting in words.
package text

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Truncate keeps the first n characters of s.
func Truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// Shorten keeps at most n characters of s, the last of them "…" when s is
// cut.
func Shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return Truncate(s, n-1) + "…"
}

// OneLine keeps s on one line, each run of white space (line breaks
// included) one space, as cron mail and log readers want an error.
func OneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// Ago says how long d is, in one unit: "less than a minute", minutes, hours
// up to two days, then days.
func Ago(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "less than a minute"
	case d < time.Hour:
		return fmt.Sprintf("%d minutes", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}

// JoinInts lists ids as "1, 2, 3", in their order.
func JoinInts(ids []int) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = fmt.Sprint(id)
	}
	return strings.Join(s, ", ")
}

// Plural counts n things: "1 meeting", "2 meetings".
func Plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
