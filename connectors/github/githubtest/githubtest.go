// Package githubtest is a GitHub for tests: an httptest server answering
// the REST calls alm makes in GitHub's JSON, over one repository held in
// memory (branches of files, pull requests, reviews, review requests and
// comments), so tests can run alm several times and count what it did.
//
// Every commit the server knows keeps a snapshot of its files, so the Git
// Data API works over it: read a commit (git/commits/{sha}), build a tree
// over its tree (git/trees), commit that tree (git/commits) and create or
// move a branch to the commit (git/refs). A commit that is some branch's
// head has that branch's Files, so tests may edit Files directly.
package githubtest

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Token is the token the server accepts.
const Token = "t0ken"

// Viewer is the login the token writes as.
const Viewer = "alm-bot"

// PullRequest is one pull request the server holds.
type PullRequest struct {
	Number      int
	Title, Body string
	Author      string
	Head, Base  string // branch names
	State       string // open or closed
	Merged      bool
	MergeCommit string
	Requested   []string // logins asked for a review, as GitHub keeps them
}

// Comment is an issue comment.
type Comment struct {
	ID     int64
	Issue  int
	Author string
	Body   string
}

// Server is the fake GitHub of "acme/access".
type Server struct {
	URL string
	t   testing.TB

	Mu            sync.Mutex
	DefaultBranch string
	Branches      map[string]string            // branch -> head commit
	Files         map[string]map[string]string // branch -> path -> content
	Pulls         []*PullRequest
	Comments      []*Comment
	// Commits maps a commit to the pull requests GitHub associates with it.
	Commits map[string][]int
	// Calls counts requests by "METHOD route", e.g. "POST pulls".
	Calls   map[string]int
	commits int
	objects map[string]gitCommit         // commit -> tree, parents, message
	trees   map[string]map[string]string // tree -> path -> content
}

// gitCommit is a commit the server was given (New) or made (contents,
// git/commits): its tree and parents.
type gitCommit struct {
	tree    string
	parents []string
	message string
}

// New starts a server whose default branch, main, holds files at commit head.
func New(t testing.TB, head string, files map[string]string) *Server {
	s := &Server{t: t, DefaultBranch: "main", Branches: map[string]string{"main": head},
		Files: map[string]map[string]string{"main": files}, Commits: map[string][]int{}, Calls: map[string]int{},
		objects: map[string]gitCommit{}, trees: map[string]map[string]string{}}
	s.objects[head] = gitCommit{tree: s.tree(files)}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// Pull returns the pull request numbered n, or nil.
func (s *Server) Pull(n int) *PullRequest {
	for _, p := range s.Pulls {
		if p.Number == n {
			return p
		}
	}
	return nil
}

func user(login string) map[string]any {
	return map[string]any{"login": login, "id": len(login), "type": "User"}
}

func blob(content string) string {
	h := sha1.Sum([]byte(content))
	return hex.EncodeToString(h[:])
}

func copyFiles(files map[string]string) map[string]string {
	out := make(map[string]string, len(files))
	for p, c := range files {
		out[p] = c
	}
	return out
}

// tree keeps a snapshot of files and returns its sha.
func (s *Server) tree(files map[string]string) string {
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	h := sha1.New()
	for _, p := range paths {
		fmt.Fprintf(h, "100644 %s\x00%s\n", p, blob(files[p]))
	}
	sha := hex.EncodeToString(h.Sum(nil))
	if _, ok := s.trees[sha]; !ok {
		s.trees[sha] = copyFiles(files)
	}
	return sha
}

// blobContent returns the content of a blob some tree holds.
func (s *Server) blobContent(sha string) (string, bool) {
	for _, files := range s.trees {
		for _, c := range files {
			if blob(c) == sha {
				return c, true
			}
		}
	}
	return "", false
}

// commit records a new commit of tree and returns its sha.
func (s *Server) commit(tree string, parents []string, message string) string {
	s.commits++
	sha := fmt.Sprintf("%040x", 0xc0ffee00+s.commits)
	s.objects[sha] = gitCommit{tree: tree, parents: parents, message: message}
	return sha
}

// files returns the files of a commit: those of a branch it is the head of
// (the default branch first), else its snapshot.
func (s *Server) files(sha string) (map[string]string, bool) {
	if sha == "" {
		return nil, false
	}
	if s.Branches[s.DefaultBranch] == sha {
		return s.Files[s.DefaultBranch], true
	}
	var heads []string
	for b, h := range s.Branches {
		if h == sha {
			heads = append(heads, b)
		}
	}
	if len(heads) > 0 {
		sort.Strings(heads)
		return s.Files[heads[0]], true
	}
	if c, ok := s.objects[sha]; ok {
		return s.trees[c.tree], true
	}
	return nil, false
}

// descends reports whether commit sha is ancestor or descends from it.
func (s *Server) descends(sha, ancestor string) bool {
	seen := map[string]bool{}
	todo := []string{sha}
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		if c == ancestor {
			return true
		}
		if seen[c] {
			continue
		}
		seen[c] = true
		todo = append(todo, s.objects[c].parents...)
	}
	return false
}

func (s *Server) pullJSON(p *PullRequest) map[string]any {
	m := map[string]any{"number": p.Number, "title": p.Title, "body": p.Body, "state": p.State, "user": user(p.Author),
		"head":     map[string]any{"ref": p.Head, "sha": s.Branches[p.Head]},
		"base":     map[string]any{"ref": p.Base, "sha": s.Branches[p.Base]},
		"merged":   p.Merged,
		"html_url": fmt.Sprintf("https://github.com/acme/access/pull/%d", p.Number)}
	if p.Merged {
		m["merge_commit_sha"] = p.MergeCommit
		m["merged_at"] = "2026-05-01T12:00:00Z"
	}
	return m
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+Token {
		s.reply(w, http.StatusUnauthorized, map[string]any{"message": "Bad credentials"})
		return
	}
	path := r.URL.Path
	if path == "/user" {
		s.Calls["GET user"]++
		s.reply(w, http.StatusOK, user(Viewer))
		return
	}
	rest, ok := strings.CutPrefix(path, "/repos/acme/access")
	if !ok {
		s.notFound(w, r)
		return
	}
	parts := strings.Split(strings.Trim(rest, "/"), "/")
	route := parts[0]
	if len(parts) > 2 && (parts[0] == "pulls" || parts[0] == "issues" || parts[0] == "commits") {
		route = parts[0] + "/" + parts[2]
	}
	if parts[0] == "git" && len(parts) > 1 {
		route = "git/" + parts[1]
	}
	s.Calls[r.Method+" "+route]++
	switch {
	case r.Method == http.MethodGet && rest == "":
		s.reply(w, http.StatusOK, map[string]any{"name": "access", "full_name": "acme/access", "default_branch": s.DefaultBranch})
	case r.Method == http.MethodGet && route == "git/ref":
		b := strings.TrimPrefix(rest, "/git/ref/heads/")
		sha, ok := s.Branches[b]
		if !ok {
			s.reply(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
			return
		}
		s.reply(w, http.StatusOK, map[string]any{"ref": "refs/heads/" + b, "object": map[string]any{"sha": sha, "type": "commit"}})
	case r.Method == http.MethodPost && route == "git/refs":
		var req struct{ Ref, SHA string }
		s.decode(r, &req)
		b := strings.TrimPrefix(req.Ref, "refs/heads/")
		if _, ok := s.Branches[b]; ok {
			s.reply(w, http.StatusUnprocessableEntity, map[string]any{"message": "Reference already exists"})
			return
		}
		files, ok := s.files(req.SHA)
		if !ok {
			s.reply(w, http.StatusUnprocessableEntity, map[string]any{"message": "Object does not exist"})
			return
		}
		s.Branches[b] = req.SHA
		s.Files[b] = copyFiles(files)
		s.reply(w, http.StatusCreated, map[string]any{"ref": req.Ref, "object": map[string]any{"sha": req.SHA, "type": "commit"}})
	case r.Method == http.MethodPatch && strings.HasPrefix(rest, "/git/refs/heads/"):
		s.moveRef(w, r, strings.TrimPrefix(rest, "/git/refs/heads/"))
	case r.Method == http.MethodGet && route == "git/commits" && len(parts) == 3:
		s.getCommit(w, parts[2])
	case r.Method == http.MethodPost && route == "git/commits" && len(parts) == 2:
		s.createCommit(w, r)
	case r.Method == http.MethodPost && route == "git/trees" && len(parts) == 2:
		s.createTree(w, r)
	case route == "contents":
		s.contents(w, r, strings.TrimPrefix(rest, "/contents/"))
	case r.Method == http.MethodGet && rest == "/pulls":
		q := r.URL.Query()
		out := []any{}
		for _, p := range s.Pulls {
			if h := q.Get("head"); h != "" && h != "acme:"+p.Head {
				continue
			}
			if st := q.Get("state"); (st == "" || st == "open") && p.State != "open" || st == "closed" && p.State != "closed" {
				continue
			}
			out = append(out, s.pullJSON(p))
		}
		s.reply(w, http.StatusOK, out)
	case r.Method == http.MethodPost && rest == "/pulls":
		var req struct{ Title, Head, Base, Body string }
		s.decode(r, &req)
		if _, ok := s.Branches[req.Head]; !ok {
			s.reply(w, http.StatusUnprocessableEntity, map[string]any{"message": "Validation Failed"})
			return
		}
		p := &PullRequest{Number: 100 + len(s.Pulls), Title: req.Title, Body: req.Body, Head: req.Head, Base: req.Base, State: "open", Author: Viewer}
		s.Pulls = append(s.Pulls, p)
		s.reply(w, http.StatusCreated, s.pullJSON(p))
	case len(parts) >= 2 && parts[0] == "pulls":
		s.pull(w, r, parts)
	case r.Method == http.MethodGet && route == "commits/pulls":
		out := []any{}
		for _, n := range s.Commits[parts[1]] {
			if p := s.Pull(n); p != nil {
				out = append(out, s.pullJSON(p))
			}
		}
		s.reply(w, http.StatusOK, out)
	case route == "issues/comments" && len(parts) == 3:
		n, _ := strconv.Atoi(parts[1])
		if r.Method == http.MethodGet {
			out := []any{}
			for _, c := range s.Comments {
				if c.Issue == n {
					out = append(out, map[string]any{"id": c.ID, "body": c.Body, "user": user(c.Author)})
				}
			}
			s.reply(w, http.StatusOK, out)
			return
		}
		var req struct{ Body string }
		s.decode(r, &req)
		c := &Comment{ID: int64(1000 + len(s.Comments)), Issue: n, Author: Viewer, Body: req.Body}
		s.Comments = append(s.Comments, c)
		s.reply(w, http.StatusCreated, map[string]any{"id": c.ID, "body": c.Body, "user": user(c.Author),
			"html_url": fmt.Sprintf("https://github.com/acme/access/pull/%d#issuecomment-%d", n, c.ID)})
	default:
		s.notFound(w, r)
	}
}

func (s *Server) pull(w http.ResponseWriter, r *http.Request, parts []string) {
	n, _ := strconv.Atoi(parts[1])
	p := s.Pull(n)
	if p == nil {
		s.reply(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
		return
	}
	switch {
	case len(parts) == 2 && r.Method == http.MethodGet:
		s.reply(w, http.StatusOK, s.pullJSON(p))
	case len(parts) == 2 && r.Method == http.MethodPatch:
		var req struct{ Title, Body, State *string }
		s.decode(r, &req)
		switch {
		case req.State != nil && *req.State != "open" && *req.State != "closed",
			req.Title != nil && *req.Title == "",
			req.State != nil && *req.State == "open" && p.Merged:
			s.reply(w, http.StatusUnprocessableEntity, map[string]any{"message": "Validation Failed"})
			return
		}
		if req.Title != nil {
			p.Title = *req.Title
		}
		if req.Body != nil {
			p.Body = *req.Body
		}
		if req.State != nil {
			p.State = *req.State
		}
		s.reply(w, http.StatusOK, s.pullJSON(p))
	case len(parts) == 3 && parts[2] == "requested_reviewers" && r.Method == http.MethodPost:
		var req struct{ Reviewers []string }
		s.decode(r, &req)
		for _, l := range req.Reviewers {
			if strings.EqualFold(l, p.Author) {
				s.reply(w, http.StatusUnprocessableEntity, map[string]any{"message": "Review cannot be requested from pull request author."})
				return
			}
		}
		p.Requested = append(p.Requested, req.Reviewers...)
		sort.Strings(p.Requested)
		s.reply(w, http.StatusCreated, s.pullJSON(p))
	case len(parts) == 3 && parts[2] == "requested_reviewers" && r.Method == http.MethodGet:
		users := []any{}
		for _, l := range p.Requested {
			users = append(users, user(l))
		}
		s.reply(w, http.StatusOK, map[string]any{"users": users, "teams": []any{}})
	case len(parts) == 3 && parts[2] == "reviews" && r.Method == http.MethodGet:
		s.reply(w, http.StatusOK, []any{})
	default:
		s.notFound(w, r)
	}
}

func (s *Server) contents(w http.ResponseWriter, r *http.Request, path string) {
	switch r.Method {
	case http.MethodGet:
		ref := r.URL.Query().Get("ref")
		if ref == "" {
			ref = s.DefaultBranch
		}
		files, ok := s.Files[ref]
		if !ok {
			files, _ = s.files(ref)
		}
		c, ok := files[path]
		if !ok {
			s.reply(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
			return
		}
		s.reply(w, http.StatusOK, map[string]any{"type": "file", "encoding": "base64", "path": path, "name": path[strings.LastIndex(path, "/")+1:],
			"content": base64.StdEncoding.EncodeToString([]byte(c)), "sha": blob(c)})
	case http.MethodPut:
		var req struct {
			Message, Content, SHA, Branch string
		}
		s.decode(r, &req)
		data, err := base64.StdEncoding.DecodeString(req.Content)
		files, ok := s.Files[req.Branch]
		switch {
		case err != nil || req.Message == "":
			s.reply(w, http.StatusUnprocessableEntity, map[string]any{"message": "Invalid request"})
			return
		case !ok:
			s.reply(w, http.StatusNotFound, map[string]any{"message": "Branch not found"})
			return
		case blob(files[path]) != req.SHA:
			s.reply(w, http.StatusConflict, map[string]any{"message": path + " does not match " + req.SHA})
			return
		}
		files[path] = string(data)
		sha := s.commit(s.tree(files), []string{s.Branches[req.Branch]}, req.Message)
		s.Branches[req.Branch] = sha
		s.reply(w, http.StatusOK, map[string]any{"content": map[string]any{"path": path, "sha": blob(string(data))},
			"commit": map[string]any{"sha": sha, "message": req.Message}})
	default:
		s.notFound(w, r)
	}
}

// getCommit answers GET git/commits/{sha}.
func (s *Server) getCommit(w http.ResponseWriter, sha string) {
	files, ok := s.files(sha)
	if !ok {
		s.reply(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
		return
	}
	c := s.objects[sha]
	s.reply(w, http.StatusOK, s.commitJSON(sha, s.tree(files), c.parents, c.message))
}

func (s *Server) commitJSON(sha, tree string, parents []string, message string) map[string]any {
	ps := []any{}
	for _, p := range parents {
		ps = append(ps, map[string]any{"sha": p})
	}
	return map[string]any{"sha": sha, "message": message, "tree": map[string]any{"sha": tree}, "parents": ps,
		"author": map[string]any{"name": Viewer, "email": Viewer + "@users.noreply.github.com", "date": "2026-05-01T12:00:00Z"}}
}

// createTree answers POST git/trees: entries with content write a file,
// entries with "sha": null delete a file (or a directory), over base_tree.
func (s *Server) createTree(w http.ResponseWriter, r *http.Request) {
	var req struct {
		BaseTree string `json:"base_tree"`
		Tree     []struct {
			Path, Mode, Type string
			Content          *string
			SHA              json.RawMessage
		}
	}
	s.decode(r, &req)
	files := map[string]string{}
	if req.BaseTree != "" {
		base, ok := s.trees[req.BaseTree]
		if !ok {
			s.reply(w, http.StatusUnprocessableEntity, map[string]any{"message": "base_tree is not a valid tree oid"})
			return
		}
		files = copyFiles(base)
	}
	for _, e := range req.Tree {
		deleted := string(e.SHA) == "null"
		switch {
		case e.Path == "":
			s.reply(w, http.StatusUnprocessableEntity, map[string]any{"message": "Must supply tree.path"})
			return
		case deleted && e.Content == nil:
			n := 0
			for p := range files {
				if p == e.Path || strings.HasPrefix(p, e.Path+"/") {
					delete(files, p)
					n++
				}
			}
			if n == 0 {
				s.reply(w, http.StatusUnprocessableEntity, map[string]any{"message": "GitRPC::BadObjectState"})
				return
			}
		case (e.Content == nil) == (len(e.SHA) == 0) || deleted:
			s.reply(w, http.StatusUnprocessableEntity, map[string]any{"message": "Must supply either tree.sha or tree.content. Request will be rejected if both are present."})
			return
		case e.Type != "blob" || e.Mode != "100644" && e.Mode != "100755":
			s.reply(w, http.StatusUnprocessableEntity, map[string]any{"message": "Invalid tree info"})
			return
		case e.Content != nil:
			files[e.Path] = *e.Content
		default: // an existing blob, by sha
			var sha string
			c, ok := "", false
			if json.Unmarshal(e.SHA, &sha) == nil {
				c, ok = s.blobContent(sha)
			}
			if !ok {
				s.reply(w, http.StatusUnprocessableEntity, map[string]any{"message": "Invalid tree info"})
				return
			}
			files[e.Path] = c
		}
	}
	sha := s.tree(files)
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	entries := []any{}
	for _, p := range paths {
		entries = append(entries, map[string]any{"path": p, "mode": "100644", "type": "blob", "sha": blob(files[p]), "size": len(files[p])})
	}
	s.reply(w, http.StatusCreated, map[string]any{"sha": sha, "tree": entries, "truncated": false})
}

// createCommit answers POST git/commits.
func (s *Server) createCommit(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Message, Tree string
		Parents       []string
	}
	s.decode(r, &req)
	if req.Message == "" {
		s.reply(w, http.StatusUnprocessableEntity, map[string]any{"message": "Invalid request.\n\n\"message\" wasn't supplied."})
		return
	}
	if _, ok := s.trees[req.Tree]; !ok {
		s.reply(w, http.StatusUnprocessableEntity, map[string]any{"message": "Tree SHA does not exist"})
		return
	}
	for _, p := range req.Parents {
		if _, ok := s.files(p); !ok {
			s.reply(w, http.StatusUnprocessableEntity, map[string]any{"message": "Parent SHA does not exist or is not a commit object"})
			return
		}
	}
	sha := s.commit(req.Tree, req.Parents, req.Message)
	s.reply(w, http.StatusCreated, s.commitJSON(sha, req.Tree, req.Parents, req.Message))
}

// moveRef answers PATCH git/refs/heads/{branch}: the branch moves to a known
// commit, forward only unless forced, and takes that commit's files.
func (s *Server) moveRef(w http.ResponseWriter, r *http.Request, branch string) {
	var req struct {
		SHA   string
		Force bool
	}
	s.decode(r, &req)
	head, ok := s.Branches[branch]
	if !ok {
		s.reply(w, http.StatusUnprocessableEntity, map[string]any{"message": "Reference does not exist"})
		return
	}
	files, ok := s.files(req.SHA)
	switch {
	case !ok:
		s.reply(w, http.StatusUnprocessableEntity, map[string]any{"message": "Object does not exist"})
		return
	case !req.Force && !s.descends(req.SHA, head):
		s.reply(w, http.StatusUnprocessableEntity, map[string]any{"message": "Update is not a fast forward"})
		return
	}
	s.Branches[branch] = req.SHA
	s.Files[branch] = copyFiles(files)
	s.reply(w, http.StatusOK, map[string]any{"ref": "refs/heads/" + branch, "object": map[string]any{"sha": req.SHA, "type": "commit"}})
}

func (s *Server) decode(r *http.Request, v any) {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		s.t.Errorf("%s %s: body: %v", r.Method, r.URL, err)
	}
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.t.Errorf("unexpected request %s %s", r.Method, r.URL)
	s.reply(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
}

func (s *Server) reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		s.t.Error(err)
	}
}
