package audit

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/go-git/go-git/v5"

	"github.com/alm-project/alm/reconciler/approval"
	"github.com/alm-project/alm/reconciler/check"
	"github.com/alm-project/alm/reconciler/history"
	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/verify"
)

// Kinds of exceptions.
const (
	Unapproved      = "unapproved"       // a commit on the branch that did not arrive by an approved merge
	UnknownRevision = "unknown-revision" // a receipt whose revision is not on the branch's history
	DriftRepaired   = "drift"            // an applied change no commit asked for: the directory was changed outside alm
)

// Exception is one thing an auditor must look at.
type Exception struct {
	Kind string    `json:"kind"`
	At   time.Time `json:"at"`
	// Commit is the unapproved commit, or the receipt's revision.
	Commit  string `json:"commit"`
	Author  string `json:"author,omitempty"`  // who made the commit ("Name <email>")
	Subject string `json:"subject,omitempty"` // the commit's subject
	Account string `json:"account,omitempty"` // for drift: the account put back
	Text    string `json:"text"`
	// Cured: an unapproved commit whose changes were reverted since; it
	// is still an exception, but no longer blocks an apply.
	Cured bool `json:"cured,omitempty"`
}

// Exceptions is the exception report of a branch's history.
type Exceptions struct {
	Branch string `json:"branch"`
	Head   string `json:"head"`
	// Since is the commit the walk started after (the branch's first
	// commit, the starting point, unless asked otherwise).
	Since string      `json:"since"`
	Items []Exception `json:"exceptions"` // by time
}

// Verify returns the exceptions of the history after since ("" for the
// branch's first commit): every commit not arriving by an approved merge,
// judged by the verify package's rule, every receipt whose revision is not
// on the branch, and every change a run applied to repair drift.
func (h *History) Verify(ctx context.Context, since string) (Exceptions, error) {
	x := Exceptions{Branch: h.opts.Branch, Head: h.index.Head, Items: []Exception{}}
	if since == "" && len(h.index.Commits) > 0 {
		since = h.index.Commits[0].Hash
	}
	o := verify.Options{StatusBranch: h.opts.StatusBranch, Logger: h.log}
	if gh := h.opts.GitHub; gh != nil {
		o.Approvals = func(r *git.Repository, c history.Commit) check.Approvals {
			return eitherApprovals{gh: gh, repo: r, commit: c.Hash}
		}
	}
	rep, err := verify.Approved(ctx, h.path, h.opts.Branch, since, o)
	if err != nil {
		return Exceptions{}, err
	}
	x.Since = rep.Since
	for _, v := range rep.Refused() {
		x.Items = append(x.Items, Exception{Kind: Unapproved, At: v.Commit.Committer.When.UTC(), Commit: v.Commit.Hash,
			Author: v.Commit.Author.String(), Subject: v.Commit.Subject(), Text: v.Reason, Cured: v.Cured})
	}
	for _, r := range h.receipts {
		if _, ok := h.index.Position(r.Revision); !ok {
			what := "applied"
			if r.Refused != nil {
				what = "refused"
			}
			x.Items = append(x.Items, Exception{Kind: UnknownRevision, At: r.AppliedAt.UTC(), Commit: r.Revision,
				Text: fmt.Sprintf("a run %s revision %s, which is not on %s's history: find where it came from", what, short(r.Revision), h.opts.Branch)})
		}
		if r.Refused != nil {
			continue
		}
		for _, e := range r.Changes {
			if !isDrift(e) {
				continue
			}
			x.Items = append(x.Items, Exception{Kind: DriftRepaired, At: r.AppliedAt.UTC(), Commit: r.Revision, Account: e.Account,
				Text: fmt.Sprintf("%s %s: %s", entryText(e), e.DN, e.Reason)})
		}
	}
	sort.SliceStable(x.Items, func(i, j int) bool { return x.Items[i].At.Before(x.Items[j].At) })
	return x, nil
}

// eitherApprovals reads a merge's approvals from GitHub when GitHub knows
// the pull request it merged, and from its Approved-by trailers otherwise,
// so a history that moved to GitHub part-way is judged by what each merge had.
type eitherApprovals struct {
	gh     GitHub
	repo   *git.Repository
	commit string
}

func (e eitherApprovals) Request(ctx context.Context, people *model.Repository) (*approval.Request, error) {
	rq, err := check.GitHubMerge{Client: e.gh, Commit: e.commit}.Request(ctx, people)
	if errors.Is(err, check.ErrNoPullRequest) {
		return check.Trailers{Repo: e.repo, Commit: e.commit}.Request(ctx, people)
	}
	return rq, err
}
