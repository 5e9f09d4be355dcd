// Package directory holds the values that describe accounts and groups as a
// directory holds them: what the connectors read and the diff compares. It
// does no I/O; connectors/ad and connectors/memory produce and accept these.
package directory

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"sort"
	"strings"
)

// Attribute names alm reads and writes (LDAP display names, as AD spells them).
const (
	AttrSAMAccountName     = "sAMAccountName"
	AttrUserPrincipalName  = "userPrincipalName"
	AttrCN                 = "cn"
	AttrGivenName          = "givenName"
	AttrSurname            = "sn"
	AttrDisplayName        = "displayName"
	AttrMail               = "mail"
	AttrDepartment         = "department"
	AttrTitle              = "title"
	AttrManager            = "manager"
	AttrDescription        = "description"
	AttrEmployeeID         = "employeeID"
	AttrAccountExpires     = "accountExpires"
	AttrUserAccountControl = "userAccountControl"
)

// ManagedAttributes are the single-valued attributes the diff keeps equal to
// the files, in the order plans show them. The ownership marker, cn,
// sAMAccountName and userAccountControl are handled apart (rename, enable).
var ManagedAttributes = []string{
	AttrUserPrincipalName, AttrGivenName, AttrSurname, AttrDisplayName, AttrMail,
	AttrDepartment, AttrTitle, AttrManager, AttrDescription, AttrEmployeeID,
	AttrAccountExpires,
}

// userAccountControl bits (MS-ADTS 2.2.16).
const (
	UACAccountDisable       = 0x0002
	UACNormalAccount        = 0x0200
	UACDontExpirePassword   = 0x10000
	UACNotDelegated         = 0x100000
	UACPasswordNotRequired  = 0x0020
	UACSmartcardRequired    = 0x40000
	UACTrustedForDelegation = 0x80000
	// Bits that weaken an account when set by hand: alm treats them as
	// drift on the accounts it manages (see desired.ManagedUAC).
	UACEncryptedTextPasswordAllowed = 0x0080
	UACUseDESKeyOnly                = 0x200000
	UACDontRequirePreauth           = 0x400000
	UACTrustedToAuthForDelegation   = 0x1000000
)

// AccountExpiresNever is accountExpires for an account without expiry.
const AccountExpiresNever = "9223372036854775807"

// Account is a user object as read from the directory.
type Account struct {
	DN     string `json:"dn"`
	GUID   string `json:"guid"`   // objectGUID, as a UUID string
	Name   string `json:"name"`   // sAMAccountName
	Marker string `json:"marker"` // the ownership marker's value; empty when alm does not own it
	// UAC is userAccountControl; Enabled is derived from it.
	UAC        int               `json:"userAccountControl"`
	Attributes map[string]string `json:"attributes"` // ManagedAttributes present on the object
	MemberOf   []string          `json:"memberOf"`   // DNs of groups, as the directory reports them
	// What protects an account by identity rather than by name (see Builtin).
	SID        string `json:"sid,omitempty"`        // objectSid, S-1-5-21-...-RID
	Critical   bool   `json:"critical,omitempty"`   // isCriticalSystemObject
	AdminCount bool   `json:"adminCount,omitempty"` // adminCount=1: AD protects it as privileged (SDProp)
	// PrimaryGroupID is the RID of the account's primary group (513,
	// Domain Users, as a rule): a membership no member or memberOf shows.
	PrimaryGroupID int `json:"primaryGroupID,omitempty"`
	// NoPassword: no password was ever set (pwdLastSet 0, never written
	// since the account was added): a half-made account that must not be
	// enabled before it gets one.
	NoPassword bool `json:"noPassword,omitempty"`
}

// Enabled reports whether the account may log on.
func (a *Account) Enabled() bool { return a.UAC&UACAccountDisable == 0 }

// Group is a group object as read from the directory.
type Group struct {
	DN      string   `json:"dn"`
	GUID    string   `json:"guid"`
	Name    string   `json:"name"`    // sAMAccountName (also cn for groups alm references)
	Members []string `json:"members"` // DNs; empty for privileged groups read only to know them
	// Facts that make a group privileged (see Snapshot.Privileged).
	SID        string   `json:"sid,omitempty"`
	Critical   bool     `json:"critical,omitempty"`
	AdminCount bool     `json:"adminCount,omitempty"`
	MemberOf   []string `json:"memberOf,omitempty"` // for privileged and nested groups: the groups it is a direct member of
	// Marker is the ownership marker's value: GroupMarker on a group alm
	// created, whose members alm keeps to what the roles grant.
	Marker string `json:"marker,omitempty"`
}

// Snapshot is everything a plan needs from the directory, read once.
type Snapshot struct {
	BaseDN   string    `json:"baseDN"`
	Accounts []Account `json:"accounts"` // every user object in the managed OUs
	// Groups are the groups below the scope's GroupBase, the groups the
	// scope names by DN, and the domain's privileged groups wherever they
	// live, with the groups nested in them. Each group once.
	Groups []Group `json:"groups"`
	// OUs are the OUs that exist among the managed OUs, the groups OU,
	// and the OUs above a missing one up to the base DN: what a plan needs
	// to know which OUs to create.
	OUs []string `json:"ous"`
	// State is the server's own change counter when read (AD: the
	// highestCommittedUSN), for logs. It moves with any write anywhere in
	// the domain, so a saved plan's freshness uses Digest instead.
	State string `json:"state"`
}

// Digest identifies what was read - the accounts, groups and OUs - so that
// two snapshots digest alike exactly when a plan made from one would be made
// from the other. Call it on a sorted snapshot.
func (s *Snapshot) Digest() string {
	// The hash of json.Marshal(struct{Accounts, Groups, OUs}), written
	// element by element: 100,000 accounts made a 128 MB buffer, kept by
	// encoding/json's pool after the plan was made.
	h := sha256.New()
	write := func(v any) {
		data, err := json.Marshal(v)
		if err != nil {
			panic(err) // strings, ints and slices of them always marshal
		}
		h.Write(data)
	}
	list := func(name string, n int, at func(int) any, null bool) {
		h.Write([]byte(name))
		if null {
			h.Write([]byte("null"))
			return
		}
		h.Write([]byte("["))
		for i := range n {
			if i > 0 {
				h.Write([]byte(","))
			}
			write(at(i))
		}
		h.Write([]byte("]"))
	}
	list(`{"Accounts":`, len(s.Accounts), func(i int) any { return &s.Accounts[i] }, s.Accounts == nil)
	list(`,"Groups":`, len(s.Groups), func(i int) any { return &s.Groups[i] }, s.Groups == nil)
	h.Write([]byte(`,"OUs":`))
	write(s.OUs)
	h.Write([]byte("}"))
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// Sort puts the snapshot in a stable order, so plans made from it are too.
func (s *Snapshot) Sort() {
	byDN(s.Accounts, func(a *Account) string { return a.DN })
	byDN(s.Groups, func(g *Group) string { return g.DN })
	sort.Slice(s.OUs, func(i, j int) bool { return strings.ToLower(s.OUs[i]) < strings.ToLower(s.OUs[j]) })
	// An OU can be both managed and the groups OU, or above a missing one.
	s.OUs = slices.CompactFunc(s.OUs, SameDN)
	for i := range s.Accounts {
		sort.Strings(s.Accounts[i].MemberOf)
	}
	for i := range s.Groups {
		sort.Strings(s.Groups[i].Members)
		sort.Strings(s.Groups[i].MemberOf)
	}
}

// byDN sorts by DN, ignoring case. Each DN is lowered once, not at each
// comparison (100,000 accounts: 3.4 million copies), and each element
// moved once, not at each swap.
func byDN[T any](xs []T, dn func(*T) string) {
	type keyed struct {
		key string
		i   int
	}
	keys := make([]keyed, len(xs))
	for i := range xs {
		keys[i] = keyed{strings.ToLower(dn(&xs[i])), i}
	}
	slices.SortStableFunc(keys, func(a, b keyed) int { return strings.Compare(a.key, b.key) })
	sorted := make([]T, len(xs))
	for i, k := range keys {
		sorted[i] = xs[k.i]
	}
	copy(xs, sorted)
}

// NewAccount is what it takes to create a user. The connector creates it
// disabled, with a random password, in one operation; the password leaves
// the connector only through Seal, encrypted.
type NewAccount struct {
	DN         string            `json:"dn"`
	Name       string            `json:"name"`
	Marker     string            `json:"marker"`
	UAC        int               `json:"userAccountControl"` // the flags to set once created, disable bit included
	Attributes map[string]string `json:"attributes"`
	// MustChangePassword sets pwdLastSet=0 once the account has its
	// password: a person changes it at first logon.
	MustChangePassword bool `json:"mustChangePassword,omitempty"`
	// Seal receives the password the connector draws, before it is
	// written; nil: no one ever learns it.
	Seal Seal `json:"-"`
}

// Seal takes a password the moment a connector draws it, before the
// connector writes it, and keeps it only encrypted to the one person who
// may read it (see reconciler/credentials). An error stops the write: a
// password that could not be sealed is never set. A connector that draws
// again (the domain refused a password) calls Seal again; the last call is
// the password written. The slice is the connector's: Seal must not keep it.
type Seal func(password []byte) error

// NewGroup is a group alm creates: a global security group named Name
// (its cn and sAMAccountName) at DN, carrying Marker (GroupMarker).
type NewGroup struct {
	DN     string `json:"dn"`
	Name   string `json:"name"`
	Marker string `json:"marker,omitempty"`
}

// GroupTypeGlobalSecurity is groupType for a global security group.
const GroupTypeGlobalSecurity = -2147483646

// Ref is the object a write is meant for, as it was read: the DN it had,
// its objectGUID (empty for an object this run creates), and the ownership
// marker it carried ("" for an object alm does not own). Connectors address
// the write by GUID where there is one and refuse it with ErrChanged when
// the object no longer carries Marker, so that an object replaced or
// re-owned between read and write is never touched.
type Ref struct {
	DN     string `json:"dn"`
	GUID   string `json:"guid,omitempty"`
	Marker string `json:"marker,omitempty"`
}

// Scope says what to read: the user objects below the managed OUs, the
// groups below GroupBase (the base DN when empty), the groups named in
// Groups wherever they are, and always the domain's privileged groups.
type Scope struct {
	BaseDN          string   `json:"baseDN"`
	OUs             []string `json:"ous"` // full DNs
	GroupBase       string   `json:"groupBase,omitempty"`
	Groups          []string `json:"groups,omitempty"` // DNs roles name, read wherever they live
	MarkerAttribute string   `json:"markerAttribute"`
}

// markerPrefix sets alm's ownership marker apart from any other use of the attribute.
const markerPrefix = "alm:"

// Marker is the ownership marker's value for an object's metadata.id.
func Marker(id string) string { return markerPrefix + id }

// GroupMarker is the marker of a group alm created for the roles that name
// name. The colon keeps it apart from every account's marker: no
// metadata.id holds one.
func GroupMarker(name string) string { return markerPrefix + "group:" + strings.ToLower(name) }

// IsGroupMarker reports whether a group's marker says alm created it.
func IsGroupMarker(v string) bool { return strings.HasPrefix(v, markerPrefix+"group:") }

// IDFromMarker returns the metadata.id a marker holds, and false when the
// value is not alm's.
func IDFromMarker(v string) (string, bool) {
	if !strings.HasPrefix(v, markerPrefix) || len(v) == len(markerPrefix) {
		return "", false
	}
	return v[len(markerPrefix):], true
}
