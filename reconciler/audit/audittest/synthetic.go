package audittest

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage"

	"github.com/alm-project/alm/examples/synthetic"
	"github.com/alm-project/alm/reconciler/receipt"
)

// Synthetic makes, in a temporary directory, a bare repository holding
// examples/synthetic's n accounts and weeks of history after them: each
// week a merge that grants or revokes vpn-users for a few people, moves
// one to another department, and a receipt applied an hour after it. It
// writes Git objects directly (no worktree), so 10,000 accounts over five
// years take seconds. It returns the path and the first and last merge times.
func Synthetic(tb testing.TB, n, weeks int) (repoPath string, first, last time.Time) {
	tb.Helper()
	dir := tb.TempDir()
	r, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{Bare: true, InitOptions: git.InitOptions{DefaultBranch: plumbing.Main}})
	if err != nil {
		tb.Fatal(err)
	}
	files, err := synthetic.Files(n)
	if err != nil {
		tb.Fatal(err)
	}
	s := r.Storer
	blobs := map[string]plumbing.Hash{}
	put := func(p, content string) {
		obj := s.NewEncodedObject()
		obj.SetType(plumbing.BlobObject)
		w, _ := obj.Writer()
		_, _ = w.Write([]byte(content))
		_ = w.Close()
		h, err := s.SetEncodedObject(obj)
		if err != nil {
			tb.Fatal(err)
		}
		blobs[p] = h
	}
	for p, c := range files {
		put(p, c)
	}
	start := time.Date(2022, 1, 3, 9, 0, 0, 0, time.UTC)
	sig := func(at time.Time) object.Signature {
		return object.Signature{Name: "Ada Admin", Email: "admin@example.test", When: at}
	}
	head := commit(tb, s, tree(tb, s, blobs), "Import the access repository", sig(start))
	setMain(tb, s, head)
	writeReceipt(tb, dir, head, start.Add(time.Hour))
	departments := []string{"Engineering", "Sales", "Finance", "Support"}
	for w := 1; w <= weeks; w++ {
		at := start.AddDate(0, 0, 7*w)
		for k := range 5 { // a few people a week, spread over the population
			i := (w*7919 + k*104729) % n
			p := "people/" + synthetic.PersonName(i) + ".yaml"
			c := files[p]
			switch {
			case k == 4:
				for _, d := range departments {
					if strings.Contains(c, "department: "+d) {
						c = strings.Replace(c, "department: "+d, "department: "+departments[(w+len(d))%len(departments)], 1)
						break
					}
				}
			case strings.Contains(c, "\n  roles: [vpn-users]\n"):
				c = strings.Replace(c, "\n  roles: [vpn-users]\n", "\n", 1)
			case !strings.Contains(c, "\n  roles:"):
				c += "  roles: [vpn-users]\n"
			}
			files[p] = c
			put(p, c)
		}
		t := tree(tb, s, blobs)
		branch := commit(tb, s, t, fmt.Sprintf("Week %d changes", w), sig(at.Add(-time.Hour)), head)
		head = commit(tb, s, t, fmt.Sprintf("Merge pull request #%d from example/week-%d\n\nWeek %d changes\n\nApproved-by: Alex Smith <asmith@example.test>\n", w, w, w),
			sig(at), head, branch)
		setMain(tb, s, head)
		writeReceipt(tb, dir, head, at.Add(time.Hour))
	}
	return dir, start.AddDate(0, 0, 7), start.AddDate(0, 0, 7*weeks)
}

func writeReceipt(tb testing.TB, dir string, rev plumbing.Hash, at time.Time) {
	tb.Helper()
	r := receipt.Receipt{Revision: rev.String(), AppliedAt: at, Directory: "ldaps://dc1.example.test"}
	if _, err := receipt.Write(context.Background(), dir, "", r, receipt.Signature{}); err != nil {
		tb.Fatal(err)
	}
}

func setMain(tb testing.TB, s storage.Storer, h plumbing.Hash) {
	if err := s.SetReference(plumbing.NewHashReference(plumbing.NewBranchReferenceName("main"), h)); err != nil {
		tb.Fatal(err)
	}
}

func commit(tb testing.TB, s storage.Storer, t plumbing.Hash, msg string, sig object.Signature, parents ...plumbing.Hash) plumbing.Hash {
	c := &object.Commit{Author: sig, Committer: sig, Message: msg, TreeHash: t, ParentHashes: parents}
	obj := s.NewEncodedObject()
	if err := c.Encode(obj); err != nil {
		tb.Fatal(err)
	}
	h, err := s.SetEncodedObject(obj)
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

// tree stores the trees of files (path -> blob) and returns the root's.
func tree(tb testing.TB, s storage.Storer, files map[string]plumbing.Hash) plumbing.Hash {
	var entries []object.TreeEntry
	sub := map[string]map[string]plumbing.Hash{} // folder -> its files, by path below it
	for p, h := range files {
		if d, rest, ok := strings.Cut(p, "/"); ok {
			if sub[d] == nil {
				sub[d] = map[string]plumbing.Hash{}
			}
			sub[d][rest] = h
			continue
		}
		entries = append(entries, object.TreeEntry{Name: p, Mode: filemode.Regular, Hash: h})
	}
	for d, fs := range sub {
		entries = append(entries, object.TreeEntry{Name: d, Mode: filemode.Dir, Hash: tree(tb, s, fs)})
	}
	// Git orders a folder as if its name ended in "/".
	key := func(e object.TreeEntry) string {
		if e.Mode == filemode.Dir {
			return e.Name + "/"
		}
		return e.Name
	}
	sort.Slice(entries, func(i, j int) bool { return key(entries[i]) < key(entries[j]) })
	obj := s.NewEncodedObject()
	if err := (&object.Tree{Entries: entries}).Encode(obj); err != nil {
		tb.Fatal(err)
	}
	h, err := s.SetEncodedObject(obj)
	if err != nil {
		tb.Fatal(err)
	}
	return h
}
