package verify

import (
	"context"
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/alm-project/alm/reconciler/history"
	"github.com/alm-project/alm/reconciler/history/historytest"
)

var (
	jane = historytest.Person{Name: "Jane Doe", Email: "jdoe@acme.test"}
	alex = historytest.Person{Name: "Alex Smith", Email: "asmith@acme.test"}
	host = historytest.Person{Name: "Git Host", Email: "noreply@git.acme.test"}
)

const svcWeb = `apiVersion: alm/v1
kind: ServiceAccount
metadata:
  name: svc-web
  id: sa-02
spec:
  template: service-account
  description: Serves the intranet web site
  owner: jdoe
  roles: [vpn-users]
  created: 2026-04-01
  expires: 2026-12-31
`

const svcPushed = `apiVersion: alm/v1
kind: ServiceAccount
metadata:
  name: svc-pushed
  id: sa-03
spec:
  template: service-account
  description: Pushed without any review at all
  owner: jdoe
  roles: [backup-operators]
  created: 2026-04-01
  expires: 2026-12-31
`

// history: root → m1 (approved merge of svc-web) → d1 (direct push of svc-pushed).
func build(t *testing.T, trailers string) (*historytest.Repo, map[string]string) {
	r := historytest.New(t)
	h := map[string]string{}
	r.CopyDir("../check/testdata/access")
	h["root"] = r.Commit("Start the access repository", alex)
	r.Branch("svc-web")
	r.Write("service-accounts/svc-web.yaml", svcWeb)
	r.Commit("Request svc-web", jane)
	r.Checkout("main")
	h["m1"] = r.Merge("svc-web", "Merge svc-web\n\n"+trailers+"\n", host)
	r.Write("service-accounts/svc-pushed.yaml", svcPushed)
	h["d1"] = r.Commit("Add svc-pushed", jane)
	return r, h
}

const approved = "Approved-by: Sam Sec <sec1@acme.test>\nApproved-by: Alex Smith <asmith@acme.test>"

func TestDirectPushRefused(t *testing.T) {
	r, h := build(t, approved)
	rep, err := Approved(context.Background(), r.Path, "main", h["root"], Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Commits) != 2 || !rep.Commits[0].Approved || rep.Commits[1].Approved {
		t.Fatalf("verdicts: %+v", rep.Commits)
	}
	if rep.Approved != h["m1"] {
		t.Errorf("approved up to %s, want the merge %s", rep.Approved, h["m1"])
	}
	err = rep.Err()
	if !errors.Is(err, ErrUnapproved) {
		t.Fatalf("Err() = %v, want ErrUnapproved", err)
	}
	if !strings.Contains(err.Error(), h["d1"][:12]) || !strings.Contains(err.Error(), `"Add svc-pushed"`) || !strings.Contains(err.Error(), "pushed straight") {
		t.Errorf("refusal does not name the commit: %v", err)
	}
}

func TestSinceLastReceipt(t *testing.T) {
	r, h := build(t, approved)
	r.OrphanCommit("alm-status", "Applied main\n\n"+history.AppliedTrailer+": "+h["m1"]+"\n", host)
	rep, err := Approved(context.Background(), r.Path, "main", "", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Since != h["m1"] || len(rep.Commits) != 1 || rep.Commits[0].Commit.Hash != h["d1"] || rep.OK() {
		t.Errorf("report %+v", rep)
	}
	if rep.Approved != h["m1"] {
		t.Errorf("approved up to %s, want %s (nothing new)", rep.Approved, h["m1"])
	}
}

func TestAllApproved(t *testing.T) {
	r, h := build(t, approved)
	rep, err := Approved(context.Background(), r.Path, h["m1"], h["root"], Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Err() != nil || rep.Approved != h["m1"] {
		t.Errorf("report %+v, err %v", rep, rep.Err())
	}
}

func TestDeniedMergeRefused(t *testing.T) {
	// The author approves their own request.
	r, h := build(t, approved+"\nApproved-by: Jane Doe <jdoe@acme.test>")
	rep, err := Approved(context.Background(), r.Path, h["m1"], h["root"], Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() || rep.Approved != h["root"] {
		t.Fatalf("report %+v", rep)
	}
	v := rep.Refused()[0]
	if !strings.Contains(v.Reason, "does not pass the policies") || len(v.Violations) == 0 || v.Violations[0].Rule != "separation-of-duties" {
		t.Errorf("verdict %+v", v)
	}
}

func TestNoReceiptChecksFromTheRoot(t *testing.T) {
	r, h := build(t, approved)
	rep, err := Approved(context.Background(), r.Path, "main", "", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Since != "" || len(rep.Commits) != 3 || rep.Commits[0].Commit.Hash != h["root"] || rep.Commits[0].Approved || rep.Approved != "" {
		t.Errorf("report %+v", rep)
	}
	if err := rep.Err(); err == nil || !strings.Contains(err.Error(), "pass --approved-since <that commit>") || strings.Contains(err.Error(), "git rm alm.yaml") {
		t.Errorf("the advice of a first run should be --approved-since, not to remove what was never approved: %v", err)
	}
}

func TestSinceNotOnBranch(t *testing.T) {
	r, _ := build(t, approved)
	side, err := history.Resolve(r.R, "svc-web")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Approved(context.Background(), r.Path, "main", side, Options{}); !errors.Is(err, history.ErrNotOnBranch) {
		t.Errorf("got %v, want ErrNotOnBranch", err)
	}
}

// kfox is people/kfox.yaml of the test repository with extra lines.
func kfox(extra string) string {
	return `apiVersion: alm/v1
kind: Person
metadata:
  name: kfox
  id: "000005"
spec:
  givenName: Kim
  surname: Fox
  email: kfox@acme.test
  github: kfox-gh
  type: employee
  startDate: 2025-01-06
  manager: asmith
` + extra
}

// merge brings one file edit in through a branch and an approved merge.
func merge(r *historytest.Repo, branch, path, content string) string {
	return mergeWith(r, branch, path, content, approved)
}

// mergeWith is merge with the merge commit's approval trailers.
func mergeWith(r *historytest.Repo, branch, path, content, trailers string) string {
	r.Branch(branch)
	r.Write(path, content)
	r.Commit("Edit "+path, jane)
	r.Checkout("main")
	return r.Merge(branch, "Merge "+branch+"\n\n"+trailers+"\n", host)
}

// TestAdviceWorks: after a refusal, what its advice says lets the next run
// go on, and nothing else does.
func TestAdviceWorks(t *testing.T) {
	type unapproved struct {
		path       string
		approvedAt string   // a key of the hashes, "" for none
		commits    []string // keys of the hashes
	}
	tests := []struct {
		name string
		// build makes commits after "base" (the last applied revision) and
		// names them in h.
		build      func(r *historytest.Repo, h map[string]string)
		ok         bool
		approved   string   // Report.Approved, as a key
		blocking   []string // refused commits whose changes remain
		cured      []string // refused commits that no longer block
		unapproved []unapproved
		reason     map[string]string // commit -> part of its reason
	}{
		{
			name: "direct push, then an approved merge reverting it",
			build: func(r *historytest.Repo, h map[string]string) {
				r.Write("people/kfox.yaml", kfox("  roles: [domain-admins]\n"))
				h["push"] = r.Commit("Make kfox a domain admin", jane)
				h["revert"] = merge(r, "revert", "people/kfox.yaml", kfox(""))
			},
			ok: true, approved: "revert", cured: []string{"push"},
		},
		{
			name: "direct push reverted, then an approved merge on top",
			build: func(r *historytest.Repo, h map[string]string) {
				r.Write("people/kfox.yaml", kfox("  roles: [domain-admins]\n"))
				h["push"] = r.Commit("Make kfox a domain admin", jane)
				h["revert"] = merge(r, "revert", "people/kfox.yaml", kfox(""))
				h["grant"] = merge(r, "grant", "people/kfox.yaml", kfox("  roles: [vpn-users]\n"))
			},
			ok: true, approved: "grant", cured: []string{"push"},
		},
		{
			name: "direct push, then an approved merge changing other lines of the file",
			build: func(r *historytest.Repo, h map[string]string) {
				r.Write("people/kfox.yaml", kfox("  roles: [domain-admins]\n"))
				h["push"] = r.Commit("Make kfox a domain admin", jane)
				h["title"] = merge(r, "title", "people/kfox.yaml", kfox("  title: Engineer\n  roles: [domain-admins]\n"))
			},
			approved: "base", blocking: []string{"push", "title"},
			unapproved: []unapproved{{"people/kfox.yaml", "base", []string{"push", "title"}}},
			reason:     map[string]string{"push": "pushed straight", "title": "onto unapproved content (people/kfox.yaml, from "},
		},
		{
			name: "direct push, then a direct push restoring the last approved content",
			build: func(r *historytest.Repo, h map[string]string) {
				r.Write("people/kfox.yaml", kfox("  roles: [domain-admins]\n"))
				h["push"] = r.Commit("Make kfox a domain admin", jane)
				r.Write("people/kfox.yaml", kfox(""))
				h["undo"] = r.Commit("Revert the domain admin", alex)
			},
			ok: true, approved: "undo", cured: []string{"push", "undo"},
		},
		{
			name: "direct push of an older approved version",
			build: func(r *historytest.Repo, h map[string]string) {
				h["grant"] = merge(r, "grant", "people/kfox.yaml", kfox("  roles: [vpn-users]\n"))
				h["revoke"] = merge(r, "revoke", "people/kfox.yaml", kfox(""))
				r.Write("people/kfox.yaml", kfox("  roles: [vpn-users]\n"))
				h["regrant"] = r.Commit("Give kfox the VPN back", jane)
			},
			approved: "revoke", blocking: []string{"regrant"},
			unapproved: []unapproved{{"people/kfox.yaml", "revoke", []string{"regrant"}}},
		},
		{
			name: "a file alm does not read, pushed straight",
			build: func(r *historytest.Repo, h map[string]string) {
				r.Write("README.md", "How to ask for access\n")
				h["readme"] = r.Commit("Explain the repository", jane)
			},
			ok: true, approved: "readme", cured: []string{"readme"},
		},
		{
			name: "a new file pushed straight",
			build: func(r *historytest.Repo, h map[string]string) {
				r.Write("service-accounts/svc-pushed.yaml", svcPushed)
				h["push"] = r.Commit("Add svc-pushed", jane)
			},
			approved: "base", blocking: []string{"push"},
			unapproved: []unapproved{{"service-accounts/svc-pushed.yaml", "base", []string{"push"}}},
		},
		{
			// The privileged role's approvers were weakened straight on the
			// branch (the account's manager suffices), a grant of it merged with the manager's approval alone
			// (which the role's approvers would deny: TestAdviceWorksDeniedGrant),
			// and the role restored: the grant's approval was judged on the
			// weakened role, so it approves nothing.
			name: "an approved merge judged on an unapproved rule",
			build: func(r *historytest.Repo, h map[string]string) {
				r.Write("roles/domain-admins.yaml", "apiVersion: alm/v1\nkind: Role\nmetadata:\n  name: domain-admins\nspec:\n  groups: [Domain Admins]\n  privileged: true\n  approvers: [{relation: manager}]\n")
				h["weaken"] = r.Commit("Tidy the role", jane)
				h["grant"] = mergeWith(r, "grant", "people/kfox.yaml", kfox("  roles: [domain-admins]\n"), managerOnly)
				r.Write("roles/domain-admins.yaml", readFile(t, "../check/testdata/access/roles/domain-admins.yaml"))
				h["restore"] = r.Commit("Restore the role", jane)
			},
			approved: "base", blocking: []string{"grant"}, cured: []string{"weaken", "restore"},
			unapproved: []unapproved{{"people/kfox.yaml", "base", []string{"grant"}}},
			reason:     map[string]string{"grant": "onto unapproved content (roles/domain-admins.yaml, from "},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := historytest.New(t)
			r.CopyDir("../check/testdata/access")
			h := map[string]string{"base": r.Commit("Start the access repository", alex)}
			tt.build(r, h)
			rep, err := Approved(context.Background(), r.Path, "main", h["base"], Options{})
			if err != nil {
				t.Fatal(err)
			}
			name := map[string]string{}
			for k, v := range h {
				name[v] = k
			}
			var blocking, cured []string
			for _, v := range rep.Commits {
				switch {
				case v.Blocks():
					blocking = append(blocking, name[v.Commit.Hash])
				case v.Cured:
					cured = append(cured, name[v.Commit.Hash])
				}
				if want, ok := tt.reason[name[v.Commit.Hash]]; ok && !strings.Contains(v.Reason, want) {
					t.Errorf("%s refused for %q, want it to say %q", name[v.Commit.Hash], v.Reason, want)
				}
			}
			if !slices.Equal(blocking, tt.blocking) || !slices.Equal(cured, tt.cured) {
				t.Errorf("blocking %q, cured %q; want %q, %q\n%+v", blocking, cured, tt.blocking, tt.cured, rep.Commits)
			}
			var got []unapproved
			for _, f := range rep.Unapproved {
				u := unapproved{path: f.Path, approvedAt: name[f.ApprovedAt]}
				for _, c := range f.Commits {
					u.commits = append(u.commits, name[c])
				}
				got = append(got, u)
			}
			if !reflect.DeepEqual(got, tt.unapproved) {
				t.Errorf("unapproved files %+v, want %+v", got, tt.unapproved)
			}
			if rep.OK() != tt.ok || (rep.Err() == nil) != tt.ok {
				t.Errorf("OK %v, Err %v; want OK %v", rep.OK(), rep.Err(), tt.ok)
			}
			if name[rep.Approved] != tt.approved {
				t.Errorf("approved up to %s, want %s", name[rep.Approved], tt.approved)
			}
			if err := rep.Err(); err != nil {
				for _, f := range rep.Unapproved {
					restore := "git checkout " + f.ApprovedAt[:12] + " -- " + f.Path
					if f.Absent {
						restore = "git rm " + f.Path
					}
					if !strings.Contains(err.Error(), restore) {
						t.Errorf("the advice does not say %q:\n%v", restore, err)
					}
				}
				for _, c := range tt.blocking {
					if !strings.Contains(err.Error(), h[c][:12]) {
						t.Errorf("the refusal does not name %s:\n%v", c, err)
					}
				}
			}
		})
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

const managerOnly = "Approved-by: Alex Smith <asmith@acme.test>"

// TestAdviceWorksDeniedGrant: the grant that TestAdviceWorks merges onto a
// weakened role is denied when the role is as approved.
func TestAdviceWorksDeniedGrant(t *testing.T) {
	r := historytest.New(t)
	r.CopyDir("../check/testdata/access")
	base := r.Commit("Start the access repository", alex)
	grant := mergeWith(r, "grant", "people/kfox.yaml", kfox("  roles: [domain-admins]\n"), managerOnly)
	rep, err := Approved(context.Background(), r.Path, "main", base, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() || len(rep.Commits) != 1 || rep.Commits[0].Commit.Hash != grant || !strings.Contains(rep.Commits[0].Reason, "does not pass the policies") {
		t.Errorf("report %+v, want the grant denied by the policies", rep.Commits)
	}
}
