package renew

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/alm-project/alm/reconciler/model"
)

// Host is what opening the pull requests needs of the Git host
// (connectors/github.Client implements it).
type Host interface {
	// PullRequestsFrom lists the numbers of pull requests from a branch,
	// in any state.
	PullRequestsFrom(ctx context.Context, branch string) ([]int, error)
	DefaultBranch(ctx context.Context) (name, sha string, err error)
	Branch(ctx context.Context, name string) (sha string, ok bool, err error)
	CreateBranch(ctx context.Context, name, sha string) error
	File(ctx context.Context, path, ref string) (content []byte, sha string, err error)
	UpdateFile(ctx context.Context, branch, path, message string, content []byte, sha string) error
	OpenPullRequest(ctx context.Context, head, base, title, body string) (number int, url string, err error)
	RequestReviewers(ctx context.Context, number int, logins []string) error
}

// Opened is what became of one proposal.
type Opened struct {
	Proposal
	// Number and URL are the pull request's; Existing is set instead when
	// one from the branch already exists, in any state, and nothing was done.
	Number   int    `json:"number,omitempty"`
	URL      string `json:"url,omitempty"`
	Existing []int  `json:"existing,omitempty"`
	Error    string `json:"error,omitempty"`
}

// Report is what a run of Open did.
type Report struct {
	Opened  []Opened  `json:"opened"`
	Skipped []Skipped `json:"skipped"`
}

// Open opens, once, the pull request of each proposal Due finds in repo at
// now: on its branch, created from the default branch's head, one commit
// editing the account's file, the owner asked to review. A branch that
// already has a pull request, open, merged or closed, is left alone, so a
// closed renewal lets the account expire. A proposal that fails does not
// stop the others; the error joins them all and the report says which.
func Open(ctx context.Context, h Host, repo *model.Repository, now time.Time, log *slog.Logger) (Report, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	due, skipped := Due(repo, now)
	rep := Report{Opened: []Opened{}, Skipped: append([]Skipped{}, skipped...)}
	for _, s := range skipped {
		log.Warn("no renewal pull request", "account", s.Account, "file", s.File, "why", s.Why)
	}
	var errs []error
	for _, p := range due {
		o, err := open(ctx, h, p)
		if err != nil {
			o.Error = err.Error()
			errs = append(errs, fmt.Errorf("%s pull request for %s (%s): %w", p.Kind, p.Account, p.File, err))
			log.Error("pull request not opened", "kind", p.Kind, "account", p.Account, "branch", p.Branch, "err", err)
		} else if o.Number != 0 {
			log.Info("pull request opened", "kind", p.Kind, "account", p.Account, "branch", p.Branch, "number", o.Number, "url", o.URL)
		}
		rep.Opened = append(rep.Opened, o)
	}
	return rep, errors.Join(errs...)
}

func open(ctx context.Context, h Host, p Proposal) (Opened, error) {
	o := Opened{Proposal: p}
	existing, err := h.PullRequestsFrom(ctx, p.Branch)
	if err != nil {
		return o, err
	}
	if len(existing) > 0 {
		o.Existing = existing
		return o, nil
	}
	base, head, err := h.DefaultBranch(ctx)
	if err != nil {
		return o, err
	}
	// A run that stopped after making the branch left it: go on from it.
	if _, ok, err := h.Branch(ctx, p.Branch); err != nil {
		return o, err
	} else if !ok {
		if err := h.CreateBranch(ctx, p.Branch, head); err != nil {
			return o, err
		}
	}
	data, sha, err := h.File(ctx, p.File, p.Branch)
	if err != nil {
		return o, err
	}
	edited, err := p.Edit(data)
	if err != nil {
		return o, err
	}
	if !bytes.Equal(edited, data) {
		if err := h.UpdateFile(ctx, p.Branch, p.File, p.Title(), edited, sha); err != nil {
			return o, err
		}
	}
	if o.Number, o.URL, err = h.OpenPullRequest(ctx, p.Branch, base, p.Title(), p.Body()); err != nil {
		return o, err
	}
	if p.Reviewer != "" {
		if err := h.RequestReviewers(ctx, o.Number, []string{p.Reviewer}); err != nil {
			return o, err
		}
	}
	return o, nil
}

// Title is the pull request's title, and its commit's message.
func (p Proposal) Title() string {
	if p.Kind == Retire {
		return "Retire " + p.Account
	}
	return fmt.Sprintf("Renew %s until %s", p.Account, p.Renewed)
}

// Body says why the pull request exists, what merging does and what
// closing does.
func (p Proposal) Body() string {
	var b strings.Builder
	owner := p.Owner
	if p.Reviewer != "" {
		owner += " (@" + p.Reviewer + ")"
	}
	switch p.Kind {
	case Retire:
		fmt.Fprintf(&b, "Service account **%s** expired on %s and its template %s retires accounts at the end of their life (renewal.retire).\n\n", p.Account, p.Expires, p.Template)
		fmt.Fprintf(&b, "- **Merge** to retire it: `%s` gets `state: retired`, and the next run of alm retires the account in the directory.\n", p.File)
		fmt.Fprintf(&b, "- **Close** to leave it as it is: expired, it %s; alm will not open this pull request again.\n", p.EndNote)
		b.WriteString("- To keep the account instead, merge a renewal (or edit `spec.expires`).\n")
	default:
		fmt.Fprintf(&b, "Service account **%s** expires on %s, within %s (its template %s's renewal.before).\n\n", p.Account, p.Expires, p.Before, p.Template)
		fmt.Fprintf(&b, "This moves `spec.expires` in `%s` from %s to %s", p.File, p.Expires, p.Renewed)
		if p.Capped {
			fmt.Fprintf(&b, ": lifetime.default (%s) would go past lifetime.max (%s) from spec.created %s, so it is held there. After that it cannot be renewed again without a new request.\n\n", p.Lifetime, p.Max, p.Created)
		} else {
			fmt.Fprintf(&b, ", by the template's lifetime.default (%s).\n\n", p.Lifetime)
		}
		fmt.Fprintf(&b, "- **Merge** to renew: the next run of alm sets the account's expiry to %s.\n", p.Renewed)
		fmt.Fprintf(&b, "- **Close** to let it expire: on %s it %s. alm will not open this pull request again.\n", p.Expires, p.EndNote)
	}
	fmt.Fprintf(&b, "\nThe owner, %s, is asked to review. The approvals the template asks for apply as to any change.\n", owner)
	return b.String()
}
