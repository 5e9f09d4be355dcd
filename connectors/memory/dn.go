package memory

import (
	"fmt"
	"strings"
)

// rdn is one component of a distinguished name, its value kept as written
// (escapes included) so that a DN reads back the way it was given.
type rdn struct {
	typ string // upper-case, as AD spells CN, OU, DC
	val string
}

func (r rdn) String() string { return r.typ + "=" + r.val }

// parseDN splits a DN on its unescaped commas. It accepts what AD accepts
// in practice (backslash escapes, spaces around separators) and rejects
// empty components and components without a type.
func parseDN(dn string) ([]rdn, error) {
	if strings.TrimSpace(dn) == "" {
		return nil, fmt.Errorf("empty DN")
	}
	var (
		out  []rdn
		part strings.Builder
	)
	flush := func() error {
		s := part.String()
		part.Reset()
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return fmt.Errorf("component %q has no type=value", strings.TrimSpace(s))
		}
		typ := strings.TrimSpace(s[:eq])
		val := trimValue(s[eq+1:])
		if typ == "" || val == "" {
			return fmt.Errorf("component %q is empty", strings.TrimSpace(s))
		}
		out = append(out, rdn{typ: strings.ToUpper(typ), val: val})
		return nil
	}
	for i := 0; i < len(dn); i++ {
		c := dn[i]
		switch {
		case c == '\\' && i+1 < len(dn):
			part.WriteByte(c)
			i++
			part.WriteByte(dn[i])
		case c == '\\':
			return nil, fmt.Errorf("DN ends in a lone backslash")
		case c == ',':
			if err := flush(); err != nil {
				return nil, err
			}
		default:
			part.WriteByte(c)
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

// trimValue drops unescaped surrounding spaces; a trailing "\ " is kept.
func trimValue(v string) string {
	v = strings.TrimLeft(v, " ")
	for strings.HasSuffix(v, " ") && !strings.HasSuffix(v, "\\ ") {
		v = v[:len(v)-1]
	}
	return v
}

func joinDN(rdns []rdn) string {
	parts := make([]string, len(rdns))
	for i, r := range rdns {
		parts[i] = r.String()
	}
	return strings.Join(parts, ",")
}

// dnKey is the form DNs are compared in: AD compares them case-insensitively.
func dnKey(rdns []rdn) string { return strings.ToLower(joinDN(rdns)) }

// under reports whether key names an object at or below the object base names.
func under(key, base string) bool {
	return key == base || strings.HasSuffix(key, ","+base)
}
