package audit

import (
	"context"
	"fmt"
	"time"
)

// Period is everything an auditor's report of a period needs: the access
// at its start and end, what was granted and removed in between, the
// exceptions that happened in it, the access reviews confirmed in it and
// overdue at its end, and counts over time for a chart.
type Period struct {
	From       time.Time  `json:"from"`
	To         time.Time  `json:"to"`
	Start      Access     `json:"start"`
	End        Access     `json:"end"`
	Diff       Diff       `json:"diff"`
	Exceptions Exceptions `json:"exceptions"`
	// Reviewed are the access reviews confirmed in the period; Overdue
	// those due at its end, by the revision in force then, not confirmed.
	Reviewed []Review  `json:"reviewed"`
	Overdue  []Overdue `json:"overdue"`
	// Points are the counts at evenly spaced instants from From to To.
	Points []Point `json:"points"`
}

// Point is how many accounts could log on, and how many privileged
// memberships they held, at an instant.
type Point struct {
	At         time.Time `json:"at"`
	Revision   string    `json:"revision"`
	Accounts   int       `json:"accounts"`   // enabled accounts
	Privileged int       `json:"privileged"` // memberships of groups a privileged role grants
}

// Report computes the Period from from to to, with points counts over time
// (at least 2: the start and the end).
func (h *History) Report(ctx context.Context, from, to time.Time, points int) (Period, error) {
	if to.Before(from) {
		return Period{}, fmt.Errorf("period %s to %s: the end is before the start: swap them", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	p := Period{From: from.UTC(), To: to.UTC(), Points: []Point{}}
	var err error
	if p.Start, err = h.At(ctx, from, ""); err != nil {
		return Period{}, err
	}
	if p.End, err = h.At(ctx, to, ""); err != nil {
		return Period{}, err
	}
	if p.Diff, err = h.between(ctx, p.Start, p.End); err != nil {
		return Period{}, err
	}
	// The whole history is walked (a merge's content is approved or not
	// by what came before it); the period keeps what happened within it.
	all, err := h.Verify(ctx, "")
	if err != nil {
		return Period{}, err
	}
	p.Exceptions, p.Exceptions.Items = all, []Exception{}
	for _, e := range all.Items {
		if !e.At.Before(from) && !e.At.After(to) {
			p.Exceptions.Items = append(p.Exceptions.Items, e)
		}
	}
	if p.Reviewed, err = h.reviewed(ctx, from, to); err != nil {
		return Period{}, err
	}
	if p.Overdue, err = h.overdue(ctx, p.End.Revision, to); err != nil {
		return Period{}, err
	}
	points = max(points, 2)
	step := to.Sub(from) / time.Duration(points-1)
	for i := range points {
		at := from.Add(step * time.Duration(i))
		var a Access
		switch i {
		case 0:
			a = p.Start
		case points - 1:
			a = p.End
		default:
			if a, err = h.At(ctx, at, ""); err != nil {
				return Period{}, err
			}
		}
		p.Points = append(p.Points, count(a))
	}
	return p, nil
}

func count(a Access) Point {
	pt := Point{At: a.At, Revision: a.Revision}
	for _, hd := range a.Accounts {
		if hd.Enabled {
			pt.Accounts++
		}
		pt.Privileged += len(hd.Privileged)
	}
	return pt
}
