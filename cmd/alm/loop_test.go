package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-ldap/ldap/v3"

	"github.com/alm-project/alm/connectors/ad"
	"github.com/alm-project/alm/connectors/ad/adtest"
	"github.com/alm-project/alm/reconciler/receipt"
)

// reconciler is an alm reconcile --interval process of the test binary,
// its log kept.
type reconciler struct {
	name string
	cmd  *exec.Cmd
	mu   sync.Mutex
	log  strings.Builder
	done chan struct{}
}

func startReconciler(t *testing.T, env *adtest.Env, repo, name string, extra ...string) *reconciler {
	t.Helper()
	args := append([]string{"reconcile", "--interval", "1s", "--lease-duration", "5s", "--lease-owner", name,
		"--log-level", "info", "--repo", repo, "--directory", env.URL, "--ca-file", env.CAFile, "--tls-server-name", env.ServerName}, extra...)
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^$", "--"}, args...)...)
	cmd.Env = append(os.Environ(), envRunMain+"=1", ad.EnvBindDN+"="+env.BindDN, ad.EnvBindPassword+"="+env.Password)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &reconciler{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			r.mu.Lock()
			r.log.WriteString(sc.Text() + "\n")
			r.mu.Unlock()
		}
		cmd.Wait()
		close(r.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-r.done
	})
	return r
}

func (r *reconciler) logged() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.log.String()
}

// waitFor polls cond for up to d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("waited %s for %s", d, what)
}

// exists tells whether a login is in the directory.
func exists(t *testing.T, c *ldap.Conn, base, login string) bool {
	res, err := c.Search(ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		"(sAMAccountName="+ldap.EscapeFilter(login)+")", []string{"cn"}, nil))
	return err == nil && len(res.Entries) == 1
}

// enabled tells whether a login is in the directory, enabled.
func enabled(c *ldap.Conn, base, login string) bool {
	res, err := c.Search(ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		"(sAMAccountName="+ldap.EscapeFilter(login)+")", []string{"userAccountControl"}, nil))
	return err == nil && len(res.Entries) == 1 && res.Entries[0].GetAttributeValue("userAccountControl") == "512"
}

func addPerson(f *fixture, login string) {
	f.repo.Write("people/"+login+".yaml", "apiVersion: alm/v1\nkind: Person\nmetadata: {name: "+login+", id: \""+login[1:]+"\"}\nspec:\n  givenName: Test\n  surname: Person\n  type: employee\n  department: Engineering\n  startDate: 2026-01-05\n  roles: [staff]\n")
}

// receipts reads every receipt on the status branch, oldest last.
func receipts(t *testing.T, path string) []receipt.Receipt {
	t.Helper()
	r, err := git.PlainOpen(path)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := r.Reference(plumbing.NewBranchReferenceName(receipt.DefaultBranch), true)
	if err != nil {
		t.Fatal(err)
	}
	var out []receipt.Receipt
	for h := ref.Hash(); ; {
		c, err := r.CommitObject(h)
		if err != nil {
			t.Fatal(err)
		}
		f, err := c.File(receipt.StatusFile)
		if err != nil {
			t.Fatal(err)
		}
		text, _ := f.Contents()
		var rc receipt.Receipt
		if err := json.Unmarshal([]byte(text), &rc); err != nil {
			t.Fatal(err)
		}
		out = append(out, rc)
		if len(c.ParentHashes) == 0 {
			return out
		}
		h = c.ParentHashes[0]
	}
}

// TestTwoReconcilersOnSamba: two alm reconcile --interval processes against
// the same directory and repository for several commits: each change is
// applied once, by whoever held the lease, and each receipt names it.
// Then the holder is killed with SIGKILL in the middle of a run: the other
// takes over once the lease expires, and converges.
func TestTwoReconcilersOnSamba(t *testing.T) {
	env := adtest.New(t)
	f := newFixture(t, env)
	c := env.Conn(t)
	a := startReconciler(t, env, f.repo.Path, "reconciler-a")
	b := startReconciler(t, env, f.repo.Path, "reconciler-b")
	waitFor(t, 30*time.Second, "the first account", func() bool { return exists(t, c, f.ou, f.login) })

	var logins []string
	for i := range 3 {
		login := adtest.Unique("l")
		logins = append(logins, login)
		addPerson(f, login)
		f.repo.Commit(fmt.Sprintf("Joiner %d", i), admin)
		waitFor(t, 30*time.Second, "the account of commit "+login, func() bool { return exists(t, c, f.ou, login) })
	}
	// An account exists before the run that made it has written its
	// receipt: wait for the receipts, then count.
	created := map[string]int{}
	holders := map[string]bool{}
	count := func() {
		clear(created)
		clear(holders)
		for _, r := range receipts(t, f.repo.Path) {
			for _, e := range r.Changes {
				if e.Action == "create" && e.Result == receipt.Applied {
					created[e.Account]++
				}
			}
			holders[r.Lease] = true
		}
	}
	waitFor(t, 30*time.Second, "the receipts of the joiners", func() bool {
		count()
		return !slices.ContainsFunc(append(logins, f.login), func(l string) bool { return created[l] == 0 })
	})
	for _, r := range receipts(t, f.repo.Path) {
		if r.Lease == "" {
			t.Errorf("receipt of %s at %s names no lease holder", r.Revision[:12], r.AppliedAt)
		}
	}
	for _, l := range append(logins, f.login) {
		if created[l] != 1 {
			t.Errorf("%s created %d times over the receipts, want once", l, created[l])
		}
	}
	t.Logf("lease holders over the receipts: %v", holders)

	// A slow run, and its holder killed in the middle of it.
	var many []string
	for range 30 {
		login := adtest.Unique("k")
		many = append(many, login)
		addPerson(f, login)
	}
	seen := map[*reconciler]int{a: len(a.logged()), b: len(b.logged())}
	f.repo.Commit("Thirty joiners", admin)
	var holder, other *reconciler
	waitFor(t, 30*time.Second, "a reconciler to take the lease for the thirty joiners", func() bool {
		for _, r := range []*reconciler{a, b} {
			if strings.Contains(r.logged()[seen[r]:], "msg=\"lease taken\"") {
				holder = r
				return true
			}
		}
		return false
	})
	other = a
	if holder == a {
		other = b
	}
	if err := holder.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-holder.done
	waitFor(t, 60*time.Second, "the other reconciler to converge: the thirty enabled", func() bool {
		for _, l := range many {
			if !enabled(c, f.ou, l) {
				return false
			}
		}
		return true
	})
	// Killed while it held the lease: the other waited for it to expire.
	if !strings.Contains(other.logged(), "held by "+holder.name) {
		t.Errorf("the other reconciler never found the lease held by %s:\n%s", holder.name, other.logged())
	}
	if err := other.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-other.done:
	case <-time.After(30 * time.Second):
		t.Fatal("the reconciler did not stop on SIGTERM")
	}
	if code := other.cmd.ProcessState.ExitCode(); code != exitOK {
		t.Errorf("the reconciler stopped by SIGTERM exited %d, want 0", code)
	}
	t.Setenv(ad.EnvBindDN, env.BindDN)
	t.Setenv(ad.EnvBindPassword, env.Password)
	code, out, errOut := runAlm(t, "plan", "--detailed-exitcode", "--repo", f.repo.Path, "--directory", env.URL,
		"--ca-file", env.CAFile, "--tls-server-name", env.ServerName)
	if code != exitOK {
		t.Errorf("after both: exit %d\n%s%s", code, out, errOut)
	}
}

// TestMetricsAndAlertsOnSamba: a reconciler with --listen: /metrics shows
// the counters move after a commit that adds an account; a commit the
// guards refuse increments the refused counter every cycle, and sends one
// alert, not one per cycle.
func TestMetricsAndAlertsOnSamba(t *testing.T) {
	env := adtest.New(t)
	f := newFixture(t, env)
	var mu sync.Mutex
	var alerts []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		if id := r.Header.Get("X-Alm-Message-Id"); strings.HasPrefix(id, "alert:") {
			alerts = append(alerts, id)
		}
		mu.Unlock()
		_ = body
	}))
	defer hook.Close()
	data, err := os.ReadFile(f.repo.Path + "/alm.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f.repo.Write("alm.yaml", string(data)+"  notify:\n    webhook: {url: "+hook.URL+"/alm}\n  alerts: {to: [ops@example.test]}\n")
	f.repo.Commit("Alerts to the operators", admin)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	r := startReconciler(t, env, f.repo.Path, "metrics", "--listen", addr)
	scrape := func() string {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	value := func(metric string) float64 {
		for _, line := range strings.Split(scrape(), "\n") {
			if strings.HasPrefix(line, metric+" ") {
				var v float64
				fmt.Sscan(strings.TrimPrefix(line, metric+" "), &v)
				return v
			}
		}
		return 0
	}
	created := `alm_changes_total{action="create",result="applied"}`
	waitFor(t, 30*time.Second, "the first account counted", func() bool { return value(created) >= 1 })
	before := value(created)
	login := adtest.Unique("m")
	addPerson(f, login)
	f.repo.Commit("A joiner", admin)
	waitFor(t, 30*time.Second, "the joiner counted", func() bool { return value(created) > before })
	if resp, err := http.Get("http://" + addr + "/healthz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz: %v %v", resp, err)
	}

	// Two leavers, over a limit of one disable: refused, cycle after cycle.
	f.repo.Write("alm.yaml", strings.Replace(string(data), "limits: {disable: {count: 5}}", "limits: {disable: {count: 1}}", 1)+
		"  notify:\n    webhook: {url: "+hook.URL+"/alm}\n  alerts: {to: [ops@example.test]}\n")
	for _, p := range []string{f.login, login} {
		b, _ := os.ReadFile(f.repo.Path + "/people/" + p + ".yaml")
		f.repo.Write("people/"+p+".yaml", string(b)+"  endDate: 2026-02-01\n")
	}
	f.repo.Commit("Two leavers at once", admin)
	refused := `alm_refused_runs_total{limit="disable"}`
	waitFor(t, 30*time.Second, "three refused runs", func() bool { return value(refused) >= 3 })
	mu.Lock()
	defer mu.Unlock()
	if len(alerts) != 1 || !strings.HasPrefix(alerts[0], "alert:refused:") {
		t.Errorf("alerts sent %q over %v refused runs, want one", alerts, value(refused))
	}
	if !strings.Contains(r.logged(), "run done") {
		t.Errorf("the reconciler's log says no run was done:\n%s", r.logged())
	}
}
