// Package report renders an audit period as one self-contained HTML file for
// an auditor: access granted and removed with requester and approvers, the
// exceptions (changes that did not arrive by an approved merge), reviews done
// and overdue, and a chart of accounts and privileged memberships over time.
//
// The file needs nothing at view time: CSS is inline, the chart is an inline
// SVG drawn by the template, there is no script, and a Content-Security-Policy
// forbids any fetch, so an auditor can open it offline or archive it as is.
// Computing what goes in it is the caller's (package audit's); this package
// only lays it out.
package report

import (
	"cmp"
	"embed"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"
	"time"
)

// Data is everything one report shows. Times are shown in their own
// location, so pass them in the zone alm.yaml names.
type Data struct {
	From, To    time.Time // the period reported on
	GeneratedAt time.Time
	Repository  string // where the history was read, e.g. a URL or a path
	Revision    string // the commit the report was made at

	Grants     []Access // access that began in the period
	Removals   []Access // access that ended in the period
	Exceptions []Exception
	Reviews    []Review // done in the period, and open at its end
	Series     []Point  // accounts and privileged memberships by date
}

// Access is one account's membership of one group, granted or removed.
type Access struct {
	Account   string
	Group     string
	Applied   time.Time // when a receipt says it reached the directory; zero: not applied
	Commit    string    // the commit that asked for it; empty when nothing did (an expiry)
	Requester string
	Approvers []string
	Note      string // optional, e.g. "expired 2026-05-31" or "review overdue"
}

// Exception is something audit verify found outside the approved path: a
// direct push, a receipt without its revision, drift that no commit asked for.
type Exception struct {
	Kind   string    // e.g. "direct push", "receipt without revision", "drift"
	When   time.Time // zero: not known
	Commit string    // empty when no commit is involved (drift)
	Author string
	What   string
}

// Review is one account's access review. Done is zero while it has not been
// done; the report counts it overdue when its Due lies before the period's end.
type Review struct {
	Account  string
	Reviewer string
	Due      time.Time
	Done     time.Time
}

// Point is the state of the directory on one date.
type Point struct {
	Date       time.Time
	Accounts   int
	Privileged int // memberships of privileged groups
}

//go:embed report.html.tmpl
var files embed.FS

var tmpl = template.Must(template.New("report.html.tmpl").Funcs(template.FuncMap{
	"date":     date,
	"datetime": datetime,
	"commit":   shortCommit,
	"join":     strings.Join,
	"count":    count,
}).ParseFS(files, "report.html.tmpl"))

// Render writes d as one HTML document. It shows d's lists oldest first,
// those without a time last, and leaves d as it was. A period whose To lies
// before its From is refused.
func Render(w io.Writer, d Data) error {
	if d.To.Before(d.From) {
		return fmt.Errorf("report period: to %s is before from %s: swap --from and --to", date(d.To), date(d.From))
	}
	if err := tmpl.Execute(w, build(d)); err != nil {
		return fmt.Errorf("render report: %w", err)
	}
	return nil
}

// view is what the template reads: d sorted and classified, and the chart's
// geometry worked out, so the template only lays out.
type view struct {
	Data
	Done, Overdue, Later []reviewRow
	Charts               []chart
}

type reviewRow struct {
	Review
	Late int // days after Due it was done, or (overdue) days past Due at the period's end
}

func build(d Data) view {
	d.Grants = sortedAccess(d.Grants)
	d.Removals = sortedAccess(d.Removals)
	d.Exceptions = slices.Clone(d.Exceptions)
	slices.SortStableFunc(d.Exceptions, func(a, b Exception) int {
		return cmp.Or(cmp.Compare(unknown(a.When), unknown(b.When)), a.When.Compare(b.When), cmp.Compare(a.Commit, b.Commit))
	})
	d.Series = slices.Clone(d.Series)
	slices.SortStableFunc(d.Series, func(a, b Point) int { return a.Date.Compare(b.Date) })

	v := view{Data: d}
	for _, r := range d.Reviews {
		switch {
		case !r.Done.IsZero():
			late := 0
			if !r.Due.IsZero() {
				late = max(0, days(r.Due, r.Done))
			}
			v.Done = append(v.Done, reviewRow{r, late})
		case r.Due.Before(d.To):
			v.Overdue = append(v.Overdue, reviewRow{r, days(r.Due, d.To)})
		default:
			v.Later = append(v.Later, reviewRow{Review: r})
		}
	}
	byDue := func(a, b reviewRow) int {
		return cmp.Or(a.Due.Compare(b.Due), cmp.Compare(a.Account, b.Account))
	}
	slices.SortStableFunc(v.Done, byDue)
	slices.SortStableFunc(v.Overdue, byDue)
	slices.SortStableFunc(v.Later, byDue)

	if len(d.Series) > 0 {
		v.Charts = []chart{
			newChart("Accounts", "accounts", d.From, d.To, d.Series, func(p Point) int { return p.Accounts }),
			newChart("Privileged memberships", "privileged", d.From, d.To, d.Series, func(p Point) int { return p.Privileged }),
		}
	}
	return v
}

func sortedAccess(in []Access) []Access {
	out := slices.Clone(in)
	slices.SortStableFunc(out, func(a, b Access) int {
		return cmp.Or(cmp.Compare(unknown(a.Applied), unknown(b.Applied)), a.Applied.Compare(b.Applied),
			cmp.Compare(a.Account, b.Account), cmp.Compare(a.Group, b.Group))
	})
	return out
}

// unknown sorts what has no time (not applied yet, or not known) after the rest.
func unknown(t time.Time) int {
	if t.IsZero() {
		return 1
	}
	return 0
}

// days counts whole days from a to b.
func days(a, b time.Time) int { return int(b.Sub(a).Hours() / 24) }

func date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("2006-01-02")
}

func datetime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("2006-01-02 15:04 MST")
}

// count says n things in words: "1 day", "3 days".
func count(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

// shortCommit is as much of a commit id as people read; the full id stays in
// the cell's title.
func shortCommit(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
