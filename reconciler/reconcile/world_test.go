package reconcile_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
	"go.yaml.in/yaml/v3"

	"github.com/alm-project/alm/connectors/ad"
	"github.com/alm-project/alm/connectors/ad/adtest"
	"github.com/alm-project/alm/reconciler/directory"
	"github.com/alm-project/alm/reconciler/history/historytest"
	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/plan"
	"github.com/alm-project/alm/reconciler/plan/render"
	"github.com/alm-project/alm/reconciler/reconcile"
)

// world is one test's access repository - a real Git repository, committed
// with go-git - and its own OU of the shared Samba domain, reconciled
// through reconcile.Plan and reconcile.Apply as the CLI does.
type world struct {
	t    *testing.T
	env  *adtest.Env
	conn *ldap.Conn    // checks and hand edits, behind alm's back
	dir  *ad.Directory // what alm reads and writes through
	ou   string        // the test's OU, a full DN
	rel  string        // the same, relative to the base DN, as alm.yaml writes OUs
	repo *historytest.Repo
	src  reconcile.Source
	log  *slog.Logger

	alm      *model.Directory
	groupsOU string            // full DN of the OU the role groups live in
	groupDN  map[string]string // group name -> DN, for the groups created
}

// Templates every world has: people's by type, and service accounts' by
// what retirement does.
const (
	tplEmployee   = "employee"
	tplContractor = "contractor"
	tplSADelete   = "service-account"
	tplSAMove     = "service-account-kept"
)

// newWorld gives a test its OU (with a Groups OU beneath, where roles' groups
// are created), a dialled connector, and a repository holding alm.yaml and
// the templates, staged but not committed.
func newWorld(t *testing.T) *world {
	t.Helper()
	env := adtest.New(t)
	w := &world{t: t, env: env, groupDN: map[string]string{}}
	w.log = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	w.conn = env.Conn(t)
	w.ou = env.OU(t)
	suffix := "," + env.BaseDN
	if !strings.HasSuffix(strings.ToLower(w.ou), strings.ToLower(suffix)) {
		t.Fatalf("test OU %s is not below the base DN %s", w.ou, env.BaseDN)
	}
	w.rel = w.ou[:len(w.ou)-len(suffix)]
	w.groupsOU = "OU=Groups," + w.ou
	w.addOU(w.groupsOU)

	d, err := ad.Dial(context.Background(), ad.Config{URL: env.URL, CAFile: env.CAFile, ServerName: env.ServerName,
		BindDN: env.BindDN, Password: env.Password}, w.log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	w.dir = d

	w.repo = historytest.New(t)
	w.src = reconcile.Source{Path: w.repo.Path, Rev: "HEAD"}
	w.alm = &model.Directory{Metadata: model.Metadata{Name: "test"}, Spec: model.DirectorySpec{
		Domain:    env.Domain,
		BaseDN:    env.BaseDN,
		GroupsOU:  "OU=Groups," + w.rel,
		LeaversOU: "OU=Leavers," + w.rel,
		RetiredOU: "OU=Retired," + w.rel,
	}}
	w.putDirectory()
	leaver := &model.Leaver{GroupGrace: model.MustDuration("14d"), Retention: model.MustDuration("90d"), Archive: model.ArchiveDelete}
	w.putTemplate(&model.WorkflowTemplate{Metadata: model.Metadata{Name: tplEmployee}, Spec: model.TemplateSpec{
		AppliesTo: model.KindPerson, PersonTypes: []string{model.TypeEmployee}, Naming: `^[a-z][a-z0-9]{1,19}$`,
		OU: "OU=People," + w.rel, ProvisionAhead: model.MustDuration("7d"), Leaver: leaver}})
	w.putTemplate(&model.WorkflowTemplate{Metadata: model.Metadata{Name: tplContractor}, Spec: model.TemplateSpec{
		AppliesTo: model.KindPerson, PersonTypes: []string{model.TypeContractor, model.TypePartner}, Naming: `^[a-z][a-z0-9]{1,19}$`,
		OU: "OU=Contractors," + w.rel, ProvisionAhead: model.MustDuration("2d"), Leaver: leaver}})
	for name, retire := range map[string]string{tplSADelete: model.RetireDelete, tplSAMove: model.RetireMove} {
		w.putTemplate(&model.WorkflowTemplate{Metadata: model.Metadata{Name: name}, Spec: model.TemplateSpec{
			AppliesTo: model.KindServiceAccount, Naming: `^svc-[a-z0-9-]{2,16}$`, OU: "OU=Service Accounts," + w.rel,
			Lifetime:     &model.Lifetime{Default: model.MustDuration("180d"), Max: model.MustDuration("365d")},
			EndOfLife:    &model.EndOfLife{Action: model.ActionDisable, RetireAfter: model.MustDuration("30d"), Retire: retire},
			AccountFlags: []string{"DONT_EXPIRE_PASSWORD"}}})
	}
	return w
}

// at is 09:00 UTC on a day, when the reconciler runs.
func at(day string) time.Time {
	d, err := time.Parse(time.DateOnly, day)
	if err != nil {
		panic(err)
	}
	return d.Add(9 * time.Hour)
}

func date(day string) model.Date { return model.MustDate(day) }

// doc is a file of the access repository: the model's types carry the
// YAML form of spec and metadata; apiVersion and kind are added here.
type doc struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   any    `yaml:"metadata"`
	Spec       any    `yaml:"spec"`
}

func (w *world) put(path, kind string, meta any, spec any) {
	w.t.Helper()
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc{APIVersion: model.APIVersion, Kind: kind, Metadata: meta, Spec: spec}); err != nil {
		w.t.Fatalf("encode %s: %v", path, err)
	}
	w.repo.Write(path, b.String())
}

func (w *world) putDirectory() {
	w.put(model.DirectoryFile, model.KindDirectory, w.alm.Metadata, w.alm.Spec)
}

func (w *world) putTemplate(t *model.WorkflowTemplate) {
	w.put("templates/"+t.Metadata.Name+".yaml", model.KindWorkflowTemplate, t.Metadata, t.Spec)
}

func (w *world) putPerson(p *model.Person) {
	w.put("people/"+p.Metadata.Name+".yaml", model.KindPerson, p.Metadata, p.Spec)
}

func (w *world) putService(a *model.ServiceAccount) {
	w.put("service-accounts/"+a.Metadata.Name+".yaml", model.KindServiceAccount, a.Metadata, a.Spec)
}

func (w *world) remove(path string) { w.repo.Remove(path) }

func (w *world) commit(message string) string {
	return w.repo.Commit(message, historytest.Person{Name: "Test Author", Email: "author@example.test"})
}

// role writes roles/<name>.yaml naming one group, and creates the group
// in the directory (by hand: no marker) unless missing; a missing one is
// named by DN, which alm never creates, and returned as that DN. Group
// names are unique domain-wide, as sAMAccountName is.
func (w *world) role(name string, birthright *model.Birthright, missing bool) (group string) {
	w.t.Helper()
	group = adtest.Unique(name[:min(len(name), 6)] + "-")
	if missing {
		// Named by DN: alm never creates such a group, so it stays missing.
		group = "CN=" + ldap.EscapeDN(group) + "," + w.groupsOU
	} else {
		dn := "CN=" + ldap.EscapeDN(group) + "," + w.groupsOU
		req := ldap.NewAddRequest(dn, nil)
		req.Attribute("objectClass", []string{"top", "group"})
		req.Attribute(directory.AttrSAMAccountName, []string{group})
		if err := w.conn.Add(req); err != nil {
			w.t.Fatalf("add group %s: %v", dn, err)
		}
		w.groupDN[group] = dn
	}
	w.put("roles/"+name+".yaml", model.KindRole, model.Metadata{Name: name},
		model.RoleSpec{Groups: []string{group}, Birthright: birthright})
	return group
}

// employee returns a new employee with a login and id no other test uses;
// the caller adjusts it and writes it with putPerson.
func employee(prefix string) *model.Person {
	return &model.Person{
		Metadata: model.AccountMetadata{Name: adtest.Unique(prefix), ID: adtest.Unique("e")},
		Spec: model.PersonSpec{GivenName: "Test", Surname: strings.ToUpper(prefix), Type: model.TypeEmployee,
			Department: "Engineering", Title: "Engineer", StartDate: date("2026-01-05")},
	}
}

// service returns a new service account of a template, owned by owner.
func service(template, owner string) *model.ServiceAccount {
	return &model.ServiceAccount{
		Metadata: model.AccountMetadata{Name: adtest.Unique("svc-"), ID: adtest.Unique("sa-")},
		Spec: model.ServiceAccountSpec{Template: template, Description: "Test service", Owner: owner,
			Created: date("2026-06-01"), Expires: date("2026-12-01")},
	}
}

func (w *world) ouDN(name string) string { return "OU=" + name + "," + w.ou }

// accountDN is where alm puts a login in one of the test's OUs.
func (w *world) accountDN(login, ou string) string { return "CN=" + login + "," + w.ouDN(ou) }

func (w *world) options(now time.Time) reconcile.Options {
	return reconcile.Options{Now: now, Logger: w.log}
}

// plan plans the committed HEAD at now.
func (w *world) plan(now time.Time) *reconcile.Planned {
	w.t.Helper()
	pl, err := reconcile.Plan(context.Background(), w.dir, w.src, w.options(now))
	if err != nil {
		w.t.Fatalf("plan at %s: %v", now.Format(time.RFC3339), err)
	}
	return pl
}

func (w *world) apply(pl *reconcile.Planned, opts reconcile.Options) (*reconcile.Applied, error) {
	return reconcile.Apply(context.Background(), w.dir, pl, w.src, reconcile.ApplyOptions{
		Options: opts, Retries: 2, Backoff: 10 * time.Millisecond, DirectoryURL: w.env.URL})
}

// reconcile plans and applies at now, failing the test unless every change
// applied; it returns the plan applied.
func (w *world) reconcile(now time.Time) *reconcile.Planned {
	w.t.Helper()
	pl := w.plan(now)
	if pl.Refused != nil {
		w.t.Fatalf("plan at %s refused: %v", now.Format(time.RFC3339), pl.Refused)
	}
	res, err := w.apply(pl, w.options(now))
	if err != nil {
		w.t.Fatalf("apply at %s: %v", now.Format(time.RFC3339), err)
	}
	if !res.Result.OK() {
		w.t.Fatalf("apply at %s did not apply everything:\n%s", now.Format(time.RFC3339), failures(res))
	}
	// Every apply is checked to converge: the same files at the same time
	// leave nothing more to do.
	if again := w.plan(now); !again.Plan.Empty() {
		w.t.Errorf("a plan right after the apply at %s has changes:\n%s", now.Format(time.RFC3339), text(w.t, again.Plan))
	}
	return pl
}

func failures(res *reconcile.Applied) string {
	if res == nil {
		return "  (no result)"
	}
	var out []string
	for _, cr := range res.Result.Changes {
		if cr.Outcome != "applied" {
			out = append(out, fmt.Sprintf("  %s %s: %s", cr.Outcome, cr.Change.ID, cr.Error))
		}
	}
	return strings.Join(out, "\n")
}

// text renders a plan as alm plan prints it.
func text(t *testing.T, p *plan.Plan) string {
	t.Helper()
	var b strings.Builder
	if err := render.Text(&b, p); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// actions lists a plan's changes of one account as "action" or
// "action group", sorted, so a test can say exactly what it expects.
func actions(p *plan.Plan, login string) []string {
	var out []string
	for _, c := range p.Changes {
		if c.Account != login {
			continue
		}
		s := string(c.Action)
		if c.GroupName != "" {
			s += " " + c.GroupName
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// find returns the change of an action on an account, or nil.
func find(p *plan.Plan, action plan.Action, login string) *plan.Change {
	for i, c := range p.Changes {
		if c.Action == action && c.Account == login {
			return &p.Changes[i]
		}
	}
	return nil
}

// noDrift fails when a plan marks any change drift: the changes it was
// called on all come from edits of the files or from the calendar.
func noDrift(t *testing.T, pl *reconcile.Planned) {
	t.Helper()
	if !pl.Plan.DriftKnown {
		return
	}
	for _, c := range pl.Plan.Changes {
		if c.Drift {
			t.Errorf("change %s is marked drift, but the files or the date asked for it: %s", c.ID, c.Reason.Text)
		}
	}
}

// object is a user object as the directory holds it, read with go-ldap
// directly rather than through the connector under test.
type object struct {
	DN       string
	GUID     []byte
	UAC      int
	USN      string // uSNChanged: moves whenever the object is written
	MemberOf []string
	Attrs    map[string]string
}

func (o *object) enabled() bool { return o.UAC&directory.UACAccountDisable == 0 }

// groups returns the names (CNs) of the groups the object is a member of.
func (o *object) groups() []string {
	var out []string
	for _, dn := range o.MemberOf {
		parsed, err := ldap.ParseDN(dn)
		if err != nil || len(parsed.RDNs) == 0 {
			out = append(out, dn)
			continue
		}
		out = append(out, parsed.RDNs[0].Attributes[0].Value)
	}
	slices.Sort(out)
	return out
}

var objectAttrs = append([]string{"objectGUID", directory.AttrSAMAccountName, directory.AttrUserAccountControl,
	"memberOf", "uSNChanged", model.DefaultMarkerAttribute}, directory.ManagedAttributes...)

// lookup finds a user by login below the test's OU; nil when there is none.
func (w *world) lookup(login string) *object {
	w.t.Helper()
	return w.search(fmt.Sprintf("(&(objectClass=user)(sAMAccountName=%s))", ldap.EscapeFilter(login)))
}

// byGUID finds an object by objectGUID below the test's OU, wherever it was
// moved or renamed to; nil once it is deleted.
func (w *world) byGUID(guid []byte) *object {
	w.t.Helper()
	var f strings.Builder
	f.WriteString("(objectGUID=")
	for _, b := range guid {
		fmt.Fprintf(&f, `\%02x`, b)
	}
	f.WriteString(")")
	return w.search(f.String())
}

func (w *world) search(filter string) *object {
	w.t.Helper()
	res, err := w.conn.Search(ldap.NewSearchRequest(w.ou, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		filter, objectAttrs, nil))
	if err != nil {
		w.t.Fatalf("search %s for %s: %v", w.ou, filter, err)
	}
	switch len(res.Entries) {
	case 0:
		return nil
	case 1:
	default:
		w.t.Fatalf("search %s for %s: %d entries, want one", w.ou, filter, len(res.Entries))
	}
	e := res.Entries[0]
	uac, err := strconv.Atoi(e.GetAttributeValue(directory.AttrUserAccountControl))
	if err != nil {
		w.t.Fatalf("%s: userAccountControl %q", e.DN, e.GetAttributeValue(directory.AttrUserAccountControl))
	}
	o := &object{DN: e.DN, GUID: e.GetRawAttributeValue("objectGUID"), UAC: uac, USN: e.GetAttributeValue("uSNChanged"),
		MemberOf: e.GetAttributeValues("memberOf"), Attrs: map[string]string{}}
	for _, a := range e.Attributes {
		if len(a.Values) == 1 {
			o.Attrs[a.Name] = a.Values[0]
		}
	}
	return o
}

// mustLookup is lookup for an account that must be there.
func (w *world) mustLookup(login string) *object {
	w.t.Helper()
	o := w.lookup(login)
	if o == nil {
		w.t.Fatalf("%s is not in the directory below %s", login, w.ou)
	}
	return o
}

// usns maps every object below the test's OU to its uSNChanged: equal maps
// mean nothing there was written in between, whatever other tests do to
// the rest of the domain.
func (w *world) usns() map[string]string {
	w.t.Helper()
	res, err := w.conn.Search(ldap.NewSearchRequest(w.ou, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{"uSNChanged"}, nil))
	if err != nil {
		w.t.Fatalf("search %s: %v", w.ou, err)
	}
	out := map[string]string{}
	for _, e := range res.Entries {
		out[strings.ToLower(e.DN)] = e.GetAttributeValue("uSNChanged")
	}
	return out
}

func (w *world) addOU(dn string) {
	w.t.Helper()
	parsed, err := ldap.ParseDN(dn)
	if err != nil {
		w.t.Fatal(err)
	}
	req := ldap.NewAddRequest(dn, nil)
	req.Attribute("objectClass", []string{"top", "organizationalUnit"})
	req.Attribute("ou", []string{parsed.RDNs[0].Attributes[0].Value})
	if err := w.conn.Add(req); err != nil {
		w.t.Fatalf("add OU %s: %v", dn, err)
	}
}

// addUser creates a user by hand, as an administrator would: alm did not make it.
func (w *world) addUser(dn, login string, attrs map[string]string) {
	w.t.Helper()
	req := ldap.NewAddRequest(dn, nil)
	req.Attribute("objectClass", []string{"top", "person", "organizationalPerson", "user"})
	req.Attribute(directory.AttrSAMAccountName, []string{login})
	for _, name := range slices.Sorted(maps.Keys(attrs)) {
		req.Attribute(name, []string{attrs[name]})
	}
	if err := w.conn.Add(req); err != nil {
		w.t.Fatalf("add user %s: %v", dn, err)
	}
}

// modify changes an object by hand, behind alm's back.
func (w *world) modify(dn string, edit func(*ldap.ModifyRequest)) {
	w.t.Helper()
	req := ldap.NewModifyRequest(dn, nil)
	edit(req)
	if err := w.conn.Modify(req); err != nil {
		w.t.Fatalf("modify %s by hand: %v", dn, err)
	}
}

// step is one run of the reconciler in an account's life: an optional edit
// of the files (committed before the run), the time of the run, the
// changes the plan must make to the account, and what the directory must
// hold afterwards (o is nil when the account is not there).
type step struct {
	name  string
	edit  func()
	now   time.Time
	want  []string // as actions lists them
	check func(t *testing.T, o *object)
}

// run runs a subtest with the world's helpers failing that subtest.
func (w *world) run(name string, f func(t *testing.T)) bool {
	parent := w.t
	return parent.Run(name, func(t *testing.T) {
		w.t = t
		defer func() { w.t = parent }()
		f(t)
	})
}

// steps reconciles step after step, following the account by objectGUID
// once it exists, and stops at the first step that fails.
func (w *world) steps(login func() string, steps []step) {
	var guid []byte
	for _, s := range steps {
		ok := w.run(s.name, func(t *testing.T) {
			if s.edit != nil {
				s.edit()
				w.commit(s.name)
			}
			pl := w.reconcile(s.now)
			if got := actions(pl.Plan, login()); !slices.Equal(got, s.want) {
				t.Errorf("changes to %s: %q, want %q\n%s", login(), got, s.want, text(t, pl.Plan))
			}
			noDrift(t, pl)
			var o *object
			if guid == nil {
				o = w.lookup(login())
			} else {
				o = w.byGUID(guid)
			}
			if o != nil && guid == nil {
				guid = o.GUID
			}
			s.check(t, o)
		})
		if !ok {
			return
		}
	}
}

func wantGroups(t *testing.T, o *object, want ...string) {
	t.Helper()
	want = slices.Sorted(slices.Values(want))
	if got := o.groups(); !slices.Equal(got, want) {
		t.Errorf("%s is a member of %q, want %q", o.DN, got, want)
	}
}

func wantDN(t *testing.T, o *object, dn string) {
	t.Helper()
	if !strings.EqualFold(o.DN, dn) {
		t.Errorf("DN %s, want %s", o.DN, dn)
	}
}

func wantEnabled(t *testing.T, o *object, enabled bool) {
	t.Helper()
	if o.enabled() != enabled {
		t.Errorf("%s: userAccountControl %d: enabled %v, want %v", o.DN, o.UAC, o.enabled(), enabled)
	}
}

func wantAttr(t *testing.T, o *object, name, value string) {
	t.Helper()
	if got := o.Attrs[name]; got != value {
		t.Errorf("%s: %s = %q, want %q", o.DN, name, got, value)
	}
}

func wantPresent(t *testing.T, o *object) {
	t.Helper()
	if o == nil {
		t.Fatal("the account is not in the directory")
	}
}
