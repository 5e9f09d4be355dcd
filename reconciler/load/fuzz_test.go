package load_test

import (
	"testing"
	"time"

	"github.com/alm-project/alm/reconciler/desired"
	"github.com/alm-project/alm/reconciler/directory"
	"github.com/alm-project/alm/reconciler/load/loadtest"
	"github.com/alm-project/alm/reconciler/plan"
)

// FuzzLoad loads examples/acme with one file, of any kind, replaced by the
// fuzzed bytes (or added beside the others), and plans the result against
// an empty directory when it loads without problems. No input may panic or
// take longer than loadtest.Slow; every problem names its file. Seeds: every
// file acme holds, and testdata/fuzz/FuzzLoad (inputs that were unbounded).
func FuzzLoad(f *testing.F) {
	acme := loadtest.Acme(f)
	for _, file := range loadtest.Files(f) {
		f.Add(file.Path, file.Data)
	}
	f.Fuzz(func(t *testing.T, path string, data []byte) {
		if !loadtest.Valid(path) {
			t.Skip()
		}
		start := time.Now()
		repo, problems := loadtest.Load(t, loadtest.With(acme, path, data))
		for _, p := range problems {
			if p.Pos.Path == "" || p.Message == "" {
				t.Errorf("a problem without its file or message: %+v", p)
			}
		}
		if len(problems) == 0 {
			want, err := desired.Compute(repo, loadtest.Now)
			if err == nil {
				p := plan.Diff(want, &directory.Snapshot{BaseDN: want.BaseDN}, plan.Options{})
				if p.Empty() && hasExisting(want) {
					t.Errorf("no changes planned for %d accounts against an empty directory", len(want.Accounts))
				}
			}
		}
		if took := time.Since(start); took > loadtest.Slow {
			t.Fatalf("%s (%d bytes) took %v to load and plan, more than %v", path, len(data), took, loadtest.Slow)
		}
	})
}

// hasExisting reports whether some account should exist and is alm's to touch.
func hasExisting(s *desired.State) bool {
	for _, a := range s.Accounts {
		if a.Exists && !a.Protected {
			return true
		}
	}
	return false
}
