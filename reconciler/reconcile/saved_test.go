package reconcile_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/alm-project/alm/reconciler/apply"
	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/plan"
	"github.com/alm-project/alm/reconciler/plan/render"
	"github.com/alm-project/alm/reconciler/reconcile"
)

// saved makes the plan alm plan --out saves at an instant, and reads it
// back as alm apply --plan does.
func saved(t *testing.T, dir reconcile.Directory, src reconcile.Source, at time.Time) *plan.Plan {
	t.Helper()
	pl, err := reconcile.Plan(context.Background(), dir, src, reconcile.Options{Now: at})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := render.JSON(&b, pl.Plan); err != nil {
		t.Fatal(err)
	}
	p, err := plan.Decode(&b)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSavedPlanOverALimit: a saved plan over a limit is refused by apply
// --plan like any plan, and nothing is written (without Samba; the Samba
// tests of cmd/alm do it against the real directory too).
func TestSavedPlanOverALimit(t *testing.T) {
	ctx := context.Background()
	repo, dir, _ := acme(t)
	src := reconcile.Source{Path: repo.Path, Rev: "HEAD"}
	at := time.Date(2027, 2, 1, 6, 0, 0, 0, time.UTC) // three deletes: over acme's delete count of 2
	p := saved(t, dir, src, at)
	m, err := reconcile.Load(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	before := dir.RefOf("CN=oobrien,OU=Leavers,OU=ALM,DC=example,DC=test")
	_, err = reconcile.ApplySaved(ctx, dir, p, m, src, reconcile.ApplyOptions{Options: reconcile.Options{Now: at.Add(time.Minute)}})
	var le *plan.LimitError
	if !errors.Is(err, reconcile.ErrRefused) || !errors.As(err, &le) || le.Kind != plan.LimitDelete {
		t.Fatalf("apply of a saved plan over the delete limit: %v, want it refused by that limit", err)
	}
	if after := dir.RefOf("CN=oobrien,OU=Leavers,OU=ALM,DC=example,DC=test"); after != before || after.GUID == "" {
		t.Errorf("oobrien %+v after the refusal, want it untouched (%+v)", after, before)
	}
}

// TestSavedPlanTime: a saved plan is planned again at the clock, never at
// its own instant: too old, made for a time to come, or different when
// made now (a date passed in between), it is refused.
func TestSavedPlanTime(t *testing.T) {
	ctx := context.Background()
	// kwalker's contract ends on 2027-01-31: a plan made just before
	// midnight is not the plan of just after it.
	before := time.Date(2027, 1, 30, 23, 50, 0, 0, time.UTC)
	tests := []struct {
		name   string
		made   time.Time
		now    time.Time
		maxAge time.Duration
		want   error  // nil: applied
		says   string // a phrase of the refusal
	}{
		{"fresh", before, before.Add(5 * time.Minute), 0, nil, ""},
		{"older than the default maximum of an hour", before.Add(-2 * time.Hour), before, 0, apply.ErrStale, "at most 1h0m0s old"},
		{"older, with a maximum raised for it", before.Add(-2 * time.Hour), before, 3 * time.Hour, nil, ""},
		{"made for a time to come (alm plan --now)", before.Add(24 * time.Hour), before, 0, apply.ErrStale, "has not come"},
		{"a date passed since it was made", before, before.Add(20 * time.Minute), 0, reconcile.ErrTampered, "differs from the plan alm makes now"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			repo, dir, _ := acme(t)
			src := reconcile.Source{Path: repo.Path, Rev: "HEAD"}
			m, err := reconcile.Load(ctx, src)
			if err != nil {
				t.Fatal(err)
			}
			p := saved(t, dir, src, tc.made)
			if p.Empty() {
				t.Fatal("the saved plan is empty: nothing would tell a refusal from an apply")
			}
			// The three deletes of that day are allowed, as --max-delete would.
			limits := map[string]model.Limit{plan.LimitDelete: {Count: 10}}
			_, err = reconcile.ApplySaved(ctx, dir, p, m, src, reconcile.ApplyOptions{
				Options: reconcile.Options{Now: tc.now, Limits: limits}, MaxPlanAge: tc.maxAge, NoReceipt: true})
			switch {
			case tc.want == nil && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != nil && (!errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.says)):
				t.Fatalf("error %v, want %v saying %q", err, tc.want, tc.says)
			}
		})
	}
}
