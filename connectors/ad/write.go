package ad

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/alm-project/alm/reconciler/directory"
	"github.com/go-ldap/ldap/v3"
)

// AD's object classes for what alm creates.
var (
	userClasses = []string{"top", "person", "organizationalPerson", "user"}
	ouClasses   = []string{"top", "organizationalUnit"}
)

// passwordTries bounds retries when the domain refuses a generated password
// (it may happen to contain a part of the account's name).
const passwordTries = 3

// CreateOU adds an organizational unit; its parent must exist.
func (d *Directory) CreateOU(ctx context.Context, dn string) error {
	_, value, _, err := splitDN(dn)
	if err != nil {
		return &directory.Error{Op: opAdd, DN: dn, Class: directory.ErrInvalidSyntax, Detail: err.Error()}
	}
	req := ldap.NewAddRequest(dn, nil)
	req.Attribute("objectClass", ouClasses)
	req.Attribute("ou", []string{value})
	if err := d.do(ctx, opAdd, dn, classAttr+"organizationalUnit", func(c *ldap.Conn) error { return c.Add(req) }); err != nil {
		return err
	}
	d.log.Debug("created OU", "dn", dn)
	return nil
}

// CreateGroup adds a global security group named g.Name (its cn and
// sAMAccountName) carrying g.Marker. A group found at the DN with that
// marker is one an earlier attempt made before its answer was lost: success.
func (d *Directory) CreateGroup(ctx context.Context, g directory.NewGroup) error {
	req := ldap.NewAddRequest(g.DN, nil)
	req.Attribute("objectClass", []string{"top", "group"})
	req.Attribute(directory.AttrSAMAccountName, []string{g.Name})
	req.Attribute(attrGroupType, []string{strconv.Itoa(directory.GroupTypeGlobalSecurity)})
	if g.Marker != "" {
		req.Attribute(d.marker, []string{g.Marker})
	}
	err := d.do(ctx, opAdd, g.DN, classAttr+"group", func(c *ldap.Conn) error { return c.Add(req) })
	if errors.Is(err, directory.ErrExists) && g.Marker != "" {
		if _, verr := d.verify(ctx, opAdd, directory.Ref{DN: g.DN, Marker: g.Marker}); verr == nil {
			return nil
		}
	}
	if err != nil {
		return err
	}
	d.log.Debug("created group", "dn", g.DN)
	return nil
}

// Adopt writes alm's marker on an object that has none: the object is
// read just before to see that it still has no marker, and the value is
// added rather than replaced, which the server refuses when a value is
// there by then (the marker attribute is single-valued), so a value
// someone else wrote is never overwritten. A retry that finds the marker
// already written is success.
func (d *Directory) Adopt(ctx context.Context, ref directory.Ref, marker string) error {
	if _, err := d.verify(ctx, opModify, directory.Ref{DN: ref.DN, GUID: ref.GUID, Marker: marker}); err == nil {
		return nil
	}
	if _, err := d.verify(ctx, opModify, ref); err != nil {
		return err
	}
	req := ldap.NewModifyRequest(target(ref), nil)
	req.Add(d.marker, []string{marker})
	if err := d.do(ctx, opModify, ref.DN, d.marker, func(c *ldap.Conn) error { return c.Modify(req) }); err != nil {
		return err
	}
	d.log.Debug("adopted", "dn", ref.DN, "marker", marker)
	return nil
}

// Create adds a user in one operation: disabled, with its marker, its
// attributes, its account flags and a random password that leaves this
// call only through a.Seal, encrypted. There is no moment at which the
// account exists without a password, so a run killed at any point leaves
// either nothing or a whole account. a.MustChangePassword then sets
// pwdLastSet=0 in a modify of its own: in the add, the attribute's
// replication metadata would say "never set", which is how a read tells a
// half-made account.
//
// When the add finds the DN taken by an account carrying a.Marker, the
// account is the one an earlier attempt made before its answer was lost,
// and Create reports success; that attempt's password is lost with the
// answer, so when a.Seal is set the account is given a new one, sealed.
func (d *Directory) Create(ctx context.Context, a directory.NewAccount) error {
	_, cn, _, err := splitDN(a.DN)
	if err != nil {
		return &directory.Error{Op: opAdd, DN: a.DN, Class: directory.ErrInvalidSyntax, Detail: err.Error()}
	}
	uac := directory.UACNormalAccount | a.UAC | directory.UACAccountDisable
	for range passwordTries {
		pw, perr := d.newPassword(a.Name)
		if perr != nil {
			return fmt.Errorf("generate password for %s: %w", a.DN, perr)
		}
		if err := seal(a.Seal, a.DN, pw); err != nil {
			return err
		}
		req := ldap.NewAddRequest(a.DN, nil)
		req.Attribute("objectClass", userClasses)
		req.Attribute(directory.AttrSAMAccountName, []string{a.Name})
		req.Attribute(directory.AttrCN, []string{cn})
		if a.Marker != "" {
			req.Attribute(d.marker, []string{a.Marker})
		}
		for _, name := range slices.Sorted(maps.Keys(a.Attributes)) {
			if v := a.Attributes[name]; v != "" { // AD refuses empty values
				req.Attribute(name, []string{v})
			}
		}
		req.Attribute(directory.AttrUserAccountControl, []string{strconv.Itoa(uac)})
		req.Attribute(attrUnicodePwd, []string{unicodePwd(pw)})
		err = d.do(ctx, opAdd, a.DN, classAttr+"user", func(c *ldap.Conn) error { return c.Add(req) })
		if !errors.Is(err, directory.ErrWeakPassword) {
			break
		}
	}
	ref := directory.Ref{DN: a.DN, Marker: a.Marker}
	if errors.Is(err, directory.ErrExists) && a.Marker != "" {
		if _, verr := d.verify(ctx, opAdd, ref); verr == nil {
			d.log.Info("account found made by an earlier attempt", "dn", a.DN)
			if a.Seal != nil {
				if err := d.SetPassword(ctx, ref, a.Seal); err != nil {
					return fmt.Errorf("found %s made by an earlier attempt, whose password was lost: %w", a.DN, err)
				}
			}
			err = nil
		}
	}
	if err != nil {
		return err
	}
	if a.MustChangePassword && a.Marker != "" {
		if err := d.mustChange(ctx, ref); err != nil {
			return fmt.Errorf("created %s with its password, but %w", a.DN, err)
		}
	}
	d.log.Debug("created account", "dn", a.DN, "name", a.Name, "userAccountControl", uac, "mustChangePassword", a.MustChangePassword)
	return nil
}

// mustChange sets pwdLastSet=0: the password must be changed at the next
// logon.
func (d *Directory) mustChange(ctx context.Context, ref directory.Ref) error {
	return d.modify(ctx, ref, attrPwdLastSet, func(req *ldap.ModifyRequest) {
		req.Replace(attrPwdLastSet, []string{"0"})
	})
}

// seal hands a drawn password to the sealing function, if any.
func seal(s directory.Seal, dn, pw string) error {
	if s == nil {
		return nil
	}
	if err := s([]byte(pw)); err != nil {
		return fmt.Errorf("seal the password of %s (nothing written): %w", dn, err)
	}
	return nil
}

// newPassword draws a password for a new or repaired account.
func (d *Directory) newPassword(name string) (string, error) {
	if d.cfg.NewPassword != nil {
		return d.cfg.NewPassword(name)
	}
	return password()
}

// SetPassword gives an account a new random password: the repair of an
// account found without one, or a rotation. It leaves this call only
// through s, encrypted; with s nil no one ever learns it. The marker is
// checked by a read just before, and the password set in a modify of its
// own: Active Directory treats a password reset apart from other changes.
func (d *Directory) SetPassword(ctx context.Context, ref directory.Ref, s directory.Seal) error {
	dn, err := d.verify(ctx, opModify, ref)
	if err != nil {
		return err
	}
	for range passwordTries {
		pw, perr := d.newPassword(nameOf(dn))
		if perr != nil {
			return fmt.Errorf("generate password for %s: %w", dn, perr)
		}
		if err := seal(s, dn, pw); err != nil {
			return err
		}
		req := ldap.NewModifyRequest(target(ref), nil)
		req.Replace(attrUnicodePwd, []string{unicodePwd(pw)})
		err = d.do(ctx, opModify, ref.DN, attrUnicodePwd, func(c *ldap.Conn) error { return c.Modify(req) })
		if !errors.Is(err, directory.ErrWeakPassword) {
			break
		}
	}
	if err == nil {
		d.log.Debug("set password", "dn", dn)
	}
	return err
}

// nameOf is the value of a DN's first RDN, for the password seam.
func nameOf(dn string) string {
	if _, v, _, err := splitDN(dn); err == nil {
		return v
	}
	return dn
}

// target is how a write names the object: by objectGUID when it is known,
// so that an object moved, or replaced by another at the same DN, since it
// was read is found, or not touched.
func target(ref directory.Ref) string {
	if ref.GUID != "" {
		return "<GUID=" + ref.GUID + ">"
	}
	return ref.DN
}

// modify sends one modify of ref that applies only while the object still
// carries ref.Marker: the marker's value is deleted and added back in the
// same request, which the server refuses, changing nothing, when the value
// is not there. An object without a marker (an orphan) is checked by a
// read just before instead. attr names the attribute changed, for errors.
func (d *Directory) modify(ctx context.Context, ref directory.Ref, attr string, edit func(*ldap.ModifyRequest)) error {
	req := ldap.NewModifyRequest(target(ref), nil)
	errAttr := attr
	if ref.Marker != "" {
		req.Delete(d.marker, []string{ref.Marker})
		req.Add(d.marker, []string{ref.Marker})
		errAttr = markerAttr + attr
	} else if _, err := d.verify(ctx, opModify, ref); err != nil {
		return err
	}
	edit(req)
	return d.do(ctx, opModify, ref.DN, errAttr, func(c *ldap.Conn) error { return c.Modify(req) })
}

// verify reads ref's object (by GUID when known) and returns its DN now,
// refusing with ErrChanged when it no longer carries ref.Marker.
func (d *Directory) verify(ctx context.Context, op string, ref directory.Ref) (string, error) {
	var dn, marker string
	found := false
	req := ldap.NewSearchRequest(target(ref), ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 0, false,
		"(objectClass=*)", []string{d.marker}, nil)
	err := d.do(ctx, opSearch, ref.DN, "", func(c *ldap.Conn) error {
		res, err := c.Search(req)
		if err != nil {
			return err
		}
		for _, e := range res.Entries {
			found, dn, marker = true, e.DN, e.GetEqualFoldAttributeValue(d.marker)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if !found {
		return "", &directory.Error{Op: op, DN: ref.DN, Class: directory.ErrNoSuchObject, Detail: "not found", Hint: "it was moved or deleted since it was read: plan again"}
	}
	if !strings.EqualFold(marker, ref.Marker) {
		return "", &directory.Error{Op: op, DN: ref.DN, Class: directory.ErrChanged,
			Detail: fmt.Sprintf("its %s is %q, the plan was made when it was %q", d.marker, marker, ref.Marker),
			Hint:   "someone changed or replaced the object since it was read; nothing was written: plan again"}
	}
	return dn, nil
}

// Modify sets single-valued attributes; an empty value removes the
// attribute when present. One request: the changes apply together or not.
func (d *Directory) Modify(ctx context.Context, ref directory.Ref, attrs map[string]string) error {
	if len(attrs) == 0 {
		return nil
	}
	names := slices.Sorted(maps.Keys(attrs))
	attr := ""
	if len(names) == 1 {
		attr = names[0]
	}
	err := d.modify(ctx, ref, attr, func(req *ldap.ModifyRequest) {
		for _, name := range names {
			if v := attrs[name]; v != "" {
				req.Replace(name, []string{v})
			} else {
				// replace with no values removes the attribute, and is no
				// error when it is absent (RFC 4511 4.6)
				req.Replace(name, []string{})
			}
		}
	})
	if err != nil {
		return err
	}
	d.log.Debug("modified", "dn", ref.DN, "attributes", names)
	return nil
}

// SetAccountControl replaces userAccountControl (enable, disable, flags).
func (d *Directory) SetAccountControl(ctx context.Context, ref directory.Ref, uac int) error {
	err := d.modify(ctx, ref, directory.AttrUserAccountControl, func(req *ldap.ModifyRequest) {
		req.Replace(directory.AttrUserAccountControl, []string{strconv.Itoa(uac)})
	})
	if err != nil {
		return err
	}
	d.log.Debug("set userAccountControl", "dn", ref.DN, "userAccountControl", uac)
	return nil
}

// Move renames and/or moves an object in one modrdn; its objectGUID, and
// so its group memberships, stay. The object is found by GUID and its
// marker checked just before: AD's modrdn cannot name it by GUID itself.
// An object already at newDN (an earlier attempt whose answer was lost)
// is success.
func (d *Directory) Move(ctx context.Context, ref directory.Ref, newDN string) error {
	rdn, _, parent, err := splitDN(newDN)
	if err != nil {
		return &directory.Error{Op: opModRDN, DN: ref.DN, Class: directory.ErrInvalidSyntax, Detail: "new DN: " + err.Error()}
	}
	dn, err := d.verify(ctx, opModRDN, ref)
	if err != nil {
		return err
	}
	if directory.SameDN(dn, newDN) {
		return nil
	}
	_, _, oldParent, err := splitDN(dn)
	if err != nil {
		return &directory.Error{Op: opModRDN, DN: dn, Class: directory.ErrInvalidSyntax, Detail: err.Error()}
	}
	newSuperior := parent
	if directory.SameDN(parent, oldParent) {
		newSuperior = "" // a rename only
	}
	// AD insists on deleteOldRDN: the old cn must not linger as a value
	req := ldap.NewModifyDNRequest(dn, rdn, true, newSuperior)
	if err := d.do(ctx, opModRDN, dn, "", func(c *ldap.Conn) error { return c.ModifyDN(req) }); err != nil {
		return err
	}
	d.log.Debug("moved", "dn", dn, "newDN", newDN)
	return nil
}

// AddMember adds member to the group's member attribute. Both are named
// by GUID when known, so the object read is the one added.
func (d *Directory) AddMember(ctx context.Context, group, member directory.Ref) error {
	req := ldap.NewModifyRequest(target(group), nil)
	req.Add(attrMember, []string{target(member)})
	if err := d.do(ctx, opModify, group.DN, attrMember, func(c *ldap.Conn) error { return c.Modify(req) }); err != nil {
		return err
	}
	d.log.Debug("added member", "group", group.DN, "member", member.DN)
	return nil
}

// AddMembers adds members to the group's member attribute in one modify
// carrying every value: one write instead of one per member. AD applies a
// modify whole or not at all, so a member already there fails it (the
// caller then adds them one by one to find which). Keep batches to a few
// hundred values: AD refuses requests over its MaxReceiveBuffer.
func (d *Directory) AddMembers(ctx context.Context, group directory.Ref, members []directory.Ref) error {
	return d.members(ctx, group, members, true)
}

// RemoveMembers removes members from the group's member attribute in one
// modify; a non-member fails it whole.
func (d *Directory) RemoveMembers(ctx context.Context, group directory.Ref, members []directory.Ref) error {
	return d.members(ctx, group, members, false)
}

func (d *Directory) members(ctx context.Context, group directory.Ref, members []directory.Ref, add bool) error {
	if len(members) == 0 {
		return nil
	}
	values := make([]string, len(members))
	for i, m := range members {
		values[i] = target(m)
	}
	req := ldap.NewModifyRequest(target(group), nil)
	if add {
		req.Add(attrMember, values)
	} else {
		req.Delete(attrMember, values)
	}
	if err := d.do(ctx, opModify, group.DN, attrMember, func(c *ldap.Conn) error { return c.Modify(req) }); err != nil {
		return err
	}
	d.log.Debug("members changed", "group", group.DN, "members", len(members), "add", add)
	return nil
}

// RemoveMember removes member from the group's member attribute.
func (d *Directory) RemoveMember(ctx context.Context, group, member directory.Ref) error {
	req := ldap.NewModifyRequest(target(group), nil)
	req.Delete(attrMember, []string{target(member)})
	if err := d.do(ctx, opModify, group.DN, attrMember, func(c *ldap.Conn) error { return c.Modify(req) }); err != nil {
		return err
	}
	d.log.Debug("removed member", "group", group.DN, "member", member.DN)
	return nil
}

// Delete removes one object, by GUID when known, after checking its
// marker; an object with children is refused (ErrNotEmpty).
func (d *Directory) Delete(ctx context.Context, ref directory.Ref) error {
	if _, err := d.verify(ctx, opDelete, ref); err != nil {
		return err
	}
	req := ldap.NewDelRequest(target(ref), nil)
	if err := d.do(ctx, opDelete, ref.DN, "", func(c *ldap.Conn) error { return c.Del(req) }); err != nil {
		return err
	}
	d.log.Debug("deleted", "dn", ref.DN)
	return nil
}

// leaseClasses is the lease object's: a container that holds nothing.
var leaseClasses = []string{"top", "container"}

// LoadLease reads the lease kept on the object at dn (its marker
// attribute); "" when the object does not exist yet.
func (d *Directory) LoadLease(ctx context.Context, dn string) (string, error) {
	var v string
	req := ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 0, false, "(objectClass=*)", []string{d.marker}, nil)
	err := d.do(ctx, opSearch, dn, "", func(c *ldap.Conn) error {
		res, err := c.Search(req)
		if err != nil {
			return err
		}
		for _, e := range res.Entries {
			v = e.GetEqualFoldAttributeValue(d.marker)
		}
		return nil
	})
	if errors.Is(err, directory.ErrNoSuchObject) {
		return "", nil
	}
	return v, err
}

// SwapLease replaces the lease value old with new in one operation the
// server refuses when the value is no longer old: the object's add when
// old is "" (ErrExists when another made it first), else a modify that
// deletes old and adds new (ErrChanged when old is gone).
func (d *Directory) SwapLease(ctx context.Context, dn, old, new string) error {
	if old == "" {
		_, cn, _, err := splitDN(dn)
		if err != nil {
			return &directory.Error{Op: opAdd, DN: dn, Class: directory.ErrInvalidSyntax, Detail: err.Error()}
		}
		req := ldap.NewAddRequest(dn, nil)
		req.Attribute("objectClass", leaseClasses)
		req.Attribute(directory.AttrCN, []string{cn})
		req.Attribute(d.marker, []string{new})
		return d.do(ctx, opAdd, dn, "", func(c *ldap.Conn) error { return c.Add(req) })
	}
	req := ldap.NewModifyRequest(dn, nil)
	req.Delete(d.marker, []string{old})
	req.Add(d.marker, []string{new})
	return d.do(ctx, opModify, dn, markerAttr, func(c *ldap.Conn) error { return c.Modify(req) })
}
