package fetch

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

func TestIsRemote(t *testing.T) {
	tests := []struct {
		src  string
		want bool
	}{
		{"examples/acme", false},
		{"/srv/access", false},
		{".", false},
		{"https://git.example.test/org/access.git", true},
		{"file:///srv/access.git", true},
		{"ssh://git@git.example.test/org/access.git", true},
		{"git@github.com:org/access.git", true},
	}
	for _, tc := range tests {
		t.Run(tc.src, func(t *testing.T) {
			if got := IsRemote(tc.src); got != tc.want {
				t.Fatalf("IsRemote(%q) = %v", tc.src, got)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	if got := redact("https://alm:s3cret@git.example.test/access.git"); strings.Contains(got, "s3cret") {
		t.Fatalf("redact left the secret: %s", got)
	}
}

// TestMirror clones a remote once, then fetches what was pushed since.
func TestMirror(t *testing.T) {
	ctx := context.Background()
	remote := t.TempDir()
	r, err := git.PlainInit(remote, false)
	if err != nil {
		t.Fatal(err)
	}
	wt, _ := r.Worktree()
	commit := func(name string) plumbing.Hash {
		if err := os.WriteFile(filepath.Join(remote, name), []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := wt.Add(name); err != nil {
			t.Fatal(err)
		}
		h, err := wt.Commit(name, &git.CommitOptions{Author: &object.Signature{Name: "t", Email: "t@example.test", When: time.Now()}})
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	first := commit("alm.yaml")
	url := "file://" + remote
	cache := t.TempDir()

	dir, err := Repository(ctx, url, Options{CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	m, err := git.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.CommitObject(first); err != nil {
		t.Fatalf("first commit not in mirror: %v", err)
	}
	second := commit("people.yaml")
	again, err := Repository(ctx, url, Options{CacheDir: cache})
	if err != nil || again != dir {
		t.Fatalf("second fetch: %s, %v", again, err)
	}
	m, _ = git.PlainOpen(dir)
	head, err := m.ResolveRevision("HEAD")
	if err != nil || *head != second {
		t.Fatalf("mirror HEAD %v, want %s (%v)", head, second, err)
	}
	if local, err := Repository(ctx, "examples/acme", Options{}); err != nil || local != "examples/acme" {
		t.Fatalf("a local path changed: %s, %v", local, err)
	}
}
