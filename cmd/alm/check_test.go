package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/alm-project/alm/connectors/ad"
	"github.com/alm-project/alm/connectors/ad/adtest"
	"github.com/alm-project/alm/reconciler/check"
	"github.com/alm-project/alm/reconciler/history/historytest"
)

// listener is a TCP server on 127.0.0.1 that counts the connections made
// to it and drops each at once.
type listener struct {
	url   string
	count atomic.Int32
}

func listen(t *testing.T) *listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	ln := &listener{url: "ldaps://" + l.Addr().String()}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			ln.count.Add(1)
			c.Close()
		}
	}()
	return ln
}

// TestCheckNeverDialsTheHeadsDirectory: a pull request that points
// alm.yaml's url at another server does not get alm's bind credentials
// sent there: the check reads --directory, else the base's url.
func TestCheckNeverDialsTheHeadsDirectory(t *testing.T) {
	t.Setenv(ad.EnvBindDN, "CN=alm,CN=Users,DC=example,DC=test")
	t.Setenv(ad.EnvBindPassword, "not-a-real-password")
	tests := []struct {
		name string
		args func(flag *listener) []string
		// which of base, head and flag must be dialled
		base, flag bool
	}{
		{name: "--preview reads the base's url", args: func(*listener) []string { return []string{"--preview"} }, base: true},
		{name: "--directory first", args: func(f *listener) []string { return []string{"--directory", f.url} }, flag: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, head, flag := listen(t), listen(t), listen(t)
			repo := historytest.New(t)
			repo.Write("alm.yaml", almYAML(base.url))
			repo.Write("templates/employee.yaml", "apiVersion: alm/v1\nkind: WorkflowTemplate\nmetadata: {name: employee}\nspec:\n  appliesTo: Person\n  ou: OU=People\n")
			repo.Commit("Import", admin)
			repo.Write("alm.yaml", almYAML(head.url))
			repo.Commit("Read another directory", admin)

			args := append([]string{"check", "--repo", repo.Path, "--base", "HEAD~1", "--head", "HEAD", "--format", "markdown",
				"--now", "2026-11-22T09:00:00Z"}, tt.args(flag)...)
			code, out, errOut := runAlm(t, args...)
			if code != exitOK && code != exitInvalid {
				t.Fatalf("exit %d\n%s%s", code, out, errOut)
			}
			if n := head.count.Load(); n != 0 {
				t.Errorf("the head's url was dialled %d times", n)
			}
			if got := base.count.Load() > 0; got != tt.base {
				t.Errorf("base's url dialled: %t, want %t", got, tt.base)
			}
			if got := flag.count.Load() > 0; got != tt.flag {
				t.Errorf("--directory dialled: %t, want %t", got, tt.flag)
			}
			// The listener is no directory: the preview cannot be made, the verdict can.
			if !strings.Contains(out, "No preview: directory ldaps://127.0.0.1") || !strings.Contains(out, "alm check:") {
				t.Errorf("the comment does not give the verdict and say why there is no preview:\n%s", out)
			}
		})
	}
}

func almYAML(url string) string {
	return "apiVersion: alm/v1\nkind: Directory\nmetadata: {name: test}\nspec:\n  domain: example.test\n  baseDN: DC=example,DC=test\n  url: " + url + "\n"
}

// TestCheckPreviewOnSamba: a pull request that widens alm.yaml's OUs to the
// whole test OU and adds 400 people. The directory is read within the
// base's scope, so an account outside it (but inside the head's OUs) is not
// shown; the comment lists the new people only as far as GitHub's limit
// allows and says where the rest is; the text output lists them all.
func TestCheckPreviewOnSamba(t *testing.T) {
	atClock(t, "2026-11-22T09:00:00Z")
	env := adtest.New(t)
	f := newFixture(t, env)
	t.Setenv(ad.EnvBindDN, env.BindDN)
	t.Setenv(ad.EnvBindPassword, env.Password)
	common := []string{"--repo", f.repo.Path,
		"--directory", env.URL, "--ca-file", env.CAFile, "--tls-server-name", env.ServerName}
	if code, out, errOut := runAlm(t, append([]string{"apply", "--yes"}, common...)...); code != exitOK {
		t.Fatalf("apply the base: exit %d\n%s%s", code, out, errOut)
	}
	outsider := adtest.Unique("out")
	add := ldap.NewAddRequest("CN="+outsider+","+f.ou, nil)
	add.Attribute("objectClass", []string{"top", "person", "organizationalPerson", "user"})
	add.Attribute("sAMAccountName", []string{outsider})
	if err := env.Conn(t).Add(add); err != nil {
		t.Fatal(err)
	}

	rel := strings.TrimSuffix(f.ou, ","+env.BaseDN)
	data, err := os.ReadFile(filepath.Join(f.repo.Path, "alm.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	widened := strings.Replace(string(data), "leaversOU: OU=Leavers,"+rel, "leaversOU: "+rel, 1)
	if widened == string(data) {
		t.Fatalf("alm.yaml has no leaversOU to widen:\n%s", data)
	}
	f.repo.Write("alm.yaml", widened)
	const people = 400
	for i := range people {
		login := fmt.Sprintf("%s%03d", f.login, i)
		f.repo.Write("people/"+login+".yaml", fmt.Sprintf(`apiVersion: alm/v1
kind: Person
metadata: {name: %s, id: big-%s}
spec:
  givenName: Test
  surname: Person %03d
  type: employee
  department: Engineering
  startDate: 2026-01-05
  roles: [staff]
`, login, login, i))
	}
	f.repo.Commit("Widen the leavers OU and add 400 people", admin)

	checkArgs := append([]string{"check", "--base", "HEAD~1", "--head", "HEAD"}, common...)
	code, md, errOut := runAlm(t, append(checkArgs, "--format", "markdown")...)
	if code != exitOK && code != exitInvalid {
		t.Fatalf("exit %d\n%s%s", code, md, errOut)
	}
	if len(md) >= check.CommentLimit {
		t.Errorf("the comment is %d bytes, not under %d", len(md), check.CommentLimit)
	}
	last := fmt.Sprintf("%s%03d", f.login, people-1)
	for _, want := range []string{"### What the merge would do to the directory", "`alm.yaml:", "spec.leaversOU`",
		"`+` new", "of 1200 changes not shown here", "`alm plan --rev "} {
		if !strings.Contains(md, want) {
			t.Errorf("the comment does not say %q:\n%s", want, md)
		}
	}
	_, txt, _ := runAlm(t, append(checkArgs, "--format", "text")...)
	if !strings.Contains(txt, "# "+last+": ") || !strings.Contains(txt, "1200 changes: 1200 new, 0 changed, 0 no longer planned") {
		t.Errorf("the text output does not list every change:\n%s", txt)
	}
	for name, out := range map[string]string{"comment": md, "text": txt} {
		if strings.Contains(out, outsider) {
			t.Errorf("the %s shows %s, outside the base's OUs:\n%s", name, outsider, out)
		}
		if strings.Contains(out, "# "+f.login+": ") {
			t.Errorf("the %s shows %s, whom the pull request does not touch", name, f.login)
		}
	}
}

// TestCheckCacheDir: alm check --cache-dir says exactly what a check
// without it says - the verdict, every violation and its place, the
// loader's problems - whether the folder is empty, holds the base, or
// holds both revisions.
func TestCheckCacheDir(t *testing.T) {
	repo := historytest.New(t)
	repo.CopyDir(filepath.Join("..", "..", "examples", "acme"))
	author := historytest.Person{Name: "dkim", Email: "dkim@acme.test"}
	repo.Commit("acme", author)
	data, err := os.ReadFile(filepath.Join("..", "..", "examples", "acme", "people", "asmith.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	repo.Write("people/asmith.yaml", strings.Replace(string(data), "manager: hokafor", "manager: nobody", 1))
	repo.Commit("asmith reports to nobody", author)

	check := func(extra ...string) (int, string) {
		args := append([]string{"--repo", repo.Path, "--now", "2026-11-29T09:00:00Z", "check", "--base", "HEAD~1", "--head", "HEAD", "--format", "json"}, extra...)
		code, out, errOut := runAlm(t, args...)
		if code != exitInvalid {
			t.Fatalf("check %v: exit %d: %s", extra, code, errOut)
		}
		return code, out
	}
	wantCode, want := check()
	if !strings.Contains(want, `person \"nobody\" does not exist`) {
		t.Fatalf("the check does not deny the missing manager: %s", want)
	}
	cacheDir := t.TempDir()
	for _, run := range []string{"empty folder", "base and head in the folder", "again"} {
		code, got := check("--cache-dir", cacheDir)
		if code != wantCode || got != want {
			t.Errorf("%s: exit %d, output\n%s\nwant exit %d,\n%s", run, code, got, wantCode, want)
		}
	}
	snaps, _ := filepath.Glob(filepath.Join(cacheDir, "files", "*", "*", "part-*"))
	if len(snaps) == 0 {
		t.Error("nothing was kept in --cache-dir")
	}
}
