package memory_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/alm-project/alm/connectors/memory"
	"github.com/alm-project/alm/reconciler/directory"
)

const (
	people = "OU=People,OU=ALM," + base
	users  = "CN=Users," + base
)

// setup returns a provisioned directory with OU=People,OU=ALM and a group.
func setup(t *testing.T) *memory.Directory {
	t.Helper()
	d := memory.New(base)
	if err := d.AddOU(people); err != nil {
		t.Fatal(err)
	}
	if err := d.AddGroup("CN=Staff,OU=ALM,"+base, "Staff"); err != nil {
		t.Fatal(err)
	}
	return d
}

func user(cn string) directory.NewAccount {
	return directory.NewAccount{
		DN:         "CN=" + cn + "," + people,
		Name:       strings.ToLower(strings.ReplaceAll(cn, " ", "")),
		Marker:     directory.Marker("id-" + cn),
		UAC:        directory.UACNormalAccount,
		Attributes: map[string]string{directory.AttrGivenName: cn},
	}
}

// at names an object by DN, for writes that check no marker.
func at(dn string) directory.Ref { return directory.Ref{DN: dn} }

// cur names the object at dn with the marker it carries now, as a plan
// made just before would: these tests are about other things than the
// marker check, which connectors/directorytest covers.
func cur(t testing.TB, d *memory.Directory, dn string) directory.Ref {
	t.Helper()
	s, err := d.Read(context.Background(), directory.Scope{BaseDN: base, OUs: []string{base}, MarkerAttribute: d.MarkerAttribute()})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	for _, a := range s.Accounts {
		if directory.SameDN(a.DN, dn) {
			return directory.Ref{DN: dn, Marker: a.Marker}
		}
	}
	return directory.Ref{DN: dn}
}

func scope(ous ...string) directory.Scope {
	return directory.Scope{BaseDN: base, OUs: ous, MarkerAttribute: memory.DefaultMarkerAttribute}
}

func read(t *testing.T, d *memory.Directory, ous ...string) *directory.Snapshot {
	t.Helper()
	s, err := d.Read(t.Context(), scope(ous...))
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return s
}

func find(s *directory.Snapshot, dn string) *directory.Account {
	for i := range s.Accounts {
		if directory.SameDN(s.Accounts[i].DN, dn) {
			return &s.Accounts[i]
		}
	}
	return nil
}

func mustFind(t *testing.T, s *directory.Snapshot, dn string) *directory.Account {
	t.Helper()
	a := find(s, dn)
	if a == nil {
		t.Fatalf("no account %s read", dn)
	}
	return a
}

// wantClass checks err is a *directory.Error of class; a nil class is an
// unclassified error (Samba's 53, unwilling to perform).
func wantClass(t *testing.T, err, class error) {
	t.Helper()
	var de *directory.Error
	if !errors.As(err, &de) || (class == nil && de.Class != nil) || (class != nil && !errors.Is(err, class)) {
		t.Fatalf("error %v, want a *directory.Error of class %v", err, class)
	}
}

func TestProvisionedDomain(t *testing.T) {
	d := memory.New(base)
	s, err := d.Read(t.Context(), directory.Scope{OUs: []string{users}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		uac      int
		memberOf int
	}{
		"Administrator": {66048, 5}, // as in Samba: Administrators, Domain, Enterprise and Schema Admins, Group Policy Creator Owners
		"Guest":         {66082, 0},
		"krbtgt":        {514, 0},
	}
	if len(s.Accounts) != len(want) {
		t.Fatalf("read %d accounts in CN=Users, want %d", len(s.Accounts), len(want))
	}
	for _, a := range s.Accounts {
		w, ok := want[a.Name]
		if !ok {
			t.Errorf("unexpected account %s", a.DN)
			continue
		}
		if a.UAC != w.uac || len(a.MemberOf) != w.memberOf || a.Marker != "" {
			t.Errorf("%s: uac %d memberOf %v marker %q, want %d, %d groups, no marker",
				a.Name, a.UAC, a.MemberOf, a.Marker, w.uac, w.memberOf)
		}
		if a.Builtin() == "" || !a.Critical {
			t.Errorf("%s (%s): not built-in by identity", a.Name, a.SID)
		}
	}
	if s.BaseDN != base || len(s.Groups) != 12 {
		t.Errorf("base %q, %d groups; want %q and the 12 provisioned groups", s.BaseDN, len(s.Groups), base)
	}
	why := s.Privileged()
	for _, g := range s.Groups {
		privileged := why[strings.ToLower(g.DN)] != ""
		want := !slices.Contains([]string{"Domain Users", "Domain Guests", "Users"}, g.Name)
		if privileged != want {
			t.Errorf("%s: privileged %v (%q), want %v", g.DN, privileged, why[strings.ToLower(g.DN)], want)
		}
	}
}

func TestReadReturnsCopies(t *testing.T) {
	d := setup(t)
	ctx := t.Context()
	a := user("Ann")
	if err := d.Create(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := d.AddMember(ctx, at("CN=Staff,OU=ALM,"+base), at(a.DN)); err != nil {
		t.Fatal(err)
	}
	a.Attributes[directory.AttrGivenName] = "changed after Create"

	s := read(t, d, people)
	got := mustFind(t, s, a.DN)
	got.Attributes[directory.AttrGivenName] = "scribbled"
	got.MemberOf[0] = "scribbled"
	s.Groups[0].Members = append(s.Groups[0].Members[:0], "scribbled")

	again := read(t, d, people)
	ann := mustFind(t, again, a.DN)
	if ann.Attributes[directory.AttrGivenName] != "Ann" {
		t.Errorf("givenName %q: the directory shares a map with a caller", ann.Attributes[directory.AttrGivenName])
	}
	if !slices.Contains(ann.MemberOf, "CN=Staff,OU=ALM,"+base) {
		t.Errorf("memberOf %v: the directory shares a slice with a caller", ann.MemberOf)
	}
	for _, g := range again.Groups {
		if slices.Contains(g.Members, "scribbled") {
			t.Errorf("group %s members %v: shared with a caller", g.DN, g.Members)
		}
	}
}

func TestDNSpelling(t *testing.T) {
	d := setup(t)
	ctx := t.Context()
	a := user("Lee, Ann")
	a.DN = `cn=Lee\, Ann,ou=people,ou=alm,dc=EXAMPLE,dc=test`
	if err := d.Create(ctx, a); err != nil {
		t.Fatal(err)
	}
	s := read(t, d, people)
	// The parent's spelling is the directory's; the new RDN keeps its own value.
	want := `CN=Lee\, Ann,OU=People,OU=ALM,DC=example,DC=test`
	if len(s.Accounts) != 1 || s.Accounts[0].DN != want {
		t.Fatalf("read %v, want [%s]", s.Accounts, want)
	}
	if err := d.CreateOU(ctx, "OU=Bad,,"+base); !errors.Is(err, directory.ErrInvalidSyntax) {
		t.Errorf("CreateOU of a malformed DN: %v, want ErrInvalidSyntax", err)
	}
}

func TestNamingRules(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		do    func(d *memory.Directory) error
		class error
	}{
		{"user named OU=", func(d *memory.Directory) error {
			a := user("X")
			a.DN = "OU=X," + people
			return d.Create(ctx, a)
		}, directory.ErrInvalidSyntax},
		{"OU named CN=", func(d *memory.Directory) error { return d.CreateOU(ctx, "CN=X,"+people) }, directory.ErrInvalidSyntax},
		{"user below a user", func(d *memory.Directory) error {
			a := user("Y")
			a.DN = "CN=Y,CN=Administrator," + users
			return d.Create(ctx, a)
		}, directory.ErrInvalidSyntax},
		{"OU into itself", func(d *memory.Directory) error {
			return d.Move(ctx, cur(t, d, "OU=ALM,"+base), "OU=ALM,"+people)
		}, directory.ErrConstraint},
		{"rename a user to OU=", func(d *memory.Directory) error {
			return d.Move(ctx, cur(t, d, "CN=Guest,"+users), "OU=Guest,"+users)
		}, directory.ErrInvalidSyntax},
		{"write memberOf", func(d *memory.Directory) error {
			return d.Modify(ctx, cur(t, d, "CN=Guest,"+users), map[string]string{"memberOf": "CN=Staff,OU=ALM," + base})
		}, nil},
		{"write the RDN", func(d *memory.Directory) error {
			return d.Modify(ctx, cur(t, d, "CN=Guest,"+users), map[string]string{"CN": "Other"})
		}, directory.ErrConstraint},
		{"write a password", func(d *memory.Directory) error {
			return d.Modify(ctx, cur(t, d, "CN=Guest,"+users), map[string]string{"unicodePwd": "x"})
		}, nil},
		{"userAccountControl not a number", func(d *memory.Directory) error {
			return d.Modify(ctx, cur(t, d, "CN=Guest,"+users), map[string]string{"userAccountControl": "enabled"})
		}, directory.ErrInvalidSyntax},
		{"members of a user", func(d *memory.Directory) error {
			return d.AddMember(ctx, at("CN=Guest,"+users), at("CN=krbtgt,"+users))
		}, directory.ErrConstraint},
		{"account control of a group", func(d *memory.Directory) error {
			return d.SetAccountControl(ctx, cur(t, d, "CN=Staff,OU=ALM,"+base), 512)
		}, directory.ErrConstraint},
		{"empty sAMAccountName", func(d *memory.Directory) error {
			a := user("Nameless")
			a.Name = ""
			return d.Create(ctx, a)
		}, directory.ErrInvalidSyntax},
		{"member that does not exist", func(d *memory.Directory) error {
			return d.RemoveMember(ctx, at("CN=Staff,OU=ALM,"+base), at("CN=Nobody,"+users))
		}, directory.ErrConstraint},
		{"manager that does not exist", func(d *memory.Directory) error {
			return d.Modify(ctx, cur(t, d, "CN=Guest,"+users), map[string]string{"manager": "CN=Nobody," + users})
		}, directory.ErrConstraint},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := setup(t)
			before := read(t, d, users).State
			wantClass(t, tt.do(d), tt.class)
			if after := read(t, d, users).State; after != before {
				t.Errorf("State %s -> %s: a refused write changed the directory", before, after)
			}
		})
	}
}

func TestModifyIsAtomic(t *testing.T) {
	d := setup(t)
	ctx := t.Context()
	ann, bob := user("Ann"), user("Bob")
	for _, a := range []directory.NewAccount{ann, bob} {
		if err := d.Create(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	err := d.Modify(ctx, cur(t, d, ann.DN), map[string]string{directory.AttrTitle: "Boss", directory.AttrSAMAccountName: "BOB"})
	wantClass(t, err, directory.ErrExists)
	if got := mustFind(t, read(t, d, people), ann.DN); got.Attributes[directory.AttrTitle] != "" || got.Name != "ann" {
		t.Errorf("after a refused Modify: title %q name %q, want neither changed", got.Attributes[directory.AttrTitle], got.Name)
	}

	// A rename frees the old sAMAccountName for someone else.
	if err := d.Modify(ctx, cur(t, d, ann.DN), map[string]string{directory.AttrSAMAccountName: "ann.lee"}); err != nil {
		t.Fatal(err)
	}
	other := user("Other")
	other.Name = "ANN"
	if err := d.Create(ctx, other); err != nil {
		t.Errorf("Create with a freed sAMAccountName: %v", err)
	}
	if got := mustFind(t, read(t, d, people), ann.DN); got.Name != "ann.lee" {
		t.Errorf("name %q after Modify, want ann.lee", got.Name)
	}
}

func TestUserPrincipalNameUnique(t *testing.T) {
	d := setup(t)
	ctx := t.Context()
	ann, bob := user("Ann"), user("Bob")
	ann.Attributes[directory.AttrUserPrincipalName] = "ann@example.test"
	if err := d.Create(ctx, ann); err != nil {
		t.Fatal(err)
	}
	bob.Attributes[directory.AttrUserPrincipalName] = "ANN@example.test"
	wantClass(t, d.Create(ctx, bob), directory.ErrExists)
	bob.Attributes[directory.AttrUserPrincipalName] = "bob@example.test"
	if err := d.Create(ctx, bob); err != nil {
		t.Fatal(err)
	}
	wantClass(t, d.Modify(ctx, cur(t, d, bob.DN), map[string]string{directory.AttrUserPrincipalName: "ann@example.test"}), directory.ErrExists)

	// A changed or deleted holder frees the name.
	if err := d.Modify(ctx, cur(t, d, ann.DN), map[string]string{directory.AttrUserPrincipalName: "ann.lee@example.test"}); err != nil {
		t.Fatal(err)
	}
	if err := d.Modify(ctx, cur(t, d, bob.DN), map[string]string{directory.AttrUserPrincipalName: "ann@example.test"}); err != nil {
		t.Errorf("take a freed userPrincipalName: %v", err)
	}
	if err := d.Delete(ctx, cur(t, d, ann.DN)); err != nil {
		t.Fatal(err)
	}
	if err := d.Modify(ctx, cur(t, d, bob.DN), map[string]string{directory.AttrUserPrincipalName: "ann.lee@example.test"}); err != nil {
		t.Errorf("take the userPrincipalName of a deleted account: %v", err)
	}
}

func TestManagerLink(t *testing.T) {
	d := setup(t)
	ctx := t.Context()
	boss, ann := user("Boss"), user("Ann")
	for _, a := range []directory.NewAccount{boss, ann} {
		if err := d.Create(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Modify(ctx, cur(t, d, ann.DN), map[string]string{"Manager": strings.ToUpper(boss.DN)}); err != nil {
		t.Fatal(err)
	}
	if got := mustFind(t, read(t, d, people), ann.DN).Attributes[directory.AttrManager]; got != boss.DN {
		t.Errorf("manager %q, want %q as the directory spells it", got, boss.DN)
	}
	moved := "CN=Big Boss," + people
	if err := d.Move(ctx, cur(t, d, boss.DN), moved); err != nil {
		t.Fatal(err)
	}
	if got := mustFind(t, read(t, d, people), ann.DN).Attributes[directory.AttrManager]; got != moved {
		t.Errorf("manager %q after the manager's rename, want %q", got, moved)
	}
	if err := d.Delete(ctx, cur(t, d, moved)); err != nil {
		t.Fatal(err)
	}
	if got, ok := mustFind(t, read(t, d, people), ann.DN).Attributes[directory.AttrManager]; ok {
		t.Errorf("manager %q after the manager's deletion, want none", got)
	}
}

func TestMoveSubtree(t *testing.T) {
	d := setup(t)
	ctx := t.Context()
	ann := user("Ann")
	staff := "CN=Staff,OU=ALM," + base
	if err := d.Create(ctx, ann); err != nil {
		t.Fatal(err)
	}
	if err := d.AddMember(ctx, at(staff), at(ann.DN)); err != nil {
		t.Fatal(err)
	}
	if err := d.Move(ctx, cur(t, d, people), "OU=Staff People,"+users); err != nil {
		t.Fatal(err)
	}
	s, err := d.Read(ctx, directory.Scope{OUs: []string{"OU=Staff People," + users}})
	if err != nil {
		t.Fatal(err)
	}
	want := "CN=Ann,OU=Staff People," + users
	if len(s.Accounts) != 1 || s.Accounts[0].DN != want || !slices.Contains(s.Accounts[0].MemberOf, staff) {
		t.Fatalf("read %+v, want %s, member of %s", s.Accounts, want, staff)
	}
	for _, g := range s.Groups {
		if g.DN == staff && !slices.Equal(g.Members, []string{want}) {
			t.Errorf("members of %s: %v, want [%s]", staff, g.Members, want)
		}
	}
	if err := d.Modify(ctx, cur(t, d, want), map[string]string{directory.AttrTitle: "x"}); err != nil {
		t.Errorf("Modify at the moved DN: %v", err)
	}
}

func TestMarkerAttribute(t *testing.T) {
	d := setup(t)
	ctx := t.Context()
	d.SetMarkerAttribute("extensionAttribute1")
	a := user("Ann")
	if err := d.Create(ctx, a); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		attr   string
		marker string
	}{
		{"the attribute written", "extensionAttribute1", a.Marker},
		{"any case", "EXTENSIONATTRIBUTE1", a.Marker},
		{"the directory's when unset", "", a.Marker},
		{"another attribute", "adminDescription", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := d.Read(ctx, directory.Scope{OUs: []string{people}, MarkerAttribute: tt.attr})
			if err != nil {
				t.Fatal(err)
			}
			if got := mustFind(t, s, a.DN).Marker; got != tt.marker {
				t.Errorf("marker %q, want %q", got, tt.marker)
			}
		})
	}
	// Someone editing the attribute by hand is drift alm must see.
	if err := d.Modify(ctx, cur(t, d, a.DN), map[string]string{"extensionAttribute1": ""}); err != nil {
		t.Fatal(err)
	}
	if got := mustFind(t, read(t, d, people), a.DN).Marker; got != "" {
		t.Errorf("marker %q after deleting the attribute, want none", got)
	}
}

func TestCreateDefaults(t *testing.T) {
	d := setup(t)
	ctx := t.Context()
	a := user("Defaults")
	a.UAC = 0
	a.Attributes[directory.AttrDescription] = "" // LDAP add carries no empty values
	if err := d.Create(ctx, a); err != nil {
		t.Fatal(err)
	}
	got := mustFind(t, read(t, d, people), a.DN)
	if got.UAC != directory.UACNormalAccount|directory.UACAccountDisable {
		t.Errorf("uac %d without one given, want 514", got.UAC)
	}
	if _, ok := got.Attributes[directory.AttrDescription]; ok {
		t.Errorf("an empty description was stored")
	}
}

func TestFailOn(t *testing.T) {
	ctx := context.Background()
	injected := &directory.Error{Op: "modify", DN: "x", Class: directory.ErrAccessDenied, Detail: "as given"}
	tests := []struct {
		name  string
		arm   func(d *memory.Directory)
		calls []error // classes of successive Modify calls on Ann; nil for success
	}{
		{"always", func(d *memory.Directory) { d.FailOn("Modify", user("Ann").DN, directory.ErrUnavailable) },
			[]error{directory.ErrUnavailable, directory.ErrUnavailable, directory.ErrUnavailable}},
		{"twice", func(d *memory.Directory) { d.FailTimes("Modify", user("Ann").DN, 2, directory.ErrUnavailable) },
			[]error{directory.ErrUnavailable, directory.ErrUnavailable, nil}},
		{"any DN", func(d *memory.Directory) { d.FailTimes("Modify", "", 1, directory.ErrUnavailable) },
			[]error{directory.ErrUnavailable, nil}},
		{"DN in another case", func(d *memory.Directory) {
			d.FailTimes("Modify", strings.ToLower(user("Ann").DN), 1, directory.ErrUnavailable)
		}, []error{directory.ErrUnavailable, nil}},
		{"another DN", func(d *memory.Directory) { d.FailOn("Modify", user("Bob").DN, directory.ErrUnavailable) },
			[]error{nil}},
		{"another method", func(d *memory.Directory) { d.FailOn("Delete", user("Ann").DN, directory.ErrUnavailable) },
			[]error{nil}},
		{"a *directory.Error as it is", func(d *memory.Directory) { d.FailTimes("Modify", "", 1, injected) },
			[]error{directory.ErrAccessDenied, nil}},
		{"cleared", func(d *memory.Directory) {
			d.FailOn("Modify", "", directory.ErrUnavailable)
			d.ClearFailures()
		}, []error{nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := setup(t)
			ann := user("Ann")
			if err := d.Create(ctx, ann); err != nil {
				t.Fatal(err)
			}
			tt.arm(d)
			for i, want := range tt.calls {
				before := read(t, d, people).State
				err := d.Modify(ctx, cur(t, d, ann.DN), map[string]string{directory.AttrTitle: fmt.Sprint(i)})
				after := read(t, d, people)
				if want == nil {
					if err != nil {
						t.Fatalf("call %d: %v, want success", i, err)
					}
					if got := mustFind(t, after, ann.DN).Attributes[directory.AttrTitle]; got != fmt.Sprint(i) {
						t.Errorf("call %d: title %q not written", i, got)
					}
					continue
				}
				wantClass(t, err, want)
				if after.State != before {
					t.Errorf("call %d: an injected failure changed the directory", i)
				}
			}
		})
	}

	t.Run("read", func(t *testing.T) {
		d := setup(t)
		d.FailTimes("Read", "", 1, directory.ErrUnavailable)
		_, err := d.Read(ctx, scope(people))
		if !directory.Transient(err) {
			t.Errorf("Read: %v, want a transient error", err)
		}
		read(t, d, people)
	})
	t.Run("unknown method", func(t *testing.T) {
		defer func() {
			if recover() == nil {
				t.Error("FailOn with a misspelt method did not panic")
			}
		}()
		memory.New(base).FailOn("modify", "", directory.ErrUnavailable)
	})
}

func TestCancelledContext(t *testing.T) {
	d := setup(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	before := read(t, d, people).State
	err := d.Create(ctx, user("Ann"))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Create with a cancelled context: %v", err)
	}
	if _, err := d.Read(ctx, scope(people)); !errors.Is(err, context.Canceled) {
		t.Errorf("Read with a cancelled context: %v", err)
	}
	if s := read(t, d, people); s.State != before || len(s.Accounts) != 0 {
		t.Errorf("a cancelled Create wrote: state %s -> %s, accounts %v", before, s.State, s.Accounts)
	}
}

// TestConcurrentUse is for the race detector: writers and readers at once.
func TestConcurrentUse(t *testing.T) {
	d := setup(t)
	ctx := t.Context()
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, 3*n)
	for i := range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			a := user(fmt.Sprintf("User %d", i))
			if err := d.Create(ctx, a); err != nil {
				errs <- err
				return
			}
			if err := d.AddMember(ctx, at("CN=Staff,OU=ALM,"+base), at(a.DN)); err != nil {
				errs <- err
			}
		}()
		go func() {
			defer wg.Done()
			if _, err := d.Read(ctx, scope(people)); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	s := read(t, d, people)
	if len(s.Accounts) != n {
		t.Errorf("read %d accounts, want %d", len(s.Accounts), n)
	}
	for _, a := range s.Accounts {
		if len(a.MemberOf) != 1 {
			t.Errorf("%s member of %v, want Staff", a.DN, a.MemberOf)
		}
	}
}

// TestCreateSealed: the password Create draws reaches only the Seal; a
// Create that finds the account an earlier attempt made (its answer lost)
// gives it a new password, sealed, since the first one was lost too.
func TestCreateSealed(t *testing.T) {
	ctx := context.Background()
	d := memory.New("DC=example,DC=test")
	if err := d.AddOU("OU=P,DC=example,DC=test"); err != nil {
		t.Fatal(err)
	}
	var got []string
	a := directory.NewAccount{DN: "CN=jdoe,OU=P,DC=example,DC=test", Name: "jdoe", Marker: "alm:1", MustChangePassword: true,
		Seal: func(pw []byte) error { got = append(got, string(pw)); return nil }}
	for range 2 {
		if err := d.Create(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	// The retry seals what it drew for the add, then the new password:
	// the last sealed is the one set.
	last := got[len(got)-1]
	if len(got) < 2 || last == got[0] || len(last) < 20 {
		t.Fatalf("sealed %q, want a new password on the retry", got)
	}
	if d.CheckPassword("jdoe", got[0]) || !d.CheckPassword("jdoe", last) || !d.MustChangePassword("jdoe") {
		t.Error("the directory does not hold the last password sealed, or does not ask for a change")
	}
	a.Seal = func([]byte) error { return errors.New("no key") }
	a.DN, a.Name, a.Marker = "CN=other,OU=P,DC=example,DC=test", "other", "alm:2"
	if err := d.Create(ctx, a); err == nil || !strings.Contains(err.Error(), "nothing written") {
		t.Fatalf("Create with a failing seal: %v", err)
	}
	if d.CheckPassword("other", "") || d.MustChangePassword("other") {
		t.Error("an account was made though its password could not be sealed")
	}
}
