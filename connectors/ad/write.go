package ad

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"

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
	if err := d.do(ctx, opAdd, dn, "", func() error { return d.conn.Add(req) }); err != nil {
		return err
	}
	d.log.Debug("created OU", "dn", dn)
	return nil
}

// CreateGroup adds a global security group named name (its
// sAMAccountName). alm references groups and never creates them while
// reconciling; this is for setting up a directory, as alm demo does.
func (d *Directory) CreateGroup(ctx context.Context, dn, name string) error {
	req := ldap.NewAddRequest(dn, nil)
	req.Attribute("objectClass", []string{"top", "group"})
	req.Attribute(directory.AttrSAMAccountName, []string{name})
	if err := d.do(ctx, opAdd, dn, "", func() error { return d.conn.Add(req) }); err != nil {
		return err
	}
	d.log.Debug("created group", "dn", dn)
	return nil
}

// Create adds a user, disabled, with its marker and attributes; sets a
// random password no one ever sees; then sets a.UAC. When the password
// cannot be set, the user is deleted again so a retry starts afresh.
func (d *Directory) Create(ctx context.Context, a directory.NewAccount) error {
	_, cn, _, err := splitDN(a.DN)
	if err != nil {
		return &directory.Error{Op: opAdd, DN: a.DN, Class: directory.ErrInvalidSyntax, Detail: err.Error()}
	}
	disabled := directory.UACNormalAccount | directory.UACAccountDisable
	if a.UAC != 0 {
		disabled = a.UAC | directory.UACAccountDisable
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
	req.Attribute(directory.AttrUserAccountControl, []string{strconv.Itoa(disabled)})
	if err := d.do(ctx, opAdd, a.DN, "", func() error { return d.conn.Add(req) }); err != nil {
		return err
	}

	if err := d.setRandomPassword(ctx, a.DN); err != nil {
		if derr := d.Delete(ctx, a.DN); derr != nil {
			return errors.Join(err, fmt.Errorf("the account stays, disabled and without a password: %w", derr))
		}
		return err
	}
	if a.UAC != 0 && a.UAC != disabled {
		if err := d.SetAccountControl(ctx, a.DN, a.UAC); err != nil {
			return err
		}
	}
	d.log.Debug("created account", "dn", a.DN, "name", a.Name, "userAccountControl", a.UAC)
	return nil
}

// setRandomPassword sets unicodePwd to a fresh random password, which is
// forgotten at once: people set their own through the usual channels.
func (d *Directory) setRandomPassword(ctx context.Context, dn string) error {
	var err error
	for range passwordTries {
		var pw string
		if pw, err = password(); err != nil {
			return fmt.Errorf("generate password for %s: %w", dn, err)
		}
		req := ldap.NewModifyRequest(dn, nil)
		req.Replace("unicodePwd", []string{unicodePwd(pw)})
		err = d.do(ctx, opModify, dn, "unicodePwd", func() error { return d.conn.Modify(req) })
		if !errors.Is(err, directory.ErrWeakPassword) {
			return err
		}
	}
	return err
}

// Modify sets single-valued attributes; an empty value removes the
// attribute when present. One request: the changes apply together or not.
func (d *Directory) Modify(ctx context.Context, dn string, attrs map[string]string) error {
	if len(attrs) == 0 {
		return nil
	}
	req := ldap.NewModifyRequest(dn, nil)
	names := slices.Sorted(maps.Keys(attrs))
	for _, name := range names {
		if v := attrs[name]; v != "" {
			req.Replace(name, []string{v})
		} else {
			// replace with no values removes the attribute, and is no
			// error when it is absent (RFC 4511 4.6)
			req.Replace(name, []string{})
		}
	}
	attr := ""
	if len(names) == 1 {
		attr = names[0]
	}
	if err := d.do(ctx, opModify, dn, attr, func() error { return d.conn.Modify(req) }); err != nil {
		return err
	}
	d.log.Debug("modified", "dn", dn, "attributes", names)
	return nil
}

// SetAccountControl replaces userAccountControl (enable, disable, flags).
func (d *Directory) SetAccountControl(ctx context.Context, dn string, uac int) error {
	req := ldap.NewModifyRequest(dn, nil)
	req.Replace(directory.AttrUserAccountControl, []string{strconv.Itoa(uac)})
	err := d.do(ctx, opModify, dn, directory.AttrUserAccountControl, func() error { return d.conn.Modify(req) })
	if err != nil {
		return err
	}
	d.log.Debug("set userAccountControl", "dn", dn, "userAccountControl", uac)
	return nil
}

// Move renames and/or moves an object in one modrdn; its objectGUID, and
// so its group memberships, stay.
func (d *Directory) Move(ctx context.Context, dn, newDN string) error {
	rdn, _, parent, err := splitDN(newDN)
	if err != nil {
		return &directory.Error{Op: opModRDN, DN: dn, Class: directory.ErrInvalidSyntax, Detail: "new DN: " + err.Error()}
	}
	_, _, oldParent, err := splitDN(dn)
	if err != nil {
		return &directory.Error{Op: opModRDN, DN: dn, Class: directory.ErrInvalidSyntax, Detail: err.Error()}
	}
	newSuperior := parent
	if sameDN(parent, oldParent) {
		newSuperior = "" // a rename only
	}
	// AD insists on deleteOldRDN: the old cn must not linger as a value
	req := ldap.NewModifyDNRequest(dn, rdn, true, newSuperior)
	if err := d.do(ctx, opModRDN, dn, "", func() error { return d.conn.ModifyDN(req) }); err != nil {
		return err
	}
	d.log.Debug("moved", "dn", dn, "newDN", newDN)
	return nil
}

// AddMember adds memberDN to the group's member attribute.
func (d *Directory) AddMember(ctx context.Context, groupDN, memberDN string) error {
	req := ldap.NewModifyRequest(groupDN, nil)
	req.Add(attrMember, []string{memberDN})
	if err := d.do(ctx, opModify, groupDN, attrMember, func() error { return d.conn.Modify(req) }); err != nil {
		return err
	}
	d.log.Debug("added member", "group", groupDN, "member", memberDN)
	return nil
}

// RemoveMember removes memberDN from the group's member attribute.
func (d *Directory) RemoveMember(ctx context.Context, groupDN, memberDN string) error {
	req := ldap.NewModifyRequest(groupDN, nil)
	req.Delete(attrMember, []string{memberDN})
	if err := d.do(ctx, opModify, groupDN, attrMember, func() error { return d.conn.Modify(req) }); err != nil {
		return err
	}
	d.log.Debug("removed member", "group", groupDN, "member", memberDN)
	return nil
}

// Delete removes one object; an object with children is refused (ErrNotEmpty).
func (d *Directory) Delete(ctx context.Context, dn string) error {
	req := ldap.NewDelRequest(dn, nil)
	if err := d.do(ctx, opDelete, dn, "", func() error { return d.conn.Del(req) }); err != nil {
		return err
	}
	d.log.Debug("deleted", "dn", dn)
	return nil
}
