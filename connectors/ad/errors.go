package ad

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/alm-project/alm/reconciler/directory"
	"github.com/go-ldap/ldap/v3"
)

// LDAP operations, as directory.Error.Op names them.
const (
	opBind   = "bind"
	opSearch = "search"
	opAdd    = "add"
	opModify = "modify"
	opModRDN = "modrdn"
	opDelete = "delete"
)

// AD's extended error codes, which it puts at the start of the server text.
const (
	adBadPassword      = "0000052D" // ERROR_PASSWORD_RESTRICTION
	adMemberInGroup    = "00000562" // ERROR_MEMBER_IN_GROUP
	adMemberNotFound   = "00000561" // ERROR_MEMBER_NOT_IN_GROUP
	adReferenceMissing = "000020B5" // a DN value names no object
)

// markerAttr prefixes the attr translate is given for a modify that checks
// the ownership marker in the same request (deleting and adding its value):
// the server's "no such attribute" then means the object is no longer the
// one read.
const markerAttr = "\x00marker:"

const schemaHint = "the directory's schema has no such attribute: check the attribute names (and the marker attribute) in the settings"

// classAttr prefixes the attr translate is given for an add: the class of
// the object added, which an insufficient-access hint names.
const classAttr = "\x00class:"

// translate turns a go-ldap error into a *directory.Error that says which
// class it is and what to do. attr names the attribute being changed, when
// one is (it sharpens the hint).
func translate(op, dn, attr string, err error) error {
	return translateAs("", op, dn, attr, err)
}

// translateAs is translate for a connection bound as account (the bind
// DN or name), which a hint naming a missing right grants it to.
func translateAs(account, op, dn, attr string, err error) error {
	if err == nil {
		return nil
	}
	e := &directory.Error{Op: op, DN: dn}
	var le *ldap.Error
	if !errors.As(err, &le) {
		e.Detail = err.Error()
		if isCertificate(err) {
			e.Hint = "the server's certificate is not trusted: check the CA file and the server name"
		} else {
			e.Class = directory.ErrUnavailable
			e.Hint = "could not reach the directory: transient, try again later"
		}
		return e
	}
	e.Detail = detail(le)
	class := ""
	if rest, ok := strings.CutPrefix(attr, classAttr); ok {
		class, attr = rest, ""
	}
	marked := false
	if rest, ok := strings.CutPrefix(attr, markerAttr); ok {
		marked = true
		attr = rest
		if le.ResultCode == ldap.LDAPResultNoSuchAttribute {
			e.Class = directory.ErrChanged
			e.Hint = "the object no longer carries the ownership marker the plan was made with: someone changed or replaced it; nothing was written: plan again"
			return e
		}
	}
	text := strings.ToLower(e.Detail)
	has := func(s string) bool { return strings.Contains(text, strings.ToLower(s)) }
	member := strings.EqualFold(attr, "member") || has("attribute member")

	// Some answers are known by their text rather than their code: Samba
	// says 80 (other) for a rename into a missing OU, 16 (no such
	// attribute) for an attribute missing from the schema, 19 (constraint)
	// for a taken userPrincipalName and for a manager that does not exist.
	switch {
	case has("already in use") && has("userprincipalname"):
		e.Class = directory.ErrExists
		e.Hint = "another object already uses this userPrincipalName; change one of them"
		return e
	case has(adReferenceMissing) || has("referenced object not found"):
		e.Class = directory.ErrConstraint
		e.Hint = "a DN-valued attribute (such as manager) names an object that does not exist: check the account it points to"
		return e
	case has("parent does not exist"):
		e.Class = directory.ErrNoSuchObject
		e.Hint = "the parent does not exist: create the OU or fix the template's ou"
		return e
	case le.ResultCode == ldap.LDAPResultNoSuchAttribute && has("schema"):
		e.Class = directory.ErrInvalidSyntax
		e.Hint = schemaHint
		return e
	}

	switch le.ResultCode {
	case ldap.LDAPResultEntryAlreadyExists, ldap.LDAPResultAttributeOrValueExists:
		e.Class = directory.ErrExists
		switch {
		case member || has(adMemberInGroup):
			e.Hint = "the account is already a member of this group"
		case has("samaccountname"):
			e.Hint = "another object already uses this sAMAccountName; rename one of them"
		case has("userprincipalname"):
			e.Hint = "another object already uses this userPrincipalName; change one of them"
		case le.ResultCode == ldap.LDAPResultAttributeOrValueExists:
			e.Hint = "the attribute already holds this value"
		default:
			e.Hint = "an object with this DN already exists; rename the new one or remove the old one"
		}
	case ldap.LDAPResultNoSuchObject:
		e.Class = directory.ErrNoSuchObject
		switch op {
		case opAdd:
			e.Hint = "the parent does not exist: create the OU or fix the template's ou"
		case opModRDN:
			e.Hint = "the object or the new parent does not exist: create the OU or fix the template's ou, then plan again"
		case opBind:
			e.Hint = "check the bind DN"
		default:
			e.Hint = "the object, or one an attribute of it names (such as manager), is not there: check it and plan again"
		}
		if member {
			e.Hint = "the group or the member does not exist: check the role's group names, then plan again"
		}
	case ldap.LDAPResultNoSuchAttribute:
		e.Class = directory.ErrNoSuchObject
		e.Hint = "the attribute or value is not there: plan again"
		if member {
			e.Hint = "the account is not a member of this group"
		}
	case ldap.LDAPResultConstraintViolation:
		if has(adBadPassword) {
			e.Class = directory.ErrWeakPassword
			e.Hint = "the domain's password policy refused the generated password: check its length, complexity and history settings"
			break
		}
		e.Class = directory.ErrConstraint
		e.Hint = "a value breaks a constraint of the directory (length, range, single value, uniqueness): fix it in the account's file"
	case ldap.LDAPResultUnwillingToPerform:
		// AD says 53 for several different things; only a few have a class.
		switch {
		case has(adBadPassword):
			e.Class = directory.ErrWeakPassword
			e.Hint = "the domain's password policy refused the generated password: check its length, complexity and history settings"
		case has(adMemberNotFound) || (member && (has("doesn't exist") || has("already deleted"))):
			e.Class = directory.ErrNoSuchObject
			e.Hint = "the account is not a member of this group"
		case has("unicodePwd") || has("0000001F"):
			e.Hint = "the directory refuses to set passwords on this connection: use ldaps:// or StartTLS"
		default:
			e.Hint = "the directory refused the operation; the detail says why"
		}
	case ldap.LDAPResultInsufficientAccessRights:
		e.Class = directory.ErrAccessDenied
		e.Hint = deniedHint(trustee(account), op, dn, attr, class, marked)
	case ldap.LDAPResultNotAllowedOnNonLeaf:
		e.Class = directory.ErrNotEmpty
		e.Hint = "the object still holds other objects: move or delete them first"
	case ldap.LDAPResultInvalidAttributeSyntax, ldap.LDAPResultInvalidDNSyntax,
		ldap.LDAPResultUndefinedAttributeType, ldap.LDAPResultNamingViolation:
		e.Class = directory.ErrInvalidSyntax
		switch le.ResultCode {
		case ldap.LDAPResultUndefinedAttributeType:
			e.Hint = schemaHint
		case ldap.LDAPResultInvalidDNSyntax, ldap.LDAPResultNamingViolation:
			e.Hint = "the DN is malformed or names the wrong kind of parent: check the template's ou and the account's name"
		default:
			e.Hint = "a value does not have the form the directory expects: fix it in the account's file"
		}
	case ldap.LDAPResultObjectClassViolation, ldap.LDAPResultNotAllowedOnRDN:
		e.Class = directory.ErrConstraint
		e.Hint = "the change does not fit the object's class or its naming attribute: check the attribute names"
	case ldap.LDAPResultInvalidCredentials:
		e.Class = directory.ErrAuth
		e.Hint = "check the bind DN and password (" + EnvBindDN + ", " + EnvBindPasswordFile + "); AD's data code says why: 52e wrong password, 533 disabled, 701/532 expired, 775 locked out"
	case ldap.LDAPResultInappropriateAuthentication, ldap.LDAPResultStrongAuthRequired,
		ldap.LDAPResultConfidentialityRequired:
		e.Class = directory.ErrAuth
		e.Hint = "the directory requires TLS for simple binds: use ldaps:// or StartTLS"
	case ldap.LDAPResultBusy, ldap.LDAPResultUnavailable, ldap.LDAPResultTimeLimitExceeded,
		ldap.LDAPResultServerDown, ldap.LDAPResultTimeout, ldap.LDAPResultConnectError,
		ldap.ErrorNetwork:
		if isCertificate(le) {
			e.Hint = "the server's certificate is not trusted: check the CA file and the server name"
			break
		}
		e.Class = directory.ErrUnavailable
		e.Hint = "the directory is busy or unreachable: transient, try again later"
	case ldap.LDAPResultReferral:
		e.Hint = "the DN lies outside this domain controller's domain: check the base DN and OUs"
	default:
		e.Hint = "unexpected directory error; the detail says what the server answered"
	}
	return e
}

// dialError classes an error of making a connection: a name that does not
// resolve is not worth dialling again; a refused, reset or timed-out
// connection may be (a restarting DC); a certificate is not trusted.
func dialError(url, host string, err error) error {
	e := &directory.Error{Op: opBind, DN: url, Detail: err.Error()}
	var dns *net.DNSError
	switch {
	case isCertificate(err):
		e.Hint = "the server's certificate is not trusted: check the CA file (--ca-file) and the server name (--tls-server-name)"
	case errors.As(err, &dns) && !dns.IsTimeout && !dns.IsTemporary:
		e.Class = directory.ErrUnreachable
		e.Hint = fmt.Sprintf("the host name in %s does not resolve: check the URL and this machine's DNS", url)
	default:
		e.Class = directory.ErrUnavailable
		e.Hint = fmt.Sprintf("no LDAP answer from %s: check the URL's host and port, the firewall, and that the DC is up", host)
	}
	return e
}

// detail is the server's answer: the result code and its own text.
func detail(le *ldap.Error) string {
	s := fmt.Sprintf("LDAP %d (%s)", le.ResultCode, ldap.LDAPResultCodeMap[le.ResultCode])
	if le.Err != nil {
		if msg := strings.TrimRight(le.Err.Error(), "\x00 \n"); msg != "" {
			s += ": " + msg
		}
	}
	return s
}

func isCertificate(err error) bool {
	var unknown x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	return errors.As(err, &unknown) || errors.As(err, &hostname) ||
		errors.As(err, &invalid) || errors.As(err, &verify)
}

// deniedHint names the right whose absence made the server answer
// insufficientAccessRights (50) to op on dn, with the dsacls command that
// grants it (docs/permissions.md gives the PowerShell and samba-tool
// forms). attr is the attribute written, "" when several were; class the
// class added; marked, that the write also rewrote the marker attribute.
func deniedHint(who, op, dn, attr, class string, marked bool) string {
	parent := parentDN(dn)
	if parent == "" {
		parent = dn
	}
	const doc = "; docs/permissions.md lists every right alm needs"
	switch op {
	case opSearch:
		return fmt.Sprintf("the bind account may not read %s: grant it Read there (dsacls \"%s\" /I:T /G \"%s\")%s",
			dn, dn, who+":GR", doc)
	case opAdd:
		if class == "" {
			class = "user"
		}
		return fmt.Sprintf("the bind account may not create %s objects in %s: grant it Create/Delete %s objects there (dsacls \"%s\" /I:T /G \"%s\")%s",
			class, parent, class, parent, who+":CCDC;"+class, doc)
	case opDelete:
		return fmt.Sprintf("the bind account may not delete %s: grant it Delete user and group objects in %s (dsacls \"%s\" /I:T /G \"%s\")%s",
			dn, parent, parent, who+":CCDC;user", doc)
	case opModRDN:
		return fmt.Sprintf("the bind account may not rename or move %s: grant it Write name and cn on user and group objects in %s (dsacls \"%s\" /I:S /G \"%s\" \"%s\"), and Create/Delete on both OUs of a move%s",
			dn, parent, parent, who+":WP;name;user", who+":WP;cn;user", doc)
	}
	switch {
	case strings.EqualFold(attr, attrMember):
		return fmt.Sprintf("the bind account may not change the members of %s: grant it Write member on that group (dsacls \"%s\" /G \"%s\"), or on the group objects of its OU%s",
			dn, dn, who+":WP;member", doc)
	case strings.EqualFold(attr, attrUnicodePwd):
		return fmt.Sprintf("the bind account may not reset passwords in %s: grant it Reset Password on user objects there (dsacls \"%s\" /I:S /G \"%s\")%s",
			parent, parent, who+":CA;Reset Password;user", doc)
	case attr == "":
		return fmt.Sprintf("the bind account may not write the attributes alm owns on %s: grant it Write Property on each of them, on user objects in %s%s",
			dn, parent, doc)
	}
	also := ""
	if marked {
		also = " (and on the marker attribute, which the same write checks)"
	}
	return fmt.Sprintf("the bind account may not write %s on %s: grant it Write %s on user objects in %s (dsacls \"%s\" /I:S /G \"%s\")%s%s",
		attr, dn, attr, parent, parent, who+":WP;"+attr+";user", also, doc)
}

// trustee is how dsacls names the bind account: as given when it is a
// DOMAIN\name or user@domain; from a DN, its first RDN's value after
// DOMAIN\, which the reader completes.
func trustee(account string) string {
	switch {
	case account == "":
		return `DOMAIN\alm`
	case strings.Contains(account, `\`), strings.Contains(account, "@") && !strings.Contains(account, "="):
		return account
	}
	if _, value, _, err := splitDN(account); err == nil {
		return `DOMAIN\` + value
	}
	return account
}
