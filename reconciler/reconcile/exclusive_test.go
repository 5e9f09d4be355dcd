package reconcile_test

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"os"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/go-ldap/ldap/v3"

	"github.com/alm-project/alm/connectors/ad"
	"github.com/alm-project/alm/connectors/ad/adtest"
	"github.com/alm-project/alm/reconciler/directory"
	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/plan"
)

// EnvExclusive marks a run of tests that may change what every other test
// relies on (the built-in Administrator account): make test runs them
// after all the others, alone.
const EnvExclusive = "ALM_TEST_AD_EXCLUSIVE"

// exclusive skips a test outside make test's exclusive phase.
func exclusive(t *testing.T) {
	t.Helper()
	if os.Getenv(EnvExclusive) != "1" {
		t.Skipf("changes the domain's Administrator account: make test runs it alone, after the other tests, with %s=1", EnvExclusive)
	}
}

// TestExclusiveBuiltinOrphans: the domain's RID-500 account, renamed and
// moved into a managed OU, and a hand-made account with adminCount=1 there
// too, with alm.yaml saying orphans: disable. Both are reported as orphans
// with the reason alm never touches them, and neither is written.
func TestExclusiveBuiltinOrphans(t *testing.T) {
	exclusive(t)
	w := newWorld(t)
	ctx := context.Background()

	// alm binds as an administrator of its own here: the Administrator
	// account is about to lose the DN the environment binds with.
	binder := adtest.Unique("adm-")
	password := "Bind-" + adtest.Unique("p") + "!9"
	binderDN := "CN=" + binder + "," + w.ou
	add := ldap.NewAddRequest(binderDN, nil)
	add.Attribute("objectClass", []string{"top", "person", "organizationalPerson", "user"})
	add.Attribute(directory.AttrSAMAccountName, []string{binder})
	add.Attribute(directory.AttrUserAccountControl, []string{"512"})
	add.Attribute("unicodePwd", []string{quotedUTF16(password)})
	if err := w.conn.Add(add); err != nil {
		t.Fatal(err)
	}
	domainAdmins := "CN=Domain Admins,CN=Users," + w.env.BaseDN
	w.modify(domainAdmins, func(r *ldap.ModifyRequest) { r.Add("member", []string{binderDN}) })
	adminConn, err := ldap.DialURL(w.env.URL, ldap.DialWithTLSConfig(mustTLS(t, w.env)))
	if err != nil {
		t.Fatal(err)
	}
	defer adminConn.Close()
	if err := adminConn.Bind(binderDN, password); err != nil {
		t.Fatalf("bind as %s: %v", binderDN, err)
	}
	d, err := ad.Dial(ctx, ad.Config{URL: w.env.URL, CAFile: w.env.CAFile, ServerName: w.env.ServerName,
		BindDN: binderDN, Password: password}, w.log)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	w.dir = d

	w.alm.Spec.Orphans = model.OrphansDisable
	w.putDirectory()
	w.role("vpn-users", nil, false)
	p := employee("bi")
	p.Spec.Roles = []string{"vpn-users"}
	w.putPerson(p)
	w.commit("people")
	w.reconcile(at("2026-11-22"))

	// The RID-500 account, renamed and moved into the managed OU.
	admin := "CN=Administrator,CN=Users," + w.env.BaseDN
	renamed := adtest.Unique("it-")
	people := w.ouDN("People")
	moved := "CN=" + renamed + "," + people
	restore := func() {
		// Back to where and what it was, whatever happened.
		if err := adminConn.ModifyDN(ldap.NewModifyDNRequest(moved, "CN=Administrator", true, "CN=Users,"+w.env.BaseDN)); err != nil &&
			!ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
			t.Errorf("move the Administrator back: %v", err)
		}
		m := ldap.NewModifyRequest(admin, nil)
		m.Replace(directory.AttrSAMAccountName, []string{"Administrator"})
		if err := adminConn.Modify(m); err != nil {
			t.Errorf("rename the Administrator back: %v", err)
		}
		undo := ldap.NewModifyRequest(domainAdmins, nil)
		undo.Delete("member", []string{binderDN})
		adminConn.Modify(undo)
	}
	if err := adminConn.ModifyDN(ldap.NewModifyDNRequest(admin, "CN="+renamed, true, people)); err != nil {
		t.Fatalf("move the Administrator: %v", err)
	}
	defer restore()
	m := ldap.NewModifyRequest(moved, nil)
	m.Replace(directory.AttrSAMAccountName, []string{renamed})
	if err := adminConn.Modify(m); err != nil {
		t.Fatalf("rename the Administrator: %v", err)
	}
	// An account made by hand that AD protects as privileged.
	tier0 := adtest.Unique("t0-")
	w.addUser(w.accountDN(tier0, "People"), tier0, map[string]string{
		directory.AttrUserAccountControl: "512", "adminCount": "1"})

	before := map[string]*object{renamed: w.mustLookup(renamed), tier0: w.mustLookup(tier0)}
	p.Spec.Title = "Changed"
	w.putPerson(p)
	w.commit("something to apply")
	pl := w.reconcile(at("2026-11-23"))
	reasons := map[string]string{}
	for _, o := range pl.Plan.Orphans {
		reasons[strings.ToLower(o.Name)] = o.Action + ": " + o.Reason
	}
	for login, want := range map[string]string{
		renamed: "report: no alm marker: an account alm does not own in a managed OU; it is a built-in account of the domain (RID 500): alm never disables or deletes it",
		tier0:   "report: no alm marker: an account alm does not own in a managed OU; it is privileged (adminCount=1): alm never disables or deletes it",
	} {
		if got := reasons[strings.ToLower(login)]; got != want {
			t.Errorf("orphan %s: %q, want %q", login, got, want)
		}
		for _, c := range pl.Plan.Changes {
			if strings.EqualFold(c.Account, login) {
				t.Errorf("the plan changes %s: %s", login, c.ID)
			}
		}
		after := w.mustLookup(login)
		if after.USN != before[login].USN || !after.enabled() {
			t.Errorf("%s was written (uSNChanged %s -> %s) or disabled", after.DN, before[login].USN, after.USN)
		}
	}
	if got := actions(pl.Plan, p.Metadata.Name); len(got) != 1 || got[0] != string(plan.Update) {
		t.Errorf("changes to %s: %q, want the update only", p.Metadata.Name, got)
	}
}

func quotedUTF16(s string) string {
	u := utf16.Encode([]rune(`"` + s + `"`))
	b := make([]byte, 2*len(u))
	for i, x := range u {
		binary.LittleEndian.PutUint16(b[2*i:], x)
	}
	return string(b)
}

func mustTLS(t *testing.T, env *adtest.Env) *tls.Config {
	t.Helper()
	tc, err := env.TLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	return tc
}
