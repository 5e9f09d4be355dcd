package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/alm-project/alm/connectors/ad"
	"github.com/alm-project/alm/connectors/ad/adtest"
	"github.com/alm-project/alm/connectors/webhook"
	"github.com/alm-project/alm/reconciler/history/historytest"
)

// TestNoticeChannelFailsOnSamba: alm apply against the real directory with
// a webhook channel that answers 500: the accounts are made all the same,
// the run says the notice failed and exits 2; the next run sends it, signed,
// once; a third sends nothing.
func TestNoticeChannelFailsOnSamba(t *testing.T) {
	atClock(t, "2026-11-22T09:00:00Z")
	env := adtest.New(t)
	t.Setenv(ad.EnvBindDN, env.BindDN)
	t.Setenv(ad.EnvBindPassword, env.Password)
	t.Setenv("ALM_TEST_WEBHOOK_SECRET", "hook-key")

	var mu sync.Mutex
	status, bodies := http.StatusInternalServerError, [][]byte{}
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if status == http.StatusOK {
			if !webhook.Verify(body, r.Header.Get("X-Alm-Signature"), "hook-key") {
				t.Errorf("a notice arrived without a valid signature: %q", r.Header.Get("X-Alm-Signature"))
			}
			bodies = append(bodies, body)
		}
		w.WriteHeader(status)
	}))
	defer hook.Close()

	ou := env.OU(t)
	rel := strings.TrimSuffix(ou, ","+env.BaseDN)
	owner, svc := adtest.Unique("o"), "svc-"+adtest.Unique("")
	repo := historytest.New(t)
	repo.Write("alm.yaml", `apiVersion: alm/v1
kind: Directory
metadata: {name: test}
spec:
  domain: `+env.Domain+`
  baseDN: `+env.BaseDN+`
  groupsOU: OU=Groups,`+rel+`
  notify:
    webhook: {url: `+hook.URL+`/alm, secretEnv: ALM_TEST_WEBHOOK_SECRET}
`)
	repo.Write("templates/employee.yaml", "apiVersion: alm/v1\nkind: WorkflowTemplate\nmetadata: {name: employee}\nspec:\n  appliesTo: Person\n  ou: OU=People,"+rel+"\n")
	repo.Write("templates/service-account.yaml", "apiVersion: alm/v1\nkind: WorkflowTemplate\nmetadata: {name: service-account}\nspec:\n  appliesTo: ServiceAccount\n  ou: OU=Services,"+rel+"\n  lifetime: {default: 180d, max: 365d}\n  notices:\n    - {before: 30d, to: [owner]}\n")
	repo.Write("people/"+owner+".yaml", "apiVersion: alm/v1\nkind: Person\nmetadata: {name: "+owner+", id: \""+owner[1:]+"\"}\nspec:\n  givenName: Owen\n  surname: Owner\n  email: owen@example.test\n  type: employee\n  startDate: 2026-01-05\n")
	repo.Write("service-accounts/"+svc+".yaml", "apiVersion: alm/v1\nkind: ServiceAccount\nmetadata: {name: "+svc+", id: sa-"+svc[4:]+"}\nspec:\n  template: service-account\n  description: Expires soon\n  owner: "+owner+"\n  created: 2026-06-01\n  expires: 2026-12-10\n")
	repo.Commit("Import", admin)

	common := []string{"--repo", repo.Path, "--directory", env.URL, "--ca-file", env.CAFile, "--tls-server-name", env.ServerName}
	// The plan says which notice an apply would send, and to whom.
	code, out, errOut := runAlm(t, append([]string{"plan"}, common...)...)
	if code != exitOK || !strings.Contains(out, "Notices an apply sends (1;") || !strings.Contains(out, "@ "+svc+" ends on 2026-12-10\n      to "+owner+" (owner)") {
		t.Fatalf("plan: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runAlm(t, append([]string{"apply", "--yes"}, common...)...)
	if code != exitChanges || !strings.Contains(out, "Apply: ") || !strings.Contains(out, "  failed "+svc+" ends on 2026-12-10 on webhook") {
		t.Fatalf("apply with the webhook down: exit %d, want %d\n%s%s", code, exitChanges, out, errOut)
	}
	if !strings.Contains(out, " 0 failed, 0 skipped.") {
		t.Errorf("the directory work did not all apply:\n%s", out)
	}
	mu.Lock()
	status = http.StatusOK
	mu.Unlock()
	for run := range 2 {
		code, out, errOut = runAlm(t, append([]string{"apply", "--yes"}, common...)...)
		if code != exitOK {
			t.Fatalf("apply %d with the webhook up: exit %d\n%s%s", run+2, code, out, errOut)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != 1 || !strings.Contains(string(bodies[0]), svc+" ends on 2026-12-10") {
		t.Errorf("the webhook got %d notices, want the one once: %q", len(bodies), bodies)
	}
}
