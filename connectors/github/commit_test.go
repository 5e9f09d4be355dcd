package github

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"strings"
	"testing"

	gh "github.com/google/go-github/v92/github"

	"github.com/alm-project/alm/connectors/github/githubtest"
)

var mainFiles = map[string]string{
	"people/jdoe.yaml":              "name: jdoe\n",
	"people/kfox.yaml":              "name: kfox\n",
	"service-accounts/svc-web.yaml": "name: svc-web\n",
}

func newCommitFake(t *testing.T) (*githubtest.Server, *Client, string) {
	t.Helper()
	head := strings.Repeat("a", 40)
	srv := githubtest.New(t, head, maps.Clone(mainFiles))
	c, err := New("acme/access", Options{BaseURL: srv.URL, Token: githubtest.Token})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c, head
}

// locked reads the fake's state under its lock.
func locked[T any](srv *githubtest.Server, f func() T) T {
	srv.Mu.Lock()
	defer srv.Mu.Unlock()
	return f()
}

func branchFiles(srv *githubtest.Server, branch string) map[string]string {
	return locked(srv, func() map[string]string { return maps.Clone(srv.Files[branch]) })
}

func calls(srv *githubtest.Server) map[string]int {
	return locked(srv, func() map[string]int { return maps.Clone(srv.Calls) })
}

func TestCommitCreatesThenMovesBranch(t *testing.T) {
	srv, c, head := newCommitFake(t)
	ctx := context.Background()
	const branch = "alm/renew/svc-web"

	// One commit: two new files, one deleted, the branch created at it.
	first, err := c.Commit(ctx, branch, head, "Renew svc-web", map[string][]byte{
		"people/new.yaml":                    []byte("name: new\n"),
		"service-accounts/svc-web.next.yaml": []byte("name: svc-web\nuntil: 2027-01-01\n"),
	}, []string{"people/kfox.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"people/jdoe.yaml":                   "name: jdoe\n",
		"people/new.yaml":                    "name: new\n",
		"service-accounts/svc-web.yaml":      "name: svc-web\n",
		"service-accounts/svc-web.next.yaml": "name: svc-web\nuntil: 2027-01-01\n",
	}
	if got := branchFiles(srv, branch); !maps.Equal(got, want) {
		t.Errorf("files on %s: %v, want %v", branch, got, want)
	}
	if got := branchFiles(srv, "main"); !maps.Equal(got, mainFiles) {
		t.Errorf("main changed: %v", got)
	}
	if sha, ok, err := c.Branch(ctx, branch); err != nil || !ok || sha != first {
		t.Errorf("branch %s at %s %v %v, want %s", branch, sha, ok, err, first)
	}
	for path, content := range want {
		got, _, err := c.File(ctx, path, branch)
		if err != nil || string(got) != content {
			t.Errorf("File %s at %s: %q %v, want %q", path, branch, got, err, content)
		}
	}
	if _, _, err := c.File(ctx, "people/kfox.yaml", branch); err == nil {
		t.Errorf("people/kfox.yaml still on %s", branch)
	}
	gc, _, err := c.gh.Git.GetCommit(ctx, "acme", "access", first)
	if err != nil || gc.GetMessage() != "Renew svc-web" || len(gc.Parents) != 1 || gc.Parents[0].GetSHA() != head {
		t.Errorf("commit %s: %v %v, want one parent %s", first, gc, err, head)
	}
	for route, n := range map[string]int{"GET git/commits": 2, "POST git/trees": 1, "POST git/commits": 1, "POST git/refs": 1, "PATCH git/refs": 0} {
		if got := calls(srv)[route]; got != n {
			t.Errorf("%s: %d calls, want %d", route, got, n)
		}
	}

	// main moves on (through the contents API); the branch is made again
	// over main's new head, a commit that does not descend from the first,
	// so only a forced move puts it there.
	_, blobSHA, err := c.File(ctx, "people/jdoe.yaml", "main")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.UpdateFile(ctx, "main", "people/jdoe.yaml", "Move jdoe", []byte("name: jdoe\ndept: finance\n"), blobSHA); err != nil {
		t.Fatal(err)
	}
	parent, _, err := c.Branch(ctx, "main")
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.Commit(ctx, branch, parent, "Renew svc-web", map[string][]byte{
		"service-accounts/svc-web.yaml": []byte("name: svc-web\nuntil: 2027-01-01\n"),
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if second == first || second == parent {
		t.Fatalf("second commit %s, first %s, parent %s", second, first, parent)
	}
	want = map[string]string{
		"people/jdoe.yaml":              "name: jdoe\ndept: finance\n",
		"people/kfox.yaml":              "name: kfox\n",
		"service-accounts/svc-web.yaml": "name: svc-web\nuntil: 2027-01-01\n",
	}
	if got := branchFiles(srv, branch); !maps.Equal(got, want) {
		t.Errorf("files on %s after the second commit: %v, want %v", branch, got, want)
	}
	if sha, _, _ := c.Branch(ctx, branch); sha != second {
		t.Errorf("branch %s at %s, want %s", branch, sha, second)
	}
	if got := calls(srv); got["PATCH git/refs"] != 1 || got["POST git/refs"] != 1 || got["POST git/commits"] != 2 {
		t.Errorf("calls %v: want the branch moved once and created once", got)
	}

	// The first commit is still there: a branch can be made at it.
	if err := c.CreateBranch(ctx, "again", first); err != nil {
		t.Fatal(err)
	}
	if got := branchFiles(srv, "again"); got["people/new.yaml"] != "name: new\n" || len(got) != 4 {
		t.Errorf("files of a branch at %s: %v", first, got)
	}
}

func TestCommitErrors(t *testing.T) {
	tests := []struct {
		name   string
		parent string // empty: main's head
		put    map[string][]byte
		del    []string
		want   string
	}{
		{name: "unknown parent", parent: strings.Repeat("b", 40), del: []string{"people/jdoe.yaml"}, want: "commit " + strings.Repeat("b", 40) + " of acme/access"},
		{name: "delete a missing file", del: []string{"people/nobody.yaml"}, want: "tree for branch alm/x of acme/access"},
		{name: "write and delete", put: map[string][]byte{"people/jdoe.yaml": []byte("x")}, del: []string{"people/jdoe.yaml"}, want: "people/jdoe.yaml for branch alm/x of acme/access is both written and deleted"},
		{name: "not text", put: map[string][]byte{"bin": {0xff, 0xfe}}, want: "bin for branch alm/x of acme/access is not UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c, head := newCommitFake(t)
			parent := tt.parent
			if parent == "" {
				parent = head
			}
			_, err := c.Commit(context.Background(), "alm/x", parent, "m", tt.put, tt.del)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one with %q", err, tt.want)
			}
			if got := locked(srv, func() bool { _, ok := srv.Branches["alm/x"]; return ok }); got {
				t.Errorf("branch alm/x made despite the error")
			}
		})
	}
}

// TestFakeRefs checks the fake's ref moves as GitHub makes them.
func TestFakeRefs(t *testing.T) {
	srv, c, head := newCommitFake(t)
	ctx := context.Background()
	one, err := c.Commit(ctx, "b", head, "one", map[string][]byte{"x": []byte("1")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	two, err := c.Commit(ctx, "c", one, "two", map[string][]byte{"x": []byte("2")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	status := func(err error) int {
		var er *gh.ErrorResponse
		if errors.As(err, &er) {
			return er.Response.StatusCode
		}
		return 0
	}
	tests := []struct {
		name   string
		ref    string
		sha    string
		force  bool
		status int // 0: moved
	}{
		{name: "backwards, not forced", ref: "heads/b", sha: head, status: http.StatusUnprocessableEntity},
		{name: "fast forward", ref: "heads/b", sha: two},
		{name: "backwards, forced", ref: "heads/b", sha: head, force: true},
		{name: "no such branch", ref: "heads/nope", sha: two, force: true, status: http.StatusUnprocessableEntity},
		{name: "no such commit", ref: "heads/b", sha: strings.Repeat("e", 40), force: true, status: http.StatusUnprocessableEntity},
	}
	for _, tt := range tests {
		_, _, err := c.gh.Git.UpdateRef(ctx, "acme", "access", tt.ref, gh.UpdateRef{SHA: tt.sha, Force: gh.Ptr(tt.force)})
		if got := status(err); got != tt.status {
			t.Errorf("%s: status %d (%v), want %d", tt.name, got, err, tt.status)
			continue
		}
		if tt.status == 0 {
			if sha, _, _ := c.Branch(ctx, "b"); sha != tt.sha {
				t.Errorf("%s: b at %s, want %s", tt.name, sha, tt.sha)
			}
		}
	}
	if got := branchFiles(srv, "b"); !maps.Equal(got, mainFiles) {
		t.Errorf("b moved back to main's head has %v", got)
	}
	if _, _, err := c.gh.Git.GetCommit(ctx, "acme", "access", strings.Repeat("e", 40)); status(err) != http.StatusNotFound {
		t.Errorf("unknown commit: %v, want 404", err)
	}
}

func TestOpenPullRequestFrom(t *testing.T) {
	const branch = "alm/renew/svc-web"
	tests := []struct {
		name   string
		pulls  []githubtest.PullRequest
		want   int
		wantOK bool
	}{
		{name: "none"},
		{name: "open", pulls: []githubtest.PullRequest{{Number: 101, Head: branch, State: "open"}}, want: 101, wantOK: true},
		{name: "closed only", pulls: []githubtest.PullRequest{{Number: 101, Head: branch, State: "closed"}}},
		{name: "merged", pulls: []githubtest.PullRequest{{Number: 101, Head: branch, State: "closed", Merged: true}}},
		{name: "closed then open", pulls: []githubtest.PullRequest{
			{Number: 101, Head: branch, State: "closed"},
			{Number: 102, Head: branch, State: "open"},
		}, want: 102, wantOK: true},
		{name: "open from another branch", pulls: []githubtest.PullRequest{{Number: 101, Head: branch + "-2", State: "open"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c, _ := newCommitFake(t)
			for _, p := range tt.pulls {
				p.Base, p.Author, p.Title = "main", githubtest.Viewer, "t"
				srv.Pulls = append(srv.Pulls, &p)
			}
			n, ok, err := c.OpenPullRequestFrom(context.Background(), branch)
			if err != nil || n != tt.want || ok != tt.wantOK {
				t.Errorf("got #%d %v %v, want #%d %v", n, ok, err, tt.want, tt.wantOK)
			}
		})
	}
}

func TestEditPullRequest(t *testing.T) {
	srv, c, _ := newCommitFake(t)
	srv.Pulls = append(srv.Pulls, &githubtest.PullRequest{Number: 101, Title: "Renew svc-web", Body: "old", Head: "b", Base: "main", State: "open", Author: githubtest.Viewer})
	ctx := context.Background()
	if err := c.EditPullRequest(ctx, 101, "Renew svc-web until 2027-01-01", "new body"); err != nil {
		t.Fatal(err)
	}
	got := locked(srv, func() githubtest.PullRequest { return *srv.Pull(101) })
	if got.Title != "Renew svc-web until 2027-01-01" || got.Body != "new body" || got.State != "open" {
		t.Errorf("pull request after edit: %+v", got)
	}
	if n := calls(srv)["PATCH pulls"]; n != 1 {
		t.Errorf("PATCH pulls: %d calls, want 1", n)
	}
	if err := c.EditPullRequest(ctx, 999, "t", "b"); err == nil || !strings.Contains(err.Error(), "acme/access#999") {
		t.Errorf("edit of a missing pull request: %v", err)
	}
}

func TestClosePullRequest(t *testing.T) {
	tests := []struct {
		name    string
		comment string
	}{
		{name: "with a comment", comment: "Superseded by #102."},
		{name: "without"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c, _ := newCommitFake(t)
			srv.Pulls = append(srv.Pulls, &githubtest.PullRequest{Number: 101, Title: "t", Head: "b", Base: "main", State: "open", Author: githubtest.Viewer})
			if err := c.ClosePullRequest(context.Background(), 101, tt.comment); err != nil {
				t.Fatal(err)
			}
			if st := locked(srv, func() string { return srv.Pull(101).State }); st != "closed" {
				t.Errorf("state %q, want closed", st)
			}
			comments := locked(srv, func() []githubtest.Comment {
				var out []githubtest.Comment
				for _, cm := range srv.Comments {
					out = append(out, *cm)
				}
				return out
			})
			switch {
			case tt.comment == "" && len(comments) != 0:
				t.Errorf("comments %+v, want none", comments)
			case tt.comment != "" && (len(comments) != 1 || comments[0].Issue != 101 || comments[0].Body != tt.comment):
				t.Errorf("comments %+v, want %q on #101", comments, tt.comment)
			}
		})
	}
}
