package load_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"testing/fstest"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/alm-project/alm/examples/synthetic"
	"github.com/alm-project/alm/reconciler/load"
	"github.com/alm-project/alm/reconciler/model"
)

// Scales of the benchmarks: people in the access repository, with one
// service account per hundred people.
var scales = []struct {
	name   string
	people int
}{{"1k", 1000}, {"10k", 10000}}

// benchNow is when the generated repository is committed.
var benchNow = time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)

// writeRepo writes the files into a new Git repository in a temporary
// folder and commits them; it returns the folder.
func writeRepo(b *testing.B, files map[string]string) string {
	b.Helper()
	dir := b.TempDir()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	r, err := git.PlainInit(dir, false)
	if err != nil {
		b.Fatal(err)
	}
	w, err := r.Worktree()
	if err != nil {
		b.Fatal(err)
	}
	if err := w.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		b.Fatal(err)
	}
	sig := &object.Signature{Name: "Bench", Email: "bench@example.test", When: benchNow}
	if _, err := w.Commit("Generated access repository", &git.CommitOptions{Author: sig}); err != nil {
		b.Fatal(err)
	}
	return dir
}

// pack moves every object of the repository at dir into one pack file, as
// a clone holds them, and removes the loose objects.
func pack(b *testing.B, dir string) {
	b.Helper()
	r, err := git.PlainOpen(dir)
	if err != nil {
		b.Fatal(err)
	}
	if err := r.RepackObjects(&git.RepackConfig{}); err != nil {
		b.Fatal(err)
	}
	loose, err := filepath.Glob(filepath.Join(dir, ".git", "objects", "[0-9a-f][0-9a-f]"))
	if err != nil {
		b.Fatal(err)
	}
	for _, d := range loose {
		if err := os.RemoveAll(d); err != nil {
			b.Fatal(err)
		}
	}
}

// retained loads the repository and returns how much heap the loaded
// repository keeps alive: the memory a process holding it needs.
func retained(b *testing.B, fsys fs.FS) int64 {
	b.Helper()
	// The first load of a process compiles the JSON Schemas, which stay.
	if _, _, err := load.FS(fstest.MapFS{}, ""); err != nil {
		b.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	repo, problems, err := load.FS(fsys, "")
	if err != nil || len(problems) > 0 {
		b.Fatalf("load: %v %v", err, problems)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(repo)
	return int64(after.HeapAlloc) - int64(before.HeapAlloc)
}

// accounts is how many account files a repository of n people holds.
func accounts(n int) int { return n + n/100 }

// BenchmarkLoad loads the same generated repository from memory (load.FS
// over a MapFS: parsing and checking alone, no I/O), from its working tree
// (load.Dir), from a commit in a packed repository as a clone holds it, and
// from the same commit with every object loose, as go-git writes commits.
func BenchmarkLoad(b *testing.B) {
	ctx := context.Background()
	for _, sc := range scales {
		b.Run(sc.name, func(b *testing.B) {
			files, err := synthetic.Files(sc.people)
			if err != nil {
				b.Fatal(err)
			}
			mem := fstest.MapFS{}
			for p, content := range files {
				mem[p] = &fstest.MapFile{Data: []byte(content)}
			}
			// The first load compiles the JSON Schemas, once a process: not
			// what a load costs.
			live := retained(b, mem)
			loose := writeRepo(b, files)
			packed := writeRepo(b, files)
			pack(b, packed)
			loaders := []struct {
				name string
				load func() (*model.Repository, load.Problems, error)
			}{
				{"FS", func() (*model.Repository, load.Problems, error) { return load.FS(mem, "") }},
				{"Dir", func() (*model.Repository, load.Problems, error) { return load.Dir(loose) }},
				{"Revision", func() (*model.Repository, load.Problems, error) { return load.Revision(ctx, packed, "HEAD") }},
				{"RevisionLoose", func() (*model.Repository, load.Problems, error) { return load.Revision(ctx, loose, "HEAD") }},
			}
			for _, l := range loaders {
				b.Run(l.name, func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						repo, problems, err := l.load()
						if err != nil {
							b.Fatal(err)
						}
						if len(problems) > 0 || len(repo.People) != sc.people {
							b.Fatalf("%d people, problems %v", len(repo.People), problems)
						}
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*accounts(sc.people)), "ns/account")
					if l.name == "FS" { // the repository in memory is the same however it was read
						b.ReportMetric(float64(live)/float64(accounts(sc.people)), "live-B/account")
					}
				})
			}
		})
	}
}

// BenchmarkValidate loads a commit of a repository of 10,000 and 100,000
// people committed and packed with git, as alm validate --rev and alm
// plan do, against the floor of reading the same revision's blobs with
// git itself (git ls-tree -r | git cat-file --batch), timed in the same
// run. Reported: s/validate, floor-s, and peak-MiB.
func BenchmarkValidate(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{10000, 100000} {
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			path := b.TempDir()
			if _, err := synthetic.WriteGit(path, n); err != nil {
				b.Skip(err) // no git command
			}
			floor := func() {
				cmd := exec.Command("sh", "-c", "git ls-tree -r HEAD | awk '{print $3}' | git cat-file --batch >/dev/null")
				cmd.Dir = path
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("floor: %v %s", err, out)
				}
			}
			var floorTime time.Duration
			for range 3 {
				start := time.Now()
				floor()
				floorTime += time.Since(start)
			}
			load := func() {
				repo, ps, err := load.Revision(ctx, path, "HEAD")
				if err != nil || len(ps) > 0 || len(repo.People) != n {
					b.Fatalf("load: %v %v", err, ps)
				}
			}
			peak := synthetic.PeakHeap(load)
			b.ResetTimer()
			for b.Loop() {
				load()
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/validate")
			b.ReportMetric(floorTime.Seconds()/3, "floor-s")
			b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
		})
	}
}
