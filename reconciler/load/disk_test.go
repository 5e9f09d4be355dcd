package load

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestDiskCache: a cache opened on a folder serves the next process. Each
// step opens the folder anew, as a new alm process does, loads a revision
// through it, and must get exactly what a load of its own gives - objects,
// positions, problems, policies - having parsed only the files named.
func TestDiskCache(t *testing.T) {
	ctx := context.Background()
	dir := copyTree(t, "testdata/minimal")
	r, commit := gitRepo(t, dir)
	cacheDir := t.TempDir()
	all := len(files(t, r, commit("valid")))
	base := commit("valid again") // the same tree: one snapshot serves both

	steps := []struct {
		name   string
		change func() string // makes the revision to load; nil loads base
		parsed int           // files the load parses; alm.yaml is parsed each time
		before func()        // done to the folder before opening it
	}{
		{name: "first load parses every file", parsed: all},
		{name: "the next process parses alm.yaml alone", parsed: 1},
		{name: "a commit changing one file parses that file", change: func() string {
			edit(t, dir, "people/jdoe.yaml", "manager: asmith", "manager: nobody")
			return commit("break the manager: the problem comes from the snapshot too")
		}, parsed: 2},
		{name: "its snapshot serves it next time", change: func() string { return commit("no change") }, parsed: 1},
		{name: "a file that does not read back exactly is parsed each time", change: func() string {
			edit(t, dir, "people/jdoe.yaml", "roles: [vpn-users]", "roles: []")
			return commit("an empty list, which gob reads back as none")
		}, parsed: 2},
		{name: "and again", change: func() string { return commit("still empty") }, parsed: 2},
		{name: "a cut snapshot is dropped and written again", before: func() {
			parts, _ := filepath.Glob(filepath.Join(cacheDir, "files", "*", "*", "part-*"))
			if len(parts) == 0 {
				t.Fatal("no snapshot on disk")
			}
			for _, p := range parts {
				data, _ := os.ReadFile(p)
				os.WriteFile(p, data[:len(data)/2], 0o600)
			}
		}, parsed: all},
		{name: "another build's snapshots are removed", before: func() {
			os.MkdirAll(filepath.Join(cacheDir, "files", "0123456789abcdef-1", "x"), 0o700)
		}, parsed: 1},
	}
	rev := base
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if s.change != nil {
				rev = s.change()
			} else {
				rev = base
			}
			if s.before != nil {
				s.before()
			}
			cache, err := OpenCache(cacheDir)
			if err != nil {
				t.Fatal(err)
			}
			want, wantProblems, err := Commit(ctx, r, rev)
			if err != nil {
				t.Fatal(err)
			}
			got, gotProblems, err := cache.Commit(ctx, r, rev)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotProblems, wantProblems) {
				t.Errorf("through the folder differs from a load of its own:\n%+v\n%v\nwant\n%+v\n%v", got, gotProblems, want, wantProblems)
			}
			if n := cache.Parsed(); n != s.parsed {
				t.Errorf("parsed %d files, want %d", n, s.parsed)
			}
		})
	}
	builds, _ := os.ReadDir(filepath.Join(cacheDir, "files"))
	if len(builds) != 1 {
		t.Errorf("%d builds' folders, want this build's alone", len(builds))
	}
}

// TestDiskCacheKeepsFew: each new tree that parses enough of its files
// writes a snapshot; the folder keeps the newest keepSnapshots.
func TestDiskCacheKeepsFew(t *testing.T) {
	ctx := context.Background()
	dir := copyTree(t, "testdata/minimal")
	r, commit := gitRepo(t, dir)
	cacheDir := t.TempDir()
	for i := range keepSnapshots + 3 {
		edit(t, dir, "people/jdoe.yaml", "title: ", "title: x")
		rev := commit("retitle " + string(rune('a'+i)))
		cache, err := OpenCache(cacheDir)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := cache.Commit(ctx, r, rev); err != nil {
			t.Fatal(err)
		}
		if got := len(cache.disk.snapshots()); got != min(i+1, keepSnapshots) {
			t.Errorf("after %d trees, %d snapshots, want %d", i+1, got, min(i+1, keepSnapshots))
		}
	}
}

// TestDiskCacheUnwritable: a folder alm cannot write to is a slower cache,
// not an error.
func TestDiskCacheUnwritable(t *testing.T) {
	dir := copyTree(t, "testdata/minimal")
	r, commit := gitRepo(t, dir)
	rev := commit("valid")
	cache, err := OpenCache(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// A file where the build's folder was: nothing can be made in it.
	if err := os.RemoveAll(cache.disk.dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cache.disk.dir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	want, wantProblems, _ := Commit(context.Background(), r, rev)
	got, gotProblems, err := cache.Commit(context.Background(), r, rev)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotProblems, wantProblems) {
		t.Error("a cache that cannot write changed the load")
	}
}
