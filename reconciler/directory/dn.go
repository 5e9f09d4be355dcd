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
