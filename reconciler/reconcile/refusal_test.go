package reconcile_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alm-project/alm/connectors/memory"
	"github.com/alm-project/alm/reconciler/desired"
	"github.com/alm-project/alm/reconciler/history/historytest"
	"github.com/alm-project/alm/reconciler/plan"
	"github.com/alm-project/alm/reconciler/receipt"
	"github.com/alm-project/alm/reconciler/reconcile"
)

var importer = historytest.Person{Name: "Anna Smith", Email: "anna.smith@example.test"}

// acme is examples/acme in a Git repository, applied once at 2026-11-22
// to an in-memory directory.
func acme(t *testing.T) (*historytest.Repo, *memory.Directory, string) {
	t.Helper()
	ctx := context.Background()
	repo := historytest.New(t)
	repo.CopyDir("../../examples/acme")
	first := repo.Commit("Import the access repository", importer)
	src := reconcile.Source{Path: repo.Path, Rev: "HEAD"}
	m, err := reconcile.Load(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	want, err := desired.Compute(m, now)
	if err != nil {
		t.Fatal(err)
	}
	dir := memory.New(want.BaseDN)
	if err := dir.AddOU(want.GroupsOU); err != nil {
		t.Fatal(err)
	}
	for _, role := range m.Roles {
		for _, g := range role.Spec.Groups {
			if err := dir.AddGroup(want.GroupDN(g), g); err != nil && !strings.Contains(err.Error(), "exists") {
				t.Fatal(err)
			}
		}
	}
	pl, err := reconcile.Plan(ctx, dir, src, reconcile.Options{Now: now})
	if err != nil || pl.Refused != nil {
		t.Fatalf("first plan: %v, refused %v", err, pl.Refused)
	}
	res, err := reconcile.Apply(ctx, dir, pl, src, reconcile.ApplyOptions{Options: reconcile.Options{Now: now}})
	if err != nil || !res.Result.OK() {
		t.Fatalf("first apply: %v", err)
	}
	return repo, dir, first
}

// limitErrors are the guards' limit errors in a joined refusal.
func limitErrors(err error) []*plan.LimitError {
	var out []*plan.LimitError
	var walk func(error)
	walk = func(err error) {
		if le, ok := err.(*plan.LimitError); ok {
			out = append(out, le)
		}
		if u, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range u.Unwrap() {
				walk(e)
			}
		}
	}
	walk(err)
	return out
}

// TestGuardRefusalRecorded: a plan over limits writes nothing to the
// directory and records a refusal's receipt listing every limit exceeded,
// with its count and fraction; the last applied receipt stays the last.
func TestGuardRefusalRecorded(t *testing.T) {
	ctx := context.Background()
	repo, dir, first := acme(t)
	data, err := os.ReadFile(repo.Path + "/alm.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tight := strings.Replace(string(data), "disable: {count: 5, fraction: 0.25}", "disable: {count: 1, fraction: 0.9}", 1)
	tight = strings.Replace(tight, "removeFromGroup: {count: 25, fraction: 0.5}", "removeFromGroup: {count: 100, fraction: 0.01}", 1)
	if tight == string(data) {
		t.Fatal("examples/acme/alm.yaml has other limits than this test expects")
	}
	repo.Write("alm.yaml", tight)
	refusedRev := repo.Commit("Tighten the limits", importer)

	now := time.Date(2027, 2, 1, 6, 0, 0, 0, time.UTC)
	src := reconcile.Source{Path: repo.Path, Rev: "HEAD"}
	pl, err := reconcile.Plan(ctx, dir, src, reconcile.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	limits := limitErrors(pl.Refused)
	if len(limits) < 2 {
		t.Fatalf("want a plan over at least two limits, got %v", pl.Refused)
	}
	before, err := dir.Read(ctx, pl.Desired.Scope())
	if err != nil {
		t.Fatal(err)
	}

	res, err := reconcile.Apply(ctx, dir, pl, src, reconcile.ApplyOptions{
		Options: reconcile.Options{Now: now}, DirectoryURL: "ldaps://svc-alm:Secr3t@dc1.example.test:636"})
	if !errors.Is(err, reconcile.ErrRefused) {
		t.Fatalf("apply: %v, want ErrRefused", err)
	}
	if res == nil || res.Receipt == "" || res.Branch != "alm-status" {
		t.Fatalf("apply returned %+v, want where the refusal's receipt went", res)
	}
	after, err := dir.Read(ctx, pl.Desired.Scope())
	if err != nil {
		t.Fatal(err)
	}
	if before.Digest() != after.Digest() {
		t.Error("a refused plan wrote to the directory")
	}

	got, err := receipt.Latest(ctx, repo.Path, "")
	if err != nil || got == nil || got.Refused == nil {
		t.Fatalf("latest receipt %+v, %v; want the refusal", got, err)
	}
	if got.Revision != refusedRev || got.Refused.By != receipt.ByGuard || got.Refused.Message != pl.Refused.Error() {
		t.Errorf("refusal of %s by %s saying %q; want %s by the guards saying %q", got.Revision, got.Refused.By, got.Refused.Message, refusedRev, pl.Refused.Error())
	}
	if len(got.Changes) != 0 || got.Plan.Changes != len(pl.Plan.Changes) || got.Plan.Applied != 0 {
		t.Errorf("the refusal's receipt says %+v of the plan, %d changes; want the plan counted and nothing applied", got.Plan, len(got.Changes))
	}
	var wantLimits, gotLimits []string
	for _, le := range limits {
		exceeded := "fraction"
		if le.ByCount {
			exceeded = "count"
		}
		wantLimits = append(wantLimits, fmt.Sprintf("%s %d changes, %d of %d accounts (%.4f), over %s of %d/%g, %s, %s",
			le.Kind, le.Changes, le.Accounts, le.Managed, float64(le.Accounts)/float64(le.Managed), exceeded, le.Limit.Count, le.Limit.Fraction, le.Source, le.Flag))
	}
	for _, l := range got.Refused.Limits {
		gotLimits = append(gotLimits, fmt.Sprintf("%s %d changes, %d of %d accounts (%.4f), over %s of %d/%g, %s, %s",
			l.Kind, l.Changes, l.Accounts, l.Managed, l.Fraction, l.Exceeded, l.Limit.Count, l.Limit.Fraction, l.Source, l.Flag))
	}
	t.Logf("limits recorded:\n%s", strings.Join(gotLimits, "\n"))
	if !slices.Equal(gotLimits, wantLimits) {
		t.Errorf("limits recorded:\n%s\nwant\n%s", strings.Join(gotLimits, "\n"), strings.Join(wantLimits, "\n"))
	}
	exceeded := map[string]bool{}
	for _, l := range got.Refused.Limits {
		exceeded[l.Exceeded] = true
	}
	if !exceeded["count"] || !exceeded["fraction"] {
		t.Errorf("want a limit exceeded by count and one by fraction, got %v", slices.Sorted(maps.Keys(exceeded)))
	}
	if strings.Contains(got.Directory, "Secr3t") || strings.Contains(got.Refused.Message, "Secr3t") {
		t.Errorf("the refusal's receipt holds the password: %+v", got)
	}

	last, err := receipt.Last(ctx, repo.Path, "")
	if err != nil || last == nil || last.Revision != first || last.Refused != nil {
		t.Errorf("last applied receipt %+v, %v; want still the one of %s", last, err, first)
	}
	// Drift is told apart from the last applied revision, not the refused one.
	again, err := reconcile.Plan(ctx, dir, src, reconcile.Options{Now: now})
	if err != nil || !again.Plan.DriftKnown {
		t.Errorf("plan after the refusal: %v, drift known %v", err, again != nil && again.Plan.DriftKnown)
	}
}

// TestGuardRefusalNotRecorded: no receipt without a Git revision, or with NoReceipt.
func TestGuardRefusalNotRecorded(t *testing.T) {
	ctx := context.Background()
	repo, dir, _ := acme(t)
	now := time.Date(2027, 2, 1, 6, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		src       reconcile.Source
		noReceipt bool
	}{
		{"no receipt asked", reconcile.Source{Path: repo.Path, Rev: "HEAD"}, true},
		{"a working tree", reconcile.Source{Path: repo.Path}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pl, err := reconcile.Plan(ctx, dir, tt.src, reconcile.Options{Now: now})
			if err != nil {
				t.Fatal(err)
			}
			if pl.Refused == nil {
				t.Fatal("the plan at 2027-02-01 is not refused; this test needs it refused")
			}
			res, err := reconcile.Apply(ctx, dir, pl, tt.src, reconcile.ApplyOptions{Options: reconcile.Options{Now: now}, NoReceipt: tt.noReceipt})
			if !errors.Is(err, reconcile.ErrRefused) || res != nil {
				t.Errorf("apply: %+v, %v; want ErrRefused alone", res, err)
			}
			if got, err := receipt.Latest(ctx, repo.Path, ""); err != nil || got == nil || got.Refused != nil {
				t.Errorf("latest receipt %+v, %v; want the applied one", got, err)
			}
		})
	}
}
