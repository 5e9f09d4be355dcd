package model

import (
	"fmt"
	"strconv"
	"time"
	// The zone database is compiled in, so that a time zone resolves the same
	// on a machine or container without /usr/share/zoneinfo.
	_ "time/tzdata"

	"go.yaml.in/yaml/v3"
)

// TimeZone is alm.yaml's spec.timeZone: the IANA time zone (Europe/Berlin)
// in which every date in the files means midnight. The zero value is UTC.
type TimeZone struct {
	name string
	loc  *time.Location
}

// UTC is the time zone of an alm.yaml that sets none.
const UTC = "UTC"

// ParseTimeZone reads an IANA time zone name. "Local" is refused: it is
// whatever zone the machine running alm is set to, and the same files must
// mean the same instants everywhere.
func ParseTimeZone(s string) (TimeZone, error) {
	switch s {
	case "", UTC:
		return TimeZone{}, nil
	case "Local":
		return TimeZone{}, fmt.Errorf("time zone %q is this machine's zone, which differs between machines: write an IANA name such as Europe/Berlin or UTC", s)
	}
	loc, err := time.LoadLocation(s)
	if err != nil {
		return TimeZone{}, fmt.Errorf("time zone %q is not an IANA time zone: write a name such as Europe/Berlin, America/New_York or UTC (names are case-sensitive)", s)
	}
	return TimeZone{name: s, loc: loc}, nil
}

// MustTimeZone is ParseTimeZone for tests and literals; it panics on a bad name.
func MustTimeZone(s string) TimeZone {
	z, err := ParseTimeZone(s)
	if err != nil {
		panic(err)
	}
	return z
}

// Location is the zone's rules; UTC for the zero value.
func (z TimeZone) Location() *time.Location {
	if z.loc == nil {
		return time.UTC
	}
	return z.loc
}

func (z TimeZone) String() string {
	if z.name == "" {
		return UTC
	}
	return z.name
}

// IsZero reports whether alm.yaml leaves the zone out (or writes UTC).
func (z TimeZone) IsZero() bool { return z.name == "" }

func (z *TimeZone) UnmarshalYAML(n *yaml.Node) error {
	if n.Tag == "!!null" {
		*z = TimeZone{}
		return nil
	}
	p, err := ParseTimeZone(n.Value)
	if err != nil {
		return &PositionError{Line: n.Line, Column: n.Column, Err: err}
	}
	*z = p
	return nil
}

func (z TimeZone) MarshalYAML() (any, error) { return z.String(), nil }

func (z TimeZone) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(z.String())), nil }

// Zone is the time zone the repository's dates mean midnight in: alm.yaml's
// spec.timeZone, or UTC when there is no alm.yaml or it sets none.
func (r *Repository) Zone() *time.Location {
	if r == nil || r.Directory == nil {
		return time.UTC
	}
	return r.Directory.Spec.TimeZone.Location()
}
