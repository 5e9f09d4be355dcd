package ad

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/alm-project/alm/reconciler/directory"
	"github.com/go-ldap/ldap/v3"
)

// pageSize stays below AD's default MaxPageSize (1000).
const pageSize = 500

const (
	userFilter     = "(&(objectCategory=person)(objectClass=user))"
	groupFilter    = "(objectClass=group)"
	attrGUID       = "objectGUID"
	attrSID        = "objectSid"
	attrCritical   = "isCriticalSystemObject"
	attrAdminCount = "adminCount"
	attrPwdLastSet = "pwdLastSet"
	attrPrimary    = "primaryGroupID"
	attrReplMeta   = "replPropertyMetaData"
	attrMemberOf   = "memberOf"
	attrMember     = "member"
	attrGroupType  = "groupType"
	attrUnicodePwd = "unicodePwd"
	attrUSN        = "highestCommittedUSN"
	attrNamingCtx  = "defaultNamingContext"
	// inChain is LDAP_MATCHING_RULE_IN_CHAIN: membership through any depth of nesting.
	inChain = "1.2.840.113556.1.4.1941"
)

// errClosing is a search cut short by its connection closing, which go-ldap
// may report as a search without entries.
var errClosing = ldap.NewError(ldap.ErrorNetwork, errors.New("ldap: the connection closed during the search"))

// rest is a multi-valued attribute whose values go on past the first
// window AD returned: values from index next on are still to be fetched.
type rest struct {
	group bool // Snapshot.Groups[i].Members, else Snapshot.Accounts[i].MemberOf
	i     int
	dn    string
	attr  string
	next  int
}

// Read reads the user objects below each managed OU, the groups below
// scope.GroupBase (the base DN when empty) and those scope.Groups names
// wherever they are, and the domain's privileged groups with the groups
// nested in them: one paged search each, and a few small ones. An OU or a
// named group that does not exist is left out, not reported as an error.
// The marker is read from scope.MarkerAttribute, or the Config's when
// empty. A connection lost during the read is dialled again and the read
// made once more from the start.
func (d *Directory) Read(ctx context.Context, scope directory.Scope) (*directory.Snapshot, error) {
	snap, err := d.read(ctx, scope)
	if directory.Transient(err) {
		d.log.Warn("reading the directory again from the start", "error", err)
		snap, err = d.read(ctx, scope)
	}
	return snap, err
}

func (d *Directory) read(ctx context.Context, scope directory.Scope) (*directory.Snapshot, error) {
	marker := scope.MarkerAttribute
	if marker == "" {
		marker = d.marker
	}
	// The USN comes first: whatever changes during the read makes the
	// snapshot look older, never newer, than it is.
	usn, naming, err := d.rootDSE(ctx)
	if err != nil {
		return nil, err
	}
	snap := &directory.Snapshot{BaseDN: scope.BaseDN, State: usn,
		Accounts: []directory.Account{}, Groups: []directory.Group{}, OUs: []string{}}

	userAttrs := append([]string{directory.AttrSAMAccountName, attrGUID, directory.AttrUserAccountControl,
		d.ranged(attrMemberOf), marker, attrSID, attrCritical, attrAdminCount, attrPwdLastSet, attrPrimary}, directory.ManagedAttributes...)
	// Values past AD's first window are fetched after the searches: a
	// request made while go-ldap streams a search would wait behind it.
	var more []rest
	var unset []int           // accounts alm owns whose pwdLastSet is 0
	seen := map[string]bool{} // nested managed OUs would list an account twice
	for _, ou := range scope.OUs {
		err := d.search(ctx, ou, ldap.ScopeWholeSubtree, userFilter, userAttrs, func(e *ldap.Entry) error {
			key := strings.ToLower(e.DN)
			if seen[key] {
				return nil
			}
			seen[key] = true
			a, next, err := account(e, marker)
			if err != nil {
				return err
			}
			if next >= 0 {
				more = append(more, rest{i: len(snap.Accounts), dn: a.DN, attr: attrMemberOf, next: next})
			}
			if _, ok := directory.IDFromMarker(a.Marker); ok && e.GetAttributeValue(attrPwdLastSet) == "0" {
				unset = append(unset, len(snap.Accounts))
			}
			snap.Accounts = append(snap.Accounts, a)
			return nil
		})
		if errors.Is(err, directory.ErrNoSuchObject) {
			d.log.Debug("managed OU does not exist yet", "ou", ou)
			if err := d.ancestors(ctx, ou, scope.BaseDN, snap); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		snap.OUs = append(snap.OUs, ou)
	}

	base := scope.GroupBase
	if base == "" {
		base = scope.BaseDN
	}
	groups := map[string]int{} // lower-case DN -> index in snap.Groups
	addGroup := func(e *ldap.Entry) {
		g := group(e)
		g.Marker = e.GetEqualFoldAttributeValue(marker)
		if i, ok := groups[strings.ToLower(g.DN)]; ok {
			// read twice (below the groups OU and as privileged): keep every fact
			if len(g.MemberOf) > 0 {
				snap.Groups[i].MemberOf = g.MemberOf
			}
			return
		}
		members, next := values(e, attrMember)
		if next >= 0 {
			more = append(more, rest{group: true, i: len(snap.Groups), dn: e.DN, attr: attrMember, next: next})
		}
		g.Members = members
		groups[strings.ToLower(g.DN)] = len(snap.Groups)
		snap.Groups = append(snap.Groups, g)
	}
	groupAttrs := []string{directory.AttrSAMAccountName, attrGUID, d.ranged(attrMember), attrSID, attrCritical, attrAdminCount, marker}
	err = d.search(ctx, base, ldap.ScopeWholeSubtree, groupFilter, groupAttrs, func(e *ldap.Entry) error {
		addGroup(e)
		return nil
	})
	switch {
	case errors.Is(err, directory.ErrNoSuchObject):
		// A groups OU not made yet holds no groups; the plan creates it.
		d.log.Debug("groups OU does not exist yet", "ou", base)
		if err := d.ancestors(ctx, base, scope.BaseDN, snap); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	case !directory.SameDN(base, scope.BaseDN):
		snap.OUs = append(snap.OUs, base)
	}
	for _, dn := range scope.Groups {
		err := d.search(ctx, dn, ldap.ScopeBaseObject, groupFilter, groupAttrs, func(e *ldap.Entry) error {
			addGroup(e)
			return nil
		})
		if errors.Is(err, directory.ErrNoSuchObject) {
			d.log.Debug("a group a role names does not exist", "group", dn)
			continue
		}
		if err != nil {
			return nil, err
		}
	}
	if err := d.privileged(ctx, naming, addGroup); err != nil {
		return nil, err
	}

	for _, r := range more {
		vals, err := d.rest(ctx, r)
		if err != nil {
			return nil, err
		}
		if r.group {
			snap.Groups[r.i].Members = append(snap.Groups[r.i].Members, vals...)
		} else {
			snap.Accounts[r.i].MemberOf = append(snap.Accounts[r.i].MemberOf, vals...)
		}
	}
	for _, i := range unset {
		if snap.Accounts[i].NoPassword, err = d.neverSet(ctx, snap.Accounts[i].DN); err != nil {
			return nil, err
		}
	}
	snap.Sort()
	d.log.Debug("read directory", "accounts", len(snap.Accounts), "groups", len(snap.Groups),
		"ous", len(snap.OUs), "ranged", len(more), "usn", usn)
	return snap, nil
}

// ancestors adds to snap.OUs the OUs that exist above dn, a missing OU,
// up to base: so that a plan creates only the OUs that are missing.
func (d *Directory) ancestors(ctx context.Context, dn, base string, snap *directory.Snapshot) error {
	for p := parentDN(dn); p != "" && !directory.SameDN(p, base) && directory.Under(p, base); p = parentDN(p) {
		found := false
		err := d.search(ctx, p, ldap.ScopeBaseObject, "(objectClass=*)", []string{"objectClass"}, func(*ldap.Entry) error {
			found = true
			return nil
		})
		if err != nil && !errors.Is(err, directory.ErrNoSuchObject) {
			return err
		}
		if found {
			snap.OUs = append(snap.OUs, p)
			return nil // everything above it exists too
		}
	}
	return nil
}

// parentDN is the DN one level up, "" at the top or for a DN that does not parse.
func parentDN(dn string) string {
	_, _, parent, err := splitDN(dn)
	if err != nil {
		return ""
	}
	return parent
}

// privileged reads, from the domain's root, the groups that may be
// privileged and then every group nested in one that is (one search with
// the in-chain matching rule), with the groups each is a direct member of,
// so that directory.Snapshot.Privileged can say why. Their member lists
// are not read: the accounts' memberOf says who is in them.
func (d *Directory) privileged(ctx context.Context, naming string, add func(*ldap.Entry)) error {
	attrs := []string{directory.AttrSAMAccountName, attrGUID, attrSID, attrCritical, attrAdminCount, attrMemberOf}
	var roots []string
	err := d.search(ctx, naming, ldap.ScopeWholeSubtree, directory.PrivilegedFilter, attrs, func(e *ldap.Entry) error {
		g := group(e)
		if (&directory.Snapshot{Groups: []directory.Group{g}}).Privileged()[strings.ToLower(g.DN)] == "" {
			return nil // critical, but not privileged (Domain Users, Guests, ...)
		}
		roots = append(roots, g.DN)
		add(e)
		return nil
	})
	if err != nil || len(roots) == 0 {
		return err
	}
	var f strings.Builder
	f.WriteString("(&(objectClass=group)(|")
	for _, dn := range roots {
		fmt.Fprintf(&f, "(%s:%s:=%s)", attrMemberOf, inChain, ldap.EscapeFilter(dn))
	}
	f.WriteString("))")
	return d.search(ctx, naming, ldap.ScopeWholeSubtree, f.String(), attrs, func(e *ldap.Entry) error {
		add(e)
		return nil
	})
}

// group keeps the strings of a group entry; Members are set by the caller.
func group(e *ldap.Entry) directory.Group {
	return directory.Group{
		DN:         e.DN,
		GUID:       guid(e.GetRawAttributeValue(attrGUID)),
		Name:       e.GetAttributeValue(directory.AttrSAMAccountName),
		SID:        directory.SIDString(e.GetRawAttributeValue(attrSID)),
		Critical:   strings.EqualFold(e.GetAttributeValue(attrCritical), "TRUE"),
		AdminCount: e.GetAttributeValue(attrAdminCount) == "1",
		MemberOf:   e.GetAttributeValues(attrMemberOf),
	}
}

// neverSet reports whether an account with pwdLastSet 0 never had a
// password: pwdLastSet is also 0 when someone set "must change password
// at next logon" after a password was set, so the attribute's replication
// metadata tells them apart - version 1 means it was written only when the
// account was added. When the metadata cannot be read, the account is
// taken to have a password, and the log says so.
func (d *Directory) neverSet(ctx context.Context, dn string) (bool, error) {
	var raw []byte
	req := ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 0, false,
		"(objectClass=*)", []string{attrReplMeta}, nil)
	err := d.do(ctx, opSearch, dn, attrReplMeta, func(c *ldap.Conn) error {
		res, err := c.Search(req)
		if err == nil && len(res.Entries) == 1 {
			raw = res.Entries[0].GetRawAttributeValue(attrReplMeta)
		}
		return err
	})
	if err != nil {
		return false, err
	}
	version, ok := metadataVersion(raw, attrIDPwdLastSet)
	if !ok {
		d.log.Warn("cannot tell whether the account ever had a password: its replPropertyMetaData is not readable; grant the bind account read access to it", "dn", dn)
		return false, nil
	}
	return version == 1, nil
}

// attrIDPwdLastSet is pwdLastSet's attribute id (ATTRTYP) in replication
// metadata: OID 1.2.840.113556.1.4.96 under the prefix 1.2.840.113556.1.4.
const attrIDPwdLastSet = 0x90060

// metadataVersion finds an attribute's version in a replPropertyMetaData
// value (MS-DRSR PROPERTY_META_DATA_VECTOR, version 1: a 16-byte header
// holding the count, then 48-byte entries starting with the ATTRTYP and
// the version, little-endian).
func metadataVersion(b []byte, attrID uint32) (uint32, bool) {
	if len(b) < 16 || binary.LittleEndian.Uint32(b[0:4]) != 1 {
		return 0, false
	}
	n := int(binary.LittleEndian.Uint32(b[8:12]))
	if n < 0 || n > (len(b)-16)/48 {
		return 0, false
	}
	for i := range n {
		off := 16 + 48*i
		if binary.LittleEndian.Uint32(b[off:off+4]) == attrID {
			return binary.LittleEndian.Uint32(b[off+4 : off+8]), true
		}
	}
	return 0, false
}

// account keeps only strings from the entry, so the entry (go-ldap keeps
// its raw packet, ~4.5 KB) can be freed at once. next is where memberOf's
// values go on, or -1 when they are all there.
func account(e *ldap.Entry, marker string) (a directory.Account, next int, err error) {
	a = directory.Account{
		DN:         e.DN,
		GUID:       guid(e.GetRawAttributeValue(attrGUID)),
		Name:       e.GetAttributeValue(directory.AttrSAMAccountName),
		Marker:     e.GetEqualFoldAttributeValue(marker),
		Attributes: map[string]string{},
		SID:        directory.SIDString(e.GetRawAttributeValue(attrSID)),
		Critical:   strings.EqualFold(e.GetAttributeValue(attrCritical), "TRUE"),
		AdminCount: e.GetAttributeValue(attrAdminCount) == "1",
	}
	if v := e.GetAttributeValue(directory.AttrUserAccountControl); v != "" {
		if a.UAC, err = strconv.Atoi(v); err != nil {
			return a, -1, &directory.Error{Op: opSearch, DN: e.DN, Class: directory.ErrInvalidSyntax,
				Detail: fmt.Sprintf("userAccountControl %q is not a number", v)}
		}
	}
	if v := e.GetAttributeValue(attrPrimary); v != "" {
		if a.PrimaryGroupID, err = strconv.Atoi(v); err != nil {
			return a, -1, &directory.Error{Op: opSearch, DN: e.DN, Class: directory.ErrInvalidSyntax,
				Detail: fmt.Sprintf("primaryGroupID %q is not a number", v)}
		}
	}
	for _, name := range directory.ManagedAttributes {
		if v := e.GetEqualFoldAttributeValue(name); v != "" {
			a.Attributes[name] = v
		}
	}
	a.MemberOf, next = values(e, attrMemberOf)
	return a, next, nil
}

// rootDSE reads the highestCommittedUSN and the domain's naming context.
func (d *Directory) rootDSE(ctx context.Context) (usn, naming string, err error) {
	err = d.search(ctx, "", ldap.ScopeBaseObject, "(objectClass=*)", []string{attrUSN, attrNamingCtx}, func(e *ldap.Entry) error {
		usn, naming = e.GetAttributeValue(attrUSN), e.GetAttributeValue(attrNamingCtx)
		return nil
	})
	if err != nil {
		return "", "", err
	}
	if usn == "" || naming == "" {
		return "", "", &directory.Error{Op: opSearch, DN: "rootDSE", Detail: "no " + attrUSN + " or " + attrNamingCtx,
			Hint: "the server does not look like Active Directory: check the URL"}
	}
	return usn, naming, nil
}

// search streams a paged subtree search to each, ignoring referrals (AD
// refers subtree searches from the domain root to the configuration and DNS
// partitions). An empty base reads the rootDSE. each must not use the
// connection: go-ldap delivers one response at a time.
func (d *Directory) search(ctx context.Context, base string, scope int, filter string, attrs []string, each func(*ldap.Entry) error) error {
	rootDSE := scope == ldap.ScopeBaseObject
	paging := ldap.NewControlPaging(pageSize)
	req := ldap.NewSearchRequest(base, scope, ldap.NeverDerefAliases, 0, 0, false, filter, attrs, nil)
	if !rootDSE {
		req.Controls = []ldap.Control{paging}
	}
	for {
		var cookie []byte
		var eachErr error
		err := d.do(ctx, opSearch, base, "", func(c *ldap.Conn) error {
			var err error
			cookie, eachErr, err = page(ctx, c, req, each)
			return err
		})
		if err == nil && ctx.Err() != nil {
			// SearchAsync stops without an error when its context ends.
			err = fmt.Errorf("%s %s: %w", opSearch, base, ctx.Err())
		}
		switch {
		case err != nil:
			return err
		case eachErr != nil:
			return eachErr
		case rootDSE || len(cookie) == 0:
			return nil
		}
		paging.SetCookie(cookie)
	}
}

// page runs one page of a search on c, streaming its entries to each, and
// returns the paging cookie. A connection closing under it is an error:
// go-ldap ends a search on a closing connection with no entries and no
// error, which would read an OU as empty.
func page(ctx context.Context, c *ldap.Conn, req *ldap.SearchRequest, each func(*ldap.Entry) error) (cookie []byte, eachErr, err error) {
	if c.IsClosing() {
		return nil, nil, errClosing
	}
	// Its own context lets an early return end the search.
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	res := c.SearchAsync(sctx, req, 64)
	for res.Next() {
		if e := res.Entry(); e != nil {
			if eachErr = each(e); eachErr != nil {
				return nil, eachErr, nil
			}
			continue
		}
		if p, ok := ldap.FindControl(res.Controls(), ldap.ControlTypePaging).(*ldap.ControlPaging); ok {
			cookie = p.Cookie
		}
	}
	if err := res.Err(); err != nil {
		return nil, nil, err
	}
	if c.IsClosing() {
		return nil, nil, errClosing
	}
	return cookie, nil, nil
}

// ranged names the first window of a multi-valued attribute when rangeStep
// is set; otherwise the attribute, which AD cuts into windows by itself.
func (d *Directory) ranged(attr string) string {
	if d.rangeStep <= 0 {
		return attr
	}
	return fmt.Sprintf("%s;range=0-%d", attr, d.rangeStep-1)
}

// values returns the values of attr on e, and where they go on: AD returns
// at most 1500 values of an attribute at a time, as "member;range=0-1499".
// next is -1 when e holds them all.
func values(e *ldap.Entry, attr string) (vals []string, next int) {
	next = -1
	for _, a := range e.Attributes {
		name, _, hi, ok := parseRange(a.Name)
		if !ok || !strings.EqualFold(name, attr) {
			continue
		}
		vals = append(vals, a.Values...)
		if hi >= 0 {
			next = hi + 1
		}
	}
	return vals, next
}

// rest fetches the remaining values of r.attr window by window, until the
// window ending in "*" (or an empty one).
func (d *Directory) rest(ctx context.Context, r rest) ([]string, error) {
	var vals []string
	for next := r.next; next >= 0; {
		want := fmt.Sprintf("%s;range=%d-*", r.attr, next)
		if d.rangeStep > 0 {
			want = fmt.Sprintf("%s;range=%d-%d", r.attr, next, next+d.rangeStep-1)
		}
		req := ldap.NewSearchRequest(r.dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
			"(objectClass=*)", []string{want}, nil)
		var res *ldap.SearchResult
		err := d.do(ctx, opSearch, r.dn, r.attr, func(c *ldap.Conn) error {
			var err error
			res, err = c.Search(req)
			return err
		})
		if err != nil {
			return nil, err
		}
		next = -1
		for _, e := range res.Entries {
			v, n := values(e, r.attr)
			vals = append(vals, v...)
			next = n
		}
	}
	return vals, nil
}

// parseRange splits "member;range=0-1499" into member, 0, 1499 and
// "member;range=1500-*" into member, 1500, -1. A name without a range
// gives -1, -1.
func parseRange(name string) (attr string, lo, hi int, ok bool) {
	attr, opts, found := strings.Cut(name, ";")
	if !found {
		return name, -1, -1, true
	}
	for opt := range strings.SplitSeq(opts, ";") {
		r, isRange := strings.CutPrefix(strings.ToLower(opt), "range=")
		if !isRange {
			continue
		}
		l, h, dash := strings.Cut(r, "-")
		var err error
		if lo, err = strconv.Atoi(l); err != nil || !dash || lo < 0 {
			return "", 0, 0, false
		}
		if h == "*" {
			return attr, lo, -1, true
		}
		if hi, err = strconv.Atoi(h); err != nil || hi < lo {
			return "", 0, 0, false
		}
		return attr, lo, hi, true
	}
	// other options (";binary") do not change which values these are
	return attr, -1, -1, true
}

// guid formats an objectGUID as a UUID string. AD stores the first three
// fields little-endian (the Windows GUID layout), so their bytes are reversed.
func guid(b []byte) string {
	if len(b) != 16 {
		return ""
	}
	return fmt.Sprintf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%x-%x",
		b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8:10], b[10:16])
}
