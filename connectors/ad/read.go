package ad

import (
	"context"
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
	userFilter   = "(&(objectCategory=person)(objectClass=user))"
	groupFilter  = "(objectClass=group)"
	attrGUID     = "objectGUID"
	attrMemberOf = "memberOf"
	attrMember   = "member"
	attrUSN      = "highestCommittedUSN"
)

// rest is a multi-valued attribute whose values go on past the first
// window AD returned: values from index next on are still to be fetched.
type rest struct {
	group bool // Snapshot.Groups[i].Members, else Snapshot.Accounts[i].MemberOf
	i     int
	dn    string
	attr  string
	next  int
}

// Read reads the user objects below each managed OU and the groups below
// scope.GroupBase (the base DN when empty): one paged search each. An OU
// that does not exist is left out of Snapshot.OUs, not reported as an error.
// The marker is read from scope.MarkerAttribute, or the Config's when empty.
func (d *Directory) Read(ctx context.Context, scope directory.Scope) (*directory.Snapshot, error) {
	marker := scope.MarkerAttribute
	if marker == "" {
		marker = d.marker
	}
	// The USN comes first: whatever changes during the read makes the
	// snapshot look older, never newer, than it is.
	usn, err := d.highestUSN(ctx)
	if err != nil {
		return nil, err
	}
	snap := &directory.Snapshot{BaseDN: scope.BaseDN, State: usn,
		Accounts: []directory.Account{}, Groups: []directory.Group{}, OUs: []string{}}

	userAttrs := append([]string{directory.AttrSAMAccountName, attrGUID, directory.AttrUserAccountControl,
		d.ranged(attrMemberOf), marker}, directory.ManagedAttributes...)
	// Values past AD's first window are fetched after the searches: a
	// request made while go-ldap streams a search would wait behind it.
	var more []rest
	seen := map[string]bool{} // nested managed OUs would list an account twice
	for _, ou := range scope.OUs {
		err := d.search(ctx, ou, userFilter, userAttrs, func(e *ldap.Entry) error {
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
			snap.Accounts = append(snap.Accounts, a)
			return nil
		})
		if errors.Is(err, directory.ErrNoSuchObject) {
			d.log.Debug("managed OU does not exist yet", "ou", ou)
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
	groupAttrs := []string{directory.AttrSAMAccountName, attrGUID, d.ranged(attrMember)}
	err = d.search(ctx, base, groupFilter, groupAttrs, func(e *ldap.Entry) error {
		members, next := values(e, attrMember)
		if next >= 0 {
			more = append(more, rest{group: true, i: len(snap.Groups), dn: e.DN, attr: attrMember, next: next})
		}
		snap.Groups = append(snap.Groups, directory.Group{
			DN:      e.DN,
			GUID:    guid(e.GetRawAttributeValue(attrGUID)),
			Name:    e.GetAttributeValue(directory.AttrSAMAccountName),
			Members: members,
		})
		return nil
	})
	if err != nil {
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
	snap.Sort()
	d.log.Debug("read directory", "accounts", len(snap.Accounts), "groups", len(snap.Groups),
		"ous", len(snap.OUs), "ranged", len(more), "usn", usn)
	return snap, nil
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
	}
	if v := e.GetAttributeValue(directory.AttrUserAccountControl); v != "" {
		if a.UAC, err = strconv.Atoi(v); err != nil {
			return a, -1, &directory.Error{Op: opSearch, DN: e.DN, Class: directory.ErrInvalidSyntax,
				Detail: fmt.Sprintf("userAccountControl %q is not a number", v)}
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

// highestUSN reads the rootDSE's highestCommittedUSN.
func (d *Directory) highestUSN(ctx context.Context) (string, error) {
	var usn string
	err := d.search(ctx, "", "(objectClass=*)", []string{attrUSN}, func(e *ldap.Entry) error {
		usn = e.GetAttributeValue(attrUSN)
		return nil
	})
	if err != nil {
		return "", err
	}
	if usn == "" {
		return "", &directory.Error{Op: opSearch, DN: "rootDSE", Detail: "no " + attrUSN,
			Hint: "the server does not look like Active Directory: check the URL"}
	}
	return usn, nil
}

// search streams a paged subtree search to each, ignoring referrals (AD
// refers subtree searches from the domain root to the configuration and DNS
// partitions). An empty base reads the rootDSE. each must not use the
// connection: go-ldap delivers one response at a time.
func (d *Directory) search(ctx context.Context, base, filter string, attrs []string, each func(*ldap.Entry) error) error {
	rootDSE := base == ""
	scope := ldap.ScopeWholeSubtree
	if rootDSE {
		scope = ldap.ScopeBaseObject
	}
	paging := ldap.NewControlPaging(pageSize)
	req := ldap.NewSearchRequest(base, scope, ldap.NeverDerefAliases, 0, 0, false, filter, attrs, nil)
	if !rootDSE {
		req.Controls = []ldap.Control{paging}
	}
	for {
		var cookie []byte
		var eachErr error
		err := d.do(ctx, opSearch, base, "", func() error {
			// Its own context lets an early return end the search.
			sctx, cancel := context.WithCancel(ctx)
			defer cancel()
			res := d.conn.SearchAsync(sctx, req, 64)
			for res.Next() {
				if e := res.Entry(); e != nil {
					if eachErr = each(e); eachErr != nil {
						return nil
					}
					continue
				}
				if c, ok := ldap.FindControl(res.Controls(), ldap.ControlTypePaging).(*ldap.ControlPaging); ok {
					cookie = c.Cookie
				}
			}
			return res.Err()
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
		err := d.do(ctx, opSearch, r.dn, r.attr, func() error {
			var err error
			res, err = d.conn.Search(req)
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
