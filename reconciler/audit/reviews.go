package audit

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/alm-project/alm/reconciler/change"
	"github.com/alm-project/alm/reconciler/lifecycle"
	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/review"
)

// Review is an access review confirmed in a period: a change on the branch
// that moved an account's spec.reviewed (what merging an alm review pull
// request does).
type Review struct {
	Account string `json:"account"`
	ID      string `json:"id"`
	// Due is when the review had fallen due by the file before the change
	// (zero when the template had no review.every then).
	Due      time.Time  `json:"due,omitzero"`
	Reviewed model.Date `json:"reviewed"` // spec.reviewed after the change
	// At is when the change reached the branch: the confirmation.
	At          time.Time `json:"at"`
	Commit      string    `json:"commit"`
	PullRequest int       `json:"pullRequest,omitempty"`
	// Reviewers are who approved the merge (the reviewer approves the
	// review pull request alm opened); empty for a commit pushed straight,
	// which audit verify reports too.
	Reviewers []string `json:"reviewers"`
	Approved  bool     `json:"approved"` // it arrived by a merge with approvals
}

// Overdue is a review due at the end of a period and not confirmed by then,
// from the revision in force (review.Due).
type Overdue struct {
	Account  string    `json:"account"`
	ID       string    `json:"id"`
	Reviewer string    `json:"reviewer"` // the login; "" when none could be found (Why says why)
	Due      time.Time `json:"due"`
	// DisableOn is when the lifecycle disables the account unless the
	// review is confirmed; zero when the template has no review.grace.
	DisableOn time.Time `json:"disableOn,omitzero"`
	Disabled  bool      `json:"disabled,omitempty"` // the grace had run out at the end of the period
	Why       string    `json:"why,omitempty"`
}

// reviewed returns the reviews confirmed by commits of the branch that
// reached it after from and up to to, oldest first.
func (h *History) reviewed(ctx context.Context, from, to time.Time) ([]Review, error) {
	// The account files each commit of the period changed.
	changed := map[int][]string{}
	for p, pcs := range h.index.Paths {
		if !isAccountFile(p) {
			continue
		}
		for _, pc := range pcs {
			at := h.index.Commits[pc.Commit].Committer.When
			if at.After(from) && !at.After(to) && pc.To != "" {
				changed[pc.Commit] = append(changed[pc.Commit], p)
			}
		}
	}
	order := make([]int, 0, len(changed))
	for i := range changed {
		order = append(order, i)
	}
	sort.Ints(order)
	out := []Review{}
	for _, i := range order {
		c := h.index.Commits[i]
		paths := changed[i]
		sort.Strings(paths)
		var before *model.Repository
		var err error
		if len(c.Parents) > 0 {
			// A renamed file is read at its old path too: the index pairs
			// it by id, so load what the parent had at any path of the ids.
			old := append([]string{}, paths...)
			for _, p := range paths {
				for _, pc := range h.index.Paths[p] {
					if pc.Commit == i && pc.ID != "" {
						old = append(old, h.index.IDs[pc.ID]...)
					}
				}
			}
			if before, err = h.partial(ctx, c.Parents[0], old...); err != nil {
				return nil, err
			}
		}
		after, err := h.partial(ctx, c.Hash, paths...)
		if err != nil {
			return nil, err
		}
		var rq *Request
		for _, f := range change.Between(before, after).Files {
			if f.Op != change.Modified && f.Op != change.Renamed || !movesReview(f) {
				continue
			}
			now, due, ok := reviewOf(before, after, f)
			if !ok {
				continue
			}
			if rq == nil {
				r, err := h.Request(ctx, c.Hash)
				if err != nil {
					return nil, err
				}
				rq = &r
			}
			rv := Review{Account: f.Name, ID: f.ID, Due: due.Time, Reviewed: now, At: rq.At, Commit: rq.Commit,
				PullRequest: rq.PullRequest, Reviewers: []string{}, Approved: rq.Merge && len(rq.Approvers) > 0}
			if rq.Merge {
				rv.Reviewers = append(rv.Reviewers, rq.Approvers...)
			}
			out = append(out, rv)
		}
	}
	return out, nil
}

func movesReview(f change.File) bool {
	for _, r := range f.Reasons {
		if r.Field == "spec.reviewed" {
			return true
		}
	}
	return false
}

// reviewOf returns an account's spec.reviewed after a change, and when its
// review was due by the file before it; ok only when the date moved on.
func reviewOf(before, after *model.Repository, f change.File) (now, due model.Date, ok bool) {
	switch a := f.After.(type) {
	case *model.Person:
		b, _ := f.Before.(*model.Person)
		if b == nil || !a.Spec.Reviewed.After(b.Spec.Reviewed.Time) {
			return model.Date{}, model.Date{}, false
		}
		due, _ = lifecycle.ReviewDue(before.TemplateOf(b), b.Spec.Reviewed, b.Spec.StartDate, "spec.startDate")
		return a.Spec.Reviewed, due, true
	case *model.ServiceAccount:
		b, _ := f.Before.(*model.ServiceAccount)
		if b == nil || !a.Spec.Reviewed.After(b.Spec.Reviewed.Time) {
			return model.Date{}, model.Date{}, false
		}
		due, _ = lifecycle.ReviewDue(before.Templates[b.Spec.Template], b.Spec.Reviewed, b.Spec.Created, "spec.created")
		return a.Spec.Reviewed, due, true
	}
	return model.Date{}, model.Date{}, false
}

// overdue returns the reviews due at t by revision rev and not confirmed,
// by due date; none when no revision was in force.
func (h *History) overdue(ctx context.Context, rev string, t time.Time) ([]Overdue, error) {
	out := []Overdue{}
	if rev == "" {
		return out, nil
	}
	repo, _, err := h.cache.Commit(ctx, h.repo, rev)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", short(rev), err)
	}
	requests, skipped := review.Due(repo, t)
	for _, rq := range requests {
		for _, a := range rq.Accounts {
			o := Overdue{Account: a.Name, ID: a.ID, Reviewer: rq.Reviewer, Due: a.Due.Time, Disabled: a.Disabled}
			if !a.DisableOn.IsZero() {
				o.DisableOn = a.DisableOn.Time
			}
			out = append(out, o)
		}
	}
	for _, s := range skipped {
		id := ""
		if p := repo.People[s.Account]; p != nil {
			id = p.Metadata.ID
		} else if sa := repo.ServiceAccounts[s.Account]; sa != nil {
			id = sa.Metadata.ID
		}
		out = append(out, Overdue{Account: s.Account, ID: id, Due: s.Due.Time, Why: s.Why})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Due.Equal(out[j].Due) {
			return out[i].Due.Before(out[j].Due)
		}
		return out[i].Account < out[j].Account
	})
	return out, nil
}
