package render

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"github.com/alm-project/alm/reconciler/notify"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alm-project/alm/connectors/memory"
	"github.com/alm-project/alm/reconciler/apply"
	"github.com/alm-project/alm/reconciler/desired"
	"github.com/alm-project/alm/reconciler/directory"
	"github.com/alm-project/alm/reconciler/load"
	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/plan"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares output with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < max(len(gl), len(wl)); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs from line %d:\ngot:  %q\nwant: %q\n(run go test -update if the change is intended)", path, i+1, g, w)
			}
		}
	}
}

const base = "DC=example,DC=test"

// handmade is a plan with every action, drift, orphans and warnings, and
// text that Markdown must escape. Rendering is tested apart from Diff.
func handmade() *plan.Plan {
	people := "OU=People,OU=ALM," + base
	jdoe := plan.Change{AccountID: "004217", Account: "jdoe", Kind: model.KindPerson, File: "people/jdoe.yaml", Marker: "alm:004217", DN: "CN=jdoe," + people}
	with := func(c plan.Change, edit func(*plan.Change)) plan.Change {
		edit(&c)
		return c
	}
	endDate := time.Date(2026, 2, 27, 0, 0, 0, 0, time.UTC)
	leaver := desired.Reason{File: "people/jdoe.yaml", Line: 17, Field: "spec.endDate", Rule: "lifecycle: leaver", Date: endDate, Text: "endDate 2026-02-27 has passed"}
	return &plan.Plan{
		FormatVersion: plan.FormatVersion, Revision: "0123456789abcdef0123456789abcdef01234567", DirectoryState: "31337",
		Now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), BaseDN: base, Managed: 4, DriftKnown: true,
		Changes: []plan.Change{
			{ID: "adopt:004400", Action: plan.Adopt, AccountID: "004400", Account: "abrown", Kind: model.KindPerson, File: "people/abrown.yaml", Marker: "alm:004400",
				DN: `CN=Brown\, Alice,` + people, GUID: "0f6a1d43-8f9e-4f3c-9a55-2b7e8c1d0e21",
				Attributes: []plan.AttrChange{{Name: "adminDescription", New: "alm:004400", Field: "metadata.adopt"}},
				Reason: desired.Reason{File: "people/abrown.yaml", Line: 6, Field: "metadata.adopt", Rule: "adopt",
					Text: `people/abrown.yaml adopts the existing account CN=Brown\, Alice,` + people + `: alm writes its marker and nothing else`}},
			{ID: "create-ou:OU=Leavers,OU=ALM," + base, Action: plan.CreateOU, DN: "OU=Leavers,OU=ALM," + base,
				Reason: desired.Reason{File: "people/jdoe.yaml", Field: "spec.endDate", Rule: "ou", Text: "jdoe must live in OU=Leavers,OU=ALM," + base + ", which does not exist"}},
			{ID: "create-group:wifi", Action: plan.CreateGroup, DN: "CN=Wifi,OU=Groups,OU=ALM," + base, Group: "CN=Wifi,OU=Groups,OU=ALM," + base,
				GroupName: "Wifi", Marker: "alm:group:wifi",
				Reason: desired.Reason{File: "roles/wifi.yaml", Field: "spec.groups", Rule: "role", Text: `group "Wifi" (role wifi names it) does not exist: alm creates it as a global security group carrying its marker`}},
			{ID: "rename-group:remote access", Action: plan.RenameGroup, DN: "CN=VPN Users,OU=Groups,OU=ALM," + base, NewDN: "CN=Remote Access,OU=Groups,OU=ALM," + base,
				Group: "CN=VPN Users,OU=Groups,OU=ALM," + base, GroupName: "Remote Access", Marker: "alm:group:vpn users",
				Attributes: []plan.AttrChange{{Name: "sAMAccountName", Old: "VPN Users", New: "Remote Access", Field: "spec.renamedGroups"}},
				Reason:     desired.Reason{File: "roles/vpn-users.yaml", Field: "spec.renamedGroups", Rule: "group rename", Text: `group "VPN Users" is now "Remote Access" (role vpn-users names it): the group alm created is renamed, keeping its members`}},
			{ID: "remove-member:cn=helpdesk," + strings.ToLower(people) + ":Wifi", Action: plan.RemoveMember, Account: "helpdesk", DN: "CN=helpdesk," + people,
				Group: "CN=Wifi,OU=Groups,OU=ALM," + base, GroupName: "Wifi", GroupMarker: "alm:group:wifi", Drift: true,
				Reason: desired.Reason{File: "alm.yaml", Field: "spec.groupsOU", Rule: "group alm created",
					Text: "drift: CN=helpdesk," + people + ` (an account alm does not manage) is a member of CN=Wifi,OU=Groups,OU=ALM,` + base + `, a group alm created (its adminDescription holds "alm:group:wifi"), and no role grants it`}},
			{ID: "create:005000", Action: plan.Create, AccountID: "005000", Account: "njoin", Kind: model.KindPerson, File: "people/njoin.yaml", Marker: "alm:005000",
				DN: "CN=njoin," + people, Attributes: []plan.AttrChange{
					{Name: "userPrincipalName", New: "njoin@example.test", Field: "metadata.name"},
					{Name: "displayName", New: "Nia | `Join`", Field: "spec.displayName"},
					{Name: "accountExpires", New: desired.FileTime(time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)), Field: "spec.endDate"},
					{Name: "userAccountControl", New: "514", Field: "spec.startDate"},
				},
				Reason: desired.Reason{File: "people/njoin.yaml", Line: 16, Field: "spec.startDate", Rule: "lifecycle: pending", Date: time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC), Text: "startDate 2026-03-05 is ahead"}},
			with(jdoe, func(c *plan.Change) {
				c.ID, c.Action, c.Drift = "update:004217", plan.Update, true
				c.Attributes = []plan.AttrChange{{Name: "title", Old: "CTO", New: "Engineer", Field: "spec.title", Drift: true}}
				c.Reason = desired.Reason{File: "people/jdoe.yaml", Line: 14, Field: "spec.title", Rule: "drift", Text: "drift: the values differ from what the files asked at the last apply; spec.title in people/jdoe.yaml"}
			}),
			with(jdoe, func(c *plan.Change) {
				c.ID, c.Action, c.NewDN = "move:004217", plan.Move, "CN=jdoe,OU=Leavers,OU=ALM,"+base
				c.Reason, c.DependsOn = leaver, []string{"create-ou:OU=Leavers,OU=ALM," + base}
			}),
			{ID: "rename:004300", Action: plan.Rename, AccountID: "004300", Account: "bking", Kind: model.KindPerson, File: "people/bking.yaml", Marker: "alm:004300",
				DN: "CN=bsmith," + people, NewDN: "CN=bking," + people, Attributes: []plan.AttrChange{
					{Name: "sAMAccountName", Old: "bsmith", New: "bking", Field: "metadata.name"},
					{Name: "userPrincipalName", Old: "bsmith@example.test", New: "bking@example.test", Field: "metadata.name"},
				},
				Reason: desired.Reason{File: "people/bking.yaml", Line: 5, Field: "metadata.name", Rule: "rename", Text: "renamed from bsmith (spec.previousNames) to bking"}},
			{ID: "add-member:004300:Sales", Action: plan.AddMember, AccountID: "004300", Account: "bking", Kind: model.KindPerson, File: "people/bking.yaml", Marker: "alm:004300",
				DN: "CN=bsmith," + people, Group: "CN=Sales,OU=Groups,OU=ALM," + base, GroupName: "Sales",
				Reason: desired.Reason{File: "roles/sales.yaml", Line: 9, Field: "spec.birthright", Rule: "birthright", Text: "role sales by birthright (department Sales)"}},
			{ID: "enable:sa-01", Action: plan.Enable, AccountID: "sa-01", Account: "svc-backup", Kind: model.KindServiceAccount, File: "service-accounts/svc-backup.yaml", Marker: "alm:sa-01",
				DN: "CN=svc-backup,OU=Service Accounts,OU=ALM," + base, Attributes: []plan.AttrChange{{Name: "userAccountControl", Old: "66050", New: "66048", Field: "spec.expires"}},
				Reason: desired.Reason{File: "service-accounts/svc-backup.yaml", Line: 15, Field: "spec.expires", Rule: "lifecycle: active", Date: time.Date(2027, 5, 31, 0, 0, 0, 0, time.UTC), Text: "expires 2027-05-31"}},
			with(jdoe, func(c *plan.Change) {
				c.ID, c.Action, c.Group, c.GroupName = "remove-member:004217:Sales", plan.RemoveMember, "CN=Sales,OU=Groups,OU=ALM,"+base, "Sales"
				c.Drift = true
				c.Reason = desired.Reason{File: "people/jdoe.yaml", Field: "spec.roles", Rule: "drift", Text: "drift: a member, though the files did not ask for it at the last apply; no role of people/jdoe.yaml grants Sales (alm manages it: role sales names it)"}
			}),
			with(jdoe, func(c *plan.Change) {
				c.ID, c.Action = "disable:004217", plan.Disable
				c.Attributes = []plan.AttrChange{{Name: "userAccountControl", Old: "512", New: "514", Field: "spec.endDate"}}
				c.Reason = leaver
			}),
			{ID: "disable-orphan:CN=tmp_user," + people, Action: plan.DisableOrphan, Account: "tmp_user", DN: "CN=tmp_user," + people,
				Attributes: []plan.AttrChange{{Name: "userAccountControl", Old: "512", New: "514", Field: "spec.orphans"}},
				Reason:     desired.Reason{File: "alm.yaml", Field: "spec.orphans", Rule: "orphans: disable", Text: "unmanaged account in a managed OU, and alm.yaml says orphans: disable"}},
			with(jdoe, func(c *plan.Change) {
				c.ID, c.Action, c.Group, c.GroupName = "remove-member:004217:Domain Admins", plan.RemoveMember, "CN=Domain Admins,CN=Users,"+base, "Domain Admins"
				c.Drift, c.Privileged = true, "one of AD's privileged groups (Domain Admins, RID 512)"
				c.Reason = desired.Reason{File: "people/jdoe.yaml", Field: "spec.roles", Rule: "privileged", Text: "drift: jdoe is a member of CN=Domain Admins,CN=Users," + base + ", one of AD's privileged groups (Domain Admins, RID 512), and no role grants it: a privileged membership nothing in Git asked for is always removed"}
			}),
			{ID: "set-password:sa-01", Action: plan.SetPassword, AccountID: "sa-01", Account: "svc-backup", Kind: model.KindServiceAccount, File: "service-accounts/svc-backup.yaml", Marker: "alm:sa-01",
				DN: "CN=svc-backup,OU=Service Accounts,OU=ALM," + base, Drift: true,
				Reason: desired.Reason{File: "service-accounts/svc-backup.yaml", Rule: "half-made", Text: "the account carries alm's marker but never had a password"}},
			{ID: "delete:003001", Action: plan.Delete, AccountID: "003001", Account: "oold", Kind: model.KindPerson, File: "people/oold.yaml", Marker: "alm:003001",
				DN:     "CN=oold,OU=Leavers,OU=ALM," + base,
				Reason: desired.Reason{File: "people/oold.yaml", Line: 18, Field: "spec.endDate", Rule: "lifecycle: archived", Date: time.Date(2026, 1, 29, 0, 0, 0, 0, time.UTC), Text: "endDate 2025-10-31 plus retention 90d passed on 2026-01-29"}},
		},
		Orphans: []plan.Orphan{
			{DN: "CN=tmp_user," + people, Name: "tmp_user", Enabled: true, Action: "disable", Reason: "no alm marker: an account alm does not own in a managed OU"},
			{DN: "CN=old-kiosk," + people, Name: "old-kiosk", Action: "report", Reason: `its adminDescription holds "kiosk", not alm's marker: an account alm does not own in a managed OU`},
		},
		Findings: []plan.Finding{
			{ID: "admin-count:004217", Kind: plan.FindingAdminCount, Account: "jdoe", AccountID: "004217", File: "people/jdoe.yaml", DN: "CN=jdoe," + people,
				Text: "CN=jdoe," + people + " has adminCount=1, which AD leaves behind", Fix: "clear adminCount and turn inheritance back on"},
			{ID: "half-made:sa-01", Kind: plan.FindingHalfMade, Account: "svc-backup", AccountID: "sa-01", File: "service-accounts/svc-backup.yaml",
				DN: "CN=svc-backup,OU=Service Accounts,OU=ALM," + base, Text: "made by alm but never got a password", Fix: "alm apply gives it one", RepairedBy: "set-password:sa-01"},
			{ID: "missing-group:wifi <5ghz>", Kind: plan.FindingMissingGroup, File: "roles/wifi.yaml", Group: "Wifi <5GHz>",
				Text: `group "Wifi <5GHz>" (role wifi names it) does not exist below OU=Groups,OU=ALM,` + base + ": 1 account should be members (bking) and are not added",
				Fix:  `create group "Wifi <5GHz>" in OU=Groups,OU=ALM,` + base + `, or correct the group's name in roles/wifi.yaml`},
			{ID: "unmanaged-membership:004217:cn=printers,ou=shared," + base, Kind: plan.FindingUnmanagedMembership, Account: "jdoe", AccountID: "004217",
				File: "people/jdoe.yaml", DN: "CN=jdoe," + people, Group: "CN=Printers,OU=Shared," + base,
				Text: "jdoe is a member of CN=Printers,OU=Shared," + base + ", which no role names: left as it is (alm.yaml unmanagedMemberships: report)",
				Fix:  "grant it through a role, remove it by hand, or set unmanagedMemberships: remove in alm.yaml"},
		},
		Warnings: []desired.Warning{
			{File: "people/jdoe.yaml", Line: 20, Account: "jdoe", Text: `spec.roles[1]: role "wlan" does not exist, so it grants no groups; add roles/wlan.yaml or remove it`},
		},
		Notices: []notify.Message{{ID: "notice:sa-01:30d-before:2027-05-31", Kind: notify.KindNotice, Subject: "svc-backup ends on 2027-05-31",
			Account: "svc-backup", AccountID: "sa-01", File: "service-accounts/svc-backup.yaml",
			Text: "Service account svc-backup ends on 2027-05-31.", Date: time.Date(2027, 5, 31, 0, 0, 0, 0, time.UTC), DueAt: time.Date(2027, 5, 1, 0, 0, 0, 0, time.UTC),
			To: []notify.Recipient{{Login: "jdoe", Name: "Jane Doe", Email: "jane.doe@example.test", Role: "owner"}, {Email: "ops@example.test", Role: "address"}}}},
	}
}

func TestGolden(t *testing.T) {
	empty := &plan.Plan{FormatVersion: plan.FormatVersion, Revision: "c0ffee", DirectoryState: "12", Now: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
		Changes: []plan.Change{}, Orphans: []plan.Orphan{}, Warnings: []desired.Warning{}}
	findingsOnly := &plan.Plan{FormatVersion: plan.FormatVersion, Revision: "c0ffee", DirectoryState: "12", Now: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
		Changes: []plan.Change{}, Findings: handmade().Findings[2:], Orphans: handmade().Orphans[1:], Warnings: []desired.Warning{}}
	orphansOnly := &plan.Plan{FormatVersion: plan.FormatVersion, Revision: "c0ffee", DirectoryState: "12", Now: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
		Changes: []plan.Change{}, Orphans: handmade().Orphans[1:], Warnings: []desired.Warning{}}
	for _, tc := range []struct {
		name string
		plan *plan.Plan
	}{{"handmade", handmade()}, {"empty", empty}, {"findings", findingsOnly}, {"orphans", orphansOnly}} {
		for _, f := range []struct {
			ext    string
			render func(*bytes.Buffer, *plan.Plan) error
		}{
			{"txt", func(b *bytes.Buffer, p *plan.Plan) error { return Text(b, p) }},
			{"md", func(b *bytes.Buffer, p *plan.Plan) error { return Markdown(b, p) }},
			{"json", func(b *bytes.Buffer, p *plan.Plan) error { return JSON(b, p) }},
		} {
			t.Run(tc.name+"."+f.ext, func(t *testing.T) {
				var b bytes.Buffer
				if err := f.render(&b, tc.plan); err != nil {
					t.Fatal(err)
				}
				golden(t, tc.name+"."+f.ext, b.Bytes())
			})
		}
	}
}

// The JSON form is the saved plan: it reads back as the same plan.
func TestJSONRoundTrip(t *testing.T) {
	var b bytes.Buffer
	p := handmade()
	if err := JSON(&b, p); err != nil {
		t.Fatal(err)
	}
	got, err := plan.Decode(&b)
	if err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	if err := JSON(&again, got); err != nil {
		t.Fatal(err)
	}
	var first bytes.Buffer
	_ = JSON(&first, p)
	if first.String() != again.String() {
		t.Error("the plan changed on its way through JSON")
	}
}

func TestText(t *testing.T) {
	var b bytes.Buffer
	if err := Text(&b, handmade()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	// One header per account, whatever number of changes it has.
	for _, h := range []string{"# jdoe: CN=jdoe,OU=People,OU=ALM," + base + " (people/jdoe.yaml)\n",
		"# bking: CN=bsmith,OU=People,OU=ALM," + base + " (people/bking.yaml)\n", "# organizational units\n", "# groups\n",
		"# helpdesk: CN=helpdesk,OU=People,OU=ALM," + base + " (not managed, no file)\n"} {
		if n := strings.Count(out, h); n != 1 {
			t.Errorf("header %q appears %d times", h, n)
		}
	}
	if !strings.HasSuffix(out, "Plan: 3 to create (1 OU, 1 group), 1 to give a password, 1 to adopt, 1 to update, 1 to move, 2 to rename, 1 to add to groups, 1 to enable, 3 to remove from groups, 2 to disable, 1 to delete; 5 of them revert drift.\n"+
		"After it, the directory will still differ from the access repository: 3 findings above.\n") {
		t.Errorf("closing line of\n%s", out)
	}
}

// TestClosing: "The directory matches" only when nothing differs.
func TestClosing(t *testing.T) {
	h := handmade()
	tests := []struct {
		name string
		p    *plan.Plan
		want string
	}{
		{"nothing differs", &plan.Plan{}, "No changes. The directory matches the access repository."},
		{"orphans only", &plan.Plan{Orphans: h.Orphans}, "No changes. The accounts alm manages match the access repository; 2 accounts in managed OUs that alm does not own are reported above (orphans)."},
		{"findings only", &plan.Plan{Findings: h.Findings[2:]}, "No changes can be made, but the directory does not match the access repository: 2 findings above."},
		{"changes that repair every finding", &plan.Plan{Changes: h.Changes, Findings: h.Findings[1:2]}, "Plan: 3 to create"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := closing(tc.p, "above")
			if !strings.HasPrefix(got, tc.want) || strings.Contains(got, "still differ") {
				t.Errorf("closing %q, want %q", got, tc.want)
			}
			if strings.Contains(got, "The directory matches") != (tc.p.Matches() && len(tc.p.Orphans) == 0) {
				t.Errorf("%q claims a match it should not (matches %v)", got, tc.p.Matches())
			}
		})
	}
}

func TestMarkdownEscapes(t *testing.T) {
	for in, want := range map[string]string{
		"a|b":      "`a\\|b`",
		"x`y":      "``x`y``",
		"`edge":    "`` `edge ``",
		"":         "",
		"CN=a,b=c": "`CN=a,b=c`",
	} {
		if got := code(in); got != want {
			t.Errorf("code(%q) = %q, want %q", in, got, want)
		}
	}
	if got := cell("<b>*x*</b> | [link](u) _y_"); got != `&lt;b&gt;\*x\*&lt;/b&gt; \| \[link\](u) \_y\_` {
		t.Errorf("cell: %q", got)
	}
}

// acmeRepo loads the example repository.
func acmeRepo(t *testing.T) *model.Repository {
	t.Helper()
	repo, problems, err := load.Dir("../../../examples/acme")
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) > 0 {
		t.Fatalf("examples/acme has problems: %v", problems)
	}
	repo.Revision = "acme"
	return repo
}

// acmeDirectory is a fresh domain with the groups the example's roles
// name, but for one, so the plan shows what a missing group does.
func acmeDirectory(t *testing.T, d *desired.State, missing string) *memory.Directory {
	t.Helper()
	dir := memory.New(base)
	dir.SetMarkerAttribute(d.MarkerAttribute)
	if err := dir.AddOU(d.GroupsOU); err != nil {
		t.Fatal(err)
	}
	for _, g := range d.Groups {
		if g.Name == missing {
			continue
		}
		if err := dir.AddGroup(d.GroupDN(g.Name), g.Name); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func makePlan(t *testing.T, repo *model.Repository, dir *memory.Directory, now time.Time, prev *desired.State) (*desired.State, *plan.Plan) {
	t.Helper()
	d, err := desired.Compute(repo, now)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := dir.Read(context.Background(), d.Scope())
	if err != nil {
		t.Fatal(err)
	}
	p := plan.Diff(d, snap, plan.Options{Previous: prev})
	if p.DirectoryState != snap.Digest() {
		t.Fatalf("directory state %q, want the snapshot's digest %q", p.DirectoryState, snap.Digest())
	}
	// The memory directory's GUIDs are random, and so the digest: pin it
	// for the goldens.
	p.DirectoryState = "5e1f0d1ge5t0"
	return d, p
}

// TestAcme renders realistic plans: the example repository's first run
// into an empty domain, then a run two months later, after an apply and
// some changes made by hand in the directory.
func TestAcme(t *testing.T) {
	ctx := context.Background()
	repo := acmeRepo(t)
	first := time.Date(2026, 11, 23, 6, 0, 0, 0, time.UTC)
	d0, err := desired.Compute(repo, first)
	if err != nil {
		t.Fatal(err)
	}
	dir := acmeDirectory(t, d0, "CRM API Users")
	_, p := makePlan(t, repo, dir, first, nil)
	for _, f := range []struct {
		name   string
		render func(*bytes.Buffer) error
	}{
		{"acme-first.txt", func(b *bytes.Buffer) error { return Text(b, p) }},
		{"acme-first.md", func(b *bytes.Buffer) error { return Markdown(b, p) }},
	} {
		var b bytes.Buffer
		if err := f.render(&b); err != nil {
			t.Fatal(err)
		}
		golden(t, f.name, b.Bytes())
	}

	res := apply.Run(ctx, dir, p, apply.Options{})
	var b bytes.Buffer
	if err := ResultText(&b, &res); err != nil {
		t.Fatal(err)
	}
	golden(t, "acme-first-apply.txt", b.Bytes())

	// By hand, in the directory: a leaver re-enabled, a title edited, a
	// group added, an account made outside alm.
	people := "OU=People,OU=ALM," + base
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(dir.SetAccountControl(ctx, dir.RefOf("CN=oobrien,OU=Leavers,OU=ALM,"+base), directory.UACNormalAccount))
	must(dir.Modify(ctx, dir.RefOf("CN=rpatel,"+people), map[string]string{directory.AttrTitle: "CISO"}))
	must(dir.AddMember(ctx, dir.RefOf(d0.GroupDN("FS Backup Operators")), dir.RefOf("CN=jdoe,"+people)))
	must(dir.AddUser(directory.NewAccount{DN: "CN=temp-admin," + people, Name: "temp-admin", UAC: directory.UACNormalAccount,
		Attributes: map[string]string{directory.AttrDescription: "made by hand"}}))

	// And in the files: jdoe moves to Sales.
	repo.People["jdoe"].Spec.Department = "Sales"
	later := time.Date(2027, 2, 1, 6, 0, 0, 0, time.UTC)
	d1, p1 := makePlan(t, repo, dir, later, d0)
	b.Reset()
	must(Text(&b, p1))
	if err := plan.Guard(p1, plan.NewGuardOptions(d1)); err != nil {
		b.WriteString("\nGuard: " + err.Error() + "\n")
	}
	golden(t, "acme-later.txt", b.Bytes())
	b.Reset()
	must(Markdown(&b, p1))
	golden(t, "acme-later.md", b.Bytes())
}

// TestAcmeInAuckland renders the example's first plan with alm.yaml's
// timeZone set to Pacific/Auckland, at an instant that is 2026-11-29 in UTC
// but already 2026-11-30 there: lchen, provisioned 7 days before a start on
// 2026-12-07, is created; reasons show the dates as the files write them, and
// accountExpires the instant each day begins in Auckland.
func TestAcmeInAuckland(t *testing.T) {
	repo := acmeRepo(t)
	repo.Directory.Spec.TimeZone = model.MustTimeZone("Pacific/Auckland")
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	d, err := desired.Compute(repo, now)
	if err != nil {
		t.Fatal(err)
	}
	_, p := makePlan(t, repo, acmeDirectory(t, d, ""), now, nil)
	var b bytes.Buffer
	if err := Text(&b, p); err != nil {
		t.Fatal(err)
	}
	golden(t, "acme-auckland.txt", b.Bytes())
}

func TestInstant(t *testing.T) {
	for _, tc := range []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), "2026-11-30"},
		{time.Date(2026, 11, 29, 11, 0, 0, 0, time.UTC), "2026-11-29 11:00 UTC"},
		{time.Date(2026, 11, 30, 0, 0, 0, 0, time.FixedZone("NZDT", 13*3600)), "2026-11-29 11:00 UTC"},
	} {
		if got := instant(tc.in); got != tc.want {
			t.Errorf("instant(%s) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestResultText(t *testing.T) {
	p := handmade()
	res := apply.Result{Revision: p.Revision, DirectoryState: p.DirectoryState}
	for i, c := range p.Changes[:4] {
		cr := apply.ChangeResult{Change: c, Outcome: apply.Applied, Attempts: 1}
		switch i {
		case 0:
			cr.Outcome, cr.Error, cr.Attempts = apply.Failed, "after 3 attempts: "+(&directory.Error{Op: "add", DN: c.DN, Class: directory.ErrUnavailable, Hint: "the directory is busy or unreachable; retried later"}).Error(), 3
		case 3:
			cr.Outcome, cr.Error = apply.Skipped, "depends on create-ou:OU=Leavers,OU=ALM,"+base+", which failed"
		}
		res.Changes = append(res.Changes, cr)
		switch cr.Outcome {
		case apply.Applied:
			res.Applied++
		case apply.Failed:
			res.Failed++
		case apply.Skipped:
			res.Skipped++
		}
	}
	var b bytes.Buffer
	if err := ResultText(&b, &res); err != nil {
		t.Fatal(err)
	}
	golden(t, "result.txt", b.Bytes())
}

// A writer that fails makes rendering fail, and says so.
func TestWriteError(t *testing.T) {
	if err := Text(failing{}, handmade()); err == nil {
		t.Error("Text hid a write error")
	}
	if err := Markdown(failing{}, handmade()); err == nil {
		t.Error("Markdown hid a write error")
	}
}

type failing struct{}

func (failing) Write([]byte) (int, error) { return 0, errors.New("disk full") }
