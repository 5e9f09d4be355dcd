package change_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/alm-project/alm/reconciler/change"
	"github.com/alm-project/alm/reconciler/load/loadtest"
)

// FuzzBetween computes the change between two revisions of examples/acme
// that differ in one fuzzed file (modified, added, deleted or moved), each
// loaded with whatever problems it has, as alm check loads a pull request.
// No input may panic or take longer than loadtest.Slow; the set is sorted,
// every file has a known operation and class, a revision has no change from
// itself, and the set marshals to JSON (alm check --format json prints it).
func FuzzBetween(f *testing.F) {
	acme := loadtest.Acme(f)
	for _, c := range loadtest.Changes(f) {
		f.Add(c.OldPath, c.Before, c.NewPath, c.After)
	}
	ops := []change.Op{change.Added, change.Modified, change.Deleted, change.Renamed}
	classes := []change.Class{change.Create, change.Grant, change.Revoke, change.Rename, change.Other}
	f.Fuzz(func(t *testing.T, oldPath string, before []byte, newPath string, after []byte) {
		c := loadtest.Change{OldPath: oldPath, Before: before, NewPath: newPath, After: after}
		if !c.Valid() {
			t.Skip()
		}
		loadtest.Within(t, func() error {
			baseFS, headFS := c.Revisions(acme)
			base, _, err := loadtest.Load(baseFS)
			if err != nil {
				return err
			}
			head, _, err := loadtest.Load(headFS)
			if err != nil {
				return err
			}
			set := change.Between(base, head)
			var errs []error
			if !slices.IsSortedFunc(set.Files, func(a, b change.File) int { return strings.Compare(a.Path, b.Path) }) {
				errs = append(errs, errors.New("files are not sorted by path"))
			}
			for _, file := range set.Files {
				if !slices.Contains(ops, file.Op) || !slices.Contains(classes, file.Class) || file.Path == "" {
					errs = append(errs, fmt.Errorf("%s: op %q, class %q", file.Path, file.Op, file.Class))
				}
			}
			if same := change.Between(head, head); !same.Empty() {
				errs = append(errs, fmt.Errorf("head has %d changes from itself, first %s", len(same.Files), same.Files[0].Path))
			}
			if _, err := json.Marshal(set); err != nil {
				errs = append(errs, fmt.Errorf("the change does not marshal: %w", err))
			}
			return errors.Join(errs...)
		})
	})
}
