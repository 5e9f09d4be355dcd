package load_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/alm-project/alm/reconciler/desired"
	"github.com/alm-project/alm/reconciler/directory"
	"github.com/alm-project/alm/reconciler/load/loadtest"
	"github.com/alm-project/alm/reconciler/plan"
)

// FuzzLoad loads examples/acme with one file, of any kind, replaced by the
// fuzzed bytes (or added beside the others), and plans the result against
// an empty directory when it loads without problems. No input may panic or
// take longer than loadtest.Slow; every problem names its file, and a plan
// for accounts that should exist is not empty. Seeds: every file acme holds,
// and testdata/fuzz/FuzzLoad (inputs that were once unbounded).
func FuzzLoad(f *testing.F) {
	acme := loadtest.Acme(f)
	for _, file := range loadtest.Files(f) {
		f.Add(file.Path, file.Data)
	}
	f.Fuzz(func(t *testing.T, path string, data []byte) {
		if !loadtest.Valid(path) {
			t.Skip()
		}
		loadtest.Within(t, func() error {
			repo, problems, err := loadtest.Load(loadtest.With(acme, path, data))
			if err != nil {
				return err
			}
			var errs []error
			for _, p := range problems {
				if p.Pos.Path == "" || p.Message == "" {
					errs = append(errs, fmt.Errorf("a problem without its file or message: %+v", p))
				}
			}
			if len(problems) > 0 {
				return errors.Join(errs...)
			}
			want, err := desired.Compute(repo, loadtest.Now)
			if err != nil {
				return errors.Join(errs...) // the files load but cannot be planned: Compute says where
			}
			p := plan.Diff(want, &directory.Snapshot{BaseDN: want.BaseDN}, plan.Options{})
			if p.Empty() && hasExisting(want) {
				errs = append(errs, fmt.Errorf("no changes planned for %d accounts against an empty directory", len(want.Accounts)))
			}
			return errors.Join(errs...)
		})
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
