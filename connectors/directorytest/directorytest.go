// Package directorytest is the conformance suite every directory connector
// passes: connectors/memory in its unit tests, connectors/ad against a real
// Samba AD. It asserts only what Samba does (see shared/notes/samba-ad.md),
// so that the fake cannot drift from the real directory unnoticed.
//
// Error classes the suite expects, case by case (Samba's result code):
//
//	duplicate sAMAccountName, DN, OU or member (68)        directory.ErrExists
//	duplicate userPrincipalName (19, "already in use")     directory.ErrExists
//	missing parent (32; 80 on a move), object or group (32) directory.ErrNoSuchObject
//	removing a non-member (53, "Attribute member doesn't exist") directory.ErrNoSuchObject
//	a member DN naming no object (19, 000020B5)            directory.ErrConstraint or ErrNoSuchObject
//	deleting an OU that holds objects (66)                 directory.ErrNotEmpty
//
// Every error is a *directory.Error naming the DN the call was given.
package directorytest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/alm-project/alm/connectors/memory"
	"github.com/alm-project/alm/reconciler/directory"
)

// Dir is what the suite drives: the methods alm's apply uses.
type Dir interface {
	Read(ctx context.Context, scope directory.Scope) (*directory.Snapshot, error)
	CreateOU(ctx context.Context, dn string) error
	Create(ctx context.Context, a directory.NewAccount) error
	Modify(ctx context.Context, target directory.Ref, attrs map[string]string) error
	SetAccountControl(ctx context.Context, target directory.Ref, uac int) error
	SetPassword(ctx context.Context, target directory.Ref, seal directory.Seal) error
	Move(ctx context.Context, target directory.Ref, newDN string) error
	AddMember(ctx context.Context, group, member directory.Ref) error
	RemoveMember(ctx context.Context, group, member directory.Ref) error
	AddMembers(ctx context.Context, group directory.Ref, members []directory.Ref) error
	RemoveMembers(ctx context.Context, group directory.Ref, members []directory.Ref) error
	Delete(ctx context.Context, target directory.Ref) error
	CreateGroup(ctx context.Context, g directory.NewGroup) error
	Adopt(ctx context.Context, target directory.Ref, marker string) error
}

// Fixture is where one case works.
type Fixture struct {
	// BaseDN is the domain's DN.
	BaseDN string
	// OU is an existing, empty OU for this case alone: every object the
	// case makes goes below it, so cases can share one directory.
	OU string
	// MarkerAttribute is the attribute Create writes the marker to.
	MarkerAttribute string
	// CreateGroup makes a group with sAMAccountName name at dn (below OU):
	// alm has no method for it, the harness does.
	CreateGroup func(ctx context.Context, dn, name string) error
	// AddWithoutPassword adds a disabled user that never gets a password,
	// carrying marker: the half-made account a crash between an add and
	// its password used to leave.
	AddWithoutPassword func(ctx context.Context, dn, name, marker string) error
	// SetAdminCount sets adminCount=1 on a user or group, as AD's SDProp
	// does to members of privileged groups.
	SetAdminCount func(ctx context.Context, dn string) error
}

// Run runs every case as a subtest, calling newDir for each: a fresh
// directory (memory) or a fresh OU in a shared one (Samba). Removing what
// a case leaves behind is newDir's business (t.Cleanup).
func Run(t *testing.T, newDir func(t *testing.T) (Dir, Fixture)) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, fix := newDir(t)
			c.run(newEnv(t, d, fix))
		})
	}
}

var cases = []struct {
	name string
	run  func(e *env)
}{
	{"create and read", createAndRead},
	{"create with flags", createWithFlags},
	{"read scope", readScope},
	{"duplicates", duplicates},
	{"missing parent", missingParent},
	{"modify", modify},
	{"account control", accountControl},
	{"move and rename", moveAndRename},
	{"move errors", moveErrors},
	{"members", members},
	{"members in one write", memberBatches},
	{"delete", deleteAccount},
	{"delete non-empty OU", deleteNonEmptyOU},
	{"state changes", stateChanges},
	{"create again", createAgain},
	{"writes follow the GUID", followGUID},
	{"a replaced object is not touched", replaced},
	{"a re-owned object is not touched", reowned},
	{"half-made account", halfMade},
	{"identity", identity},
	{"privileged groups", privilegedGroups},
	{"groups named by DN", namedGroups},
	{"adopt", adopt},
	{"groups alm creates", createdGroups},
}

// env is one case's view of the directory.
type env struct {
	t     *testing.T
	ctx   context.Context
	d     Dir
	fix   Fixture
	token string // keeps names unique across runs against one domain
}

func newEnv(t *testing.T, d Dir, fix Fixture) *env {
	var b [3]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return &env{t: t, ctx: t.Context(), d: d, fix: fix, token: hex.EncodeToString(b[:])}
}

// name is a sAMAccountName unique to this run, at most 20 characters as AD requires.
func (e *env) name(s string) string { return s + "-" + e.token }

// ou is the DN of an OU below the fixture's.
func (e *env) ou(s string) string { return "OU=" + s + "," + e.fix.OU }

func (e *env) mkOU(s string) string {
	e.t.Helper()
	dn := e.ou(s)
	if err := e.d.CreateOU(e.ctx, dn); err != nil {
		e.t.Fatalf("CreateOU(%s): %v", dn, err)
	}
	return dn
}

func (e *env) mkGroup(s string) (dn, name string) {
	e.t.Helper()
	name = e.name(s)
	dn = "CN=" + name + "," + e.fix.OU
	if err := e.fix.CreateGroup(e.ctx, dn, name); err != nil {
		e.t.Fatalf("CreateGroup(%s): %v", dn, err)
	}
	return dn, name
}

// account is a new enabled account named s in the OU at parent.
func (e *env) account(s, parent string) directory.NewAccount {
	n := e.name(s)
	return directory.NewAccount{
		DN:     "CN=" + n + "," + parent,
		Name:   n,
		Marker: directory.Marker("id-" + n),
		UAC:    directory.UACNormalAccount,
		Attributes: map[string]string{
			directory.AttrUserPrincipalName: n + "@" + e.domain(),
			directory.AttrGivenName:         "Given " + s,
			directory.AttrSurname:           "Surname " + s,
			directory.AttrDisplayName:       "Display " + s,
		},
	}
}

// ref names a created account for a write, as a plan made before would:
// by DN and marker, without its GUID.
func ref(a directory.NewAccount) directory.Ref { return directory.Ref{DN: a.DN, Marker: a.Marker} }

// at names an object alm does not own (a group, an OU) by DN.
func at(dn string) directory.Ref { return directory.Ref{DN: dn} }

func (e *env) create(a directory.NewAccount) {
	e.t.Helper()
	if err := e.d.Create(e.ctx, a); err != nil {
		e.t.Fatalf("Create(%s): %v", a.DN, err)
	}
}

// domain is the DNS name of the base DN, the userPrincipalName suffix.
func (e *env) domain() string {
	var parts []string
	for _, p := range strings.Split(e.fix.BaseDN, ",") {
		if k, v, ok := strings.Cut(p, "="); ok && strings.EqualFold(strings.TrimSpace(k), "DC") {
			parts = append(parts, v)
		}
	}
	if len(parts) == 0 {
		return "example.test"
	}
	return strings.Join(parts, ".")
}

// read reads the fixture's OU (or the OUs given) and its groups.
func (e *env) read(ous ...string) *directory.Snapshot {
	e.t.Helper()
	if len(ous) == 0 {
		ous = []string{e.fix.OU}
	}
	s, err := e.d.Read(e.ctx, directory.Scope{
		BaseDN: e.fix.BaseDN, OUs: ous, GroupBase: e.fix.OU, MarkerAttribute: e.fix.MarkerAttribute,
	})
	if err != nil {
		e.t.Fatalf("Read: %v", err)
	}
	return s
}

func findAccount(s *directory.Snapshot, dn string) *directory.Account {
	for i := range s.Accounts {
		if directory.SameDN(s.Accounts[i].DN, dn) {
			return &s.Accounts[i]
		}
	}
	return nil
}

func findGroup(s *directory.Snapshot, dn string) *directory.Group {
	for i := range s.Groups {
		if directory.SameDN(s.Groups[i].DN, dn) {
			return &s.Groups[i]
		}
	}
	return nil
}

// mustAccount returns the account at dn in s, failing the case when it is absent.
func (e *env) mustAccount(s *directory.Snapshot, dn string) *directory.Account {
	e.t.Helper()
	a := findAccount(s, dn)
	if a == nil {
		e.t.Fatalf("no account %s in the snapshot; accounts: %v", dn, dns(s))
	}
	return a
}

func (e *env) mustGroup(s *directory.Snapshot, dn string) *directory.Group {
	e.t.Helper()
	g := findGroup(s, dn)
	if g == nil {
		e.t.Fatalf("no group %s in the snapshot", dn)
	}
	return g
}

func dns(s *directory.Snapshot) []string {
	var out []string
	for _, a := range s.Accounts {
		out = append(out, a.DN)
	}
	return out
}

func containsDN(list []string, dn string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return directory.SameDN(x, dn) })
}

// wantErr checks that err is a *directory.Error of class, about dn.
func (e *env) wantErr(call string, err, class error, dn string) {
	e.t.Helper()
	if err == nil {
		e.t.Errorf("%s: no error, want %v", call, class)
		return
	}
	var de *directory.Error
	if !errors.As(err, &de) {
		e.t.Errorf("%s: error %v (%T) is not a *directory.Error", call, err, err)
		return
	}
	if !isClass(err, class) {
		e.t.Errorf("%s: error %q is of class %v, want %v", call, err, de.Class, class)
	}
	if !directory.SameDN(de.DN, dn) {
		e.t.Errorf("%s: error names DN %q, want %q", call, de.DN, dn)
	}
}

// anyOf is a class that matches any of several, where directories differ.
type anyOf []error

func (a anyOf) Error() string {
	s := make([]string, len(a))
	for i, c := range a {
		s[i] = c.Error()
	}
	return strings.Join(s, " or ")
}

func isClass(err, class error) bool {
	if classes, ok := class.(anyOf); ok {
		return slices.ContainsFunc(classes, func(c error) bool { return errors.Is(err, c) })
	}
	return errors.Is(err, class)
}

var guidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func createAndRead(e *env) {
	people := e.mkOU("People")
	a := e.account("alice", people)
	a.Attributes[directory.AttrMail] = "alice@" + e.domain()
	a.Attributes[directory.AttrDescription] = "created by the conformance suite"
	a.Attributes[directory.AttrTitle] = "Engineer"
	a.Attributes[directory.AttrDepartment] = "R&D, Tools"
	a.Attributes[directory.AttrEmployeeID] = "E-1001"
	e.create(a)
	b := e.account("bob", people)
	e.create(b)

	s := e.read()
	if len(s.Accounts) != 2 {
		e.t.Fatalf("read %d accounts %v, want alice and bob", len(s.Accounts), dns(s))
	}
	got := e.mustAccount(s, a.DN)
	if got.Name != a.Name {
		e.t.Errorf("Name = %q, want %q", got.Name, a.Name)
	}
	if got.Marker != a.Marker {
		e.t.Errorf("Marker = %q, want %q", got.Marker, a.Marker)
	}
	// Create makes accounts disabled, whatever flags it is given: enabling is a change of its own.
	if got.UAC != directory.UACNormalAccount|directory.UACAccountDisable || got.Enabled() {
		e.t.Errorf("userAccountControl = %d (enabled %v), want 514", got.UAC, got.Enabled())
	}
	if got.NoPassword {
		e.t.Error("NoPassword: a created account has its password from the add on")
	}
	for k, want := range a.Attributes {
		if got.Attributes[k] != want {
			e.t.Errorf("attribute %s = %q, want %q", k, got.Attributes[k], want)
		}
	}
	// AD gives every new user accountExpires "never".
	if v := got.Attributes[directory.AttrAccountExpires]; v != directory.AccountExpiresNever {
		e.t.Errorf("accountExpires = %q, want %s", v, directory.AccountExpiresNever)
	}
	if len(got.MemberOf) != 0 {
		e.t.Errorf("memberOf = %v, want none", got.MemberOf)
	}
	if !guidPattern.MatchString(got.GUID) {
		e.t.Errorf("GUID %q is not a UUID", got.GUID)
	}
	other := e.mustAccount(s, b.DN)
	if other.GUID == got.GUID {
		e.t.Errorf("alice and bob share GUID %s", got.GUID)
	}
	if !containsDN(s.OUs, e.fix.OU) || len(s.OUs) != 1 {
		e.t.Errorf("OUs = %v, want [%s]", s.OUs, e.fix.OU)
	}
	if s.State == "" {
		e.t.Error("State is empty")
	}
	again := e.mustAccount(e.read(), a.DN)
	if again.GUID != got.GUID {
		e.t.Errorf("GUID changed between reads: %s then %s", got.GUID, again.GUID)
	}
}

func createWithFlags(e *env) {
	tests := []struct {
		name string
		uac  int
		want int
	}{
		{"disabled", directory.UACNormalAccount | directory.UACAccountDisable, 514},
		{"no-expiry", directory.UACNormalAccount | directory.UACDontExpirePassword, 514 | directory.UACDontExpirePassword},
		{"svc", directory.UACNormalAccount | directory.UACDontExpirePassword | directory.UACNotDelegated, 514 | directory.UACDontExpirePassword | directory.UACNotDelegated},
	}
	for _, tt := range tests {
		a := e.account(tt.name, e.fix.OU)
		a.UAC = tt.uac
		e.create(a)
		got := e.mustAccount(e.read(), a.DN)
		if got.UAC != tt.want || got.Enabled() {
			e.t.Errorf("%s: userAccountControl = %d (enabled %v), want %d, disabled", tt.name, got.UAC, got.Enabled(), tt.want)
		}
	}
}

func readScope(e *env) {
	in := e.mkOU("In")
	nested := "OU=Nested," + in
	if err := e.d.CreateOU(e.ctx, nested); err != nil {
		e.t.Fatalf("CreateOU(%s): %v", nested, err)
	}
	out := e.mkOU("Out")
	a, b, c := e.account("in", in), e.account("nested", nested), e.account("out", out)
	e.create(a)
	e.create(b)
	e.create(c)
	missing := e.ou("Missing")

	s := e.read(in, missing)
	if len(s.Accounts) != 2 || findAccount(s, a.DN) == nil || findAccount(s, b.DN) == nil {
		e.t.Errorf("read %v, want the accounts of %s and below it only", dns(s), in)
	}
	// The groups OU (the suite's) is there too, as is the OU above the missing one.
	if len(s.OUs) != 2 || !containsDN(s.OUs, in) || !containsDN(s.OUs, e.fix.OU) {
		e.t.Errorf("OUs = %v, want [%s %s]: an OU that does not exist is left out", s.OUs, in, e.fix.OU)
	}
}

func duplicates(e *env) {
	one, two := e.mkOU("One"), e.mkOU("Two")
	a := e.account("dup", one)
	e.create(a)

	sameName := a
	sameName.DN = "CN=Another " + a.Name + "," + two
	sameName.Attributes = map[string]string{directory.AttrUserPrincipalName: "another-" + a.Name + "@" + e.domain()}
	e.wantErr("Create with a sAMAccountName in use", e.d.Create(e.ctx, sameName), directory.ErrExists, sameName.DN)

	sameDN := e.account("dup2", one)
	sameDN.DN = a.DN
	e.wantErr("Create at a DN in use", e.d.Create(e.ctx, sameDN), directory.ErrExists, a.DN)

	_, gname := e.mkGroup("grp")
	groupName := e.account("g", two)
	groupName.Name = gname
	e.wantErr("Create with a group's sAMAccountName", e.d.Create(e.ctx, groupName), directory.ErrExists, groupName.DN)

	e.wantErr("CreateOU of an existing OU", e.d.CreateOU(e.ctx, one), directory.ErrExists, one)

	sameUPN := e.account("upn", two)
	sameUPN.Attributes[directory.AttrUserPrincipalName] = a.Attributes[directory.AttrUserPrincipalName]
	e.wantErr("Create with a userPrincipalName in use", e.d.Create(e.ctx, sameUPN), directory.ErrExists, sameUPN.DN)

	s := e.read()
	if len(s.Accounts) != 1 {
		e.t.Errorf("read %v after refused creates, want only %s", dns(s), a.DN)
	}
}

func missingParent(e *env) {
	missing := e.ou("Missing")
	a := e.account("orphan", missing)
	e.wantErr("Create below a missing OU", e.d.Create(e.ctx, a), directory.ErrNoSuchObject, a.DN)
	child := "OU=Child," + missing
	e.wantErr("CreateOU below a missing OU", e.d.CreateOU(e.ctx, child), directory.ErrNoSuchObject, child)
}

func modify(e *env) {
	a := e.account("mod", e.fix.OU)
	a.Attributes[directory.AttrDescription] = "to be removed"
	e.create(a)

	err := e.d.Modify(e.ctx, ref(a), map[string]string{
		directory.AttrTitle:       "Manager",
		directory.AttrGivenName:   "Changed",
		directory.AttrDescription: "",
	})
	if err != nil {
		e.t.Fatalf("Modify: %v", err)
	}
	got := e.mustAccount(e.read(), a.DN)
	want := map[string]string{
		directory.AttrTitle:     "Manager",
		directory.AttrGivenName: "Changed",
		directory.AttrSurname:   a.Attributes[directory.AttrSurname],
	}
	for k, v := range want {
		if got.Attributes[k] != v {
			e.t.Errorf("after Modify %s = %q, want %q", k, got.Attributes[k], v)
		}
	}
	if v, ok := got.Attributes[directory.AttrDescription]; ok {
		e.t.Errorf("after Modify description = %q, want it deleted", v)
	}

	// DNs compare case-insensitively.
	lower := strings.ToLower(a.DN)
	if err := e.d.Modify(e.ctx, directory.Ref{DN: lower, Marker: a.Marker}, map[string]string{directory.AttrTitle: "Lead"}); err != nil {
		e.t.Fatalf("Modify(%s): %v", lower, err)
	}
	if got := e.mustAccount(e.read(), a.DN); got.Attributes[directory.AttrTitle] != "Lead" {
		e.t.Errorf("title = %q after Modify by a lower-case DN, want Lead", got.Attributes[directory.AttrTitle])
	}

	gone := "CN=Nobody " + e.token + "," + e.fix.OU
	e.wantErr("Modify a missing object", e.d.Modify(e.ctx, directory.Ref{DN: gone, Marker: a.Marker}, map[string]string{directory.AttrTitle: "x"}),
		directory.ErrNoSuchObject, gone)
}

func accountControl(e *env) {
	a := e.account("uac", e.fix.OU)
	e.create(a)
	steps := []struct {
		uac     int
		enabled bool
	}{
		{directory.UACNormalAccount | directory.UACAccountDisable, false},
		{directory.UACNormalAccount, true},
		{directory.UACNormalAccount | directory.UACDontExpirePassword | directory.UACAccountDisable, false},
	}
	for _, st := range steps {
		if err := e.d.SetAccountControl(e.ctx, ref(a), st.uac); err != nil {
			e.t.Fatalf("SetAccountControl(%d): %v", st.uac, err)
		}
		got := e.mustAccount(e.read(), a.DN)
		if got.UAC != st.uac || got.Enabled() != st.enabled {
			e.t.Errorf("after SetAccountControl(%d): %d (enabled %v)", st.uac, got.UAC, got.Enabled())
		}
	}
	gone := "CN=Nobody " + e.token + "," + e.fix.OU
	e.wantErr("SetAccountControl of a missing object", e.d.SetAccountControl(e.ctx, directory.Ref{DN: gone, Marker: a.Marker}, directory.UACNormalAccount),
		directory.ErrNoSuchObject, gone)
}

func moveAndRename(e *env) {
	from, to := e.mkOU("From"), e.mkOU("To")
	g, _ := e.mkGroup("movers")
	a := e.account("mover", from)
	e.create(a)
	if err := e.d.AddMember(e.ctx, at(g), ref(a)); err != nil {
		e.t.Fatalf("AddMember: %v", err)
	}
	before := e.mustAccount(e.read(), a.DN)

	tests := []struct {
		name  string
		newDN string
	}{
		{"move and rename", "CN=Moved " + a.Name + "," + to},
		{"rename in place", "CN=Renamed " + a.Name + "," + to},
		{"move back", "CN=Renamed " + a.Name + "," + from},
	}
	dn := a.DN
	for _, tt := range tests {
		if err := e.d.Move(e.ctx, directory.Ref{DN: dn, Marker: a.Marker}, tt.newDN); err != nil {
			e.t.Fatalf("%s: Move(%s, %s): %v", tt.name, dn, tt.newDN, err)
		}
		s := e.read()
		if findAccount(s, dn) != nil {
			e.t.Errorf("%s: %s still read after the move", tt.name, dn)
		}
		got := e.mustAccount(s, tt.newDN)
		if got.GUID != before.GUID {
			e.t.Errorf("%s: GUID %s, want %s kept", tt.name, got.GUID, before.GUID)
		}
		if got.Name != before.Name || got.Marker != before.Marker {
			e.t.Errorf("%s: name %q marker %q, want %q %q kept", tt.name, got.Name, got.Marker, before.Name, before.Marker)
		}
		if got.Attributes[directory.AttrGivenName] != a.Attributes[directory.AttrGivenName] {
			e.t.Errorf("%s: givenName %q, want it kept", tt.name, got.Attributes[directory.AttrGivenName])
		}
		if len(got.MemberOf) != 1 || !directory.SameDN(got.MemberOf[0], g) {
			e.t.Errorf("%s: memberOf %v, want [%s]", tt.name, got.MemberOf, g)
		}
		members := e.mustGroup(s, g).Members
		if len(members) != 1 || !directory.SameDN(members[0], tt.newDN) {
			e.t.Errorf("%s: group members %v, want [%s]", tt.name, members, tt.newDN)
		}
		dn = tt.newDN
	}
}

func moveErrors(e *env) {
	a, b := e.account("stay", e.fix.OU), e.account("other", e.fix.OU)
	e.create(a)
	e.create(b)
	missing := "CN=" + a.Name + "," + e.ou("Missing")
	e.wantErr("Move below a missing OU", e.d.Move(e.ctx, ref(a), missing), directory.ErrNoSuchObject, a.DN)
	e.wantErr("Move onto an existing DN", e.d.Move(e.ctx, ref(a), b.DN), directory.ErrExists, a.DN)
	gone := "CN=Nobody " + e.token + "," + e.fix.OU
	e.wantErr("Move a missing object", e.d.Move(e.ctx, directory.Ref{DN: gone, Marker: a.Marker}, "CN=Somebody "+e.token+","+e.fix.OU),
		directory.ErrNoSuchObject, gone)
	s := e.read()
	if got := e.mustAccount(s, a.DN); got.Name != a.Name {
		e.t.Errorf("after refused moves %s holds %q, want %q", a.DN, got.Name, a.Name)
	}
}

func members(e *env) {
	g, gname := e.mkGroup("team")
	a := e.account("member", e.fix.OU)
	e.create(a)

	if err := e.d.AddMember(e.ctx, at(g), ref(a)); err != nil {
		e.t.Fatalf("AddMember: %v", err)
	}
	s := e.read()
	grp := e.mustGroup(s, g)
	if grp.Name != gname || !guidPattern.MatchString(grp.GUID) {
		e.t.Errorf("group read as name %q GUID %q, want %q and a UUID", grp.Name, grp.GUID, gname)
	}
	if len(grp.Members) != 1 || !directory.SameDN(grp.Members[0], a.DN) {
		e.t.Errorf("members %v, want [%s]", grp.Members, a.DN)
	}
	if got := e.mustAccount(s, a.DN).MemberOf; len(got) != 1 || !directory.SameDN(got[0], g) {
		e.t.Errorf("memberOf %v, want [%s]", got, g)
	}

	e.wantErr("AddMember of a member", e.d.AddMember(e.ctx, at(g), ref(a)), directory.ErrExists, g)

	if err := e.d.RemoveMember(e.ctx, at(g), ref(a)); err != nil {
		e.t.Fatalf("RemoveMember: %v", err)
	}
	s = e.read()
	if m := e.mustGroup(s, g).Members; len(m) != 0 {
		e.t.Errorf("members %v after RemoveMember, want none", m)
	}
	if got := e.mustAccount(s, a.DN).MemberOf; len(got) != 0 {
		e.t.Errorf("memberOf %v after RemoveMember, want none", got)
	}

	e.wantErr("RemoveMember of a non-member", e.d.RemoveMember(e.ctx, at(g), ref(a)), directory.ErrNoSuchObject, g)
	noGroup := "CN=No Group " + e.token + "," + e.fix.OU
	e.wantErr("AddMember to a missing group", e.d.AddMember(e.ctx, at(noGroup), ref(a)), directory.ErrNoSuchObject, noGroup)
	noUser := "CN=Nobody " + e.token + "," + e.fix.OU
	// Samba refuses a DN naming no object as a constraint (000020B5), Windows as 32.
	e.wantErr("AddMember of a missing object", e.d.AddMember(e.ctx, at(g), at(noUser)), anyOf{directory.ErrConstraint, directory.ErrNoSuchObject}, g)

	// By GUID, as plans name what they read.
	got := e.mustAccount(e.read(), a.DN)
	grp = e.mustGroup(e.read(), g)
	byGUID := directory.Ref{DN: a.DN, GUID: got.GUID, Marker: a.Marker}
	if err := e.d.AddMember(e.ctx, directory.Ref{DN: g, GUID: grp.GUID}, byGUID); err != nil {
		e.t.Fatalf("AddMember by GUID: %v", err)
	}
	if m := e.mustGroup(e.read(), g).Members; len(m) != 1 || !directory.SameDN(m[0], a.DN) {
		e.t.Errorf("members %v after AddMember by GUID, want [%s]", m, a.DN)
	}
	if err := e.d.RemoveMember(e.ctx, directory.Ref{DN: g, GUID: grp.GUID}, byGUID); err != nil {
		e.t.Fatalf("RemoveMember by GUID: %v", err)
	}
	if m := e.mustGroup(e.read(), g).Members; len(m) != 0 {
		e.t.Errorf("members %v after RemoveMember by GUID, want none", m)
	}
}

// memberBatches: many members added or removed in one write, all of them
// or none: a value already there (or not there) fails the whole write.
func memberBatches(e *env) {
	g, _ := e.mkGroup("batch")
	var refs []directory.Ref
	var want []string
	for _, n := range []string{"b1", "b2", "b3"} {
		a := e.account(n, e.fix.OU)
		e.create(a)
		got := e.mustAccount(e.read(), a.DN)
		refs = append(refs, directory.Ref{DN: a.DN, GUID: got.GUID, Marker: a.Marker})
		want = append(want, a.DN)
	}
	members := func() []string {
		m := e.mustGroup(e.read(), g).Members
		slices.SortFunc(m, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
		return m
	}
	same := func(got, want []string) bool {
		return len(got) == len(want) && !slices.ContainsFunc(want, func(dn string) bool { return !containsDN(got, dn) })
	}
	if err := e.d.AddMember(e.ctx, at(g), refs[0]); err != nil {
		e.t.Fatalf("AddMember: %v", err)
	}
	e.wantErr("AddMembers with a member already there", e.d.AddMembers(e.ctx, at(g), refs), directory.ErrExists, g)
	if m := members(); !same(m, want[:1]) {
		e.t.Errorf("members %v after a refused AddMembers, want only %s: a refused write adds nothing", m, want[0])
	}
	if err := e.d.AddMembers(e.ctx, at(g), refs[1:]); err != nil {
		e.t.Fatalf("AddMembers: %v", err)
	}
	if m := members(); !same(m, want) {
		e.t.Errorf("members %v after AddMembers, want %v", m, want)
	}
	if err := e.d.RemoveMembers(e.ctx, at(g), refs[:2]); err != nil {
		e.t.Fatalf("RemoveMembers: %v", err)
	}
	if m := members(); !same(m, want[2:]) {
		e.t.Errorf("members %v after RemoveMembers, want %v", m, want[2:])
	}
	e.wantErr("RemoveMembers with a non-member", e.d.RemoveMembers(e.ctx, at(g), refs[1:]), directory.ErrNoSuchObject, g)
	if m := members(); !same(m, want[2:]) {
		e.t.Errorf("members %v after a refused RemoveMembers, want %v: a refused write removes nothing", m, want[2:])
	}
}

func deleteAccount(e *env) {
	g, _ := e.mkGroup("leavers")
	a, b := e.account("gone", e.fix.OU), e.account("kept", e.fix.OU)
	e.create(a)
	e.create(b)
	for _, x := range []directory.NewAccount{a, b} {
		if err := e.d.AddMember(e.ctx, at(g), ref(x)); err != nil {
			e.t.Fatalf("AddMember(%s): %v", x.DN, err)
		}
	}
	if err := e.d.Delete(e.ctx, ref(a)); err != nil {
		e.t.Fatalf("Delete: %v", err)
	}
	s := e.read()
	if findAccount(s, a.DN) != nil {
		e.t.Errorf("%s read after Delete", a.DN)
	}
	e.mustAccount(s, b.DN)
	if m := e.mustGroup(s, g).Members; len(m) != 1 || !directory.SameDN(m[0], b.DN) {
		e.t.Errorf("members %v after deleting %s, want [%s]", m, a.DN, b.DN)
	}
	e.wantErr("Delete a deleted object", e.d.Delete(e.ctx, ref(a)), directory.ErrNoSuchObject, a.DN)
}

func deleteNonEmptyOU(e *env) {
	ou := e.mkOU("Full")
	a := e.account("inside", ou)
	e.create(a)
	e.wantErr("Delete an OU holding an account", e.d.Delete(e.ctx, at(ou)), directory.ErrNotEmpty, ou)
	e.mustAccount(e.read(), a.DN)

	if err := e.d.Delete(e.ctx, ref(a)); err != nil {
		e.t.Fatalf("Delete(%s): %v", a.DN, err)
	}
	if err := e.d.Delete(e.ctx, at(ou)); err != nil {
		e.t.Fatalf("Delete of the emptied OU: %v", err)
	}
	if s := e.read(ou); containsDN(s.OUs, ou) {
		e.t.Errorf("OUs %v after deleting %s, want it gone", s.OUs, ou)
	}
}

// stateChanges checks only that a write changes State: against a shared
// directory other writers may change it between reads too.
func stateChanges(e *env) {
	a := e.account("state", e.fix.OU)
	e.create(a)
	writes := []struct {
		name  string
		write func() error
	}{
		{"Modify", func() error {
			return e.d.Modify(e.ctx, ref(a), map[string]string{directory.AttrTitle: "x"})
		}},
		{"SetAccountControl", func() error {
			return e.d.SetAccountControl(e.ctx, ref(a), directory.UACNormalAccount)
		}},
		{"CreateOU", func() error { return e.d.CreateOU(e.ctx, e.ou("State")) }},
	}
	for _, w := range writes {
		before := e.read().State
		if err := w.write(); err != nil {
			e.t.Fatalf("%s: %v", w.name, err)
		}
		if after := e.read().State; after == before {
			e.t.Errorf("State %q unchanged by %s", after, w.name)
		}
	}
}

// createAgain: an add whose answer was lost is tried again by apply; the
// account the first attempt made (same DN, same marker) is success, while
// a DN held by another owner's account stays an error.
func createAgain(e *env) {
	a := e.account("again", e.fix.OU)
	e.create(a)
	if err := e.d.Create(e.ctx, a); err != nil {
		e.t.Errorf("Create of the account just made, same marker: %v, want success", err)
	}
	other := a
	other.Marker = directory.Marker("someone-else-" + e.token)
	e.wantErr("Create at a DN held by another owner's account", e.d.Create(e.ctx, other), directory.ErrExists, a.DN)
	if got := e.mustAccount(e.read(), a.DN); got.Marker != a.Marker {
		e.t.Errorf("marker %q after the refused create, want %q", got.Marker, a.Marker)
	}
}

// followGUID: a write addressed by GUID finds its object where it is now.
func followGUID(e *env) {
	a := e.account("follow", e.fix.OU)
	e.create(a)
	read := e.mustAccount(e.read(), a.DN)
	moved := "CN=Elsewhere " + a.Name + "," + e.fix.OU
	if err := e.d.Move(e.ctx, ref(a), moved); err != nil {
		e.t.Fatalf("Move: %v", err)
	}
	stale := directory.Ref{DN: a.DN, GUID: read.GUID, Marker: a.Marker}
	if err := e.d.Modify(e.ctx, stale, map[string]string{directory.AttrTitle: "Followed"}); err != nil {
		e.t.Fatalf("Modify by GUID after a move: %v", err)
	}
	if err := e.d.SetAccountControl(e.ctx, stale, directory.UACNormalAccount); err != nil {
		e.t.Fatalf("SetAccountControl by GUID after a move: %v", err)
	}
	got := e.mustAccount(e.read(), moved)
	if got.Attributes[directory.AttrTitle] != "Followed" || !got.Enabled() {
		e.t.Errorf("after writes by GUID: title %q enabled %v, want Followed, enabled", got.Attributes[directory.AttrTitle], got.Enabled())
	}
	back := directory.Ref{DN: moved, GUID: read.GUID, Marker: a.Marker}
	if err := e.d.Move(e.ctx, back, a.DN); err != nil {
		e.t.Fatalf("Move by GUID: %v", err)
	}
	if err := e.d.Move(e.ctx, back, a.DN); err != nil {
		e.t.Errorf("Move to where the object is already (a retried move): %v, want success", err)
	}
	if err := e.d.Delete(e.ctx, stale); err != nil {
		e.t.Fatalf("Delete by GUID: %v", err)
	}
	if findAccount(e.read(), a.DN) != nil {
		e.t.Errorf("%s read after Delete by GUID", a.DN)
	}
}

// replaced: the object read was deleted and another made at its DN; no
// write meant for the first touches the second.
func replaced(e *env) {
	a := e.account("replaced", e.fix.OU)
	e.create(a)
	read := e.mustAccount(e.read(), a.DN)
	if err := e.d.Delete(e.ctx, ref(a)); err != nil {
		e.t.Fatalf("Delete: %v", err)
	}
	b := a
	b.Name = e.name("usurper")
	b.Marker = directory.Marker("usurper-" + e.token)
	b.Attributes = map[string]string{directory.AttrTitle: "Usurper"}
	e.create(b)

	byGUID := directory.Ref{DN: a.DN, GUID: read.GUID, Marker: a.Marker}
	byDN := ref(a)
	e.wantErr("Modify by the GUID of the object replaced", e.d.Modify(e.ctx, byGUID, map[string]string{directory.AttrTitle: "x"}), directory.ErrNoSuchObject, a.DN)
	e.wantErr("Modify by DN and the marker of the object replaced", e.d.Modify(e.ctx, byDN, map[string]string{directory.AttrTitle: "x"}), directory.ErrChanged, a.DN)
	e.wantErr("SetAccountControl of the object replaced", e.d.SetAccountControl(e.ctx, byDN, directory.UACNormalAccount), directory.ErrChanged, a.DN)
	e.wantErr("Move of the object replaced", e.d.Move(e.ctx, byDN, "CN=Moved "+b.Name+","+e.fix.OU), directory.ErrChanged, a.DN)
	e.wantErr("Delete of the object replaced", e.d.Delete(e.ctx, byDN), directory.ErrChanged, a.DN)
	e.wantErr("SetPassword of the object replaced", e.d.SetPassword(e.ctx, byDN, nil), directory.ErrChanged, a.DN)
	got := e.mustAccount(e.read(), a.DN)
	if got.Marker != b.Marker || got.Attributes[directory.AttrTitle] != "Usurper" || got.Enabled() {
		e.t.Errorf("the new object was written: marker %q title %q enabled %v", got.Marker, got.Attributes[directory.AttrTitle], got.Enabled())
	}
}

// reowned: the object's marker changed since it was read; writes are refused.
func reowned(e *env) {
	a := e.account("reowned", e.fix.OU)
	e.create(a)
	read := e.mustAccount(e.read(), a.DN)
	theirs := directory.Marker("theirs-" + e.token)
	if err := e.d.Modify(e.ctx, ref(a), map[string]string{e.fix.MarkerAttribute: theirs}); err != nil {
		e.t.Fatalf("Modify of the marker: %v", err)
	}
	stale := directory.Ref{DN: a.DN, GUID: read.GUID, Marker: a.Marker}
	e.wantErr("Modify of a re-owned object", e.d.Modify(e.ctx, stale, map[string]string{directory.AttrTitle: "x"}), directory.ErrChanged, a.DN)
	e.wantErr("SetAccountControl of a re-owned object", e.d.SetAccountControl(e.ctx, stale, directory.UACNormalAccount), directory.ErrChanged, a.DN)
	e.wantErr("Move of a re-owned object", e.d.Move(e.ctx, stale, "CN=Moved "+a.Name+","+e.fix.OU), directory.ErrChanged, a.DN)
	e.wantErr("Delete of a re-owned object", e.d.Delete(e.ctx, stale), directory.ErrChanged, a.DN)
	got := e.mustAccount(e.read(), a.DN)
	if got.Marker != theirs || got.Attributes[directory.AttrTitle] != "" || got.Enabled() {
		e.t.Errorf("the re-owned object was written: marker %q title %q enabled %v", got.Marker, got.Attributes[directory.AttrTitle], got.Enabled())
	}
	// An object that had no marker when read must still have none.
	orphan := directory.Ref{DN: a.DN, GUID: read.GUID}
	e.wantErr("SetAccountControl of an orphan that gained a marker", e.d.SetAccountControl(e.ctx, orphan, directory.UACNormalAccount), directory.ErrChanged, a.DN)
}

// halfMade: an account that never had a password is told apart, and
// SetPassword repairs it.
func halfMade(e *env) {
	name := e.name("half")
	dn := "CN=" + name + "," + e.fix.OU
	marker := directory.Marker("id-" + name)
	if err := e.fix.AddWithoutPassword(e.ctx, dn, name, marker); err != nil {
		e.t.Fatalf("add %s without a password: %v", dn, err)
	}
	whole := e.account("whole", e.fix.OU)
	e.create(whole)
	s := e.read()
	if got := e.mustAccount(s, dn); !got.NoPassword || got.Enabled() {
		e.t.Errorf("%s: NoPassword %v enabled %v, want a disabled account without a password", dn, got.NoPassword, got.Enabled())
	}
	if got := e.mustAccount(s, whole.DN); got.NoPassword {
		e.t.Errorf("%s: NoPassword, but Create set one", whole.DN)
	}
	r := directory.Ref{DN: dn, GUID: e.mustAccount(s, dn).GUID, Marker: marker}
	if err := e.d.SetPassword(e.ctx, r, nil); err != nil {
		e.t.Fatalf("SetPassword: %v", err)
	}
	if got := e.mustAccount(e.read(), dn); got.NoPassword {
		e.t.Errorf("%s: NoPassword after SetPassword", dn)
	}
}

// identity: accounts carry their SID; one alm makes is no built-in.
func identity(e *env) {
	a := e.account("sid", e.fix.OU)
	e.create(a)
	got := e.mustAccount(e.read(), a.DN)
	rid, ok := directory.RID(got.SID)
	if !ok || !strings.HasPrefix(got.SID, "S-1-5-21-") || rid < 1000 {
		e.t.Errorf("SID %q: want a domain SID with a RID of 1000 or more", got.SID)
	}
	if why := got.Builtin(); why != "" || got.Critical || got.AdminCount {
		e.t.Errorf("a new account reads as built-in (%q), critical %v, adminCount %v", why, got.Critical, got.AdminCount)
	}
	if got.PrimaryGroupID != directory.DomainUsersRID || !strings.HasSuffix(got.PrimaryGroupSID(), "-513") {
		e.t.Errorf("primaryGroupID %d (%s), want Domain Users, 513", got.PrimaryGroupID, got.PrimaryGroupSID())
	}
	if err := e.fix.SetAdminCount(e.ctx, a.DN); err != nil {
		e.t.Fatalf("set adminCount on %s: %v", a.DN, err)
	}
	if got := e.mustAccount(e.read(), a.DN); !got.AdminCount {
		e.t.Errorf("%s: adminCount not read", a.DN)
	}
}

// privilegedGroups: the domain's privileged groups are read wherever they
// live, and a group nested in one, or carrying adminCount=1, is privileged.
func privilegedGroups(e *env) {
	nested, _ := e.mkGroup("nested")
	inner, _ := e.mkGroup("inner")
	flagged, _ := e.mkGroup("flagged")
	plain, _ := e.mkGroup("plain")
	domainAdmins := "CN=Domain Admins,CN=Users," + e.fix.BaseDN
	if err := e.d.AddMember(e.ctx, at(domainAdmins), at(nested)); err != nil {
		e.t.Fatalf("add %s to Domain Admins: %v", nested, err)
	}
	// The shared domain's Domain Admins must not keep a test's group.
	e.t.Cleanup(func() { e.d.RemoveMember(context.WithoutCancel(e.ctx), at(domainAdmins), at(nested)) })
	if err := e.d.AddMember(e.ctx, at(nested), at(inner)); err != nil {
		e.t.Fatalf("nest %s: %v", inner, err)
	}
	if err := e.fix.SetAdminCount(e.ctx, flagged); err != nil {
		e.t.Fatalf("set adminCount on %s: %v", flagged, err)
	}
	// Groups below a sub-OU only: the privileged ones come from elsewhere.
	sub := e.mkOU("Sub")
	s, err := e.d.Read(e.ctx, directory.Scope{BaseDN: e.fix.BaseDN, OUs: []string{sub}, GroupBase: sub, MarkerAttribute: e.fix.MarkerAttribute})
	if err != nil {
		e.t.Fatalf("Read: %v", err)
	}
	why := s.Privileged()
	for _, tc := range []struct {
		dn, want string
	}{
		{domainAdmins, "RID 512"},
		{"CN=Administrators,CN=Builtin," + e.fix.BaseDN, "S-1-5-32-544"},
		{"CN=Backup Operators,CN=Builtin," + e.fix.BaseDN, "S-1-5-32-551"},
		{nested, "nested in " + domainAdmins},
		{inner, "nested in " + nested},
		{flagged, "adminCount=1"},
	} {
		if got := why[strings.ToLower(e.mustGroup(s, tc.dn).DN)]; !strings.Contains(strings.ToLower(got), strings.ToLower(tc.want)) {
			e.t.Errorf("%s: privileged because %q, want it to say %q", tc.dn, got, tc.want)
		}
	}
	if findGroup(s, plain) != nil {
		e.t.Errorf("%s read, though it is neither below the group base nor privileged", plain)
	}
	if g := findGroup(s, "CN=Domain Users,CN=Users,"+e.fix.BaseDN); g != nil {
		e.t.Errorf("Domain Users read as privileged: %+v", g)
	}
}

// namedGroups: groups a scope names by DN are read wherever they are; one
// that does not exist is left out.
func namedGroups(e *env) {
	sub := e.mkOU("GroupBase")
	elsewhere, _ := e.mkGroup("elsewhere")
	missing := "CN=Missing " + e.token + "," + e.fix.OU
	a := e.account("named", e.fix.OU)
	e.create(a)
	if err := e.d.AddMember(e.ctx, at(elsewhere), ref(a)); err != nil {
		e.t.Fatalf("AddMember: %v", err)
	}
	s, err := e.d.Read(e.ctx, directory.Scope{BaseDN: e.fix.BaseDN, OUs: []string{e.fix.OU}, GroupBase: sub,
		Groups: []string{elsewhere, missing}, MarkerAttribute: e.fix.MarkerAttribute})
	if err != nil {
		e.t.Fatalf("Read: %v", err)
	}
	g := e.mustGroup(s, elsewhere)
	if len(g.Members) != 1 || !directory.SameDN(g.Members[0], a.DN) {
		e.t.Errorf("members of %s: %v, want [%s]", elsewhere, g.Members, a.DN)
	}
	if findGroup(s, missing) != nil {
		e.t.Errorf("%s read, but it does not exist", missing)
	}
}

// MemoryFixture is the fixture of an in-memory directory, working below ou
// (which must exist).
func MemoryFixture(d *memory.Directory, ou string) Fixture {
	return Fixture{
		BaseDN:          d.BaseDN(),
		OU:              ou,
		MarkerAttribute: d.MarkerAttribute(),
		CreateGroup:     func(_ context.Context, dn, name string) error { return d.AddGroup(dn, name) },
		AddWithoutPassword: func(_ context.Context, dn, name, marker string) error {
			return d.AddUserWithoutPassword(directory.NewAccount{DN: dn, Name: name, Marker: marker,
				UAC: directory.UACNormalAccount | directory.UACAccountDisable})
		},
		SetAdminCount: func(_ context.Context, dn string) error { return d.SetAdminCount(dn, true) },
	}
}

// adopt: the marker is written on an object without one, never over a
// value someone else wrote; a retry finds it written.
func adopt(e *env) {
	free, taken := e.account("free", e.fix.OU), e.account("taken", e.fix.OU)
	free.Marker, taken.Marker = "", ""
	e.create(free)
	e.create(taken)
	if err := e.d.Modify(e.ctx, at(taken.DN), map[string]string{e.fix.MarkerAttribute: "hand-written"}); err != nil {
		e.t.Fatalf("Modify(%s): %v", taken.DN, err)
	}
	s := e.read()
	got := e.mustAccount(s, free.DN)
	ref := directory.Ref{DN: free.DN, GUID: got.GUID}
	marker := directory.Marker("id-" + free.Name)
	if err := e.d.Adopt(e.ctx, ref, marker); err != nil {
		e.t.Fatalf("Adopt(%s): %v", free.DN, err)
	}
	if err := e.d.Adopt(e.ctx, ref, marker); err != nil {
		e.t.Errorf("Adopt again (a retry): %v, want success", err)
	}
	if m := e.mustAccount(e.read(), free.DN).Marker; m != marker {
		e.t.Errorf("marker after Adopt = %q, want %q", m, marker)
	}
	// Adopted under another id since: not this adoption's to redo.
	e.wantErr("Adopt of an account adopted by another id", e.d.Adopt(e.ctx, ref, directory.Marker("other")), directory.ErrChanged, free.DN)
	other := e.mustAccount(s, taken.DN)
	e.wantErr("Adopt over a value someone wrote", e.d.Adopt(e.ctx, directory.Ref{DN: taken.DN, GUID: other.GUID}, marker), directory.ErrChanged, taken.DN)
	if m := e.mustAccount(e.read(), taken.DN).Marker; m != "hand-written" {
		e.t.Errorf("marker after a refused Adopt = %q, want the value someone wrote", m)
	}
}

// createdGroups: a group alm creates carries its marker, reads back with
// it, and a second create (an answer lost) is success; a missing groups
// OU reads as no groups, not an error.
func createdGroups(e *env) {
	name := e.name("made")
	dn := "CN=" + name + "," + e.fix.OU
	g := directory.NewGroup{DN: dn, Name: name, Marker: directory.GroupMarker(name)}
	if err := e.d.CreateGroup(e.ctx, g); err != nil {
		e.t.Fatalf("CreateGroup(%s): %v", dn, err)
	}
	if err := e.d.CreateGroup(e.ctx, g); err != nil {
		e.t.Errorf("CreateGroup again (a retry): %v, want success", err)
	}
	got := findGroup(e.read(), dn)
	if got == nil || got.Marker != g.Marker || got.Name != name || !directory.IsGroupMarker(got.Marker) {
		e.t.Fatalf("group read back %+v, want %s with marker %q", got, dn, g.Marker)
	}
	// Renamed as apply renames a group alm created: a modrdn, then its
	// sAMAccountName, both checking its marker.
	newName := e.name("renamed")
	newDN := "CN=" + newName + "," + e.fix.OU
	ref := directory.Ref{DN: dn, GUID: got.GUID, Marker: g.Marker}
	if err := e.d.Move(e.ctx, ref, newDN); err != nil {
		e.t.Fatalf("Move of the group to %s: %v", newDN, err)
	}
	ref.DN = newDN
	if err := e.d.Modify(e.ctx, ref, map[string]string{directory.AttrSAMAccountName: newName}); err != nil {
		e.t.Fatalf("Modify of the group's sAMAccountName: %v", err)
	}
	if r := findGroup(e.read(), newDN); r == nil || r.GUID != got.GUID || r.Name != newName || r.Marker != g.Marker {
		e.t.Errorf("renamed group read back %+v, want %s named %s, same GUID and marker", r, newDN, newName)
	}
	missing := e.ou("NoGroups")
	s, err := e.d.Read(e.ctx, directory.Scope{BaseDN: e.fix.BaseDN, OUs: []string{missing}, GroupBase: missing, MarkerAttribute: e.fix.MarkerAttribute})
	if err != nil {
		e.t.Fatalf("Read with a groups OU that does not exist: %v", err)
	}
	if containsDN(s.OUs, missing) || !containsDN(s.OUs, e.fix.OU) {
		e.t.Errorf("OUs = %v, want the OU above the missing one (%s) and not the missing one", s.OUs, e.fix.OU)
	}
}
