// Package audit reads the access repository's history out for an auditor:
// an account's timeline across renames (requested, approved, changed,
// applied, notified, drift reverted, disabled, renamed, retired), who held
// which account and groups at an instant and what was granted and removed
// between two, and the exceptions - changes that did not arrive by an
// approved merge, receipts of revisions not on the branch, and drift. It
// works from an index of the branch's first-parent diffs, built once and
// cached by head commit, and from the receipts on the status branch; it
// loads a whole revision only where a question needs one (access at an
// instant), and reads approvals from Approved-by trailers or GitHub reviews.
package audit

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"

	"github.com/alm-project/alm/reconciler/approval"
	"github.com/alm-project/alm/reconciler/check"
	"github.com/alm-project/alm/reconciler/history"
	"github.com/alm-project/alm/reconciler/load"
	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/receipt"
)

// GitHub is what audit needs of GitHub to read a merge's pull request and
// its reviews (connectors/github.Client satisfies it).
type GitHub interface {
	check.GitHubReviews
	PullRequestsWithCommit(ctx context.Context, sha string) ([]int, error)
}

// Options say where the history is and how to read it.
type Options struct {
	// Branch is the branch audited; default HEAD.
	Branch string
	// StatusBranch holds the receipts; default alm.yaml's statusBranch at
	// the branch's head, else model.DefaultStatusBranch.
	StatusBranch string
	// CacheDir keeps the index between runs; default the repository's
	// .git/alm-cache. The index is rebuilt when it was made for another
	// history, and extended when the branch only moved on.
	CacheDir string
	// NoCache builds the index in memory and writes nothing.
	NoCache bool
	// GitHub, when set, reads a merge's pull request and approvals from
	// GitHub reviews; merges GitHub knows no pull request for are read
	// from their Approved-by trailers.
	GitHub GitHub
	Logger *slog.Logger
}

// History is an access repository's history opened for audit: its index,
// its receipts and how to read approvals. It keeps no context.
type History struct {
	path     string
	repo     *git.Repository
	index    *Index
	receipts []receipt.Receipt // oldest first, refusals included
	opts     Options
	log      *slog.Logger
	requests map[string]Request
	zone     *time.Location
	// cache keeps the files revisions share parsed once: an answer over
	// several instants loads several revisions.
	cache *load.Cache
}

// Open opens the Git repository at repoPath for audit: it resolves the
// branch, loads or builds the index (writing it to the cache) and reads the
// receipts.
func Open(ctx context.Context, repoPath string, o Options) (*History, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if o.Branch == "" {
		o.Branch = "HEAD"
	}
	r, err := load.Open(repoPath)
	if err != nil {
		return nil, err
	}
	head, err := history.Resolve(r, o.Branch)
	if err != nil {
		return nil, fmt.Errorf("branch to audit: %w: name it with --rev", err)
	}
	dir := o.CacheDir
	if dir == "" && !o.NoCache {
		dir = defaultCacheDir(repoPath)
	}
	var prev *Index
	if !o.NoCache {
		prev = readCache(dir, o.Branch)
	}
	start := time.Now()
	x := prev
	if prev == nil || prev.Head != head {
		if x, err = buildIndex(ctx, r, o.Branch, head, prev); err != nil {
			return nil, err
		}
		log.Info("indexed history", "branch", o.Branch, "head", head, "commits", len(x.Commits), "paths", len(x.Paths), "took", time.Since(start))
		if !o.NoCache && dir != "" {
			if err := writeCache(dir, x); err != nil {
				log.Warn("index not cached", "dir", dir, "err", err)
			}
		}
	} else {
		x.reindex()
		log.Debug("index from cache", "dir", dir, "head", head)
	}
	branch, zone := settings(ctx, r, head)
	if o.StatusBranch == "" {
		o.StatusBranch = branch
	}
	rs, err := receipt.All(ctx, repoPath, o.StatusBranch)
	if err != nil {
		return nil, err
	}
	return &History{path: repoPath, repo: r, index: x, receipts: rs, opts: o, log: log, requests: map[string]Request{}, zone: zone, cache: load.NewCache()}, nil
}

// Index returns the index the history was opened with.
func (h *History) Index() *Index { return h.index }

// Receipts returns every receipt on the status branch, oldest first.
func (h *History) Receipts() []receipt.Receipt { return h.receipts }

// Close releases the repository's open files.
func (h *History) Close() { load.Close(h.repo) }

// settings reads alm.yaml at head: the status branch (default
// model.DefaultStatusBranch) and the time zone dates are read in.
func settings(ctx context.Context, r *git.Repository, head string) (string, *time.Location) {
	files, err := history.Files(ctx, r, head, func(p string) bool { return p == model.DirectoryFile })
	if err == nil {
		if repo, _, err := load.FS(mapFS(files), head); err == nil && repo.Directory != nil {
			branch := repo.Directory.Spec.StatusBranch
			if branch == "" {
				branch = model.DefaultStatusBranch
			}
			return branch, repo.Zone()
		}
	}
	return model.DefaultStatusBranch, time.UTC
}

// Zone is the time zone of alm.yaml at the branch's head, in which its
// dates are read: the one to show times in.
func (h *History) Zone() *time.Location { return h.zone }

// Request is how one commit of the branch arrived: merged from a pull
// request (with its requester and approvers) or pushed straight.
type Request struct {
	Commit  string    `json:"commit"`
	At      time.Time `json:"at"` // when it reached the branch (committer time)
	Subject string    `json:"subject"`
	// Title is what was asked for: the pull request's title, which a
	// host's merge message carries after "Merge pull request #N ...", or
	// the subject.
	Title string `json:"title"`
	Merge bool   `json:"merge"`
	// PullRequest is the pull request's number, from GitHub or from the
	// merge's message ("Merge pull request #12 ..."); 0 when unknown.
	PullRequest int `json:"pullRequest,omitempty"`
	// Requester is who asked: the GitHub author of the pull request, or
	// "Name <email>" of the oldest commit the merge brought in (of the
	// commit itself when pushed straight).
	Requester string `json:"requester"`
	// Approvers are GitHub logins whose review approved the pull request's
	// head, or the merge's Approved-by trailers as written.
	Approvers []string `json:"approvers"`
	// Source is approval.SourceGitHub or approval.SourceTrailers for a
	// merge, "" for a commit pushed straight.
	Source string `json:"source,omitempty"`
}

var prNumber = []*regexp.Regexp{
	regexp.MustCompile(`^Merge pull request #(\d+)\b`),
	regexp.MustCompile(`\(#(\d+)\)\s*$`), // squash and merge
	regexp.MustCompile(`^Merge branch '[^']*' into .* \(!(\d+)\)`),
}

// Request returns how the commit hash (on the branch) arrived.
func (h *History) Request(ctx context.Context, hash string) (Request, error) {
	if rq, ok := h.requests[hash]; ok {
		return rq, nil
	}
	c, err := history.Read(h.repo, hash)
	if err != nil {
		return Request{}, err
	}
	rq := Request{Commit: c.Hash, At: c.Committer.When.UTC(), Subject: c.Subject(), Title: title(c), Merge: c.IsMerge(), Approvers: []string{}}
	rq.Requester = c.Author.String()
	if !c.IsMerge() {
		h.requests[hash] = rq
		return rq, nil
	}
	for _, re := range prNumber {
		if m := re.FindStringSubmatch(rq.Subject); m != nil {
			rq.PullRequest, _ = strconv.Atoi(m[1])
			break
		}
	}
	if h.opts.GitHub != nil {
		found, err := h.fromGitHub(ctx, &rq)
		if err != nil {
			return Request{}, err
		}
		if found {
			h.requests[hash] = rq
			return rq, nil
		}
	}
	rq.Source = approval.SourceTrailers
	in, err := history.Introduced(ctx, h.repo, c.Hash)
	if err != nil {
		return Request{}, err
	}
	if len(in) > 0 {
		rq.Requester = in[len(in)-1].Author.String() // newest first: the last started the branch
	}
	rq.Approvers = append(rq.Approvers, history.TrailerValues(c.Message, approval.TrailerKey)...)
	h.requests[hash] = rq
	return rq, nil
}

// title is the first line of a host's merge message body ("Merge pull
// request #4 from acme/x" then the title), else the subject.
func title(c history.Commit) string {
	if !prNumber[0].MatchString(c.Subject()) {
		return c.Subject()
	}
	_, body, _ := strings.Cut(c.Message, "\n\n")
	line, _, _ := strings.Cut(strings.TrimSpace(body), "\n")
	if line == "" || history.Trailers("x\n\n"+line) != nil {
		return c.Subject()
	}
	return strings.TrimSpace(line)
}

func (h *History) fromGitHub(ctx context.Context, rq *Request) (bool, error) {
	numbers, err := h.opts.GitHub.PullRequestsWithCommit(ctx, rq.Commit)
	if err != nil {
		return false, fmt.Errorf("pull request of %s on GitHub: %w", short(rq.Commit), err)
	}
	for _, n := range numbers {
		pr, err := h.opts.GitHub.PullRequest(ctx, n)
		if err != nil {
			return false, fmt.Errorf("pull request #%d: %w", n, err)
		}
		if !pr.Merged || pr.MergeCommit != rq.Commit {
			continue
		}
		reviews, err := h.opts.GitHub.Approvals(ctx, n, pr.Head)
		if err != nil {
			return false, fmt.Errorf("reviews of pull request #%d: %w", n, err)
		}
		rq.PullRequest, rq.Requester, rq.Source = n, pr.Author, approval.SourceGitHub
		for _, r := range reviews {
			rq.Approvers = append(rq.Approvers, r.Login)
		}
		sort.Strings(rq.Approvers)
		return true, nil
	}
	return false, nil
}

func short(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}

// lastApplied returns the newest receipt that applied at or before t.
func (h *History) lastApplied(t time.Time) *receipt.Receipt {
	var out *receipt.Receipt
	for i := range h.receipts {
		r := &h.receipts[i]
		if r.AppliedAt.After(t) {
			break
		}
		if r.Refused == nil {
			out = r
		}
	}
	return out
}

// entryAccount is the metadata.id a receipt entry's change ID names
// ("add-member:<id>:<group>"), and the group when it names one.
func entryAccount(id string) (account, group string) {
	parts := strings.SplitN(id, ":", 3)
	if len(parts) > 1 {
		account = parts[1]
	}
	if len(parts) > 2 {
		group = parts[2]
	}
	return account, group
}

// isDrift reports whether a receipt entry repaired drift: the plan marks a
// drift change's reason so (plan.driftReason).
func isDrift(e receipt.Entry) bool { return strings.HasPrefix(e.Reason, "drift:") }
