package memory

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"

	"github.com/alm-project/alm/reconciler/directory"
)

// provision fills a new domain the way samba-tool domain provision does,
// as far as alm can see it: the well-known containers, the built-in
// accounts alm must never touch, and the groups they belong to, with their
// well-known SIDs, isCriticalSystemObject and adminCount as Samba sets them.
func (d *Directory) provision() {
	b := d.base.dn
	for _, dn := range []string{"CN=Users," + b, "CN=Computers," + b, "CN=Builtin," + b} {
		d.must(d.add(dn, classContainer))
	}
	d.must(d.add("OU=Domain Controllers,"+b, classOU))
	users := []struct {
		rid        int
		adminCount bool
		a          directory.NewAccount
	}{
		{500, true, directory.NewAccount{DN: "CN=Administrator,CN=Users," + b, Name: "Administrator",
			UAC:        directory.UACNormalAccount | directory.UACDontExpirePassword,
			Attributes: map[string]string{directory.AttrDescription: "Built-in account for administering the computer/domain"}}},
		{501, false, directory.NewAccount{DN: "CN=Guest,CN=Users," + b, Name: "Guest",
			UAC:        directory.UACNormalAccount | directory.UACDontExpirePassword | directory.UACAccountDisable | directory.UACPasswordNotRequired,
			Attributes: map[string]string{directory.AttrDescription: "Built-in account for guest access to the computer/domain"}}},
		{502, true, directory.NewAccount{DN: "CN=krbtgt,CN=Users," + b, Name: "krbtgt",
			UAC:        directory.UACNormalAccount | directory.UACAccountDisable,
			Attributes: map[string]string{directory.AttrDescription: "Key Distribution Center Service Account"}}},
	}
	for _, u := range users {
		d.must(nil, d.createUser(u.a, true))
		o := d.names[strings.ToLower(u.a.Name)]
		o.sid, o.critical, o.adminCount = fmt.Sprintf("%s-%d", d.sid, u.rid), true, u.adminCount
	}
	groups := []struct {
		name, sid  string // sid: a RID of the domain, or a BUILTIN SID
		adminCount bool
		members    []string
	}{
		{"Domain Admins", "512", true, []string{"Administrator"}},
		{"Domain Users", "513", false, nil}, // members by primaryGroupID, which no member attribute shows
		{"Domain Guests", "514", false, nil},
		{"Schema Admins", "518", true, []string{"Administrator"}},
		{"Enterprise Admins", "519", true, []string{"Administrator"}},
		{"Group Policy Creator Owners", "520", false, []string{"Administrator"}},
		{"Administrators", "S-1-5-32-544", true, []string{"Administrator", "Domain Admins", "Enterprise Admins"}},
		{"Users", "S-1-5-32-545", false, nil},
		{"Account Operators", "S-1-5-32-548", true, nil},
		{"Server Operators", "S-1-5-32-549", true, nil},
		{"Print Operators", "S-1-5-32-550", true, nil},
		{"Backup Operators", "S-1-5-32-551", true, nil},
	}
	for _, g := range groups {
		container, sid := "CN=Users,", d.sid+"-"+g.sid
		if strings.HasPrefix(g.sid, "S-") {
			container, sid = "CN=Builtin,", g.sid
		}
		o, err := d.addGroup("CN="+g.name+","+container+b, g.name)
		d.must(o, err)
		o.sid, o.critical, o.adminCount = sid, true, g.adminCount
		for _, m := range g.members {
			o.members = append(o.members, d.names[strings.ToLower(m)])
		}
	}
}

func (d *Directory) must(_ *object, err error) {
	if err != nil {
		panic(fmt.Sprintf("memory: provision %s: %v", d.base.dn, err))
	}
}

// AddOU creates an OU and any missing OUs above it, for seeding tests and
// the demo. Existing OUs are no error.
func (d *Directory) AddOU(dn string) error {
	rdns, err := parseDN(dn)
	if err != nil {
		return invalidDN(opAdd, dn, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	// Find the nearest existing ancestor, then create the OUs below it.
	i := 0
	for i < len(rdns) {
		if _, ok := d.objects[dnKey(rdns[i:])]; ok {
			break
		}
		i++
	}
	for i--; i >= 0; i-- {
		if _, err := d.add(joinDN(rdns[i:]), classOU); err != nil {
			return err
		}
	}
	return nil
}

// AddGroup creates a group named name (its sAMAccountName) at dn, whose
// parent must exist, without a marker: a group made by hand, for tests. It
// ignores FailOn.
func (d *Directory) AddGroup(dn, name string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, err := d.addGroup(dn, name)
	return err
}

// CreateGroup creates a group carrying g.Marker, as the AD connector
// does: a DN taken by a group with the same marker is the one an earlier
// attempt made, and no error.
func (d *Directory) CreateGroup(ctx context.Context, g directory.NewGroup) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("create group %s: %w", g.DN, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.injected("CreateGroup", g.DN); err != nil {
		return err
	}
	if g.Marker != "" {
		if o, err := d.resolve(opAdd, directory.Ref{DN: g.DN, Marker: g.Marker}); err == nil && o.class == classGroup {
			return nil
		}
	}
	o, err := d.addGroup(g.DN, g.Name)
	if err != nil {
		return err
	}
	if g.Marker != "" {
		d.apply(o, changes{{attr: strings.ToLower(d.marker), value: g.Marker}})
	}
	return nil
}

func (d *Directory) addGroup(dn, name string) (*object, error) {
	if name == "" {
		return nil, &directory.Error{Op: opAdd, DN: dn, Class: directory.ErrConstraint,
			Detail: "a group needs a sAMAccountName", Hint: "pass the group's name"}
	}
	if err := d.nameFree(opAdd, dn, name, nil); err != nil {
		return nil, err
	}
	o, err := d.add(dn, classGroup)
	if err != nil {
		return nil, err
	}
	o.name = name
	o.sid = d.newSID()
	d.names[strings.ToLower(name)] = o
	return o, nil
}

// AddUser creates a user as Create does, ignoring FailOn: for seeding
// accounts alm does not own (leave Marker empty) or owns already.
func (d *Directory) AddUser(a directory.NewAccount) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.createUser(a, true)
}

// AddUserWithoutPassword creates a user that never had a password, as an
// add interrupted before its password was set leaves one: for tests of
// half-made accounts.
func (d *Directory) AddUserWithoutPassword(a directory.NewAccount) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.createUser(a, false)
}

// CheckPassword reports whether password is the one last drawn for the
// user of that login and handed to a Seal, as a bind would: for tests of
// what was delivered. A password never sealed matches nothing.
func (d *Directory) CheckPassword(login, password string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	o, ok := d.names[strings.ToLower(login)]
	return ok && o.class == classUser && o.secret != [sha256.Size]byte{} &&
		o.secret == sha256.Sum256([]byte(password))
}

// MustChangePassword reports whether the user of that login must change
// its password at the next logon (pwdLastSet=0 after a password was set).
func (d *Directory) MustChangePassword(login string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	o, ok := d.names[strings.ToLower(login)]
	return ok && o.mustChange
}

// SetPrimaryGroup sets a user's primaryGroupID, as an administrator may
// make a privileged group its primary one.
func (d *Directory) SetPrimaryGroup(dn string, rid int) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	o, err := d.lookup(opModify, dn)
	if err != nil {
		return err
	}
	o.primary = rid
	d.usn++
	return nil
}

// SetAdminCount sets or clears adminCount on a user or group, as AD's
// SDProp sets it on members of privileged groups.
func (d *Directory) SetAdminCount(dn string, on bool) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	o, err := d.lookup(opModify, dn)
	if err != nil {
		return err
	}
	o.adminCount = on
	d.usn++
	return nil
}

// methods are the names FailOn accepts: the directory's write and read methods.
var methods = map[string]string{
	"Read":              opSearch,
	"CreateOU":          opAdd,
	"Create":            opAdd,
	"Modify":            opModify,
	"SetAccountControl": opModify,
	"SetPassword":       opModify,
	"Move":              opModRDN,
	"AddMember":         opModify,
	"RemoveMember":      opModify,
	"Delete":            opDelete,
}

type fault struct {
	method string
	key    string // "" matches every DN
	err    error
	left   int // calls still to fail; < 0 for all of them
}

// FailOn makes every later call of method (a method name: "Create",
// "Move", "AddMember", ...) on dn fail with err, before it changes
// anything. dn "" matches every DN; for AddMember and RemoveMember dn is
// the group's, for Read the scope's base DN. A class such as
// directory.ErrUnavailable is returned inside a *directory.Error; a
// *directory.Error is returned as it is. It panics on an unknown method,
// so that a misspelt name cannot make a test pass.
func (d *Directory) FailOn(method, dn string, err error) { d.FailTimes(method, dn, -1, err) }

// FailTimes is FailOn for the next n matching calls only, to test retries.
func (d *Directory) FailTimes(method, dn string, n int, err error) {
	if _, ok := methods[method]; !ok {
		panic(fmt.Sprintf("memory: FailOn: no method %q", method))
	}
	if err == nil {
		panic("memory: FailOn: nil error")
	}
	key := ""
	if dn != "" {
		key = lowerKey(dn)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.faults = append(d.faults, fault{method: method, key: key, err: err, left: n})
}

// ClearFailures forgets every FailOn and FailTimes.
func (d *Directory) ClearFailures() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.faults = nil
}

// injected returns the failure FailOn set up for this call, if any. The caller holds d.mu.
func (d *Directory) injected(method, dn string) error {
	for i := range d.faults {
		f := &d.faults[i]
		if f.left == 0 || f.method != method || (f.key != "" && f.key != lowerKey(dn)) {
			continue
		}
		if f.left > 0 {
			f.left--
		}
		var de *directory.Error
		if errors.As(f.err, &de) {
			return f.err
		}
		return &directory.Error{Op: methods[method], DN: dn, Class: f.err, Detail: "failure injected by FailOn"}
	}
	return nil
}

// lowerKey is dnKey for a DN that may not parse.
func lowerKey(dn string) string {
	if rdns, err := parseDN(dn); err == nil {
		return dnKey(rdns)
	}
	return strings.ToLower(dn)
}

// RefOf names the object at dn as a plan made now would: its DN, GUID and
// marker, or just the DN when there is none. For tests and the demo, which
// change the directory "by hand" between runs.
func (d *Directory) RefOf(dn string) directory.Ref {
	d.mu.Lock()
	defer d.mu.Unlock()
	o, err := d.lookup(opSearch, dn)
	if err != nil {
		return directory.Ref{DN: dn}
	}
	marker, _ := o.value(strings.ToLower(d.marker))
	return directory.Ref{DN: o.dn, GUID: o.guid, Marker: marker}
}
