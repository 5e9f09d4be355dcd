package desired

import (
	"strings"

	"github.com/alm-project/alm/reconciler/directory"
)

// escapeRDN escapes an attribute value for use in a DN (RFC 4514 section
// 2.4). connectors/ad exports the same rule as ad.RDN; the reconciler does
// not import connectors, so it keeps its own copy of this small function.
func escapeRDN(v string) string {
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

// cleanDN drops the spaces people put after commas and around '=' in
// alm.yaml ("OU=ALM, DC=example"), so that DNs compare equal to the ones
// the directory returns. Escaped characters are kept as written.
func cleanDN(dn string) string {
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

// underDN joins an OU written relative to the base DN ("OU=People") to it.
// An OU already written in full (ending in the base DN) is kept as it is.
func underDN(ou, base string) string {
	ou, base = cleanDN(ou), cleanDN(base)
	switch {
	case ou == "":
		return base
	case directory.Under(ou, base):
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
