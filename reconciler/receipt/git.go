package receipt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/alm-project/alm/reconciler/notify"
)

// Paths on the status branch.
const (
	// StatusFile holds the newest receipt, a refusal's included, so that
	// whoever looks at the branch sees what the last run did; Last walks
	// back past refusals to the newest receipt of a run that applied.
	StatusFile = "status.json"
	Dir        = "receipts" // every receipt, one file each
)

// remote is the remote receipts are pushed to and read from when the
// branch exists there only (a fresh clone in CI).
const remote = "origin"

// Signature is the author and committer of a receipt commit. A zero Name
// or Email becomes "alm" / "alm@localhost"; a zero When, the receipt's AppliedAt.
type Signature struct {
	Name  string
	Email string
	When  time.Time
}

// Write commits r to branch (DefaultBranch when empty) of the repository
// at repoPath, bare or not, as receipts/<UTC time>-<short revision>.json
// and status.json, and returns the new commit's hash. The branch starts as
// an orphan holding only receipts; when it exists only as origin's, Write
// continues from there so that the push is a fast-forward. Write builds
// the objects and moves the branch reference and nothing else: the working
// tree, the index and HEAD stay as they were.
func Write(ctx context.Context, repoPath, branch string, r Receipt, author Signature) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if branch == "" {
		branch = DefaultBranch
	}
	if r.Revision == "" {
		return "", fmt.Errorf("write receipt: no revision: the receipt must name the access repository commit applied")
	}
	if r.AppliedAt.IsZero() {
		return "", fmt.Errorf("write receipt for %s: no AppliedAt time", short(r.Revision))
	}
	if r.Refused != nil && r.Refused.By != ByGuard && r.Refused.By != ByUnapproved {
		return "", fmt.Errorf("write receipt for %s: refused by %q: say %q or %q", short(r.Revision), r.Refused.By, ByGuard, ByUnapproved)
	}
	data, err := Marshal(r)
	if err != nil {
		return "", fmt.Errorf("encode receipt for %s: %w", short(r.Revision), err)
	}
	repo, err := open(repoPath)
	if err != nil {
		return "", err
	}
	name := plumbing.NewBranchReferenceName(branch)
	if err := notCheckedOut(repo, name); err != nil {
		return "", fmt.Errorf("write receipt to %s in %s: %w", branch, repoPath, err)
	}
	local, parent, err := tip(repo, branch)
	if err != nil {
		return "", fmt.Errorf("read branch %s in %s: %w", branch, repoPath, err)
	}

	var root, receipts []object.TreeEntry
	if parent != nil {
		if root, receipts, err = existing(repo, parent); err != nil {
			return "", fmt.Errorf("branch %s in %s: %w", branch, repoPath, err)
		}
	}
	s := repo.Storer
	blob, err := storeBlob(s, data)
	if err != nil {
		return "", fmt.Errorf("store receipt in %s: %w", repoPath, err)
	}
	receipts = append(receipts, object.TreeEntry{Name: fileName(r, receipts), Mode: filemode.Regular, Hash: blob})
	dirHash, err := storeTree(s, receipts)
	if err != nil {
		return "", fmt.Errorf("store %s tree in %s: %w", Dir, repoPath, err)
	}
	root = replace(root, object.TreeEntry{Name: Dir, Mode: filemode.Dir, Hash: dirHash})
	root = replace(root, object.TreeEntry{Name: StatusFile, Mode: filemode.Regular, Hash: blob})
	if len(r.Notices) > 0 {
		// The ledger of every message sent, carried forward commit by
		// commit, so that one read of the tip says what went out.
		ledger := notify.Ledger{}
		if parent != nil {
			if ledger, err = readLedger(parent); err != nil {
				return "", fmt.Errorf("branch %s in %s: %w", branch, repoPath, err)
			}
		}
		ledger.Record(r.Notices)
		data, err := json.MarshalIndent(ledger, "", "  ")
		if err != nil {
			return "", fmt.Errorf("encode %s: %w", LedgerFile, err)
		}
		lb, err := storeBlob(s, append(data, '\n'))
		if err != nil {
			return "", fmt.Errorf("store %s in %s: %w", LedgerFile, repoPath, err)
		}
		root = replace(root, object.TreeEntry{Name: LedgerFile, Mode: filemode.Regular, Hash: lb})
	}
	rootHash, err := storeTree(s, root)
	if err != nil {
		return "", fmt.Errorf("store tree in %s: %w", repoPath, err)
	}

	sig := object.Signature{Name: author.Name, Email: author.Email, When: author.When}
	if sig.Name == "" {
		sig.Name = "alm"
	}
	if sig.Email == "" {
		sig.Email = "alm@localhost"
	}
	if sig.When.IsZero() {
		sig.When = r.AppliedAt
	}
	c := &object.Commit{Author: sig, Committer: sig, Message: message(r), TreeHash: rootHash}
	if parent != nil {
		c.ParentHashes = []plumbing.Hash{parent.Hash}
	}
	commit, err := storeObject(s, c)
	if err != nil {
		return "", fmt.Errorf("store commit in %s: %w", repoPath, err)
	}
	// Compare-and-swap: a concurrent writer makes this fail rather than lose a receipt.
	if err := s.CheckAndSetReference(plumbing.NewHashReference(name, commit), local); err != nil {
		return "", fmt.Errorf("update branch %s in %s: %w: %w", branch, repoPath, ErrRaced, err)
	}
	return commit.String(), nil
}

// Push pushes branch (DefaultBranch when empty) to the remote "origin";
// it does nothing when the repository has no such remote. auth may be nil.
func Push(ctx context.Context, repoPath, branch string, auth transport.AuthMethod) error {
	if branch == "" {
		branch = DefaultBranch
	}
	repo, err := open(repoPath)
	if err != nil {
		return err
	}
	rem, err := repo.Remote(remote)
	if errors.Is(err, git.ErrRemoteNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("remote %s of %s: %w", remote, repoPath, err)
	}
	name := plumbing.NewBranchReferenceName(branch)
	ref, err := repo.Storer.Reference(name)
	if err != nil {
		return fmt.Errorf("push %s from %s: %w (write a receipt first)", branch, repoPath, err)
	}
	spec := config.RefSpec(name.String() + ":" + name.String())
	err = rem.PushContext(ctx, &git.PushOptions{RemoteName: remote, RefSpecs: []config.RefSpec{spec}, Auth: auth})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return fmt.Errorf("push %s to %s: %s (fetch %s and write the receipt again if the branch moved there)",
			branch, remote, scrub(err.Error(), rem.Config().URLs), remote)
	}
	// Keep origin's tracking branch current, as git push does, so that
	// the next Write sees the remote and the local branch agree.
	tracking := plumbing.NewHashReference(plumbing.NewRemoteReferenceName(remote, branch), ref.Hash())
	if err := repo.Storer.SetReference(tracking); err != nil {
		return fmt.Errorf("update %s in %s: %w", tracking.Name(), repoPath, err)
	}
	return nil
}

// Last returns the newest receipt of a run that applied, on branch
// (DefaultBranch when empty), local or, failing that, origin's: refusals
// are passed over, as they applied nothing. It returns nil and no error
// when there is no such receipt.
func Last(ctx context.Context, repoPath, branch string) (*Receipt, error) {
	return find(ctx, repoPath, branch, true)
}

// Latest returns the newest receipt on branch, a refusal's included: what
// StatusFile holds. It returns nil and no error when there is none.
func Latest(ctx context.Context, repoPath, branch string) (*Receipt, error) {
	return find(ctx, repoPath, branch, false)
}

func find(ctx context.Context, repoPath, branch string, applied bool) (*Receipt, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if branch == "" {
		branch = DefaultBranch
	}
	repo, err := open(repoPath)
	if err != nil {
		return nil, err
	}
	_, c, err := tip(repo, branch)
	if err != nil {
		return nil, fmt.Errorf("read branch %s in %s: %w", branch, repoPath, err)
	}
	for c != nil {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// The trailer says a commit is a refusal without reading its
		// receipt: a branch refused every few minutes for days stays cheap.
		if !applied || !strings.Contains(c.Message, "\n"+RefusedTrailer+":") {
			r, err := read(c, branch, repoPath)
			if err != nil {
				return nil, err
			}
			if !applied || r.Refused == nil {
				return r, nil
			}
		}
		if len(c.ParentHashes) == 0 {
			return nil, nil
		}
		if c, err = repo.CommitObject(c.ParentHashes[0]); err != nil {
			return nil, fmt.Errorf("branch %s of %s: %w", branch, repoPath, err)
		}
	}
	return nil, nil
}

// ErrRaced is a Write that lost the branch to another receipt written
// meanwhile: writing again puts it on top.
var ErrRaced = errors.New("another receipt was written meanwhile; write again")

// LedgerFile is the status branch's ledger of messages sent (notify.Ledger).
const LedgerFile = "notices.json"

// Ledger returns what messages went out on which channel, as the tip of
// branch (DefaultBranch when empty) records it: empty when nothing was
// ever sent or the branch does not exist yet.
func Ledger(ctx context.Context, repoPath, branch string) (notify.Ledger, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if branch == "" {
		branch = DefaultBranch
	}
	repo, err := open(repoPath)
	if err != nil {
		return nil, err
	}
	_, c, err := tip(repo, branch)
	if err != nil {
		return nil, fmt.Errorf("read branch %s in %s: %w", branch, repoPath, err)
	}
	if c == nil {
		return notify.Ledger{}, nil
	}
	l, err := readLedger(c)
	if err != nil {
		return nil, fmt.Errorf("branch %s of %s: %w", branch, repoPath, err)
	}
	return l, nil
}

func readLedger(c *object.Commit) (notify.Ledger, error) {
	l := notify.Ledger{}
	f, err := c.File(LedgerFile)
	if errors.Is(err, object.ErrFileNotFound) {
		return l, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", LedgerFile, err)
	}
	text, err := f.Contents()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", LedgerFile, err)
	}
	if err := json.Unmarshal([]byte(text), &l); err != nil {
		return nil, fmt.Errorf("%s at %s: %w", LedgerFile, c.Hash.String()[:12], err)
	}
	return l, nil
}

// read decodes the StatusFile of a commit of the status branch.
func read(c *object.Commit, branch, repoPath string) (*Receipt, error) {
	f, err := c.File(StatusFile)
	if err != nil {
		return nil, fmt.Errorf("%s on branch %s of %s: %w (is it alm's status branch?)", StatusFile, branch, repoPath, err)
	}
	rd, err := f.Reader()
	if err != nil {
		return nil, fmt.Errorf("read %s on branch %s: %w", StatusFile, branch, err)
	}
	defer rd.Close()
	data, err := io.ReadAll(rd)
	if err != nil {
		return nil, fmt.Errorf("read %s on branch %s: %w", StatusFile, branch, err)
	}
	var r Receipt
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s at %s on branch %s of %s: %w", StatusFile, c.Hash.String()[:12], branch, repoPath, err)
	}
	return &r, nil
}

func open(repoPath string) (*git.Repository, error) {
	repo, err := git.PlainOpenWithOptions(repoPath, &git.PlainOpenOptions{EnableDotGitCommonDir: true})
	if err != nil {
		return nil, fmt.Errorf("open repository %s: %w", repoPath, err)
	}
	return repo, nil
}

// notCheckedOut refuses a branch HEAD points to in a repository with a
// working tree: moving it would leave the working tree out of step.
func notCheckedOut(repo *git.Repository, name plumbing.ReferenceName) error {
	if _, err := repo.Worktree(); errors.Is(err, git.ErrIsBareRepository) {
		return nil
	}
	head, err := repo.Storer.Reference(plumbing.HEAD)
	if err != nil {
		return nil // no HEAD yet: nothing is checked out
	}
	if head.Type() == plumbing.SymbolicReference && head.Target() == name {
		return fmt.Errorf("the branch is checked out; check out another branch, or set statusBranch in alm.yaml to a branch of its own")
	}
	return nil
}

// tip returns the local branch reference (nil when absent) and the commit
// to build on: the local branch, or origin's when there is no local one or
// the local one is behind it.
func tip(repo *git.Repository, branch string) (*plumbing.Reference, *object.Commit, error) {
	local, err := reference(repo, plumbing.NewBranchReferenceName(branch))
	if err != nil {
		return nil, nil, err
	}
	remoteRef, err := reference(repo, plumbing.NewRemoteReferenceName(remote, branch))
	if err != nil {
		return nil, nil, err
	}
	var lc, rc *object.Commit
	if local != nil {
		if lc, err = repo.CommitObject(local.Hash()); err != nil {
			return nil, nil, fmt.Errorf("commit %s: %w", local.Hash(), err)
		}
	}
	if remoteRef != nil {
		if rc, err = repo.CommitObject(remoteRef.Hash()); err != nil {
			return nil, nil, fmt.Errorf("commit %s: %w", remoteRef.Hash(), err)
		}
	}
	switch {
	case lc == nil:
		return local, rc, nil
	case rc == nil || rc.Hash == lc.Hash:
		return local, lc, nil
	}
	behind, err := lc.IsAncestor(rc)
	if err != nil {
		return nil, nil, err
	}
	if behind {
		return local, rc, nil
	}
	return local, lc, nil
}

func reference(repo *git.Repository, name plumbing.ReferenceName) (*plumbing.Reference, error) {
	ref, err := repo.Storer.Reference(name)
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reference %s: %w", name, err)
	}
	return ref, nil
}

// existing returns the root and receipts entries of the branch's tree,
// refusing a branch that holds anything else: it would not be alm's, and
// a receipt must never carry the access files along.
func existing(repo *git.Repository, c *object.Commit) (root, receipts []object.TreeEntry, err error) {
	tree, err := c.Tree()
	if err != nil {
		return nil, nil, fmt.Errorf("tree of %s: %w", c.Hash, err)
	}
	for _, e := range tree.Entries {
		switch {
		case (e.Name == StatusFile || e.Name == LedgerFile) && e.Mode.IsFile():
		case e.Name == Dir && e.Mode == filemode.Dir:
			sub, err := repo.TreeObject(e.Hash)
			if err != nil {
				return nil, nil, fmt.Errorf("%s tree: %w", Dir, err)
			}
			receipts = append(receipts, sub.Entries...)
		default:
			return nil, nil, fmt.Errorf("it holds %s, not only receipts: set statusBranch in alm.yaml to a branch alm alone writes", e.Name)
		}
		root = append(root, e)
	}
	return root, receipts, nil
}

// fileName is <UTC time>-<short revision>.json, with -2, -3... when two
// receipts of one revision land in the same second.
func fileName(r Receipt, taken []object.TreeEntry) string {
	stem := r.AppliedAt.UTC().Format("20060102T150405Z") + "-" + short(r.Revision)
	name := stem + ".json"
	for n := 2; containsName(taken, name); n++ {
		name = fmt.Sprintf("%s-%d.json", stem, n)
	}
	return name
}

func containsName(entries []object.TreeEntry, name string) bool {
	for _, e := range entries {
		if e.Name == name {
			return true
		}
	}
	return false
}

func replace(entries []object.TreeEntry, e object.TreeEntry) []object.TreeEntry {
	for i := range entries {
		if entries[i].Name == e.Name {
			entries[i] = e
			return entries
		}
	}
	return append(entries, e)
}

func storeBlob(s storer.EncodedObjectStorer, data []byte) (plumbing.Hash, error) {
	o := s.NewEncodedObject()
	o.SetType(plumbing.BlobObject)
	o.SetSize(int64(len(data)))
	w, err := o.Writer()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := w.Write(data); err != nil {
		w.Close()
		return plumbing.ZeroHash, err
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, err
	}
	return s.SetEncodedObject(o)
}

func storeTree(s storer.EncodedObjectStorer, entries []object.TreeEntry) (plumbing.Hash, error) {
	sorted := append([]object.TreeEntry(nil), entries...)
	sort.Sort(object.TreeEntrySorter(sorted)) // git's order, which Encode insists on
	return storeObject(s, &object.Tree{Entries: sorted})
}

func storeObject(s storer.EncodedObjectStorer, v interface {
	Encode(plumbing.EncodedObject) error
}) (plumbing.Hash, error) {
	o := s.NewEncodedObject()
	if err := v.Encode(o); err != nil {
		return plumbing.ZeroHash, err
	}
	return s.SetEncodedObject(o)
}

// scrub removes the credentials of http(s) remote URLs from a message: a
// token in a remote URL must not reach a log through an error. A URL with
// no password may carry the token as its user name.
func scrub(msg string, urls []string) string {
	for _, raw := range urls {
		u, err := url.Parse(raw)
		if err != nil || u.User == nil || (u.Scheme != "https" && u.Scheme != "http") {
			continue
		}
		secret, ok := u.User.Password()
		if !ok {
			secret = u.User.Username()
		}
		if secret != "" {
			msg = strings.ReplaceAll(msg, secret, "***")
		}
	}
	return msg
}
