// Package loadtest builds access repositories for the fuzz targets of load,
// change and policy: examples/acme with one file replaced, added or
// removed, loaded as the loader loads a working tree. It also holds the
// per-input time limit those targets share.
package loadtest

import (
	"fmt"
	"io/fs"
	"maps"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/alm-project/alm/examples"
	"github.com/alm-project/alm/reconciler/load"
	"github.com/alm-project/alm/reconciler/model"
)

// Slow is the time one fuzz input may take, loading and planning included.
// The seeds take milliseconds; an input near this is unbounded work.
const Slow = time.Second

// Within runs one input's work and fails t when the work returns an error,
// panics, or is still running after Slow. It waits no longer than Slow, so
// an input that would never finish fails as well - and the fuzzer saves it -
// with every goroutine's stack, which shows where the work was. The work
// must report through its error, not through t: it may outlive the test.
func Within(t *testing.T, work func() error) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Errorf("panic: %v\n%s", r, debug.Stack())
			}
		}()
		done <- work()
	}()
	timer := time.NewTimer(Slow)
	defer timer.Stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-timer.C:
		stacks := make([]byte, 64<<10)
		stacks = stacks[:runtime.Stack(stacks, true)]
		t.Fatalf("still running after %v, the most one input may take:\n%s", Slow, stacks)
	}
}

// Now is the instant the fuzz targets plan and judge at, alm demo's: acme's
// people and service accounts are in most stages of their lives then.
var Now = time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)

// Acme returns the files of examples/acme, the seed of every target.
func Acme(tb testing.TB) fstest.MapFS {
	tb.Helper()
	out := fstest.MapFS{}
	err := fs.WalkDir(examples.Acme(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(examples.Acme(), p)
		out[p] = &fstest.MapFile{Data: data}
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// File is one file of acme.
type File struct {
	Path string
	Data []byte
}

// Files returns acme's files the loader reads, sorted by path, for seeds.
func Files(tb testing.TB) []File {
	acme := Acme(tb)
	var out []File
	for _, p := range slices.Sorted(maps.Keys(acme)) {
		if p == model.DirectoryFile || strings.Contains(p, "/") && !strings.HasSuffix(p, ".md") {
			out = append(out, File{p, acme[p].Data})
		}
	}
	return out
}

// Valid reports whether a fuzzed path can name a file in a folder at all;
// others (empty, "..", "a//b") are not paths a Git tree or a working tree holds.
func Valid(p string) bool { return fs.ValidPath(p) && p != "." }

// With returns a copy of fsys with path holding data; nil or empty data
// removes the file.
func With(fsys fstest.MapFS, path string, data []byte) fstest.MapFS {
	out := maps.Clone(fsys)
	if len(data) == 0 {
		delete(out, path)
		return out
	}
	out[path] = &fstest.MapFile{Data: data}
	return out
}

// Load loads fsys as a working tree.
func Load(fsys fs.FS) (*model.Repository, load.Problems, error) {
	repo, problems, err := load.FS(fsys, "")
	if err != nil {
		return nil, nil, fmt.Errorf("load: %w", err)
	}
	return repo, problems, nil
}

// Change is the change a fuzzed pair of files makes to acme. Base holds
// OldPath with Before (acme's file replaced, or removed when Before is
// empty); head holds NewPath with After, and not OldPath when the paths
// differ. An empty OldPath adds NewPath; an empty NewPath deletes OldPath.
type Change struct {
	OldPath string
	Before  []byte
	NewPath string
	After   []byte
}

// Valid reports whether both paths are usable (empty counts as usable).
func (c Change) Valid() bool {
	return (c.OldPath == "" || Valid(c.OldPath)) && (c.NewPath == "" || Valid(c.NewPath))
}

// Revisions returns the base and head file systems of the change.
func (c Change) Revisions(acme fstest.MapFS) (base, head fstest.MapFS) {
	base, head = acme, acme
	if c.OldPath != "" {
		base = With(base, c.OldPath, c.Before)
		if c.OldPath != c.NewPath {
			head = With(head, c.OldPath, nil)
		}
	}
	if c.NewPath != "" {
		head = With(head, c.NewPath, c.After)
	}
	return base, head
}

// Changes are seeds for the targets that judge a change: every acme file
// unchanged and deleted, and edits of each class a pull request makes
// (create, grant, revoke, rename, other), of people, service accounts,
// roles, templates, alm.yaml and a policy.
func Changes(tb testing.TB) []Change {
	tb.Helper()
	var out []Change
	files := Files(tb)
	data := map[string][]byte{}
	for _, f := range files {
		data[f.Path] = f.Data
		out = append(out, Change{f.Path, f.Data, f.Path, f.Data}, Change{f.Path, f.Data, f.Path, nil})
	}
	edit := func(path, old, new string) []byte {
		s := string(data[path])
		if !strings.Contains(s, old) {
			tb.Fatalf("%s has no %q", path, old)
		}
		return []byte(strings.Replace(s, old, new, 1))
	}
	modify := func(path, old, new string) {
		out = append(out, Change{path, data[path], path, edit(path, old, new)})
	}
	modify("people/jdoe.yaml", "roles: [vpn-users]", "roles: [vpn-users, finance]")              // grant
	modify("people/asmith.yaml", "roles: [security-approvers, vpn-users]", "roles: [vpn-users]") // revoke
	modify("people/jdoe.yaml", "department: Engineering", "department: Sales")                   // a birthright moves
	modify("people/jdoe.yaml", "startDate: 2026-01-05", "startDate: 2026-01-05\n  endDate: 2026-12-01")
	modify("people/jdoe.yaml", "manager: asmith", "manager: hokafor")
	modify("people/jdoe.yaml", "title: Backend engineer", "title: Staff engineer") // other
	modify("service-accounts/svc-backup.yaml", "expires: 2027-05-31", "expires: 2027-03-31")
	modify("service-accounts/svc-backup.yaml", "owner: jdoe", "owner: asmith")
	modify("roles/finance.yaml", "groups: [Finance, Finance Share]", "groups: [Finance, Finance Share, Domain Admins]")
	modify("templates/service-account.yaml", "max: 365d", "max: 730d")
	modify("templates/employee.yaml", "retention: 90d", "retention: 36500d")
	modify("alm.yaml", "orphans: report", "orphans: disable")
	modify("policies/descriptions.rego", "min_length := 20", "min_length := 2")
	// A rename keeps metadata.id and lists the old name.
	out = append(out, Change{"people/jdoe.yaml", data["people/jdoe.yaml"], "people/jdsmith.yaml",
		[]byte(strings.Replace(string(edit("people/jdoe.yaml", "name: jdoe", "name: jdsmith")), "roles:", "previousNames: [jdoe]\n  roles:", 1))})
	// A new person, and a new service account.
	out = append(out, Change{"", nil, "people/zlee.yaml",
		[]byte(strings.NewReplacer("name: jdoe", "name: zlee", `id: "004217"`, `id: "009999"`).Replace(string(data["people/jdoe.yaml"])))})
	out = append(out, Change{"", nil, "service-accounts/svc-zeta.yaml",
		[]byte(strings.NewReplacer("name: svc-backup", "name: svc-zeta", "id: sa-01KT17K0QGG5193P9GG3WV8EFW", "id: sa-zeta").Replace(string(data["service-accounts/svc-backup.yaml"])))})
	return out
}
