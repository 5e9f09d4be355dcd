// Package historytest makes real Git repositories for tests, with go-git:
// commits by named people, branches, and merge commits with trailers.
package historytest

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Person is a commit author.
type Person struct{ Name, Email string }

// Repo is a repository in a temporary directory, on branch main.
type Repo struct {
	t    testing.TB
	Path string
	R    *git.Repository
	W    *git.Worktree
	// clock moves forward a minute a commit, so commit times are ordered.
	clock time.Time
}

// New makes an empty repository whose default branch is main.
func New(t testing.TB) *Repo {
	t.Helper()
	dir := t.TempDir()
	r, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{InitOptions: git.InitOptions{DefaultBranch: plumbing.Main}})
	if err != nil {
		t.Fatal(err)
	}
	w, err := r.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	return &Repo{t: t, Path: dir, R: r, W: w, clock: time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)}
}

// Write writes a file (making its folder) and stages it.
func (r *Repo) Write(path, content string) {
	r.t.Helper()
	full := filepath.Join(r.Path, path)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
	if _, err := r.W.Add(path); err != nil {
		r.t.Fatal(err)
	}
}

// Remove deletes a file and stages the deletion.
func (r *Repo) Remove(path string) {
	r.t.Helper()
	if _, err := r.W.Remove(path); err != nil {
		r.t.Fatal(err)
	}
}

// CopyDir writes every file under dir (a folder on disk) into the repository at the same relative paths.
func (r *Repo) CopyDir(dir string) {
	r.t.Helper()
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		r.Write(filepath.ToSlash(rel), string(data))
		return nil
	})
	if err != nil {
		r.t.Fatal(err)
	}
}

func (r *Repo) sig(p Person) *object.Signature {
	r.clock = r.clock.Add(time.Minute)
	return &object.Signature{Name: p.Name, Email: p.Email, When: r.clock}
}

// Commit commits what is staged on the current branch and returns its hash.
func (r *Repo) Commit(message string, author Person) string {
	r.t.Helper()
	h, err := r.W.Commit(message, &git.CommitOptions{Author: r.sig(author), AllowEmptyCommits: true})
	if err != nil {
		r.t.Fatal(err)
	}
	return h.String()
}

// Branch makes a branch at the current HEAD and checks it out.
func (r *Repo) Branch(name string) {
	r.t.Helper()
	if err := r.W.Checkout(&git.CheckoutOptions{Branch: plumbing.NewBranchReferenceName(name), Create: true}); err != nil {
		r.t.Fatal(err)
	}
}

// Checkout checks out an existing branch.
func (r *Repo) Checkout(name string) {
	r.t.Helper()
	if err := r.W.Checkout(&git.CheckoutOptions{Branch: plumbing.NewBranchReferenceName(name), Force: true}); err != nil {
		r.t.Fatal(err)
	}
}

// Merge records a merge of branch into the current branch, as a host does
// when a pull request is merged: two parents, the tree of the branch's tip
// (so the current branch must not have diverged), committed by committer.
// It returns the merge commit's hash.
func (r *Repo) Merge(branch, message string, committer Person) string {
	r.t.Helper()
	head, err := r.R.Head()
	if err != nil {
		r.t.Fatal(err)
	}
	tipRef, err := r.R.Reference(plumbing.NewBranchReferenceName(branch), true)
	if err != nil {
		r.t.Fatal(err)
	}
	tip, err := r.R.CommitObject(tipRef.Hash())
	if err != nil {
		r.t.Fatal(err)
	}
	sig := r.sig(committer)
	c := &object.Commit{
		Author: *sig, Committer: *sig, Message: message,
		TreeHash:     tip.TreeHash,
		ParentHashes: []plumbing.Hash{head.Hash(), tip.Hash},
	}
	obj := r.R.Storer.NewEncodedObject()
	if err := c.Encode(obj); err != nil {
		r.t.Fatal(err)
	}
	h, err := r.R.Storer.SetEncodedObject(obj)
	if err != nil {
		r.t.Fatal(err)
	}
	if err := r.R.Storer.SetReference(plumbing.NewHashReference(head.Name(), h)); err != nil {
		r.t.Fatal(err)
	}
	if err := r.W.Reset(&git.ResetOptions{Commit: h, Mode: git.HardReset}); err != nil {
		r.t.Fatal(err)
	}
	return h.String()
}

// OrphanCommit commits a message with an empty tree on a new branch that
// shares no history with the others (as a status branch does), or on top of
// that branch when it exists, without touching the worktree.
func (r *Repo) OrphanCommit(branch, message string, author Person) string {
	r.t.Helper()
	empty := &object.Tree{}
	tobj := r.R.Storer.NewEncodedObject()
	if err := empty.Encode(tobj); err != nil {
		r.t.Fatal(err)
	}
	th, err := r.R.Storer.SetEncodedObject(tobj)
	if err != nil {
		r.t.Fatal(err)
	}
	var parents []plumbing.Hash
	if ref, err := r.R.Reference(plumbing.NewBranchReferenceName(branch), true); err == nil {
		parents = append(parents, ref.Hash())
	}
	sig := r.sig(author)
	c := &object.Commit{Author: *sig, Committer: *sig, Message: message, TreeHash: th, ParentHashes: parents}
	obj := r.R.Storer.NewEncodedObject()
	if err := c.Encode(obj); err != nil {
		r.t.Fatal(err)
	}
	h, err := r.R.Storer.SetEncodedObject(obj)
	if err != nil {
		r.t.Fatal(err)
	}
	if err := r.R.Storer.SetReference(plumbing.NewHashReference(plumbing.NewBranchReferenceName(branch), h)); err != nil {
		r.t.Fatal(err)
	}
	return h.String()
}
