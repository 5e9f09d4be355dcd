package plan_test

import (
	"context"
	"runtime"
	"testing"
	"testing/fstest"
	"time"

	"github.com/alm-project/alm/connectors/memory"
	"github.com/alm-project/alm/examples/synthetic"
	"github.com/alm-project/alm/reconciler/apply"
	"github.com/alm-project/alm/reconciler/desired"
	"github.com/alm-project/alm/reconciler/directory"
	"github.com/alm-project/alm/reconciler/load"
	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/plan"
)

// Scales of the benchmarks: people in the access repository, with one
// service account per hundred people.
var scales = []struct {
	name   string
	people int
}{{"1k", 1000}, {"10k", 10000}}

// benchNow is the instant the generated repository is judged at.
var benchNow = time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)

// fixture is a generated repository and the directory before and after
// alm's first run over it.
type fixture struct {
	repo   *model.Repository
	want   *desired.State
	empty  *directory.Snapshot // the groups roles name, no accounts: the first run
	synced *directory.Snapshot // as applying the first run's plan left it
}

// newFixture loads a generated repository of n people and applies its first
// plan to an in-memory directory; the directory then matches the files.
func newFixture(b *testing.B, n int) fixture {
	b.Helper()
	ctx := context.Background()
	files, err := synthetic.Files(n)
	if err != nil {
		b.Fatal(err)
	}
	fsys := fstest.MapFS{}
	for p, content := range files {
		fsys[p] = &fstest.MapFile{Data: []byte(content)}
	}
	repo, problems, err := load.FS(fsys, "bench")
	if err != nil || len(problems) > 0 {
		b.Fatalf("load: %v %v", err, problems)
	}
	want, err := desired.Compute(repo, benchNow)
	if err != nil {
		b.Fatal(err)
	}
	dir := memory.New(want.BaseDN)
	dir.SetMarkerAttribute(want.MarkerAttribute)
	if err := dir.AddOU(want.GroupsOU); err != nil {
		b.Fatal(err)
	}
	for _, g := range want.Groups {
		if err := dir.AddGroup(want.GroupDN(g.Name), g.Name); err != nil {
			b.Fatal(err)
		}
	}
	empty, err := dir.Read(ctx, want.Scope())
	if err != nil {
		b.Fatal(err)
	}
	res := apply.Run(ctx, dir, plan.Diff(want, empty, plan.Options{}), apply.Options{})
	if !res.OK() {
		b.Fatalf("first apply: %d failed, %d skipped", res.Failed, res.Skipped)
	}
	synced, err := dir.Read(ctx, want.Scope())
	if err != nil {
		b.Fatal(err)
	}
	if p := plan.Diff(want, synced, plan.Options{Previous: want}); !p.Empty() {
		b.Fatalf("after the first apply the plan has %d changes, want none", len(p.Changes))
	}
	return fixture{repo: repo, want: want, empty: empty, synced: synced}
}

// retained computes the desired state and returns how much heap it keeps
// alive, beyond the repository it was computed from.
func retained(b *testing.B, repo *model.Repository) int64 {
	b.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	d, err := desired.Compute(repo, benchNow)
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(d)
	return int64(after.HeapAlloc) - int64(before.HeapAlloc)
}

// BenchmarkPlan measures what a reconcile run computes between reading the
// files and the directory and applying: the desired state (desired.Compute)
// and the diff (plan.Diff), against a directory that already matches (the
// steady state: no changes) and against one with none of the accounts (the
// first run: every account created).
func BenchmarkPlan(b *testing.B) {
	for _, sc := range scales {
		b.Run(sc.name, func(b *testing.B) {
			f := newFixture(b, sc.people)
			accounts := len(f.want.Accounts)
			perAccount := func(b *testing.B) {
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*accounts), "ns/account")
			}
			live := retained(b, f.repo)
			b.Run("Compute", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := desired.Compute(f.repo, benchNow); err != nil {
						b.Fatal(err)
					}
				}
				perAccount(b)
				b.ReportMetric(float64(live)/float64(accounts), "live-B/account")
			})
			for _, run := range []struct {
				name     string
				live     *directory.Snapshot
				previous *desired.State // the last applied state: none before the first run
			}{
				{"SteadyState", f.synced, f.want},
				{"FirstRun", f.empty, nil},
			} {
				var changes int
				b.Run(run.name, func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						d, err := desired.Compute(f.repo, benchNow)
						if err != nil {
							b.Fatal(err)
						}
						changes = len(plan.Diff(d, run.live, plan.Options{Previous: run.previous}).Changes)
					}
					perAccount(b)
					b.ReportMetric(float64(changes), "changes")
				})
				b.Run("Diff"+run.name, func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						changes = len(plan.Diff(f.want, run.live, plan.Options{Previous: run.previous}).Changes)
					}
					perAccount(b)
					b.ReportMetric(float64(changes), "changes")
				})
			}
		})
	}
}
