package ad

import (
	"errors"
	"fmt"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// RDN builds one escaped relative DN, as in RDN("CN", "Doe, Jane") =
// `CN=Doe\, Jane` (RFC 4514).
func RDN(attr, value string) string {
	return attr + "=" + ldap.EscapeDN(value)
}

// splitDN returns a DN's first RDN exactly as written, that RDN's value
// unescaped, and the parent DN.
func splitDN(dn string) (rdn, value, parent string, err error) {
	parsed, err := ldap.ParseDN(dn)
	if err != nil {
		return "", "", "", fmt.Errorf("DN %q: %w", dn, err)
	}
	if len(parsed.RDNs) < 2 {
		return "", "", "", fmt.Errorf("DN %q has no parent", dn)
	}
	if len(parsed.RDNs[0].Attributes) != 1 {
		return "", "", "", fmt.Errorf("DN %q: multi-valued RDNs are not supported", dn)
	}
	value = parsed.RDNs[0].Attributes[0].Value
	// Cut the written text rather than re-encode the parsed one, so the
	// name keeps the spelling (and escaping) it was given.
	quoted := false
	for i := 0; i < len(dn); i++ {
		switch dn[i] {
		case '\\':
			i++ // the escaped character (or the first of two hex digits)
		case '"':
			quoted = !quoted
		case ',', ';':
			if !quoted {
				return strings.TrimSpace(dn[:i]), value, strings.TrimSpace(dn[i+1:]), nil
			}
		}
	}
	return "", "", "", errors.New("DN " + dn + " has no parent")
}
