package fetch

import (
	"context"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/alm-project/alm/reconciler/receipt"
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

// authServer serves the bare repositories under root over Git's smart HTTP
// protocol (git http-backend), and only to requests with the token.
func authServer(t *testing.T, root, token, gitPath string) *httptest.Server {
	t.Helper()
	backend := &cgi.Handler{
		Path: gitPath,
		Args: []string{"http-backend"},
		Env:  []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1", "GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=http.receivepack", "GIT_CONFIG_VALUE_0=true"},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pw, ok := r.BasicAuth(); !ok || pw != token {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		backend.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestTokenFetchAndReceiptPush: a remote that needs a token is mirrored
// with it, and the receipt is pushed back with the same credentials.
func TestTokenFetchAndReceiptPush(t *testing.T) {
	gitPath, err := exec.LookPath("git")
	if err != nil {
		t.Fatal("the test's server needs git (git http-backend); make test's machine has it")
	}
	ctx := context.Background()
	root := t.TempDir()
	work := t.TempDir()
	r, err := git.PlainInit(work, false)
	if err != nil {
		t.Fatal(err)
	}
	wt, _ := r.Worktree()
	if err := os.WriteFile(filepath.Join(work, "alm.yaml"), []byte("kind: Directory\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	wt.Add("alm.yaml")
	head, err := wt.Commit("import", &git.CommitOptions{Author: &object.Signature{Name: "t", Email: "t@example.test", When: time.Now()}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := git.PlainClone(filepath.Join(root, "access.git"), true, &git.CloneOptions{URL: work}); err != nil {
		t.Fatal(err)
	}
	const token = "t0ken-for-tests"
	url := authServer(t, root, token, gitPath).URL + "/access.git"

	if _, err := Repository(ctx, url, Options{CacheDir: t.TempDir()}); err == nil {
		t.Fatal("fetched without the token")
	}
	mirror, err := Repository(ctx, url, Options{CacheDir: t.TempDir(), Token: token})
	if err != nil {
		t.Fatal(err)
	}
	rc := receipt.Receipt{Revision: head.String(), AppliedAt: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC), Directory: "ldaps://dc1.example.test"}
	if _, err := receipt.Write(ctx, mirror, receipt.DefaultBranch, rc, receipt.Signature{}); err != nil {
		t.Fatal(err)
	}
	if err := receipt.Push(ctx, mirror, receipt.DefaultBranch, nil); err == nil {
		t.Fatal("pushed without the token")
	}
	if err := receipt.Push(ctx, mirror, receipt.DefaultBranch, Auth(token)); err != nil {
		t.Fatalf("push with the token: %v", err)
	}
	last, err := receipt.Last(ctx, filepath.Join(root, "access.git"), receipt.DefaultBranch)
	if err != nil || last == nil || last.Revision != head.String() {
		t.Fatalf("receipt on the remote: %+v, %v", last, err)
	}
}
