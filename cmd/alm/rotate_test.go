package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"filippo.io/age/armor"
	"github.com/go-ldap/ldap/v3"

	"github.com/alm-project/alm/connectors/ad"
	"github.com/alm-project/alm/connectors/ad/adtest"
	"github.com/alm-project/alm/reconciler/apply"
	"github.com/alm-project/alm/reconciler/credentials"
	"github.com/alm-project/alm/reconciler/history/historytest"
	"github.com/alm-project/alm/reconciler/reconcile"
)

// TestCredentialsOnSamba: a service account created through apply gets a
// password sealed to its owner's age recipient; the owner's identity opens
// it, and it binds over LDAPS as the account. alm rotate then gives it a
// new one, written for the owner by --out, which binds too. A person whose
// template sends the password to themselves must change it at first logon,
// and is not taken for half-made. The passwords appear in no output: the
// plan's JSON, the apply result's JSON, debug logs, rotate's output, the
// receipt-free Git history, the armored files.
func TestCredentialsOnSamba(t *testing.T) {
	atClock(t, "2026-11-22T09:00:00Z")
	env := adtest.New(t)
	t.Setenv(ad.EnvBindDN, env.BindDN)
	t.Setenv(ad.EnvBindPassword, env.Password)
	ctx := t.Context()
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

	// Apply in process, as the reconciler will, with every log kept.
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	d, err := ad.Dial(ctx, ad.Config{URL: env.URL, CAFile: env.CAFile, ServerName: env.ServerName, BindDN: env.BindDN, Password: env.Password}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	src := reconcile.Source{Path: repo.Path, Rev: "HEAD"}
	loaded, err := reconcile.Load(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	now := clock()
	pl, err := reconcile.PlanLoaded(ctx, d, loaded, src, reconcile.Options{Now: now, Logger: log})
	if err != nil || pl.Refused != nil {
		t.Fatalf("plan: %v %v", err, pl.Refused)
	}
	planJSON, _ := json.Marshal(pl.Plan)
	res := apply.Run(ctx, d, pl.Plan, apply.Options{Logger: log, Credentials: credentials.Policies(loaded)})
	if !res.OK() {
		t.Fatalf("apply: %+v", res.Changes)
	}
	resJSON, _ := json.Marshal(res)

	var first string
	var outputs [][]byte
	for id, s := range res.Sealed {
		if len(s.Armored) == 0 {
			t.Errorf("%s: not sealed: %s", id, s.Why)
			continue
		}
		pw := open(t, owner, s.Armored)
		switch s.Account {
		case svc:
			first = pw
			bindAs(t, env, svc, pw)
		case person:
			mustChange(t, env, ou, person)
		}
		outputs = append(outputs, s.Armored)
		defer func() { noSecret(t, pw, append(outputs, planJSON, resJSON, logs.Bytes())...) }()
	}
	if first == "" || len(res.Sealed) != 3 {
		t.Fatalf("sealed %d passwords, the service account's among them: %v; want 3", len(res.Sealed), first != "")
	}

	common := []string{"--repo", repo.Path, "--directory", env.URL, "--ca-file", env.CAFile, "--tls-server-name", env.ServerName}
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
	noSecret(t, second, append(outputs, armored, []byte(out), []byte(errOut), planJSON, resJSON, logs.Bytes())...)
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
