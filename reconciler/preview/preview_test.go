package preview

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/alm-project/alm/connectors/memory"
	"github.com/alm-project/alm/reconciler/apply"
	"github.com/alm-project/alm/reconciler/desired"
	"github.com/alm-project/alm/reconciler/directory"
	"github.com/alm-project/alm/reconciler/load"
	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/plan"
)

var now = time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)

const baseDN = "DC=example,DC=test"

// files is a small access repository: alm.yaml, one template, one role and
// two people. Tests edit copies of it into heads.
func files() map[string]string {
	return map[string]string{
		"alm.yaml": `apiVersion: alm/v1
kind: Directory
metadata: {name: test}
spec:
  domain: example.test
  baseDN: DC=example,DC=test
  url: ldaps://base.example.test
  groupsOU: OU=Groups,OU=ALM
  leaversOU: OU=Leavers,OU=ALM
`,
		"templates/employee.yaml": `apiVersion: alm/v1
kind: WorkflowTemplate
metadata: {name: employee}
spec:
  appliesTo: Person
  personTypes: [employee]
  ou: OU=People,OU=ALM
`,
		"roles/staff.yaml": `apiVersion: alm/v1
kind: Role
metadata: {name: staff}
spec:
  groups: [staff]
`,
		"people/alice.yaml": person("alice", "p-01", "Engineer"),
		"people/bob.yaml":   person("bob", "p-02", "Analyst"),
	}
}

func person(login, id, title string) string {
	return `apiVersion: alm/v1
kind: Person
metadata: {name: ` + login + `, id: ` + id + `}
spec:
  givenName: Test
  surname: ` + login + `
  type: employee
  title: ` + title + `
  startDate: 2026-01-05
  roles: [staff]
`
}

func repository(t *testing.T, fs map[string]string) *model.Repository {
	t.Helper()
	m := fstest.MapFS{}
	for path, data := range fs {
		m[path] = &fstest.MapFile{Data: []byte(data)}
	}
	repo, problems, err := load.FS(m, "")
	if err != nil || len(problems) > 0 {
		t.Fatalf("load: %v %v", err, problems)
	}
	return repo
}

// recorder is a Reader over a directory (in memory, or Samba) that records
// every scope it is asked to read, and a Directory Make can dial.
type recorder struct {
	dir    Reader
	scopes []directory.Scope
	closed bool
}

func (r *recorder) Read(ctx context.Context, scope directory.Scope) (*directory.Snapshot, error) {
	r.scopes = append(r.scopes, scope)
	return r.dir.Read(ctx, scope)
}

func (r *recorder) Close() error {
	r.closed = true
	return nil
}

// world is the directory with the base applied, so that its plan is empty
// but for what a test adds; an enabled orphan in a managed OU, which the
// base reports; and secret accounts outside the base's scope: in
// OU=Secret,OU=ALM, beside the managed OUs, and in CN=Users.
func world(t *testing.T, base *model.Repository) *memory.Directory {
	t.Helper()
	d := memory.New(baseDN)
	for _, ou := range []string{"OU=People,OU=ALM," + baseDN, "OU=Groups,OU=ALM," + baseDN, "OU=Secret,OU=ALM," + baseDN} {
		if err := d.AddOU(ou); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.AddGroup("CN=staff,OU=Groups,OU=ALM,"+baseDN, "staff"); err != nil {
		t.Fatal(err)
	}
	for _, dn := range []string{"CN=secret1,OU=Secret,OU=ALM," + baseDN, "CN=secret2,CN=Users," + baseDN, "CN=orphan0,OU=People,OU=ALM," + baseDN} {
		name := strings.TrimPrefix(strings.Split(dn, ",")[0], "CN=")
		if err := d.AddUser(directory.NewAccount{DN: dn, Name: name, UAC: directory.UACNormalAccount}); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.AddGroup("CN=secret-group,OU=Secret,OU=ALM,"+baseDN, "secret-group"); err != nil {
		t.Fatal(err)
	}
	want, err := desired.Compute(base, now)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := d.Read(context.Background(), want.Scope())
	if err != nil {
		t.Fatal(err)
	}
	if res := apply.Run(context.Background(), d, plan.Diff(want, snap, plan.Options{}), apply.Options{}); !res.OK() {
		t.Fatalf("apply the base: %+v", res)
	}
	return d
}

func edit(fs map[string]string, path, old, new string) map[string]string {
	out := map[string]string{}
	for k, v := range fs {
		out[k] = v
	}
	if old == "" {
		out[path] = new
	} else {
		out[path] = strings.Replace(out[path], old, new, 1)
	}
	return out
}

// TestHeadCannotWidenTheRead: whatever the head's alm.yaml or templates
// say, the directory is read once, within the base's scope, with the
// base's marker; what lies outside that scope is not in the preview; the
// settings the head changes are listed to take effect after the merge.
func TestHeadCannotWidenTheRead(t *testing.T) {
	tests := []struct {
		name     string
		head     func(map[string]string) map[string]string
		settings []string // fields the preview must list as changing
		unread   []string
		empty    bool // the head changes nothing the directory holds
	}{
		{
			name: "leaversOU widened to the whole ALM OU",
			head: func(fs map[string]string) map[string]string {
				return edit(fs, "alm.yaml", "leaversOU: OU=Leavers,OU=ALM", "leaversOU: OU=ALM")
			},
			// alm.yaml's OUs are the base's until the merge: nothing unread.
			settings: []string{"spec.leaversOU"}, empty: true,
		},
		{
			name: "a template placed in an OU the base does not manage",
			head: func(fs map[string]string) map[string]string {
				fs = edit(fs, "templates/admin.yaml", "", `apiVersion: alm/v1
kind: WorkflowTemplate
metadata: {name: admin}
spec:
  appliesTo: Person
  personTypes: [contractor]
  ou: OU=Secret,OU=ALM
`)
				return edit(fs, "people/carol.yaml", "", strings.Replace(person("carol", "p-03", "Admin"), "type: employee", "type: contractor\n  endDate: 2027-01-05", 1))
			},
			unread: []string{"OU=Secret,OU=ALM," + baseDN},
		},
		{
			name: "groupsOU widened to the base DN",
			head: func(fs map[string]string) map[string]string {
				return edit(fs, "alm.yaml", "  groupsOU: OU=Groups,OU=ALM\n", "")
			},
			settings: []string{"spec.groupsOU"}, empty: true,
		},
		{
			name: "baseDN changed",
			head: func(fs map[string]string) map[string]string {
				return edit(fs, "alm.yaml", "baseDN: DC=example,DC=test", "baseDN: DC=other,DC=test")
			},
			settings: []string{"spec.baseDN"}, empty: true,
		},
		{
			name: "markerAttribute changed",
			head: func(fs map[string]string) map[string]string {
				return edit(fs, "alm.yaml", "  leaversOU:", "  markerAttribute: description\n  leaversOU:")
			},
			settings: []string{"spec.markerAttribute"}, empty: true,
		},
		{
			name: "url changed",
			head: func(fs map[string]string) map[string]string {
				return edit(fs, "alm.yaml", "url: ldaps://base.example.test", "url: ldaps://head.example.test")
			},
			settings: []string{"spec.url"}, empty: true,
		},
		{
			name: "protected, orphans and limits changed",
			head: func(fs map[string]string) map[string]string {
				return edit(fs, "alm.yaml", "  leaversOU:", "  protected: [breakglass]\n  orphans: disable\n  limits: {disable: {count: 100}}\n  leaversOU:")
			},
			settings: []string{"spec.protected", "spec.orphans", "spec.limits"}, empty: true,
		},
	}
	baseFiles := files()
	base := repository(t, baseFiles)
	wantScope, err := desired.Compute(base, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recorder{dir: world(t, base)}
			head := repository(t, tt.head(baseFiles))
			var dialled []string
			dial := func(_ context.Context, url, marker string) (Directory, error) {
				dialled = append(dialled, url+" "+marker)
				return r, nil
			}
			p, err := Make(context.Background(), dial, base, head, Options{Now: now})
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"ldaps://base.example.test " + model.DefaultMarkerAttribute}; !slices.Equal(dialled, want) {
				t.Errorf("dialled %v, want %v", dialled, want)
			}
			if !r.closed {
				t.Error("the directory was not closed")
			}
			if len(r.scopes) != 1 || !reflect.DeepEqual(r.scopes[0], wantScope.Scope()) || !reflect.DeepEqual(p.Scope, wantScope.Scope()) {
				t.Errorf("read %+v (preview says %+v), want once the base's scope %+v", r.scopes, p.Scope, wantScope.Scope())
			}
			var fields []string
			for _, s := range p.Settings {
				fields = append(fields, s.Field)
			}
			if !slices.Equal(fields, tt.settings) && !(len(fields) == 0 && tt.settings == nil) {
				t.Errorf("settings changing: %v, want %v", fields, tt.settings)
			}
			if !slices.Equal(p.Unread, tt.unread) && !(len(p.Unread) == 0 && tt.unread == nil) {
				t.Errorf("unread OUs: %v, want %v", p.Unread, tt.unread)
			}
			if tt.empty && !p.Empty() {
				t.Errorf("the head changes only settings, yet the preview has changes: %+v", p.Changes)
			}
			// Only the list of settings names what the head asks for.
			shown := *p
			shown.Settings = nil
			data, err := json.Marshal(shown)
			if err != nil {
				t.Fatal(err)
			}
			for _, secret := range []string{"secret1", "secret2", "secret-group", "head.example.test", "DC=other"} {
				if strings.Contains(string(data), secret) {
					t.Errorf("the preview shows %s, outside the base's scope:\n%s", secret, data)
				}
			}
		})
	}
}

// TestShowsOnlyWhatThePullRequestChanges: work pending before the pull
// request (a joiner not yet created, an orphan) is not shown; the head's
// new work is, and so are the base's changes it makes differently or drops.
func TestShowsOnlyWhatThePullRequestChanges(t *testing.T) {
	applied := files()
	base := repository(t, applied)
	d := world(t, base)
	// Behind alm's back: an orphan in a managed OU, and alice's title
	// edited by hand, which the base's plan puts back.
	if err := d.AddUser(directory.NewAccount{DN: "CN=orphan1,OU=People,OU=ALM," + baseDN, Name: "orphan1", UAC: directory.UACNormalAccount}); err != nil {
		t.Fatal(err)
	}
	if err := d.Modify(context.Background(), d.RefOf("CN=alice,OU=People,OU=ALM,"+baseDN), map[string]string{"title": "Hacker"}); err != nil {
		t.Fatal(err)
	}
	// Merged but not applied yet: carol and erin.
	baseFiles := edit(edit(applied, "people/carol.yaml", "", person("carol", "p-03", "Tester")), "people/erin.yaml", "", person("erin", "p-05", "Writer"))
	base = repository(t, baseFiles)
	// The pull request: dave joins, alice gets another title, erin's file goes.
	headFiles := edit(edit(baseFiles, "people/dave.yaml", "", person("dave", "p-04", "Designer")), "people/alice.yaml", "title: Engineer", "title: Lead Engineer")
	delete(headFiles, "people/erin.yaml")
	head := repository(t, headFiles)

	p, err := Compute(context.Background(), &recorder{dir: d}, base, head, Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	ids := func(cs []plan.Change) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.ID)
		}
		slices.Sort(out)
		return out
	}
	if got, want := ids(p.Changes.New), []string{"add-member:p-04:staff", "create:p-04", "enable:p-04"}; !slices.Equal(got, want) {
		t.Errorf("new: %v, want %v", got, want)
	}
	if len(p.Changes.Changed) != 1 || p.Changes.Changed[0].Head.Account != "alice" {
		t.Fatalf("changed: %+v, want alice's update", p.Changes.Changed)
	}
	c := p.Changes.Changed[0]
	if a, _ := c.Base.Attribute("title"); a.New != "Engineer" {
		t.Errorf("base's update of alice sets title %q, want Engineer", a.New)
	}
	if a, _ := c.Head.Attribute("title"); a.Old != "Hacker" || a.New != "Lead Engineer" {
		t.Errorf("head's update of alice: %+v, want Hacker -> Lead Engineer", a)
	}
	if got, want := ids(p.Changes.Dropped), []string{"add-member:p-05:staff", "create:p-05", "enable:p-05"}; !slices.Equal(got, want) {
		t.Errorf("no longer planned: %v, want %v", got, want)
	}
	data, _ := json.Marshal(p)
	for _, pending := range []string{"carol", "orphan1"} {
		if strings.Contains(string(data), pending) {
			t.Errorf("the preview shows %s, which the pull request does not touch:\n%s", pending, data)
		}
	}
}

// TestMakeDialsTheBaseNeverTheHead: --directory, else the base's spec.url;
// the head's url is never dialled, and nothing is dialled without a URL or
// when a revision cannot be planned.
func TestMakeDialsTheBaseNeverTheHead(t *testing.T) {
	baseFiles := files()
	head := repository(t, edit(baseFiles, "alm.yaml", "url: ldaps://base.example.test", "url: ldaps://head.example.test"))
	noURL := edit(baseFiles, "alm.yaml", "  url: ldaps://base.example.test\n", "")
	tests := []struct {
		name    string
		base    map[string]string
		flag    string
		dialled []string
		err     error
	}{
		{name: "the base's url", base: baseFiles, dialled: []string{"ldaps://base.example.test"}},
		{name: "--directory first", base: baseFiles, flag: "ldaps://flag.example.test", dialled: []string{"ldaps://flag.example.test"}},
		{name: "no url at the base", base: noURL, err: ErrNoDirectory},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := repository(t, tt.base)
			var dialled []string
			dial := func(_ context.Context, url, _ string) (Directory, error) {
				dialled = append(dialled, url)
				return &recorder{dir: world(t, base)}, nil
			}
			_, err := Make(context.Background(), dial, base, head, Options{URL: tt.flag, Now: now})
			if !errors.Is(err, tt.err) {
				t.Errorf("error %v, want %v", err, tt.err)
			}
			if !slices.Equal(dialled, tt.dialled) {
				t.Errorf("dialled %v, want %v", dialled, tt.dialled)
			}
		})
	}
}

func TestBetween(t *testing.T) {
	type thing struct{ key, value string }
	key := func(x thing) string { return x.key }
	same := func(a, b thing) bool { return a.value == b.value }
	tests := []struct {
		name       string
		base, head []thing
		want       Delta[thing]
	}{
		{name: "same", base: []thing{{"a", "1"}}, head: []thing{{"a", "1"}}},
		{name: "new", base: []thing{{"a", "1"}}, head: []thing{{"a", "1"}, {"b", "2"}}, want: Delta[thing]{New: []thing{{"b", "2"}}}},
		{name: "changed", base: []thing{{"a", "1"}}, head: []thing{{"a", "2"}},
			want: Delta[thing]{Changed: []Pair[thing]{{Base: thing{"a", "1"}, Head: thing{"a", "2"}}}}},
		{name: "dropped", base: []thing{{"a", "1"}, {"b", "2"}}, head: []thing{{"b", "2"}}, want: Delta[thing]{Dropped: []thing{{"a", "1"}}}},
		{name: "repeated keys match in turn", base: []thing{{"a", "1"}}, head: []thing{{"a", "1"}, {"a", "1"}},
			want: Delta[thing]{New: []thing{{"a", "1"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Between(tt.base, tt.head, key, same)
			if got.Len() != tt.want.Len() || !reflect.DeepEqual(got.New, orEmpty(tt.want.New)) ||
				!reflect.DeepEqual(got.Changed, orEmpty(tt.want.Changed)) || !reflect.DeepEqual(got.Dropped, orEmpty(tt.want.Dropped)) {
				t.Errorf("Between = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// TestSameChangeIgnoresWhy: a change made for another reason, or from
// another line of its file, does the same thing.
func TestSameChangeIgnoresWhy(t *testing.T) {
	a := plan.Change{ID: "update/p-01", Action: plan.Update, Account: "alice", DN: "CN=alice",
		Attributes: []plan.AttrChange{{Name: "title", Old: "A", New: "B", Field: "spec.title"}},
		Reason:     desired.Reason{File: "people/alice.yaml", Line: 9, Text: "the file says so"}}
	moved := a
	moved.Reason.Line = 12
	moved.Attributes = []plan.AttrChange{{Name: "title", Old: "A", New: "B", Field: "spec.title"}}
	other := a
	other.Attributes = []plan.AttrChange{{Name: "title", Old: "A", New: "C"}}
	if !sameChange(a, moved) {
		t.Error("a change whose reason moved a line is not the same")
	}
	if sameChange(a, other) {
		t.Error("a change to another value is the same")
	}
}

// TestNoPasswordInThePreview: --directory with a password in it (alm.yaml
// cannot hold one: the loader refuses it), refused by the directory or
// not, never brings the password into what the comment shows.
func TestNoPasswordInThePreview(t *testing.T) {
	base := repository(t, files())
	for _, refuse := range []bool{false, true} {
		dial := func(context.Context, string, string) (Directory, error) {
			if refuse {
				return nil, errors.New("refused")
			}
			return &recorder{dir: world(t, base)}, nil
		}
		p, err := Make(context.Background(), dial, base, base, Options{URL: "ldaps://alm:flag-secret@dc.example.test", Now: now})
		shown := fmt.Sprint(err)
		if p != nil {
			data, _ := json.Marshal(p)
			shown += string(data)
		}
		if strings.Contains(shown, "secret") || refuse != (err != nil) || !strings.Contains(shown, "dc.example.test") {
			t.Errorf("refused %t: %s", refuse, shown)
		}
	}
}
