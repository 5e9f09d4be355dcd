package verify

import (
	"context"
	"errors"
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
