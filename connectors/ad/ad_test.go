package ad_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/alm-project/alm/connectors/ad"
	"github.com/alm-project/alm/connectors/ad/adtest"
	"github.com/alm-project/alm/reconciler/directory"
	"github.com/go-ldap/ldap/v3"
)

func dial(t testing.TB, env *adtest.Env) *ad.Directory {
	t.Helper()
	cfg := ad.Config{URL: env.URL, CAFile: env.CAFile, ServerName: env.ServerName, BindDN: env.BindDN, Password: env.Password}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	d, err := ad.Dial(context.Background(), cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// addGroup creates a global security group; alm references groups, it does not make them.
func addGroup(t testing.TB, c *ldap.Conn, dn, name string) {
	t.Helper()
	req := ldap.NewAddRequest(dn, nil)
	req.Attribute("objectClass", []string{"top", "group"})
	req.Attribute("sAMAccountName", []string{name})
	if err := c.Add(req); err != nil {
		t.Fatalf("add group %s: %v", dn, err)
	}
}

// lookup reads attributes of one object straight from the directory.
func lookup(t testing.TB, c *ldap.Conn, dn string, attrs ...string) *ldap.Entry {
	t.Helper()
	res, err := c.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", attrs, nil))
	if err != nil {
		t.Fatalf("read %s: %v", dn, err)
	}
	return res.Entries[0]
}

// rawGUID formats objectGUID independently of the connector: the bytes
// of a Windows GUID's first three fields are little-endian.
func rawGUID(b []byte) string {
	le := func(p []byte) string {
		s := ""
		for i := len(p) - 1; i >= 0; i-- {
			s += strconv.FormatUint(uint64(p[i])|0x100, 16)[1:]
		}
		return s
	}
	be := func(p []byte) string {
		s := ""
		for _, x := range p {
			s += strconv.FormatUint(uint64(x)|0x100, 16)[1:]
		}
		return s
	}
	return le(b[0:4]) + "-" + le(b[4:6]) + "-" + le(b[6:8]) + "-" + be(b[8:10]) + "-" + be(b[10:16])
}

func find(accounts []directory.Account, name string) *directory.Account {
	for i := range accounts {
		if accounts[i].Name == name {
			return &accounts[i]
		}
	}
	return nil
}

func TestCreateAndRead(t *testing.T) {
	env := adtest.New(t)
	ctx := context.Background()
	d := dial(t, env)
	c := env.Conn(t)
	ou := env.OU(t)
	staff := "OU=Staff," + ou
	if err := d.CreateOU(ctx, staff); err != nil {
		t.Fatal(err)
	}
	group := "CN=VPN Users," + ou
	addGroup(t, c, group, adtest.Unique("vpn-"))

	jdoeName, bobName, strangerName := adtest.Unique("jdoe-"), adtest.Unique("bob-"), adtest.Unique("strngr-")
	jane := ad.RDN("CN", "Doe, Jane") + "," + staff
	attrs := map[string]string{
		directory.AttrGivenName:         "Jane",
		directory.AttrSurname:           "Doe",
		directory.AttrDisplayName:       "Jane Doe",
		directory.AttrMail:              "jane.doe@example.test",
		directory.AttrUserPrincipalName: jdoeName + "@" + env.Domain,
		directory.AttrDepartment:        "Finance",
		directory.AttrTitle:             "Controller",
		directory.AttrDescription:       "managed by alm",
		directory.AttrEmployeeID:        "E-1001",
		directory.AttrAccountExpires:    "133801920000000000",
	}
	if err := d.Create(ctx, directory.NewAccount{DN: jane, Name: jdoeName, Marker: directory.Marker("jdoe"),
		UAC: directory.UACNormalAccount, Attributes: attrs}); err != nil {
		t.Fatal(err)
	}
	// a second, disabled one, and a user alm does not own
	bob := "CN=Bob," + staff
	if err := d.Create(ctx, directory.NewAccount{DN: bob, Name: bobName, Marker: directory.Marker("bob"),
		UAC: directory.UACNormalAccount | directory.UACAccountDisable, Attributes: map[string]string{directory.AttrManager: jane}}); err != nil {
		t.Fatal(err)
	}
	stranger := ldap.NewAddRequest("CN=Stranger,"+staff, nil)
	stranger.Attribute("objectClass", []string{"user"})
	stranger.Attribute("sAMAccountName", []string{strangerName})
	if err := c.Add(stranger); err != nil {
		t.Fatal(err)
	}
	if err := d.AddMember(ctx, directory.Ref{DN: group}, directory.Ref{DN: jane}); err != nil {
		t.Fatal(err)
	}

	missing := "OU=Not There," + ou
	snap, err := d.Read(ctx, directory.Scope{BaseDN: env.BaseDN, OUs: []string{staff, missing}, GroupBase: ou})
	if err != nil {
		t.Fatal(err)
	}

	// The groups OU exists too; the missing OU is left out.
	if !reflect.DeepEqual(snap.OUs, []string{staff, ou}) {
		t.Errorf("OUs = %v, want only the existing %s and %s", snap.OUs, staff, ou)
	}
	if _, err := strconv.ParseUint(snap.State, 10, 64); err != nil {
		t.Errorf("State = %q, want highestCommittedUSN", snap.State)
	}
	if len(snap.Accounts) != 3 {
		t.Fatalf("%d accounts, want 3: %+v", len(snap.Accounts), snap.Accounts)
	}

	a := find(snap.Accounts, jdoeName)
	if a == nil {
		t.Fatalf("%s not read: %+v", jdoeName, snap.Accounts)
	}
	if !directory.SameDN(a.DN, jane) {
		t.Errorf("DN = %q, want %q", a.DN, jane)
	}
	if a.Marker != "alm:jdoe" {
		t.Errorf("Marker = %q, want alm:jdoe", a.Marker)
	}
	if a.UAC != directory.UACNormalAccount|directory.UACAccountDisable || a.Enabled() {
		t.Errorf("UAC = %d, want 514: Create makes accounts disabled", a.UAC)
	}
	if a.NoPassword || a.SID == "" || a.Builtin() != "" || a.AdminCount || a.Critical {
		t.Errorf("identity: NoPassword %v SID %q builtin %q adminCount %v critical %v, want a password, a SID and none of the rest", a.NoPassword, a.SID, a.Builtin(), a.AdminCount, a.Critical)
	}
	if !reflect.DeepEqual(a.Attributes, attrs) {
		t.Errorf("Attributes = %v, want %v", a.Attributes, attrs)
	}
	if len(a.MemberOf) != 1 || !directory.SameDN(a.MemberOf[0], group) {
		t.Errorf("MemberOf = %v, want [%s]", a.MemberOf, group)
	}
	raw := lookup(t, c, jane, "objectGUID", "pwdLastSet")
	if want := rawGUID(raw.GetRawAttributeValue("objectGUID")); a.GUID != want {
		t.Errorf("GUID = %q, want %q", a.GUID, want)
	}
	if raw.GetAttributeValue("pwdLastSet") == "0" || raw.GetAttributeValue("pwdLastSet") == "" {
		t.Errorf("pwdLastSet = %q: no password was set", raw.GetAttributeValue("pwdLastSet"))
	}

	b := find(snap.Accounts, bobName)
	if b == nil || b.Enabled() || b.Marker != "alm:bob" || !directory.SameDN(b.Attributes[directory.AttrManager], jane) {
		t.Errorf("%s = %+v, want disabled, marker alm:bob, manager %s", bobName, b, jane)
	}
	if s := find(snap.Accounts, strangerName); s == nil || s.Marker != "" {
		t.Errorf("%s = %+v, want read, without a marker", strangerName, s)
	}

	var below []directory.Group
	for _, g := range snap.Groups {
		if strings.HasSuffix(strings.ToLower(g.DN), strings.ToLower(ou)) {
			below = append(below, g)
		}
	}
	if len(below) != 1 {
		t.Fatalf("groups = %+v, want the one below %s", below, ou)
	}
	g := below[0]
	if !directory.SameDN(g.DN, group) || len(g.Members) != 1 || !directory.SameDN(g.Members[0], jane) || g.GUID == "" || g.Name == "" {
		t.Errorf("group = %+v, want %s with member %s, a GUID and a name", g, group, jane)
	}
}

func TestWrites(t *testing.T) {
	env := adtest.New(t)
	ctx := context.Background()
	d := dial(t, env)
	c := env.Conn(t)
	ou := env.OU(t)
	group := "CN=Staff Group," + ou
	addGroup(t, c, group, adtest.Unique("staff-"))
	dn := "CN=Walt," + ou
	if err := d.Create(ctx, directory.NewAccount{DN: dn, Name: adtest.Unique("walt-"), Marker: directory.Marker("walt"),
		UAC: directory.UACNormalAccount, Attributes: map[string]string{directory.AttrTitle: "Chemist", directory.AttrMail: "w@example.test"}}); err != nil {
		t.Fatal(err)
	}
	walt := directory.Ref{DN: dn, Marker: directory.Marker("walt")}
	if err := d.AddMember(ctx, directory.Ref{DN: group}, walt); err != nil {
		t.Fatal(err)
	}

	t.Run("Modify sets, replaces and removes", func(t *testing.T) {
		err := d.Modify(ctx, walt, map[string]string{
			directory.AttrTitle:       "Teacher",
			directory.AttrDepartment:  "Science",
			directory.AttrMail:        "",
			directory.AttrDescription: "", // absent already: no error
		})
		if err != nil {
			t.Fatal(err)
		}
		e := lookup(t, c, dn, "title", "department", "mail", "description")
		if e.GetAttributeValue("title") != "Teacher" || e.GetAttributeValue("department") != "Science" ||
			e.GetAttributeValue("mail") != "" || e.GetAttributeValue("description") != "" {
			t.Errorf("after Modify: title %q department %q mail %q description %q",
				e.GetAttributeValue("title"), e.GetAttributeValue("department"), e.GetAttributeValue("mail"), e.GetAttributeValue("description"))
		}
	})

	t.Run("SetAccountControl disables and enables", func(t *testing.T) {
		for _, uac := range []int{514, 512, directory.UACNormalAccount | directory.UACDontExpirePassword} {
			if err := d.SetAccountControl(ctx, walt, uac); err != nil {
				t.Fatal(err)
			}
			if got := lookup(t, c, dn, "userAccountControl").GetAttributeValue("userAccountControl"); got != strconv.Itoa(uac) {
				t.Errorf("userAccountControl = %s, want %d", got, uac)
			}
		}
	})

	moved := ad.RDN("CN", "Walter White") + ",OU=Moved," + ou
	t.Run("Move renames and moves, keeping the GUID", func(t *testing.T) {
		if err := d.CreateOU(ctx, "OU=Moved,"+ou); err != nil {
			t.Fatal(err)
		}
		before := lookup(t, c, dn, "objectGUID").GetRawAttributeValue("objectGUID")
		if err := d.Move(ctx, walt, moved); err != nil {
			t.Fatal(err)
		}
		e := lookup(t, c, moved, "objectGUID", "cn", "memberOf")
		if string(e.GetRawAttributeValue("objectGUID")) != string(before) {
			t.Error("objectGUID changed")
		}
		if e.GetAttributeValue("cn") != "Walter White" {
			t.Errorf("cn = %q, want Walter White", e.GetAttributeValue("cn"))
		}
		if m := e.GetAttributeValues("memberOf"); len(m) != 1 || !directory.SameDN(m[0], group) {
			t.Errorf("memberOf = %v, want the group still", m)
		}
	})

	t.Run("Move renames in place", func(t *testing.T) {
		renamed := "CN=Heisenberg,OU=Moved," + ou
		if err := d.Move(ctx, directory.Ref{DN: moved, Marker: walt.Marker}, renamed); err != nil {
			t.Fatal(err)
		}
		if err := d.Move(ctx, directory.Ref{DN: renamed, Marker: walt.Marker}, moved); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("RemoveMember", func(t *testing.T) {
		if err := d.RemoveMember(ctx, directory.Ref{DN: group}, directory.Ref{DN: moved}); err != nil {
			t.Fatal(err)
		}
		if m := lookup(t, c, group, "member").GetAttributeValues("member"); len(m) != 0 {
			t.Errorf("member = %v, want none", m)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		if err := d.Delete(ctx, directory.Ref{DN: moved, Marker: walt.Marker}); err != nil {
			t.Fatal(err)
		}
		_, err := c.Search(ldap.NewSearchRequest(moved, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", nil, nil))
		if !ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
			t.Errorf("search after Delete: %v, want No Such Object", err)
		}
	})
}

func TestErrors(t *testing.T) {
	env := adtest.New(t)
	ctx := context.Background()
	d := dial(t, env)
	c := env.Conn(t)
	ou := env.OU(t)
	group := "CN=Errors Group," + ou
	addGroup(t, c, group, adtest.Unique("errors-"))
	first := adtest.Unique("first-")
	user := "CN=First," + ou
	if err := d.Create(ctx, directory.NewAccount{DN: user, Name: first, UAC: 512}); err != nil {
		t.Fatal(err)
	}
	if err := d.AddMember(ctx, directory.Ref{DN: group}, directory.Ref{DN: user}); err != nil {
		t.Fatal(err)
	}
	other := "CN=Other," + ou
	if err := d.Create(ctx, directory.NewAccount{DN: other, Name: adtest.Unique("other-"), UAC: 514}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		do    func() error
		class error
		hint  string
	}{
		{"duplicate sAMAccountName", func() error {
			return d.Create(ctx, directory.NewAccount{DN: "CN=Second," + ou, Name: first, UAC: 512})
		}, directory.ErrExists, "sAMAccountName"},
		{"duplicate DN", func() error {
			return d.Create(ctx, directory.NewAccount{DN: user, Name: adtest.Unique("third-"), UAC: 512})
		}, directory.ErrExists, "DN already exists"},
		{"missing parent", func() error {
			return d.Create(ctx, directory.NewAccount{DN: "CN=Lost,OU=Nowhere," + ou, Name: adtest.Unique("lost-"), UAC: 512})
		}, directory.ErrNoSuchObject, "create the OU"},
		{"move to a missing OU", func() error {
			return d.Move(ctx, directory.Ref{DN: other}, "CN=Other,OU=Nowhere,"+ou)
		}, directory.ErrNoSuchObject, "create the OU"},
		{"modify a missing object", func() error {
			return d.Modify(ctx, directory.Ref{DN: "CN=Ghost," + ou}, map[string]string{"title": "x"})
		}, directory.ErrNoSuchObject, "plan again"},
		{"duplicate userPrincipalName", func() error {
			if err := d.Modify(ctx, directory.Ref{DN: user}, map[string]string{directory.AttrUserPrincipalName: first + "@" + env.Domain}); err != nil {
				return err
			}
			return d.Modify(ctx, directory.Ref{DN: other}, map[string]string{directory.AttrUserPrincipalName: first + "@" + env.Domain})
		}, directory.ErrExists, "userPrincipalName"},
		{"manager does not exist", func() error {
			return d.Modify(ctx, directory.Ref{DN: user}, map[string]string{directory.AttrManager: "CN=Nobody," + ou})
		}, directory.ErrConstraint, "manager"},
		{"duplicate member", func() error { return d.AddMember(ctx, directory.Ref{DN: group}, directory.Ref{DN: user}) }, directory.ErrExists, "already a member"},
		{"non-member removal", func() error { return d.RemoveMember(ctx, directory.Ref{DN: group}, directory.Ref{DN: other}) }, directory.ErrNoSuchObject, "not a member"},
		{"delete a non-empty OU", func() error { return d.Delete(ctx, directory.Ref{DN: ou}) }, directory.ErrNotEmpty, "move or delete"},
		{"unknown attribute", func() error {
			return d.Modify(ctx, directory.Ref{DN: user}, map[string]string{"almNoSuchAttribute": "x"})
		}, directory.ErrInvalidSyntax, "schema"},
		{"bad value", func() error {
			return d.Modify(ctx, directory.Ref{DN: user}, map[string]string{directory.AttrAccountExpires: "tomorrow"})
		}, directory.ErrInvalidSyntax, ""},
		{"wrong bind password", func() error {
			_, err := ad.Dial(ctx, ad.Config{URL: env.URL, CAFile: env.CAFile, ServerName: env.ServerName,
				BindDN: env.BindDN, Password: "wrong-" + env.Password}, nil)
			return err
		}, directory.ErrAuth, "check the bind DN and password"},
		{"plain bind refused by strong auth", func() error {
			_, err := ad.Dial(ctx, ad.Config{URL: strings.Replace(strings.Replace(env.URL, "ldaps", "ldap", 1), ":636", ":389", 1),
				BindDN: env.BindDN, Password: env.Password, AllowPlain: true}, nil)
			return err
		}, directory.ErrAuth, "requires TLS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.do()
			var de *directory.Error
			if !errors.As(err, &de) {
				t.Fatalf("err = %v, want a *directory.Error", err)
			}
			if !errors.Is(err, tt.class) {
				t.Errorf("err = %v, want class %v", err, tt.class)
			}
			if !strings.Contains(de.Hint, tt.hint) {
				t.Errorf("Hint = %q, want it to mention %q", de.Hint, tt.hint)
			}
			if strings.Contains(err.Error(), env.Password) {
				t.Errorf("error shows the bind password: %v", err)
			}
		})
	}
}

func TestDialStartTLS(t *testing.T) {
	env := adtest.New(t)
	plain := strings.Replace(strings.Replace(env.URL, "ldaps://", "ldap://", 1), ":636", ":389", 1)
	d, err := ad.Dial(context.Background(), ad.Config{URL: plain, StartTLS: true, CAFile: env.CAFile,
		ServerName: env.ServerName, BindDN: env.BindDN, Password: env.Password}, nil)
	if err != nil {
		t.Fatalf("bind over StartTLS: %v", err)
	}
	d.Close()
}

// TestReadDomainGroups reads groups from the domain root, where AD also
// answers with referrals to other partitions: they are skipped.
func TestReadDomainGroups(t *testing.T) {
	env := adtest.New(t)
	d := dial(t, env)
	snap, err := d.Read(context.Background(), directory.Scope{BaseDN: env.BaseDN})
	if err != nil {
		t.Fatal(err)
	}
	var admins *directory.Group
	for i, g := range snap.Groups {
		if g.Name == "Domain Admins" {
			admins = &snap.Groups[i]
		}
	}
	if admins == nil || len(admins.Members) == 0 {
		t.Fatalf("Domain Admins = %+v among %d groups, want it with the administrator as member", admins, len(snap.Groups))
	}
	if len(snap.Accounts) != 0 || len(snap.OUs) != 0 {
		t.Errorf("no managed OUs given, yet read %d accounts, OUs %v", len(snap.Accounts), snap.OUs)
	}
}

func TestCanceled(t *testing.T) {
	env := adtest.New(t)
	d := dial(t, env)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := d.Read(ctx, directory.Scope{BaseDN: env.BaseDN, OUs: []string{env.Parent()}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Read with a canceled context = %v, want context.Canceled", err)
	}
}

// BenchmarkRead reads an OU of benchUsers accounts, each in one group.
func BenchmarkRead(b *testing.B) {
	const benchUsers = 1000
	env := adtest.New(b)
	c := env.Conn(b)
	ou := env.OU(b)
	group := "CN=Bench," + ou
	addGroup(b, c, group, adtest.Unique("bench-"))
	mod := ldap.NewModifyRequest(group, nil)
	for i := range benchUsers {
		dn := "CN=u" + strconv.Itoa(i) + "," + ou
		req := ldap.NewAddRequest(dn, nil)
		req.Attribute("objectClass", []string{"user"})
		req.Attribute("sAMAccountName", []string{adtest.Unique("b" + strconv.Itoa(i) + "-")})
		req.Attribute("adminDescription", []string{"alm:u" + strconv.Itoa(i)})
		req.Attribute("givenName", []string{"U"})
		req.Attribute("mail", []string{"u" + strconv.Itoa(i) + "@example.test"})
		if err := c.Add(req); err != nil {
			b.Fatal(err)
		}
		mod.Add("member", []string{dn})
	}
	if err := c.Modify(mod); err != nil {
		b.Fatal(err)
	}
	d := dial(b, env)
	scope := directory.Scope{BaseDN: env.BaseDN, OUs: []string{ou}, GroupBase: ou}
	b.ResetTimer()
	for b.Loop() {
		snap, err := d.Read(context.Background(), scope)
		if err != nil {
			b.Fatal(err)
		}
		if len(snap.Accounts) != benchUsers {
			b.Fatalf("%d accounts, want %d", len(snap.Accounts), benchUsers)
		}
	}
	b.ReportMetric(float64(benchUsers*b.N)/b.Elapsed().Seconds(), "accounts/s")
}

// TestCloseThenUse: a Directory closed (as alm apply closes it while a
// person reads the plan) dials again at its next request.
func TestCloseThenUse(t *testing.T) {
	env := adtest.New(t)
	d := dial(t, env)
	ou := env.OU(t)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Read(context.Background(), directory.Scope{BaseDN: env.BaseDN, OUs: []string{ou}, GroupBase: ou}); err != nil {
		t.Fatalf("read after Close: %v", err)
	}
	if err := d.CreateOU(context.Background(), "OU=After Close,"+ou); err != nil {
		t.Fatalf("write after Close: %v", err)
	}
}
