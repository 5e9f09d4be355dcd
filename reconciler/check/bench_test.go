package check_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"

	"github.com/alm-project/alm/examples/synthetic"
	"github.com/alm-project/alm/reconciler/change"
	"github.com/alm-project/alm/reconciler/check"
	"github.com/alm-project/alm/reconciler/history/historytest"
	"github.com/alm-project/alm/reconciler/load"
	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/policy"
)

// benchPeople is the size of the repository pull requests are checked in.
const benchPeople = 1000

// benchNow is the instant the generated repository is judged at.
var benchNow = time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)

func managerOf(i int) string { return synthetic.PersonName((i - 1) / 8) }

func identity(name string) historytest.Person {
	return historytest.Person{Name: name, Email: name + "@example.test"}
}

// active reports whether person i is active at benchNow (neither a leaver
// nor starting next week).
func active(i int) bool { return i%50 != 7 && i%100 != 3 }

// grantable are n people from the ith on to whom a pull request may grant
// vpn-users with their manager's approval alone: active employees without
// it, who manage nobody (so no approver changes their own file) and whose
// manager is active.
func grantable(from, n int) []int {
	var out []int
	for i := from; len(out) < n; i++ {
		if i > benchPeople/8 && i%3 != 0 && i%10 != 9 && active(i) && active((i-1)/8) {
			out = append(out, i)
		}
	}
	return out
}

// pullRequest is one merged pull request in the benchmark repository.
type pullRequest struct {
	name      string
	merge     string // the merge commit: head; its first parent is base
	files     int
	approvers int // one per manager of the people it changes
}

// newCheckRepo commits a generated repository of benchPeople people, then
// merges one pull request per size, each granting vpn-users to that many
// people and approved by their managers, as a Git host records the merge.
// The repository is then packed, as a clone holds it.
func newCheckRepo(b *testing.B, sizes ...int) (string, []pullRequest) {
	b.Helper()
	files, err := synthetic.Files(benchPeople)
	if err != nil {
		b.Fatal(err)
	}
	r := historytest.New(b)
	for p, content := range files {
		full := filepath.Join(r.Path, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	if err := r.W.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		b.Fatal(err)
	}
	r.Commit("Generated access repository", identity(synthetic.PersonName(0)))
	author := identity(synthetic.PersonName(998))
	var prs []pullRequest
	next := 0 // each pull request changes other people
	for _, n := range sizes {
		branch := fmt.Sprintf("grant-vpn-%d", n)
		r.Branch(branch)
		var approvers []string
		people := grantable(next, n)
		next = people[len(people)-1] + 1
		for _, i := range people {
			p := "people/" + synthetic.PersonName(i) + ".yaml"
			content := strings.Replace(files[p], "  startDate: 2024-01-08\n", "  startDate: 2024-01-08\n  roles: [vpn-users]\n", 1)
			if content == files[p] {
				b.Fatalf("%s: no place for roles", p)
			}
			files[p] = content
			r.Write(p, content)
			if m := "Approved-by: " + managerOf(i) + " <" + managerOf(i) + "@example.test>"; !slices.Contains(approvers, m) {
				approvers = append(approvers, m)
			}
		}
		r.Commit(fmt.Sprintf("Grant vpn-users to %d people", n), author)
		r.Checkout("main")
		merge := r.Merge(branch, "Merge "+branch+"\n\n"+strings.Join(approvers, "\n")+"\n", identity("git-host"))
		prs = append(prs, pullRequest{name: fmt.Sprintf("%dfiles", n), merge: merge, files: n, approvers: len(approvers)})
	}
	gr, err := git.PlainOpen(r.Path)
	if err != nil {
		b.Fatal(err)
	}
	if err := gr.RepackObjects(&git.RepackConfig{}); err != nil {
		b.Fatal(err)
	}
	loose, err := filepath.Glob(filepath.Join(r.Path, ".git", "objects", "[0-9a-f][0-9a-f]"))
	if err != nil {
		b.Fatal(err)
	}
	for _, d := range loose {
		if err := os.RemoveAll(d); err != nil {
			b.Fatal(err)
		}
	}
	return r.Path, prs
}

// BenchmarkRun checks pull requests of 1, 100 and 300 changed files in a
// repository of 1,000 people, as alm check does in CI: load base and head,
// compute the change, read the approvals from the merge's trailers, and
// evaluate the policies. Then the stages alone, to show where the time goes.
func BenchmarkRun(b *testing.B) {
	ctx := context.Background()
	path, prs := newCheckRepo(b, 1, 100, 300)
	r, err := load.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer load.Close(r)
	opts := func(pr pullRequest) check.Options {
		return check.Options{Base: pr.merge + "^1", Head: pr.merge, Now: benchNow, Approvals: check.Trailers{Repo: r, Commit: pr.merge}}
	}
	for _, pr := range prs {
		res, err := check.Run(ctx, r, opts(pr))
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Change.Files) != pr.files || res.Denied {
			b.Fatalf("%s: %d files changed, denied %v: %v", pr.name, len(res.Change.Files), res.Denied, res.Violations)
		}
	}

	for _, pr := range prs {
		b.Run(pr.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := check.Run(ctx, r, opts(pr)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}

	// The stages: loading base and head and building the policy engine
	// cost the same whatever the pull request changes; evaluating depends on it.
	pr := prs[len(prs)-1]
	b.Run("stage=load", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, rev := range []string{pr.merge + "^1", pr.merge} {
				if _, _, err := load.Commit(ctx, r, rev); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	base, head := loadPair(b, r, pr)
	b.Run("stage=change", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			change.Between(base, head)
		}
	})
	b.Run("stage=engine", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := policy.New(ctx, base.Policies, policy.NewData(head, benchNow), policy.NewData(base, benchNow)); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, pr := range prs {
		base, head := loadPair(b, r, pr)
		set := change.Between(base, head)
		req, err := check.Trailers{Repo: r, Commit: pr.merge}.Request(ctx, head)
		if err != nil {
			b.Fatal(err)
		}
		engine, err := policy.New(ctx, base.Policies, policy.NewData(head, benchNow), policy.NewData(base, benchNow))
		if err != nil {
			b.Fatal(err)
		}
		b.Run("stage=eval/"+pr.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := engine.Eval(ctx, policy.NewInput(base, head, set, req, benchNow)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*pr.files), "ns/file")
			b.ReportMetric(float64(pr.approvers), "approvers")
		})
	}
}

// loadPair loads a pull request's base and head.
func loadPair(b *testing.B, r *git.Repository, pr pullRequest) (base, head *model.Repository) {
	b.Helper()
	ctx := context.Background()
	base, _, err := load.Commit(ctx, r, pr.merge+"^1")
	if err != nil {
		b.Fatal(err)
	}
	head, _, err = load.Commit(ctx, r, pr.merge)
	if err != nil {
		b.Fatal(err)
	}
	return base, head
}
