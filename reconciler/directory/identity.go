package directory

import (
	"encoding/binary"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Well-known relative identifiers. AD gives its own accounts and groups RIDs
// below 1000; every object made later gets a higher one.
const firstUserRID = 1000

// SIDString formats a binary objectSid as S-1-5-21-...; "" when b is not one.
func SIDString(b []byte) string {
	if len(b) < 8 || b[0] != 1 || len(b) != 8+4*int(b[1]) {
		return ""
	}
	var auth uint64
	for _, x := range b[2:8] {
		auth = auth<<8 | uint64(x)
	}
	var s strings.Builder
	fmt.Fprintf(&s, "S-1-%d", auth)
	for i := 0; i < int(b[1]); i++ {
		fmt.Fprintf(&s, "-%d", binary.LittleEndian.Uint32(b[8+4*i:]))
	}
	return s.String()
}

// RID is the last part of a SID; ok is false for what is not a SID.
func RID(sid string) (rid uint64, ok bool) {
	i := strings.LastIndexByte(sid, '-')
	if !strings.HasPrefix(sid, "S-1-") || i < 0 {
		return 0, false
	}
	n, err := strconv.ParseUint(sid[i+1:], 10, 32)
	return n, err == nil
}

// domainSID reports whether sid is an account of a domain (S-1-5-21-...).
func domainSID(sid string) bool { return strings.HasPrefix(sid, "S-1-5-21-") }

// Builtin reports why an account belongs to the directory itself and is
// never touched, whatever its name or marker: a domain account with a
// well-known RID (Administrator is 500, Guest 501, krbtgt 502, ...) or a
// critical system object. "" when it is an ordinary account.
func (a *Account) Builtin() string {
	switch rid, ok := RID(a.SID); {
	case ok && domainSID(a.SID) && rid < firstUserRID:
		return fmt.Sprintf("a built-in account of the domain (RID %d)", rid)
	case ok && !domainSID(a.SID):
		return "a built-in account (" + a.SID + ")"
	case a.Critical:
		return "a critical system object (isCriticalSystemObject)"
	}
	return ""
}

// Builtin reports why a group belongs to the directory itself: a
// well-known RID, a BUILTIN group, or a critical system object; "" for an
// ordinary group.
func (g *Group) Builtin() string {
	a := Account{SID: g.SID, Critical: g.Critical}
	return a.Builtin()
}

// Created reports whether alm may treat g as a group it created: it
// carries alm's group marker and is neither built-in nor privileged -
// a marker written by hand on Domain Admins does not make it alm's.
func (s *Snapshot) Created(g *Group, privileged map[string]string) bool {
	return IsGroupMarker(g.Marker) && g.Builtin() == "" && !g.AdminCount && privileged[strings.ToLower(g.DN)] == ""
}

// privilegedRIDs are the domain groups Microsoft counts as privileged
// (AdminSDHolder's protected groups and their peers), by RID.
var privilegedRIDs = map[uint64]string{
	498: "Enterprise Read-only Domain Controllers",
	512: "Domain Admins",
	516: "Domain Controllers", // its members can replicate every secret (DCSync)
	518: "Schema Admins",
	519: "Enterprise Admins",
	520: "Group Policy Creator Owners",
	521: "Read-only Domain Controllers",
	526: "Key Admins",
	527: "Enterprise Key Admins",
}

// privilegedBuiltin are the BUILTIN domain-local groups that administer
// the domain controllers, by SID.
var privilegedBuiltin = map[string]string{
	"S-1-5-32-544": "Administrators",
	"S-1-5-32-548": "Account Operators",
	"S-1-5-32-549": "Server Operators",
	"S-1-5-32-550": "Print Operators",
	"S-1-5-32-551": "Backup Operators",
	"S-1-5-32-552": "Replicator",
}

// dnsAdmins has no fixed RID: it is known by its name.
const dnsAdmins = "DnsAdmins"

// PrivilegedFilter is an LDAP filter that finds every group that may be
// privileged; Privileged decides. Connectors read these domain-wide.
const PrivilegedFilter = "(&(objectClass=group)(|(adminCount=1)(isCriticalSystemObject=TRUE)(sAMAccountName=" + dnsAdmins + ")))"

// privilegedItself says why a group is privileged by its own facts, or "".
func (g *Group) privilegedItself() string {
	if rid, ok := RID(g.SID); ok && domainSID(g.SID) {
		if name, ok := privilegedRIDs[rid]; ok {
			return fmt.Sprintf("one of AD's privileged groups (%s, RID %d)", name, rid)
		}
	}
	if name, ok := privilegedBuiltin[g.SID]; ok {
		return fmt.Sprintf("one of AD's privileged groups (BUILTIN\\%s, %s)", name, g.SID)
	}
	if strings.EqualFold(g.Name, dnsAdmins) {
		return "one of AD's privileged groups (DnsAdmins)"
	}
	if g.AdminCount {
		return "a privileged group (adminCount=1: AD protects it and its members)"
	}
	return ""
}

// Privileged returns, by lower-case DN, why each privileged group of the
// snapshot is privileged: by its SID, its name (DnsAdmins) or adminCount=1,
// or because it is nested, directly or not, in such a group.
func (s *Snapshot) Privileged() map[string]string {
	why := map[string]string{}
	byDN := map[string]*Group{}
	for i := range s.Groups {
		g := &s.Groups[i]
		byDN[strings.ToLower(g.DN)] = g
		if w := g.privilegedItself(); w != "" {
			why[strings.ToLower(g.DN)] = w
		}
	}
	// Nesting: a group that is a member of a privileged group passes its
	// rights on. Walk until nothing more is learnt; the chain is bounded
	// by the number of groups, so a loop of groups cannot run forever.
	keys := make([]string, 0, len(byDN))
	for k := range byDN {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for changed := true; changed; {
		changed = false
		for _, k := range keys {
			if _, ok := why[k]; ok {
				continue
			}
			for _, parent := range byDN[k].MemberOf {
				if _, ok := why[strings.ToLower(parent)]; ok {
					why[k] = "nested in " + parent + " (" + why[strings.ToLower(parent)] + ")"
					changed = true
					break
				}
			}
		}
	}
	return why
}

// PrivilegedVia says through which group an account with these direct
// memberships is privileged, given why (Snapshot.Privileged): "" when none
// of its groups is.
func PrivilegedVia(memberOf []string, why map[string]string) string {
	for _, dn := range memberOf {
		if w := why[strings.ToLower(dn)]; w != "" {
			return "a member of " + dn + ", " + w
		}
	}
	return ""
}

// WellKnownPrivileged reports whether a group's name is that of one of
// AD's privileged groups, as the files may name it before the directory is
// read: a role granting it must be marked privileged.
func WellKnownPrivileged(name string) bool {
	if strings.EqualFold(name, dnsAdmins) {
		return true
	}
	for _, n := range privilegedRIDs {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	for _, n := range privilegedBuiltin {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}

// DomainUsersRID is the primary group of every ordinary account.
const DomainUsersRID = 513

// PrimaryGroupSID is the SID of an account's primary group: its domain's
// SID and the primary group's RID; "" when either is unknown.
func (a *Account) PrimaryGroupSID() string {
	i := strings.LastIndexByte(a.SID, '-')
	if a.PrimaryGroupID == 0 || i < 0 || !domainSID(a.SID) {
		return ""
	}
	return a.SID[:i] + "-" + strconv.Itoa(a.PrimaryGroupID)
}

// PrivilegedPrimary says why an account's primary group is privileged:
// one of the snapshot's privileged groups (why, from Privileged) or a
// privileged RID; "" when it is not.
func (s *Snapshot) PrivilegedPrimary(a *Account, why map[string]string) string {
	sid := a.PrimaryGroupSID()
	if sid == "" || a.PrimaryGroupID == DomainUsersRID {
		return ""
	}
	for i := range s.Groups {
		if g := &s.Groups[i]; g.SID == sid {
			if w := why[strings.ToLower(g.DN)]; w != "" {
				return "its primary group (primaryGroupID " + strconv.Itoa(a.PrimaryGroupID) + ") is " + g.DN + ", " + w
			}
			return ""
		}
	}
	if name, ok := privilegedRIDs[uint64(a.PrimaryGroupID)]; ok {
		return "its primary group (primaryGroupID " + strconv.Itoa(a.PrimaryGroupID) + ") is " + name
	}
	return ""
}
