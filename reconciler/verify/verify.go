// Package verify re-checks, before anything is applied, that every commit
// that reached the branch since the last receipt arrived through an approved
// merge that passes the policies. A commit pushed straight to the branch, or
// a merge the policies deny, is refused by name, so that `alm apply
// --require-approved` provisions nothing that was not approved.
package verify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/go-git/go-git/v5"

	"github.com/alm-project/alm/reconciler/check"
	"github.com/alm-project/alm/reconciler/history"
	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/policy"
)

// ErrUnapproved: at least one commit on the branch was not approved.
var ErrUnapproved = errors.New("unapproved commits on the branch")

// Options tune the verification.
type Options struct {
	// StatusBranch holds the receipts; default model.DefaultStatusBranch.
	StatusBranch string
	// Approvals returns where a merge commit's approvals come from; nil
	// reads the Approved-by trailers of the merge commit (check.Trailers).
	// For GitHub, return check.GitHubMerge{Client: c, Commit: commit.Hash}.
	Approvals func(r *git.Repository, commit history.Commit) check.Approvals
	Logger    *slog.Logger
}

// Verdict is one commit's outcome.
type Verdict struct {
	Commit     history.Commit     `json:"commit"`
	Approved   bool               `json:"approved"`
	Reason     string             `json:"reason,omitempty"` // why it was refused
	Violations []policy.Violation `json:"violations,omitempty"`
}

// Report is the outcome of a verification.
type Report struct {
	Branch string `json:"branch"`
	Head   string `json:"head"`
	// Since is the revision verification started after: the last applied
	// revision, or "" when there is no receipt and the whole branch was checked.
	Since   string    `json:"since"`
	Commits []Verdict `json:"commits"` // oldest first
	// Approved is the newest revision up to which every commit is approved
	// (Since when the first one is refused); apply nothing past it.
	Approved string `json:"approved"`
}

// OK reports whether every commit was approved.
func (r Report) OK() bool { return len(r.Refused()) == 0 }

// Refused returns the verdicts of the commits that were not approved.
func (r Report) Refused() []Verdict {
	var out []Verdict
	for _, v := range r.Commits {
		if !v.Approved {
			out = append(out, v)
		}
	}
	return out
}

// Err is nil when every commit was approved, and otherwise an error wrapping
// ErrUnapproved that names each refused commit and why.
func (r Report) Err() error {
	refused := r.Refused()
	if len(refused) == 0 {
		return nil
	}
	lines := make([]string, 0, len(refused))
	for _, v := range refused {
		lines = append(lines, fmt.Sprintf("  %s %q by %s: %s", v.Commit.Short(), v.Commit.Subject(), v.Commit.Author, v.Reason))
	}
	todo := "Bring each change in through a pull request that passes alm check (or revert it there), then run again."
	if r.Since == "" {
		todo += " alm has never applied this branch, so its whole history was checked: once you have reviewed the history up to a commit, pass --approved-since <that commit>."
	}
	return fmt.Errorf("%w: %d of %d commits on %s since %s were not approved, so nothing is applied:\n%s\n%s",
		ErrUnapproved, len(refused), len(r.Commits), r.Branch, orRoot(r.Since), strings.Join(lines, "\n"), todo)
}

// Approved verifies the first-parent history of branch in the Git
// repository at repoPath after since. With since empty it starts after the
// revision of the newest receipt on the status branch, or at the root when
// there is none. Each commit must be a merge whose change, re-checked at its
// commit time with its approvals, passes the policies. An error means the
// verification could not run; refusals are in the Report (see Report.Err).
func Approved(ctx context.Context, repoPath, branch, since string, o Options) (Report, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if o.StatusBranch == "" {
		o.StatusBranch = model.DefaultStatusBranch
	}
	r, err := history.Open(repoPath)
	if err != nil {
		return Report{}, err
	}
	head, err := history.Resolve(r, branch)
	if err != nil {
		return Report{}, err
	}
	if since == "" {
		if since, err = history.LastApplied(ctx, r, o.StatusBranch); err != nil {
			return Report{}, err
		}
		log.Debug("last applied revision", "statusBranch", o.StatusBranch, "revision", since)
	}
	if since != "" {
		if since, err = history.Resolve(r, since); err != nil {
			return Report{}, fmt.Errorf("last applied revision: %w", err)
		}
	}
	commits, err := history.FirstParents(ctx, r, head, since)
	if err != nil {
		return Report{}, fmt.Errorf("history of %s since %s: %w", branch, orRoot(since), err)
	}
	rep := Report{Branch: branch, Head: head, Since: since, Approved: since, Commits: []Verdict{}}
	good := true
	for _, c := range commits {
		v, err := verdict(ctx, r, c, o)
		if err != nil {
			return Report{}, err
		}
		log.Info("verified", "commit", c.Short(), "approved", v.Approved, "reason", v.Reason)
		rep.Commits = append(rep.Commits, v)
		if good && v.Approved {
			rep.Approved = c.Hash
		} else {
			good = false
		}
	}
	return rep, nil
}

func verdict(ctx context.Context, r *git.Repository, c history.Commit, o Options) (Verdict, error) {
	v := Verdict{Commit: c}
	if !c.IsMerge() {
		v.Reason = "pushed straight to the branch, not merged from an approved pull request"
		return v, nil
	}
	var approvals check.Approvals = check.Trailers{Repo: r, Commit: c.Hash}
	if o.Approvals != nil {
		approvals = o.Approvals(r, c)
	}
	res, err := check.Run(ctx, r, check.Options{
		Base: c.Parents[0], Head: c.Hash, Now: c.Committer.When,
		Approvals: approvals, Logger: o.Logger,
	})
	if errors.Is(err, check.ErrNoPullRequest) {
		v.Reason = "merged without a pull request"
		return v, nil
	}
	if err != nil {
		return Verdict{}, fmt.Errorf("re-check merge %s: %w", c.Short(), err)
	}
	if res.Denied {
		denied, _ := res.Counts()
		var first string
		for _, x := range res.Violations {
			if x.Severity == policy.Deny {
				v.Violations = append(v.Violations, x)
				if first == "" {
					first = x.String()
				}
			}
		}
		v.Reason = fmt.Sprintf("the merge does not pass the policies (%d denied; first: %s)", denied, first)
		return v, nil
	}
	v.Approved = true
	return v, nil
}

func orRoot(since string) string {
	if since == "" {
		return "the first commit"
	}
	if len(since) > 12 {
		return since[:12]
	}
	return since
}
