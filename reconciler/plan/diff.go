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
	// is marked drift - except what the files can never ask for (privileged
	// memberships no role grants, dangerous account flags), which is drift
	// always.
	Previous *desired.State
}

// Diff compares the desired state with the directory and returns the
// changes that make the directory match, in the order apply makes them,
// and the findings: whatever stays different that the changes do not put
// right.
//
// Accounts are matched by the ownership marker holding metadata.id, never
// by name. Accounts without alm's marker in the managed OUs are orphans:
// reported, and disabled only when alm.yaml says orphans: disable and they
// are neither built-in nor privileged (adminCount=1). Memberships of a
// managed account are kept equal to its roles for every group a role
// names and every group below the groups OU; a membership of a privileged
// group no role grants is always removed; any other membership follows
// alm.yaml's unmanagedMemberships (report, the default, or remove).
// Protected accounts - by name, or by identity: a RID below 1000 or a
// critical system object - get no change at all.
func Diff(d *desired.State, live *directory.Snapshot, opts Options) *Plan {
	p := &Plan{
		FormatVersion:  FormatVersion,
		Revision:       d.Revision,
		DirectoryState: live.Digest(),
		Now:            d.Now,
		BaseDN:         d.BaseDN,
		DriftKnown:     opts.Previous != nil,
		Changes:        []Change{},
		Findings:       []Finding{},
		Orphans:        []Orphan{},
		Warnings:       append([]desired.Warning{}, d.Warnings...),
	}
	df := &differ{d: d, live: live, prev: opts.Previous, p: p}
	df.index()
	df.adoptions()
	for _, a := range d.Accounts {
		df.account(a)
	}
	df.groupMembers()
	df.strays()
	df.missingGroups()
	df.ous()
	sortChanges(p.Changes)
	sort.SliceStable(p.Findings, func(i, j int) bool { return p.Findings[i].ID < p.Findings[j].ID })
	return p
}

type differ struct {
	d    *desired.State
	live *directory.Snapshot
	prev *desired.State
	p    *Plan

	byID       map[string]*directory.Account // marked accounts, by metadata.id
	byName     map[string]*directory.Account // every account, by lower-case sAMAccountName
	byDN       map[string]*directory.Account // every account, by lower-case DN
	unmarked   []*directory.Account
	groups     map[string]*directory.Group // every group read, by lower-case DN
	groupDN    map[string]string           // desired.GroupKey of a role's group -> DN ("" when it does not exist)
	groupName  map[string]string           // lower-case DN of a managed group -> its name as roles write it
	groupRoles map[string]string           // desired.GroupKey -> "role a, b names it"
	privileged map[string]string           // lower-case DN -> why the group is privileged
	missing    map[string][]string         // desired.GroupKey of a missing group -> the accounts that want it
	// meant: a privileged group (by lower-case DN) a role names by its name
	// though it is not below the groups OU -> the role's entry. Its members
	// the role grants are kept, and the finding says to name it by DN.
	meant       map[string]desired.ManagedGroup
	unprivGrant map[string][]string // lower-case DN of a privileged group -> roles not marked privileged that name it
	members     map[string][]string
	ouExists    map[string]bool
	created     map[string]string // account id -> the create change's id
	claimed     map[string]string // lower-case name of an unmarked account -> file of the account that wants it
	matchedIDs  map[string]bool
	adopted     map[string]bool               // lower-case DN of an unmarked account a file adopts
	adoptable   map[string]*directory.Account // metadata.id -> the account it adopts, as it will be once marked
	groupMade   map[string]string             // desired.GroupKey -> the change that creates or renames the group
	renamedTo   map[string]string             // lower-case DN of a group renamed -> its new DN
}

func lower(s string) string { return strings.ToLower(s) }

func (df *differ) index() {
	df.byID, df.byName, df.byDN = map[string]*directory.Account{}, map[string]*directory.Account{}, map[string]*directory.Account{}
	df.ouExists, df.created, df.claimed, df.matchedIDs = map[string]bool{}, map[string]string{}, map[string]string{}, map[string]bool{}
	df.missing = map[string][]string{}
	df.adopted, df.groupMade, df.renamedTo = map[string]bool{}, map[string]string{}, map[string]string{}
	for _, ou := range df.live.OUs {
		df.ouExists[lower(ou)] = true
	}
	df.ouExists[lower(df.d.BaseDN)] = true
	for i := range df.live.Accounts {
		l := &df.live.Accounts[i]
		df.byName[lower(l.Name)] = l
		df.byDN[lower(l.DN)] = l
		// An account stands in an OU, so the OU exists.
		df.ouExists[lower(directory.Parent(l.DN))] = true
		id, ok := directory.IDFromMarker(l.Marker)
		if !ok {
			df.unmarked = append(df.unmarked, l)
			continue
		}
		df.p.Managed++
		if other := df.byID[id]; other != nil {
			df.find(Finding{Kind: FindingDuplicateMarker, DN: l.DN, Account: l.Name, AccountID: id,
				Text: fmt.Sprintf("%s and %s both carry alm's marker for id %s: alm changes only %s", other.DN, l.DN, id, other.DN),
				Fix:  fmt.Sprintf("remove the marker (%s) from the one that is not %s's account", df.d.MarkerAttribute, id)})
			continue
		}
		df.byID[id] = l
	}

	df.privileged = df.live.Privileged()
	byName, byCN := map[string]string{}, map[string]string{}
	df.groups = map[string]*directory.Group{}
	df.members = map[string][]string{}
	groupBase := df.d.GroupsOU
	if groupBase == "" {
		groupBase = df.d.BaseDN
	}
	for i := range df.live.Groups {
		g := &df.live.Groups[i]
		df.groups[lower(g.DN)] = g
		for _, m := range g.Members {
			df.members[lower(m)] = append(df.members[lower(m)], g.DN)
		}
		// Roles name groups by name only below the groups OU: a privileged
		// group read from elsewhere must not answer to a role's name.
		if !directory.Under(g.DN, groupBase) {
			continue
		}
		byName[lower(g.Name)] = g.DN
		if cn := directory.FirstValue(g.DN); cn != "" {
			if _, ok := byCN[lower(cn)]; !ok {
				byCN[lower(cn)] = g.DN
			}
		}
	}
	df.groupDN, df.groupName, df.groupRoles = map[string]string{}, map[string]string{}, map[string]string{}
	df.meant, df.unprivGrant = map[string]desired.ManagedGroup{}, map[string][]string{}
	for _, mg := range df.d.Groups {
		key := desired.GroupKey(mg.Name)
		if len(mg.Roles) == 1 {
			df.groupRoles[key] = "role " + mg.Roles[0] + " names it"
		} else {
			df.groupRoles[key] = "roles " + strings.Join(mg.Roles, ", ") + " name it"
		}
		var dn string
		if mg.DN != "" {
			if g := df.groupAt(mg.DN); g != nil {
				dn = g.DN
			}
		} else if found, ok := byName[lower(mg.Name)]; ok {
			dn = found
		} else if found, ok := byCN[lower(mg.Name)]; ok {
			dn = found
			// A group alm created whose cn has the new name but whose
			// sAMAccountName does not: a rename stopped half-way.
			if g := df.groups[lower(found)]; df.live.Created(g, df.privileged) && !strings.EqualFold(g.Name, mg.Name) {
				c := Change{ID: id(RenameGroup, key), Action: RenameGroup, DN: g.DN, NewDN: g.DN, GUID: g.GUID, Marker: g.Marker,
					Group: g.DN, GroupGUID: g.GUID, GroupName: mg.Name, Drift: true,
					Attributes: []AttrChange{{Name: directory.AttrSAMAccountName, Old: g.Name, New: mg.Name, Field: "spec.groups"}},
					Reason: desired.Reason{File: mg.File, Field: "spec.groups", Rule: "group rename",
						Text: fmt.Sprintf("drift: group %s is named %q, its sAMAccountName %q: a rename that stopped half-way, finished", g.DN, mg.Name, g.Name)}}
				df.add(c)
				df.groupMade[key] = c.ID
			}
		}
		if dn == "" && mg.DN == "" {
			dn = df.makeGroup(mg, key, byName, byCN)
		}
		df.groupDN[key] = dn
		if dn != "" {
			df.groupName[lower(dn)] = mg.Name
			if df.privileged[lower(dn)] != "" && !mg.Privileged {
				df.unprivGrant[lower(dn)] = mg.Roles
			}
			continue
		}
		if mg.DN == "" {
			for pdn := range df.privileged {
				if g := df.groups[pdn]; g != nil && strings.EqualFold(g.Name, mg.Name) {
					df.meant[pdn] = mg
				}
			}
		}
	}
}

// makeGroup plans the group a role names by name that the directory
// lacks: a rename of the group alm created under an earlier name, else a
// create. It returns the DN the group will have.
func (df *differ) makeGroup(mg desired.ManagedGroup, key string, byName, byCN map[string]string) string {
	dn := df.d.GroupDN(mg.Name)
	why := df.groupRoles[key]
	for _, prev := range mg.Previous {
		old, ok := byName[lower(prev)]
		if !ok {
			old, ok = byCN[lower(prev)]
		}
		if !ok {
			continue
		}
		g := df.groups[lower(old)]
		if !df.live.Created(g, df.privileged) {
			df.find(Finding{Kind: FindingGroupRename, File: mg.File, Group: mg.Name, DN: g.DN,
				Text: fmt.Sprintf("group %q (%s) was %q, and %s is not a group alm created: alm renames only its own groups, so it keeps the members in %s", mg.Name, why, prev, g.DN, g.DN),
				Fix:  fmt.Sprintf("rename %s to %q by hand (cn and sAMAccountName), or name it %q in %s again", g.DN, mg.Name, prev, mg.File)})
			return g.DN
		}
		c := Change{ID: id(RenameGroup, key), Action: RenameGroup, DN: g.DN, NewDN: dn, GUID: g.GUID, Marker: g.Marker,
			Group: g.DN, GroupGUID: g.GUID, GroupName: mg.Name,
			Attributes: []AttrChange{{Name: directory.AttrSAMAccountName, Old: g.Name, New: mg.Name, Field: "spec.renamedGroups"}},
			Reason: desired.Reason{File: mg.File, Field: "spec.renamedGroups", Rule: "group rename",
				Text: fmt.Sprintf("group %q is now %q (%s): the group alm created is renamed, keeping its members", prev, mg.Name, why)}}
		df.add(c)
		df.groupMade[key] = c.ID
		df.renamedTo[lower(g.DN)] = dn
		moved := *g
		moved.DN, moved.Name = dn, mg.Name
		df.groups[lower(dn)] = &moved
		return dn
	}
	// The name must be free: AD keeps sAMAccountName unique across users
	// and groups. A group of that name elsewhere (a privileged one, most
	// likely what was meant) or an account keeps it missing: a finding.
	for i := range df.live.Groups {
		if strings.EqualFold(df.live.Groups[i].Name, mg.Name) {
			return ""
		}
	}
	if df.byName[lower(mg.Name)] != nil {
		return ""
	}
	c := Change{ID: id(CreateGroup, key), Action: CreateGroup, DN: dn, Group: dn, GroupName: mg.Name,
		Marker: directory.GroupMarker(mg.Name),
		Reason: desired.Reason{File: mg.File, Field: "spec.groups", Rule: "role",
			Text: fmt.Sprintf("group %q (%s) does not exist: alm creates it as a global security group carrying its marker", mg.Name, why)}}
	df.add(c)
	df.groupMade[key] = c.ID
	return dn
}

// guidOf is the objectGUID of a group read, "" for one this run creates.
func (df *differ) guidOf(dn string) string {
	if g := df.groups[lower(dn)]; g != nil {
		return g.GUID
	}
	return ""
}

// groupDeps are the changes an add to a group waits for: its create or rename.
func (df *differ) groupDeps(name string, deps []string) []string {
	if c := df.groupMade[desired.GroupKey(name)]; c != "" {
		return append(deps, c)
	}
	return deps
}

// groupAt finds a group read by its DN, however the DN is spelt.
func (df *differ) groupAt(dn string) *directory.Group {
	if g := df.groups[lower(dn)]; g != nil {
		return g
	}
	for i := range df.live.Groups {
		if directory.SameDN(df.live.Groups[i].DN, dn) {
			return &df.live.Groups[i]
		}
	}
	return nil
}

func (df *differ) warn(file, account, format string, args ...any) {
	df.p.Warnings = append(df.p.Warnings, desired.Warning{File: file, Account: account, Text: fmt.Sprintf(format, args...)})
}

// find records a finding, giving it its ID.
func (df *differ) find(f Finding) {
	who := f.AccountID
	if who == "" {
		who = lower(f.DN)
	}
	switch {
	case f.AccountID == "" && f.Group != "":
		f.ID = f.Kind + ":" + lower(f.Group) // about a group, not an account
	case f.Group != "":
		f.ID = f.Kind + ":" + who + ":" + lower(f.Group)
	default:
		f.ID = f.Kind + ":" + who
	}
	df.p.Findings = append(df.p.Findings, f)
}

func (df *differ) add(c Change) { df.p.Changes = append(df.p.Changes, c) }

func (df *differ) account(a *desired.Account) {
	if a.Protected {
		return // desired already warned that a file names a protected account
	}
	l := df.byID[a.ID]
	if l != nil {
		df.matchedIDs[a.ID] = true
		why := l.Builtin()
		if df.d.IsProtected(l.Name, l.DN) {
			why = "on alm's protected list"
		}
		if why != "" {
			df.find(Finding{Kind: FindingProtectedMarked, Account: l.Name, AccountID: a.ID, File: a.File, DN: l.DN,
				Text: fmt.Sprintf("%s carries alm's marker for %s but is %s: alm never touches it", l.DN, a.File, why),
				Fix:  fmt.Sprintf("remove the marker (%s) from %s, and give %s an account of its own", df.d.MarkerAttribute, l.DN, a.File)})
			return
		}
	}
	prev := df.prev.Account(a.ID) // nil when unknown
	adopt := ""
	if l == nil && a.Adopt {
		if l, adopt = df.adopt(a); l == nil {
			if a.Exists && df.byName[lower(a.Name)] == nil {
				df.create(a, prev)
			}
			return
		}
	}
	n := len(df.p.Changes)
	defer func() {
		if adopt != "" {
			df.withhold(a, n, adopt)
		}
	}()
	switch {
	case l == nil && a.Exists:
		df.create(a, prev)
	case l == nil:
		// Not yet provisioned, or already gone: nothing to do.
	case a.Delete:
		df.add(Change{ID: id(Delete, a.ID), Action: Delete, AccountID: a.ID, Account: a.Name, Kind: a.Kind, File: a.File,
			Marker: l.Marker, DN: l.DN, GUID: l.GUID, Drift: prev != nil && prev.Delete,
			Reason: driftReason(a.Lifecycle, prev != nil && prev.Delete, "still in the directory, though the files asked for its deletion at the last apply")})
	default:
		df.existing(a, l, prev)
	}
}

// withhold takes out of the plan every change to an account adopted in
// this run but the adoption (the changes from index n on), and says in a
// finding what the next plan will do: the run that adopts writes the
// marker and nothing else, so that taking an account over never also
// disables, moves or rewrites it before a person has seen that in a plan
// of an account alm owns.
func (df *differ) withhold(a *desired.Account, n int, adopt string) {
	var kept []Change
	var later []string
	for i, c := range df.p.Changes {
		if i < n || c.AccountID != a.ID || c.ID == adopt {
			kept = append(kept, c)
			continue
		}
		later = append(later, sketch(c))
	}
	df.p.Changes = kept
	if len(later) == 0 {
		return
	}
	df.find(Finding{Kind: FindingAdoption, Account: a.Name, AccountID: a.ID, File: a.File, DN: df.adoptable[a.ID].DN,
		Text: fmt.Sprintf("%s adopts %s: this run writes only alm's marker; once it is alm's, the next plan will %s",
			a.File, df.adoptable[a.ID].DN, strings.Join(later, "; ")),
		Fix: fmt.Sprintf("apply, then review those changes in the next plan; or edit %s so that it says what the directory holds", a.File)})
}

// sketch is a change in a few words, for a finding.
func sketch(c Change) string {
	var words []string
	for _, ac := range c.Attributes {
		words = append(words, fmt.Sprintf("%s %q -> %q", ac.Name, ac.Old, ac.New))
	}
	s := string(c.Action)
	switch {
	case c.GroupName != "":
		s += " " + c.GroupName
	case c.NewDN != "":
		s += " to " + c.NewDN
	}
	if len(words) > 0 {
		s += " (" + strings.Join(words, ", ") + ")"
	}
	return s
}

// adoptions finds, before any account is diffed, the accounts files
// adopt (metadata.adopt): so that a manager adopted in this run is named
// by its DN like any account alm owns. What may not be adopted is a
// finding, and the account stays unowned.
func (df *differ) adoptions() {
	df.adoptable = map[string]*directory.Account{}
	for _, a := range df.d.Accounts {
		if !a.Adopt || a.Protected || df.byID[a.ID] != nil {
			continue
		}
		u := df.byName[lower(a.Name)]
		if u == nil {
			if a.Exists {
				df.warn(a.File, a.Name, "metadata.adopt: no account named %s in the managed OUs to adopt, so alm creates it; remove adopt: true if that is what you want", a.Name)
			}
			continue
		}
		refuse := func(text, fix string) {
			df.claimed[lower(u.Name)] = a.File
			df.find(Finding{Kind: FindingAdoptRefused, Account: a.Name, AccountID: a.ID, File: a.File, DN: u.DN, Text: text, Fix: fix})
		}
		other, marked := directory.IDFromMarker(u.Marker)
		switch prev := df.prev.Account(a.ID); {
		case marked:
			refuse(fmt.Sprintf("%s is not adopted: it carries alm's marker for id %s already", u.DN, other),
				fmt.Sprintf("give %s another login, or remove adopt: true from it if the account is the one id %s's file describes", a.File, other))
		case prev != nil && prev.Exists && !prev.Delete:
			// alm applied this file before: the account it made or adopted
			// lost its marker, or another took its login since.
			refuse(fmt.Sprintf("%s is not adopted: alm has managed %s's account before, and this one carries no marker: it may be another account that took the login", u.DN, a.File),
				fmt.Sprintf("if it is the same account, write %q into its %s by hand; if not, rename or remove it, and alm creates %s's account again", directory.Marker(a.ID), df.d.MarkerAttribute, a.Name))
		case u.Builtin() != "":
			refuse(fmt.Sprintf("%s is not adopted: it is %s, and alm never touches it", u.DN, u.Builtin()), "remove "+a.File)
		case df.d.IsProtected(u.Name, u.DN):
			refuse(fmt.Sprintf("%s is not adopted: it is on alm's protected list", u.DN), fmt.Sprintf("remove %s, or take it off spec.protected in %s", a.File, model.DirectoryFile))
		case u.Marker != "":
			refuse(fmt.Sprintf("%s is not adopted: its %s holds %q, which alm would overwrite with its marker", u.DN, df.d.MarkerAttribute, u.Marker),
				fmt.Sprintf("clear %s on %s if nothing needs that value, or choose another spec.markerAttribute in %s", df.d.MarkerAttribute, u.DN, model.DirectoryFile))
		default:
			adopted := *u
			adopted.Marker = directory.Marker(a.ID)
			df.adoptable[a.ID] = &adopted
			df.adopted[lower(u.DN)] = true
		}
	}
}

// adopt plans the adoption a file asks for: the unmarked account of its
// name gets alm's marker, and nothing else; the rest of the plan then
// treats it as alm's. It returns the account as it will be once adopted
// and the adopt change's id, or nil when there is nothing alm may adopt.
func (df *differ) adopt(a *desired.Account) (*directory.Account, string) {
	adopted := df.adoptable[a.ID]
	if adopted == nil {
		return nil, ""
	}
	u := df.byDN[lower(adopted.DN)]
	df.p.Managed++
	c := Change{ID: id(Adopt, a.ID), Action: Adopt, AccountID: a.ID, Account: a.Name, Kind: a.Kind, File: a.File,
		Marker: directory.Marker(a.ID), DN: u.DN, GUID: u.GUID,
		Attributes: []AttrChange{{Name: df.d.MarkerAttribute, New: directory.Marker(a.ID), Field: "metadata.adopt"}},
		Reason: desired.Reason{File: a.File, Line: a.Source.At("metadata.adopt").Line, Field: "metadata.adopt", Rule: "adopt",
			Text: fmt.Sprintf("%s adopts the existing account %s: alm writes its marker and nothing else", a.File, u.DN)}}
	df.add(c)
	df.matchedIDs[a.ID] = true
	return adopted, c.ID
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
		fix := fmt.Sprintf("to manage %s with alm, add adopt: true under metadata in %s: the next apply then writes %q into its %s and nothing else (alm import writes such files); or free the name", l.DN, a.File, directory.Marker(a.ID), df.d.MarkerAttribute)
		if id, ok := directory.IDFromMarker(l.Marker); ok {
			holder = "the account with id " + id
			fix = "give one of the two another name"
		} else {
			df.claimed[lower(l.Name)] = a.File
		}
		df.find(Finding{Kind: FindingNameTaken, Account: a.Name, AccountID: a.ID, File: a.File, DN: l.DN,
			Text: fmt.Sprintf("%s is not created: its name is held by %s (%s)", a.Name, holder, l.DN), Fix: fix})
		return
	}
	if l := df.byDN[lower(a.DN)]; l != nil {
		df.find(Finding{Kind: FindingDNTaken, Account: a.Name, AccountID: a.ID, File: a.File, DN: a.DN,
			Text: fmt.Sprintf("%s is not created: %s is held by %s", a.Name, a.DN, l.Name),
			Fix:  "rename or move the account that holds the DN, or rename " + a.File})
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
		dn := df.groupDN[desired.GroupKey(g.Name)]
		if dn == "" {
			df.missingGroup(g.Name, a.Name)
			continue
		}
		m := base
		m.ID, m.Action, m.DependsOn = id(AddMember, a.ID, g.Name), AddMember, df.groupDeps(g.Name, []string{createID})
		m.Group, m.GroupGUID, m.GroupName = dn, df.guidOf(dn), g.Name
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

// missingGroup notes an account that wants a group that does not exist;
// missingGroups makes one finding per group of them.
func (df *differ) missingGroup(group, account string) {
	k := desired.GroupKey(group)
	df.missing[k] = append(df.missing[k], account)
}

func (df *differ) missingGroups() {
	for _, mg := range df.d.Groups {
		k := desired.GroupKey(mg.Name)
		if df.groupDN[k] != "" {
			continue
		}
		where := "below " + df.d.GroupsOU
		fix := fmt.Sprintf("create group %q in %s, or correct the group's name in %s", mg.Name, df.d.GroupsOU, mg.File)
		switch {
		case mg.DN != "":
			where = "at that DN"
			fix = fmt.Sprintf("create it, or correct the DN in %s", mg.File)
		case df.d.GroupsOU == "":
			where = "below " + df.d.BaseDN
			fix = fmt.Sprintf("create group %q, or correct the group's name in %s", mg.Name, mg.File)
		}
		// A privileged group elsewhere of that name is likely what was meant.
		for dn, why := range df.privileged {
			if g := df.groups[dn]; g != nil && strings.EqualFold(g.Name, mg.Name) {
				fix = fmt.Sprintf("%s is %s: name it by its DN in %s (%q), or create %q", g.DN, why, mg.File, g.DN, mg.Name)
			}
		}
		text := fmt.Sprintf("group %q (%s) does not exist %s", mg.Name, df.groupRoles[k], where)
		who := df.missing[k]
		if len(who) == 0 {
			// No account holds the role now: nothing in the directory differs yet.
			df.warn(mg.File, "", "%s; no account holds it yet: %s", text, fix)
			continue
		}
		text += fmt.Sprintf(": %d %s should be members (%s) and are not added", len(who), plural(len(who), "account"), strings.Join(first(who, 5), ", "))
		df.find(Finding{Kind: FindingMissingGroup, File: mg.File, Group: mg.Name, DN: mg.DN, Text: text, Fix: fix})
	}
}

func first(s []string, n int) []string {
	if len(s) <= n {
		return s
	}
	return append(append([]string{}, s[:n]...), fmt.Sprintf("and %d more", len(s)-n))
}

// managerDN is the manager value to write: the manager's DN as the
// directory holds it now. The directory keeps DN-valued attributes pointing
// at their object when it moves, so a manager moved later in the same run
// is followed. A manager this run creates is named by the DN it will have.
//
// A manager this run cannot create (its name or DN is held by another
// object: a finding) gives no manager: a DN naming nothing would make the
// write fail.
func (df *differ) managerDN(a *desired.Account) string {
	if a.Attributes[directory.AttrManager] == "" {
		return ""
	}
	if m := df.byID[a.ManagerID]; m != nil {
		return m.DN
	}
	if m := df.adoptable[a.ManagerID]; m != nil {
		return m.DN
	}
	if m := df.d.Account(a.ManagerID); m != nil && (df.byName[lower(m.Name)] != nil || df.byDN[lower(m.DN)] != nil) {
		return ""
	}
	return a.Attributes[directory.AttrManager]
}

func (df *differ) existing(a *desired.Account, l *directory.Account, prev *desired.Account) {
	base := Change{AccountID: a.ID, Account: a.Name, Kind: a.Kind, File: a.File, Marker: l.Marker, DN: l.DN, GUID: l.GUID}
	done := map[string]bool{} // attributes a rename already sets

	// Rename or move: one modrdn either way - unless another object holds
	// the DN, which would make it fail.
	moving := !strings.EqualFold(l.Name, a.Name) || !directory.SameDN(l.DN, a.DN)
	if other := df.byDN[lower(a.DN)]; moving && other != nil && other != l {
		df.find(Finding{Kind: FindingDNTaken, Account: a.Name, AccountID: a.ID, File: a.File, DN: a.DN,
			Text: fmt.Sprintf("%s stays at %s: %s, where it belongs, is held by %s", a.Name, l.DN, a.DN, other.Name),
			Fix:  "rename or move the account that holds the DN, or rename " + a.File})
		moving = false
	}
	switch {
	case !moving:
	case !strings.EqualFold(l.Name, a.Name):
		c := base
		c.ID, c.Action, c.NewDN = id(Rename, a.ID), Rename, a.DN
		c.Drift = prev != nil && strings.EqualFold(prev.Name, a.Name)
		c.Attributes = []AttrChange{{Name: directory.AttrSAMAccountName, Old: l.Name, New: a.Name, Field: "metadata.name", Drift: c.Drift}}
		for _, name := range []string{directory.AttrUserPrincipalName, directory.AttrMail} {
			if a.Unowned[name] {
				continue
			}
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
	default:
		c := base
		c.ID, c.Action, c.NewDN = id(Move, a.ID), Move, a.DN
		c.Drift = prev != nil && directory.SameDN(prev.DN, a.DN)
		r := a.Placement
		if directory.SameDN(directory.Parent(l.DN), directory.Parent(a.DN)) {
			r = df.cnReason(a)
		}
		c.Reason = driftReason(r, c.Drift, "at "+l.DN+", though the files asked for "+a.DN+" at the last apply")
		df.add(c)
	}

	// A half-made account gets its password before anything else grants.
	repair := ""
	if l.NoPassword {
		repair = id(SetPassword, a.ID)
		c := base
		c.ID, c.Action, c.Drift = repair, SetPassword, true
		c.Reason = desired.Reason{File: a.File, Rule: "half-made",
			Text: "the account carries alm's marker but never had a password: an apply stopped between its add and its password; it gets a random one before anything enables it"}
		df.add(c)
		df.find(Finding{Kind: FindingHalfMade, Account: a.Name, AccountID: a.ID, File: a.File, DN: l.DN,
			Text:       fmt.Sprintf("%s was made by alm but never got a password", l.DN),
			Fix:        "alm apply gives it a random password (this plan's set-password) before it is enabled",
			RepairedBy: repair})
	}

	// Attributes, and userAccountControl flags other than the disable bit.
	u := base
	u.ID, u.Action = id(Update, a.ID), Update
	for _, name := range directory.ManagedAttributes {
		if done[name] || a.Unowned[name] {
			continue // an attribute alm does not own and the file does not set stays as it is
		}
		if ac, ok := df.attr(a, l, prev, name); ok {
			u.Attributes = append(u.Attributes, ac)
		}
	}
	mask := desired.ManagedUAC(a.UAC)
	target := (l.UAC &^ mask) | a.UAC&mask
	haveBits, wantBits := l.UAC&mask, a.UAC&mask
	toggle := (haveBits^wantBits)&directory.UACAccountDisable != 0
	flagsReason := desired.Reason{}
	if flags := (haveBits ^ wantBits) &^ directory.UACAccountDisable; flags != 0 {
		// Flags set that the template does not ask for weaken the account:
		// drift whoever set them. Flags the template asks for are drift
		// when the files asked for them at the last apply too.
		added, removed := flags&haveBits, flags&wantBits
		drift := added != 0 || (prev != nil && prev.UAC == a.UAC)
		var words []string
		if added != 0 {
			words = append(words, "set by hand and not asked for by template "+a.Template+": "+strings.Join(desired.FlagNames(added), ", ")+risk(added))
		}
		if removed != 0 {
			words = append(words, "template "+a.Template+" asks for "+strings.Join(desired.FlagNames(removed), ", "))
		}
		flagsReason = desired.Reason{File: a.File, Field: "spec.template", Rule: "template " + a.Template, Text: "account flags: " + strings.Join(words, "; ")}
		if !toggle {
			u.Attributes = append(u.Attributes, AttrChange{Name: directory.AttrUserAccountControl, Old: strconv.Itoa(l.UAC), New: strconv.Itoa(target),
				Field: "spec.accountFlags", Drift: drift})
		}
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
				u.Reason = flagsReason
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
		if flagsReason.Text != "" {
			c.Reason.Text += "; " + flagsReason.Text
		}
		if a.Enabled && repair != "" {
			c.DependsOn = []string{repair} // never enabled before it has a password
		}
		df.add(c)
	}
}

// cnReason says where an account's cn comes from.
func (df *differ) cnReason(a *desired.Account) desired.Reason {
	if f := a.Source.At("spec.cn"); f.Line > 0 && f.Line != a.Source.Line {
		return desired.Reason{File: a.File, Line: f.Line, Field: "spec.cn", Rule: "cn", Text: fmt.Sprintf("spec.cn in %s makes the cn %q", a.File, a.CN)}
	}
	return desired.Reason{File: a.File, Field: "spec.template", Rule: "cn",
		Text: fmt.Sprintf("template %s's cn format makes the cn %q (templates' spec.cn: login, displayName or a format)", a.Template, a.CN)}
}

// risk says what the dangerous flags among bits expose.
func risk(bits int) string {
	var out []string
	for _, name := range desired.FlagNames(bits) {
		if f, ok := desired.DangerousFlags[name]; ok && bits&f.Bit != 0 {
			out = append(out, f.Risk)
		}
	}
	if len(out) == 0 {
		return ""
	}
	return " (" + strings.Join(out, "; ") + ")"
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

// memberships adds and removes the account's memberships: every group its
// roles grant is added; every membership it holds is judged by what the
// group is - one a role names or in the groups OU (kept equal to the
// roles), privileged (removed unless a role grants it), or any other
// (alm.yaml's unmanagedMemberships).
func (df *differ) memberships(a *desired.Account, l *directory.Account, prev *desired.Account, base Change) {
	want := map[string]desired.Group{} // lower-case DN
	for _, g := range a.Groups {
		// A privileged group is granted only by a role marked privileged.
		if dn := df.groupDN[desired.GroupKey(g.Name)]; dn != "" && (g.Privileged || df.privileged[lower(dn)] == "") {
			want[lower(dn)] = g
		}
	}
	had := func(name string) bool {
		for _, g := range prev.Groups {
			if desired.GroupKey(g.Name) == desired.GroupKey(name) {
				return true
			}
		}
		return false
	}
	have := map[string]string{} // lower-case DN -> DN
	for _, dn := range append(append([]string{}, l.MemberOf...), df.members[lower(l.DN)]...) {
		if to, ok := df.renamedTo[lower(dn)]; ok {
			dn = to // the group keeps its members through the rename
		}
		have[lower(dn)] = dn
	}
	privilegedKept := false // a privileged group the account keeps: adminCount is expected
	for _, g := range a.Groups {
		dn := df.groupDN[desired.GroupKey(g.Name)]
		if dn == "" {
			df.missingGroup(g.Name, a.Name)
			for pdn, mg := range df.meant {
				if desired.GroupKey(mg.Name) == desired.GroupKey(g.Name) && g.Privileged {
					want[pdn] = g // kept while the role names it by name; the finding says to name it by DN
					privilegedKept = true
				}
			}
			continue
		}
		if _, ok := want[lower(dn)]; !ok {
			continue // a privileged group a role not marked privileged names: no grant
		}
		if df.privileged[lower(dn)] != "" {
			privilegedKept = true
		}
		if _, ok := have[lower(dn)]; ok {
			continue
		}
		c := base
		c.ID, c.Action, c.Group, c.GroupGUID, c.GroupName = id(AddMember, a.ID, g.Name), AddMember, dn, df.guidOf(dn), g.Name
		c.DependsOn = df.groupDeps(g.Name, append([]string{}, c.DependsOn...))
		c.Drift = prev != nil && had(g.Name)
		c.Reason = driftReason(g.Reason, c.Drift, "not a member, though the files asked for it at the last apply")
		df.add(c)
	}
	keys := make([]string, 0, len(have))
	for k := range have {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, ok := want[k]; ok {
			continue
		}
		dn := have[k]
		c := base
		c.Action, c.Group = RemoveMember, dn
		if g := df.groups[k]; g != nil {
			c.GroupGUID = g.GUID
		}
		c.Privileged = df.privileged[k]
		name, managed := df.groupName[k]
		roles, unprivileged := df.unprivGrant[k]
		switch {
		case managed && unprivileged && c.Privileged != "":
			c.GroupName, c.Drift = name, true
			c.Reason = desired.Reason{File: a.File, Line: a.Source.At("spec.roles").Line, Field: "spec.roles", Rule: "privileged",
				Text: fmt.Sprintf("drift: %s is a member of %s, %s; %s %s it, but no role marked privileged: true grants it, and a privileged membership only a privileged role's approvers approved is kept",
					a.Name, dn, c.Privileged, plural(len(roles), "role")+" "+strings.Join(roles, ", "), plural2(len(roles), "names", "name"))}
		case managed:
			c.GroupName = name
			c.Drift = prev != nil && !had(name)
			r := a.NoGroups
			if !a.State.Groups && r.Text == "" {
				r = a.Lifecycle
			}
			if a.State.Groups {
				r = desired.Reason{File: a.File, Line: a.Source.At("spec.roles").Line, Field: "spec.roles", Rule: "roles",
					Text: fmt.Sprintf("no role of %s grants %s (alm manages it: %s)", a.File, name, df.groupRoles[desired.GroupKey(name)])}
			}
			if c.Privileged != "" {
				r.Text += "; it is " + c.Privileged
			}
			c.Reason = driftReason(r, c.Drift, "a member, though the files did not ask for it at the last apply")
		case c.Privileged != "":
			c.GroupName, c.Drift = df.nameOf(dn), true
			c.Reason = desired.Reason{File: a.File, Line: a.Source.At("spec.roles").Line, Field: "spec.roles", Rule: "privileged",
				Text: fmt.Sprintf("drift: %s is a member of %s, %s, and no role grants it: a privileged membership nothing in Git asked for is always removed", a.Name, dn, c.Privileged)}
		case directory.Under(dn, df.d.GroupsOU):
			c.GroupName, c.Drift = df.nameOf(dn), true
			c.Reason = desired.Reason{File: model.DirectoryFile, Field: "spec.groupsOU", Rule: "groups OU",
				Text: fmt.Sprintf("drift: %s is a member of %s, in the groups OU alm manages (%s), and no role names that group", a.Name, dn, df.d.GroupsOU)}
		case df.d.UnmanagedMemberships == model.MembershipsRemove:
			c.GroupName, c.Drift = df.nameOf(dn), true
			c.Reason = desired.Reason{File: model.DirectoryFile, Field: "spec.unmanagedMemberships", Rule: "unmanagedMemberships: remove",
				Text: fmt.Sprintf("drift: %s is a member of %s, which no role names, and alm.yaml says unmanagedMemberships: remove", a.Name, dn)}
		default:
			df.find(Finding{Kind: FindingUnmanagedMembership, Account: a.Name, AccountID: a.ID, File: a.File, DN: l.DN, Group: dn,
				Text: fmt.Sprintf("%s is a member of %s, which no role names: left as it is (alm.yaml unmanagedMemberships: report)", a.Name, dn),
				Fix:  fmt.Sprintf("grant it through a role in %s, remove the membership by hand, or set unmanagedMemberships: remove in %s", a.File, model.DirectoryFile)})
			continue
		}
		c.ID = id(RemoveMember, a.ID, c.GroupName)
		df.add(c)
	}
	for pdn, roles := range df.unprivGrant {
		for _, g := range a.Groups {
			if lower(df.groupDN[desired.GroupKey(g.Name)]) == pdn {
				df.unprivileged(pdn, roles)
			}
		}
	}
	if why := df.live.PrivilegedPrimary(l, df.privileged); why != "" && !privilegedKept {
		df.find(Finding{Kind: FindingPrivilegedPrimaryGroup, Account: a.Name, AccountID: a.ID, File: a.File, DN: l.DN,
			Text: fmt.Sprintf("%s is privileged through its primary group, which no member attribute shows: %s; no role grants it", l.DN, why),
			Fix:  fmt.Sprintf("make Domain Users its primary group again: add it to Domain Users, then Set-ADUser %s -Replace @{primaryGroupID=513} (alm does not change primary groups)", a.Name)})
	} else if why == "" && l.PrimaryGroupID != 0 && l.PrimaryGroupID != directory.DomainUsersRID {
		df.find(Finding{Kind: FindingUnmanagedMembership, Account: a.Name, AccountID: a.ID, File: a.File, DN: l.DN, Group: l.PrimaryGroupSID(),
			Text: fmt.Sprintf("%s's primary group is %s (primaryGroupID %d), not Domain Users: a membership no role names and no member attribute shows", a.Name, l.PrimaryGroupSID(), l.PrimaryGroupID),
			Fix:  fmt.Sprintf("make Domain Users its primary group again (Set-ADUser %s -Replace @{primaryGroupID=513}), or leave it and accept the finding", a.Name)})
	}
	if l.AdminCount && !privilegedKept {
		df.find(Finding{Kind: FindingAdminCount, Account: a.Name, AccountID: a.ID, File: a.File, DN: l.DN,
			Text: fmt.Sprintf("%s has adminCount=1, which AD sets on members of privileged groups and leaves behind, with the account's ACL inheritance turned off, when the membership goes; no role grants it a privileged group", l.DN),
			Fix: fmt.Sprintf("once it is out of every privileged group, clear adminCount and turn inheritance back on: Set-ADUser %s -Clear adminCount, then enable inheritance on its security descriptor (Security, Advanced, Enable inheritance; or dsacls %q /P:N)",
				a.Name, l.DN)})
	}
}

// unprivileged records, once per group, that roles not marked privileged
// name a privileged group: their holders are not added to it.
func (df *differ) unprivileged(dn string, roles []string) {
	g := df.groups[dn]
	id := FindingUnprivilegedGrant + ":" + dn
	for _, f := range df.p.Findings {
		if f.ID == id {
			return
		}
	}
	file := ""
	for _, mg := range df.d.Groups {
		if lower(df.groupDN[desired.GroupKey(mg.Name)]) == dn {
			file = mg.File
		}
	}
	df.p.Findings = append(df.p.Findings, Finding{ID: id, Kind: FindingUnprivilegedGrant, File: file, Group: g.DN,
		Text: fmt.Sprintf("%s is %s, and %s %s it without being marked privileged: alm adds no one to it for them, and removes those only they would grant",
			g.DN, df.privileged[dn], plural(len(roles), "role")+" "+strings.Join(roles, ", "), plural2(len(roles), "names", "name")),
		Fix: fmt.Sprintf("mark the role privileged: true with its own approvers (spec.approvers) in a reviewed pull request, or take %s out of it", g.Name)})
}

// nameOf is a group's sAMAccountName as read, or its DN's first value.
func (df *differ) nameOf(dn string) string {
	if g := df.groups[lower(dn)]; g != nil && g.Name != "" {
		return g.Name
	}
	return directory.FirstValue(dn)
}

// groupMembers removes from the groups alm created every member no role
// grants: the members that are accounts alm manages are judged with their
// account (memberships); any other member - an account alm does not
// manage, a group nested in it, anything else - no role can grant, so it
// is drift. A protected or built-in account is left, and reported.
func (df *differ) groupMembers() {
	for i := range df.live.Groups {
		g := &df.live.Groups[i]
		if !df.live.Created(g, df.privileged) || !directory.Under(g.DN, df.groupBase()) {
			continue
		}
		name := g.Name
		if n, ok := df.groupName[lower(g.DN)]; ok {
			name = n
		} else if to, ok := df.renamedTo[lower(g.DN)]; ok {
			name = df.groupName[lower(to)]
		}
		for _, m := range g.Members {
			acct := df.byDN[lower(m)]
			if acct != nil {
				if id, ok := directory.IDFromMarker(acct.Marker); ok && df.matchedIDs[id] {
					continue
				}
				if df.adopted[lower(acct.DN)] {
					continue
				}
				if why := acct.Builtin(); why != "" || df.d.IsProtected(acct.Name, acct.DN) {
					df.find(Finding{Kind: FindingProtectedMember, Account: acct.Name, DN: acct.DN, Group: g.DN,
						Text: fmt.Sprintf("%s is a member of %s, a group alm created, and no role grants it; it is protected, so alm leaves it there", acct.DN, g.DN),
						Fix:  fmt.Sprintf("remove %s from %s by hand, or grant the membership outside the groups alm creates", acct.Name, g.Name)})
					continue
				}
			} else if df.groups[lower(m)] == nil {
				// Outside what alm reads (an account in another OU, a
				// contact, a foreign principal): alm cannot tell whether
				// it is protected, so it leaves it.
				df.find(Finding{Kind: FindingUnreadMember, DN: m, Group: g.DN,
					Text: fmt.Sprintf("%s is a member of %s, a group alm created, and no role grants it; it is outside the OUs alm reads, so alm leaves it there", m, g.DN),
					Fix:  fmt.Sprintf("remove it from %s by hand, or move the account into an OU a template manages and give it a file", g.Name)})
				continue
			}
			c := Change{ID: id(RemoveMember, lower(m), name), Action: RemoveMember, DN: m, Group: g.DN, GroupGUID: g.GUID, GroupName: name,
				GroupMarker: g.Marker, Drift: true}
			what := "an object alm does not manage"
			if acct != nil {
				c.Account, c.GUID, c.Marker = acct.Name, acct.GUID, acct.Marker
				what = "an account alm does not manage"
			} else if og := df.groups[lower(m)]; og != nil {
				c.Account, c.GUID = og.Name, og.GUID
				what = "a group nested in it"
			}
			c.Privileged = df.privileged[lower(g.DN)]
			c.Reason = desired.Reason{File: model.DirectoryFile, Field: "spec.groupsOU", Rule: "group alm created",
				Text: fmt.Sprintf("drift: %s (%s) is a member of %s, a group alm created (its %s holds %q), and no role grants it", m, what, g.DN, df.d.MarkerAttribute, g.Marker)}
			df.add(c)
		}
	}
}

// groupBase is where groups named by name live.
func (df *differ) groupBase() string {
	if df.d.GroupsOU != "" {
		return df.d.GroupsOU
	}
	return df.d.BaseDN
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
		df.find(Finding{Kind: FindingStrayMarker, Account: l.Name, AccountID: id, DN: l.DN,
			Text: fmt.Sprintf("%s carries alm's marker for id %s, but no file has that id: alm leaves it alone", l.DN, id),
			Fix:  fmt.Sprintf("restore its file and retire it, or remove the marker (%s)", df.d.MarkerAttribute)})
	}

	disable := df.d.Orphans == model.OrphansDisable
	for _, l := range df.unmarked {
		if df.adopted[lower(l.DN)] {
			continue
		}
		o := Orphan{DN: l.DN, Name: l.Name, Enabled: l.Enabled(), Action: model.OrphansReport,
			Reason: "no alm marker: an account alm does not own in a managed OU"}
		if l.Marker != "" {
			o.Reason = fmt.Sprintf("its %s holds %q, not alm's marker: an account alm does not own in a managed OU", df.d.MarkerAttribute, l.Marker)
		}
		protected := ""
		switch {
		case l.Builtin() != "":
			protected = l.Builtin()
		case df.d.IsProtected(l.Name, l.DN):
			protected = "on alm's protected list"
		case l.AdminCount:
			protected = "privileged (adminCount=1)"
		case directory.PrivilegedVia(l.MemberOf, df.privileged) != "":
			protected = "privileged: " + directory.PrivilegedVia(l.MemberOf, df.privileged)
		case df.live.PrivilegedPrimary(l, df.privileged) != "":
			protected = "privileged: " + df.live.PrivilegedPrimary(l, df.privileged)
		}
		switch file := df.claimed[lower(l.Name)]; {
		case protected != "":
			o.Reason += "; it is " + protected + ": alm never disables or deletes it"
		case file != "":
			o.Reason += "; " + file + " wants its name (see the findings)"
		case disable && l.Enabled():
			o.Action = model.OrphansDisable
			df.add(Change{ID: id(DisableOrphan, l.DN), Action: DisableOrphan, Account: l.Name, Marker: l.Marker, DN: l.DN, GUID: l.GUID,
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
		case Create, CreateGroup:
			target = c.DN
		case Move, Rename, RenameGroup:
			target = c.NewDN
		default:
			continue
		}
		ou := directory.Parent(target)
		if ou == "" || df.ouExists[lower(ou)] {
			continue
		}
		ouID, ok := planned[lower(ou)]
		if !ok {
			ouID = id(CreateOU, ou)
			planned[lower(ou)] = ouID
			r := desired.Reason{File: c.File, Rule: "ou", Text: fmt.Sprintf("%s must live in %s, which does not exist", c.Account, ou)}
			if c.Action == CreateGroup || c.Action == RenameGroup {
				r = desired.Reason{File: model.DirectoryFile, Field: "spec.groupsOU", Rule: "ou",
					Text: fmt.Sprintf("group %q must live in %s, the groups OU, which does not exist", c.GroupName, ou)}
			}
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
		if pa, pb := a.Phase(), b.Phase(); pa != pb {
			return pa < pb
		}
		if a.Action != b.Action && (a.Action == CreateOU || b.Action == CreateOU) {
			return a.Action == CreateOU // a group's OU first
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
