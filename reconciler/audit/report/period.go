package report

import (
	"strings"
	"time"

	"github.com/alm-project/alm/reconciler/audit"
)

func inZone(t time.Time, zone *time.Location) time.Time {
	if t.IsZero() {
		return t
	}
	return t.In(zone)
}

func short(hash string) string {
	if len(hash) > 12 {
		return hash[:12]
	}
	return hash
}

// FromPeriod is the report's data for an audited period: the access
// granted and removed (with requester, approvers and commit), the
// exceptions of audit verify, the reviews confirmed in the period and those
// overdue at its end, and the counts over time. Times are shown
// in zone.
func FromPeriod(p audit.Period, zone *time.Location, repository string, generated time.Time) Data {
	d := Data{From: p.From.In(zone), To: p.To.In(zone), GeneratedAt: generated.In(zone), Repository: repository,
		Revision: p.Diff.ToRevision}
	access := func(g audit.Grant) Access {
		a := Access{Account: g.Account, Group: g.Group, Commit: g.Commit, Requester: g.Requester,
			Approvers: append([]string{}, g.Approvers...), Note: g.Reason}
		if !g.AppliedAt.IsZero() {
			a.Applied = g.AppliedAt.In(zone)
		}
		if a.Group == "" {
			a.Group = "(the account)"
		}
		return a
	}
	for _, g := range p.Diff.Granted() {
		d.Grants = append(d.Grants, access(g))
	}
	for _, g := range p.Diff.Removed() {
		d.Removals = append(d.Removals, access(g))
	}
	for _, e := range p.Exceptions.Items {
		what := e.Text
		if e.Subject != "" {
			what = e.Subject + ": " + what
		}
		d.Exceptions = append(d.Exceptions, Exception{Kind: e.Kind, When: e.At.In(zone), Commit: e.Commit, Author: e.Author, What: what})
	}
	for _, r := range p.Reviewed {
		by := strings.Join(r.Reviewers, ", ")
		if !r.Approved {
			by = "nobody approved it (" + short(r.Commit) + " pushed straight)"
		}
		d.Reviews = append(d.Reviews, Review{Account: r.Account, Reviewer: by, Due: inZone(r.Due, zone), Done: r.At.In(zone)})
	}
	for _, o := range p.Overdue {
		by := o.Reviewer
		if by == "" {
			by = "none: " + o.Why
		}
		d.Reviews = append(d.Reviews, Review{Account: o.Account, Reviewer: by, Due: inZone(o.Due, zone)})
	}
	for _, pt := range p.Points {
		d.Series = append(d.Series, Point{Date: pt.At.In(zone), Accounts: pt.Accounts, Privileged: pt.Privileged})
	}
	return d
}
