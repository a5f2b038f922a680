package auth

import (
	"fmt"
	"time"
)

// ZoneMismatch is the first instant at which two zones' UTC offsets differ.
type ZoneMismatch struct {
	At               time.Time
	OffsetA, OffsetB int // seconds east of UTC
	NameA, NameB     string
}

func (m *ZoneMismatch) Error() string {
	return fmt.Sprintf("%s is UTC%s but %s is UTC%s on %s", m.NameA, fmtOffset(m.OffsetA), m.NameB, fmtOffset(m.OffsetB), m.At.Format("2006-01-02"))
}

func fmtOffset(sec int) string {
	sign := "+"
	if sec < 0 {
		sign, sec = "-", -sec
	}
	return fmt.Sprintf("%s%02d:%02d", sign, sec/3600, sec%3600/60)
}

// CompareZoneOffsets checks that two zones keep the same UTC offset at every
// hour from `from` over `span` (a year covers both daylight-saving changes).
// Meetings are created in the Outlook zone and Elentra's times are read in
// its own: if the offsets ever differ, a meeting lands at the wrong hour.
func CompareZoneOffsets(a, b *time.Location, from time.Time, span time.Duration) *ZoneMismatch {
	start := from.Truncate(time.Hour)
	for t := start; t.Before(start.Add(span)); t = t.Add(time.Hour) {
		_, oa := t.In(a).Zone()
		_, ob := t.In(b).Zone()
		if oa != ob {
			return &ZoneMismatch{At: t, OffsetA: oa, OffsetB: ob, NameA: a.String(), NameB: b.String()}
		}
	}
	return nil
}
