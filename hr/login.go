package hr

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// MaxLogin is the longest login: AD's sAMAccountName.
const MaxLogin = 20

// part is one piece of a login rule: a literal, or a name cut to n
// characters (0: all of it).
type part struct {
	literal string
	name    string // "given" or "surname"
	n       int
}

// parseRule reads "{given:1}{surname}", "{given}.{surname}" and the like.
func parseRule(s string) ([]part, error) {
	var out []part
	names := 0
	for s != "" {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			out, s = append(out, part{literal: s}), ""
			break
		}
		if i > 0 {
			out = append(out, part{literal: s[:i]})
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return nil, fmt.Errorf("%q: a { without its }", s)
		}
		name, n, cut := strings.Cut(s[i+1:i+j], ":")
		p := part{name: name}
		if name != "given" && name != "surname" {
			return nil, fmt.Errorf("{%s}: a login rule names {given} or {surname}, optionally cut: {given:1}", s[i+1:i+j])
		}
		if cut {
			v, err := strconv.Atoi(n)
			if err != nil || v < 1 {
				return nil, fmt.Errorf("{%s}: the number after : is how many letters to keep (1 or more)", s[i+1:i+j])
			}
			p.n = v
		}
		out, names = append(out, p), names+1
		s = s[i+j+1:]
	}
	if names == 0 {
		return nil, fmt.Errorf("a login rule needs {given} or {surname}")
	}
	for _, p := range out {
		if p.literal != "" && clean(p.literal) != p.literal {
			return nil, fmt.Errorf("%q: between names a rule may write only a-z, 0-9, '.', '-' and '_'", p.literal)
		}
	}
	return out, nil
}

// special are letters Unicode does not decompose into a base letter and
// marks, written as identity systems usually write them.
var special = strings.NewReplacer("ß", "ss", "æ", "ae", "Æ", "ae", "ø", "o", "Ø", "o", "œ", "oe", "Œ", "oe",
	"đ", "d", "Đ", "d", "ł", "l", "Ł", "l", "þ", "th", "Þ", "th", "ð", "d", "Ð", "d", "ı", "i")

// clean transliterates s to lower-case a-z, digits, '.', '-' and '_':
// marks dropped (é -> e), the special letters spelled out, anything else
// (spaces, apostrophes) left out.
func clean(s string) string {
	s = special.Replace(s)
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	s, _, _ = transform.String(t, s)
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// login makes a login by the rule from a person's names, unique among
// taken: the base cut to MaxLogin, else the base cut shorter with 2, 3, ...
// appended. It returns "" when the names leave nothing to make one of.
func login(rule []part, given, surname string, taken func(string) bool) string {
	var b strings.Builder
	for _, p := range rule {
		if p.literal != "" {
			b.WriteString(p.literal)
			continue
		}
		v := clean(given)
		if p.name == "surname" {
			v = clean(surname)
		}
		if p.n > 0 && len(v) > p.n {
			v = v[:p.n]
		}
		b.WriteString(v)
	}
	base := strings.Trim(b.String(), ".-_")
	if base == "" || strings.Trim(base, "0123456789") == "" {
		return ""
	}
	if len(base) > MaxLogin {
		base = strings.TrimRight(base[:MaxLogin], ".-_")
	}
	if !taken(base) {
		return base
	}
	for i := 2; ; i++ {
		suffix := strconv.Itoa(i)
		stem := base
		if len(stem)+len(suffix) > MaxLogin {
			stem = stem[:MaxLogin-len(suffix)]
		}
		if l := stem + suffix; !taken(l) {
			return l
		}
	}
}
