package review

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/notify"
)

// Host is what opening the pull requests needs of the Git host
// (connectors/github.Client implements it).
type Host interface {
	// PullRequestsFrom lists the numbers of pull requests from a branch, in any state.
	PullRequestsFrom(ctx context.Context, branch string) ([]int, error)
	DefaultBranch(ctx context.Context) (name, sha string, err error)
	Branch(ctx context.Context, name string) (sha string, ok bool, err error)
	CreateBranch(ctx context.Context, name, sha string) error
	File(ctx context.Context, path, ref string) (content []byte, sha string, err error)
	UpdateFile(ctx context.Context, branch, path, message string, content []byte, sha string) error
	OpenPullRequest(ctx context.Context, head, base, title, body string) (number int, url string, err error)
	RequestReviewers(ctx context.Context, number int, logins []string) error
}

// Opened is what became of one request.
type Opened struct {
	Request
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

// Open opens, once, the pull request of each review Due finds in repo at
// now: on its branch, created from the default branch's head, a commit per
// account moving spec.reviewed to today, the reviewer asked to review. A
// branch that already has a pull request, open, merged or closed, is left
// alone: a closed review lets the grace run out. A request that fails does
// not stop the others; the error joins them all and the report says which.
func Open(ctx context.Context, h Host, repo *model.Repository, now time.Time, log *slog.Logger) (Report, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	due, skipped := Due(repo, now)
	rep := Report{Opened: []Opened{}, Skipped: append([]Skipped{}, skipped...)}
	for _, s := range skipped {
		log.Warn("no access review", "account", s.Account, "file", s.File, "why", s.Why)
	}
	var errs []error
	for _, r := range due {
		o, err := open(ctx, h, r)
		if err != nil {
			o.Error = err.Error()
			errs = append(errs, fmt.Errorf("access review of %s (branch %s): %w", r.Reviewer, r.Branch, err))
			log.Error("pull request not opened", "reviewer", r.Reviewer, "branch", r.Branch, "err", err)
		} else if o.Number != 0 {
			log.Info("pull request opened", "reviewer", r.Reviewer, "branch", r.Branch, "accounts", len(r.Accounts), "number", o.Number, "url", o.URL)
		}
		rep.Opened = append(rep.Opened, o)
	}
	return rep, errors.Join(errs...)
}

func open(ctx context.Context, h Host, r Request) (Opened, error) {
	o := Opened{Request: r}
	existing, err := h.PullRequestsFrom(ctx, r.Branch)
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
	if _, ok, err := h.Branch(ctx, r.Branch); err != nil {
		return o, err
	} else if !ok {
		if err := h.CreateBranch(ctx, r.Branch, head); err != nil {
			return o, err
		}
	}
	for _, a := range r.Accounts {
		data, sha, err := h.File(ctx, a.File, r.Branch)
		if err != nil {
			return o, fmt.Errorf("%s: %w", a.File, err)
		}
		edited, err := Edit(a.File, data, r.Reviewed.String())
		if err != nil {
			return o, err
		}
		if !bytes.Equal(edited, data) {
			msg := fmt.Sprintf("Review %s: reviewed %s (%s)", a.Name, r.Reviewed, r.Reviewer)
			if err := h.UpdateFile(ctx, r.Branch, a.File, msg, edited, sha); err != nil {
				return o, fmt.Errorf("%s: %w", a.File, err)
			}
		}
	}
	if o.Number, o.URL, err = h.OpenPullRequest(ctx, r.Branch, base, r.Title(), r.Body()); err != nil {
		return o, err
	}
	if r.GitHub != "" {
		if err := h.RequestReviewers(ctx, o.Number, []string{r.GitHub}); err != nil {
			return o, err
		}
	}
	return o, nil
}

// Title is the pull request's title.
func (r Request) Title() string {
	n := len(r.Accounts)
	s := "s"
	if n == 1 {
		s = ""
	}
	return fmt.Sprintf("Access review for %s: %d account%s due by %s", r.Reviewer, n, s, r.Due)
}

// Body lists the accounts in order with what each holds, and says what
// merging, removing a role line and closing do.
func (r Request) Body() string {
	var b strings.Builder
	who := r.Name
	if r.GitHub != "" {
		who += " (@" + r.GitHub + ")"
	}
	fmt.Fprintf(&b, "%s, please review the access of these accounts: their templates ask you to confirm it on a schedule (review.by). Privileged access comes first.\n\n", who)
	for i, a := range r.Accounts {
		kind := "person"
		if a.Kind == model.KindServiceAccount {
			kind = "service account"
		}
		fmt.Fprintf(&b, "%d. **%s** (%s, `%s`): due %s, every %s from %s", i+1, a.Name, kind, a.File, a.Due, a.Every, a.From)
		switch {
		case a.Disabled:
			fmt.Fprintf(&b, "; **disabled since %s** for want of this review: merging enables it again", a.DisableOn)
		case !a.DisableOn.IsZero():
			fmt.Fprintf(&b, "; disabled on %s unless this is merged", a.DisableOn)
		}
		b.WriteString("\n")
		if len(a.Risk) > 0 {
			fmt.Fprintf(&b, "   - why it is here: %s\n", strings.Join(a.Risk, "; "))
		}
		if len(a.Roles) == 0 {
			b.WriteString("   - no roles\n")
		}
		for _, role := range a.Roles {
			line := "   - role " + role.Name
			if role.Privileged {
				line += " (privileged)"
			}
			if len(role.Groups) > 0 {
				line += ": " + strings.Join(role.Groups, ", ")
			}
			switch {
			case role.Birthright:
				line += " - by birthright, from the person's department, type or title: change those to revoke it"
			case role.Line > 0:
				line += fmt.Sprintf(" - line %d", role.Line)
			}
			b.WriteString(line + "\n")
		}
	}
	fmt.Fprintf(&b, "\nThis pull request moves `spec.reviewed` of each account to %s.\n\n", r.Reviewed)
	b.WriteString("- **Merge** to confirm: the review dates move, and the next review falls due a period later.\n")
	b.WriteString("- **Remove a role line** from a file in this pull request (Files changed, edit the file) and merge to revoke that access: the next run of alm removes the role's group memberships.\n")
	b.WriteString("- **Close** to confirm nothing: where the template has a review.grace, the grace runs out and alm disables the account until a review is merged. alm does not open this pull request again.\n")
	b.WriteString("\nThe approvals the templates ask for apply as to any change.\n")
	return b.String()
}

// MessageKind is the notify.Message kind of a review request.
const MessageKind = "review"

// Messages are the notices that tell each reviewer of their pull request:
// one per request that has one (opened now, or found from an earlier run),
// with an ID naming the branch, so a ledger that keeps what was sent tells
// each reviewer once and retries one that failed. The reviewer is the
// recipient, reached by the channels alm.yaml configures.
func (r Report) Messages(now time.Time) []notify.Message {
	var out []notify.Message
	for _, o := range r.Opened {
		if o.Number == 0 && len(o.Existing) == 0 {
			continue
		}
		where := o.URL
		switch {
		case o.Number != 0 && where == "":
			where = fmt.Sprintf("pull request #%d", o.Number)
		case o.Number == 0:
			where = fmt.Sprintf("pull request #%d", o.Existing[0])
		}
		var names []string
		for _, a := range o.Accounts {
			names = append(names, a.Name)
		}
		m := notify.Message{
			ID:      "review:" + o.Branch,
			Kind:    MessageKind,
			Subject: fmt.Sprintf("Access review due: %d account(s) by %s", len(o.Accounts), o.Due),
			Text: fmt.Sprintf("%s, the access of %s is due for your review (due by %s).\n\nReview it in %s: merge to confirm, remove a role line to revoke it, or close to confirm nothing (where the template has a grace, the account is then disabled when it runs out).\n",
				o.Name, strings.Join(names, ", "), o.Due, where),
			Date:  o.Due.Time,
			DueAt: now,
			To:    []notify.Recipient{{Login: o.Reviewer, Name: o.Name, Email: o.Email, GitHub: o.GitHub, Role: "reviewer"}},
		}
		if len(o.Accounts) == 1 {
			m.Account, m.AccountID, m.File = o.Accounts[0].Name, o.Accounts[0].ID, o.Accounts[0].File
		}
		out = append(out, m)
	}
	return out
}
