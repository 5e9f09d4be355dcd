package policy

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/open-policy-agent/opa/v1/storage"

	"github.com/alm-project/alm/reconciler/approval"
	"github.com/alm-project/alm/reconciler/change"
	"github.com/alm-project/alm/reconciler/load/loadtest"
	"github.com/alm-project/alm/reconciler/model"
)

// FuzzInput builds the policies' data and input over two revisions of
// examples/acme that differ in one fuzzed file, as alm check does for a pull
// request (problems and all), and evaluates the built-in rules and acme's
// own over them. The engine is compiled once, outside the fuzz function,
// and its data replaced per input: compiling takes ~25 ms, evaluating ~2.
// No input may panic or take longer than loadtest.Slow; every violation has
// a rule, a message and a severity.
func FuzzInput(f *testing.F) {
	acme := loadtest.Acme(f)
	for _, c := range loadtest.Changes(f) {
		f.Add(c.OldPath, c.Before, c.NewPath, c.After)
	}
	repo, _, err := loadtest.Load(acme)
	if err != nil {
		f.Fatal(err)
	}
	data := NewData(repo, loadtest.Now)
	engine, err := New(context.Background(), repo.Policies, data, data)
	if err != nil {
		f.Fatal(err)
	}
	pr := &approval.Request{Number: 1, Source: approval.SourceGitHub, Author: "jdoe", Authors: []string{"jdoe"},
		Approvers: []string{"asmith", "hokafor"}, UnknownApprovers: []string{}, UnknownAuthors: []string{}, Labels: []string{}}
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
			ctx := context.Background()
			if err := engine.replaceData(ctx, NewData(head, loadtest.Now), NewData(base, loadtest.Now)); err != nil {
				return err
			}
			vs, err := engine.Eval(ctx, NewInput(base, head, set, pr, loadtest.Now))
			if err != nil {
				return fmt.Errorf("evaluate: %w", err)
			}
			for _, v := range vs {
				if v.Rule == "" || v.Message == "" || !slices.Contains([]Severity{Deny, Warn}, v.Severity) {
					return fmt.Errorf("violation without rule, message or severity: %+v", v)
				}
			}
			return nil
		})
	})
}

// replaceData stores another revision's data where the prepared query reads
// it, as New does; the compiled rules are kept.
func (e *Engine) replaceData(ctx context.Context, head, base Data) error {
	return storage.WriteOne(ctx, e.store, storage.ReplaceOp, storage.Path{"alm"},
		map[string]any{"repository": storeValue(head), "base": storeValue(base)})
}

// The fuzz target is only worth running if the rules read the data it
// stores: a rule that echoes the revision sees the replaced one.
func TestReplaceData(t *testing.T) {
	org := []model.PolicyFile{{Path: "policies/echo.rego", Source: "package alm.org.echo\n\ndeny contains data.alm.repository.revision\n"}}
	e, err := New(t.Context(), org, Data{Revision: "first"}, Data{})
	if err != nil {
		t.Fatal(err)
	}
	for _, rev := range []string{"first", "second"} {
		if rev != "first" {
			if err := e.replaceData(t.Context(), Data{Revision: rev}, Data{}); err != nil {
				t.Fatal(err)
			}
		}
		vs, err := e.Eval(t.Context(), Input{Change: Change{Files: []File{}}})
		if err != nil {
			t.Fatal(err)
		}
		if len(vs) != 1 || vs[0].Message != rev {
			t.Errorf("after storing %s: %v", rev, vs)
		}
	}
}
