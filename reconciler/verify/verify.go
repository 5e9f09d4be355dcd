// Package verify re-checks, before anything is applied, that what would be
// applied was approved: that every file alm reads holds, at the branch's
// head, content an approved merge brought in (or the content of the last
// applied revision). A commit pushed straight to the branch, or a merge the
// policies deny, is refused by name, so that `alm apply --require-approved`
// provisions nothing that was not approved; once none of its changes remain
// at head (it was reverted), it no longer blocks.
//
// The rule, file by file (alm.yaml, templates/, people/, service-accounts/,
// roles/, policies/*.rego: what package load reads). Walking the first-parent
// history since the last applied revision, each file has a last approved
// content: its content at that revision, or what an approved merge set.
//
//   - A commit that is not an approved merge (pushed straight, merged without
//     a pull request, or denied by the policies) leaves each file it changes
//     unapproved, unless the new content is the last approved content (a
//     revert). Restoring an older approved version does not count: it could
//     grant again what a later approved merge revoked.
//   - An approved merge sets the last approved content of the files it
//     changes only when nothing alm reads was unapproved at its first parent.
//     The policies, people, roles and templates that decide whether a merge
//     is approved are read at that first parent, so an unapproved edit there
//     (an approver added, a policy weakened) could be what approved it; and a
//     merge that edits other lines of an unapproved file does not approve the
//     lines it did not touch. Such a merge, too, leaves what it changed
//     unapproved unless it restores the last approved content.
//
// The run is refused while any file is unapproved at head, naming the files,
// the commits responsible and the content that would restore each.
package verify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"

	"github.com/go-git/go-git/v5"

	"github.com/alm-project/alm/reconciler/check"
	"github.com/alm-project/alm/reconciler/history"
	"github.com/alm-project/alm/reconciler/load"
	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/policy"
)

// ErrUnapproved: files alm reads hold, at head, changes no approved merge brought in.
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
	Commit history.Commit `json:"commit"`
	// Approved: an approved merge that passes the policies, judged on a
	// first parent holding only approved content (or one whose every change
	// restores approved content).
	Approved   bool               `json:"approved"`
	Reason     string             `json:"reason,omitempty"` // why it is not approved
	Violations []policy.Violation `json:"violations,omitempty"`
	// Unapproved are the files alm reads that hold, at head, content this
	// commit brought in without approval, or built on.
	Unapproved []string `json:"unapproved,omitempty"`
	// Cured: not approved, but none of its changes to files alm reads
	// remain unapproved at head (reverted, or it changed no such file), so
	// it does not block.
	Cured bool `json:"cured,omitempty"`
}

// Blocks reports whether the commit keeps the run from going on.
func (v Verdict) Blocks() bool { return !v.Approved && !v.Cured }

// File is a file alm reads whose content at head was not approved.
type File struct {
	Path string `json:"path"`
	// ApprovedAt is the commit holding its last approved content: the last
	// applied revision or the approved merge that last set it; "" when the
	// whole history was checked and no approved merge ever set it.
	ApprovedAt string `json:"approvedAt"`
	// Absent: the file did not exist in its last approved state, so
	// removing it restores that state.
	Absent  bool     `json:"absent,omitempty"`
	Commits []string `json:"commits"` // the commits responsible, oldest first
}

// Report is the outcome of a verification.
type Report struct {
	Branch string `json:"branch"`
	Head   string `json:"head"`
	// StatusBranch is where the receipts are, and where a refusal's goes.
	StatusBranch string `json:"statusBranch"`
	// Since is the revision verification started after: the last applied
	// revision, or "" when there is no receipt and the whole branch was checked.
	Since   string    `json:"since"`
	Commits []Verdict `json:"commits"` // oldest first
	// Unapproved are the files holding unapproved content at head, by path;
	// the run may go on only when there are none.
	Unapproved []File `json:"unapproved"`
	// Approved is the newest revision at which every file alm reads held
	// approved content (Since when there is none); apply nothing past it.
	Approved string `json:"approved"`
}

// OK reports whether everything alm would apply at head was approved.
func (r Report) OK() bool { return len(r.Unapproved) == 0 }

// Refused returns the verdicts of the commits that were not approved,
// those cured by a later revert included.
func (r Report) Refused() []Verdict {
	var out []Verdict
	for _, v := range r.Commits {
		if !v.Approved {
			out = append(out, v)
		}
	}
	return out
}

// Blocking returns the refused commits whose changes remain at head.
func (r Report) Blocking() []Verdict {
	var out []Verdict
	for _, v := range r.Commits {
		if v.Blocks() {
			out = append(out, v)
		}
	}
	return out
}

// Err is nil when everything at head was approved, and otherwise an error
// wrapping ErrUnapproved that names each commit whose changes remain, why
// it was refused, each file to restore and how, and what makes the next run
// go on.
func (r Report) Err() error {
	if r.OK() {
		return nil
	}
	var b strings.Builder
	blocking := r.Blocking()
	for _, v := range blocking {
		fmt.Fprintf(&b, "  %s %q by %s: %s\n", v.Commit.Short(), v.Commit.Subject(), v.Commit.Author, v.Reason)
	}
	b.WriteString("Files alm reads that hold content no approved merge brought in, and what restores each:\n")
	var never []string // never approved, in a history checked from its root
	for _, f := range r.Unapproved {
		by := make([]string, len(f.Commits))
		for i, c := range f.Commits {
			by[i] = short(c)
		}
		switch {
		case f.ApprovedAt == "":
			never = append(never, f.Path)
		case f.Absent:
			fmt.Fprintf(&b, "  %s (from %s): remove it (git rm %s); it did not exist at %s\n", f.Path, strings.Join(by, ", "), f.Path, short(f.ApprovedAt))
		default:
			fmt.Fprintf(&b, "  %s (from %s): restore it as it was at %s (git checkout %s -- %s)\n", f.Path, strings.Join(by, ", "), short(f.ApprovedAt), short(f.ApprovedAt), f.Path)
		}
	}
	if len(never) > 0 {
		fmt.Fprintf(&b, "  %d %s no approved merge ever set (%s): alm has never applied this branch, so its whole history was checked; "+
			"once you have reviewed the history up to a commit, pass --approved-since <that commit>\n", len(never), plural(len(never), "file"), listPaths(never))
	}
	if cured := len(r.Refused()) - len(blocking); cured > 0 {
		fmt.Fprintf(&b, "%d other refused %s no longer %s: none of %s changes to files alm reads remain at head.\n",
			cured, plural(cured, "commit"), plural1(cured, "blocks", "block"), plural1(cured, "its", "their"))
	}
	b.WriteString("Commit those restorations - merged through a pull request or pushed straight, either works - and run again: " +
		"the run goes on once every file alm reads holds approved content. To keep a change, restore the file first, then bring the change in again " +
		"through a pull request that passes alm check. A later pull request that edits other lines of the file does not approve it, " +
		"and neither does restoring an older approved version.")
	return fmt.Errorf("%w: %d of %d commits on %s since %s were not approved and their changes remain at head, so nothing is applied:\n%s",
		ErrUnapproved, len(blocking), len(r.Commits), r.Branch, orRoot(r.Since), b.String())
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

func plural1(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// trust is, per file alm reads, its last approved content (blob hash, ""
// for absent) and the commit that set it, and the commits responsible for
// each file whose content at the current commit is not approved.
type trust struct {
	since      string
	commits    []history.Commit
	content    map[string]string // last approved blob, once a file has been seen to change
	approvedAt map[string]string // the commit holding that content
	blame      map[string][]int  // unapproved files -> indexes of the commits responsible
}

// Approved verifies the first-parent history of branch in the Git
// repository at repoPath after since. With since empty it starts after the
// revision of the newest receipt on the status branch, or at the root when
// there is none. Each merge's change is re-checked at its commit time with
// its approvals; then the rule of the package comment decides, file by
// file, what at head was approved. An error means the verification could
// not run; refusals are in the Report (see Report.Err).
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
	rep := Report{Branch: branch, Head: head, StatusBranch: o.StatusBranch, Since: since, Approved: since, Commits: []Verdict{}, Unapproved: []File{}}
	t := &trust{since: since, commits: commits, content: map[string]string{}, approvedAt: map[string]string{}, blame: map[string][]int{}}
	parent := since
	for i, c := range commits {
		v, err := verdict(ctx, r, c, o)
		if err != nil {
			return Report{}, err
		}
		changes, err := history.Changed(ctx, r, parent, c.Hash, load.Reads)
		if err != nil {
			return Report{}, fmt.Errorf("files changed by %s: %w", c.Short(), err)
		}
		v = t.step(i, v, changes)
		log.Info("verified", "commit", c.Short(), "approved", v.Approved, "reason", v.Reason, "unapprovedFiles", len(t.blame))
		rep.Commits = append(rep.Commits, v)
		if len(t.blame) == 0 {
			rep.Approved = c.Hash
		}
		parent = c.Hash
	}
	for _, path := range slices.Sorted(maps.Keys(t.blame)) {
		f := File{Path: path, ApprovedAt: t.approvedAt[path], Absent: t.content[path] == ""}
		for _, i := range t.blame[path] {
			f.Commits = append(f.Commits, commits[i].Hash)
			rep.Commits[i].Unapproved = append(rep.Commits[i].Unapproved, path)
		}
		rep.Unapproved = append(rep.Unapproved, f)
	}
	for i := range rep.Commits {
		v := &rep.Commits[i]
		v.Cured = !v.Approved && len(v.Unapproved) == 0
	}
	return rep, nil
}

// step applies one commit's file changes to the trust state, given the
// verdict on its approvals, and returns the verdict on what it brought in.
func (t *trust) step(i int, v Verdict, changes []history.FileChange) Verdict {
	baseApproved := len(t.blame) == 0
	var before []string // unapproved files at the first parent, for the reason
	if !baseApproved {
		before = slices.Sorted(maps.Keys(t.blame))
	}
	var responsible []int
	for _, p := range before {
		responsible = append(responsible, t.blame[p]...)
	}
	var left []string // files this commit leaves unapproved
	for _, ch := range changes {
		if _, seen := t.content[ch.Path]; !seen {
			// Untouched since the start: its content there is the From side.
			t.content[ch.Path], t.approvedAt[ch.Path] = ch.From, t.since
		}
		switch {
		case ch.To == t.content[ch.Path]:
			delete(t.blame, ch.Path) // restored: a revert
		case v.Approved && baseApproved:
			t.content[ch.Path], t.approvedAt[ch.Path] = ch.To, v.Commit.Hash
		default:
			if !slices.Contains(t.blame[ch.Path], i) {
				t.blame[ch.Path] = append(t.blame[ch.Path], i)
			}
			left = append(left, ch.Path)
		}
	}
	if v.Approved && len(left) > 0 {
		// Approved by the policies, but judged on unapproved content.
		v.Approved = false
		v.Reason = fmt.Sprintf("merged with approvals, but onto unapproved content (%s, from %s): the policies, people, roles and templates "+
			"that approve a merge are read at its first parent, and a merge approves only the lines it changes", listPaths(before), t.list(responsible))
	}
	return v
}

func listPaths(paths []string) string {
	if len(paths) > 3 {
		return strings.Join(paths[:3], ", ") + fmt.Sprintf(" and %d more", len(paths)-3)
	}
	return strings.Join(paths, ", ")
}

// list names commits by short hash, each once, oldest first.
func (t *trust) list(idx []int) string {
	slices.Sort(idx)
	idx = slices.Compact(idx)
	parts := make([]string, len(idx))
	for i, n := range idx {
		parts[i] = t.commits[n].Short()
	}
	return strings.Join(parts, ", ")
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
	return short(since)
}

func short(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}
