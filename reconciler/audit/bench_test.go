package audit_test

import (
	"context"
	"testing"
	"time"

	"github.com/alm-project/alm/reconciler/audit"
	"github.com/alm-project/alm/reconciler/audit/audittest"
)

// BenchmarkAccessAt answers `alm audit access --at` over 10,000 accounts
// and five years of weekly merges and receipts. The history is generated
// before the timer starts; "index" builds the index from nothing (what
// the first run on a repository pays), "at" asks for the access at an
// instant with the index cached (what every later question pays).
func BenchmarkAccessAt(b *testing.B) {
	const accounts, weeks = 10000, 5 * 52
	path, first, last := audittest.Synthetic(b, accounts, weeks)
	ctx := context.Background()
	b.Run("index", func(b *testing.B) {
		for b.Loop() {
			h, err := audit.Open(ctx, path, audit.Options{Branch: "main", NoCache: true})
			if err != nil {
				b.Fatal(err)
			}
			h.Close()
		}
	})
	cache := b.TempDir()
	h, err := audit.Open(ctx, path, audit.Options{Branch: "main", CacheDir: cache})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	at := first.Add(last.Sub(first) / 2).Add(30 * time.Minute)
	b.Run("at", func(b *testing.B) {
		for b.Loop() {
			a, err := h.At(ctx, at, "")
			if err != nil {
				b.Fatal(err)
			}
			if len(a.Accounts) < accounts/2 {
				b.Fatalf("%d accounts at %s", len(a.Accounts), at)
			}
		}
	})
	b.Run("open-cached", func(b *testing.B) {
		for b.Loop() {
			h, err := audit.Open(ctx, path, audit.Options{Branch: "main", CacheDir: cache})
			if err != nil {
				b.Fatal(err)
			}
			h.Close()
		}
	})
}
