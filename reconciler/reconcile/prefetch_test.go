package reconcile_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alm-project/alm/connectors/memory"
	"github.com/alm-project/alm/examples/synthetic"
	"github.com/alm-project/alm/reconciler/directory"
	"github.com/alm-project/alm/reconciler/load"
	"github.com/alm-project/alm/reconciler/reconcile"
)

// counting counts the directory's reads.
type counting struct {
	*memory.Directory
	reads atomic.Int32
}

func (c *counting) Read(ctx context.Context, s directory.Scope) (*directory.Snapshot, error) {
	c.reads.Add(1)
	return c.Directory.Read(ctx, s)
}

// TestPlanReadsWhileLoading: Plan reads the directory once, ahead, within
// the scope the settings give, and makes the plan a read after the load
// makes; a read ahead of another scope is not used.
func TestPlanReadsWhileLoading(t *testing.T) {
	path := t.TempDir()
	if _, err := synthetic.WriteGit(path, 300); err != nil {
		t.Skip(err)
	}
	ctx := context.Background()
	now := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	for _, src := range []reconcile.Source{{Path: path, Rev: "HEAD"}, {Path: path}} {
		settings, err := reconcile.Settings(ctx, src)
		if err != nil || settings == nil || len(settings.People) != 0 || len(settings.Templates) == 0 || len(settings.Roles) == 0 {
			t.Fatalf("settings of %+v: %v, %+v", src, err, settings)
		}
		repo, err := reconcile.Load(ctx, src)
		if err != nil {
			t.Fatal(err)
		}
		dir := &counting{Directory: memory.New(repo.Directory.Spec.BaseDN)}
		ahead, err := reconcile.Plan(ctx, dir, src, reconcile.Options{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		if n := dir.reads.Load(); n != 1 {
			t.Errorf("%+v: %d reads, want one", src, n)
		}
		after, err := reconcile.PlanLoaded(ctx, dir, repo, src, reconcile.Options{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(ahead.Plan, after.Plan) || len(ahead.Plan.Changes) == 0 {
			t.Errorf("%+v: the plan read ahead differs from the one read after (%d and %d changes)", src, len(ahead.Plan.Changes), len(after.Plan.Changes))
		}
	}
	// alm.yaml changed after the read began: the read's scope is not the
	// plan's, so the plan reads again.
	almYAML := filepath.Join(path, "alm.yaml")
	data, err := os.ReadFile(almYAML)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(almYAML, []byte(strings.Replace(string(data), "retiredOU: OU=Retired,OU=ALM", "retiredOU: OU=Gone,OU=ALM", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	src := reconcile.Source{Path: path}
	old, err := reconcile.Settings(ctx, reconcile.Source{Path: path, Rev: "HEAD"}) // before the change
	if err != nil {
		t.Fatal(err)
	}
	repo, err := reconcile.Load(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	dir := &counting{Directory: memory.New(repo.Directory.Spec.BaseDN)}
	read, err := reconcile.StartRead(ctx, func(context.Context) (*counting, error) { return dir, nil }, old, now)
	if err != nil {
		t.Fatal(err)
	}
	pl, err := reconcile.PlanLoaded(ctx, dir, repo, src, reconcile.Options{Now: now, Read: read})
	if err != nil {
		t.Fatal(err)
	}
	if n := dir.reads.Load(); n != 2 || !slices.ContainsFunc(pl.Desired.Scope().OUs, func(ou string) bool { return strings.HasPrefix(ou, "OU=Gone") }) {
		t.Errorf("%d reads, want two: the read ahead had another scope", n)
	}
}

// TestLoadThroughCache: a source with a cache loads what one without does,
// and keeps the files parsed for the next load.
func TestLoadThroughCache(t *testing.T) {
	path := t.TempDir()
	if _, err := synthetic.WriteGit(path, 100); err != nil {
		t.Skip(err)
	}
	ctx := context.Background()
	plain, err := reconcile.Load(ctx, reconcile.Source{Path: path, Rev: "HEAD"})
	if err != nil {
		t.Fatal(err)
	}
	cache := load.NewCache()
	src := reconcile.Source{Path: path, Rev: "HEAD", Cache: cache}
	for range 2 {
		got, err := reconcile.Load(ctx, src)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, plain) {
			t.Fatal("a load through the cache differs from one without")
		}
	}
	if n := cache.Len(); n < len(plain.People)+len(plain.ServiceAccounts) {
		t.Errorf("%d files cached, want at least every account's", n)
	}
}

// slow is a directory whose read waits for its context to end.
type slow struct{ *memory.Directory }

func (s slow) Read(ctx context.Context, _ directory.Scope) (*directory.Snapshot, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestPlanOfAnInvalidRepository: the repository's problems come back at
// once, the read begun ahead cancelled rather than waited for.
func TestPlanOfAnInvalidRepository(t *testing.T) {
	path := t.TempDir()
	if _, err := synthetic.WriteGit(path, 50); err != nil {
		t.Skip(err)
	}
	file := filepath.Join(path, "people", synthetic.PersonName(3)+".yaml")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, append(data, "  nosuchfield: 1\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	_, err = reconcile.Plan(ctx, slow{memory.New("DC=example,DC=test")}, reconcile.Source{Path: path}, reconcile.Options{Now: time.Now()})
	var invalid *reconcile.InvalidError
	if !errors.As(err, &invalid) || time.Since(start) > 10*time.Second {
		t.Errorf("plan of an invalid repository: %v after %s, want its problems at once", err, time.Since(start))
	}
}

// TestReadAheadForAnotherDirectory: a read dialled as an earlier alm.yaml
// said is not for a repository whose alm.yaml names another directory.
func TestReadAheadForAnotherDirectory(t *testing.T) {
	path := t.TempDir()
	if _, err := synthetic.WriteGit(path, 20); err != nil {
		t.Skip(err)
	}
	ctx := context.Background()
	src := reconcile.Source{Path: path}
	settings, err := reconcile.Settings(ctx, src)
	if err != nil || settings == nil {
		t.Fatal(err)
	}
	read, err := reconcile.StartRead(ctx, func(context.Context) (reconcile.Reader, error) { return memory.New("DC=example,DC=test"), nil }, settings, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer read.Stop()
	repo, err := reconcile.Load(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	if !read.For(repo) {
		t.Fatal("the read is not for the repository it was dialled for")
	}
	almYAML := filepath.Join(path, "alm.yaml")
	data, err := os.ReadFile(almYAML)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(almYAML, []byte(strings.Replace(string(data), "url: ldaps://dc1.example.test:636", "url: ldaps://dc2.example.test:636", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if repo, err = reconcile.Load(ctx, src); err != nil {
		t.Fatal(err)
	}
	if read.For(repo) {
		t.Error("a read dialled for one directory is taken for a repository naming another")
	}
}
