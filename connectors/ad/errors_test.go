package ad

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/alm-project/alm/reconciler/directory"
	"github.com/go-ldap/ldap/v3"
)

func TestTranslate(t *testing.T) {
	ldapErr := func(code uint16, text string) error { return ldap.NewError(code, errors.New(text)) }
	tests := []struct {
		name      string
		op, attr  string
		err       error
		class     error // nil: unclassified
		hint      string
		transient bool
	}{
		{"duplicate sAMAccountName", opAdd, "", ldapErr(68, "samldb: samAccountName 'jdoe' already in use!"),
			directory.ErrExists, "another object already uses this sAMAccountName", false},
		{"duplicate DN", opAdd, "", ldapErr(68, "Entry CN=x,DC=example,DC=test already exists"),
			directory.ErrExists, "an object with this DN already exists", false},
		{"duplicate member (Samba)", opModify, "member", ldapErr(68, "Attribute member already exists for target GUID 1234"),
			directory.ErrExists, "already a member", false},
		{"duplicate member (Windows)", opModify, "member", ldapErr(68, "00000562: UpdErr: DSID-031A11C4, problem 6005 (ENTRY_EXISTS), data 0"),
			directory.ErrExists, "already a member", false},
		{"duplicate userPrincipalName", opAdd, "", ldapErr(19, "0000202F: samldb: userPrincipalName 'x@example.test' is already in use"),
			directory.ErrExists, "userPrincipalName", false},
		{"manager does not exist", opModify, "manager", ldapErr(19, "000020B5: Referenced object not found at extended_dn_store.c:357"),
			directory.ErrConstraint, "manager", false},
		{"value exists", opModify, "mail", ldapErr(20, "attribute mail: value #0 provided more than once"),
			directory.ErrExists, "already holds this value", false},
		{"missing parent", opAdd, "", ldapErr(32, "objectclass: Cannot add CN=x,OU=nope,DC=example,DC=test, parent does not exist!"),
			directory.ErrNoSuchObject, "create the OU or fix the template's ou", false},
		{"missing new parent on move (Windows)", opModRDN, "", ldapErr(32, "0000208D: NameErr: DSID-03100241, problem 2001 (NO_OBJECT)"),
			directory.ErrNoSuchObject, "create the OU", false},
		{"missing new parent on move (Samba)", opModRDN, "", ldapErr(80, "00002095: objectclass: Cannot rename CN=x,DC=example,DC=test, parent does not exist!"),
			directory.ErrNoSuchObject, "create the OU", false},
		{"modify of a deleted object", opModify, "mail", ldapErr(32, "ldb_modify: no such object"),
			directory.ErrNoSuchObject, "plan again", false},
		{"non-member removal (Samba)", opModify, "member", ldapErr(53, "Attribute member doesn't exist for target GUID 1234"),
			directory.ErrNoSuchObject, "not a member", false},
		{"removal of a member removed before (Samba)", opModify, "member", ldapErr(53, "Attribute member already deleted for target GUID 1234"),
			directory.ErrNoSuchObject, "not a member", false},
		{"non-member removal (Windows)", opModify, "member", ldapErr(53, "00000561: SvcErr: DSID-031A1256, problem 5003 (WILL_NOT_PERFORM), data 0"),
			directory.ErrNoSuchObject, "not a member", false},
		{"no such attribute value", opModify, "member", ldapErr(16, "no such attribute"),
			directory.ErrNoSuchObject, "not a member", false},
		{"weak password", opModify, "unicodePwd", ldapErr(19, "0000052D: Constraint violation - check_password_restrictions: the password is too short. It should be equal or longer than 7 characters!"),
			directory.ErrWeakPassword, "password policy", false},
		{"weak password as unwilling", opModify, "unicodePwd", ldapErr(53, "0000052D: SvcErr: DSID-031A12D2, problem 5003 (WILL_NOT_PERFORM)"),
			directory.ErrWeakPassword, "password policy", false},
		{"other constraint", opModify, "title", ldapErr(19, "attribute title: value too long"),
			directory.ErrConstraint, "constraint", false},
		{"password over plain LDAP", opModify, "unicodePwd", ldapErr(53, "0000001F: SvcErr: DSID-031A12D2, problem 5003 (WILL_NOT_PERFORM)"),
			nil, "use ldaps:// or StartTLS", false},
		{"old RDN kept", opModRDN, "", ldapErr(53, "Old RDN must be deleted"),
			nil, "refused", false},
		// Insufficient access: the hint names the right and how to grant it.
		{"may not create users (Windows)", opAdd, classAttr + "user", ldapErr(50, "00002098: SecErr: DSID-03150F94, problem 4003 (INSUFF_ACCESS_RIGHTS)"),
			directory.ErrAccessDenied, `create user objects in DC=example,DC=test: grant it Create/Delete user objects there (dsacls "DC=example,DC=test" /I:T /G "DOMAIN\alm:CCDC;user")`, false},
		{"may not create groups (Samba)", opAdd, classAttr + "group", ldapErr(50, "acl: unable to get access to CN=x,DC=example,DC=test"),
			directory.ErrAccessDenied, `"DOMAIN\alm:CCDC;group"`, false},
		{"may not create OUs", opAdd, classAttr + "organizationalUnit", ldapErr(50, "acl: unable to get access to OU=x"),
			directory.ErrAccessDenied, "Create/Delete organizationalUnit objects", false},
		{"may not read", opSearch, "", ldapErr(50, "access denied"),
			directory.ErrAccessDenied, `may not read CN=x,DC=example,DC=test: grant it Read there (dsacls "CN=x,DC=example,DC=test" /I:T /G "DOMAIN\alm:GR")`, false},
		{"may not delete", opDelete, "", ldapErr(50, "acl: unable to get access"),
			directory.ErrAccessDenied, `may not delete CN=x,DC=example,DC=test`, false},
		{"may not rename (Samba)", opModRDN, "", ldapErr(50, "00002098: Object CN=x has no wp on name"),
			directory.ErrAccessDenied, `"DOMAIN\alm:WP;name;user"`, false},
		{"may not write member (Samba)", opModify, "member", ldapErr(50, "00002098: Object CN=x has no write property access"),
			directory.ErrAccessDenied, `may not change the members of CN=x,DC=example,DC=test: grant it Write member on that group (dsacls "CN=x,DC=example,DC=test" /G "DOMAIN\alm:WP;member")`, false},
		{"may not reset passwords (Samba)", opModify, markerAttr + "unicodePwd", ldapErr(50, "error in module acl: insufficient access rights during LDB_MODIFY (50)"),
			directory.ErrAccessDenied, `may not reset passwords in DC=example,DC=test: grant it Reset Password on user objects there (dsacls "DC=example,DC=test" /I:S /G "DOMAIN\alm:CA;Reset Password;user")`, false},
		{"may not write an attribute", opModify, markerAttr + "title", ldapErr(50, "00002098: Object CN=x has no write property access"),
			directory.ErrAccessDenied, `"DOMAIN\alm:WP;title;user") (and on the marker attribute`, false},
		{"may not write attributes", opModify, markerAttr, ldapErr(50, "00002098: Object CN=x has no write property access"),
			directory.ErrAccessDenied, "Write Property on each of them", false},
		{"non-empty OU", opDelete, "", ldapErr(66, "subtree_delete: Unable to delete a non-leaf node (it has 1 children)!"),
			directory.ErrNotEmpty, "move or delete them first", false},
		{"bad syntax", opModify, "accountExpires", ldapErr(21, "accountExpires: value is not an integer"),
			directory.ErrInvalidSyntax, "does not have the form", false},
		{"bad DN", opAdd, "", ldapErr(34, "Invalid DN syntax"),
			directory.ErrInvalidSyntax, "DN is malformed", false},
		{"unknown attribute (Samba)", opModify, "almMarker", ldapErr(16, "acl_modify: attribute 'almMarker' on entry 'CN=x' was not found in the schema!"),
			directory.ErrInvalidSyntax, "marker attribute", false},
		{"unknown attribute", opModify, "almMarker", ldapErr(17, "attribute 'almMarker' not found in schema"),
			directory.ErrInvalidSyntax, "marker attribute", false},
		{"object class violation", opModify, "ou", ldapErr(65, "objectclass_attrs: attribute 'ou' on entry is not allowed"),
			directory.ErrConstraint, "class", false},
		{"wrong password", opBind, "", ldapErr(49, "80090308: LdapErr: DSID-0C09041C, comment: AcceptSecurityContext error, data 52e, v4563"),
			directory.ErrAuth, "check the bind DN and password", false},
		{"strong auth required", opBind, "", ldapErr(8, "BindSimple: Transport encryption required."),
			directory.ErrAuth, "requires TLS", false},
		{"busy", opModify, "", ldapErr(51, "busy"), directory.ErrUnavailable, "try again later", true},
		{"unavailable", opModify, "", ldapErr(52, "unavailable"), directory.ErrUnavailable, "try again later", true},
		{"connection lost", opModify, "", ldapErr(ldap.ErrorNetwork, "ldap: connection closed"), directory.ErrUnavailable, "try again later", true},
		{"timeout", opSearch, "", ldapErr(ldap.ErrorNetwork, "ldap: connection timed out"), directory.ErrUnavailable, "try again later", true},
		{"dial refused", opBind, "", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")},
			directory.ErrUnavailable, "try again later", true},
		{"untrusted certificate", opBind, "", ldap.NewError(ldap.ErrorNetwork, x509.UnknownAuthorityError{}),
			nil, "certificate is not trusted", false},
		{"referral", opSearch, "", ldapErr(10, "ldap://example.test/CN=Configuration"), nil, "outside", false},
		{"other", opModify, "", ldapErr(80, "something odd"), nil, "unexpected", false},
		// A modify that checks the marker (see Directory.modify).
		{"marker changed (Samba)", opModify, markerAttr + "title", ldapErr(16, "attribute 'adminDescription': no matching attribute value while deleting attribute on 'CN=x'"),
			directory.ErrChanged, "no longer carries the ownership marker", false},
		{"marker changed (Windows)", opModify, markerAttr, ldapErr(16, "00002085: AttrErr: DSID-03151F81, #1: 0: 00002085: DSID-03151F81, problem 1001 (NO_ATTRIBUTE_OR_VAL), data 0, Att 20014 (adminDescription)"),
			directory.ErrChanged, "plan again", false},
		{"marker checked, password refused", opModify, markerAttr + "unicodePwd", ldapErr(19, "0000052D: Constraint violation - check_password_restrictions"),
			directory.ErrWeakPassword, "password policy", false},
		{"marker checked, connection lost", opModify, markerAttr + "title", ldapErr(ldap.ErrorNetwork, "ldap: connection closed"),
			directory.ErrUnavailable, "try again later", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := translate(tt.op, "CN=x,DC=example,DC=test", tt.attr, tt.err)
			var de *directory.Error
			if !errors.As(err, &de) {
				t.Fatalf("translate = %T %v, want *directory.Error", err, err)
			}
			if de.Class != tt.class {
				t.Errorf("Class = %v, want %v", de.Class, tt.class)
			}
			if tt.class != nil && !errors.Is(err, tt.class) {
				t.Errorf("errors.Is(err, %v) = false", tt.class)
			}
			if !strings.Contains(de.Hint, tt.hint) {
				t.Errorf("Hint = %q, want it to contain %q", de.Hint, tt.hint)
			}
			if de.Detail == "" {
				t.Error("Detail is empty, want the server's words")
			}
			if de.Op != tt.op || de.DN != "CN=x,DC=example,DC=test" {
				t.Errorf("Op, DN = %q, %q; want %q and the DN", de.Op, de.DN, tt.op)
			}
			if got := directory.Transient(err); got != tt.transient {
				t.Errorf("Transient = %v, want %v", got, tt.transient)
			}
		})
	}
}

// TestDialError: what dialling says of a directory that cannot be reached.
func TestDialError(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		class     error
		hint      string
		transient bool
	}{
		{"name does not resolve", &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "dc1.nowhere", IsNotFound: true}},
			directory.ErrUnreachable, "does not resolve", false},
		{"DNS timed out", &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "i/o timeout", Name: "dc1", IsTimeout: true}},
			directory.ErrUnavailable, "no LDAP answer", true},
		{"connection refused", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")},
			directory.ErrUnavailable, "no LDAP answer", true},
		{"untrusted certificate", &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}},
			nil, "not trusted", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := dialError("ldaps://dc1:636", "dc1:636", tt.err)
			var de *directory.Error
			if !errors.As(err, &de) || de.Class != tt.class || !strings.Contains(de.Hint, tt.hint) || directory.Transient(err) != tt.transient {
				t.Errorf("dialError = %v (class %v), want class %v, hint with %q, transient %v", err, de.Class, tt.class, tt.hint, tt.transient)
			}
		})
	}
}

func TestTranslateNil(t *testing.T) {
	if err := translate(opAdd, "CN=x", "", nil); err != nil {
		t.Errorf("translate(nil) = %v, want nil", err)
	}
}

func TestDetailKeepsServerText(t *testing.T) {
	err := translate(opAdd, "CN=x", "", ldap.NewError(68, errors.New("samAccountName 'jdoe' already in use")))
	want := "LDAP 68 (Entry Already Exists): samAccountName 'jdoe' already in use"
	if got := err.(*directory.Error).Detail; got != want {
		t.Errorf("Detail = %q, want %q", got, want)
	}
}

func TestTrustee(t *testing.T) {
	tests := []struct{ name, account, want string }{
		{"unknown", "", `DOMAIN\alm`},
		{"down-level name", `EXAMPLE\svc-alm`, `EXAMPLE\svc-alm`},
		{"user principal name", "svc-alm@example.test", "svc-alm@example.test"},
		{"DN", "CN=svc-alm,OU=Service Accounts,DC=example,DC=test", `DOMAIN\svc-alm`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := trustee(tt.account); got != tt.want {
				t.Errorf("trustee(%q) = %q, want %q", tt.account, got, tt.want)
			}
		})
	}
}
