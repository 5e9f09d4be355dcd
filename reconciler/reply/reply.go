// Package reply tells the people who asked for a change what became of it:
// after an apply, each merged pull request that brought a changed account's
// file gets one comment saying what was done and when, or what failed and
// what happens next. The pull requests are found from the commits that
// arrived on the branch between the last applied revision and this one;
// the comment carries a hidden marker, so a run repeated at the same
// revision never comments twice.
package reply

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/alm-project/alm/connectors/github"
	"github.com/alm-project/alm/reconciler/apply"
	"github.com/alm-project/alm/reconciler/history"
	"github.com/alm-project/alm/reconciler/load"
	"github.com/alm-project/alm/reconciler/plan"
)

// Commenter is what telling needs of GitHub (connectors/github.Client).
type Commenter interface {
	PullRequestsWithCommit(ctx context.Context, sha string) ([]int, error)
	PullRequest(ctx context.Context, number int) (github.PullRequest, error)
	// CommentOnce comments unless alm already left a comment holding marker.
	CommentOnce(ctx context.Context, number int, marker, body string) (github.Comment, bool, error)
}

// Entry is one change of the run and what became of it.
type Entry struct {
	Account string `json:"account"`
	File    string `json:"file"` // the account's file; changes without one are nobody's request
	Action  string `json:"action"`
	Outcome string `json:"outcome"` // applied, failed or skipped (apply.Outcome)
	Error   string `json:"error,omitempty"`
	Detail  string `json:"detail,omitempty"` // the group, or the new DN
}

// Results are the changes of one run, and when it applied them.
type Results struct {
	At      time.Time `json:"at"`
	Entries []Entry   `json:"entries"`
}

// FromApply takes the results of apply.Run, applied at at.
func FromApply(r apply.Result, at time.Time) Results {
	out := Results{At: at}
	for _, c := range r.Changes {
		e := Entry{Account: c.Change.Account, File: c.Change.File, Action: string(c.Change.Action), Outcome: string(c.Outcome), Error: c.Error}
		switch {
		case c.Change.GroupName != "":
			e.Detail = c.Change.GroupName
		case c.Change.NewDN != "":
			e.Detail = c.Change.NewDN
		}
		out.Entries = append(out.Entries, e)
	}
	return out
}

// Told is one pull request's comment.
type Told struct {
	PullRequest int      `json:"pullRequest"`
	Merge       string   `json:"merge"`    // the commit that brought the files
	Accounts    []string `json:"accounts"` // sorted
	Posted      bool     `json:"posted"`   // false: it had been posted before
	URL         string   `json:"url,omitempty"`
	Error       string   `json:"error,omitempty"`
}

// Report is what Tell did.
type Report struct {
	Told []Told `json:"told"`
}

// Marker is the hidden line that makes the comment on pull request pr,
// merged as the commit merge, unique.
func Marker(pr int, merge string) string {
	return fmt.Sprintf("<!-- alm:applied:%d:%s -->", pr, merge)
}

// Tell comments on each merged pull request that brought, between the
// revisions from (the last applied, exclusive; "" for the root) and to (the
// revision just applied), a file of an account the run changed: once per
// pull request and revision. Of several pull requests that changed a file,
// the latest tells: its content is what was applied. A comment that cannot
// be posted does not stop the others; the error joins them all.
func Tell(ctx context.Context, gh Commenter, repoPath, from, to string, res Results, log *slog.Logger) (Report, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rep := Report{Told: []Told{}}
	byFile := map[string][]Entry{}
	for _, e := range res.Entries {
		if e.File != "" {
			byFile[e.File] = append(byFile[e.File], e)
		}
	}
	if len(byFile) == 0 {
		return rep, nil
	}
	if from == "" {
		// The first apply: no receipt says where the last one stopped, and
		// every pull request of the repository's history would be answered.
		log.Info("no earlier applied revision: no pull request is told of this first apply")
		return rep, nil
	}
	r, err := history.Open(repoPath)
	if err != nil {
		return rep, err
	}
	defer load.Close(r)
	if to, err = history.Resolve(r, to); err != nil {
		return rep, err
	}
	commits, err := history.FirstParents(ctx, r, to, from)
	if err != nil {
		return rep, fmt.Errorf("commits from %s to %s: %w", orRoot(from), to, err)
	}
	// The latest commit on the branch that changed each file.
	last := map[string]string{}
	parent := from
	for _, c := range commits {
		changed, err := history.Changed(ctx, r, parent, c.Hash, func(p string) bool { return byFile[p] != nil })
		if err != nil {
			return rep, fmt.Errorf("files changed by %s: %w", c.Short(), err)
		}
		for _, ch := range changed {
			last[ch.Path] = c.Hash
		}
		parent = c.Hash
	}
	files := map[string][]string{} // commit -> files it brought
	var order []string
	for _, c := range commits {
		for _, f := range slices.Sorted(maps.Keys(last)) {
			if last[f] == c.Hash {
				if files[c.Hash] == nil {
					order = append(order, c.Hash)
				}
				files[c.Hash] = append(files[c.Hash], f)
			}
		}
	}
	var errs []error
	for _, commit := range order {
		n, err := pullRequestOf(ctx, gh, commit)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if n == 0 {
			log.Debug("no pull request merged as this commit", "commit", commit)
			continue
		}
		var entries []Entry
		for _, f := range files[commit] {
			entries = append(entries, byFile[f]...)
		}
		t := Told{PullRequest: n, Merge: commit, Accounts: accounts(entries)}
		// Once per pull request and the merge that brought it: a later
		// revision never comments on it again.
		c, posted, err := gh.CommentOnce(ctx, n, Marker(n, commit), Body(n, commit, to, res.At, entries))
		if err != nil {
			t.Error = err.Error()
			errs = append(errs, err)
		} else {
			t.Posted, t.URL = posted, c.URL
			log.Info("requester told", "pr", n, "posted", posted, "accounts", strings.Join(t.Accounts, ","))
		}
		rep.Told = append(rep.Told, t)
	}
	return rep, errors.Join(errs...)
}

// pullRequestOf returns the merged pull request that GitHub merged as
// commit (a merge, squash or rebase), or 0 when it arrived otherwise.
func pullRequestOf(ctx context.Context, gh Commenter, commit string) (int, error) {
	numbers, err := gh.PullRequestsWithCommit(ctx, commit)
	if err != nil {
		return 0, err
	}
	for _, n := range numbers {
		pr, err := gh.PullRequest(ctx, n)
		if err != nil {
			return 0, err
		}
		if pr.Merged && pr.MergeCommit == commit {
			return n, nil
		}
	}
	return 0, nil
}

// Body is the comment on pull request pr, merged as merge, for the
// revision applied: what was done to each account and when, or what failed
// and what happens next.
func Body(pr int, merge, revision string, at time.Time, entries []Entry) string {
	var b strings.Builder
	b.WriteString(Marker(pr, merge) + "\n")
	var failed int
	for _, e := range entries {
		if e.Outcome != string(apply.Applied) {
			failed++
		}
	}
	when := at.Format("2006-01-02 15:04 MST")
	switch {
	case failed == 0:
		fmt.Fprintf(&b, "### ✅ Done: alm applied this pull request on %s\n\n", when)
	case failed == len(entries):
		fmt.Fprintf(&b, "### ❌ Not done yet: alm could not apply this pull request on %s\n\n", when)
	default:
		fmt.Fprintf(&b, "### ⚠️ Partly done: alm applied part of this pull request on %s\n\n", when)
	}
	for _, e := range entries {
		switch apply.Outcome(e.Outcome) {
		case apply.Applied:
			fmt.Fprintf(&b, "- `%s`: %s\n", e.Account, done(e))
		case apply.Failed:
			fmt.Fprintf(&b, "- `%s`: **failed** to be %s: %s. alm tries again on its next run.\n", e.Account, done(e), oneLine(e.Error))
		default:
			fmt.Fprintf(&b, "- `%s`: **not attempted**, to be %s: %s. alm tries again on its next run.\n", e.Account, done(e), oneLine(e.Error))
		}
	}
	fmt.Fprintf(&b, "\nRevision `%s`. The receipt on the status branch records every change.\n", short(revision))
	return b.String()
}

// done says what an action does, in the past tense.
func done(e Entry) string {
	switch plan.Action(e.Action) {
	case plan.Create:
		return "provisioned"
	case plan.Adopt:
		return "adopted (alm's marker written)"
	case plan.SetPassword:
		return "given its first password"
	case plan.Update:
		return "updated"
	case plan.Move:
		return "moved to " + e.Detail
	case plan.Rename:
		return "renamed (" + e.Detail + ")"
	case plan.AddMember:
		return "added to group " + e.Detail
	case plan.RemoveMember:
		return "removed from group " + e.Detail
	case plan.Enable:
		return "enabled"
	case plan.Disable:
		return "disabled"
	case plan.Delete:
		return "retired (deleted)"
	}
	return e.Action
}

func accounts(es []Entry) []string {
	set := map[string]bool{}
	for _, e := range es {
		set[e.Account] = true
	}
	return slices.Sorted(maps.Keys(set))
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func orRoot(rev string) string {
	if rev == "" {
		return "the root"
	}
	return rev
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
