package plan

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/alm-project/alm/reconciler/desired"
	"github.com/alm-project/alm/reconciler/directory"
	"github.com/alm-project/alm/reconciler/model"
)

// Options tune Diff.
type Options struct {
	// Previous is the desired state alm applied last: desired.Compute over
	// the revision and at the time recorded by the last receipt. A change
	// is drift when Previous asked for the same value the files ask for now
	// (nothing in the files or the calendar changed it), yet the directory
	// differs: someone changed the directory by hand, or the last apply of
	// it failed. Nil means the last applied state is unknown, and no change
	// is marked drift.
	Previous *desired.State
}

// Diff compares the desired state with the directory and returns the
// changes that make the directory match, in the order apply makes them.
//
// Accounts are matched by the ownership marker holding metadata.id, never
// by name. Accounts without alm's marker in the managed OUs are orphans:
// reported, and disabled only when alm.yaml says orphans: disable. alm
// manages membership of every group some role names; memberships of
// managed accounts in other groups are left alone and reported as warnings.
// Protected accounts get no change at all.
func Diff(d *desired.State, live *directory.Snapshot, opts Options) *Plan {
	p := &Plan{
		FormatVersion:  FormatVersion,
		Revision:       d.Revision,
		DirectoryState: live.Digest(),
		Now:            d.Now,
		BaseDN:         d.BaseDN,
		DriftKnown:     opts.Previous != nil,
		Changes:        []Change{},
		Orphans:        []Orphan{},
		Warnings:       append([]desired.Warning{}, d.Warnings...),
	}
	df := &differ{d: d, live: live, prev: opts.Previous, p: p}
	df.index()
	for _, a := range d.Accounts {
		df.account(a)
	}
	df.strays()
	df.ous()
	sortChanges(p.Changes)
	return p
}

type differ struct {
	d    *desired.State
	live *directory.Snapshot
	prev *desired.State
	p    *Plan

	byID       map[string]*directory.Account // marked accounts, by metadata.id
	byName     map[string]*directory.Account // every account, by lower-case sAMAccountName
	unmarked   []*directory.Account
	groupDN    map[string]string // lower-case group name -> DN (resolved, or where it is expected)
	groupName  map[string]string // lower-case DN of a managed group -> its name
	groupRoles map[string]string // lower-case group name -> "role a, b names it"
	members    map[string][]string
	ouExists   map[string]bool
	created    map[string]string // account id -> the create change's id
	claimed    map[string]string // lower-case name of an unmarked account -> file of the account that wants it
	matchedIDs map[string]bool
}

func lower(s string) string { return strings.ToLower(s) }

func (df *differ) index() {
	df.byID, df.byName = map[string]*directory.Account{}, map[string]*directory.Account{}
	df.ouExists, df.created, df.claimed, df.matchedIDs = map[string]bool{}, map[string]string{}, map[string]string{}, map[string]bool{}
	for _, ou := range df.live.OUs {
		df.ouExists[lower(ou)] = true
	}
	df.ouExists[lower(df.d.BaseDN)] = true
	for i := range df.live.Accounts {
		l := &df.live.Accounts[i]
		df.byName[lower(l.Name)] = l
		// An account stands in an OU, so the OU exists.
		df.ouExists[lower(desired.Parent(l.DN))] = true
		id, ok := directory.IDFromMarker(l.Marker)
		if !ok {
			df.unmarked = append(df.unmarked, l)
			continue
		}
		df.p.Managed++
		if other := df.byID[id]; other != nil {
			df.warn("", "", "%s and %s both carry alm's marker for id %s: alm changes only %s; remove the marker from the other", other.DN, l.DN, id, other.DN)
			continue
		}
		df.byID[id] = l
	}

	byName, byCN := map[string]string{}, map[string]string{}
	df.members = map[string][]string{}
	for _, g := range df.live.Groups {
		byName[lower(g.Name)] = g.DN
		if cn := firstValue(g.DN); cn != "" {
			if _, ok := byCN[lower(cn)]; !ok {
				byCN[lower(cn)] = g.DN
			}
		}
		for _, m := range g.Members {
			df.members[lower(m)] = append(df.members[lower(m)], g.DN)
		}
	}
	df.groupDN, df.groupName, df.groupRoles = map[string]string{}, map[string]string{}, map[string]string{}
	for _, mg := range df.d.Groups {
		if len(mg.Roles) == 1 {
			df.groupRoles[lower(mg.Name)] = "role " + mg.Roles[0] + " names it"
		} else {
			df.groupRoles[lower(mg.Name)] = "roles " + strings.Join(mg.Roles, ", ") + " name it"
		}
		dn, ok := byName[lower(mg.Name)]
		if !ok {
			dn, ok = byCN[lower(mg.Name)]
		}
		if !ok {
			dn = df.d.GroupDN(mg.Name)
			where := df.d.GroupsOU
			if where == "" {
				where = df.d.BaseDN
			}
			df.p.Warnings = append(df.p.Warnings, desired.Warning{File: mg.File,
				Text: fmt.Sprintf("group %q (role %s) does not exist under %s: adding members to it will fail until it is created there", mg.Name, strings.Join(mg.Roles, ", "), where)})
		}
		df.groupDN[lower(mg.Name)] = dn
		df.groupName[lower(dn)] = mg.Name
	}
}

// firstValue returns the value of a DN's first RDN, unescaped well enough
// to compare with a name.
func firstValue(dn string) string {
	first := dn
	if p := desired.Parent(dn); p != "" {
		first = dn[:len(dn)-len(p)-1]
	}
	eq := strings.IndexByte(first, '=')
	if eq < 0 {
		return ""
	}
	return strings.ReplaceAll(first[eq+1:], `\`, "")
}

func (df *differ) warn(file, account, format string, args ...any) {
	df.p.Warnings = append(df.p.Warnings, desired.Warning{File: file, Account: account, Text: fmt.Sprintf(format, args...)})
}

func (df *differ) add(c Change) { df.p.Changes = append(df.p.Changes, c) }

func (df *differ) account(a *desired.Account) {
	if a.Protected {
		return // desired already warned that a file names a protected account
	}
	l := df.byID[a.ID]
	if l != nil {
		df.matchedIDs[a.ID] = true
		if df.d.IsProtected(l.Name, l.DN) {
			df.warn(a.File, a.Name, "%s carries the marker for %s but is a protected account: alm never touches it; remove the marker", l.DN, a.File)
			return
		}
	}
	prev := df.prev.Account(a.ID) // nil when unknown
	switch {
	case l == nil && a.Exists:
		df.create(a, prev)
	case l == nil:
		// Not yet provisioned, or already gone: nothing to do.
	case a.Delete:
		df.add(Change{ID: id(Delete, a.ID), Action: Delete, AccountID: a.ID, Account: a.Name, Kind: a.Kind, File: a.File,
			Marker: l.Marker, DN: l.DN, Drift: prev != nil && prev.Delete, Reason: driftReason(a.Lifecycle, prev != nil && prev.Delete, "still in the directory, though the files asked for its deletion at the last apply")})
	default:
		df.existing(a, l, prev)
	}
}

func id(action Action, parts ...string) string {
	return string(action) + ":" + strings.Join(parts, ":")
}

// driftReason marks a reason as drift, saying what was found.
func driftReason(r desired.Reason, drift bool, found string) desired.Reason {
	if drift {
		r.Rule = "drift"
		r.Text = "drift: " + found + " (changed by hand, or that apply failed); " + r.Text
	}
	return r
}

func (df *differ) create(a *desired.Account, prev *desired.Account) {
	if l := df.byName[lower(a.Name)]; l != nil {
		// The create would fail: the name is taken. Say so rather than plan it.
		holder := "an account alm does not own"
		if id, ok := directory.IDFromMarker(l.Marker); ok {
			holder = "the account with id " + id
		} else {
			df.claimed[lower(l.Name)] = a.File
		}
		df.warn(a.File, a.Name, "%s is not created: its name is held by %s (%s); adopt that account by writing alm's marker on it, or free the name", a.Name, holder, l.DN)
		return
	}
	drift := prev != nil && prev.Exists && !prev.Delete
	uac := a.UAC | directory.UACAccountDisable
	var attrs []AttrChange
	for _, name := range directory.ManagedAttributes {
		v := a.Attributes[name]
		// manager is set after every create, so that it may name another
		// account this run creates; "never" is the directory's default.
		if v == "" || name == directory.AttrManager || (name == directory.AttrAccountExpires && desired.NeverExpires(v)) {
			continue
		}
		attrs = append(attrs, AttrChange{Name: name, New: v, Field: a.AttributeReasons[name].Field})
	}
	attrs = append(attrs, AttrChange{Name: directory.AttrUserAccountControl, New: strconv.Itoa(uac), Field: a.Lifecycle.Field})
	createID := id(Create, a.ID)
	df.created[a.ID] = createID
	// Every change to the new account carries the marker its create writes.
	base := Change{AccountID: a.ID, Account: a.Name, Kind: a.Kind, File: a.File, Marker: directory.Marker(a.ID), DN: a.DN, Drift: drift}
	c := base
	c.ID, c.Action, c.Attributes = createID, Create, attrs
	c.Reason = driftReason(a.Lifecycle, drift, "missing, though the files asked for it at the last apply")
	df.add(c)

	if mgr := df.managerDN(a); mgr != "" {
		u := base
		u.ID, u.Action, u.DependsOn = id(Update, a.ID), Update, []string{createID}
		u.Attributes = []AttrChange{{Name: directory.AttrManager, New: mgr, Field: a.AttributeReasons[directory.AttrManager].Field, Drift: drift}}
		u.Reason = driftReason(a.AttributeReasons[directory.AttrManager], drift, "missing, though the files asked for it at the last apply")
		if dep := df.created[a.ManagerID]; dep != "" && a.ManagerID != a.ID {
			u.DependsOn = append(u.DependsOn, dep)
		}
		df.add(u)
	}
	for _, g := range a.Groups {
		m := base
		m.ID, m.Action, m.DependsOn = id(AddMember, a.ID, g.Name), AddMember, []string{createID}
		m.Group, m.GroupName = df.groupDN[lower(g.Name)], g.Name
		m.Reason = driftReason(g.Reason, drift, "missing, though the files asked for it at the last apply")
		df.add(m)
	}
	if a.Enabled {
		e := base
		e.ID, e.Action, e.DependsOn = id(Enable, a.ID), Enable, []string{createID}
		e.Attributes = []AttrChange{{Name: directory.AttrUserAccountControl, Old: strconv.Itoa(uac), New: strconv.Itoa(a.UAC), Field: a.Lifecycle.Field}}
		e.Reason = driftReason(a.Lifecycle, drift, "missing, though the files asked for it at the last apply")
		df.add(e)
	}
}

// managerDN is the manager value to write: the manager's DN as the
// directory holds it now. The directory keeps DN-valued attributes pointing
// at their object when it moves, so a manager moved later in the same run
// is followed. A manager this run creates is named by the DN it will have.
func (df *differ) managerDN(a *desired.Account) string {
	if a.Attributes[directory.AttrManager] == "" {
		return ""
	}
	if m := df.byID[a.ManagerID]; m != nil {
		return m.DN
	}
	return a.Attributes[directory.AttrManager]
}

func (df *differ) existing(a *desired.Account, l *directory.Account, prev *desired.Account) {
	base := Change{AccountID: a.ID, Account: a.Name, Kind: a.Kind, File: a.File, Marker: l.Marker, DN: l.DN}
	done := map[string]bool{} // attributes a rename already sets

	// Rename or move: one modrdn either way.
	switch {
	case !strings.EqualFold(l.Name, a.Name):
		c := base
		c.ID, c.Action, c.NewDN = id(Rename, a.ID), Rename, a.DN
		c.Drift = prev != nil && strings.EqualFold(prev.Name, a.Name)
		c.Attributes = []AttrChange{{Name: directory.AttrSAMAccountName, Old: l.Name, New: a.Name, Field: "metadata.name", Drift: c.Drift}}
		for _, name := range []string{directory.AttrUserPrincipalName, directory.AttrMail} {
			if ac, ok := df.attr(a, l, prev, name); ok {
				c.Attributes = append(c.Attributes, ac)
			}
			done[name] = true
		}
		text := fmt.Sprintf("renamed from %s to %s (same metadata.id %s)", l.Name, a.Name, a.ID)
		for _, old := range a.PreviousNames {
			if strings.EqualFold(old, l.Name) {
				text = fmt.Sprintf("renamed from %s (spec.previousNames) to %s", l.Name, a.Name)
			}
		}
		r := desired.Reason{File: a.File, Line: a.Source.At("metadata.name").Line, Field: "metadata.name", Rule: "rename", Text: text}
		c.Reason = driftReason(r, c.Drift, "named "+l.Name+", though the files asked for "+a.Name+" at the last apply")
		df.add(c)
	case !directory.SameDN(l.DN, a.DN):
		c := base
		c.ID, c.Action, c.NewDN = id(Move, a.ID), Move, a.DN
		c.Drift = prev != nil && directory.SameDN(prev.DN, a.DN)
		r := a.Placement
		if directory.SameDN(desired.Parent(l.DN), desired.Parent(a.DN)) {
			r = desired.Reason{File: a.File, Line: a.Source.At("metadata.name").Line, Field: "metadata.name", Rule: "cn", Text: "the CN is the login " + a.Name}
		}
		c.Reason = driftReason(r, c.Drift, "at "+l.DN+", though the files asked for "+a.DN+" at the last apply")
		df.add(c)
	}

	// Attributes, and userAccountControl flags other than the disable bit.
	u := base
	u.ID, u.Action = id(Update, a.ID), Update
	for _, name := range directory.ManagedAttributes {
		if done[name] {
			continue
		}
		if ac, ok := df.attr(a, l, prev, name); ok {
			u.Attributes = append(u.Attributes, ac)
		}
	}
	target := (l.UAC &^ desired.ManagedUAC) | a.UAC
	haveBits, wantBits := l.UAC&desired.ManagedUAC, a.UAC&desired.ManagedUAC
	toggle := (haveBits^wantBits)&directory.UACAccountDisable != 0
	if !toggle && haveBits != wantBits {
		u.Attributes = append(u.Attributes, AttrChange{Name: directory.AttrUserAccountControl, Old: strconv.Itoa(l.UAC), New: strconv.Itoa(target),
			Field: "spec.accountFlags", Drift: prev != nil && prev.UAC == a.UAC})
	}
	if len(u.Attributes) > 0 {
		u.Drift = true
		var fields []string
		for _, ac := range u.Attributes {
			u.Drift = u.Drift && ac.Drift
			if ac.Field != "" {
				fields = append(fields, ac.Field)
			}
		}
		u.Reason = desired.Reason{File: a.File, Field: strings.Join(fields, ", "), Rule: "attributes",
			Text: fmt.Sprintf("%s sets %s", a.File, strings.Join(attrNames(u.Attributes), ", "))}
		if len(u.Attributes) == 1 {
			u.Reason = a.AttributeReasons[u.Attributes[0].Name]
			if u.Attributes[0].Name == directory.AttrUserAccountControl {
				u.Reason = desired.Reason{File: a.File, Field: "spec.template", Rule: "template " + a.Template,
					Text: "template " + a.Template + " sets the account flags"}
			}
		}
		u.Reason = driftReason(u.Reason, u.Drift, "the values differ from what the files asked at the last apply")
		if dep := df.created[a.ManagerID]; dep != "" {
			if _, ok := u.Attribute(directory.AttrManager); ok {
				u.DependsOn = []string{dep}
			}
		}
		df.add(u)
	}

	df.memberships(a, l, prev, base)

	if toggle {
		c := base
		c.Action = Disable
		found := "enabled, though the files asked for it disabled at the last apply"
		if a.Enabled {
			c.Action, found = Enable, "disabled, though the files asked for it enabled at the last apply"
		}
		c.ID = id(c.Action, a.ID)
		c.Drift = prev != nil && prev.Enabled == a.Enabled
		c.Attributes = []AttrChange{{Name: directory.AttrUserAccountControl, Old: strconv.Itoa(l.UAC), New: strconv.Itoa(target), Field: a.Lifecycle.Field, Drift: c.Drift}}
		c.Reason = driftReason(a.Lifecycle, c.Drift, found)
		df.add(c)
	}
}

func attrNames(acs []AttrChange) []string {
	names := make([]string, len(acs))
	for i, ac := range acs {
		names[i] = ac.Name
	}
	return names
}

// attr compares one managed attribute.
func (df *differ) attr(a *desired.Account, l *directory.Account, prev *desired.Account, name string) (AttrChange, bool) {
	want, have := a.Attributes[name], l.Attributes[name]
	same := want == have
	switch name {
	case directory.AttrManager:
		want = df.managerDN(a)
		same = directory.SameDN(want, have)
	case directory.AttrAccountExpires:
		same = want == have || (desired.NeverExpires(want) && desired.NeverExpires(have))
		if desired.NeverExpires(want) {
			want = directory.AccountExpiresNever
		}
	}
	if same {
		return AttrChange{}, false
	}
	drift := false
	if prev != nil {
		if name == directory.AttrManager {
			drift = prev.ManagerID == a.ManagerID
		} else {
			drift = prev.Attributes[name] == a.Attributes[name]
		}
	}
	return AttrChange{Name: name, Old: have, New: want, Field: a.AttributeReasons[name].Field, Drift: drift}, true
}

// memberships adds and removes the account's memberships of managed groups.
func (df *differ) memberships(a *desired.Account, l *directory.Account, prev *desired.Account, base Change) {
	want := map[string]desired.Group{} // lower-case DN
	for _, g := range a.Groups {
		want[lower(df.groupDN[lower(g.Name)])] = g
	}
	had := func(name string) bool {
		for _, g := range prev.Groups {
			if strings.EqualFold(g.Name, name) {
				return true
			}
		}
		return false
	}
	have := map[string]string{} // lower-case DN -> DN, managed groups only
	all := append(append([]string{}, l.MemberOf...), df.members[lower(l.DN)]...)
	sort.Slice(all, func(i, j int) bool { return lower(all[i]) < lower(all[j]) })
	for _, dn := range all {
		if _, managed := df.groupName[lower(dn)]; managed {
			have[lower(dn)] = dn
			continue
		}
		if _, seen := have["unmanaged:"+lower(dn)]; !seen {
			have["unmanaged:"+lower(dn)] = ""
			df.warn(a.File, a.Name, "%s is a member of %s, which no role names: alm leaves it alone; grant it through a role or remove it by hand", a.Name, dn)
		}
	}
	for _, g := range a.Groups {
		dn := df.groupDN[lower(g.Name)]
		if _, ok := have[lower(dn)]; ok {
			continue
		}
		c := base
		c.ID, c.Action, c.Group, c.GroupName = id(AddMember, a.ID, g.Name), AddMember, dn, g.Name
		c.Drift = prev != nil && had(g.Name)
		c.Reason = driftReason(g.Reason, c.Drift, "not a member, though the files asked for it at the last apply")
		df.add(c)
	}
	var gone []string
	for k, dn := range have {
		if _, ok := want[k]; !ok && dn != "" {
			gone = append(gone, dn)
		}
	}
	sort.Slice(gone, func(i, j int) bool { return lower(gone[i]) < lower(gone[j]) })
	for _, dn := range gone {
		name := df.groupName[lower(dn)]
		c := base
		c.ID, c.Action, c.Group, c.GroupName = id(RemoveMember, a.ID, name), RemoveMember, dn, name
		c.Drift = prev != nil && !had(name)
		r := a.NoGroups
		if !a.State.Groups && r.Text == "" {
			r = a.Lifecycle
		}
		if a.State.Groups {
			r = desired.Reason{File: a.File, Line: a.Source.At("spec.roles").Line, Field: "spec.roles", Rule: "roles",
				Text: fmt.Sprintf("no role of %s grants %s (alm manages it: %s)", a.File, name, df.groupRoles[lower(name)])}
		}
		c.Reason = driftReason(r, c.Drift, "a member, though the files did not ask for it at the last apply")
		df.add(c)
	}
}

// strays reports marked accounts no file claims, and orphans.
func (df *differ) strays() {
	ids := make([]string, 0, len(df.byID))
	for id := range df.byID {
		if !df.matchedIDs[id] && df.d.Account(id) == nil {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		l := df.byID[id]
		df.warn("", l.Name, "%s carries alm's marker for id %s, but no file has that id: alm leaves it alone; restore its file and retire it, or remove the marker", l.DN, id)
	}

	disable := df.d.Orphans == model.OrphansDisable
	for _, l := range df.unmarked {
		if df.d.IsProtected(l.Name, l.DN) {
			continue
		}
		o := Orphan{DN: l.DN, Name: l.Name, Enabled: l.Enabled(), Action: model.OrphansReport,
			Reason: "no alm marker: an account alm does not own in a managed OU"}
		if l.Marker != "" {
			o.Reason = fmt.Sprintf("its %s holds %q, not alm's marker: an account alm does not own in a managed OU", df.d.MarkerAttribute, l.Marker)
		}
		if file := df.claimed[lower(l.Name)]; file != "" {
			o.Reason += "; " + file + " wants its name: adopt it by writing alm's marker " + "on it"
		} else if disable && l.Enabled() {
			o.Action = model.OrphansDisable
			df.add(Change{ID: id(DisableOrphan, l.DN), Action: DisableOrphan, Account: l.Name, Marker: l.Marker, DN: l.DN,
				Attributes: []AttrChange{{Name: directory.AttrUserAccountControl, Old: strconv.Itoa(l.UAC), New: strconv.Itoa(l.UAC | directory.UACAccountDisable), Field: "spec.orphans"}},
				Reason: desired.Reason{File: model.DirectoryFile, Field: "spec.orphans", Rule: "orphans: disable",
					Text: "unmanaged account in a managed OU, and alm.yaml says orphans: disable"}})
		}
		df.p.Orphans = append(df.p.Orphans, o)
	}
	sort.SliceStable(df.p.Orphans, func(i, j int) bool { return lower(df.p.Orphans[i].DN) < lower(df.p.Orphans[j].DN) })
}

// ous plans the managed OUs that creates and moves need and the directory lacks.
func (df *differ) ous() {
	planned := map[string]string{} // lower-case OU DN -> change id
	n := len(df.p.Changes)
	for i := 0; i < n; i++ {
		c := &df.p.Changes[i]
		target := ""
		switch c.Action {
		case Create:
			target = c.DN
		case Move, Rename:
			target = c.NewDN
		default:
			continue
		}
		ou := desired.Parent(target)
		if ou == "" || df.ouExists[lower(ou)] {
			continue
		}
		ouID, ok := planned[lower(ou)]
		if !ok {
			ouID = id(CreateOU, ou)
			planned[lower(ou)] = ouID
			r := desired.Reason{File: c.File, Rule: "ou", Text: fmt.Sprintf("%s must live in %s, which does not exist", c.Account, ou)}
			if a := df.d.Account(c.AccountID); a != nil {
				r.File, r.Line, r.Field, r.Date = a.Placement.File, a.Placement.Line, a.Placement.Field, a.Placement.Date
				r.Text += "; " + a.Placement.Text
			}
			df.add(Change{ID: ouID, Action: CreateOU, DN: ou, Reason: r})
			c = &df.p.Changes[i] // the append may have moved the slice
		}
		c.DependsOn = append(c.DependsOn, ouID)
	}
}

// sortChanges puts changes in apply's order: by phase, then OUs parents
// first, then by account and group.
func sortChanges(cs []Change) {
	sort.SliceStable(cs, func(i, j int) bool {
		a, b := cs[i], cs[j]
		if pa, pb := a.Action.Phase(), b.Action.Phase(); pa != pb {
			return pa < pb
		}
		if a.Action == CreateOU {
			if da, db := strings.Count(a.DN, ","), strings.Count(b.DN, ","); da != db {
				return da < db
			}
			return lower(a.DN) < lower(b.DN)
		}
		if a.Account != b.Account {
			return a.Account < b.Account
		}
		if lower(a.GroupName) != lower(b.GroupName) {
			return lower(a.GroupName) < lower(b.GroupName)
		}
		return a.ID < b.ID
	})
}
