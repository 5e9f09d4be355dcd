package adtest

import (
	"crypto/tls"
	"encoding/hex"
	"reflect"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

func TestSecurityDescriptorRoundTrip(t *testing.T) {
	sid := []byte{1, 5, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0xe9, 3, 0, 0}
	tests := []struct {
		name string
		aces []ace
	}{
		{"empty", nil},
		{"delegation", delegation(sid)},
		{"deny and allow", []ace{
			{typ: aceDeniedObject, mask: rightWriteProperty, object: mustGUID("member"), sid: sid},
			{typ: aceAllowed, flags: aceContainerInherit, mask: rightReadProperty, sid: sid},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			control, got, err := parseSD(encodeSD(0x0400, tt.aces))
			if err != nil {
				t.Fatal(err)
			}
			if control != 0x8404 {
				t.Errorf("control = %#x, want DACL present, auto-inherited, self-relative (0x8404)", control)
			}
			if !reflect.DeepEqual(got, tt.aces) {
				t.Errorf("parsed back %v, want %v", got, tt.aces)
			}
		})
	}
	if _, _, err := parseSD([]byte{1, 0, 4, 0x80}); err == nil {
		t.Error("parseSD of 4 bytes: no error")
	}
}

func TestGUIDByteOrder(t *testing.T) {
	// user's schemaIDGUID as AD stores it: the first three fields little-endian
	want := "ba7a96bfe60dd011a28500aa003049e2"
	if got := mustGUID("user"); hex.EncodeToString(got[:]) != want {
		t.Errorf("mustGUID(user) = %x, want %s", got, want)
	}
}

// TestSchemaGUIDs: the GUIDs the delegation names are the running
// schema's, so the ACEs grant what docs/permissions.md says.
func TestSchemaGUIDs(t *testing.T) {
	env := New(t)
	c := env.Conn(t)
	for name, want := range guids {
		base, filter, attr := "CN=Schema,CN=Configuration,"+env.BaseDN, "(lDAPDisplayName="+name+")", "schemaIDGUID"
		if strings.Contains(name, "-") {
			base, filter, attr = "CN=Extended-Rights,CN=Configuration,"+env.BaseDN, "(cn="+name+")", "rightsGuid"
		}
		res, err := c.Search(ldap.NewSearchRequest(base, ldap.ScopeSingleLevel, ldap.NeverDerefAliases, 0, 0, false,
			filter, []string{attr}, nil))
		if err != nil || len(res.Entries) != 1 {
			t.Errorf("%s: %v, %d entries", name, err, len(res.Entries))
			continue
		}
		got := res.Entries[0].GetAttributeValue(attr)
		if attr == "schemaIDGUID" {
			g := mustGUID(name)
			got = hex.EncodeToString([]byte(res.Entries[0].GetRawAttributeValue(attr)))
			want = hex.EncodeToString(g[:])
		}
		if !strings.EqualFold(got, want) {
			t.Errorf("%s: the schema says %s, the table %s", name, got, want)
		}
	}
}

// TestDelegatedAccount: alm binds, by default, as an account that may do
// alm's work in a test OU and nothing outside the OUs delegated to it;
// delegating twice adds nothing, and Deny takes one right away.
func TestDelegatedAccount(t *testing.T) {
	t.Setenv(EnvBind, "")
	env := New(t)
	if !env.Delegated || env.BindDN != env.DelegatedDN() || env.BindDN == env.AdminDN {
		t.Fatalf("BindDN = %s (delegated %v), want %s", env.BindDN, env.Delegated, env.DelegatedDN())
	}
	ou := env.OU(t)
	tc, err := env.TLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	c := bind(t, env, tc)

	res, err := c.Search(ldap.NewSearchRequest(env.BindDN, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{"memberOf"}, nil))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("read %s as itself: %v", env.BindDN, err)
	}
	if groups := res.Entries[0].GetAttributeValues("memberOf"); len(groups) != 0 {
		t.Errorf("the delegated account is in %v, want no group (its rights are ACEs on the OUs alone)", groups)
	}

	addUser := func(parent string) error {
		name := Unique("dlg-")
		add := ldap.NewAddRequest("CN="+name+","+parent, nil)
		add.Attribute("objectClass", []string{"top", "person", "organizationalPerson", "user"})
		add.Attribute("sAMAccountName", []string{name})
		return c.Add(add)
	}
	if err := addUser(ou); err != nil {
		t.Errorf("create a user in the test OU: %v", err)
	}
	if err := addOU(c, "OU=sub,"+ou); err != nil {
		t.Errorf("create an OU in the test OU: %v", err)
	}
	for _, outside := range []string{"CN=Users," + env.BaseDN, env.BaseDN} {
		if err := addUser(outside); !ldap.IsErrorWithCode(err, ldap.LDAPResultInsufficientAccessRights) {
			t.Errorf("create a user in %s: %v, want insufficient access", outside, err)
		}
	}

	before := explicitACEs(t, env, env.Parent())
	env.Delegate(t, env.Parent())
	if after := explicitACEs(t, env, env.Parent()); after != before {
		t.Errorf("delegating again: %d explicit ACEs, was %d", after, before)
	}

	group := "CN=" + Unique("dlg-") + "," + ou
	add := ldap.NewAddRequest(group, nil)
	add.Attribute("objectClass", []string{"top", "group"})
	add.Attribute("sAMAccountName", []string{Unique("dlg-")})
	if err := c.Add(add); err != nil {
		t.Fatalf("create a group in the test OU: %v", err)
	}
	env.Deny(t, group, WriteProperty("member"))
	mod := ldap.NewModifyRequest(group, nil)
	mod.Add("member", []string{env.BindDN})
	if err := c.Modify(mod); !ldap.IsErrorWithCode(err, ldap.LDAPResultInsufficientAccessRights) {
		t.Errorf("add a member after Deny: %v, want insufficient access", err)
	}
	mod = ldap.NewModifyRequest(group, nil)
	mod.Replace("adminDescription", []string{"still allowed"})
	if err := c.Modify(mod); err != nil {
		t.Errorf("write adminDescription, which Deny left: %v", err)
	}
}

func bind(t *testing.T, env *Env, tc *tls.Config) *ldap.Conn {
	t.Helper()
	c, err := ldap.DialURL(env.URL, ldap.DialWithTLSConfig(tc))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Bind(env.BindDN, env.Password); err != nil {
		t.Fatalf("bind as %s: %v", env.BindDN, err)
	}
	return c
}

func explicitACEs(t *testing.T, env *Env, dn string) int {
	t.Helper()
	res, err := env.Conn(t).Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 0, false,
		"(objectClass=*)", []string{"nTSecurityDescriptor"}, []ldap.Control{sdFlagsDACL}))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("read the DACL of %s: %v", dn, err)
	}
	_, aces, err := parseSD(res.Entries[0].GetRawAttributeValue("nTSecurityDescriptor"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, a := range aces {
		if a.flags&aceInherited == 0 {
			n++
		}
	}
	return n
}
