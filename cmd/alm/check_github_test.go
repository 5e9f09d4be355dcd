package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/alm-project/alm/connectors/github"
	"github.com/alm-project/alm/reconciler/history/historytest"
)

// prGitHub answers the calls alm check --pr makes, in GitHub's JSON: one
// pull request, its reviews and commits, its requested reviewers (kept, as
// GitHub keeps them) and issue comments.
type prGitHub struct {
	t         *testing.T
	mu        sync.Mutex
	number    int
	author    string
	head      string
	reviews   []map[string]any
	requested []string
	requests  [][]string // the body of every POST requested_reviewers
	comments  []map[string]any
}

func (f *prGitHub) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	pr := fmt.Sprintf("/repos/acme/access/pulls/%d", f.number)
	issue := fmt.Sprintf("/repos/acme/access/issues/%d", f.number)
	user := func(login string) map[string]any {
		return map[string]any{"login": login, "id": len(login), "type": "User"}
	}
	switch path := r.URL.Path; {
	case r.Method == http.MethodGet && path == "/user":
		f.json(w, http.StatusOK, user("alm-bot"))
	case r.Method == http.MethodGet && path == pr:
		f.json(w, http.StatusOK, map[string]any{"number": f.number, "state": "open", "user": user(f.author),
			"head": map[string]any{"sha": f.head}, "base": map[string]any{"sha": "0000000000000000000000000000000000000000"}, "merged": false})
	case r.Method == http.MethodGet && path == pr+"/reviews":
		f.json(w, http.StatusOK, f.reviews)
	case r.Method == http.MethodGet && path == pr+"/commits":
		f.json(w, http.StatusOK, []any{map[string]any{"sha": f.head, "author": user(f.author),
			"commit": map[string]any{"author": map[string]any{"name": "Jane Doe", "email": "jdoe@acme.test"}}}})
	case r.Method == http.MethodGet && path == pr+"/requested_reviewers":
		users := []any{}
		for _, l := range f.requested {
			users = append(users, user(l))
		}
		f.json(w, http.StatusOK, map[string]any{"users": users, "teams": []any{}})
	case r.Method == http.MethodPost && path == pr+"/requested_reviewers":
		var req struct{ Reviewers []string }
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			f.json(w, http.StatusBadRequest, map[string]any{"message": "Problems parsing JSON"})
			return
		}
		f.requests = append(f.requests, req.Reviewers)
		for _, l := range req.Reviewers {
			if strings.EqualFold(l, f.author) {
				f.json(w, http.StatusUnprocessableEntity, map[string]any{"message": "Review cannot be requested from pull request author."})
				return
			}
		}
		f.requested = append(f.requested, req.Reviewers...)
		f.json(w, http.StatusCreated, map[string]any{"number": f.number})
	case r.Method == http.MethodGet && path == issue+"/comments":
		f.json(w, http.StatusOK, f.comments)
	case r.Method == http.MethodPost && path == issue+"/comments":
		var req struct{ Body string }
		_ = json.NewDecoder(r.Body).Decode(&req)
		c := map[string]any{"id": int64(100 + len(f.comments)), "body": req.Body, "user": user("alm-bot")}
		f.comments = append(f.comments, c)
		f.json(w, http.StatusCreated, c)
	case r.Method == http.MethodPatch && strings.HasPrefix(path, "/repos/acme/access/issues/comments/"):
		id, _ := strconv.ParseInt(strings.TrimPrefix(path, "/repos/acme/access/issues/comments/"), 10, 64)
		var req struct{ Body string }
		_ = json.NewDecoder(r.Body).Decode(&req)
		for _, c := range f.comments {
			if c["id"] == id {
				c["body"] = req.Body
				f.json(w, http.StatusOK, c)
				return
			}
		}
		f.json(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
	default:
		f.t.Errorf("unexpected request %s %s", r.Method, r.URL)
		f.json(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
	}
}

func (f *prGitHub) json(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		f.t.Error(err)
	}
}

// TestCheckAsksApproversOnce: a new service account needs a security
// approver and the owner's manager. The check asks those who can approve and
// have a GitHub login, once over two runs; the comment says whom it asked
// and who could approve but has no login; nobody who reviewed already, and
// never the author, is asked.
func TestCheckAsksApproversOnce(t *testing.T) {
	sec2 := "apiVersion: alm/v1\nkind: Person\nmetadata:\n  name: sec2\n  id: \"000006\"\nspec:\n  givenName: Sue\n  surname: Sec\n  email: sec2@acme.test\n  type: employee\n  startDate: 2025-01-06\n  manager: cboss\n  roles: [security-approvers]\n"
	svc := "apiVersion: alm/v1\nkind: ServiceAccount\nmetadata:\n  name: svc-web\n  id: sa-02\nspec:\n  template: service-account\n  description: Serves the intranet web site\n  owner: jdoe\n  roles: [vpn-users]\n  created: 2026-05-01\n  expires: 2026-12-31\n"
	tests := []struct {
		name     string
		reviews  []map[string]any
		asked    []string // the logins of the one request
		comment  []string // what the last comment says
		requests int
	}{
		{
			name:     "nobody reviewed: both asked once",
			asked:    []string{"asmith-gh", "sec1-gh"},
			requests: 1,
			comment:  []string{"asked before or reviewed: asmith (@asmith-gh), sec1 (@sec1-gh)", "no GitHub login (spec.github), so tell them: sec2"},
		},
		{
			name: "a reviewer who commented is not asked again",
			reviews: []map[string]any{{"id": 1, "user": map[string]any{"login": "ASmith-gh"}, "state": github.StateCommented,
				"commit_id": "x", "submitted_at": "2026-05-01T10:00:00Z"}},
			asked:    []string{"sec1-gh"},
			requests: 1,
			comment:  []string{"asked before or reviewed: asmith (@asmith-gh), sec1 (@sec1-gh)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo := historytest.New(t)
			repo.CopyDir(filepath.Join("..", "..", "reconciler", "check", "testdata", "access"))
			repo.Write("people/sec2.yaml", sec2)
			repo.Commit("Import", admin)
			repo.Write("service-accounts/svc-web.yaml", svc)
			head := repo.Commit("Add svc-web", historytest.Person{Name: "Jane Doe", Email: "jdoe@acme.test"})

			f := &prGitHub{t: t, number: 7, author: "jdoe-gh", head: head, reviews: tt.reviews}
			if f.reviews == nil {
				f.reviews = []map[string]any{}
			}
			srv := httptest.NewServer(http.HandlerFunc(f.serve))
			t.Cleanup(srv.Close)
			t.Setenv(github.TokenEnv, "t0ken")
			t.Setenv(github.CommentAuthorEnv, "")

			var out string
			for run := range 2 {
				code, o, errOut := runAlm(t, "check", "--repo", repo.Path, "--base", "HEAD~1", "--head", "HEAD",
					"--pr", "7", "--github", "acme/access", "--github-api", srv.URL, "--comment", "--now", "2026-05-02T09:00:00Z")
				if code != exitInvalid {
					t.Fatalf("run %d: exit %d, want %d (denied: approvals missing)\n%s%s", run+1, code, exitInvalid, o, errOut)
				}
				out = o
			}
			if len(f.requests) != tt.requests {
				t.Fatalf("%d review requests %v, want %d", len(f.requests), f.requests, tt.requests)
			}
			if got := slices.Sorted(slices.Values(f.requests[0])); !reflect.DeepEqual(got, tt.asked) {
				t.Errorf("asked %v, want %v", got, tt.asked)
			}
			if len(f.comments) != 1 {
				t.Fatalf("%d comments, want 1 kept up to date", len(f.comments))
			}
			body := f.comments[0]["body"].(string)
			for _, want := range tt.comment {
				if !strings.Contains(body, want) || !strings.Contains(out, want) {
					t.Errorf("the comment or the output does not say %q:\ncomment:\n%s\noutput:\n%s", want, body, out)
				}
			}
			for _, never := range []string{"jdoe (@", "@jdoe-gh"} {
				if strings.Contains(body, never) {
					t.Errorf("the author is named among the reviewers: %q in\n%s", never, body)
				}
			}
		})
	}
}
