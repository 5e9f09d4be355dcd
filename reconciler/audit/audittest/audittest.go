// Package audittest makes a year of an access repository's history for
// audit tests, with go-git: requests merged from pull-request branches with
// Approved-by trailers, one approved by GitHub reviews (githubtest, with
// the reviews and commits of that pull request served in front of it), a
// move of department, a rename, a renewal, an expiry, a retirement, a hand
// change the reconciler found and reverted (a receipt entry marked drift),
// a direct push to main, an access review confirmed and one left overdue, and receipts on the status branch at the dates a
// reconciler would have written them.
package audittest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/alm-project/alm/connectors/github/githubtest"
	"github.com/alm-project/alm/reconciler/history/historytest"
	"github.com/alm-project/alm/reconciler/receipt"
)

// People of the history.
var (
	Admin  = historytest.Person{Name: "Ada Admin", Email: "admin@acme.test"}
	CBoss  = historytest.Person{Name: "Chris Boss", Email: "cboss@acme.test"}
	ASmith = historytest.Person{Name: "Alex Smith", Email: "asmith@acme.test"}
	JDoe   = historytest.Person{Name: "Jane Doe", Email: "jdoe@acme.test"}
	KFox   = historytest.Person{Name: "Kim Fox", Email: "kfox@acme.test"}
	Sec1   = historytest.Person{Name: "Sam Sec", Email: "sec1@acme.test"}
	Eve    = historytest.Person{Name: "Eve Ops", Email: "eve@acme.test"} // pushes straight to main
	Bot    = historytest.Person{Name: "alm", Email: "alm@acme.test"}     // opens the access reviews
)

// Trailer is an Approved-by trailer line for a person.
func Trailer(p historytest.Person) string { return "Approved-by: " + p.Name + " <" + p.Email + ">" }

// History is the generated repository and what a test checks against.
type History struct {
	*historytest.Repo
	// Commits names the branch's commits: import, vpn (#1), move (#2),
	// rename (#3), backup (#4, GitHub), push (straight to main), review
	// (#8, an access review confirmed), revoke (#5), renew (#6), retire (#7).
	Commits map[string]string
	// GitHubURL serves the repository's GitHub (token githubtest.Token):
	// pull request #4 merged as Commits["backup"], approved by asmith-gh.
	GitHubURL string
	GitHub    *githubtest.Server

	t    testing.TB
	tips map[string]string // pull-request branch -> its tip
}

// Day is 09:00 UTC on a date of 2026.
func Day(month time.Month, day int) time.Time {
	return time.Date(2026, month, day, 9, 0, 0, 0, time.UTC)
}

func testdata() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "check", "testdata", "access")
}

const jdoeFile = `apiVersion: alm/v1
kind: Person
metadata:
  name: jdoe
  id: "000003"
spec:
  givenName: Jane
  surname: Doe
  email: jdoe@acme.test
  github: jdoe-gh
  type: employee
  department: %s
  startDate: 2025-01-06
  manager: asmith
  roles: [%s]
`

const kfoxFile = `apiVersion: alm/v1
kind: Person
metadata:
  name: %s
  id: "000005"
spec:
  givenName: Kim
  surname: %s
  email: kfox@acme.test
  github: kfox-gh
  type: employee
  startDate: 2025-01-06
  manager: asmith%s
`

const svcBackup = `apiVersion: alm/v1
kind: ServiceAccount
metadata:
  name: svc-backup
  id: sa-01
spec:
  template: service-account
  description: Nightly backup of the file servers
  owner: jdoe
  roles: [backup-operators]
  created: 2026-01-05
  expires: %s%s
`

const serviceTemplate = `apiVersion: alm/v1
kind: WorkflowTemplate
metadata:
  name: service-account
spec:
  appliesTo: ServiceAccount
  naming: '^svc-[a-z0-9-]{2,16}$'
  ou: OU=Service Accounts
  lifetime: {default: 180d, max: 365d}
  approvals:
    grant: [{role: security-approvers, count: 1}, {relation: owner-manager}]
    revoke: [{relation: owner-or-manager}]
  review: {every: 180d, by: owner-manager}
`

const svcReport = `apiVersion: alm/v1
kind: ServiceAccount
metadata:
  name: svc-report
  id: sa-02
spec:
  template: service-account
  description: Monthly report mailer
  owner: jdoe
  roles: [vpn-users]
  created: 2026-01-05
  expires: 2026-09-30%s
`

// New makes the history: a year of it, in a temporary directory.
func New(t testing.TB) *History {
	t.Helper()
	h := &History{Repo: historytest.New(t), Commits: map[string]string{}, t: t, tips: map[string]string{}}
	ctx := context.Background()

	// January: the repository as it was imported, pushed by the admin (the
	// starting point), and the first run creating everything.
	h.CopyDir(testdata())
	h.Write("people/jdoe.yaml", fmt.Sprintf(jdoeFile, "Sales", "vpn-users"))
	h.Write("service-accounts/svc-backup.yaml", fmt.Sprintf(svcBackup, "2026-12-31", ""))
	// Service accounts are reviewed by their owner's manager every 180 days: both
	// fall due on 2026-07-04.
	h.Write("templates/service-account.yaml", serviceTemplate)
	h.Write("service-accounts/svc-report.yaml", fmt.Sprintf(svcReport, ""))
	h.Commits["import"] = h.commit("Import the access repository", Admin, Day(1, 5))
	h.receipt(t, ctx, "import", Day(1, 5).Add(time.Hour),
		entry("create", "000001", "cboss"), entry("create", "000002", "asmith"), entry("create", "000003", "jdoe"),
		entry("create", "000004", "sec1"), entry("create", "000005", "kfox"), entry("create", "sa-01", "svc-backup"),
		entry("create", "sa-02", "svc-report"),
		member("add-member", "000003", "jdoe", "VPN Users"), member("add-member", "000004", "sec1", "Security Approvers"),
		member("add-member", "sa-01", "svc-backup", "FS Backup Operators"), member("add-member", "sa-02", "svc-report", "VPN Users"))

	// February, #1: kfox asks for the VPN; her manager approves.
	h.Write("people/kfox.yaml", fmt.Sprintf(kfoxFile, "kfox", "Fox", "\n  roles: [vpn-users]"))
	h.Commits["vpn"] = h.request("kfox-vpn", 1, "Give kfox the VPN", KFox, Day(2, 2), ASmith)
	h.receipt(t, ctx, "vpn", Day(2, 2).Add(time.Hour), member("add-member", "000005", "kfox", "VPN Users"))

	// March, #2: jdoe moves from Sales to Finance.
	h.Write("people/jdoe.yaml", fmt.Sprintf(jdoeFile, "Finance", "vpn-users"))
	h.Commits["move"] = h.request("jdoe-finance", 2, "Move jdoe to Finance", ASmith, Day(3, 2), CBoss)
	h.receipt(t, ctx, "move", Day(3, 2).Add(time.Hour), entry("update", "000003", "jdoe"))

	// April, #3: kfox marries and becomes kwest; the file moves.
	h.Remove("people/kfox.yaml")
	h.Write("people/kwest.yaml", fmt.Sprintf(kfoxFile, "kwest", "West", "\n  roles: [vpn-users]\n  previousNames: [kfox]"))
	h.Commits["rename"] = h.request("kfox-rename", 3, "Rename kfox to kwest", KFox, Day(4, 6), ASmith)
	h.receipt(t, ctx, "rename", Day(4, 6).Add(time.Hour), entry("rename", "000005", "kwest"))

	// May, #4 on GitHub: jdoe asks for backup-operators; asmith approves by review.
	h.Write("people/jdoe.yaml", fmt.Sprintf(jdoeFile, "Finance", "backup-operators, vpn-users"))
	h.Commits["backup"] = h.request("jdoe-backup", 4, "Give jdoe backup-operators", JDoe, Day(5, 4))
	h.receipt(t, ctx, "backup", Day(5, 4).Add(time.Hour), member("add-member", "000003", "jdoe", "FS Backup Operators"))

	// June: someone took jdoe out of VPN Users by hand; the run put her back.
	h.receipt(t, ctx, "backup", Day(6, 1), receipt.Entry{ID: "add-member:000003:VPN Users", Action: "add-member", Account: "jdoe",
		DN: "CN=jdoe,OU=People,DC=acme,DC=test", Result: receipt.Applied,
		Reason: "drift: not a member, though the files asked for it at the last apply (changed by hand, or that apply failed); role vpn-users"})

	// July, #8: asmith, the owner's manager, confirms svc-backup in the
	// access review alm opened (he approves it); svc-report's review is
	// left overdue.
	h.Write("service-accounts/svc-backup.yaml", fmt.Sprintf(svcBackup, "2026-12-31", "\n  reviewed: 2026-07-04"))
	h.Commits["review"] = h.request("alm/review/asmith/2026-07-04", 8, "Access review: asmith, 1 account due", Bot, Day(7, 5), ASmith)

	// July: Eve pushes a grant straight to main, and a run applies it.
	h.Write("people/kwest.yaml", fmt.Sprintf(kfoxFile, "kwest", "West", "\n  roles: [backup-operators, vpn-users]\n  previousNames: [kfox]"))
	h.Commits["push"] = h.commit("quick fix: kwest needs backups tonight", Eve, Day(7, 6))
	h.receipt(t, ctx, "push", Day(7, 6).Add(time.Hour), member("add-member", "000005", "kwest", "FS Backup Operators"))

	// August, #5: the push is reverted through a pull request.
	h.Write("people/kwest.yaml", fmt.Sprintf(kfoxFile, "kwest", "West", "\n  roles: [vpn-users]\n  previousNames: [kfox]"))
	h.Commits["revoke"] = h.request("revert-push", 5, "Revert the unapproved backup grant", JDoe, Day(8, 3), ASmith)
	h.receipt(t, ctx, "revoke", Day(8, 3).Add(time.Hour), member("remove-member", "000005", "kwest", "FS Backup Operators"))

	// September, #6: svc-backup is renewed; svc-report is left to expire.
	h.Write("service-accounts/svc-backup.yaml", fmt.Sprintf(svcBackup, "2027-01-04", "\n  reviewed: 2026-07-04"))
	h.Commits["renew"] = h.request("renew-svc-backup", 6, "Renew svc-backup", JDoe, Day(9, 7), Sec1, ASmith)
	h.receipt(t, ctx, "renew", Day(9, 7).Add(time.Hour), entry("update", "sa-01", "svc-backup"))
	// October: the first run after svc-report expired disables it.
	h.receipt(t, ctx, "renew", Day(10, 1), entry("disable", "sa-02", "svc-report"))

	// November, #7: svc-report is retired.
	h.Write("service-accounts/svc-report.yaml", fmt.Sprintf(svcReport, "\n  state: retired"))
	h.Commits["retire"] = h.request("retire-svc-report", 7, "Retire svc-report", JDoe, Day(11, 2), ASmith)
	h.receipt(t, ctx, "retire", Day(11, 2).Add(time.Hour), entry("move", "sa-02", "svc-report"))

	// GitHub knows #4 (merged as Commits["backup"], reviewed by asmith-gh);
	// it knows nothing of the merges with trailers.
	srv := githubtest.New(t, h.Commits["retire"], map[string]string{})
	tip := h.tips["jdoe-backup"]
	srv.Branches["jdoe-backup"] = tip
	srv.Pulls = append(srv.Pulls, &githubtest.PullRequest{Number: 4, Title: "Give jdoe backup-operators", Author: "jdoe-gh",
		Head: "jdoe-backup", Base: "main", State: "closed", Merged: true, MergeCommit: h.Commits["backup"]})
	srv.Commits[h.Commits["backup"]] = []int{4}
	h.GitHub = srv
	h.GitHubURL = withReviews(t, srv.URL, 4, tip)
	return h
}

// withReviews serves pull request n's reviews (an approval of head by
// asmith-gh) and commits, which githubtest does not hold, and passes every
// other call to githubtest.
func withReviews(t testing.TB, upstream string, n int, head string) string {
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	pr := fmt.Sprintf("/repos/acme/access/pulls/%d", n)
	user := func(login string) map[string]any {
		return map[string]any{"login": login, "id": len(login), "type": "User"}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var v any
		switch {
		case r.Method == http.MethodGet && r.URL.Path == pr+"/reviews":
			v = []any{map[string]any{"id": 1, "user": user("asmith-gh"), "state": "APPROVED", "commit_id": head, "submitted_at": "2026-05-04T08:00:00Z"}}
		case r.Method == http.MethodGet && r.URL.Path == pr+"/commits":
			v = []any{map[string]any{"sha": head, "author": user("jdoe-gh"),
				"commit": map[string]any{"author": map[string]any{"name": JDoe.Name, "email": JDoe.Email}}}}
		default:
			proxy.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func entry(action, id, account string) receipt.Entry {
	return receipt.Entry{ID: action + ":" + id, Action: action, Account: account, Result: receipt.Applied}
}

func member(action, id, account, group string) receipt.Entry {
	return receipt.Entry{ID: action + ":" + id + ":" + group, Action: action, Account: account, Result: receipt.Applied}
}

func (h *History) receipt(t testing.TB, ctx context.Context, commit string, at time.Time, es ...receipt.Entry) {
	t.Helper()
	r := receipt.Receipt{Revision: h.Commits[commit], AppliedAt: at, Directory: "ldaps://dc1.acme.test", Changes: es}
	r.Plan = receipt.Summarize(es)
	if _, err := receipt.Write(ctx, h.Path, "", r, receipt.Signature{}); err != nil {
		t.Fatal(err)
	}
}

// commit commits what is staged on the current branch at a given time.
func (h *History) commit(message string, who historytest.Person, at time.Time) string {
	sig := &object.Signature{Name: who.Name, Email: who.Email, When: at}
	c, err := h.W.Commit(message, &git.CommitOptions{Author: sig, Committer: sig, AllowEmptyCommits: true})
	if err != nil {
		h.t.Fatal(err)
	}
	return c.String()
}

// request commits what is staged on a new branch as author, an hour
// before at, and merges it into main at at as a host merges pull request
// number, with one Approved-by trailer per approver (none: approved on GitHub).
func (h *History) request(branch string, number int, title string, author historytest.Person, at time.Time, approvers ...historytest.Person) string {
	head, err := h.R.Head()
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.W.Checkout(&git.CheckoutOptions{Branch: plumbing.NewBranchReferenceName(branch), Create: true, Keep: true}); err != nil {
		h.t.Fatal(err)
	}
	tip := h.commit(title, author, at.Add(-time.Hour))
	h.tips[branch] = tip
	msg := fmt.Sprintf("Merge pull request #%d from acme/%s\n\n%s\n", number, branch, title)
	for i, a := range approvers {
		if i == 0 {
			msg += "\n"
		}
		msg += Trailer(a) + "\n"
	}
	tipCommit, err := h.R.CommitObject(plumbing.NewHash(tip))
	if err != nil {
		h.t.Fatal(err)
	}
	sig := object.Signature{Name: "GitHub", Email: "noreply@github.com", When: at}
	c := &object.Commit{Author: sig, Committer: sig, Message: msg, TreeHash: tipCommit.TreeHash,
		ParentHashes: []plumbing.Hash{head.Hash(), tipCommit.Hash}}
	obj := h.R.Storer.NewEncodedObject()
	if err := c.Encode(obj); err != nil {
		h.t.Fatal(err)
	}
	m, err := h.R.Storer.SetEncodedObject(obj)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.R.Storer.SetReference(plumbing.NewHashReference(head.Name(), m)); err != nil {
		h.t.Fatal(err)
	}
	if err := h.W.Checkout(&git.CheckoutOptions{Branch: head.Name(), Force: true}); err != nil {
		h.t.Fatal(err)
	}
	return m.String()
}
