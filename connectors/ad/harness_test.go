package ad_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"testing"

	"github.com/alm-project/alm/connectors/ad/adtest"
	"github.com/go-ldap/ldap/v3"
)

// TestHarness proves the test directory itself: LDAPS verified against the
// script's CA, and a user created, read back and deleted in a fresh OU.
func TestHarness(t *testing.T) {
	env := adtest.New(t)

	t.Run("certificate from another CA is refused", func(t *testing.T) {
		tc := &tls.Config{RootCAs: x509.NewCertPool(), ServerName: env.ServerName}
		c, err := ldap.DialURL(env.URL, ldap.DialWithTLSConfig(tc))
		if err == nil {
			c.Close()
			t.Fatal("dial with an empty CA pool succeeded: the server certificate is not being verified")
		}
		var unknown x509.UnknownAuthorityError
		if !errors.As(err, &unknown) {
			t.Errorf("dial error = %v, want x509.UnknownAuthorityError", err)
		}
	})

	c := env.Conn(t)
	ou := env.OU(t)
	dn := "CN=Harness User," + ou

	add := ldap.NewAddRequest(dn, nil)
	add.Attribute("objectClass", []string{"top", "person", "organizationalPerson", "user"})
	add.Attribute("sAMAccountName", []string{"harness-user"})
	add.Attribute("givenName", []string{"Harness"})
	if err := c.Add(add); err != nil {
		t.Fatalf("add %s: %v", dn, err)
	}

	res, err := c.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=user)", []string{"sAMAccountName", "givenName", "objectGUID"}, nil))
	if err != nil {
		t.Fatalf("search %s: %v", dn, err)
	}
	if len(res.Entries) != 1 {
		t.Fatalf("search %s: %d entries, want 1", dn, len(res.Entries))
	}
	e := res.Entries[0]
	if got := e.GetAttributeValue("sAMAccountName"); got != "harness-user" {
		t.Errorf("sAMAccountName = %q, want harness-user", got)
	}
	if got := e.GetAttributeValue("givenName"); got != "Harness" {
		t.Errorf("givenName = %q, want Harness", got)
	}
	if got := len(e.GetRawAttributeValue("objectGUID")); got != 16 {
		t.Errorf("objectGUID is %d bytes, want 16", got)
	}

	if err := c.Del(ldap.NewDelRequest(dn, nil)); err != nil {
		t.Fatalf("delete %s: %v", dn, err)
	}
	_, err = c.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{"dn"}, nil))
	if !ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
		t.Errorf("search after delete: %v, want No Such Object", err)
	}
}
