package load

import (
	"maps"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/go-ldap/ldap/v3"

	"github.com/alm-project/alm/reconciler/directory"
	"github.com/alm-project/alm/reconciler/model"
)

// check finds what no single file can show: misplaced files, duplicates
// across files, references that do not resolve, and rules of the templates.
func check(repo *model.Repository, c *collector) {
	// The checks read the repository alone: the first two run beside the
	// rest, and their problems come first, as one goroutine would find them.
	first := &collector{unreadable: c.unreadable}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		checkFileNames(repo, first)
		checkUnique(repo, first)
	}()
	rest := &collector{unreadable: c.unreadable}
	checkRest(repo, rest)
	wg.Wait()
	c.problems = append(append(c.problems, first.problems...), rest.problems...)
}

func checkRest(repo *model.Repository, c *collector) {
	checkDirectory(repo, c)
	naming := checkTemplates(repo, c)
	people := repo.PersonNames() // sorted once: 100,000 names take a while
	for _, name := range people {
		checkPerson(repo, repo.People[name], naming, c)
	}
	for _, name := range repo.ServiceAccountNames() {
		checkServiceAccount(repo, repo.ServiceAccounts[name], naming, c)
	}
	checkRoles(repo, c)
	checkManagerChains(repo, people, c)
	checkProtected(repo, people, c)
}

// checkProtected refuses a file whose login is a built-in account or one
// alm.yaml protects: alm never manages those, so such a file can only
// mislead (or, merged, be a way to reach them).
func checkProtected(repo *model.Repository, people []string, c *collector) {
	protected := map[string]string{}
	for _, n := range model.AlwaysProtected {
		protected[strings.ToLower(n)] = "a built-in account of Active Directory"
	}
	if repo.Directory != nil {
		for _, n := range repo.Directory.Spec.Protected {
			if n = strings.TrimSpace(n); n != "" && !strings.Contains(n, "=") {
				protected[strings.ToLower(n)] = "protected by alm.yaml spec.protected"
			}
		}
	}
	check := func(src model.Source, name string) {
		if why, ok := protected[strings.ToLower(name)]; ok {
			c.field(src, "metadata.name", "%q is %s: alm never manages it; remove this file (alm changes nothing on such an account, whatever a file says)", name, why)
		}
	}
	for _, name := range people {
		check(repo.People[name].Source, name)
	}
	for _, name := range repo.ServiceAccountNames() {
		check(repo.ServiceAccounts[name].Source, name)
	}
}

type named struct {
	kind string
	meta model.Metadata
	src  *model.Source // the object's own: 100,000 copies were most of a load's garbage
}

func objects(repo *model.Repository) []named {
	all := make([]named, 0, len(repo.Templates)+len(repo.People)+len(repo.ServiceAccounts)+len(repo.Roles))
	for _, t := range repo.Templates {
		all = append(all, named{model.KindWorkflowTemplate, t.Metadata, &t.Source})
	}
	for _, p := range repo.People {
		all = append(all, named{model.KindPerson, p.Metadata.Common(), &p.Source})
	}
	for _, a := range repo.ServiceAccounts {
		all = append(all, named{model.KindServiceAccount, a.Metadata.Common(), &a.Source})
	}
	for _, r := range repo.Roles {
		all = append(all, named{model.KindRole, r.Metadata, &r.Source})
	}
	return all
}

func checkFileNames(repo *model.Repository, c *collector) {
	for _, o := range objects(repo) {
		base := path.Base(o.src.Path)
		if o.meta.Name != "" && stem(o.src.Path) != o.meta.Name {
			c.field(*o.src, "metadata.name", "%q does not match the file name %s: name the file %s.yaml so its history is the account's history", o.meta.Name, base, o.meta.Name)
		}
	}
}

// checkUnique: people and service accounts share the directory's
// sAMAccountName space, which is case-insensitive; ids are unique everywhere.
func checkUnique(repo *model.Repository, c *collector) {
	accounts := make([]named, 0, len(repo.People)+len(repo.ServiceAccounts))
	for _, o := range objects(repo) {
		if o.kind == model.KindPerson || o.kind == model.KindServiceAccount {
			accounts = append(accounts, o)
		}
	}
	sortNamed(accounts)
	names := make(map[string]named, len(accounts))
	ids := make(map[string]named, len(accounts))
	for _, o := range accounts {
		if o.meta.Name != "" {
			key := strings.ToLower(o.meta.Name)
			if first, ok := names[key]; ok && first.src.Path != o.src.Path {
				c.field(*o.src, "metadata.name", "%q is also used by %s: logins are unique across people and service accounts, ignoring case", o.meta.Name, first.src.Path)
			} else {
				names[key] = o
			}
		}
		if o.meta.ID != "" {
			if first, ok := ids[o.meta.ID]; ok {
				c.field(*o.src, "metadata.id", "%q is also the id of %s: ids are unique and never reused", o.meta.ID, first.src.Path)
			} else {
				ids[o.meta.ID] = o
			}
		}
	}
}

func sortNamed(all []named) {
	sort.Slice(all, func(i, j int) bool { return all[i].src.Path < all[j].src.Path })
}

func checkDirectory(repo *model.Repository, c *collector) {
	d := repo.Directory
	if d == nil {
		return
	}
	if d.Spec.BaseDN != "" && !strings.Contains(strings.ToUpper(d.Spec.BaseDN), "DC=") {
		c.field(d.Source, "spec.baseDN", "%q has no DC= component: write the domain's DN, e.g. DC=example,DC=test", d.Spec.BaseDN)
	}
}

// checkTemplates compiles every naming pattern once and returns them by template.
func checkTemplates(repo *model.Repository, c *collector) map[string]*regexp.Regexp {
	naming := map[string]*regexp.Regexp{}
	claimed := map[string]string{} // person type -> the template that claims it
	for _, name := range slices.Sorted(maps.Keys(repo.Templates)) {
		t := repo.Templates[name]
		if t.Spec.AppliesTo == model.KindPerson {
			types := t.Spec.PersonTypes
			if len(types) == 0 {
				types = []string{""} // the fallback for every type no other template names
			}
			for i, ty := range types {
				if other, ok := claimed[ty]; ok {
					field, what := "spec.personTypes["+strconv.Itoa(i)+"]", "person type "+strconv.Quote(ty)
					if ty == "" {
						field, what = "spec.appliesTo", "every person type (no personTypes)"
					}
					c.field(t.Source, field, "%s is claimed by template %s already: a person's template must be unambiguous", what, other)
					continue
				}
				claimed[ty] = name
			}
		}
		// A pattern over model.MaxPattern is refused by the schema, and not compiled.
		if t.Spec.Naming != "" && len(t.Spec.Naming) <= model.MaxPattern {
			re, err := regexp.Compile(t.Spec.Naming)
			if err != nil {
				c.field(t.Source, "spec.naming", "not a valid regular expression: %v", err)
			} else {
				naming[name] = re
			}
		}
		if l := t.Spec.Lifetime; l != nil && !l.Max.IsZero() && l.Default.D > l.Max.D {
			c.field(t.Source, "spec.lifetime.default", "%s is longer than lifetime.max %s", l.Default, l.Max)
		}
		// The reviewer confirms by approving alm's review pull request, and
		// separation of duties refuses an owner's approval of their own
		// account: such a review could never be confirmed.
		if r := t.Spec.Review; r != nil && r.By == "owner" && t.Spec.AppliesTo == model.KindServiceAccount && !t.Spec.OwnerMayApprove {
			c.field(t.Source, "spec.review.by", "owner: owners may not approve changes to their own accounts (spec.ownerMayApprove is false), so no owner could confirm a review: use owner-manager or owner-or-manager, or set ownerMayApprove: true")
		}
		for i, r := range t.Spec.Approvals.Grant {
			checkApprovalRole(repo, t.Source, "spec.approvals.grant", i, r, c)
		}
		for i, r := range t.Spec.Approvals.Revoke {
			checkApprovalRole(repo, t.Source, "spec.approvals.revoke", i, r, c)
		}
		for i, r := range t.Spec.Approvals.Other {
			checkApprovalRole(repo, t.Source, "spec.approvals.other", i, r, c)
		}
	}
	return naming
}

func checkApprovalRole(repo *model.Repository, src model.Source, list string, i int, r model.ApprovalRule, c *collector) {
	if r.Role == "" {
		return
	}
	if _, ok := repo.Roles[r.Role]; !ok && c.readable(model.KindRole, r.Role) {
		c.field(src, list+"["+strconv.Itoa(i)+"].role", "role %q does not exist: add roles/%s.yaml or name an existing role", r.Role, r.Role)
	}
}

func checkPerson(repo *model.Repository, p *model.Person, naming map[string]*regexp.Regexp, c *collector) {
	src := p.Source
	if p.Spec.Template != "" {
		t, ok := repo.Templates[p.Spec.Template]
		switch {
		case !ok:
			if c.readable(model.KindWorkflowTemplate, p.Spec.Template) {
				c.field(src, "spec.template", "template %q does not exist: add templates/%s.yaml or name an existing one", p.Spec.Template, p.Spec.Template)
			}
		case t.Spec.AppliesTo != model.KindPerson:
			c.field(src, "spec.template", "template %q applies to %s, not to people", p.Spec.Template, t.Spec.AppliesTo)
		}
	} else if repo.TemplateOf(p) == nil && len(repo.Templates) > 0 && !c.anyUnreadable(model.KindWorkflowTemplate) {
		c.field(src, "spec.type", "no WorkflowTemplate applies to a person of type %q: add one with appliesTo: Person (and personTypes), or set spec.template", p.Spec.Type)
	}
	if t := repo.TemplateOf(p); t != nil {
		if re := naming[t.Metadata.Name]; mismatch(re, p.Metadata.Name) {
			c.field(src, "metadata.name", "%q does not match template %s's naming pattern %s", p.Metadata.Name, t.Metadata.Name, t.Spec.Naming)
		}
	}
	if p.Spec.Manager != "" {
		if p.Spec.Manager == p.Metadata.Name {
			c.field(src, "spec.manager", "a person cannot be their own manager")
		} else if _, ok := repo.People[p.Spec.Manager]; !ok && c.readable(model.KindPerson, p.Spec.Manager) {
			c.field(src, "spec.manager", "person %q does not exist: name a login from people/", p.Spec.Manager)
		}
	}
	checkRoleRefs(repo, src, p.Spec.Roles, c)
	if !p.Spec.EndDate.IsZero() && !p.Spec.StartDate.IsZero() && p.Spec.EndDate.Before(p.Spec.StartDate.Time) {
		c.field(src, "spec.endDate", "%s is before startDate %s", p.Spec.EndDate, p.Spec.StartDate)
	}
	if w := p.Spec.Inactive; w != nil && !w.Until.IsZero() && !w.Until.After(w.From.Time) {
		c.field(src, "spec.inactive.until", "%s is not after from %s", w.Until, w.From)
	}
	checkPreviousNames(repo, src, p.Metadata.Name, p.Spec.PreviousNames, c)
}

func checkServiceAccount(repo *model.Repository, a *model.ServiceAccount, naming map[string]*regexp.Regexp, c *collector) {
	src := a.Source
	t, ok := repo.Templates[a.Spec.Template]
	switch {
	case a.Spec.Template == "", !ok && !c.readable(model.KindWorkflowTemplate, a.Spec.Template):
	case !ok:
		c.field(src, "spec.template", "template %q does not exist: add templates/%s.yaml or name an existing one", a.Spec.Template, a.Spec.Template)
	case t.Spec.AppliesTo != model.KindServiceAccount:
		c.field(src, "spec.template", "template %q applies to %s, not to service accounts", a.Spec.Template, t.Spec.AppliesTo)
	default:
		if re := naming[t.Metadata.Name]; mismatch(re, a.Metadata.Name) {
			c.field(src, "metadata.name", "%q does not match template %s's naming pattern %s", a.Metadata.Name, t.Metadata.Name, t.Spec.Naming)
		}
		checkLifetime(a, t, c)
	}
	if a.Spec.Owner != "" {
		if _, ok := repo.People[a.Spec.Owner]; !ok && c.readable(model.KindPerson, a.Spec.Owner) {
			c.field(src, "spec.owner", "person %q does not exist: the owner must be a login from people/", a.Spec.Owner)
		}
	}
	for i, cu := range a.Spec.Custodians {
		field := "spec.custodians[" + strconv.Itoa(i) + "]"
		if _, ok := repo.People[cu]; !ok {
			if !c.readable(model.KindPerson, cu) {
				continue
			}
			c.field(src, field, "person %q does not exist: custodians must be logins from people/", cu)
		} else if cu == a.Spec.Owner {
			c.field(src, field, "%q is the owner already: custodians are the owner's deputies", cu)
		}
	}
	checkRoleRefs(repo, src, a.Spec.Roles, c)
	checkPreviousNames(repo, src, a.Metadata.Name, a.Spec.PreviousNames, c)
}

// mismatch reports whether a login does not match its template's naming
// pattern. A login longer than model.MaxLogin, which the schema reports, is
// not matched: matching costs the name's length times the pattern's size,
// and a 650-byte pattern took 32 s over a name of 100 KB.
func mismatch(re *regexp.Regexp, name string) bool {
	return re != nil && name != "" && utf8.RuneCountInString(name) <= model.MaxLogin && !re.MatchString(name)
}

// checkLifetime holds expires within the template's lifetime.max of created.
func checkLifetime(a *model.ServiceAccount, t *model.WorkflowTemplate, c *collector) {
	l := t.Spec.Lifetime
	if l == nil || l.Max.IsZero() || a.Spec.Expires.IsZero() {
		return
	}
	if a.Spec.Created.IsZero() {
		c.field(a.Source, "spec.expires", "template %s limits the lifetime to %s: set spec.created (the day requested) so expires can be checked", t.Metadata.Name, l.Max)
		return
	}
	if !a.Spec.Expires.After(a.Spec.Created.Time) {
		c.field(a.Source, "spec.expires", "%s is not after created %s", a.Spec.Expires, a.Spec.Created)
		return
	}
	// Two dates of the same zone compare the same in any zone: count in UTC.
	if limit := a.Spec.Created.Plus(l.Max, time.UTC); a.Spec.Expires.After(limit) {
		c.field(a.Source, "spec.expires", "%s is past template %s's maximum lifetime of %s from created %s: expire on or before %s, and renew later", a.Spec.Expires, t.Metadata.Name, l.Max, a.Spec.Created, model.Date{Time: limit})
	}
}

func checkRoles(repo *model.Repository, c *collector) {
	for _, name := range slices.Sorted(maps.Keys(repo.Roles)) {
		r := repo.Roles[name]
		for i, ap := range r.Spec.Approvers {
			checkApprovalRole(repo, r.Source, "spec.approvers", i, ap, c)
		}
		for i, g := range r.Spec.Groups {
			field := "spec.groups[" + strconv.Itoa(i) + "]"
			name := g
			if strings.Contains(g, "=") {
				dn, err := ldap.ParseDN(g)
				if err != nil || len(dn.RDNs) == 0 {
					c.field(r.Source, field, "%q is not a DN (%v): name a group by its name, found below the groups OU, or by its whole DN, e.g. CN=Domain Admins,CN=Users,DC=example,DC=test", g, err)
					continue
				}
				name = dn.RDNs[0].Attributes[0].Value
			}
			if directory.WellKnownPrivileged(name) && !r.Spec.Privileged {
				c.field(r.Source, field, "%q is one of Active Directory's privileged groups: a role that grants it must be marked privileged: true, with its own approvers (spec.approvers)", g)
			}
		}
		if r.Spec.Privileged && len(r.Spec.Approvers) == 0 {
			c.field(r.Source, "spec.privileged", "a privileged role needs its own approvers: add spec.approvers, e.g. [{role: security-approvers, count: 1}]")
		}
		checkRenames(repo, r, c)
	}
}

// checkRenames: each rename of a role's group ends in a group the role
// names by name (directly or through a later rename), and renames away
// from a name no role names any more - else the rename would take a group
// from under a role that still uses it.
func checkRenames(repo *model.Repository, r *model.Role, c *collector) {
	key := func(g string) string { return strings.ToLower(strings.TrimSpace(g)) }
	named := map[string]bool{}
	for _, g := range r.Spec.Groups {
		named[key(g)] = true
	}
	later := map[string]bool{}
	for _, rn := range r.Spec.RenamedGroups {
		later[key(rn.From)] = true
	}
	for i, rn := range r.Spec.RenamedGroups {
		field := "spec.renamedGroups[" + strconv.Itoa(i) + "]"
		if strings.Contains(rn.From, "=") || strings.Contains(rn.To, "=") {
			c.field(r.Source, field, "renames are of groups named by name (below the groups OU); a group named by DN is renamed by hand")
			continue
		}
		if !named[key(rn.To)] && !later[key(rn.To)] {
			c.field(r.Source, field+".to", "%q is not one of spec.groups: write the group's new name in spec.groups too", rn.To)
		}
		for _, other := range slices.Sorted(maps.Keys(repo.Roles)) {
			for _, g := range repo.Roles[other].Spec.Groups {
				if key(g) == key(rn.From) {
					c.field(r.Source, field+".from", "role %s still names %q: renaming it would take the group from under that role; rename it there too, or keep the old name", other, rn.From)
				}
			}
		}
	}
}

func checkRoleRefs(repo *model.Repository, src model.Source, roles []string, c *collector) {
	seen := map[string]bool{}
	for i, r := range roles {
		field := "spec.roles[" + strconv.Itoa(i) + "]"
		if _, ok := repo.Roles[r]; !ok && c.readable(model.KindRole, r) {
			c.field(src, field, "role %q does not exist: add roles/%s.yaml or name an existing role", r, r)
		}
		if seen[r] {
			c.field(src, field, "role %q is listed twice", r)
		}
		seen[r] = true
	}
}

func checkPreviousNames(repo *model.Repository, src model.Source, name string, previous []string, c *collector) {
	for i, old := range previous {
		field := "spec.previousNames[" + strconv.Itoa(i) + "]"
		if strings.EqualFold(old, name) {
			c.field(src, field, "%q is the current name: previousNames lists earlier names only", old)
			continue
		}
		if p, ok := repo.People[old]; ok {
			c.field(src, field, "%q is the current name of %s: a login is not reused while its history points elsewhere", old, p.Source.Path)
		} else if a, ok := repo.ServiceAccounts[old]; ok {
			c.field(src, field, "%q is the current name of %s: a login is not reused while its history points elsewhere", old, a.Source.Path)
		}
	}
}

// checkManagerChains finds management chains that loop, and chains longer
// than model.MaxManagerChain, in one pass: a walk stops at the first person
// whose depth is known, so each person is walked once. (Walking every
// person's chain to its top took 14 s for one chain of 10,000 people.)
func checkManagerChains(repo *model.Repository, people []string, c *collector) {
	const walking = -1
	depth := map[string]int{} // managers above a person; walking while on the current walk
	for _, name := range people {
		if _, ok := depth[name]; ok {
			continue
		}
		var path []string // people walked, each the manager of the one before
		top := 0          // the depth of the last person on the path
		for cur := name; ; {
			path = append(path, cur)
			depth[cur] = walking
			m := repo.People[cur].Spec.Manager
			if m == "" {
				break
			}
			if _, ok := repo.People[m]; !ok {
				top = 1 // a manager without a file: reported by checkPerson
				break
			}
			if d, ok := depth[m]; ok && d != walking {
				top = d + 1
				break
			} else if ok {
				i := slices.Index(path, m)
				loop := path[i:]
				for _, p := range loop {
					c.field(repo.People[p].Source, "spec.manager", "management chain loops back to %s: someone in the chain needs a different manager", p)
					depth[p] = len(loop) - 1
				}
				path, top = path[:i], len(loop)
				break
			}
			cur = m
		}
		for i := len(path) - 1; i >= 0; i-- {
			d := top + len(path) - 1 - i
			depth[path[i]] = d
			if d == model.MaxManagerChain+1 {
				c.field(repo.People[path[i]].Source, "spec.manager", "the management chain above %s is more than %d people long: alm follows at most %d managers; check that each person up the chain names their own manager",
					path[i], model.MaxManagerChain, model.MaxManagerChain)
			}
		}
	}
}
