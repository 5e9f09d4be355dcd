package model

import (
	"fmt"
	"regexp"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"
)

// Date is a calendar day from a file (2026-05-30). It means the instant the
// day begins in alm.yaml's timeZone: Midnight gives that instant. The
// embedded Time is the day at 00:00 UTC, a label for comparing and ordering
// days, not the instant anything happens.
type Date struct{ time.Time }

// ParseDate reads YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("date %q is not YYYY-MM-DD", s)
	}
	return Date{t}, nil
}

// MustDate is ParseDate for tests and literals; it panics on a bad date.
func MustDate(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return d.Format(time.DateOnly)
}

func (d *Date) UnmarshalYAML(n *yaml.Node) error {
	if n.Tag == "!!null" || n.Value == "" {
		*d = Date{}
		return nil
	}
	p, err := ParseDate(n.Value)
	if err != nil {
		return &PositionError{Line: n.Line, Column: n.Column, Err: err}
	}
	*d = p
	return nil
}

func (d Date) MarshalYAML() (any, error) { return d.String(), nil }

func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	return []byte(strconv.Quote(d.String())), nil
}

// AddDays returns the calendar day n days later (earlier when n < 0).
func (d Date) AddDays(n int) Date { return Date{d.Time.AddDate(0, 0, n)} }

// Midnight returns the instant day d begins in zone: its first instant whose
// wall clock reads that date. That is midnight, except in the few zones whose
// clocks change at midnight: when they skip it, the day begins at the jump
// (01:00); when they repeat it, at the first of the two midnights.
func (d Date) Midnight(zone *time.Location) time.Time {
	y, m, day := d.Date()
	t := time.Date(y, m, day, 0, 0, 0, 0, zone)
	if t.Day() != day {
		// time.Date reads a skipped midnight with the offset after the jump,
		// which lands on the evening before: the day begins when that offset ends.
		_, end := t.ZoneBounds()
		return end
	}
	if start, _ := t.ZoneBounds(); !start.IsZero() {
		// time.Date may pick the second of two midnights: when the instant
		// before this offset began already read this date, take the first.
		if before := start.Add(-time.Nanosecond); before.Day() == day {
			_, was := before.Zone()
			_, is := t.Zone()
			return t.Add(-time.Duration(was-is) * time.Second)
		}
	}
	return t
}

// Plus returns the instant x after day d begins in zone. Every whole 24
// hours of x is a calendar day there (23 or 25 hours long across a daylight
// saving change), so a date plus 30d is the start of the day 30 days later;
// the hours left over are hours. It cannot overflow: a Date is at most
// 9999-12-31 and a parsed Duration at most MaxDuration (36500 days), so the
// day is at most in the year 10099, far inside time.Time.
func (d Date) Plus(x Duration, zone *time.Location) time.Time {
	days, rest := x.split()
	return d.AddDays(days).Midnight(zone).Add(rest)
}

// Minus returns the instant x before day d begins in zone, counted as Plus counts.
func (d Date) Minus(x Duration, zone *time.Location) time.Time {
	days, rest := x.split()
	return d.AddDays(-days).Midnight(zone).Add(-rest)
}

// Duration is a span written as a number and a unit: 12h, 30d, 2w, or a sum
// such as 1w2d. It is kept as hours; added to a date (Date.Plus) every whole
// 24 hours count as one calendar day of alm.yaml's timeZone, so 48h and 2d
// are the same span.
type Duration struct{ D time.Duration }

// MaxDuration is the longest duration a file may give: 100 years (36500d).
// No retention, grace or lifetime is longer, and bounding it keeps every
// date plus a duration far from the limits of time.Duration (292 years) and
// of Active Directory's accountExpires.
const MaxDuration = 36500 * 24 * time.Hour

// split returns the whole days in d and the hours left over.
func (d Duration) split() (int, time.Duration) {
	const day = 24 * time.Hour
	return int(d.D / day), d.D % day
}

var durationPart = regexp.MustCompile(`(\d+)([hdw])`)
var durationWhole = regexp.MustCompile(`^(\d+[hdw])+$`)

// ParseDuration reads 12h, 30d, 2w or sums of them, up to MaxDuration.
func ParseDuration(s string) (Duration, error) {
	if !durationWhole.MatchString(s) {
		return Duration{}, fmt.Errorf("duration %q is not a number with a unit h, d or w (e.g. 30d)", quoteShort(s))
	}
	tooLong := fmt.Errorf("duration %q is longer than 36500d (100 years), the longest alm accepts: write a shorter span", quoteShort(s))
	var total time.Duration
	for _, m := range durationPart.FindAllStringSubmatch(s, -1) {
		unit := time.Hour
		switch m[2] {
		case "d":
			unit = 24 * time.Hour
		case "w":
			unit = 7 * 24 * time.Hour
		}
		// Compare before multiplying and adding, so that neither can wrap.
		n, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil || n > int64((MaxDuration-total)/unit) {
			return Duration{}, tooLong
		}
		total += time.Duration(n) * unit
	}
	return Duration{total}, nil
}

// quoteShort keeps a value quoted in a message to a readable length.
func quoteShort(s string) string {
	if len(s) > 40 {
		return s[:37] + "..."
	}
	return s
}

// MustDuration is ParseDuration for tests and literals; it panics on a bad value.
func MustDuration(s string) Duration {
	d, err := ParseDuration(s)
	if err != nil {
		panic(err)
	}
	return d
}

func (d Duration) Std() time.Duration { return d.D }
func (d Duration) IsZero() bool       { return d.D == 0 }

func (d Duration) String() string {
	day := 24 * time.Hour
	switch {
	case d.D == 0:
		return "0d"
	case d.D%day == 0:
		return strconv.FormatInt(int64(d.D/day), 10) + "d"
	default:
		return strconv.FormatInt(int64(d.D/time.Hour), 10) + "h"
	}
}

func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	p, err := ParseDuration(n.Value)
	if err != nil {
		return &PositionError{Line: n.Line, Column: n.Column, Err: err}
	}
	*d = p
	return nil
}

func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

func (d Duration) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(d.String())), nil }

// Interval is how long the reconciler waits before it alerts: a number
// and a unit m (minutes), h, d or w, or a sum such as 1h30m. Unlike a
// Duration it is never added to a date, and it takes minutes, which a
// lease or a schedule is measured in.
type Interval struct{ D time.Duration }

var intervalPart = regexp.MustCompile(`(\d+)([mhdw])`)
var intervalWhole = regexp.MustCompile(`^(\d+[mhdw])+$`)

// ParseInterval reads 30m, 2h, 1d, 1w or sums of them, up to MaxDuration.
func ParseInterval(s string) (Interval, error) {
	if !intervalWhole.MatchString(s) {
		return Interval{}, fmt.Errorf("interval %q is not a number with a unit m, h, d or w (e.g. 30m or 2h)", quoteShort(s))
	}
	var total time.Duration
	for _, m := range intervalPart.FindAllStringSubmatch(s, -1) {
		unit := map[string]time.Duration{"m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}[m[2]]
		// Compare before multiplying and adding, so that neither can wrap.
		n, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil || n > int64((MaxDuration-total)/unit) {
			return Interval{}, fmt.Errorf("interval %q is longer than 36500d (100 years), the longest alm accepts: write a shorter span", quoteShort(s))
		}
		total += time.Duration(n) * unit
	}
	return Interval{total}, nil
}

// MustInterval is ParseInterval for tests and literals; it panics on a bad value.
func MustInterval(s string) Interval {
	i, err := ParseInterval(s)
	if err != nil {
		panic(err)
	}
	return i
}

func (i Interval) Std() time.Duration { return i.D }
func (i Interval) IsZero() bool       { return i.D == 0 }

// String writes the interval in its largest whole unit: 30m, 2h, 3d;
// 1h30m when no single unit fits.
func (i Interval) String() string {
	switch day := 24 * time.Hour; {
	case i.D == 0:
		return "0m"
	case i.D%day == 0:
		return strconv.FormatInt(int64(i.D/day), 10) + "d"
	case i.D%time.Hour == 0:
		return strconv.FormatInt(int64(i.D/time.Hour), 10) + "h"
	case i.D < time.Hour:
		return strconv.FormatInt(int64(i.D/time.Minute), 10) + "m"
	default:
		return strconv.FormatInt(int64(i.D/time.Hour), 10) + "h" + strconv.FormatInt(int64(i.D%time.Hour/time.Minute), 10) + "m"
	}
}

func (i *Interval) UnmarshalYAML(n *yaml.Node) error {
	p, err := ParseInterval(n.Value)
	if err != nil {
		return &PositionError{Line: n.Line, Column: n.Column, Err: err}
	}
	*i = p
	return nil
}

func (i Interval) MarshalYAML() (any, error) { return i.String(), nil }

func (i Interval) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(i.String())), nil }

// PositionError is a value that does not parse, with where it stands.
type PositionError struct {
	Line, Column int
	Err          error
}

func (e *PositionError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *PositionError) Unwrap() error { return e.Err }
