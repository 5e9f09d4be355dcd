package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"filippo.io/age/armor"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-ldap/ldap/v3"

	"github.com/alm-project/alm/connectors/ad"
	"github.com/alm-project/alm/connectors/ad/adtest"
	"github.com/alm-project/alm/reconciler/history/historytest"
)

// TestCredentialsOnSamba: a service account created by alm apply gets a
// password sealed to its owner's age recipient and delivered on a channel
// (the outbox); the owner's identity opens the delivery, and the password
// binds over LDAPS as the account. alm rotate then gives it a new one,
// written for the owner by --out, which binds too. A person whose template
// sends the password to themselves must change it at first logon, and is
// not taken for half-made. The passwords appear in no output: apply's and
// plan's (JSON, debug logs), rotate's, the armored files, and no blob of
// the Git repository - files, receipts, the notices ledger.
func TestCredentialsOnSamba(t *testing.T) {
	atClock(t, "2026-11-22T09:00:00Z")
	env := adtest.New(t)
	t.Setenv(ad.EnvBindDN, env.BindDN)
	t.Setenv(ad.EnvBindPassword, env.Password)
	owner, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	ou := env.OU(t)
	rel := strings.TrimSuffix(ou, ","+env.BaseDN)
	svc, person, boss := "svc-"+adtest.Unique(""), adtest.Unique("p"), adtest.Unique("b")
	repo := historytest.New(t)
	repo.Write("alm.yaml", `apiVersion: alm/v1
kind: Directory
metadata: {name: test}
spec:
  domain: `+env.Domain+`
  baseDN: `+env.BaseDN+`
  groupsOU: `+rel+`
`)
	repo.Write("templates/employee.yaml", `apiVersion: alm/v1
kind: WorkflowTemplate
metadata: {name: employee}
spec:
  appliesTo: Person
  ou: OU=People,`+rel+`
  credentials: {to: self}
`)
	repo.Write("templates/service-account.yaml", `apiVersion: alm/v1
kind: WorkflowTemplate
metadata: {name: service-account}
spec:
  appliesTo: ServiceAccount
  ou: OU=Services,`+rel+`
  lifetime: {default: 180d, max: 365d}
  endOfLife: {action: disable}
  credentials: {to: owner, rotateEvery: 90d}
`)
	for _, p := range []struct{ login, key string }{{boss, owner.Recipient().String()}, {person, owner.Recipient().String()}} {
		repo.Write("people/"+p.login+".yaml", `apiVersion: alm/v1
kind: Person
metadata: {name: `+p.login+`, id: "`+p.login[1:]+`"}
spec:
  givenName: Test
  surname: Person
  type: employee
  startDate: 2026-01-05
  publicKey: `+p.key+`
`)
	}
	repo.Write("service-accounts/"+svc+".yaml", `apiVersion: alm/v1
kind: ServiceAccount
metadata: {name: `+svc+`, id: sa-`+svc[4:]+`}
spec:
  template: service-account
  description: Sealed credentials test
  owner: `+boss+`
  created: 2026-11-20
  expires: 2027-05-01
`)
	repo.Commit("Import", admin)

	// alm apply, delivering on an outbox: the passwords leave only as the
	// sealed attachments of their messages.
	common := []string{"--repo", repo.Path, "--directory", env.URL, "--ca-file", env.CAFile, "--tls-server-name", env.ServerName}
	outbox := t.TempDir()
	code, applyOut, applyErr := runAlm(t, append([]string{"apply", "--yes", "--outbox", outbox, "--log-level", "debug"}, common...)...)
	if code != exitOK || !strings.Contains(applyOut, "Notices: 3 sent, 0 failed.") {
		t.Fatalf("apply: exit %d\n%s%s", code, applyOut, applyErr)
	}
	code, planOut, planErr := runAlm(t, append([]string{"plan", "--format", "json"}, common...)...)
	if code != exitOK {
		t.Fatalf("plan: exit %d\n%s%s", code, planOut, planErr)
	}
	delivered, err := filepath.Glob(filepath.Join(outbox, "*.password.age"))
	if err != nil || len(delivered) != 3 {
		t.Fatalf("the outbox holds %v (%v), want the three sealed passwords", delivered, err)
	}
	var first string
	outputs := [][]byte{[]byte(applyOut), []byte(applyErr), []byte(planOut), []byte(planErr)}
	for _, f := range delivered {
		armored, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		pw := open(t, owner, armored)
		switch {
		case strings.HasSuffix(f, "."+svc+".password.age"):
			first = pw
			bindAs(t, env, svc, pw)
		case strings.HasSuffix(f, "."+person+".password.age"):
			mustChange(t, env, ou, person)
		}
		outputs = append(outputs, armored)
		defer func() { noSecret(t, pw, append(outputs, gitBlobs(t, repo.Path)...)...) }()
	}
	if first == "" {
		t.Fatalf("no sealed password of %s among %v", svc, delivered)
	}

	// The person who must change their password is not half-made: a
	// second plan has nothing to do.
	code, out, errOut := runAlm(t, append([]string{"plan", "--detailed-exitcode", "--format", "json", "--log-level", "debug"}, common...)...)
	if code != exitOK {
		t.Fatalf("second plan: exit %d\n%s%s", code, out, errOut)
	}
	outputs = append(outputs, []byte(out), []byte(errOut))

	dir := t.TempDir()
	code, out, errOut = runAlm(t, append([]string{"rotate", svc, "--yes", "--out", dir, "--log-level", "debug"}, common...)...)
	if code != exitOK || !strings.Contains(out, "Rotated the password of "+svc) || !strings.Contains(out, "Sent on: file") {
		t.Fatalf("rotate: exit %d\n%s%s", code, out, errOut)
	}
	armored, err := os.ReadFile(filepath.Join(dir, svc+".password.age"))
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, svc+".password.age")); fi.Mode().Perm() != 0o600 {
		t.Errorf("the sealed file is %v, want 0600", fi.Mode().Perm())
	}
	second := open(t, owner, armored)
	if second == first {
		t.Fatal("rotate set the same password")
	}
	// The old password may still bind for a while on Samba: not asserted.
	bindAs(t, env, svc, second)
	noSecret(t, second, append(append(outputs, armored, []byte(out), []byte(errOut)), gitBlobs(t, repo.Path)...)...)
	noSecret(t, first, []byte(out), []byte(errOut), armored)

	// Refusals write nothing and exit 3.
	for _, tc := range []struct{ name, want string }{
		{person, "is a person"},
		{"svc-nobody", "not an account alm manages"},
	} {
		code, out, errOut := runAlm(t, append([]string{"rotate", tc.name, "--yes", "--out", dir}, common...)...)
		if code != exitInvalid || !strings.Contains(errOut, tc.want) {
			t.Errorf("rotate %s: exit %d, want %d saying %q\n%s%s", tc.name, code, exitInvalid, tc.want, out, errOut)
		}
	}
	bindAs(t, env, svc, second)
}

// gitBlobs is every blob in the repository's object store: the access
// files, the receipts and the ledger on the status branch.
func gitBlobs(t *testing.T, path string) [][]byte {
	t.Helper()
	r, err := git.PlainOpen(path)
	if err != nil {
		t.Fatal(err)
	}
	iter, err := r.BlobObjects()
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	if err := iter.ForEach(func(b *object.Blob) error {
		rd, err := b.Reader()
		if err != nil {
			return err
		}
		defer rd.Close()
		data, err := io.ReadAll(rd)
		out = append(out, data)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("no blobs in the repository")
	}
	return out
}

func open(t *testing.T, id age.Identity, armored []byte) string {
	t.Helper()
	if !bytes.HasPrefix(armored, []byte(armor.Header)) {
		t.Fatalf("not an armored age file:\n%s", armored)
	}
	r, err := age.Decrypt(armor.NewReader(bytes.NewReader(armored)), id)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// bindAs binds over LDAPS as the account with the password.
func bindAs(t *testing.T, env *adtest.Env, login, pw string) {
	t.Helper()
	tc, err := env.TLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	c, err := ldap.DialURL(env.URL, ldap.DialWithTLSConfig(tc))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Bind(login+"@"+env.Domain, pw); err != nil {
		t.Fatalf("bind as %s with the delivered password: %v", login, err)
	}
}

// mustChange checks pwdLastSet=0 on a person alm created.
func mustChange(t *testing.T, env *adtest.Env, ou, login string) {
	t.Helper()
	sr, err := env.Conn(t).Search(ldap.NewSearchRequest(ou, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		"(sAMAccountName="+ldap.EscapeFilter(login)+")", []string{"pwdLastSet"}, nil))
	if err != nil || len(sr.Entries) != 1 {
		t.Fatalf("search %s: %v", login, err)
	}
	if got := sr.Entries[0].GetAttributeValue("pwdLastSet"); got != "0" {
		t.Errorf("%s: pwdLastSet %s, want 0 (change at first logon)", login, got)
	}
}

// noSecret fails when pw is in any of the outputs.
func noSecret(t *testing.T, pw string, outputs ...[]byte) {
	t.Helper()
	for i, o := range outputs {
		if bytes.Contains(o, []byte(pw)) {
			t.Errorf("a password is in clear in output %d", i)
		}
	}
}
