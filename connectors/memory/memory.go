// Package memory is an in-process directory with the method set of the
// Active Directory connector, for fast tests and the demo. It keeps the
// rules of Samba AD that alm relies on (case-insensitive DNs, a parent must
// exist, sAMAccountName unique in the domain, memberOf derived from group
// members, links follow renames, a write changes the USN) and the error
// classes Samba's result codes map to. It never replaces the real directory
// in tests of the AD connector; connectors/directorytest keeps the two alike.
package memory

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/alm-project/alm/reconciler/directory"
)

// LDAP operation names, as directory.Error reports them.
const (
	opAdd    = "add"
	opModify = "modify"
	opModRDN = "modrdn"
	opDelete = "delete"
	opSearch = "search"
)

type class int

const (
	classDomain class = iota
	classContainer
	classOU
	classUser
	classGroup
)

// holds reports whether objects of the class may have children.
func (c class) holds() bool { return c == classDomain || c == classContainer || c == classOU }

func (c class) String() string {
	return [...]string{"domain", "container", "organizationalUnit", "user", "group"}[c]
}

// dnAttributes are DN-valued linked attributes: AD stores them as links to
// the target object, so they follow renames and vanish when the target is deleted.
var dnAttributes = map[string]bool{strings.ToLower(directory.AttrManager): true}

// fixedAttributes cannot be written with Modify; they change by other
// means (Move, AddMember) or never. Samba answers most of these with 53
// (unwilling to perform), which has no class; the RDN with 67, a
// constraint. Passwords are refused because alm must never route one
// through Modify.
var fixedAttributes = map[string]string{
	"distinguishedname": "attribute is constructed",
	"objectguid":        "attribute is read-only",
	"objectclass":       "attribute may not be changed",
	"objectsid":         "attribute is read-only",
	"memberof":          "attribute 'memberOf' must not be modified directly, it is a linked attribute",
	"member":            "use AddMember and RemoveMember",
	"usnchanged":        "attribute is read-only",
	"usncreated":        "attribute is read-only",
	"unicodepwd":        "passwords are not written through Modify",
	"userpassword":      "passwords are not written through Modify",
}

// rdnAttributes name objects; Samba refuses them in a modify (67).
var rdnAttributes = map[string]bool{"cn": true, "ou": true, "name": true}

type object struct {
	key   string // lower-case DN, the map key
	dn    string // as the directory spells it
	class class
	guid  string
	name  string // sAMAccountName, for users and groups
	sid   string // users and groups: objectSid
	uac   int
	// critical is isCriticalSystemObject; adminCount is adminCount=1.
	critical, adminCount bool
	// password: a password was set (at the add or since); false for a user
	// added without one, as a half-made account is.
	password bool
	// secret is the SHA-256 of the password drawn when the caller asked
	// for it sealed, so tests can check what was delivered; the clear
	// password is never kept. mustChange is pwdLastSet=0 after a password.
	secret     [sha256.Size]byte
	mustChange bool
	primary    int                // users: primaryGroupID
	attrs      map[string]string  // lower-case attribute name -> value
	links      map[string]*object // lower-case DN-valued attribute -> target
	members    []*object          // groups only; pointers, so renames follow
}

// value is an attribute's value as a search would return it.
func (o *object) value(attr string) (string, bool) {
	if t, ok := o.links[attr]; ok {
		return t.dn, true
	}
	v, ok := o.attrs[attr]
	return v, ok
}

func (o *object) rdnType() string {
	typ, _, _ := strings.Cut(o.dn, "=")
	return strings.ToLower(strings.TrimSpace(typ))
}

// Directory is an Active Directory domain held in memory. It is safe for
// concurrent use.
type Directory struct {
	mu      sync.Mutex
	base    *object
	objects map[string]*object // by key
	names   map[string]*object // by lower-case sAMAccountName
	upns    map[string]*object // by lower-case userPrincipalName
	guids   map[string]*object // by objectGUID
	sid     string             // the domain's SID
	nextRID int
	usn     int64
	marker  string // the attribute Create writes the ownership marker to
	faults  []fault
}

// DefaultMarkerAttribute is where Create writes the ownership marker unless
// SetMarkerAttribute says otherwise; it matches alm.yaml's default.
const DefaultMarkerAttribute = "adminDescription"

// New returns a directory holding a freshly provisioned domain at baseDN:
// CN=Users with Administrator, Guest and krbtgt and the usual groups,
// CN=Computers, CN=Builtin and OU=Domain Controllers. It panics when
// baseDN is not a DN, as that is a mistake in the calling code.
func New(baseDN string) *Directory {
	rdns, err := parseDN(baseDN)
	if err != nil {
		panic(fmt.Sprintf("memory.New: base DN %q: %v", baseDN, err))
	}
	d := &Directory{
		objects: make(map[string]*object),
		names:   make(map[string]*object),
		upns:    make(map[string]*object),
		guids:   make(map[string]*object),
		sid:     newDomainSID(),
		nextRID: firstRID,
		marker:  DefaultMarkerAttribute,
	}
	d.base = &object{key: dnKey(rdns), dn: joinDN(rdns), class: classDomain, guid: newGUID()}
	d.objects[d.base.key] = d.base
	d.guids[d.base.guid] = d.base
	d.provision()
	return d
}

// SetMarkerAttribute sets the attribute Create writes the ownership marker
// to, as the AD connector is configured from alm.yaml's markerAttribute.
func (d *Directory) SetMarkerAttribute(attr string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.marker = attr
}

// MarkerAttribute is the attribute Create writes the ownership marker to.
func (d *Directory) MarkerAttribute() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.marker
}

// BaseDN is the domain's DN as the directory spells it.
func (d *Directory) BaseDN() string { return d.base.dn }

// Read returns the accounts below scope.OUs (subtree), the groups below
// scope.GroupBase (or the base DN) and the OUs of the scope that exist.
// OUs that do not exist are left out, not an error: a plan creates them.
func (d *Directory) Read(ctx context.Context, scope directory.Scope) (*directory.Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", scope.BaseDN, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.injected("Read", scope.BaseDN); err != nil {
		return nil, err
	}
	base := d.base
	if scope.BaseDN != "" {
		o, err := d.lookup(opSearch, scope.BaseDN)
		if err != nil {
			return nil, err
		}
		base = o
	}
	var groupBase *object // nil: the groups OU does not exist yet
	groupBase = base
	if scope.GroupBase != "" {
		o, err := d.lookup(opSearch, scope.GroupBase)
		switch {
		case errors.Is(err, directory.ErrNoSuchObject):
			groupBase = nil
		case err != nil:
			return nil, err
		default:
			groupBase = o
		}
	}
	marker := strings.ToLower(scope.MarkerAttribute)
	if marker == "" {
		marker = strings.ToLower(d.marker)
	}

	// Shaped as the AD connector shapes it: empty lists rather than nil,
	// OUs spelt as the scope spells them.
	snap := &directory.Snapshot{BaseDN: scope.BaseDN, State: strconv.FormatInt(d.usn, 10),
		Accounts: []directory.Account{}, Groups: []directory.Group{}, OUs: []string{}}
	if snap.BaseDN == "" {
		snap.BaseDN = base.dn
	}
	var ous []string
	for _, dn := range scope.OUs {
		rdns, err := parseDN(dn)
		if err != nil {
			return nil, invalidDN(opSearch, dn, err)
		}
		o, ok := d.objects[dnKey(rdns)]
		if !ok {
			d.ancestors(rdns, base, snap)
		}
		if !ok || slices.Contains(ous, o.key) {
			continue
		}
		ous = append(ous, o.key)
		snap.OUs = append(snap.OUs, dn)
	}
	switch {
	case groupBase == nil:
		if rdns, err := parseDN(scope.GroupBase); err == nil {
			d.ancestors(rdns, base, snap)
		}
	case groupBase != base:
		snap.OUs = append(snap.OUs, scope.GroupBase)
	}

	memberOf := make(map[*object][]string)
	for _, g := range d.objects {
		for _, m := range g.members {
			memberOf[m] = append(memberOf[m], g.dn)
		}
	}
	named := map[string]bool{}
	for _, dn := range scope.Groups {
		if rdns, err := parseDN(dn); err == nil {
			named[dnKey(rdns)] = true
		}
	}
	// Privileged groups and the groups nested in them, read domain-wide as
	// the AD connector reads them: without members, with memberOf.
	privileged := map[*object]bool{}
	for _, o := range d.objects {
		if o.class == classGroup && d.privilegedItself(o) {
			privileged[o] = true
		}
	}
	for changed := true; changed; {
		changed = false
		for g := range privileged {
			for _, m := range g.members {
				if m.class == classGroup && !privileged[m] {
					privileged[m] = true
					changed = true
				}
			}
		}
	}
	for _, o := range d.objects {
		switch {
		case o.class == classUser && slices.ContainsFunc(ous, func(ou string) bool { return under(o.key, ou) }):
			snap.Accounts = append(snap.Accounts, account(o, marker, memberOf[o]))
		case o.class == classGroup && ((groupBase != nil && under(o.key, groupBase.key)) || named[o.key]):
			g := group(o, true)
			g.Marker, _ = o.value(marker)
			if privileged[o] {
				g.MemberOf = memberOf[o]
			}
			snap.Groups = append(snap.Groups, g)
		case o.class == classGroup && privileged[o]:
			g := group(o, false)
			g.Marker, _ = o.value(marker)
			g.MemberOf = memberOf[o]
			snap.Groups = append(snap.Groups, g)
		}
	}
	snap.Sort()
	return snap, nil
}

// privilegedItself is the AD connector's first privileged search and
// directory's decision in one: the candidates it finds, kept when privileged.
func (d *Directory) privilegedItself(o *object) bool {
	g := group(o, false)
	return (&directory.Snapshot{Groups: []directory.Group{g}}).Privileged()[strings.ToLower(g.DN)] != ""
}

func account(o *object, marker string, memberOf []string) directory.Account {
	a := directory.Account{
		DN:             o.dn,
		GUID:           o.guid,
		Name:           o.name,
		UAC:            o.uac,
		Attributes:     make(map[string]string),
		MemberOf:       memberOf, // built afresh on every Read
		SID:            o.sid,
		Critical:       o.critical,
		AdminCount:     o.adminCount,
		PrimaryGroupID: o.primary,
	}
	a.Marker, _ = o.value(marker)
	// Like the AD connector, only accounts alm owns are asked whether they
	// ever had a password.
	if _, ok := directory.IDFromMarker(a.Marker); ok {
		a.NoPassword = !o.password
	}
	for _, attr := range directory.ManagedAttributes {
		if v, ok := o.value(strings.ToLower(attr)); ok {
			a.Attributes[attr] = v
		}
	}
	return a
}

// ancestors adds to snap.OUs the object that exists above a missing OU,
// below base, as the AD connector does. The caller holds d.mu.
func (d *Directory) ancestors(rdns []rdn, base *object, snap *directory.Snapshot) {
	for i := 1; i < len(rdns); i++ {
		key := dnKey(rdns[i:])
		if key == base.key || !under(key, base.key) {
			return
		}
		if o, ok := d.objects[key]; ok {
			snap.OUs = append(snap.OUs, o.dn)
			return
		}
	}
}

// Adopt writes marker on an object that carries none, as the AD
// connector does; an object already carrying marker is success.
func (d *Directory) Adopt(ctx context.Context, ref directory.Ref, marker string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("adopt %s: %w", ref.DN, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.injected("Adopt", ref.DN); err != nil {
		return err
	}
	if _, err := d.resolve(opModify, directory.Ref{DN: ref.DN, GUID: ref.GUID, Marker: marker}); err == nil {
		return nil
	}
	o, err := d.resolve(opModify, ref)
	if err != nil {
		return err
	}
	d.apply(o, changes{{attr: strings.ToLower(d.marker), value: marker}})
	d.usn++
	return nil
}

func group(o *object, members bool) directory.Group {
	g := directory.Group{DN: o.dn, GUID: o.guid, Name: o.name, SID: o.sid, Critical: o.critical, AdminCount: o.adminCount}
	if members {
		for _, m := range o.members {
			g.Members = append(g.Members, m.dn)
		}
	}
	return g
}

// CreateOU creates an organizational unit; its parent must exist.
func (d *Directory) CreateOU(ctx context.Context, dn string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("create OU %s: %w", dn, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.injected("CreateOU", dn); err != nil {
		return err
	}
	_, err := d.add(dn, classOU)
	return err
}

// Create adds a user in one operation, as the AD connector does:
// disabled, with its marker and attributes and a password, which leaves
// only through a.Seal (and otherwise is only notional). A DN taken by an
// account with the same marker is the one an earlier attempt made, and no
// error: it gets a new password when a.Seal is set, as the earlier one
// was lost with the answer.
func (d *Directory) Create(ctx context.Context, a directory.NewAccount) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("create %s: %w", a.DN, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.injected("Create", a.DN); err != nil {
		return err
	}
	secret, err := draw(a.Seal, a.DN)
	if err != nil {
		return err
	}
	a.UAC |= directory.UACNormalAccount | directory.UACAccountDisable
	err = d.createUser(a, true)
	if errors.Is(err, directory.ErrExists) && a.Marker != "" {
		o, rerr := d.resolve(opAdd, directory.Ref{DN: a.DN, Marker: a.Marker})
		if rerr != nil {
			return err
		}
		if a.Seal != nil {
			if secret, err = draw(a.Seal, a.DN); err != nil {
				return err
			}
			o.secret = secret
		}
		o.mustChange = o.mustChange || a.MustChangePassword
		return nil
	}
	if err != nil {
		return err
	}
	o, err := d.lookup(opAdd, a.DN)
	if err != nil {
		return err
	}
	o.secret, o.mustChange = secret, a.MustChangePassword
	return nil
}

// draw makes a random password and hands it to s; it returns the
// password's digest, zero when there is no s (the password is notional).
func draw(s directory.Seal, dn string) ([sha256.Size]byte, error) {
	if s == nil {
		return [sha256.Size]byte{}, nil
	}
	pw := []byte(rand.Text())
	if err := s(pw); err != nil {
		return [sha256.Size]byte{}, fmt.Errorf("seal the password of %s (nothing written): %w", dn, err)
	}
	return sha256.Sum256(pw), nil
}

func (d *Directory) createUser(a directory.NewAccount, password bool) error {
	name := a.Name
	if name == "" { // the AD connector would send an empty value, which AD refuses
		return &directory.Error{Op: opAdd, DN: a.DN, Class: directory.ErrInvalidSyntax,
			Detail: "sAMAccountName: empty value", Hint: "give the account a name"}
	}
	if err := d.nameFree(opAdd, a.DN, name, nil); err != nil {
		return err
	}
	attrs := make(map[string]string, len(a.Attributes)+1)
	for k, v := range a.Attributes {
		if v == "" { // LDAP add carries no empty values
			continue
		}
		switch strings.ToLower(k) {
		case "samaccountname", "useraccountcontrol":
			continue // Name and UAC say these
		}
		attrs[k] = v
	}
	if a.Marker != "" {
		attrs[d.marker] = a.Marker
	}
	probe := &object{dn: a.DN, class: classUser}
	cs, err := d.check(opAdd, a.DN, probe, attrs)
	if err != nil {
		return err
	}
	o, err := d.add(a.DN, classUser)
	if err != nil {
		return err
	}
	o.name = name
	o.password = password
	o.sid = d.newSID()
	o.primary = directory.DomainUsersRID
	d.names[strings.ToLower(name)] = o
	// Samba gives every new user these (dsdb_user_obj_set_defaults).
	o.attrs[strings.ToLower(directory.AttrAccountExpires)] = directory.AccountExpiresNever
	o.uac = directory.UACNormalAccount | directory.UACAccountDisable | directory.UACPasswordNotRequired
	d.apply(o, cs)
	if a.UAC != 0 {
		o.uac = a.UAC
	} else {
		o.uac = directory.UACNormalAccount | directory.UACAccountDisable
	}
	return nil
}

// add places a new object of class c at dn and returns it. The caller holds d.mu.
func (d *Directory) add(dn string, c class) (*object, error) {
	rdns, err := parseDN(dn)
	if err != nil {
		return nil, invalidDN(opAdd, dn, err)
	}
	if len(rdns) < 2 {
		return nil, &directory.Error{Op: opAdd, DN: dn, Class: directory.ErrNoSuchObject,
			Detail: "parent does not exist", Hint: "create objects below the base DN " + d.base.dn}
	}
	want := "CN"
	if c == classOU {
		want = "OU"
	}
	if rdns[0].typ != want {
		return nil, &directory.Error{Op: opAdd, DN: dn, Class: directory.ErrInvalidSyntax,
			Detail: fmt.Sprintf("naming violation: a %s is named %s=...", c, want),
			Hint:   fmt.Sprintf("write the DN as %s=%s,...", want, rdns[0].val)}
	}
	parentDN := joinDN(rdns[1:])
	parent, ok := d.objects[dnKey(rdns[1:])]
	if !ok {
		return nil, &directory.Error{Op: opAdd, DN: dn, Class: directory.ErrNoSuchObject,
			Detail: "parent does not exist",
			Hint:   fmt.Sprintf("create the OU %s first, or correct the ou of the account's template", parentDN)}
	}
	if !parent.class.holds() {
		return nil, &directory.Error{Op: opAdd, DN: dn, Class: directory.ErrInvalidSyntax,
			Detail: fmt.Sprintf("naming violation: the parent is a %s", parent.class),
			Hint:   "place the object in an OU or container"}
	}
	key := dnKey(rdns)
	if _, ok := d.objects[key]; ok {
		return nil, &directory.Error{Op: opAdd, DN: dn, Class: directory.ErrExists,
			Detail: "Entry " + dn + " already exists",
			Hint:   "an object with this DN exists already; import it or choose another name"}
	}
	o := &object{
		key:   key,
		dn:    rdns[0].String() + "," + parent.dn,
		class: c,
		guid:  newGUID(),
		attrs: make(map[string]string),
		links: make(map[string]*object),
	}
	d.objects[key] = o
	d.guids[o.guid] = o
	d.usn++
	return o, nil
}

// Modify sets attributes; an empty value deletes the attribute (and is no
// error when it is already absent, like an LDAP replace with no values).
// The whole modification applies or none of it does, and only while the
// object still carries ref.Marker.
func (d *Directory) Modify(ctx context.Context, ref directory.Ref, attrs map[string]string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("modify %s: %w", ref.DN, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.injected("Modify", ref.DN); err != nil {
		return err
	}
	o, err := d.resolve(opModify, ref)
	if err != nil {
		return err
	}
	cs, err := d.check(opModify, o.dn, o, attrs)
	if err != nil {
		return err
	}
	if len(cs) == 0 {
		return nil
	}
	d.apply(o, cs)
	d.usn++
	return nil
}

// change is one validated attribute write.
type change struct {
	attr  string // lower-case
	value string // "" deletes
	link  *object
}

type changes []change

// check validates a modification of o without changing anything, so that a
// failed Modify leaves the object as it was. The caller holds d.mu.
func (d *Directory) check(op, dn string, o *object, attrs map[string]string) (changes, error) {
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys) // the first error is the same on every run
	var out changes
	for _, k := range keys {
		v, lk := attrs[k], strings.ToLower(k)
		if lk == "" {
			return nil, &directory.Error{Op: op, DN: dn, Class: directory.ErrInvalidSyntax, Detail: "empty attribute name"}
		}
		if rdnAttributes[lk] || lk == o.rdnType() {
			return nil, &directory.Error{Op: op, DN: dn, Class: directory.ErrConstraint,
				Detail: k + ": Not allowed on RDN", Hint: "rename the object with Move"}
		}
		if why, ok := fixedAttributes[lk]; ok {
			hint := "leave " + k + " out of the change"
			if lk == "memberof" || lk == "member" {
				hint = "change the group's members with AddMember or RemoveMember"
			}
			return nil, &directory.Error{Op: op, DN: dn, Detail: k + ": " + why, Hint: hint}
		}
		switch {
		case lk == "samaccountname":
			if v == "" {
				return nil, &directory.Error{Op: op, DN: dn, Class: directory.ErrConstraint,
					Detail: "sAMAccountName may not be deleted", Hint: "set another name instead"}
			}
			if err := d.nameFree(op, dn, v, o); err != nil {
				return nil, err
			}
		case lk == "userprincipalname" && v != "":
			if other, ok := d.upns[strings.ToLower(v)]; ok && other != o {
				return nil, &directory.Error{Op: op, DN: dn, Class: directory.ErrExists,
					Detail: fmt.Sprintf("samldb: userPrincipalName '%s' is already in use", v),
					Hint:   fmt.Sprintf("%s has this userPrincipalName; change one of them", other.dn)}
			}
		case lk == "useraccountcontrol":
			if _, err := strconv.Atoi(v); err != nil {
				return nil, &directory.Error{Op: op, DN: dn, Class: directory.ErrInvalidSyntax,
					Detail: fmt.Sprintf("userAccountControl %q is not a number", v),
					Hint:   "use SetAccountControl with the flags as an integer"}
			}
		case dnAttributes[lk] && v != "":
			rdns, err := parseDN(v)
			if err != nil {
				return nil, invalidDN(op, dn, fmt.Errorf("%s: %w", k, err))
			}
			t, ok := d.objects[dnKey(rdns)]
			if !ok {
				return nil, referenceMissing(op, dn, k, v)
			}
			out = append(out, change{attr: lk, link: t})
			continue
		}
		out = append(out, change{attr: lk, value: v})
	}
	return out, nil
}

// apply makes checked changes. The caller holds d.mu.
func (d *Directory) apply(o *object, cs changes) {
	for _, c := range cs {
		switch {
		case c.attr == "samaccountname":
			delete(d.names, strings.ToLower(o.name))
			d.names[strings.ToLower(c.value)] = o
			o.name = c.value
		case c.attr == "useraccountcontrol":
			o.uac, _ = strconv.Atoi(c.value) // checked
		case c.link != nil:
			o.links[c.attr] = c.link
		case c.value == "":
			d.unindex(o, c.attr)
			delete(o.attrs, c.attr)
			delete(o.links, c.attr)
		default:
			d.unindex(o, c.attr)
			o.attrs[c.attr] = c.value
			if c.attr == upnKey {
				d.upns[strings.ToLower(c.value)] = o
			}
		}
	}
}

// upnKey is userPrincipalName as attrs keys it; AD keeps it unique too.
var upnKey = strings.ToLower(directory.AttrUserPrincipalName)

// unindex forgets o's userPrincipalName when attr is it. The caller holds d.mu.
func (d *Directory) unindex(o *object, attr string) {
	if v, ok := o.attrs[attr]; ok && attr == upnKey && d.upns[strings.ToLower(v)] == o {
		delete(d.upns, strings.ToLower(v))
	}
}

// SetAccountControl replaces userAccountControl.
func (d *Directory) SetAccountControl(ctx context.Context, ref directory.Ref, uac int) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("set account control %s: %w", ref.DN, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.injected("SetAccountControl", ref.DN); err != nil {
		return err
	}
	o, err := d.resolve(opModify, ref)
	if err != nil {
		return err
	}
	if o.class != classUser {
		return &directory.Error{Op: opModify, DN: ref.DN, Class: directory.ErrConstraint,
			Detail: fmt.Sprintf("a %s has no userAccountControl", o.class), Hint: "name a user object"}
	}
	o.uac = uac
	d.usn++
	return nil
}

// SetPassword gives a user a new password, which leaves only through s
// (and otherwise is only notional).
func (d *Directory) SetPassword(ctx context.Context, ref directory.Ref, s directory.Seal) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("set password %s: %w", ref.DN, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.injected("SetPassword", ref.DN); err != nil {
		return err
	}
	o, err := d.resolve(opModify, ref)
	if err != nil {
		return err
	}
	if o.class != classUser {
		return &directory.Error{Op: opModify, DN: ref.DN, Class: directory.ErrConstraint,
			Detail: fmt.Sprintf("a %s has no password", o.class), Hint: "name a user object"}
	}
	secret, err := draw(s, ref.DN)
	if err != nil {
		return err
	}
	o.password, o.secret = true, secret
	d.usn++
	return nil
}

// Move renames and/or moves an object (and everything below it) in one
// operation. The GUID stays; group memberships and manager links follow,
// as they are links to the object, not copies of its DN.
func (d *Directory) Move(ctx context.Context, ref directory.Ref, newDN string) error {
	dn := ref.DN
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("move %s: %w", dn, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.injected("Move", dn); err != nil {
		return err
	}
	o, err := d.resolve(opModRDN, ref)
	if err != nil {
		return err
	}
	rdns, err := parseDN(newDN)
	if err != nil {
		return invalidDN(opModRDN, newDN, err)
	}
	if len(rdns) < 2 || o == d.base {
		return &directory.Error{Op: opModRDN, DN: dn, Class: directory.ErrConstraint,
			Detail: "the domain object cannot be moved"}
	}
	if !strings.EqualFold(rdns[0].typ, o.rdnType()) {
		return &directory.Error{Op: opModRDN, DN: dn, Class: directory.ErrInvalidSyntax,
			Detail: fmt.Sprintf("naming violation: the new name must start with %s=", strings.ToUpper(o.rdnType())),
			Hint:   "keep the naming attribute when renaming"}
	}
	key := dnKey(rdns)
	if key == o.key {
		return nil // there already: an earlier attempt moved it
	}
	if other, ok := d.objects[key]; ok && other != o {
		return &directory.Error{Op: opModRDN, DN: dn, Class: directory.ErrExists,
			Detail: "Entry " + newDN + " already exists",
			Hint:   "an object with the new DN exists already; choose another name or remove it"}
	}
	parentDN := joinDN(rdns[1:])
	parent, ok := d.objects[dnKey(rdns[1:])]
	if !ok {
		return &directory.Error{Op: opModRDN, DN: dn, Class: directory.ErrNoSuchObject,
			Detail: "new parent " + parentDN + " does not exist",
			Hint:   fmt.Sprintf("create the OU %s first", parentDN)}
	}
	if !parent.class.holds() || under(parent.key, o.key) {
		return &directory.Error{Op: opModRDN, DN: dn, Class: directory.ErrConstraint,
			Detail: "the new parent cannot hold the object", Hint: "move it to an OU outside itself"}
	}

	oldDN := o.dn
	renamed := rdns[0].String() + "," + parent.dn
	var moved []*object
	for _, x := range d.objects {
		if under(x.key, o.key) {
			moved = append(moved, x)
		}
	}
	for _, x := range moved {
		delete(d.objects, x.key)
	}
	for _, x := range moved {
		x.dn = x.dn[:len(x.dn)-len(oldDN)] + renamed
		x.key = strings.ToLower(x.dn)
		d.objects[x.key] = x
	}
	d.usn++
	return nil
}

// AddMember adds member to the group's member attribute.
func (d *Directory) AddMember(ctx context.Context, group, member directory.Ref) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("add member to %s: %w", group.DN, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.injected("AddMember", group.DN); err != nil {
		return err
	}
	g, m, err := d.membership(group, member)
	if err != nil {
		return err
	}
	if slices.Contains(g.members, m) {
		return &directory.Error{Op: opModify, DN: group.DN, Class: directory.ErrExists,
			Detail: "Attribute member already exists", Hint: member.DN + " is a member already"}
	}
	g.members = append(g.members, m)
	d.usn++
	return nil
}

// RemoveMember removes member from the group's member attribute. Samba
// answers a non-member with 53 "Attribute member doesn't exist" (Windows:
// 00000561); the AD connector classes it ErrNoSuchObject, as here.
func (d *Directory) RemoveMember(ctx context.Context, group, member directory.Ref) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("remove member from %s: %w", group.DN, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.injected("RemoveMember", group.DN); err != nil {
		return err
	}
	g, m, err := d.membership(group, member)
	if err != nil {
		return err
	}
	i := slices.Index(g.members, m)
	if i < 0 {
		return &directory.Error{Op: opModify, DN: group.DN, Class: directory.ErrNoSuchObject,
			Detail: "Attribute member doesn't exist", Hint: member.DN + " is not a member of this group"}
	}
	g.members = slices.Delete(g.members, i, i+1)
	d.usn++
	return nil
}

// AddMembers adds members to the group's member attribute in one
// operation, as one LDAP modify does: a member already there, or one that
// does not resolve, fails it whole and nothing is added.
func (d *Directory) AddMembers(ctx context.Context, group directory.Ref, members []directory.Ref) error {
	return d.members(ctx, "AddMembers", group, members, true)
}

// RemoveMembers removes members in one operation; a non-member fails it
// whole and nothing is removed.
func (d *Directory) RemoveMembers(ctx context.Context, group directory.Ref, members []directory.Ref) error {
	return d.members(ctx, "RemoveMembers", group, members, false)
}

func (d *Directory) members(ctx context.Context, op string, group directory.Ref, members []directory.Ref, add bool) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s of %s: %w", strings.ToLower(op), group.DN, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.injected(op, group.DN); err != nil {
		return err
	}
	var g *object
	ms := make([]*object, 0, len(members))
	for _, member := range members {
		gg, m, err := d.membership(group, member)
		if err != nil {
			return err
		}
		g = gg
		switch in := slices.Contains(g.members, m) || slices.Contains(ms, m); {
		case add && in:
			return &directory.Error{Op: opModify, DN: group.DN, Class: directory.ErrExists,
				Detail: "Attribute member already exists", Hint: member.DN + " is a member already"}
		case !add && !slices.Contains(g.members, m):
			return &directory.Error{Op: opModify, DN: group.DN, Class: directory.ErrNoSuchObject,
				Detail: "Attribute member doesn't exist", Hint: member.DN + " is not a member of this group"}
		}
		ms = append(ms, m)
	}
	if g == nil {
		return nil
	}
	if add {
		g.members = append(g.members, ms...)
	} else {
		g.members = slices.DeleteFunc(g.members, func(o *object) bool { return slices.Contains(ms, o) })
	}
	d.usn++
	return nil
}

// membership resolves a group and a would-be member, each by GUID when
// known. The caller holds d.mu.
func (d *Directory) membership(group, member directory.Ref) (g, m *object, err error) {
	if g, err = d.find(opModify, group); err != nil {
		return nil, nil, err
	}
	if g.class != classGroup {
		return nil, nil, &directory.Error{Op: opModify, DN: group.DN, Class: directory.ErrConstraint,
			Detail: fmt.Sprintf("a %s has no member attribute", g.class), Hint: "name a group"}
	}
	if member.GUID != "" {
		if m = d.guids[member.GUID]; m == nil {
			return nil, nil, referenceMissing(opModify, group.DN, "member", "<GUID="+member.GUID+">")
		}
		return g, m, nil
	}
	rdns, err := parseDN(member.DN)
	if err != nil {
		return nil, nil, invalidDN(opModify, group.DN, fmt.Errorf("member: %w", err))
	}
	m, ok := d.objects[dnKey(rdns)]
	if !ok {
		return nil, nil, referenceMissing(opModify, group.DN, "member", member.DN)
	}
	return g, m, nil
}

// Delete removes a leaf object; the links to it (group members, manager)
// go with it, as they do when AD moves an object to Deleted Objects.
func (d *Directory) Delete(ctx context.Context, ref directory.Ref) error {
	dn := ref.DN
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("delete %s: %w", dn, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.injected("Delete", dn); err != nil {
		return err
	}
	o, err := d.resolve(opDelete, ref)
	if err != nil {
		return err
	}
	for _, x := range d.objects {
		if x != o && under(x.key, o.key) {
			return &directory.Error{Op: opDelete, DN: dn, Class: directory.ErrNotEmpty,
				Detail: "Operation not allowed on non-leaf", Hint: "move or delete the objects in it first"}
		}
	}
	for _, x := range d.objects {
		if i := slices.Index(x.members, o); i >= 0 {
			x.members = slices.Delete(x.members, i, i+1)
		}
		for attr, t := range x.links {
			if t == o {
				delete(x.links, attr)
			}
		}
	}
	delete(d.objects, o.key)
	delete(d.guids, o.guid)
	d.unindex(o, upnKey)
	if o.name != "" {
		delete(d.names, strings.ToLower(o.name))
	}
	d.usn++
	return nil
}

// lookup finds an existing object. The caller holds d.mu.
func (d *Directory) lookup(op, dn string) (*object, error) {
	rdns, err := parseDN(dn)
	if err != nil {
		return nil, invalidDN(op, dn, err)
	}
	o, ok := d.objects[dnKey(rdns)]
	if !ok {
		return nil, &directory.Error{Op: op, DN: dn, Class: directory.ErrNoSuchObject,
			Detail: "object does not exist", Hint: "read the directory again; it may have been moved or deleted"}
	}
	return o, nil
}

// find finds the object ref names: by GUID when known (wherever it is
// now), else by DN. The caller holds d.mu.
func (d *Directory) find(op string, ref directory.Ref) (*object, error) {
	if ref.GUID == "" {
		return d.lookup(op, ref.DN)
	}
	o, ok := d.guids[ref.GUID]
	if !ok {
		return nil, &directory.Error{Op: op, DN: ref.DN, Class: directory.ErrNoSuchObject,
			Detail: "Base-DN '<GUID=" + ref.GUID + ">' not found", Hint: "it was deleted since it was read: plan again"}
	}
	return o, nil
}

// resolve is find, refusing with ErrChanged an object that no longer
// carries ref.Marker, as the AD connector refuses it. The caller holds d.mu.
func (d *Directory) resolve(op string, ref directory.Ref) (*object, error) {
	o, err := d.find(op, ref)
	if err != nil {
		return nil, err
	}
	if have, _ := o.value(strings.ToLower(d.marker)); !strings.EqualFold(have, ref.Marker) {
		return nil, &directory.Error{Op: op, DN: ref.DN, Class: directory.ErrChanged,
			Detail: fmt.Sprintf("its %s is %q, the plan was made when it was %q", d.marker, have, ref.Marker),
			Hint:   "someone changed or replaced the object since it was read; nothing was written: plan again"}
	}
	return o, nil
}

// nameFree checks that no object but self holds name as its
// sAMAccountName: AD keeps the name unique across users and groups of the
// domain. The caller holds d.mu.
func (d *Directory) nameFree(op, dn, name string, self *object) error {
	if other, ok := d.names[strings.ToLower(name)]; ok && other != self {
		return &directory.Error{Op: op, DN: dn, Class: directory.ErrExists,
			Detail: fmt.Sprintf("samAccountName '%s' already in use", name),
			Hint:   fmt.Sprintf("%s holds this sAMAccountName; choose another name or import that account", other.dn)}
	}
	return nil
}

// referenceMissing is Samba's answer to a DN value (member, manager) that
// names no object: 19, constraint violation, 000020B5.
func referenceMissing(op, dn, attr, value string) error {
	return &directory.Error{Op: op, DN: dn, Class: directory.ErrConstraint,
		Detail: fmt.Sprintf("000020B5: Referenced object not found (%s: %s)", attr, value),
		Hint:   fmt.Sprintf("%s names an object that does not exist: check it, or read the directory again", attr)}
}

func invalidDN(op, dn string, err error) error {
	return &directory.Error{Op: op, DN: dn, Class: directory.ErrInvalidSyntax,
		Detail: "invalid DN syntax: " + err.Error(), Hint: "check the DN's spelling and escaping"}
}

// firstRID is where Samba starts the RIDs of objects made after provisioning.
const firstRID = 1100

// newDomainSID returns a random domain SID, S-1-5-21-x-y-z.
func newDomainSID() string {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	u := func(p []byte) uint32 { return uint32(p[0])<<24 | uint32(p[1])<<16 | uint32(p[2])<<8 | uint32(p[3]) }
	return fmt.Sprintf("S-1-5-21-%d-%d-%d", u(b[0:4]), u(b[4:8]), u(b[8:12]))
}

// newSID gives the next object a SID of the domain. The caller holds d.mu.
func (d *Directory) newSID() string {
	sid := fmt.Sprintf("%s-%d", d.sid, d.nextRID)
	d.nextRID++
	return sid
}

// newGUID returns a random (version 4) UUID, as objectGUIDs read.
func newGUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// LoadLease reads the lease kept on the object at dn, as the AD connector
// does; "" when there is none.
func (d *Directory) LoadLease(ctx context.Context, dn string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.injected("LoadLease", dn); err != nil {
		return "", err
	}
	o, err := d.lookup(opSearch, dn)
	if errors.Is(err, directory.ErrNoSuchObject) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	v, _ := o.value(strings.ToLower(d.marker))
	return v, nil
}

// SwapLease replaces old with new only while the value is old, as the AD
// connector does: ErrExists when the object is made already and old is "",
// ErrChanged when the value is another.
func (d *Directory) SwapLease(ctx context.Context, dn, old, new string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.injected("SwapLease", dn); err != nil {
		return err
	}
	if old == "" {
		o, err := d.add(dn, classContainer)
		if err != nil {
			return err
		}
		d.apply(o, changes{{attr: strings.ToLower(d.marker), value: new}})
		return nil
	}
	o, err := d.lookup(opModify, dn)
	if err != nil {
		return err
	}
	if v, _ := o.value(strings.ToLower(d.marker)); v != old {
		return &directory.Error{Op: opModify, DN: dn, Class: directory.ErrChanged, Detail: "the lease is another", Hint: "someone else holds it now"}
	}
	d.apply(o, changes{{attr: strings.ToLower(d.marker), value: new}})
	d.usn++
	return nil
}
