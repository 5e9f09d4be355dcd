package model

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
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

// The latest date a file can hold plus the longest duration, and the
// earliest minus it, stay valid instants in order in any zone: no sum wraps.
func TestParseInterval(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		want     time.Duration
		err      string // a fragment of the error; empty when the value parses
		asString string // how it is written back
	}{
		{"minutes", "30m", 30 * time.Minute, "", "30m"},
		{"hours", "2h", 2 * time.Hour, "", "2h"},
		{"minutes that make hours", "120m", 2 * time.Hour, "", "2h"},
		{"a sum", "1h30m", 90 * time.Minute, "", "1h30m"},
		{"days", "1w1d", 8 * 24 * time.Hour, "", "8d"},
		{"hours past a day", "25h", 25 * time.Hour, "", "25h"},
		{"max", "52560000m", MaxDuration, "", "36500d"},
		{"past max", "52560001m", 0, "longer than 36500d", ""},
		{"wraps int64", "99999999999999999m", 0, "longer than 36500d", ""},
		{"seconds are not a unit", "90s", 0, "not a number with a unit m, h, d or w", ""},
		{"no unit", "30", 0, "not a number with a unit", ""},
		{"empty", "", 0, "not a number with a unit", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseInterval(tt.in)
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("ParseInterval(%q): %v", tt.in, err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("ParseInterval(%q) = %v, %v; want an error with %q", tt.in, got.D, err, tt.err)
			case tt.err == "" && got.D != tt.want:
				t.Fatalf("ParseInterval(%q) = %v, want %v", tt.in, got.D, tt.want)
			case tt.err == "" && got.String() != tt.asString:
				t.Fatalf("ParseInterval(%q).String() = %q, want %q", tt.in, got.String(), tt.asString)
			}
			if tt.err == "" {
				if back, err := ParseInterval(got.String()); err != nil || back != got {
					t.Errorf("%q does not read back: %v, %v", got.String(), back.D, err)
				}
			}
		})
	}
}

func TestPlusMinusCannotOverflow(t *testing.T) {
	last, first := MustDate("9999-12-31"), MustDate("0000-01-01")
	longest := Duration{MaxDuration}
	for _, zone := range []string{"UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"} {
		loc := MustTimeZone(zone).Location()
		if got := last.Plus(longest, loc); !got.After(last.Midnight(loc)) || got.In(loc).Year() != 10099 {
			t.Errorf("%s: 9999-12-31 + 36500d = %v, want a day in 10099", zone, got)
		}
		if got := first.Minus(longest, loc); !got.Before(first.Midnight(loc)) {
			t.Errorf("%s: 0000-01-01 - 36500d = %v, want earlier", zone, got)
		}
	}
}

// TestMidnight: a date begins at its first instant in the zone, including
// where the zone's clocks change at midnight.
func TestMidnight(t *testing.T) {
	tests := []struct {
		name, zone, date string
		want             string // UTC
	}{
		{"UTC", "UTC", "2026-11-30", "2026-11-30T00:00:00Z"},
		{"east of UTC, summer time", "Pacific/Auckland", "2026-11-30", "2026-11-29T11:00:00Z"},
		{"east of UTC, standard time", "Pacific/Auckland", "2026-06-30", "2026-06-29T12:00:00Z"},
		{"west of UTC, standard time", "America/Los_Angeles", "2026-11-30", "2026-11-30T08:00:00Z"},
		{"west of UTC, on the day clocks go forward at 02:00", "America/Los_Angeles", "2026-03-08", "2026-03-08T08:00:00Z"},
		{"west of UTC, the day after", "America/Los_Angeles", "2026-03-09", "2026-03-09T07:00:00Z"},
		{"Europe", "Europe/Berlin", "2026-10-25", "2026-10-24T22:00:00Z"},
		// Chile skips 00:00 on 2026-09-06 (-04 to -03): the day begins at 01:00 -03.
		{"midnight skipped, west of UTC", "America/Santiago", "2026-09-06", "2026-09-06T04:00:00Z"},
		// Egypt skips 00:00 on 2026-04-24 (+02 to +03): the day begins at 01:00 +03.
		{"midnight skipped, east of UTC", "Africa/Cairo", "2026-04-24", "2026-04-23T22:00:00Z"},
		// Cuba repeats 00:00 on 2026-11-01 (-04 then -05): the first counts.
		{"midnight repeated, west of UTC", "America/Havana", "2026-11-01", "2026-11-01T04:00:00Z"},
		// Jordan repeated 00:00 on 2021-10-29 (+03 then +02): the first counts.
		{"midnight repeated, east of UTC", "Asia/Amman", "2021-10-29", "2021-10-28T21:00:00Z"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			zone := MustTimeZone(tc.zone).Location()
			got := MustDate(tc.date).Midnight(zone)
			if s := got.UTC().Format(time.RFC3339); s != tc.want {
				t.Errorf("%s begins at %s in %s, want %s", tc.date, s, tc.zone, tc.want)
			}
			if d := got.In(zone).Format(time.DateOnly); d != tc.date {
				t.Errorf("the instant reads %s there, not %s", d, tc.date)
			}
			if before := got.Add(-time.Second).In(zone).Format(time.DateOnly); before == tc.date {
				t.Errorf("a second earlier already reads %s: not the day's first instant", before)
			}
		})
	}
}

// TestPlusMinus: days of a duration are calendar days of the zone, hours are hours.
func TestPlusMinus(t *testing.T) {
	la := MustTimeZone("America/Los_Angeles").Location()
	tests := []struct {
		name, date, duration string
		plus                 bool
		want                 string // UTC
	}{
		{"a day across the change to summer time is 23 hours", "2026-03-08", "1d", true, "2026-03-09T07:00:00Z"},
		{"24h counts as that day too", "2026-03-08", "24h", true, "2026-03-09T07:00:00Z"},
		{"hours past whole days are hours", "2026-03-08", "1d12h", true, "2026-03-09T19:00:00Z"},
		{"a week across the change back is 7 days and an hour", "2026-10-29", "1w", true, "2026-11-05T08:00:00Z"},
		{"zero is the day's start", "2026-10-29", "0h", true, "2026-10-29T07:00:00Z"},
		{"days before count back calendar days", "2026-03-12", "7d", false, "2026-03-05T08:00:00Z"},
		{"hours before count back hours", "2026-03-12", "1d6h", false, "2026-03-11T01:00:00Z"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, x := MustDate(tc.date), MustDuration(tc.duration)
			got := d.Minus(x, la)
			if tc.plus {
				got = d.Plus(x, la)
			}
			if s := got.UTC().Format(time.RFC3339); s != tc.want {
				t.Errorf("got %s, want %s", s, tc.want)
			}
		})
	}
}

func TestParseTimeZone(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{in: "", want: "UTC"},
		{in: "UTC", want: "UTC"},
		{in: "Europe/Berlin", want: "Europe/Berlin"},
		{in: "America/Argentina/Buenos_Aires", want: "America/Argentina/Buenos_Aires"},
		{in: "Europe/Berln", err: "not an IANA time zone: write a name such as Europe/Berlin"},
		{in: "europe/berlin", err: "names are case-sensitive"},
		{in: "Local", err: "this machine's zone"},
		{in: "../../etc/passwd", err: "not an IANA time zone"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			z, err := ParseTimeZone(tc.in)
			switch {
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("error %v, want one saying %q", err, tc.err)
			case tc.err == "" && err != nil:
				t.Fatal(err)
			case tc.err == "" && (z.String() != tc.want || z.Location().String() != tc.want):
				t.Errorf("zone %s (%s), want %s", z, z.Location(), tc.want)
			}
		})
	}
}

// TestTimeZoneRoundTrip: the zone is written back as the file writes it, and
// JSON (the policies' input) always names one.
func TestTimeZoneRoundTrip(t *testing.T) {
	for _, name := range []string{"", "UTC", "Pacific/Auckland"} {
		t.Run(name, func(t *testing.T) {
			var spec struct {
				TimeZone TimeZone `yaml:"timeZone,omitempty"`
			}
			if err := yaml.Unmarshal([]byte("timeZone: "+name+"\n"), &spec); err != nil {
				t.Fatal(err)
			}
			out, err := yaml.Marshal(spec)
			if err != nil {
				t.Fatal(err)
			}
			want := "timeZone: " + name + "\n"
			if name == "" || name == UTC {
				want = "{}\n" // the default is left out
			}
			if string(out) != want {
				t.Errorf("YAML %q, want %q", out, want)
			}
			j, err := json.Marshal(spec.TimeZone)
			if err != nil {
				t.Fatal(err)
			}
			if w := `"` + spec.TimeZone.String() + `"`; string(j) != w || (name != "" && w != `"`+name+`"`) {
				t.Errorf("JSON %s, want %s", j, w)
			}
		})
	}
}

func TestZoneOfRepository(t *testing.T) {
	var none *Repository
	if none.Zone() != time.UTC || NewRepository().Zone() != time.UTC {
		t.Error("a repository without alm.yaml should read its dates in UTC")
	}
	r := NewRepository()
	r.Directory = &Directory{Spec: DirectorySpec{TimeZone: MustTimeZone("Asia/Tokyo")}}
	if got := r.Zone().String(); got != "Asia/Tokyo" {
		t.Errorf("zone %s, want Asia/Tokyo", got)
	}
}
