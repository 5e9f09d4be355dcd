package model

import (
	"fmt"
	"regexp"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"
)

// Date is a calendar day from a file (2026-05-30). It means the instant the
// day begins in UTC, so that lifecycle decisions are the same on every machine.
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

// Add returns the instant a duration after the start of the day. It cannot
// overflow: a Date is at most 9999-12-31 and a parsed Duration at most
// MaxDuration, so the sum is near the year 10100, far inside time.Time, and
// time.Time.Add saturates rather than wraps for a Duration built in Go.
func (d Date) Add(x Duration) time.Time { return d.Time.Add(x.Std()) }

// Duration is a span written as a number and a unit: 12h, 30d, 2w, or a sum
// such as 1w2d. Days are 24 hours: lifecycle arithmetic is in UTC.
type Duration struct{ D time.Duration }

// MaxDuration is the longest duration a file may give: 100 years (36500d).
// No retention, grace or lifetime is longer, and bounding it keeps every
// date plus a duration far from the limits of time.Duration (292 years) and
// of Active Directory's accountExpires.
const MaxDuration = 36500 * 24 * time.Hour

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

// PositionError is a value that does not parse, with where it stands.
type PositionError struct {
	Line, Column int
	Err          error
}

func (e *PositionError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *PositionError) Unwrap() error { return e.Err }
