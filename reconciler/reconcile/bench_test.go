package reconcile_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/alm-project/alm/connectors/memory"
	"github.com/alm-project/alm/examples/synthetic"
	"github.com/alm-project/alm/reconciler/apply"
	"github.com/alm-project/alm/reconciler/load"
	"github.com/alm-project/alm/reconciler/reconcile"
)

// BenchmarkNoOpPlan is alm plan of a repository of 10,000 and 100,000
// people (and a hundredth as many service accounts) committed with git,
// against an in-memory directory that already matches it: what a
// reconciler does most of the time. Each size is measured as a first run
// parses, and with --cache-dir holding the revision (as a deployed
// reconciler keeps it). Reported: s/plan, and peak-KiB/account, the most
// heap one plan holds at once over what the directory itself holds, per
// account (target, issue 13: at most 5 KiB at 100,000).
func BenchmarkNoOpPlan(b *testing.B) {
	ctx := context.Background()
	outer := b // the repository outlives the sub-benchmark that makes it
	now := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	for _, n := range []int{10000, 100000} {
		var path string
		var dir *memory.Directory
		var accounts int
		for _, cached := range []bool{false, true} {
			name := fmt.Sprintf("%dk", n/1000)
			if cached {
				name += "/cache-dir"
			}
			b.Run(name, func(b *testing.B) {
				opts := reconcile.Options{Now: now}
				if dir == nil {
					path = outer.TempDir()
					if _, err := synthetic.WriteGit(path, n); err != nil {
						b.Skip(err) // no git command
					}
					src := reconcile.Source{Path: path, Rev: "HEAD"}
					repo, err := reconcile.Load(ctx, src)
					if err != nil {
						b.Fatal(err)
					}
					dir = memory.New(repo.Directory.Spec.BaseDN)
					dir.SetMarkerAttribute(repo.Directory.Spec.MarkerAttribute)
					first, err := reconcile.PlanLoaded(ctx, dir, repo, src, opts)
					if err != nil {
						b.Fatal(err)
					}
					if res := apply.Run(ctx, dir, first.Plan, apply.Options{}); !res.OK() {
						b.Fatalf("first apply: %d failed, %d skipped", res.Failed, res.Skipped)
					}
					accounts = len(repo.People) + len(repo.ServiceAccounts)
				}
				cacheDir := b.TempDir()
				source := func() reconcile.Source {
					src := reconcile.Source{Path: path, Rev: "HEAD"}
					if cached {
						c, err := load.OpenCache(cacheDir)
						if err != nil {
							b.Fatal(err)
						}
						src.Cache = c
					}
					return src
				}
				if cached {
					if _, err := reconcile.Plan(ctx, dir, source(), opts); err != nil { // fills the folder
						b.Fatal(err)
					}
				}
				var pl *reconcile.Planned
				var err error
				peak := synthetic.PeakHeap(func() { pl, err = reconcile.Plan(ctx, dir, source(), opts) })
				if err != nil || len(pl.Plan.Changes) != 0 || len(pl.Plan.Findings) != 0 {
					b.Fatalf("the plan after the first apply: %v, %d changes, %d findings", err, len(pl.Plan.Changes), len(pl.Plan.Findings))
				}
				pl = nil
				b.ResetTimer()
				for b.Loop() {
					if _, err := reconcile.Plan(ctx, dir, source(), opts); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/plan")
				b.ReportMetric(float64(peak)/1024/float64(accounts), "peak-KiB/account")
			})
		}
	}
}
