// Package adopt writes the access repository's files for the accounts and
// groups a live domain already has (alm import): one file per account,
// marked for adoption, roles inferred from the accounts' groups, and a
// report of what a person must fill in. It reads the directory through a
// small Reader, and the repository's files from disk; it validates what it
// wrote with the loader alm validate uses.
package adopt

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing/fstest"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/alm-project/alm/reconciler/desired"
	"github.com/alm-project/alm/reconciler/directory"
	"github.com/alm-project/alm/reconciler/load"
	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/plan"
)

// Reader reads the accounts and groups of a scope: connectors/ad and
// connectors/memory both do.
type Reader interface {
	Read(ctx context.Context, scope directory.Scope) (*directory.Snapshot, error)
}

// Options say what to import and where to write it.
type Options struct {
	Repo string   // the access repository's working tree: alm.yaml and templates
	Out  string   // where files are written; Repo when empty
	OUs  []string // the OUs to read accounts below, full DNs
	// Templates choose a template by OU (full DN, or relative to baseDN),
	// over the template whose spec.ou is the account's OU.
	Templates  map[string]string
	PersonType string     // spec.type of new people; employee when empty
	StartDate  model.Date // startDate of new people; today in alm.yaml's zone when zero
	Owner      string     // the owner of a service account whose manager names no person
	Now        time.Time
	DryRun     bool // compute and report, write nothing
	Logger     *slog.Logger
}

// Run reads the accounts below o.OUs and writes (or, dry, only reports)
// their files. Problems of the files are in the report, not the error: the
// error is for what kept the import from running at all.
func Run(ctx context.Context, r Reader, o Options) (*Report, error) {
	if o.Out == "" {
		o.Out = o.Repo
	}
	if o.PersonType == "" {
		o.PersonType = model.TypeEmployee
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if len(o.OUs) == 0 {
		return nil, errors.New("no OU to read: pass --ou with the DN of an OU holding accounts")
	}
	files, err := readTree(o.Repo)
	if err != nil {
		return nil, err
	}
	if o.Out != o.Repo {
		out, err := readTree(o.Out)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		maps.Copy(files, out)
	}
	repo, _, err := load.FS(mapFS(files), "")
	if err != nil {
		return nil, err
	}
	if repo.Directory == nil {
		return nil, fmt.Errorf("%s: no %s: import writes into an access repository that has one and its templates (alm init makes one)", o.Repo, model.DirectoryFile)
	}
	im := &importer{o: o, files: files, repo: repo, zone: repo.Zone(), report: &Report{DryRun: o.DryRun}}
	im.today = dayOf(o.Now, im.zone)
	if o.StartDate.IsZero() {
		im.o.StartDate = im.today
	}
	if err := im.read(ctx, r); err != nil {
		return nil, err
	}
	im.classify()
	im.link()
	im.roles()
	im.build()
	im.pin()
	im.finish(ctx, r)
	if err := im.write(); err != nil {
		return im.report, err
	}
	return im.report, nil
}

// importer carries one run.
type importer struct {
	o        Options
	files    map[string][]byte // the repository's files alm reads, by slash path
	repo     *model.Repository
	zone     *time.Location
	today    model.Date
	base     string // baseDN
	gbase    string // the groups OU, full
	snap     *directory.Snapshot
	priv     map[string]string // lower DN -> why privileged
	byDN     map[string]*directory.Account
	groups   map[string]*directory.Group // lower DN
	drafts   []*draft
	newRoles []*newRole
	report   *Report
	out      map[string][]byte // final content of every file import writes or keeps, by path
}

// draft is one account on its way to a file.
type draft struct {
	live              *directory.Account
	kind              string
	template          *model.WorkflowTemplate
	id                string
	path              string   // people/<login>.yaml
	existing          []byte   // the file as it is, nil for a new one
	held              []string // group keys (lower DN) of the account's groups
	roles             []string // roles inferred
	manager           string   // login of the person its manager attribute names
	doc               *doc
	cnPin, displayPin string
}

func (im *importer) read(ctx context.Context, r Reader) error {
	spec := im.repo.Directory.Spec
	im.base = directory.Clean(spec.BaseDN)
	marker := spec.MarkerAttribute
	if marker == "" {
		marker = model.DefaultMarkerAttribute
	}
	if spec.GroupsOU != "" {
		im.gbase = directory.Join(spec.GroupsOU, im.base)
	}
	scope := directory.Scope{BaseDN: im.base, OUs: im.o.OUs, GroupBase: im.gbase, MarkerAttribute: marker}
	snap, err := r.Read(ctx, scope)
	if err != nil {
		return fmt.Errorf("read %s: %w", strings.Join(im.o.OUs, "; "), err)
	}
	for _, ou := range im.o.OUs {
		if !slices.ContainsFunc(snap.OUs, func(s string) bool { return directory.SameDN(s, ou) }) {
			return fmt.Errorf("--ou %s: no such OU in the directory: name an OU that holds the accounts", ou)
		}
	}
	im.snap = snap
	im.priv = snap.Privileged()
	im.byDN = map[string]*directory.Account{}
	for i := range snap.Accounts {
		im.byDN[strings.ToLower(snap.Accounts[i].DN)] = &snap.Accounts[i]
	}
	im.groups = map[string]*directory.Group{}
	for i := range snap.Groups {
		im.groups[strings.ToLower(snap.Groups[i].DN)] = &snap.Groups[i]
	}
	o := im.o.Logger
	o.Info("read the directory", "accounts", len(snap.Accounts), "groups", len(snap.Groups))
	return nil
}

// classify chooses, for every account read, whether it is imported, and
// with which template, id and file.
func (im *importer) classify() {
	protected := append(slices.Clone(model.AlwaysProtected), im.repo.Directory.Spec.Protected...)
	ids, logins := im.existingAccounts()
	taken := map[string]string{} // ids this run gives, -> login
	for i := range im.snap.Accounts {
		a := &im.snap.Accounts[i]
		if _, ok := directory.IDFromMarker(a.Marker); ok {
			im.report.Managed = append(im.report.Managed, Skip{Account: a.Name, DN: a.DN, Why: "carries alm's marker " + a.Marker + ": managed already"})
			continue
		}
		if why := a.Builtin(); why != "" {
			im.report.Protected = append(im.report.Protected, Skip{Account: a.Name, DN: a.DN, Why: why})
			continue
		}
		if desired.IsProtected(protected, a.Name, a.DN) {
			im.report.Protected = append(im.report.Protected, Skip{Account: a.Name, DN: a.DN, Why: "protected by name (alm.yaml spec.protected or a built-in account's name)"})
			continue
		}
		t, why := im.templateFor(a)
		if t == nil {
			im.report.NotImported = append(im.report.NotImported, Skip{Account: a.Name, DN: a.DN, Why: why})
			continue
		}
		d := &draft{live: a, kind: t.Spec.AppliesTo, template: t}
		d.id = im.idFor(d)
		if p, ok := ids[d.id]; ok {
			d.path = p
		} else if p, ok := logins[strings.ToLower(a.Name)]; ok {
			d.path = p
		}
		if d.path != "" {
			if !strings.HasPrefix(d.path, model.Folders[d.kind]+"/") {
				im.report.NotImported = append(im.report.NotImported, Skip{Account: a.Name, DN: a.DN,
					Why: fmt.Sprintf("%s claims it, but template %s makes it a %s: move the account, or pass --template with a template for its OU", d.path, t.Metadata.Name, d.kind)})
				continue
			}
			d.existing = im.files[d.path]
			if doc, ok := parseDoc(d.existing); ok {
				if id := doc.get("metadata.id"); id != "" {
					d.id = id // an id is never changed
				}
			}
		} else {
			d.path = model.Folders[d.kind] + "/" + a.Name + ".yaml"
			if other, ok := taken[d.id]; ok {
				im.todo(d, "metadata.id", "the directory gives %s the id %s of %s too: the id is derived from its objectGUID instead; check employeeID", a.Name, d.id, other)
				d.id = guidID(a.GUID, d.kind)
			}
		}
		taken[d.id] = a.Name
		im.drafts = append(im.drafts, d)
	}
}

// existingAccounts indexes the repository's account files by id and login.
func (im *importer) existingAccounts() (ids, logins map[string]string) {
	ids, logins = map[string]string{}, map[string]string{}
	add := func(src model.Source, id, name string) {
		if id != "" {
			ids[id] = src.Path
		}
		logins[strings.ToLower(name)] = src.Path
	}
	for _, p := range im.repo.People {
		add(p.Source, p.Metadata.ID, p.Metadata.Name)
	}
	for _, a := range im.repo.ServiceAccounts {
		add(a.Source, a.Metadata.ID, a.Metadata.Name)
	}
	return ids, logins
}

// templateFor is the template --template names for the account's OU, or
// the one whose spec.ou is its OU.
func (im *importer) templateFor(a *directory.Account) (*model.WorkflowTemplate, string) {
	parent := directory.Parent(a.DN)
	for ou, name := range im.o.Templates {
		if directory.SameDN(directory.Join(ou, im.base), parent) {
			t := im.repo.Templates[name]
			switch {
			case t == nil:
				return nil, fmt.Sprintf("--template %s=%s: no template %s in templates/", ou, name, name)
			case !directory.SameDN(directory.Join(t.Spec.OU, im.base), parent):
				// alm reads only the templates' OUs: an account adopted
				// elsewhere would be lost to the next plan, which would try
				// to create it again.
				return nil, fmt.Sprintf("--template %s=%s: template %s places its accounts in %s, not here: move the accounts there first, or give the template this OU", ou, name, name, directory.Join(t.Spec.OU, im.base))
			}
			return t, ""
		}
	}
	var found []*model.WorkflowTemplate
	for _, name := range slices.Sorted(maps.Keys(im.repo.Templates)) {
		t := im.repo.Templates[name]
		if strings.TrimSpace(t.Spec.OU) != "" && directory.SameDN(directory.Join(t.Spec.OU, im.base), parent) {
			found = append(found, t)
		}
	}
	if len(found) == 0 {
		return nil, fmt.Sprintf("no template places accounts in %s: add a template with ou: %s, or pass --template '%s=NAME'", parent, directory.Relative(parent, im.base), parent)
	}
	// Person templates may share an OU: the one for --person-type first.
	for _, t := range found {
		if slices.Contains(t.Spec.PersonTypes, im.o.PersonType) {
			return t, ""
		}
	}
	return found[0], ""
}

// idFor is a person's employeeID when it fits the schema, else an id
// derived from the objectGUID; for a service account, always the latter.
func (im *importer) idFor(d *draft) string {
	if d.kind == model.KindPerson {
		if e := d.live.Attributes[directory.AttrEmployeeID]; validPersonID(e) {
			return e
		}
	}
	return guidID(d.live.GUID, d.kind)
}

func validPersonID(s string) bool {
	if s == "" || len(s) > 16 {
		return false
	}
	for i, r := range s {
		alnum := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
		if !alnum && (i == 0 || (r != '.' && r != '_' && r != '-')) {
			return false
		}
	}
	return true
}

// guidID derives a stable id from an objectGUID: "g" and 15 hex digits for
// a person (the schema allows 16 characters; 60 bits of a random GUID do
// not collide in any one domain), "sa-" and all 32 for a service account.
func guidID(guid, kind string) string {
	hex := strings.ToLower(strings.ReplaceAll(guid, "-", ""))
	if kind == model.KindServiceAccount {
		return "sa-" + hex
	}
	if len(hex) > 15 {
		hex = hex[:15]
	}
	return "g" + hex
}

// link maps each account's manager DN to the login of a person.
func (im *importer) link() {
	people := map[string]bool{}
	for name := range im.repo.People {
		people[strings.ToLower(name)] = true
	}
	for _, d := range im.drafts {
		if d.kind == model.KindPerson {
			people[strings.ToLower(d.live.Name)] = true
		}
	}
	for _, d := range im.drafts {
		m := d.live.Attributes[directory.AttrManager]
		if m == "" {
			continue
		}
		field := "spec.manager"
		if d.kind == model.KindServiceAccount {
			field = "spec.owner"
		}
		ma := im.byDN[strings.ToLower(m)]
		if ma == nil {
			for _, a := range im.byDN {
				if directory.SameDN(a.DN, m) {
					ma = a
				}
			}
		}
		switch {
		case ma == nil:
			im.todo(d, field, "its manager %s is outside the OUs read: write that person's login", m)
		case !people[strings.ToLower(ma.Name)]:
			im.todo(d, field, "its manager %s (%s) is not a person alm knows: write a person's login", ma.Name, m)
		default:
			d.manager = ma.Name
		}
	}
}

func (im *importer) todo(d *draft, field, format string, args ...any) {
	im.report.Todo = append(im.report.Todo, Todo{File: d.path, Account: d.live.Name, Field: field, Text: fmt.Sprintf(format, args...)})
}

// build makes every account's file: a new document, or the existing one
// with the directory's fields refreshed.
func (im *importer) build() {
	for _, d := range im.drafts {
		d.doc = nil
		if d.existing != nil {
			if doc, ok := parseDoc(d.existing); ok {
				d.doc = doc
			}
		}
		if d.doc == nil {
			d.doc = newDoc(d.kind)
			d.existing = nil
		}
		doc := d.doc
		doc.set("metadata.name", str(d.live.Name))
		doc.set("metadata.id", str(d.id))
		doc.set("metadata.adopt", boolean(true))
		if d.kind == model.KindPerson {
			im.person(d)
		} else {
			im.service(d)
		}
	}
}

func (im *importer) person(d *draft) {
	doc, at := d.doc, d.live.Attributes
	for _, f := range []struct{ field, attr string }{
		{"spec.givenName", directory.AttrGivenName}, {"spec.surname", directory.AttrSurname},
	} {
		if at[f.attr] == "" {
			if d.existing == nil || doc.get(f.field) == "" {
				im.todo(d, f.field, "the directory has no %s: write it (the file does not validate without it)", f.attr)
				doc.set(f.field, str(""))
			}
			continue
		}
		doc.set(f.field, str(at[f.attr]))
	}
	im.pins(d)
	doc.setOrRemove("spec.email", at[directory.AttrMail])
	if doc.get("spec.type") == "" {
		doc.set("spec.type", str(im.o.PersonType))
	}
	// The template chosen by OU is named when the type alone would choose another.
	probe := &model.Person{Spec: model.PersonSpec{Type: doc.get("spec.type"), Template: doc.get("spec.template")}}
	if t := im.repo.TemplateOf(probe); t == nil || t.Metadata.Name != d.template.Metadata.Name {
		doc.set("spec.template", str(d.template.Metadata.Name))
	}
	doc.setOrRemove("spec.department", at[directory.AttrDepartment])
	doc.setOrRemove("spec.title", at[directory.AttrTitle])
	if d.manager != "" && !strings.EqualFold(d.manager, d.live.Name) {
		doc.set("spec.manager", str(d.manager))
	} else if at[directory.AttrManager] == "" {
		doc.remove("spec.manager")
	}
	end, ended := im.expiry(d, "spec.endDate")
	if doc.get("spec.startDate") == "" {
		start := im.o.StartDate
		if ended && end.Before(start.Time) {
			start = end // a start after the end would not validate
		}
		doc.set("spec.startDate", date(start.String()))
	}
	if ended {
		doc.set("spec.endDate", date(end.String()))
		if !end.After(im.today.Time) {
			im.todo(d, "spec.endDate", "the account expired on %s (accountExpires): alm takes it as a leaver - once adopted, the next plan disables it, moves it to the leavers OU and deletes it when the template's retention is over; remove spec.endDate (and write the day they really leave) if this person is still here", end)
		}
	}
	if id := at[directory.AttrEmployeeID]; id != d.id && d.kind == model.KindPerson {
		why := "has no employeeID"
		if id != "" {
			why = fmt.Sprintf("has employeeID %q, which cannot be a metadata.id", id)
		}
		im.todo(d, "metadata.id", "the account %s, so its id is derived from its objectGUID: once adopted, the next plan writes employeeID %q; set metadata.id to the HR number first (it never changes afterwards), or leave employeeID out of alm.yaml's attributes", why, d.id)
	}
	if doc.get("spec.type") == model.TypeContractor && doc.get("spec.endDate") == "" {
		im.todo(d, "spec.endDate", "a contractor needs an endDate, and the directory has no accountExpires: write the day the contract ends")
	}
	if !d.live.Enabled() && doc.lookup("spec.inactive") == nil {
		w := &yamlMap{}
		w.add("type", str(model.InactiveSuspended))
		w.add("reason", str("disabled in the directory when imported"))
		w.add("from", date(im.today.String()))
		doc.set("spec.inactive", w.node())
		im.todo(d, "spec.inactive", "the account is disabled: it is kept disabled, suspended from %s; remove spec.inactive to enable it, or write an endDate", im.today)
	}
	im.setRoles(d)
}

func (im *importer) service(d *draft) {
	doc, at := d.doc, d.live.Attributes
	doc.set("spec.template", str(d.template.Metadata.Name))
	if v := at[directory.AttrDescription]; v != "" {
		doc.set("spec.description", str(v))
	} else if doc.get("spec.description") == "" {
		doc.set("spec.description", str(""))
		im.todo(d, "spec.description", "the directory has no description: say what the account does (the file does not validate without it)")
	}
	im.pins(d)
	switch {
	case d.manager != "":
		doc.set("spec.owner", str(d.manager))
	case doc.get("spec.owner") != "":
	case im.o.Owner != "":
		doc.set("spec.owner", str(im.o.Owner))
	default:
		doc.set("spec.owner", str(""))
		if at[directory.AttrManager] == "" {
			im.todo(d, "spec.owner", "no manager in the directory and no --owner: write the login of the person who answers for it (the file does not validate without it)")
		}
	}
	expires, ok := im.expiry(d, "spec.expires")
	if ok {
		doc.set("spec.expires", date(expires.String()))
	} else if doc.get("spec.expires") == "" {
		lt := d.template.Spec.Lifetime
		span := model.MustDuration("365d")
		if lt != nil && !lt.Default.IsZero() {
			span = lt.Default
		} else if lt != nil && !lt.Max.IsZero() {
			span = lt.Max
		}
		expires = dayOf(im.today.Plus(span, im.zone), im.zone)
		doc.set("spec.expires", date(expires.String()))
		im.todo(d, "spec.expires", "the account never expires in the directory: it is given %s (today + %s), which apply writes to accountExpires; change it if the account must live longer", expires, span)
	}
	if doc.get("spec.created") == "" {
		created := im.today
		if e, err := model.ParseDate(doc.get("spec.expires")); err == nil && !e.After(created.Time) {
			created = e.AddDays(-1) // expires must be after created
		}
		doc.set("spec.created", date(created.String()))
	}
	if !d.live.Enabled() {
		doc.set("spec.state", str(model.StateDisabled))
	} else if doc.get("spec.state") == model.StateDisabled {
		doc.remove("spec.state")
	}
	im.setRoles(d)
}

// expiry reads accountExpires as a date of alm.yaml's zone; ok is false when
// the account never expires. A value that is not a midnight there is listed
// and rounded up to the next day, so that no account loses access earlier
// than the directory says.
func (im *importer) expiry(d *draft, field string) (model.Date, bool) {
	t, ok := desired.ParseFileTime(d.live.Attributes[directory.AttrAccountExpires])
	if !ok {
		return model.Date{}, false
	}
	day := dayOf(t, im.zone)
	if !day.Midnight(im.zone).Equal(t) {
		day = day.AddDays(1)
		im.todo(d, field, "accountExpires is %s, not a midnight in %s: written as %s; apply will move accountExpires to that midnight", t.In(im.zone).Format(time.RFC3339), im.zone, day)
	}
	return day, true
}

// pins removes spec.cn and spec.displayName, then puts back those pin
// found to differ from what the template gives (none on the first build).
func (im *importer) pins(d *draft) {
	d.doc.setOrRemove("spec.displayName", d.displayPin)
	d.doc.setOrRemove("spec.cn", d.cnPin)
}

func (im *importer) setRoles(d *draft) {
	have := d.doc.list("spec.roles")
	roles := slices.Clone(have)
	for _, r := range d.roles {
		if !slices.Contains(roles, r) {
			roles = append(roles, r)
		}
	}
	if len(roles) > 0 {
		d.doc.set("spec.roles", seq(roles))
	}
}

// pin computes the desired state of the repository with the files as
// built, and pins the cn and displayName where what the template gives
// differs from the directory.
func (im *importer) pin() {
	state, err := desired.Compute(im.overlay(), im.o.Now)
	if err != nil {
		im.o.Logger.Warn("desired state not computed: no cn or displayName pinned", "err", err)
		return
	}
	var pinned []*draft
	for _, d := range im.drafts {
		a := state.Account(d.id)
		if a == nil {
			continue
		}
		live, want := directory.FirstValue(d.live.DN), directory.FirstValue(a.DN)
		if live != want {
			d.cnPin = live
			pinned = append(pinned, d)
		}
		ld, wd := d.live.Attributes[directory.AttrDisplayName], a.Attributes[directory.AttrDisplayName]
		switch {
		case ld == wd:
		case ld == "":
			im.todo(d, "spec.displayName", "the directory has no displayName: apply will write %q", wd)
		default:
			d.displayPin = ld
		}
	}
	// Built again with the pins; what the first build listed stays listed once.
	todo := im.report.Todo
	im.build()
	im.report.Todo = todo
	im.report.Pins = countPins(im.drafts, pinned)
}

// overlay loads the repository as it would be with the files built so far.
func (im *importer) overlay() *model.Repository {
	files := maps.Clone(im.files)
	for _, d := range im.drafts {
		files[d.path] = d.doc.bytes(im.modeline(d.kind))
	}
	for _, r := range im.newRoles {
		files[r.path] = r.bytes(im.modeline(model.KindRole))
	}
	repo, _, err := load.FS(mapFS(files), "")
	if err != nil {
		panic(err) // an in-memory file system always reads
	}
	return repo
}

// finish renders every file, decides new, changed or unchanged, and
// validates; with valid files, it previews what applying them does.
func (im *importer) finish(ctx context.Context, r Reader) {
	im.out = map[string][]byte{}
	for _, d := range im.drafts {
		f := File{Path: d.path, Kind: d.kind, Account: d.live.Name}
		switch {
		case d.existing == nil:
			f.Status = StatusNew
			f.content = d.doc.bytes(im.modeline(d.kind))
		default:
			old, _ := parseDoc(d.existing)
			if f.Fields = changedFields(old.root.Content[0], d.doc.root.Content[0], ""); len(f.Fields) == 0 {
				f.Status = StatusUnchanged
				break
			}
			f.Status = StatusChanged
			f.content = d.doc.bytes(im.modeline(d.kind))
		}
		im.report.Files = append(im.report.Files, f)
	}
	for _, r := range im.newRoles {
		im.report.Files = append(im.report.Files, File{Path: r.path, Kind: model.KindRole, Status: StatusNew, content: r.bytes(im.modeline(model.KindRole))})
		if r.privileged {
			im.report.Todo = append(im.report.Todo, Todo{File: r.path, Field: "spec.approvers",
				Text: fmt.Sprintf("%s is privileged (%s): write its approvers, e.g. [{role: security-approvers, count: 1}] (the file does not validate without them)", r.groups[0], r.why)})
		}
	}
	sort.SliceStable(im.report.Files, func(i, j int) bool { return im.report.Files[i].Path < im.report.Files[j].Path })
	files := maps.Clone(im.files)
	for _, f := range im.report.Files {
		if f.content != nil {
			files[f.Path] = f.content
		}
	}
	repo, problems, err := load.FS(mapFS(files), "")
	if err != nil {
		panic(err)
	}
	im.report.Problems = problems
	if len(problems) == 0 {
		if err := im.effects(ctx, r, repo); err != nil {
			im.o.Logger.Warn("the first applies' changes are not listed", "err", err)
		}
	}
	sort.SliceStable(im.report.Todo, func(i, j int) bool { return im.report.Todo[i].File < im.report.Todo[j].File })
}

// effects plans the files against the accounts as read, as the first
// alm plan after they are merged would, and keeps what it would do to the
// accounts imported beyond adopting them.
//
// The apply that adopts writes only the markers (the plan withholds the
// rest); the preview is of the plan after it: the directory as read, read
// again with the scope the repository's plan reads, with the imported
// accounts carrying their markers.
func (im *importer) effects(ctx context.Context, r Reader, repo *model.Repository) error {
	state, err := desired.Compute(repo, im.o.Now)
	if err != nil {
		return err
	}
	snap, err := r.Read(ctx, state.Scope())
	if err != nil {
		return fmt.Errorf("read %s: %w", state.BaseDN, err)
	}
	ids := map[string]bool{}
	byGUID := map[string]string{}
	for _, d := range im.drafts {
		ids[d.id] = true
		byGUID[d.live.GUID] = d.id
	}
	for i := range snap.Accounts {
		if id, ok := byGUID[snap.Accounts[i].GUID]; ok && snap.Accounts[i].Marker == "" {
			snap.Accounts[i].Marker = directory.Marker(id)
		}
	}
	p := plan.Diff(state, snap, plan.Options{})
	for _, c := range p.Changes {
		if c.Action == plan.Adopt || (c.AccountID != "" && !ids[c.AccountID]) || c.Action == plan.CreateOU || c.Action == plan.DisableOrphan {
			continue
		}
		e := Effect{File: c.File, Account: c.Account, Action: string(c.Action)}
		if e.Account == "" {
			e.Account = c.GroupName
		}
		var words []string
		for _, a := range c.Attributes {
			words = append(words, fmt.Sprintf("%s: %q -> %q", a.Name, a.Old, a.New))
		}
		switch {
		case c.Group != "":
			words = append([]string{c.Group}, words...)
		case c.NewDN != "":
			words = append([]string{"to " + c.NewDN}, words...)
		}
		e.Text = strings.Join(words, "; ")
		if e.Text == "" {
			e.Text = c.Reason.Text
		}
		im.report.Effects = append(im.report.Effects, e)
	}
	for _, f := range p.Findings {
		if f.Kind == plan.FindingNameTaken || f.Kind == plan.FindingDNTaken || f.Kind == plan.FindingAdoptRefused {
			if ids[f.AccountID] {
				im.report.Effects = append(im.report.Effects, Effect{File: f.File, Account: f.Account, Action: f.Kind, Text: f.Text})
			}
		}
	}
	return nil
}

func (im *importer) write() error {
	if im.o.DryRun {
		return nil
	}
	for _, f := range im.report.Files {
		if f.Status == StatusUnchanged {
			continue
		}
		p := filepath.Join(im.o.Out, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("write %s: %w", f.Path, err)
		}
		if err := os.WriteFile(p, f.content, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", f.Path, err)
		}
	}
	return nil
}

// modeline is the relative path from a kind's folder to its schema: the
// repository's .alm/schemas when it has one, else a schemas/ folder above
// it (alm's own examples), else the schema's published address.
func (im *importer) modeline(kind string) string {
	name := strings.ToLower(kind) + ".schema.json"
	if _, err := os.Stat(filepath.Join(im.o.Out, ".alm", "schemas", name)); err == nil {
		return "../.alm/schemas/" + name
	}
	abs, err := filepath.Abs(im.o.Out)
	if err == nil {
		up := "../"
		for dir := abs; ; dir = filepath.Dir(dir) {
			if _, err := os.Stat(filepath.Join(dir, "schemas", name)); err == nil {
				return up + "schemas/" + name
			}
			if filepath.Dir(dir) == dir {
				break
			}
			up += "../"
		}
	}
	return "https://alm.dev/schemas/v1/" + name
}

// readTree reads the files the loader reads from a working tree.
func readTree(dir string) (map[string][]byte, error) {
	files := map[string][]byte{}
	fsys := os.DirFS(dir)
	err := fs.WalkDir(fsys, ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			if p != "." && (strings.Count(p, "/") >= 1 || strings.HasPrefix(e.Name(), ".")) {
				return fs.SkipDir
			}
			return nil
		}
		if !load.Reads(p) {
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		files[p] = data
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read access repository %s: %w", dir, err)
	}
	return files, nil
}

func mapFS(files map[string][]byte) fstest.MapFS {
	m := fstest.MapFS{}
	for p, data := range files {
		m[p] = &fstest.MapFile{Data: data, Mode: 0o644}
	}
	return m
}

// dayOf is the calendar day an instant falls on in zone.
func dayOf(t time.Time, zone *time.Location) model.Date {
	y, m, d := t.In(zone).Date()
	return model.Date{Time: time.Date(y, m, d, 0, 0, 0, 0, time.UTC)}
}

// changedFields lists the fields of two mappings that differ, as dotted
// paths, down to the fields of metadata and spec.
func changedFields(a, b *yaml.Node, prefix string) []string {
	var keys []string
	for _, m := range []*yaml.Node{a, b} {
		for i := 0; i+1 < len(m.Content); i += 2 {
			if k := m.Content[i].Value; !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	var out []string
	for _, k := range keys {
		va, vb := value(a, k), value(b, k)
		switch {
		case va == nil || vb == nil:
			out = append(out, prefix+k)
		case prefix == "" && va.Kind == yaml.MappingNode && vb.Kind == yaml.MappingNode:
			out = append(out, changedFields(va, vb, k+".")...)
		case !same(va, vb):
			out = append(out, prefix+k)
		}
	}
	return out
}

// yamlMap builds a mapping in the order fields are added.
type yamlMap struct{ content []*yaml.Node }

func (m *yamlMap) add(k string, v *yaml.Node) { m.content = append(m.content, str(k), v) }

func (m *yamlMap) node() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode, Content: m.content} }
