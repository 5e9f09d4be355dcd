package github

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
)

const (
	head  = "1111111111111111111111111111111111111111"
	older = "0000000000000000000000000000000000000000"
	token = "t0ken"
)

// fakeGitHub answers the REST calls alm makes, in GitHub's JSON shapes, and
// keeps issue comments so that create and update can be observed. The token
// writes as viewer; like GitHub, it may edit only the comments viewer wrote.
type fakeGitHub struct {
	t        *testing.T
	mu       sync.Mutex
	reviews  []map[string]any
	comments []map[string]any
	nextID   int64
	creates  int
	updates  int
	viewer   string
	// installation: the token is a GitHub App installation's, which GitHub
	// refuses GET /user.
	installation bool
	userCalls    int
}

func newFake(t *testing.T) (*fakeGitHub, *Client) { return newFakeWith(t, "alm-bot", Options{}) }

// newFakeWith serves as viewer, to a client with o (BaseURL and Token set here).
func newFakeWith(t *testing.T, viewer string, o Options) (*fakeGitHub, *Client) {
	f := &fakeGitHub{t: t, nextID: 100, viewer: viewer}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	o.BaseURL, o.Token = srv.URL, token
	c, err := New("acme/access", o)
	if err != nil {
		t.Fatal(err)
	}
	return f, c
}

func comment(id int64, login, body string) map[string]any {
	return map[string]any{"id": id, "body": body, "user": map[string]any{"login": login, "type": "User"},
		"html_url": fmt.Sprintf("https://github.com/acme/access/pull/7#issuecomment-%d", id)}
}

func review(id int, login, state, commit string) map[string]any {
	return map[string]any{
		"id": id, "node_id": "PRR_" + strconv.Itoa(id),
		"user":         map[string]any{"login": login, "id": id, "type": "User"},
		"body":         "",
		"state":        state,
		"commit_id":    commit,
		"submitted_at": fmt.Sprintf("2026-05-01T10:%02d:00Z", id),
		"html_url":     "https://github.com/acme/access/pull/7#pullrequestreview-" + strconv.Itoa(id),
	}
}

func (f *fakeGitHub) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if got := r.Header.Get("Authorization"); got != "Bearer "+token {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}`)
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/api/v3")
	switch {
	case r.Method == http.MethodGet && path == "/user":
		f.userCalls++
		if f.installation {
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, `{"message":"Resource not accessible by integration","documentation_url":"https://docs.github.com/rest/users/users#get-the-authenticated-user","status":"403"}`)
			return
		}
		f.json(w, map[string]any{"login": f.viewer, "id": 42, "type": "User"})
	case r.Method == http.MethodGet && path == "/repos/acme/access/pulls/7":
		f.json(w, map[string]any{
			"number": 7, "state": "open", "title": "svc-web",
			"user":             map[string]any{"login": "jdoe", "id": 1},
			"labels":           []any{map[string]any{"name": "service-account"}, map[string]any{"name": "access"}},
			"head":             map[string]any{"sha": head, "ref": "svc-web"},
			"base":             map[string]any{"sha": older, "ref": "main"},
			"merged":           false,
			"merge_commit_sha": "2222222222222222222222222222222222222222",
		})
	case r.Method == http.MethodGet && path == "/repos/acme/access/pulls/7/reviews":
		// Two pages, to exercise paging: GitHub links the next page.
		page := r.URL.Query().Get("page")
		if page == "" || page == "1" {
			w.Header().Set("Link", fmt.Sprintf(`<http://%s%s?page=2&per_page=100>; rel="next"`, r.Host, r.URL.Path))
			f.json(w, f.reviews[:len(f.reviews)/2])
			return
		}
		f.json(w, f.reviews[len(f.reviews)/2:])
	case r.Method == http.MethodGet && path == "/repos/acme/access/pulls/7/commits":
		f.json(w, []any{
			map[string]any{"sha": head, "commit": map[string]any{"author": map[string]any{"name": "Jane Doe", "email": "jane.doe@example.com", "date": "2026-05-01T09:00:00Z"}}, "author": map[string]any{"login": "jdoe"}},
			map[string]any{"sha": older, "commit": map[string]any{"author": map[string]any{"name": "Kim Fox", "email": "kim.fox@example.com", "date": "2026-05-01T09:30:00Z"}}, "author": nil},
		})
	case r.Method == http.MethodGet && path == "/repos/acme/access/commits/"+head+"/pulls":
		f.json(w, []any{map[string]any{"number": 7}})
	case r.Method == http.MethodGet && path == "/repos/acme/access/issues/7/comments":
		f.json(w, f.comments)
	case r.Method == http.MethodPost && path == "/repos/acme/access/issues/7/comments":
		var req struct{ Body string }
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		f.nextID++
		f.creates++
		c := comment(f.nextID, f.viewer, req.Body)
		f.comments = append(f.comments, c)
		w.WriteHeader(http.StatusCreated)
		f.json(w, c)
	case r.Method == http.MethodPatch && strings.HasPrefix(path, "/repos/acme/access/issues/comments/"):
		id, _ := strconv.ParseInt(strings.TrimPrefix(path, "/repos/acme/access/issues/comments/"), 10, 64)
		var req struct{ Body string }
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		for _, c := range f.comments {
			if c["id"] == id {
				if c["user"].(map[string]any)["login"] != f.viewer {
					w.WriteHeader(http.StatusForbidden)
					_, _ = io.WriteString(w, `{"message":"Resource not accessible by integration","status":"403"}`)
					return
				}
				c["body"] = req.Body
				f.updates++
				f.json(w, c)
				return
			}
		}
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"message":"Not Found"}`)
	default:
		f.t.Errorf("unexpected request %s %s", r.Method, r.URL)
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"message":"Not Found"}`)
	}
}

func (f *fakeGitHub) json(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		f.t.Error(err)
	}
}

func TestPullRequest(t *testing.T) {
	_, c := newFake(t)
	pr, err := c.PullRequest(context.Background(), 7)
	if err != nil {
		t.Fatal(err)
	}
	want := PullRequest{Number: 7, Author: "jdoe", Labels: []string{"access", "service-account"}, Head: head, Base: older, MergeCommit: "2222222222222222222222222222222222222222"}
	if !reflect.DeepEqual(pr, want) {
		t.Errorf("got %+v\nwant %+v", pr, want)
	}
}

func TestApprovals(t *testing.T) {
	f, c := newFake(t)
	f.reviews = []map[string]any{
		review(1, "sec1", StateApproved, head),
		review(2, "stale", StateApproved, older), // approved an earlier commit only
		review(3, "asmith", StateApproved, head),
		review(4, "dismissed", StateApproved, head),
		review(5, "dismissed", StateDismissed, head), // dismissal cancels the approval
		review(6, "asmith", StateCommented, head),    // a comment does not change a verdict
		review(7, "changed", StateApproved, head),
		review(8, "changed", StateChangesRequested, head),
		review(9, "Sec2", StateChangesRequested, older),
		review(10, "sec2", StateApproved, head), // the latest verdict stands; logins ignore case
	}
	got, err := c.Approvals(context.Background(), 7, head)
	if err != nil {
		t.Fatal(err)
	}
	var logins []string
	for _, r := range got {
		logins = append(logins, r.Login)
	}
	if want := []string{"asmith", "sec1", "sec2"}; !reflect.DeepEqual(logins, want) {
		t.Errorf("approvals from %v, want %v", logins, want)
	}
}

func TestCommitAuthors(t *testing.T) {
	_, c := newFake(t)
	got, err := c.CommitAuthors(context.Background(), 7)
	if err != nil {
		t.Fatal(err)
	}
	want := []CommitAuthor{{Login: "jdoe", Name: "Jane Doe", Email: "jane.doe@example.com"}, {Name: "Kim Fox", Email: "kim.fox@example.com"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v", got)
	}
}

func TestPullRequestsWithCommit(t *testing.T) {
	_, c := newFake(t)
	got, err := c.PullRequestsWithCommit(context.Background(), head)
	if err != nil || !reflect.DeepEqual(got, []int{7}) {
		t.Errorf("got %v, %v", got, err)
	}
}

func TestStickyCommentCreatedOnceThenUpdated(t *testing.T) {
	f, c := newFake(t)
	f.comments = []map[string]any{comment(5, "asmith", "LGTM")}
	ctx := context.Background()
	const marker = "<!-- alm-check -->"

	first, created, err := c.StickyComment(ctx, 7, marker, "verdict: denied")
	if err != nil || !created {
		t.Fatalf("first: created=%v err=%v", created, err)
	}
	second, created, err := c.StickyComment(ctx, 7, marker, "verdict: passed")
	if err != nil || created {
		t.Fatalf("second: created=%v err=%v", created, err)
	}
	if first.ID != second.ID {
		t.Errorf("updated comment %d, want %d", second.ID, first.ID)
	}
	if f.creates != 1 || f.updates != 1 || len(f.comments) != 2 {
		t.Errorf("creates=%d updates=%d comments=%d, want 1, 1, 2", f.creates, f.updates, len(f.comments))
	}
	body := f.comments[1]["body"].(string)
	if !strings.HasPrefix(body, marker+"\n") || !strings.Contains(body, "verdict: passed") {
		t.Errorf("comment body %q", body)
	}
	if f.comments[0]["body"] != "LGTM" {
		t.Errorf("someone else's comment changed: %v", f.comments[0])
	}
}

// TestStickyCommentIgnoresOthersMarker: a comment someone else wrote with
// alm's marker is not alm's. It is neither updated (GitHub would refuse, and
// the check fail) nor left standing for alm's: alm creates its own once and
// then updates it.
func TestStickyCommentIgnoresOthersMarker(t *testing.T) {
	const marker = "<!-- alm-check -->"
	forged := marker + "\n## ✅ alm check: passed"
	for _, tt := range []struct {
		name         string
		viewer       string // the login the token writes as
		installation bool
		option       string // Options.CommentAuthor
		userCalls    int    // GET /user calls expected over the two runs
	}{
		{name: "user token: login from GET /user", viewer: "alm-bot", userCalls: 2},
		{name: "GitHub Actions token: /user refused, github-actions[bot]", viewer: ActionsBot, installation: true, userCalls: 2},
		{name: "GitHub App: login given", viewer: "alm-app[bot]", installation: true, option: "alm-app[bot]"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, c := newFakeWith(t, tt.viewer, Options{CommentAuthor: tt.option})
			f.installation = tt.installation
			f.comments = []map[string]any{comment(5, "mallory", forged), comment(6, "asmith", "LGTM")}
			ctx := context.Background()

			first, created, err := c.StickyComment(ctx, 7, marker, "verdict: denied")
			if err != nil || !created {
				t.Fatalf("first run: created=%v err=%v", created, err)
			}
			second, created, err := c.StickyComment(ctx, 7, marker, "verdict: passed")
			if err != nil || created {
				t.Fatalf("second run: created=%v err=%v", created, err)
			}
			if first.ID == 5 || second.ID != first.ID {
				t.Errorf("comments %d then %d: want alm's own, the same both times", first.ID, second.ID)
			}
			if f.creates != 1 || f.updates != 1 || len(f.comments) != 3 {
				t.Errorf("creates=%d updates=%d comments=%d, want 1, 1, 3", f.creates, f.updates, len(f.comments))
			}
			if f.comments[0]["body"] != forged || f.comments[1]["body"] != "LGTM" {
				t.Errorf("someone else's comment changed: %v", f.comments[:2])
			}
			if ours := f.comments[2]; ours["user"].(map[string]any)["login"] != tt.viewer || !strings.Contains(ours["body"].(string), "verdict: passed") {
				t.Errorf("alm's comment %v", ours)
			}
			if f.userCalls != tt.userCalls {
				t.Errorf("GET /user %d times, want %d", f.userCalls, tt.userCalls)
			}
		})
	}
}

func TestStickyCommentUpdatesItsOwnAfterOthers(t *testing.T) {
	const marker = "<!-- alm-check -->"
	f, c := newFakeWith(t, ActionsBot, Options{})
	f.installation = true
	f.comments = []map[string]any{comment(5, "mallory", marker+"\nforged"), comment(9, ActionsBot, marker+"\nearlier run")}
	got, created, err := c.StickyComment(context.Background(), 7, marker, "verdict: passed")
	if err != nil || created || got.ID != 9 {
		t.Fatalf("got comment %d created=%v err=%v, want 9 updated", got.ID, created, err)
	}
	if f.creates != 0 || f.updates != 1 || f.comments[0]["body"] != marker+"\nforged" {
		t.Errorf("creates=%d updates=%d first=%v", f.creates, f.updates, f.comments[0])
	}
}

func TestStickyCommentUnknownUser(t *testing.T) {
	f, _ := newFake(t)
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	defer srv.Close()
	c, err := New("acme/access", Options{BaseURL: srv.URL, Token: "wrong"})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = c.StickyComment(context.Background(), 7, "<!-- alm-check -->", "verdict")
	if err == nil || !strings.Contains(err.Error(), CommentAuthorEnv) || f.creates != 0 {
		t.Errorf("err %v, creates %d: want an error naming %s and no comment", err, f.creates, CommentAuthorEnv)
	}
}

func TestFromEnvCommentAuthor(t *testing.T) {
	t.Setenv(TokenEnv, token)
	t.Setenv(CommentAuthorEnv, "alm-app[bot]")
	c, err := FromEnv("acme/access", "")
	if err != nil {
		t.Fatal(err)
	}
	if c.commentAuthor != "alm-app[bot]" {
		t.Errorf("comment author %q", c.commentAuthor)
	}
}

func TestBadToken(t *testing.T) {
	f, _ := newFake(t)
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	defer srv.Close()
	c, err := New("acme/access", Options{BaseURL: srv.URL, Token: "wrong"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.PullRequest(context.Background(), 7)
	if err == nil || !strings.Contains(err.Error(), "acme/access#7") || strings.Contains(err.Error(), "wrong") {
		t.Errorf("error %v: want one naming the pull request and not the token", err)
	}
}

func TestNewRejectsBadRepository(t *testing.T) {
	for _, s := range []string{"acme", "acme/", "/access", "a/b/c"} {
		if _, err := New(s, Options{}); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestFromEnvNeedsToken(t *testing.T) {
	t.Setenv(TokenEnv, "")
	if _, err := FromEnv("acme/access", ""); err != ErrNoToken {
		t.Errorf("got %v, want ErrNoToken", err)
	}
}
