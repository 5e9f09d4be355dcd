package directory

import (
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// DNs are compared here, and only here, the way the directory compares
// them: attribute types and values without regard to case, and values
// however they are escaped ("CN=Doe\, Jane" is "CN=Doe\2C Jane"). The
// spelling that matches text for text is tried first: it is by far the
// usual case, and parsing is not free at 100,000 accounts.

// SameDN reports whether a and b name the same object.
func SameDN(a, b string) bool {
	if strings.EqualFold(a, b) {
		return true
	}
	pa, errA := ldap.ParseDN(a)
	pb, errB := ldap.ParseDN(b)
	if errA != nil || errB != nil {
		return false
	}
	return pa.EqualFold(pb)
}

// Under reports whether dn is base or an object below it.
func Under(dn, base string) bool {
	if base == "" {
		return false
	}
	ld, lb := strings.ToLower(dn), strings.ToLower(base)
	if ld == lb || strings.HasSuffix(ld, ","+lb) {
		return true
	}
	pd, errD := ldap.ParseDN(dn)
	pb, errB := ldap.ParseDN(base)
	if errD != nil || errB != nil || len(pb.RDNs) > len(pd.RDNs) {
		return false
	}
	tail := &ldap.DN{RDNs: pd.RDNs[len(pd.RDNs)-len(pb.RDNs):]}
	return tail.EqualFold(pb)
}

// EscapeValue escapes an attribute value for use in a DN (RFC 4514
// section 2.4), as go-ldap's EscapeDN does, but leaving non-ASCII as it
// is, as Active Directory writes DNs back.
func EscapeValue(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == ',' || c == '+' || c == '"' || c == '\\' || c == '<' || c == '>' || c == ';' || c == '=':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == 0:
			b.WriteString(`\00`)
		case (c == ' ' || c == '#') && i == 0:
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == ' ' && i == len(v)-1:
			b.WriteString(`\ `)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Clean drops the spaces people put after commas and around '=' in
// alm.yaml ("OU=ALM, DC=example"), so that DNs compare equal to the ones
// the directory returns. Escaped characters are kept as written.
func Clean(dn string) string {
	var parts []string
	var part strings.Builder
	flush := func() {
		s := part.String()
		part.Reset()
		if eq := strings.IndexByte(s, '='); eq > 0 {
			s = strings.TrimSpace(s[:eq]) + "=" + trimValue(s[eq+1:])
		} else {
			s = strings.TrimSpace(s)
		}
		if s != "" {
			parts = append(parts, s)
		}
	}
	for i := 0; i < len(dn); i++ {
		switch c := dn[i]; {
		case c == '\\' && i+1 < len(dn):
			part.WriteByte(c)
			i++
			part.WriteByte(dn[i])
		case c == ',':
			flush()
		default:
			part.WriteByte(c)
		}
	}
	flush()
	return strings.Join(parts, ",")
}

// trimValue drops unescaped surrounding spaces; a trailing "\ " is kept.
func trimValue(v string) string {
	v = strings.TrimLeft(v, " ")
	for strings.HasSuffix(v, " ") && !strings.HasSuffix(v, `\ `) {
		v = v[:len(v)-1]
	}
	return v
}

// Join joins an OU written relative to the base DN ("OU=People") to it.
// An OU already written in full (ending in the base DN) is kept as it is.
func Join(ou, base string) string {
	ou, base = Clean(ou), Clean(base)
	switch {
	case ou == "":
		return base
	case Under(ou, base):
		return ou
	}
	return ou + "," + base
}

// Parent returns the DN of the object holding dn: the DN less its first RDN.
func Parent(dn string) string {
	for i := 0; i < len(dn); i++ {
		switch dn[i] {
		case '\\':
			i++
		case ',':
			return dn[i+1:]
		}
	}
	return ""
}

// FirstValue is the value of a DN's first RDN, unescaped ("Doe, Jane" for
// CN=Doe\, Jane,OU=People,...); "" when the DN does not parse.
func FirstValue(dn string) string {
	p, err := ldap.ParseDN(dn)
	if err != nil || len(p.RDNs) == 0 || len(p.RDNs[0].Attributes) == 0 {
		return ""
	}
	return p.RDNs[0].Attributes[0].Value
}

// Relative writes dn without base, as alm.yaml and templates write OUs
// ("OU=People,OU=ALM"); a DN not below base is returned whole.
func Relative(dn, base string) string {
	for p := dn; p != ""; p = Parent(p) {
		if up := Parent(p); up != "" && SameDN(up, base) {
			return dn[:len(dn)-len(up)-1] // Parent returns a tail of dn
		}
	}
	return dn
}
