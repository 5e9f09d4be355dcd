// Package history walks the access repository's Git history with go-git (no
// git binary): it resolves revisions, lists the first-parent history of a
// branch since a revision, finds what a merge brought in, reads commit
// trailers, and finds the last revision the reconciler applied, from the
// receipts on the status branch.
package history

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/alm-project/alm/reconciler/load"
)

// AppliedTrailer is the trailer of a receipt commit on the status branch
// naming the revision of the access repository that was applied.
const AppliedTrailer = "Alm-Applied-Revision"

// ErrNotOnBranch: a revision is not on the branch's first-parent history.
var ErrNotOnBranch = errors.New("not on the branch's first-parent history")

// Signature is who made a commit and when.
type Signature struct {
	Name  string    `json:"name"`
	Email string    `json:"email"`
	When  time.Time `json:"when"`
}

func (s Signature) String() string { return s.Name + " <" + s.Email + ">" }

// Commit is a commit as alm needs it.
type Commit struct {
	Hash      string    `json:"hash"`
	Parents   []string  `json:"parents"`
	Author    Signature `json:"author"`
	Committer Signature `json:"committer"`
	Message   string    `json:"message"`
}

// Subject is the first line of the message.
func (c Commit) Subject() string {
	s, _, _ := strings.Cut(c.Message, "\n")
	return strings.TrimSpace(s)
}

// IsMerge reports whether the commit has more than one parent.
func (c Commit) IsMerge() bool { return len(c.Parents) > 1 }

// Short is the abbreviated hash.
func (c Commit) Short() string {
	if len(c.Hash) > 12 {
		return c.Hash[:12]
	}
	return c.Hash
}

func fromObject(o *object.Commit) Commit {
	c := Commit{
		Hash:      o.Hash.String(),
		Author:    Signature{o.Author.Name, o.Author.Email, o.Author.When},
		Committer: Signature{o.Committer.Name, o.Committer.Email, o.Committer.When},
		Message:   o.Message,
	}
	for _, p := range o.ParentHashes {
		c.Parents = append(c.Parents, p.String())
	}
	return c
}

// Open opens the Git repository at (or above) path.
func Open(path string) (*git.Repository, error) { return load.Open(path) }

// Resolve returns the full hash of a revision (commit, branch, tag, HEAD~2).
func Resolve(r *git.Repository, rev string) (string, error) {
	h, err := r.ResolveRevision(plumbing.Revision(rev))
	if err != nil {
		return "", fmt.Errorf("revision %q: %w", rev, err)
	}
	return h.String(), nil
}

// Read returns one commit.
func Read(r *git.Repository, rev string) (Commit, error) {
	o, err := commitObject(r, rev)
	if err != nil {
		return Commit{}, err
	}
	return fromObject(o), nil
}

func commitObject(r *git.Repository, rev string) (*object.Commit, error) {
	h, err := r.ResolveRevision(plumbing.Revision(rev))
	if err != nil {
		return nil, fmt.Errorf("revision %q: %w", rev, err)
	}
	o, err := r.CommitObject(*h)
	if err != nil {
		return nil, fmt.Errorf("commit %s: %w", h, err)
	}
	return o, nil
}

// FirstParents returns the commits on head's first-parent chain after since,
// oldest first: what arrived on a branch since a revision. With since empty,
// the whole chain down to the root. When since is not on the chain, the
// error wraps ErrNotOnBranch.
func FirstParents(ctx context.Context, r *git.Repository, head, since string) ([]Commit, error) {
	c, err := commitObject(r, head)
	if err != nil {
		return nil, err
	}
	var stop plumbing.Hash
	if since != "" {
		s, err := r.ResolveRevision(plumbing.Revision(since))
		if err != nil {
			return nil, fmt.Errorf("revision %q: %w", since, err)
		}
		stop = *s
	}
	var out []Commit
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if c.Hash == stop {
			break
		}
		out = append(out, fromObject(c))
		if len(c.ParentHashes) == 0 {
			if since != "" {
				return nil, fmt.Errorf("%s from %s: %w", since, head, ErrNotOnBranch)
			}
			break
		}
		if c, err = r.CommitObject(c.ParentHashes[0]); err != nil {
			return nil, fmt.Errorf("parent of %s: %w", out[len(out)-1].Hash, err)
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// Introduced returns the commits a merge brought in: reachable from its
// other parents and not from its first parent, newest first. For a commit
// with one parent it returns the commit itself.
func Introduced(ctx context.Context, r *git.Repository, merge string) ([]Commit, error) {
	m, err := commitObject(r, merge)
	if err != nil {
		return nil, err
	}
	if len(m.ParentHashes) < 2 {
		return []Commit{fromObject(m)}, nil
	}
	first, err := r.CommitObject(m.ParentHashes[0])
	if err != nil {
		return nil, fmt.Errorf("first parent of %s: %w", m.Hash, err)
	}
	mainline := map[plumbing.Hash]bool{}
	err = object.NewCommitPreorderIter(first, nil, nil).ForEach(func(c *object.Commit) error {
		mainline[c.Hash] = true
		return ctx.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w", first.Hash, err)
	}
	var out []Commit
	for _, ph := range m.ParentHashes[1:] {
		p, err := r.CommitObject(ph)
		if err != nil {
			return nil, fmt.Errorf("parent %s of %s: %w", ph, m.Hash, err)
		}
		err = object.NewCommitPreorderIter(p, mainline, nil).ForEach(func(c *object.Commit) error {
			mainline[c.Hash] = true // seen: a commit reached by two parents is listed once
			out = append(out, fromObject(c))
			return ctx.Err()
		})
		if err != nil {
			return nil, fmt.Errorf("history of %s: %w", p.Hash, err)
		}
	}
	return out, nil
}

// FileChange is a file that differs between two commits, by blob hash:
// From is "" when the file was added, To is "" when it was removed.
type FileChange struct {
	Path string `json:"path"`
	From string `json:"from"`
	To   string `json:"to"`
}

// Changed returns the files whose content differs between the commits from
// and to, sorted by path, keeping those keep accepts (nil keeps all). With
// from empty it compares with an empty tree, as for a root commit. A change
// of mode alone is no change: the content read is the same.
func Changed(ctx context.Context, r *git.Repository, from, to string, keep func(path string) bool) ([]FileChange, error) {
	var a *object.Tree
	if from != "" {
		c, err := commitObject(r, from)
		if err != nil {
			return nil, err
		}
		if a, err = c.Tree(); err != nil {
			return nil, fmt.Errorf("tree of %s: %w", c.Hash, err)
		}
	}
	c, err := commitObject(r, to)
	if err != nil {
		return nil, err
	}
	b, err := c.Tree()
	if err != nil {
		return nil, fmt.Errorf("tree of %s: %w", c.Hash, err)
	}
	changes, err := object.DiffTreeWithOptions(ctx, a, b, nil) // no rename detection: a rename is a removal and an addition
	if err != nil {
		return nil, fmt.Errorf("diff %s..%s: %w", orEmpty(from), to, err)
	}
	var out []FileChange
	for _, ch := range changes {
		fc := FileChange{Path: ch.To.Name}
		if fc.Path == "" {
			fc.Path = ch.From.Name
		}
		if ch.From.Name != "" {
			fc.From = ch.From.TreeEntry.Hash.String()
		}
		if ch.To.Name != "" {
			fc.To = ch.To.TreeEntry.Hash.String()
		}
		if fc.From == fc.To || (keep != nil && !keep(fc.Path)) {
			continue
		}
		out = append(out, fc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

func orEmpty(rev string) string {
	if rev == "" {
		return "the empty tree"
	}
	return rev
}

// Trailer is one "Key: value" line of a message's trailer block.
type Trailer struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

var trailerLine = regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9-]*)\s*:\s*(.*)$`)

// Trailers parses the trailer block: the last paragraph of the message,
// when its lines are "Key: value" (continuation lines start with a space).
func Trailers(message string) []Trailer {
	paragraphs := strings.Split(strings.TrimRight(strings.ReplaceAll(message, "\r\n", "\n"), "\n \t"), "\n\n")
	if len(paragraphs) < 2 { // a subject alone has no trailers
		return nil
	}
	var out []Trailer
	for _, line := range strings.Split(paragraphs[len(paragraphs)-1], "\n") {
		if strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t") {
			if len(out) == 0 {
				return nil
			}
			out[len(out)-1].Value += " " + strings.TrimSpace(line)
			continue
		}
		m := trailerLine.FindStringSubmatch(line)
		if m == nil {
			return nil // a paragraph of prose, not a trailer block
		}
		out = append(out, Trailer{Key: m[1], Value: strings.TrimSpace(m[2])})
	}
	return out
}

// TrailerValues returns the values of one trailer key (case-insensitive).
func TrailerValues(message, key string) []string {
	var out []string
	for _, t := range Trailers(message) {
		if strings.EqualFold(t.Key, key) {
			out = append(out, t.Value)
		}
	}
	return out
}

// LastApplied returns the revision named by the newest receipt on the status
// branch (its Alm-Applied-Revision trailer), looking at the local branch and
// then at origin's. It returns "" when there is no status branch or no receipt.
// Receipts of refused runs carry Alm-Refused-Revision instead and are passed
// over: a refusal applied nothing.
func LastApplied(ctx context.Context, r *git.Repository, statusBranch string) (string, error) {
	var tip *plumbing.Reference
	for _, name := range []plumbing.ReferenceName{plumbing.NewBranchReferenceName(statusBranch), plumbing.NewRemoteReferenceName("origin", statusBranch)} {
		ref, err := r.Reference(name, true)
		if err == nil {
			tip = ref
			break
		}
		if !errors.Is(err, plumbing.ErrReferenceNotFound) {
			return "", fmt.Errorf("status branch %s: %w", name, err)
		}
	}
	if tip == nil {
		return "", nil
	}
	c, err := r.CommitObject(tip.Hash())
	if err != nil {
		return "", fmt.Errorf("status branch %s: %w", statusBranch, err)
	}
	for {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		if vs := TrailerValues(c.Message, AppliedTrailer); len(vs) > 0 {
			return vs[len(vs)-1], nil
		}
		if len(c.ParentHashes) == 0 {
			return "", nil
		}
		if c, err = r.CommitObject(c.ParentHashes[0]); err != nil {
			return "", fmt.Errorf("status branch %s: %w", statusBranch, err)
		}
	}
}
