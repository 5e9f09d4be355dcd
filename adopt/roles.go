package adopt

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/alm-project/alm/reconciler/directory"
	"github.com/alm-project/alm/reconciler/model"
)

// newRole is a role file import proposes.
type newRole struct {
	name, path string
	keys       []string // lower-case DNs of its groups, sorted
	groups     []string // as the file names them
	privileged bool
	why        string // why its first privileged group is privileged
}

func (r *newRole) bytes(modeline string) []byte {
	d := newDoc(model.KindRole)
	d.set("metadata.name", str(r.name))
	what := "the group " + r.groups[0]
	if len(r.groups) > 1 {
		what = "the groups " + strings.Join(r.groups, ", ") + ", held together by several accounts"
	}
	d.set("spec.description", str("Members of "+what+" (found by alm import)"))
	d.set("spec.groups", seq(r.groups))
	if r.privileged {
		d.set("spec.privileged", boolean(true))
	}
	return d.bytes(modeline)
}

// groupBase is where roles name groups by name.
func (im *importer) groupBase() string {
	if im.gbase != "" {
		return im.gbase
	}
	return im.base
}

// entry is how a role names the group at key: by name below the groups OU,
// by DN anywhere else.
func (im *importer) entry(key string, dns map[string]string) string {
	if g := im.groups[key]; g != nil {
		if directory.Under(g.DN, im.groupBase()) {
			return g.Name
		}
		return g.DN
	}
	return dns[key]
}

// keyOf resolves a role's group entry to the lower-case DN of a group the
// directory holds, or to a key no account's group has.
func (im *importer) keyOf(entry string, dns map[string]string) string {
	if strings.Contains(entry, "=") {
		if k := strings.ToLower(entry); dns[k] != "" || im.groups[k] != nil {
			return k
		}
		for k, dn := range dns {
			if directory.SameDN(dn, entry) {
				return k
			}
		}
		return "dn:" + strings.ToLower(entry)
	}
	for _, k := range slices.Sorted(maps.Keys(im.groups)) {
		g := im.groups[k]
		if directory.Under(g.DN, im.groupBase()) && (strings.EqualFold(g.Name, entry) || strings.EqualFold(directory.FirstValue(g.DN), entry)) {
			return k
		}
	}
	return "name:" + strings.ToLower(entry)
}

// roles infers each account's roles from its groups: the repository's
// roles whose groups it holds, largest first; then, of the groups left, a
// set two or more accounts hold exactly becomes one proposed role, and
// every other group a role of its own. Every group below the groups OU
// that no role names gets a role too. Birthright is never inferred.
func (im *importer) roles() {
	dns := map[string]string{} // lower DN -> DN as the directory spells it
	for _, g := range im.snap.Groups {
		dns[strings.ToLower(g.DN)] = g.DN
	}
	for _, d := range im.drafts {
		for _, g := range d.live.MemberOf {
			k := strings.ToLower(g)
			if dns[k] == "" {
				dns[k] = g
			}
			d.held = append(d.held, k)
		}
		slices.Sort(d.held)
		d.held = slices.Compact(d.held)
	}
	type known struct {
		name string
		keys []string
		role *model.Role
	}
	var existing []known
	named := map[string]bool{} // keys some role names
	for _, name := range slices.Sorted(maps.Keys(im.repo.Roles)) {
		r := im.repo.Roles[name]
		kn := known{name: name, role: r}
		for _, e := range r.Spec.Groups {
			k := im.keyOf(e, dns)
			kn.keys = append(kn.keys, k)
			named[k] = true
		}
		if len(kn.keys) > 0 {
			existing = append(existing, kn)
		}
	}
	slices.SortStableFunc(existing, func(a, b known) int { return len(b.keys) - len(a.keys) })

	left := map[*draft][]string{}
	for _, d := range im.drafts {
		covered := map[string]bool{}
		var kept []string // roles the file lists already
		if doc, ok := parseDoc(d.existing); ok {
			kept = doc.list("spec.roles")
		}
		probe := &model.Person{Spec: model.PersonSpec{Type: im.o.PersonType,
			Department: d.live.Attributes[directory.AttrDepartment], Title: d.live.Attributes[directory.AttrTitle]}}
		for _, kn := range existing {
			birthright := d.kind == model.KindPerson && kn.role.Spec.Birthright.Matches(probe)
			if slices.Contains(kept, kn.name) || birthright {
				for _, k := range kn.keys {
					covered[k] = true
				}
			}
		}
		for _, kn := range existing {
			if kn.role.Spec.Birthright != nil || !subset(kn.keys, d.held) || all(kn.keys, covered) {
				continue
			}
			d.roles = append(d.roles, kn.name)
			for _, k := range kn.keys {
				covered[k] = true
			}
		}
		for _, k := range d.held {
			if !covered[k] {
				left[d] = append(left[d], k)
			}
		}
	}

	// Sets of two or more groups that recur exactly.
	count := map[string]int{}
	for _, d := range im.drafts {
		if len(left[d]) > 1 {
			count[strings.Join(left[d], "\n")]++
		}
	}
	bySet := map[string]*newRole{}
	taken := map[string]bool{}
	for name := range im.repo.Roles {
		taken[name] = true
	}
	propose := func(keys []string) *newRole {
		sig := strings.Join(keys, "\n")
		if r := bySet[sig]; r != nil {
			return r
		}
		r := &newRole{keys: keys}
		var slugs []string
		for _, k := range keys {
			e := im.entry(k, dns)
			r.groups = append(r.groups, e)
			slugs = append(slugs, slug(firstOr(e)))
			if why := im.priv[k]; why != "" && !r.privileged {
				r.privileged, r.why = true, why
			}
			named[k] = true
		}
		r.name = uniqueName(strings.Join(slugs, "-"), taken)
		r.path = model.Folders[model.KindRole] + "/" + r.name + ".yaml"
		bySet[sig] = r
		im.newRoles = append(im.newRoles, r)
		return r
	}
	for _, d := range im.drafts {
		l := left[d]
		if len(l) > 1 && count[strings.Join(l, "\n")] > 1 {
			d.roles = append(d.roles, propose(l).name)
			continue
		}
		for _, k := range l {
			d.roles = append(d.roles, propose([]string{k}).name)
		}
	}
	for _, g := range im.snap.Groups {
		k := strings.ToLower(g.DN)
		if !named[k] && directory.Under(g.DN, im.groupBase()) && im.gbase != "" {
			propose([]string{k})
		}
	}
}

func subset(a, b []string) bool {
	for _, x := range a {
		if _, ok := slices.BinarySearch(b, x); !ok {
			return false
		}
	}
	return true
}

func all(keys []string, set map[string]bool) bool {
	for _, k := range keys {
		if !set[k] {
			return false
		}
	}
	return true
}

// firstOr is a group's name: the entry, or the cn of a DN.
func firstOr(entry string) string {
	if strings.Contains(entry, "=") {
		if v := directory.FirstValue(entry); v != "" {
			return v
		}
	}
	return entry
}

// slug makes a role name of a group's name: lower-case letters, digits and
// single hyphens.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		default:
			dash = true
		}
	}
	if b.Len() == 0 {
		return "group"
	}
	return b.String()
}

// uniqueName fits a role name in 63 characters and makes it one no other
// role has.
func uniqueName(name string, taken map[string]bool) string {
	fit := func(s string, n int) string {
		if len(s) > n {
			s = strings.TrimRight(s[:n], "-")
		}
		return s
	}
	out := fit(name, 63)
	for i := 2; taken[out]; i++ {
		suffix := fmt.Sprintf("-%d", i)
		out = fit(name, 63-len(suffix)) + suffix
	}
	taken[out] = true
	return out
}
