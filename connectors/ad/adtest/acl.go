package adtest

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// Access mask bits of directory objects (MS-ADTS 5.1.3.2).
const (
	rightCreateChild   = 0x00000001 // CC
	rightDeleteChild   = 0x00000002 // DC
	rightListChildren  = 0x00000004 // LC
	rightReadProperty  = 0x00000010 // RP
	rightWriteProperty = 0x00000020 // WP
	rightListObject    = 0x00000080 // LO
	rightControlAccess = 0x00000100 // CR
	rightReadControl   = 0x00020000 // RC
)

// ACE types and flags (MS-DTYP 2.4.4.1).
const (
	aceAllowed       = 0x00
	aceDenied        = 0x01
	aceAllowedObject = 0x05
	aceDeniedObject  = 0x06

	aceContainerInherit = 0x02 // CI
	aceInheritOnly      = 0x08 // IO
	aceInherited        = 0x10 // ID: copied from a parent, recomputed by the DC

	objectTypePresent    = 0x1
	inheritedTypePresent = 0x2
)

// sdFlagsDACL asks for, and writes, the DACL alone (LDAP_SERVER_SD_FLAGS_OID
// with DACL_SECURITY_INFORMATION): an administrator may not write the owner
// or SACL of every object, and need not.
var sdFlagsDACL = ldap.NewControlString("1.2.840.113556.1.4.801", true, string([]byte{0x30, 0x03, 0x02, 0x01, 0x04}))

// GUIDs of the schema classes, attributes and extended rights the
// delegation names, as the schema holds them (schemaIDGUID, rightsGuid);
// TestSchemaGUIDs checks them against the running DC.
var guids = map[string]string{
	"user":               "bf967aba-0de6-11d0-a285-00aa003049e2",
	"group":              "bf967a9c-0de6-11d0-a285-00aa003049e2",
	"organizationalUnit": "bf967aa5-0de6-11d0-a285-00aa003049e2",
	"userPrincipalName":  "28630ebb-41d5-11d1-a9c1-0000f80367c1",
	"givenName":          "f0f8ff8e-1191-11d0-a060-00aa006c33ed",
	"sn":                 "bf967a41-0de6-11d0-a285-00aa003049e2",
	"displayName":        "bf967953-0de6-11d0-a285-00aa003049e2",
	"mail":               "bf967961-0de6-11d0-a285-00aa003049e2",
	"department":         "bf96794f-0de6-11d0-a285-00aa003049e2",
	"title":              "bf967a55-0de6-11d0-a285-00aa003049e2",
	"manager":            "bf9679b5-0de6-11d0-a285-00aa003049e2",
	"description":        "bf967950-0de6-11d0-a285-00aa003049e2",
	"employeeID":         "bf967962-0de6-11d0-a285-00aa003049e2",
	"accountExpires":     "bf967915-0de6-11d0-a285-00aa003049e2",
	"adminDescription":   "bf967919-0de6-11d0-a285-00aa003049e2",
	"container":          "bf967a8b-0de6-11d0-a285-00aa003049e2",
	"userAccountControl": "bf967a68-0de6-11d0-a285-00aa003049e2",
	"pwdLastSet":         "bf967a0a-0de6-11d0-a285-00aa003049e2",
	"sAMAccountName":     "3e0abfd0-126a-11d0-a060-00aa006c33ed",
	"cn":                 "bf96793f-0de6-11d0-a285-00aa003049e2",
	"name":               "bf967a0e-0de6-11d0-a285-00aa003049e2",
	"member":             "bf9679c0-0de6-11d0-a285-00aa003049e2",
	// extended rights
	"User-Force-Change-Password": "00299570-246d-11d0-a768-00aa006e0529", // Reset Password
}

// UserAttributes are the attributes of user objects alm writes: the
// managed ones (directory.ManagedAttributes), the marker, the account
// flags, pwdLastSet (must change password), and the naming attributes a
// rename changes. docs/permissions.md lists the same.
var UserAttributes = []string{
	"userPrincipalName", "givenName", "sn", "displayName", "mail", "department", "title",
	"manager", "description", "employeeID", "accountExpires",
	"adminDescription", "userAccountControl", "pwdLastSet", "sAMAccountName", "cn", "name",
}

// GroupAttributes are the attributes of groups alm writes.
var GroupAttributes = []string{"member", "adminDescription", "sAMAccountName", "cn", "name"}

// ContainerAttributes are what alm writes on the lease's container
// (alm reconcile --interval): the marker attribute holds the lease.
var ContainerAttributes = []string{"adminDescription"}

// Right is one access control entry's worth of permission, for Deny.
type Right struct {
	mask   uint32
	object string // a key of guids, or "" for every property/class
}

// WriteProperty is the right to write one attribute (lDAPDisplayName).
func WriteProperty(attr string) Right { return Right{mask: rightWriteProperty, object: attr} }

// ResetPassword is the Reset Password extended right.
var ResetPassword = Right{mask: rightControlAccess, object: "User-Force-Change-Password"}

// CreateChild is the right to create objects of a class below an object.
func CreateChild(class string) Right { return Right{mask: rightCreateChild, object: class} }

// DeleteChild is the right to delete objects of a class below an object.
func DeleteChild(class string) Right { return Right{mask: rightDeleteChild, object: class} }

// ace is one access control entry; object and inherited are zero when absent.
type ace struct {
	typ, flags        byte
	mask              uint32
	object, inherited [16]byte
	sid               []byte
}

// delegation is the set of ACEs, on a managed OU, that let sid do what alm
// does there and nothing else: docs/permissions.md, as entries.
func delegation(sid []byte) []ace {
	var out []ace
	// Read everything below (alm reads attributes that hardened domains
	// hide from Authenticated Users).
	out = append(out, ace{typ: aceAllowed, flags: aceContainerInherit,
		mask: rightReadProperty | rightListChildren | rightListObject | rightReadControl, sid: sid})
	for _, class := range []string{"user", "group", "organizationalUnit", "container"} {
		out = append(out, ace{typ: aceAllowedObject, flags: aceContainerInherit,
			mask: rightCreateChild | rightDeleteChild, object: mustGUID(class), sid: sid})
	}
	for _, attr := range UserAttributes {
		out = append(out, ace{typ: aceAllowedObject, flags: aceContainerInherit | aceInheritOnly,
			mask: rightWriteProperty, object: mustGUID(attr), inherited: mustGUID("user"), sid: sid})
	}
	out = append(out, ace{typ: aceAllowedObject, flags: aceContainerInherit | aceInheritOnly,
		mask: rightControlAccess, object: mustGUID("User-Force-Change-Password"), inherited: mustGUID("user"), sid: sid})
	for _, attr := range GroupAttributes {
		out = append(out, ace{typ: aceAllowedObject, flags: aceContainerInherit | aceInheritOnly,
			mask: rightWriteProperty, object: mustGUID(attr), inherited: mustGUID("group"), sid: sid})
	}
	for _, attr := range ContainerAttributes {
		out = append(out, ace{typ: aceAllowedObject, flags: aceContainerInherit | aceInheritOnly,
			mask: rightWriteProperty, object: mustGUID(attr), inherited: mustGUID("container"), sid: sid})
	}
	return out
}

// mustGUID is a GUID of the table in its binary form (the first three
// fields little-endian).
func mustGUID(name string) [16]byte {
	s, ok := guids[name]
	if !ok {
		panic("adtest: no GUID for " + name)
	}
	var g [16]byte
	raw, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(raw) != 16 {
		panic("adtest: bad GUID for " + name)
	}
	g[0], g[1], g[2], g[3] = raw[3], raw[2], raw[1], raw[0]
	g[4], g[5] = raw[5], raw[4]
	g[6], g[7] = raw[7], raw[6]
	copy(g[8:], raw[8:])
	return g
}

func (a ace) bytes() []byte {
	var body bytes.Buffer
	binary.Write(&body, binary.LittleEndian, a.mask)
	if a.typ == aceAllowedObject || a.typ == aceDeniedObject {
		var flags uint32
		if a.object != ([16]byte{}) {
			flags |= objectTypePresent
		}
		if a.inherited != ([16]byte{}) {
			flags |= inheritedTypePresent
		}
		binary.Write(&body, binary.LittleEndian, flags)
		if flags&objectTypePresent != 0 {
			body.Write(a.object[:])
		}
		if flags&inheritedTypePresent != 0 {
			body.Write(a.inherited[:])
		}
	}
	body.Write(a.sid)
	out := []byte{a.typ, a.flags, 0, 0}
	binary.LittleEndian.PutUint16(out[2:], uint16(4+body.Len()))
	return append(out, body.Bytes()...)
}

func (a ace) equal(b ace) bool {
	return a.typ == b.typ && a.flags == b.flags && a.mask == b.mask && a.object == b.object &&
		a.inherited == b.inherited && bytes.Equal(a.sid, b.sid)
}

// parseSD returns the control flags and the DACL's entries of a
// self-relative security descriptor.
func parseSD(sd []byte) (control uint16, aces []ace, err error) {
	if len(sd) < 20 || sd[0] != 1 {
		return 0, nil, errors.New("not a self-relative security descriptor")
	}
	control = binary.LittleEndian.Uint16(sd[2:4])
	off := int(binary.LittleEndian.Uint32(sd[16:20]))
	if off == 0 {
		return control, nil, nil
	}
	if off+8 > len(sd) {
		return 0, nil, errors.New("DACL offset out of range")
	}
	acl := sd[off:]
	count := int(binary.LittleEndian.Uint16(acl[4:6]))
	p := 8
	for range count {
		if p+4 > len(acl) {
			return 0, nil, errors.New("ACE out of range")
		}
		size := int(binary.LittleEndian.Uint16(acl[p+2 : p+4]))
		if size < 8 || p+size > len(acl) {
			return 0, nil, errors.New("ACE size out of range")
		}
		raw := acl[p : p+size]
		a := ace{typ: raw[0], flags: raw[1], mask: binary.LittleEndian.Uint32(raw[4:8])}
		rest := raw[8:]
		if a.typ == aceAllowedObject || a.typ == aceDeniedObject {
			if len(rest) < 4 {
				return 0, nil, errors.New("object ACE too short")
			}
			flags := binary.LittleEndian.Uint32(rest[:4])
			rest = rest[4:]
			if flags&objectTypePresent != 0 && len(rest) >= 16 {
				copy(a.object[:], rest[:16])
				rest = rest[16:]
			}
			if flags&inheritedTypePresent != 0 && len(rest) >= 16 {
				copy(a.inherited[:], rest[:16])
				rest = rest[16:]
			}
		}
		a.sid = append([]byte(nil), rest[:sidLen(rest)]...)
		aces = append(aces, a)
		p += size
	}
	return control, aces, nil
}

// sidLen is the length of the binary SID at the start of b.
func sidLen(b []byte) int {
	if len(b) < 8 {
		return len(b)
	}
	return min(len(b), 8+4*int(b[1]))
}

// encodeSD makes a self-relative security descriptor holding only a DACL.
func encodeSD(control uint16, aces []ace) []byte {
	var body bytes.Buffer
	for _, a := range aces {
		body.Write(a.bytes())
	}
	acl := []byte{4, 0, 0, 0, 0, 0, 0, 0} // ACL_REVISION_DS: object ACEs
	binary.LittleEndian.PutUint16(acl[2:], uint16(8+body.Len()))
	binary.LittleEndian.PutUint16(acl[4:], uint16(len(aces)))
	acl = append(acl, body.Bytes()...)
	const daclPresent, selfRelative = 0x0004, 0x8000
	// keep only the DACL's own flags (auto-inherited, protected)
	control = control&0x1400 | daclPresent | selfRelative
	sd := make([]byte, 20)
	sd[0] = 1
	binary.LittleEndian.PutUint16(sd[2:], control)
	binary.LittleEndian.PutUint32(sd[16:], 20)
	return append(sd, acl...)
}

// addACEs adds to dn's DACL those of aces it does not hold explicitly:
// deny entries first, as Windows orders them, then allow entries. The
// inherited entries are left out of the write; the DC derives them again
// from the parent.
func addACEs(c *ldap.Conn, dn string, aces []ace) error {
	req := ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 0, false,
		"(objectClass=*)", []string{"nTSecurityDescriptor"}, []ldap.Control{sdFlagsDACL})
	res, err := c.Search(req)
	if err != nil {
		return fmt.Errorf("read the security descriptor of %s: %w", dn, err)
	}
	if len(res.Entries) != 1 {
		return fmt.Errorf("read the security descriptor of %s: %d entries", dn, len(res.Entries))
	}
	control, old, err := parseSD(res.Entries[0].GetRawAttributeValue("nTSecurityDescriptor"))
	if err != nil {
		return fmt.Errorf("security descriptor of %s: %w", dn, err)
	}
	var explicit []ace
	for _, a := range old {
		if a.flags&aceInherited == 0 {
			explicit = append(explicit, a)
		}
	}
	missing := 0
	for _, a := range aces {
		found := false
		for _, e := range explicit {
			found = found || e.equal(a)
		}
		if !found {
			explicit = append(explicit, a)
			missing++
		}
	}
	if missing == 0 {
		return nil
	}
	var ordered []ace
	for _, deny := range []bool{true, false} {
		for _, a := range explicit {
			if (a.typ == aceDenied || a.typ == aceDeniedObject) == deny {
				ordered = append(ordered, a)
			}
		}
	}
	mod := ldap.NewModifyRequest(dn, []ldap.Control{sdFlagsDACL})
	mod.Replace("nTSecurityDescriptor", []string{string(encodeSD(control, ordered))})
	if err := c.Modify(mod); err != nil {
		return fmt.Errorf("write the security descriptor of %s: %w", dn, err)
	}
	return nil
}
