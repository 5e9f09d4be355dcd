package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/notify"
)

// fakeIssues answers GitHub's issue endpoints for acme/notices in GitHub's
// JSON: listing (state, labels, two issues a page to exercise paging; pull
// requests are issues there too) and creating, as viewer.
type fakeIssues struct {
	mu         sync.Mutex
	viewer     string
	issues     []map[string]any
	creates    int
	lists      int
	refuseOpen bool // the token may read but not write issues
}

func (f *fakeIssues) add(login, body string, labels []string, pr bool) {
	n := len(f.issues) + 1
	var ls []any
	for _, l := range labels {
		ls = append(ls, map[string]any{"name": l})
	}
	is := map[string]any{
		"id": 1000 + n, "number": n, "title": "t", "body": body, "state": "open",
		"user":     map[string]any{"login": login, "type": "User"},
		"labels":   ls,
		"html_url": fmt.Sprintf("https://github.com/acme/notices/issues/%d", n),
	}
	if pr {
		is["pull_request"] = map[string]any{"url": fmt.Sprintf("https://api.github.com/repos/acme/notices/pulls/%d", n)}
	}
	f.issues = append(f.issues, is)
}

func (f *fakeIssues) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+token {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"message":"Bad credentials"}`)
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/api/v3")
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodGet && path == "/user":
		_ = json.NewEncoder(w).Encode(map[string]any{"login": f.viewer, "id": 42, "type": "User"})
	case r.Method == http.MethodGet && path == "/repos/acme/notices/issues":
		f.lists++
		q := r.URL.Query()
		if q.Get("state") != "all" {
			// GitHub lists only open issues by default; alm must ask for
			// closed ones too, or a closed notice would be sent again.
			http.Error(w, `{"message":"test: state=all expected"}`, http.StatusBadRequest)
			return
		}
		var match []map[string]any
		for _, is := range f.issues {
			if hasLabels(is, q.Get("labels")) {
				match = append(match, is)
			}
		}
		page, _ := strconv.Atoi(q.Get("page"))
		page = max(page, 1)
		const size = 2
		from, to := min((page-1)*size, len(match)), min(page*size, len(match))
		if to < len(match) {
			w.Header().Set("Link", fmt.Sprintf(`<http://%s%s?state=all&page=%d>; rel="next"`, r.Host, r.URL.Path, page+1))
		}
		_ = json.NewEncoder(w).Encode(match[from:to])
	case r.Method == http.MethodPost && path == "/repos/acme/notices/issues":
		if f.refuseOpen {
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, `{"message":"Resource not accessible by integration","status":"403"}`)
			return
		}
		var req struct {
			Title  string   `json:"title"`
			Body   string   `json:"body"`
			Labels []string `json:"labels"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Title == "" {
			w.WriteHeader(http.StatusUnprocessableEntity)
			return
		}
		f.creates++
		f.add(f.viewer, req.Body, req.Labels, false)
		is := f.issues[len(f.issues)-1]
		is["title"] = req.Title
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(is)
	default:
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"message":"Not Found"}`)
	}
}

// hasLabels: the issue carries every label of the comma-separated list.
func hasLabels(is map[string]any, list string) bool {
	if list == "" {
		return true
	}
	var have []string
	for _, l := range is["labels"].([]any) {
		have = append(have, l.(map[string]any)["name"].(string))
	}
	for _, want := range strings.Split(list, ",") {
		if !slices.Contains(have, want) {
			return false
		}
	}
	return true
}

func notice() notify.Message {
	return notify.Message{
		ID:      "notice/svc-web/beol-30d/2026-07-01",
		Kind:    notify.KindNotice,
		Subject: "svc-web expires on 2026-07-01",
		Text:    "The service account svc-web expires on 2026-07-01.\nRenew it with a pull request that moves spec.expires.\n",
		Account: "svc-web",
		To: []notify.Recipient{
			{Login: "jdoe", Email: "jane.doe@example.com", GitHub: "jane-doe", Role: "owner"},
			{Login: "kfox", GitHub: "kfox", Role: "custodian"},
			{Login: "nogh", Email: "no.gh@example.com", Role: "custodian"},
			{Login: "jdoe", GitHub: "Jane-Doe", Role: "manager"}, // the same login twice
		},
	}
}

func TestIssues(t *testing.T) {
	labels := []string{"alm", "notice"}
	wantBody := "The service account svc-web expires on 2026-07-01.\nRenew it with a pull request that moves spec.expires.\n" +
		"\ncc @jane-doe @kfox\n" +
		"\n<!-- alm:message:notice/svc-web/beol-30d/2026-07-01 -->\n"
	cases := []struct {
		name        string
		labels      []string
		seed        func(f *fakeIssues)
		msg         func() notify.Message
		sends       int
		wantCreates int
		wantIssue   int // the number Open answers at the last send
		wantErr     error
		wantErrText string
		checkBody   func(t *testing.T, body string)
	}{
		{name: "three runs open one issue", labels: labels, sends: 3, wantCreates: 1, wantIssue: 1, msg: notice,
			checkBody: func(t *testing.T, body string) {
				if body != wantBody {
					t.Errorf("body\n got %q\nwant %q", body, wantBody)
				}
			}},
		{name: "found among many, on a later page", labels: labels, sends: 1, wantCreates: 0, wantIssue: 6, msg: notice,
			seed: func(f *fakeIssues) {
				for i := range 5 {
					f.add("alm-bot", Marker(fmt.Sprintf("notice/other/%d", i)), labels, false)
				}
				f.add("alm-bot", "old text\n"+Marker(notice().ID), labels, false)
			}},
		{name: "someone else's issue with the marker does not count", labels: labels, sends: 2, wantCreates: 1, wantIssue: 3, msg: notice,
			seed: func(f *fakeIssues) {
				f.add("mallory", Marker(notice().ID), labels, false)
				f.add("alm-bot", Marker(notice().ID), labels, true) // a pull request, not a notice
			}},
		{name: "without labels every issue is searched", sends: 3, wantCreates: 1, wantIssue: 2, msg: notice,
			seed: func(f *fakeIssues) { f.add("jdoe", "unrelated", nil, false) }},
		{name: "attachments are left out", labels: labels, sends: 1, wantCreates: 1, wantIssue: 1,
			msg: func() notify.Message {
				m := notice()
				m.Attachments = []notify.Attachment{{Name: "report.txt", Content: []byte("SECRET CONTENT")}}
				return m
			},
			checkBody: func(t *testing.T, body string) {
				if strings.Contains(body, "SECRET CONTENT") || !strings.Contains(body, "1 attachment(s) left out") {
					t.Errorf("body must say the attachment is left out and not carry it: %q", body)
				}
			}},
		{name: "credentials are refused", labels: labels, sends: 1, wantErr: ErrCredentials, wantErrText: "message credentials/svc-web to acme/notices",
			msg: func() notify.Message {
				m := notice()
				m.ID, m.Kind = "credentials/svc-web", notify.KindCredentials
				m.Attachments = []notify.Attachment{{Name: "svc-web.password.age", Content: []byte("age")}}
				return m
			}},
		{name: "token may not open issues", labels: labels, sends: 1, wantErrText: "open issue for message notice/svc-web/beol-30d/2026-07-01 in acme/notices",
			seed: func(f *fakeIssues) { f.refuseOpen = true }, msg: notice},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeIssues{viewer: "alm-bot"}
			if tc.seed != nil {
				tc.seed(f)
			}
			srv := httptest.NewServer(http.HandlerFunc(f.serve))
			t.Cleanup(srv.Close)
			var last Issue
			var err error
			for range tc.sends {
				// A new channel each time, as each run of the reconciler makes.
				ch, nerr := NewIssues(model.GitHubChannel{Repository: "acme/notices", Labels: tc.labels}, Options{BaseURL: srv.URL, Token: token})
				if nerr != nil {
					t.Fatal(nerr)
				}
				if ch.Name() != "github" {
					t.Errorf("Name %q", ch.Name())
				}
				last, _, err = ch.Open(context.Background(), tc.msg())
				if err != nil {
					break
				}
			}
			if tc.wantErr != nil || tc.wantErrText != "" {
				if err == nil || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) || !strings.Contains(err.Error(), tc.wantErrText) {
					t.Fatalf("Open = %v, want %v with %q", err, tc.wantErr, tc.wantErrText)
				}
				if f.creates != 0 {
					t.Errorf("opened %d issues", f.creates)
				}
				if errors.Is(err, ErrCredentials) && f.lists != 0 {
					t.Errorf("a credential message reached GitHub (%d listings)", f.lists)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if f.creates != tc.wantCreates || last.Number != tc.wantIssue {
				t.Fatalf("opened %d issues and answered #%d, want %d and #%d", f.creates, last.Number, tc.wantCreates, tc.wantIssue)
			}
			if last.URL != fmt.Sprintf("https://github.com/acme/notices/issues/%d", tc.wantIssue) {
				t.Errorf("URL %q", last.URL)
			}
			if tc.wantCreates == 0 {
				return
			}
			is := f.issues[tc.wantIssue-1]
			if is["title"] != tc.msg().Subject {
				t.Errorf("title %q, want %q", is["title"], tc.msg().Subject)
			}
			var got []string
			for _, l := range is["labels"].([]any) {
				got = append(got, l.(map[string]any)["name"].(string))
			}
			if !slices.Equal(got, tc.labels) {
				t.Errorf("labels %q, want %q", got, tc.labels)
			}
			if tc.checkBody != nil {
				tc.checkBody(t, is["body"].(string))
			}
		})
	}
}

func TestNewIssuesRepository(t *testing.T) {
	_, err := NewIssues(model.GitHubChannel{Repository: "notices"}, Options{Token: token})
	if err == nil || !strings.Contains(err.Error(), "spec.notify.github.repository") {
		t.Fatalf("NewIssues = %v, want an error naming the field", err)
	}
}
