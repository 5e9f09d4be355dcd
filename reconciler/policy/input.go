package policy

import (
	"sort"
	"time"

	"github.com/alm-project/alm/reconciler/approval"
	"github.com/alm-project/alm/reconciler/change"
	"github.com/alm-project/alm/reconciler/lifecycle"
	"github.com/alm-project/alm/reconciler/model"
)

// Input is the document the rules read as input: the change under check and
// its pull request. policies/README.md documents its shape.
type Input struct {
	Now string `json:"now"` // RFC 3339, UTC
	// TimeZone is head's alm.yaml spec.timeZone (UTC when unset), the zone
	// the files' dates mean midnight in; Today is the date at Now there, so
	// that a rule asks whether a file's day has begun by comparing dates.
	TimeZone    string            `json:"timeZone"`
	Today       string            `json:"today"` // YYYY-MM-DD
	Change      Change            `json:"change"`
	PullRequest *approval.Request `json:"pullRequest"` // nil: approvals are not judged
}

// Change is the change set with what the rules need to judge each file.
type Change struct {
	Base  string `json:"base"`
	Head  string `json:"head"`
	Files []File `json:"files"`
}

// File is one changed file, resolved: its templates, the account's lifecycle
// status before and after (at now), the people related to it and its owners.
type File struct {
	change.File
	// Template is the template governing the account after the change
	// (before, for a deleted file), for messages and naming.
	Template string `json:"template"`
	// TemplateBefore is the template that governed the account before the
	// change (resolved at base), TemplateAfter the one governing it after
	// (resolved at head); "" where the file does not exist. The rules judge
	// approvals by both, as they stood at base, so a change of template or
	// of the person's type cannot choose laxer approvals.
	TemplateBefore string `json:"templateBefore"`
	TemplateAfter  string `json:"templateAfter"`
	StatusBefore   string `json:"statusBefore"`
	StatusAfter    string `json:"statusAfter"`
	// Relations name the people in each approval relation to the account,
	// as it stood before the change (after, for a new file), with managers
	// as they stood at base.
	Relations map[string][]string `json:"relations"`
	// Owners are the account's owners before and after the change; with the
	// template's ownerMayApprove false, none of them may approve it.
	Owners []string `json:"owners"`
}

// Approval relations, as templates and roles write them.
const (
	RelationOwner          = "owner"
	RelationManager        = "manager"
	RelationOwnerManager   = "owner-manager"
	RelationOwnerOrManager = "owner-or-manager"
	RelationCustodian      = "custodian"
)

// NewInput resolves a change set between base and head for the rules.
func NewInput(base, head *model.Repository, set change.Set, pr *approval.Request, now time.Time) Input {
	in := Input{
		Now:         now.UTC().Format(time.RFC3339),
		TimeZone:    head.Zone().String(),
		Today:       now.In(head.Zone()).Format(time.DateOnly),
		Change:      Change{Base: set.Base, Head: set.Head, Files: []File{}},
		PullRequest: pr,
	}
	for _, f := range set.Files {
		if f.Granted == nil {
			f.Granted = []string{}
		}
		if f.Revoked == nil {
			f.Revoked = []string{}
		}
		if f.Reasons == nil {
			f.Reasons = []change.Reason{}
		}
		rf := File{File: f, Relations: map[string][]string{}, Owners: []string{}}
		if f.Before != nil {
			rf.TemplateBefore, rf.StatusBefore = status(base, f.Before, now)
			rf.Template = rf.TemplateBefore
		}
		if f.After != nil {
			rf.TemplateAfter, rf.StatusAfter = status(head, f.After, now)
			rf.Template = rf.TemplateAfter
		}
		obj := f.Before
		if obj == nil {
			obj = f.After
		}
		rf.Relations = relations(obj, base, head)
		rf.Owners = unique(append(relations(f.Before, base, head)[RelationOwner], relations(f.After, base, head)[RelationOwner]...))
		in.Change.Files = append(in.Change.Files, rf)
	}
	return in
}

// status returns an account's template name and its lifecycle status at now.
func status(repo *model.Repository, obj any, now time.Time) (string, string) {
	switch o := obj.(type) {
	case *model.Person:
		var t *model.WorkflowTemplate
		if repo != nil {
			t = repo.TemplateOf(o)
		}
		name := o.Spec.Template
		if t != nil {
			name = t.Metadata.Name
		}
		return name, string(lifecycle.Person(o, t, repo.Zone(), now).Status)
	case *model.ServiceAccount:
		var t *model.WorkflowTemplate
		if repo != nil {
			t = repo.Templates[o.Spec.Template]
		}
		return o.Spec.Template, string(lifecycle.ServiceAccount(o, t, repo.Zone(), now).Status)
	}
	return "", ""
}

// relations resolves who stands in each relation to an account. For a
// person, the owner is the person and the manager their manager; for a
// service account, the owner is spec.owner, the manager the owner's manager,
// and the custodians spec.custodians. An owner's manager is looked up at
// base, then at head (for an owner the change adds): a pull request that
// changes someone's manager does not choose who approves it.
func relations(obj any, base, head *model.Repository) map[string][]string {
	rel := map[string][]string{
		RelationOwner: {}, RelationManager: {}, RelationOwnerManager: {}, RelationOwnerOrManager: {}, RelationCustodian: {},
	}
	var owner, manager string
	switch o := obj.(type) {
	case *model.Person:
		owner, manager = o.Metadata.Name, o.Spec.Manager
	case *model.ServiceAccount:
		owner = o.Spec.Owner
		manager = managerOf(owner, base, head)
		rel[RelationCustodian] = unique(o.Spec.Custodians)
	default:
		return rel
	}
	if owner != "" {
		rel[RelationOwner] = []string{owner}
	}
	if manager != "" {
		rel[RelationManager] = []string{manager}
		rel[RelationOwnerManager] = []string{manager}
	}
	rel[RelationOwnerOrManager] = unique(append(append([]string{}, rel[RelationOwner]...), rel[RelationManager]...))
	return rel
}

func managerOf(name string, repos ...*model.Repository) string {
	for _, r := range repos {
		if r == nil {
			continue
		}
		if p, ok := r.People[name]; ok {
			return p.Spec.Manager
		}
	}
	return ""
}

// Data is one revision of the repository as the rules read it: the head
// under data.alm.repository, the base under data.alm.base. Every object is
// keyed by name, with its file, and people resolved (status, effective
// roles, manager chain, what they own).
type Data struct {
	Revision        string                                                `json:"revision"`
	Directory       *object[model.Metadata, model.DirectorySpec]          `json:"directory"`
	Templates       map[string]object[model.Metadata, model.TemplateSpec] `json:"templates"`
	Roles           map[string]roleDoc                                    `json:"roles"`
	People          map[string]*personDoc                                 `json:"people"`
	ServiceAccounts map[string]*accountDoc                                `json:"serviceAccounts"`
	Logins          map[string]string                                     `json:"logins"` // lower-case GitHub login → person
	Emails          map[string]string                                     `json:"emails"` // lower-case e-mail → person
}

// object is a file as policies see it; M is the kind's metadata (an
// account's carries adopt). It points into the loaded repository rather
// than copying it: 100,000 people's specs, twice (base and head), were
// most of a check's policy data.
type object[M, S any] struct {
	Metadata *M     `json:"metadata"`
	Spec     *S     `json:"spec"`
	File     string `json:"file"`
}

type roleDoc struct {
	object[model.Metadata, model.RoleSpec]
	Holders []string `json:"holders"` // active people holding the role
}

type personDoc struct {
	object[model.AccountMetadata, model.PersonSpec]
	Status      string   `json:"status"`
	Template    string   `json:"template"`
	Roles       []string `json:"roles"`    // requested and birthright
	Managers    []string `json:"managers"` // manager, their manager, ... up the chain
	Owns        []string `json:"owns"`     // service accounts whose owner they are
	CustodianOf []string `json:"custodianOf"`
	Reports     []string `json:"reports"` // people they manage directly
}

type accountDoc struct {
	object[model.AccountMetadata, model.ServiceAccountSpec]
	Status   string `json:"status"`
	Template string `json:"template"`
}

// NewData resolves a repository for the rules, with lifecycle statuses at now.
func NewData(repo *model.Repository, now time.Time) Data { return newData(repo, now, nil) }

// NewDataAfter is NewData of head, with each person whose file base has
// unchanged (the same blob at the same path) taking template, status and
// roles from baseData, which NewData made of base at the same now: they
// follow from the person's file, the templates, the roles and alm.yaml
// alone, so when none of those changed either, they are base's. A check
// resolves 100,000 people twice for the one a pull request changes.
func NewDataAfter(head, base *model.Repository, baseData Data, now time.Time) Data {
	if !sameContext(head, base) {
		return NewData(head, now)
	}
	return newData(head, now, func(name string, p *model.Person) (*personDoc, bool) {
		bp, doc := base.People[name], baseData.People[name]
		if bp == nil || doc == nil || p.Source.Blob == "" || bp.Source.Blob != p.Source.Blob || bp.Source.Path != p.Source.Path {
			return nil, false
		}
		return doc, true
	})
}

// sameContext reports whether alm.yaml, the templates and the roles are
// the same files in both revisions.
func sameContext(a, b *model.Repository) bool {
	if a.Directory == nil || b.Directory == nil || !sameFile(a.Directory.Source, b.Directory.Source) {
		return false
	}
	if len(a.Templates) != len(b.Templates) || len(a.Roles) != len(b.Roles) {
		return false
	}
	for name, t := range a.Templates {
		if o := b.Templates[name]; o == nil || !sameFile(t.Source, o.Source) {
			return false
		}
	}
	for name, r := range a.Roles {
		if o := b.Roles[name]; o == nil || !sameFile(r.Source, o.Source) {
			return false
		}
	}
	return true
}

func sameFile(a, b model.Source) bool { return a.Blob != "" && a.Blob == b.Blob && a.Path == b.Path }

// newData is NewData; known, when set, gives the template, status and
// roles of a person already resolved.
func newData(repo *model.Repository, now time.Time, known func(string, *model.Person) (*personDoc, bool)) Data {
	d := Data{
		Revision:        repo.Revision,
		Templates:       map[string]object[model.Metadata, model.TemplateSpec]{},
		Roles:           map[string]roleDoc{},
		People:          map[string]*personDoc{},
		ServiceAccounts: map[string]*accountDoc{},
	}
	if dir := repo.Directory; dir != nil {
		d.Directory = &object[model.Metadata, model.DirectorySpec]{&dir.Metadata, &dir.Spec, orDefault(dir.Source.Path, model.DirectoryFile)}
	}
	for name, t := range repo.Templates {
		d.Templates[name] = object[model.Metadata, model.TemplateSpec]{&t.Metadata, &t.Spec, fileOf(model.KindWorkflowTemplate, name, t.Source)}
	}
	holders := map[string][]string{}
	people := repo.PersonNames() // sorted once: 100,000 names take a while
	for _, name := range people {
		p := repo.People[name]
		var tname, st string
		var roles []string
		var prior *personDoc
		if known != nil {
			prior, _ = known(name, p)
		}
		if prior != nil {
			tname, st, roles = prior.Template, prior.Status, prior.Roles
		} else {
			t := repo.TemplateOf(p)
			tname = p.Spec.Template
			if t != nil {
				tname = t.Metadata.Name
			}
			st = string(lifecycle.Person(p, t, repo.Zone(), now).Status)
			roles = repo.RolesOf(p)
		}
		if st == string(lifecycle.Active) {
			for _, r := range roles {
				holders[r] = append(holders[r], name)
			}
		}
		d.People[name] = &personDoc{
			object:   object[model.AccountMetadata, model.PersonSpec]{&p.Metadata, &p.Spec, fileOf(model.KindPerson, name, p.Source)},
			Status:   st,
			Template: tname,
			Roles:    nonNil(roles),
			Managers: chain(repo, name),
			Owns:     []string{}, CustodianOf: []string{}, Reports: []string{},
		}
	}
	for _, name := range people {
		if m := repo.People[name].Spec.Manager; m != "" {
			if pd, ok := d.People[m]; ok {
				pd.Reports = append(pd.Reports, name)
			}
		}
	}
	for _, name := range repo.ServiceAccountNames() {
		a := repo.ServiceAccounts[name]
		t := repo.Templates[a.Spec.Template]
		d.ServiceAccounts[name] = &accountDoc{
			object:   object[model.AccountMetadata, model.ServiceAccountSpec]{&a.Metadata, &a.Spec, fileOf(model.KindServiceAccount, name, a.Source)},
			Status:   string(lifecycle.ServiceAccount(a, t, repo.Zone(), now).Status),
			Template: a.Spec.Template,
		}
		if pd, ok := d.People[a.Spec.Owner]; ok {
			pd.Owns = append(pd.Owns, name)
		}
		for _, c := range unique(a.Spec.Custodians) {
			if pd, ok := d.People[c]; ok {
				pd.CustodianOf = append(pd.CustodianOf, name)
			}
		}
	}
	for name, r := range repo.Roles {
		d.Roles[name] = roleDoc{
			object:  object[model.Metadata, model.RoleSpec]{&r.Metadata, &r.Spec, fileOf(model.KindRole, name, r.Source)},
			Holders: nonNil(holders[name]),
		}
	}
	dir := approval.NewDirectory(repo)
	d.Logins, d.Emails = dir.Logins(), dir.Emails()
	return d
}

// chain returns a person's managers, nearest first, stopping at a loop and
// after model.MaxManagerChain (the loader reports a longer chain; unbounded,
// one chain of 10,000 people made 50 million names of data).
func chain(repo *model.Repository, name string) []string {
	out := []string{}
	seen := map[string]bool{name: true}
	for p := repo.People[name]; p != nil && p.Spec.Manager != "" && !seen[p.Spec.Manager] && len(out) < model.MaxManagerChain; p = repo.People[p.Spec.Manager] {
		seen[p.Spec.Manager] = true
		out = append(out, p.Spec.Manager)
	}
	return out
}

func fileOf(kind, name string, src model.Source) string {
	if src.Path != "" {
		return src.Path
	}
	return model.Folders[kind] + "/" + name + ".yaml"
}

func unique(xs []string) []string {
	set := map[string]bool{}
	out := []string{}
	for _, x := range xs {
		if x != "" && !set[x] {
			set[x] = true
			out = append(out, x)
		}
	}
	sort.Strings(out)
	return out
}

func nonNil(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
