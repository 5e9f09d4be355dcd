package hr

import (
	"context"
	"fmt"
	"sort"
)

// Branch is the branch an HR sync's pull request comes from: one, so that
// a sync updates the pull request still open rather than opening another.
const Branch = "alm/hr/sync"

// Host is what delivering a sync needs of the Git host
// (connectors/github.Client implements it).
type Host interface {
	DefaultBranch(ctx context.Context) (name, sha string, err error)
	// Commit makes one commit on branch over parent: put written, del deleted.
	Commit(ctx context.Context, branch, parent, message string, put map[string][]byte, del []string) (string, error)
	OpenPullRequestFrom(ctx context.Context, branch string) (number int, ok bool, err error)
	OpenPullRequest(ctx context.Context, head, base, title, body string) (number int, url string, err error)
	EditPullRequest(ctx context.Context, number int, title, body string) error
	ClosePullRequest(ctx context.Context, number int, comment string) error
}

// Delivered is what became of the pull request.
type Delivered struct {
	Number  int    `json:"number,omitempty"`
	URL     string `json:"url,omitempty"`
	Commit  string `json:"commit,omitempty"`
	Opened  bool   `json:"opened,omitempty"`  // a new pull request
	Updated bool   `json:"updated,omitempty"` // the open one, its branch moved to the new commit
	Closed  bool   `json:"closed,omitempty"`  // the open one, closed: the export asks for nothing now
}

// ErrBaseMoved: the default branch is not at the revision the sync read.
type ErrBaseMoved struct{ Read, Head string }

func (e *ErrBaseMoved) Error() string {
	return fmt.Sprintf("the sync read revision %s, but the default branch is at %s now: fetch and run again, so that the pull request is made on what the branch holds", short(e.Read), short(e.Head))
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// Deliver makes the result one commit on Branch over the default branch's
// head, which must be read, the revision the result was computed from (a
// pull request never overwrites what was merged since), and opens the
// pull request, or updates the one still open: its branch moves to the
// new commit and its title and description are rewritten. An export that
// asks for nothing closes the open one. A refused result is not delivered.
func Deliver(ctx context.Context, h Host, r *Result, read string) (Delivered, error) {
	var d Delivered
	if r.Refused != "" {
		return d, fmt.Errorf("refused: %s", r.Refused)
	}
	base, head, err := h.DefaultBranch(ctx)
	if err != nil {
		return d, err
	}
	if head != read {
		return d, &ErrBaseMoved{Read: read, Head: head}
	}
	n, open, err := h.OpenPullRequestFrom(ctx, Branch)
	if err != nil {
		return d, err
	}
	if len(r.Files) == 0 {
		if open {
			msg := fmt.Sprintf("The HR export %s, read for %s, asks for no change to %s any more: closing this pull request.", r.File, r.Day, base)
			if err := h.ClosePullRequest(ctx, n, msg); err != nil {
				return d, err
			}
			d.Number, d.Closed = n, true
		}
		return d, nil
	}
	put := map[string][]byte{}
	var del []string
	for p, data := range r.Files {
		if data == nil {
			del = append(del, p)
		} else {
			put[p] = data
		}
	}
	sort.Strings(del)
	msg := fmt.Sprintf("HR sync %s: %s\n\nFrom the HR export %s.\n", r.Day, r.Summary(), r.File)
	if d.Commit, err = h.Commit(ctx, Branch, head, msg, put, del); err != nil {
		return d, err
	}
	if open {
		d.Number, d.Updated = n, true
		return d, h.EditPullRequest(ctx, n, r.Title(), r.Body())
	}
	d.Number, d.URL, err = h.OpenPullRequest(ctx, Branch, base, r.Title(), r.Body())
	d.Opened = err == nil
	return d, err
}
