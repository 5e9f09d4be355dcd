package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// fixture is a year of a small organisation's access history: grants with
// their approvers, a move, an expiry, a retirement, a change not yet applied,
// a direct push, drift, and reviews done, done late, overdue and not yet due.
func fixture(t *testing.T) Data {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "year.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d Data
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("testdata/year.json: %v", err)
	}
	return d
}

func render(t *testing.T, d Data) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Render(&buf, d); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestGolden(t *testing.T) {
	got := render(t, fixture(t))
	path := filepath.Join("testdata", "year.html")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
	for i := range max(len(gl), len(wl)) {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			t.Fatalf("%s differs from line %d:\ngot:  %q\nwant: %q\n(run go test -update if the change is intended)", path, i+1, g, w)
		}
	}
}

// TestSelfContained: nothing in the file may make a browser fetch anything;
// the Chromium test checks the same from the browser's side.
func TestSelfContained(t *testing.T) {
	out := render(t, fixture(t))
	for _, bad := range []string{"<script", "<link", "<img", "<iframe", "@import", "url(", "src=", "href=\"http"} {
		if strings.Contains(out, bad) {
			t.Errorf("the report holds %q: it must need nothing at view time", bad)
		}
	}
	if !strings.Contains(out, `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`) {
		t.Error("the report has no Content-Security-Policy forbidding fetches")
	}
}

func TestEscaping(t *testing.T) {
	const evil = `<script>alert(1)</script>`
	const attr = `" onmouseover="alert(2)`
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	d := Data{
		From: at.AddDate(0, -1, 0), To: at.AddDate(0, 1, 0), GeneratedAt: at,
		Repository: evil, Revision: attr,
		Grants:     []Access{{Account: evil, Group: "<b>g</b>", Applied: at, Commit: attr, Requester: evil, Approvers: []string{evil, "a&b"}, Note: evil}},
		Removals:   []Access{{Account: "x", Group: evil, Applied: at}},
		Exceptions: []Exception{{Kind: evil, When: at, Commit: attr, Author: evil, What: "</td></tr></table>" + evil}},
		Reviews:    []Review{{Account: evil, Reviewer: evil, Due: at}},
		Series:     []Point{{Date: at, Accounts: 1, Privileged: 1}},
	}
	out := render(t, d)
	if strings.Contains(out, "<script") {
		t.Error("a name with <script> reached the page as markup")
	}
	for _, bad := range []string{"<b>g</b>", `" onmouseover=`, "</td></tr></table><", "a&b"} {
		if strings.Contains(out, bad) {
			t.Errorf("%q reached the page unescaped", bad)
		}
	}
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;b&gt;g&lt;/b&gt;", "a&amp;b", `&#34; onmouseover=&#34;alert(2)`} {
		if !strings.Contains(out, want) {
			t.Errorf("the page does not show %q as text", want)
		}
	}
}

func TestRenderRefusesReversedPeriod(t *testing.T) {
	at := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	err := Render(&bytes.Buffer{}, Data{From: at, To: at.AddDate(0, 0, -1)})
	if err == nil || !strings.Contains(err.Error(), "to 2025-02-28 is before from 2025-03-01") {
		t.Fatalf("got %v, want the reversed period named", err)
	}
}

func TestReviews(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2025, 1, d, 0, 0, 0, 0, time.UTC) }
	end := day(20)
	cases := []struct {
		name    string
		review  Review
		section string // the table the review lands in
		late    int
	}{
		{"done early", Review{Account: "a", Due: day(10), Done: day(5)}, "done", 0},
		{"done late", Review{Account: "a", Due: day(10), Done: day(13)}, "done", 3},
		{"overdue at the end", Review{Account: "a", Due: day(10)}, "overdue", 10},
		{"due on the last day", Review{Account: "a", Due: end}, "later", 0},
		{"due after the period", Review{Account: "a", Due: day(25)}, "later", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := build(Data{From: day(1), To: end, Reviews: []Review{c.review}})
			got := map[string][]reviewRow{"done": v.Done, "overdue": v.Overdue, "later": v.Later}
			for section, rows := range got {
				if (section == c.section) != (len(rows) == 1) {
					t.Fatalf("%s holds %d reviews; want the review in %s", section, len(rows), c.section)
				}
			}
			if l := got[c.section][0].Late; l != c.late {
				t.Errorf("late %d days, want %d", l, c.late)
			}
		})
	}
}

func TestNiceStep(t *testing.T) {
	cases := []struct {
		name string
		in   float64
		want float64
	}{
		{"zero", 0, 1},
		{"below one", 0.4, 1},
		{"exact", 2, 2},
		{"up to two", 1.3, 2},
		{"up to five", 3, 5},
		{"up to ten", 7, 10},
		{"hundreds", 2501, 5000},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := niceStep(c.in); got != c.want {
				t.Errorf("niceStep(%v) = %v, want %v", c.in, got, c.want)
			}
		})
	}
}

func TestChart(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2025, 1, d, 0, 0, 0, 0, time.UTC) }
	cases := []struct {
		name     string
		from, to time.Time
		pts      []Point
		line     string
		yLabels  string
		peak     int
	}{
		{
			name: "steps across the period", from: day(1), to: day(11),
			pts: []Point{{Date: day(1), Accounts: 10}, {Date: day(6), Accounts: 20}},
			// 684 units wide over 10 days; 150 high for 0..20.
			line: "M56.0 87.0 H398.0 V12.0 H740.0", yLabels: "0 5 10 15 20", peak: 20,
		},
		{
			name: "one point on a one-day period", from: day(1), to: day(1),
			pts:  []Point{{Date: day(1), Accounts: 0}},
			line: "M56.0 162.0 H740.0", yLabels: "0 1", peak: 0,
		},
		{
			name: "points outside the period widen it", from: day(5), to: day(6),
			pts:  []Point{{Date: day(1), Accounts: 3}, {Date: day(11), Accounts: 4}},
			line: "M56.0 49.5 H740.0 V12.0 H740.0", yLabels: "0 1 2 3 4", peak: 4,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ch := newChart("Accounts", "accounts", c.from, c.to, c.pts, func(p Point) int { return p.Accounts })
			if ch.Line != c.line {
				t.Errorf("line %q, want %q", ch.Line, c.line)
			}
			var labels []string
			for _, tk := range ch.YTicks {
				labels = append(labels, tk.Label)
			}
			if got := strings.Join(labels, " "); got != c.yLabels {
				t.Errorf("y labels %q, want %q", got, c.yLabels)
			}
			if ch.Peak != c.peak {
				t.Errorf("peak %d, want %d", ch.Peak, c.peak)
			}
			if !regexp.MustCompile(`^M[\d.]+ [\d.]+`).MatchString(ch.Area) {
				t.Errorf("area %q does not start where the line does", ch.Area)
			}
		})
	}
}

func TestCalendarTicks(t *testing.T) {
	at := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	cases := []struct {
		name string
		a, b time.Time
		want string
	}{
		{"a few days: each day", at(2025, 1, 1), at(2025, 1, 4), "2025-01-01 2025-01-02 2025-01-03 2025-01-04"},
		{"a month: Mondays", at(2025, 1, 1), at(2025, 1, 31), "2025-01-06 2025-01-13 2025-01-20 2025-01-27"},
		{"a year: quarters", at(2025, 1, 1), at(2025, 12, 31), "Jan 2025 Apr 2025 Jul 2025 Oct 2025"},
		{"a year from mid-month: quarters after it", at(2025, 1, 15), at(2026, 1, 14), "Apr 2025 Jul 2025 Oct 2025 Jan 2026"},
		{"five years: years", at(2021, 3, 1), at(2026, 3, 1), "Jan 2022 Jan 2023 Jan 2024 Jan 2025 Jan 2026"},
		{"twenty years: fives", at(2006, 1, 1), at(2026, 1, 1), "2010 2015 2020 2025"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, tk := range calendarTicks(c.a, c.b) {
				got = append(got, label(tk, c.b.Sub(c.a)))
			}
			if g := strings.Join(got, " "); g != c.want {
				t.Errorf("ticks %q, want %q", g, c.want)
			}
		})
	}
}

func TestOrder(t *testing.T) {
	at := func(d int) time.Time { return time.Date(2025, 1, d, 0, 0, 0, 0, time.UTC) }
	d := Data{
		From: at(1), To: at(31),
		Grants: []Access{
			{Account: "later", Group: "g", Applied: at(9)},
			{Account: "pending", Group: "g"},
			{Account: "b", Group: "g", Applied: at(3)},
			{Account: "a", Group: "h", Applied: at(3)},
			{Account: "a", Group: "g", Applied: at(3)},
		},
		Exceptions: []Exception{{Commit: "unknown-time"}, {Commit: "second", When: at(5)}, {Commit: "first", When: at(2)}},
	}
	v := build(d)
	var grants, exceptions []string
	for _, g := range v.Grants {
		grants = append(grants, g.Account+"/"+g.Group)
	}
	for _, e := range v.Exceptions {
		exceptions = append(exceptions, e.Commit)
	}
	if got, want := strings.Join(grants, " "), "a/g a/h b/g later/g pending/g"; got != want {
		t.Errorf("grants in order %q, want %q", got, want)
	}
	if got, want := strings.Join(exceptions, " "), "first second unknown-time"; got != want {
		t.Errorf("exceptions in order %q, want %q", got, want)
	}
	if d.Grants[0].Account != "later" {
		t.Error("build reordered the caller's slice")
	}
}
