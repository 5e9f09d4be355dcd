package main

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/alm-project/alm/connectors/ad"
	"github.com/alm-project/alm/connectors/ad/adtest"
	"github.com/alm-project/alm/reconciler/receipt"
)

// TestPrivilegedDriftOnSamba: a managed account added by hand to Domain
// Admins and to a group in the groups OU that no role names. The plan
// shows both removals as drift and exits 2 with --detailed-exitcode;
// apply removes both and its receipt lists them; the next plan has nothing
// to do, says the directory matches, and exits 0.
func TestPrivilegedDriftOnSamba(t *testing.T) {
	atClock(t, "2026-11-22T09:00:00Z")
	env := adtest.New(t)
	f := newFixture(t, env)
	// Removing a member from Domain Admins takes Write member on it, which
	// a delegated account does not hold, by design (docs/permissions.md):
	// this test of the removal binds as the administrator.
	t.Setenv(ad.EnvBindDN, env.AdminDN)
	t.Setenv(ad.EnvBindPassword, env.AdminPassword)
	alm := func(args ...string) (int, string, string) {
		t.Helper()
		return runAlm(t, append(args, "--repo", f.repo.Path, "--directory", env.URL, "--ca-file", env.CAFile,
			"--tls-server-name", env.ServerName)...)
	}
	if code, out, errOut := alm("apply", "--yes"); code != exitOK {
		t.Fatalf("first apply: exit %d\n%s%s", code, out, errOut)
	}
	c := env.Conn(t)
	user := lookupLogin(t, c, f.ou, f.login)
	domainAdmins := "CN=Domain Admins,CN=Users," + env.BaseDN
	hand := adtest.Unique("hand-")
	handDN := "CN=" + hand + "," + f.ou
	add := ldap.NewAddRequest(handDN, nil)
	add.Attribute("objectClass", []string{"top", "group"})
	add.Attribute("sAMAccountName", []string{hand})
	add.Attribute("member", []string{user.DN})
	if err := c.Add(add); err != nil {
		t.Fatal(err)
	}
	member := ldap.NewModifyRequest(domainAdmins, nil)
	member.Add("member", []string{user.DN})
	if err := c.Modify(member); err != nil {
		t.Fatal(err)
	}
	// The shared domain's Domain Admins must not keep a test's account,
	// whatever becomes of this test.
	t.Cleanup(func() {
		undo := ldap.NewModifyRequest(domainAdmins, nil)
		undo.Delete("member", []string{user.DN})
		if err := c.Modify(undo); err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultUnwillingToPerform) && !ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchAttribute) {
			t.Logf("remove %s from Domain Admins: %v", user.DN, err)
		}
	})

	code, out, errOut := alm("plan", "--detailed-exitcode")
	if code != exitChanges {
		t.Fatalf("plan: exit %d, want %d\n%s%s", code, exitChanges, out, errOut)
	}
	for _, want := range []string{
		"- remove-member " + domainAdmins + " (drift)",
		"one of AD's privileged groups (Domain Admins, RID 512), and no role grants it",
		"- remove-member " + handDN + " (drift)",
		"in the groups OU alm manages",
		"2 to remove from groups",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the plan does not say %q:\n%s", want, out)
		}
	}

	code, out, errOut = alm("apply", "--yes")
	if code != exitOK {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	after := lookupLogin(t, c, f.ou, f.login)
	if slices.ContainsFunc(after.MemberOf, func(dn string) bool {
		return strings.EqualFold(dn, domainAdmins) || strings.EqualFold(dn, handDN)
	}) {
		t.Errorf("%s is still a member of %q", after.DN, after.MemberOf)
	}
	if !slices.ContainsFunc(after.MemberOf, func(dn string) bool { return strings.EqualFold(dn, f.groupDN) }) {
		t.Errorf("%s lost the group its role grants: %q", after.DN, after.MemberOf)
	}
	last, err := receipt.Last(context.Background(), f.repo.Path, "")
	if err != nil || last == nil {
		t.Fatalf("last receipt: %v, %v", last, err)
	}
	var removed []string
	for _, e := range last.Changes {
		if e.Action == "remove-member" && e.Result == receipt.Applied {
			removed = append(removed, e.ID)
		}
	}
	slices.Sort(removed)
	id := f.login[1:]
	if want := []string{"remove-member:" + id + ":Domain Admins", "remove-member:" + id + ":" + hand}; !slices.Equal(removed, want) {
		t.Errorf("receipt's removals %q, want %q", removed, want)
	}

	code, out, errOut = alm("plan", "--detailed-exitcode")
	if code != exitOK || !strings.Contains(out, "No changes. The directory matches the access repository.") {
		t.Errorf("second plan: exit %d, want 0 and no changes\n%s%s", code, out, errOut)
	}
}

// lookupLogin reads a user below base by sAMAccountName, with memberOf.
type entry struct {
	DN       string
	MemberOf []string
}

func lookupLogin(t *testing.T, c *ldap.Conn, base, login string) entry {
	t.Helper()
	res, err := c.Search(ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		"(sAMAccountName="+ldap.EscapeFilter(login)+")", []string{"memberOf", "adminCount"}, nil))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("look up %s below %s: %v", login, base, err)
	}
	return entry{DN: res.Entries[0].DN, MemberOf: res.Entries[0].GetAttributeValues("memberOf")}
}
