package model

import (
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	const day = 24 * time.Hour
	tests := []struct {
		name string
		in   string
		want time.Duration
		err  string // a fragment of the error; empty when the value parses
	}{
		{"hours", "12h", 12 * time.Hour, ""},
		{"sum", "1w2d3h", 9*day + 3*time.Hour, ""},
		{"zero", "0d", 0, ""},
		{"max in days", "36500d", MaxDuration, ""},
		{"max in hours", "876000h", MaxDuration, ""},
		{"max as a sum", "5214w1d23h1h", MaxDuration, ""},
		{"max plus an hour", "36500d1h", 0, "longer than 36500d (100 years)"},
		{"max plus a day in hours", "876024h", 0, "longer than 36500d"},
		{"weeks past max", "5215w", 0, "longer than 36500d"},
		{"wraps int64 when multiplied", "99999999999w", 0, "longer than 36500d"},
		{"wraps int64 when summed", "15250w15250w15250w15250w", 0, "longer than 36500d"},
		{"parts each under max, sum over", "36500d36500d", 0, "longer than 36500d"},
		{"beyond int64 digits", "99999999999999999999999999h", 0, "longer than 36500d"},
		{"huge digit string", strings.Repeat("9", 10000) + "d", 0, "longer than 36500d"},
		{"leading zeros are a number", "000000000000000000000000000001d", day, ""},
		{"no unit", "30", 0, "not a number with a unit"},
		{"negative", "-1d", 0, "not a number with a unit"},
		{"empty", "", 0, "not a number with a unit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDuration(tt.in)
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("ParseDuration(%q): %v", tt.in, err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("ParseDuration(%q) = %v, %v; want an error with %q", tt.in, got.D, err, tt.err)
			case tt.err == "" && got.D != tt.want:
				t.Fatalf("ParseDuration(%q) = %v, want %v", tt.in, got.D, tt.want)
			}
			if err != nil && len(err.Error()) > 200 {
				t.Errorf("error is %d bytes long: it must quote a long value shortly", len(err.Error()))
			}
		})
	}
}

// The latest date a file can hold plus the longest duration stays a valid,
// later instant: the sum cannot wrap around.
func TestDateAddCannotOverflow(t *testing.T) {
	last, first := MustDate("9999-12-31"), MustDate("0000-01-01")
	if got := last.Add(Duration{MaxDuration}); !got.After(last.Time) || got.Year() != 10099 {
		t.Errorf("9999-12-31 + 36500d = %v, want a day in 10099", got)
	}
	if got := first.Time.Add(-MaxDuration); !got.Before(first.Time) {
		t.Errorf("0000-01-01 - 36500d = %v, want earlier", got)
	}
}
