// Package change computes what a pull request changes: the files that differ
// between two revisions of the access repository, each with its operation,
// its object before and after, and its change class (create, grant, revoke,
// rename, other). The class decides which approvals a change needs, so it is
// computed here, in Go, where it is tested, and handed to the policies.
// It is pure: two model.Repository values in, a Set out.
package change

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/alm-project/alm/reconciler/model"
)

// Op is what happened to a file.
type Op string

const (
	Added    Op = "add"
	Modified Op = "modify"
	Deleted  Op = "delete"
	Renamed  Op = "rename" // the file moved and the object kept its metadata.id
)

// Class is the kind of change to access, strongest first: create, grant,
// revoke, rename, other. A file gets the strongest class of its reasons.
type Class string

const (
	Create Class = "create"
	Grant  Class = "grant"
	Revoke Class = "revoke"
	Rename Class = "rename"
	Other  Class = "other"
)

// strength orders the classes: a change that both grants and revokes is a grant.
var strength = map[Class]int{Create: 5, Grant: 4, Revoke: 3, Rename: 2, Other: 1}

// Stronger reports whether a is a stronger class than b.
func Stronger(a, b Class) bool { return strength[a] > strength[b] }

// Kind of a policy file; the YAML kinds are model.Kind*.
const KindPolicy = "Policy"

// Reason is one field's contribution to a file's class.
type Reason struct {
	Class Class  `json:"class"`
	Field string `json:"field,omitempty"` // "spec.roles"
	Text  string `json:"text"`
}

// File is one changed file.
type File struct {
	Path    string `json:"path"`
	OldPath string `json:"oldPath,omitempty"` // set for renames
	Op      Op     `json:"op"`
	Kind    string `json:"kind"`
	Name    string `json:"name"`              // metadata.name after (before, for deletes)
	OldName string `json:"oldName,omitempty"` // metadata.name before, when it changed
	ID      string `json:"id,omitempty"`
	Class   Class  `json:"class"`
	// Reasons say why the file has its class, one per changed field.
	Reasons []Reason `json:"reasons"`
	// Granted and Revoked are the roles the account gains and loses,
	// birthright roles included.
	Granted []string `json:"grantedRoles"`
	Revoked []string `json:"revokedRoles"`
	// Before and After are the objects (*model.Person, ...; for policy files,
	// the Rego text); nil where the file does not exist.
	Before any `json:"before"`
	After  any `json:"after"`
	// Source is where the file's fields stand: at head, or at base for a deleted file.
	Source model.Source `json:"-"`
}

// Set is every changed file between two revisions, sorted by path.
type Set struct {
	Base  string `json:"base"`
	Head  string `json:"head"`
	Files []File `json:"files"`
}

// Empty reports whether nothing changed.
func (s Set) Empty() bool { return len(s.Files) == 0 }

// entry is one file of one revision.
type entry struct {
	path string
	kind string
	meta model.Metadata
	obj  any
	src  *model.Source // the object's own: a repository holds 100,000
}

func entries(r *model.Repository) map[string]entry {
	if r == nil {
		return map[string]entry{}
	}
	out := make(map[string]entry, 1+len(r.Templates)+len(r.People)+len(r.ServiceAccounts)+len(r.Roles)+len(r.Policies))
	if d := r.Directory; d != nil {
		path := d.Source.Path
		if path == "" {
			path = model.DirectoryFile
		}
		out[path] = entry{path, model.KindDirectory, d.Metadata, d, &d.Source}
	}
	add := func(kind string, meta model.Metadata, obj any, src *model.Source) {
		path := src.Path
		if path == "" { // built in Go, not loaded: name the file by convention
			path = model.Folders[kind] + "/" + meta.Name + ".yaml"
		}
		out[path] = entry{path, kind, meta, obj, src}
	}
	for _, t := range r.Templates {
		add(model.KindWorkflowTemplate, t.Metadata, t, &t.Source)
	}
	for _, p := range r.People {
		add(model.KindPerson, p.Metadata.Common(), p, &p.Source)
	}
	for _, a := range r.ServiceAccounts {
		add(model.KindServiceAccount, a.Metadata.Common(), a, &a.Source)
	}
	for _, ro := range r.Roles {
		add(model.KindRole, ro.Metadata, ro, &ro.Source)
	}
	for _, p := range r.Policies {
		out[p.Path] = entry{p.Path, KindPolicy, model.Metadata{Name: p.Path}, p.Source, &model.Source{Path: p.Path}}
	}
	return out
}

// Between returns the changes that turn base into head. Either may be nil
// (an empty repository). A file deleted and another added with the same kind
// and metadata.id is one rename.
func Between(base, head *model.Repository) Set {
	var set Set
	if base != nil {
		set.Base = base.Revision
	}
	if head != nil {
		set.Head = head.Revision
	}
	before, after := entries(base), entries(head)
	// The maps are walked as they come - sorting 100,000 paths twice cost
	// more than the comparing - and what differs is put in path order.
	var deleted, added, fresh []entry // fresh: paths only head has
	for path, b := range before {
		a, ok := after[path]
		switch {
		case !ok:
			deleted = append(deleted, b)
		case a.kind != b.kind:
			deleted = append(deleted, b)
			added = append(added, a)
		case b.src.Blob != "" && b.src.Blob == a.src.Blob:
			// The same blob at the same path: the same content, no need
			// to compare the objects field by field.
		case !equal(b.obj, a.obj):
			set.Files = append(set.Files, modified(base, head, b, a, Modified))
		}
	}
	for path, a := range after {
		if _, ok := before[path]; !ok {
			fresh = append(fresh, a)
		}
	}
	byPath := func(x, y entry) int { return strings.Compare(x.path, y.path) }
	slices.SortFunc(deleted, byPath)
	slices.SortFunc(added, byPath)
	slices.SortFunc(fresh, byPath)
	added = append(added, fresh...)
	// Pair deletions and additions of one object into renames.
	byID := map[string]int{}
	for i, d := range deleted {
		if d.meta.ID != "" && d.kind != KindPolicy {
			byID[d.kind+"\x00"+d.meta.ID] = i
		}
	}
	paired := map[int]bool{}
	for _, a := range added {
		if i, ok := byID[a.kind+"\x00"+a.meta.ID]; ok && a.meta.ID != "" && !paired[i] {
			paired[i] = true
			set.Files = append(set.Files, modified(base, head, deleted[i], a, Renamed))
			continue
		}
		set.Files = append(set.Files, created(head, a))
	}
	for i, d := range deleted {
		if !paired[i] {
			set.Files = append(set.Files, removed(base, d))
		}
	}
	sort.Slice(set.Files, func(i, j int) bool { return set.Files[i].Path < set.Files[j].Path })
	return set
}

func created(head *model.Repository, a entry) File {
	f := File{Path: a.path, Op: Added, Kind: a.kind, Name: a.meta.Name, ID: a.meta.ID, After: a.obj, Source: *a.src, Class: Other}
	switch a.kind {
	case model.KindPerson, model.KindServiceAccount:
		f.Class = Create
		f.Granted = rolesOf(head, a.obj)
		f.Reasons = []Reason{{Class: Create, Text: "new " + kindWord(a.kind) + " " + a.meta.Name}}
	default:
		f.Reasons = []Reason{{Class: Other, Text: "new file"}}
	}
	return f
}

func removed(base *model.Repository, b entry) File {
	f := File{Path: b.path, Op: Deleted, Kind: b.kind, Name: b.meta.Name, ID: b.meta.ID, Before: b.obj, Source: *b.src, Class: Other}
	switch b.kind {
	case model.KindPerson, model.KindServiceAccount:
		f.Class = Revoke
		f.Revoked = rolesOf(base, b.obj)
		f.Reasons = []Reason{{Class: Revoke, Text: kindWord(b.kind) + " " + b.meta.Name + " removed"}}
	default:
		f.Reasons = []Reason{{Class: Other, Text: "file removed"}}
	}
	return f
}

func modified(base, head *model.Repository, b, a entry, op Op) File {
	f := File{Path: a.path, Op: op, Kind: a.kind, Name: a.meta.Name, ID: a.meta.ID, Before: b.obj, After: a.obj, Source: *a.src}
	if op == Renamed {
		f.OldPath = b.path
	}
	if b.meta.Name != a.meta.Name {
		f.OldName = b.meta.Name
	}
	var rs reasons
	if b.meta.Name != a.meta.Name && (a.kind == model.KindPerson || a.kind == model.KindServiceAccount) {
		rs.add(Rename, "metadata.name", "renamed from %s to %s", b.meta.Name, a.meta.Name)
	}
	handled := map[string]bool{"metadata.name": true}
	switch before := b.obj.(type) {
	case *model.Person:
		after := a.obj.(*model.Person)
		f.Granted, f.Revoked = diffRoles(rolesOf(base, before), rolesOf(head, after))
		rs.roles(f.Granted, f.Revoked)
		person(&rs, before, after, base, head, handled)
	case *model.ServiceAccount:
		after := a.obj.(*model.ServiceAccount)
		f.Granted, f.Revoked = diffRoles(rolesOf(base, before), rolesOf(head, after))
		rs.roles(f.Granted, f.Revoked)
		serviceAccount(&rs, before, after, handled)
	case *model.Role:
		role(&rs, before, a.obj.(*model.Role), handled)
	}
	handled["spec.roles"] = true
	// Whatever no rule above explains is "other", named field by field.
	for _, field := range changedFields(b.obj, a.obj) {
		if !handled[field] {
			rs.add(Other, field, "%s changed", field)
		}
	}
	if len(rs) == 0 {
		rs.add(Other, "", "content changed")
	}
	f.Reasons = rs
	f.Class = rs.class()
	return f
}

type reasons []Reason

func (rs *reasons) add(c Class, field, format string, args ...any) {
	*rs = append(*rs, Reason{Class: c, Field: field, Text: fmt.Sprintf(format, args...)})
}

func (rs *reasons) roles(granted, revoked []string) {
	for _, r := range granted {
		rs.add(Grant, "spec.roles", "role %s granted", r)
	}
	for _, r := range revoked {
		rs.add(Revoke, "spec.roles", "role %s revoked", r)
	}
}

func (rs reasons) class() Class {
	c := Other
	for _, r := range rs {
		if Stronger(r.Class, c) {
			c = r.Class
		}
	}
	return c
}

// person classifies the fields of a Person that bear on access.
func person(rs *reasons, b, a *model.Person, base, head *model.Repository, handled map[string]bool) {
	for _, f := range []string{"spec.endDate", "spec.startDate", "spec.inactive", "spec.template"} {
		handled[f] = true
	}
	// endDate: set or earlier ends access sooner; removed or later extends it.
	be, ae := b.Spec.EndDate, a.Spec.EndDate
	switch {
	case be.IsZero() && !ae.IsZero():
		rs.add(Revoke, "spec.endDate", "endDate %s set", ae)
	case !be.IsZero() && ae.IsZero():
		rs.add(Grant, "spec.endDate", "endDate %s removed: the person stays", be)
	case ae.Before(be.Time):
		rs.add(Revoke, "spec.endDate", "endDate moved earlier, from %s to %s", be, ae)
	case ae.After(be.Time):
		rs.add(Grant, "spec.endDate", "endDate moved later, from %s to %s", be, ae)
	}
	bs, as := b.Spec.StartDate, a.Spec.StartDate
	switch {
	case as.Before(bs.Time):
		rs.add(Grant, "spec.startDate", "startDate moved earlier, from %s to %s", bs, as)
	case as.After(bs.Time):
		rs.add(Revoke, "spec.startDate", "startDate moved later, from %s to %s", bs, as)
	}
	inactive(rs, b.Spec.Inactive, a.Spec.Inactive)
	if bt, at := templateName(base, b), templateName(head, a); bt != at {
		rs.add(Grant, "spec.template", "template changed from %s to %s", orNone(bt), orNone(at))
	}
}

// inactive classifies an inactive window: a longer or new window revokes
// access for its length; a shorter or removed one gives it back.
func inactive(rs *reasons, b, a *model.Inactive) {
	switch {
	case b == nil && a == nil:
	case b == nil:
		rs.add(Revoke, "spec.inactive", "inactive (%s) from %s", a.Type, a.From)
	case a == nil:
		rs.add(Grant, "spec.inactive", "inactive window (%s) removed: the account is enabled again", b.Type)
	default:
		switch {
		case a.From.Before(b.From.Time):
			rs.add(Revoke, "spec.inactive.from", "inactive from moved earlier, to %s", a.From)
		case a.From.After(b.From.Time):
			rs.add(Grant, "spec.inactive.from", "inactive from moved later, to %s", a.From)
		}
		switch {
		case b.Until == a.Until:
		case a.Until.IsZero() || (!b.Until.IsZero() && a.Until.After(b.Until.Time)):
			rs.add(Revoke, "spec.inactive.until", "inactive window longer, until %s", orNone(a.Until.String()))
		default:
			rs.add(Grant, "spec.inactive.until", "inactive window shorter, until %s", a.Until)
		}
		if a.Type != b.Type {
			rs.add(Other, "spec.inactive.type", "inactive type changed from %s to %s", b.Type, a.Type)
		}
	}
}

// stateRank orders a service account's explicit states by how much access they leave.
var stateRank = map[string]int{"": 2, model.StateActive: 2, model.StateDisabled: 1, model.StateRetired: 0}

func serviceAccount(rs *reasons, b, a *model.ServiceAccount, handled map[string]bool) {
	for _, f := range []string{"spec.expires", "spec.state", "spec.template"} {
		handled[f] = true
	}
	be, ae := b.Spec.Expires, a.Spec.Expires
	switch {
	case be.IsZero() && !ae.IsZero():
		rs.add(Revoke, "spec.expires", "expires %s set", ae)
	case !be.IsZero() && ae.IsZero():
		rs.add(Grant, "spec.expires", "expiry %s removed", be)
	case ae.Before(be.Time):
		rs.add(Revoke, "spec.expires", "expires moved earlier, from %s to %s", be, ae)
	case ae.After(be.Time):
		rs.add(Grant, "spec.expires", "expires moved later, from %s to %s (renewal)", be, ae)
	}
	if bs, as := b.Spec.State, a.Spec.State; stateRank[bs] != stateRank[as] {
		c := Revoke
		if stateRank[as] > stateRank[bs] {
			c = Grant
		}
		rs.add(c, "spec.state", "state %s → %s", orDefault(bs, model.StateActive), orDefault(as, model.StateActive))
	} else if bs != as {
		rs.add(Other, "spec.state", "state %s → %s", orNone(bs), orNone(as))
	}
	if b.Spec.Template != a.Spec.Template {
		rs.add(Grant, "spec.template", "template changed from %s to %s", orNone(b.Spec.Template), orNone(a.Spec.Template))
	}
}

// role classifies a Role file: more groups or a wider birthright reach more
// accounts; dropping privileged or changing approvers loosens control.
func role(rs *reasons, b, a *model.Role, handled map[string]bool) {
	for _, f := range []string{"spec.groups", "spec.birthright", "spec.privileged", "spec.approvers"} {
		handled[f] = true
	}
	added, gone := diffRoles(b.Spec.Groups, a.Spec.Groups)
	for _, g := range added {
		rs.add(Grant, "spec.groups", "group %s added to the role", g)
	}
	for _, g := range gone {
		rs.add(Revoke, "spec.groups", "group %s removed from the role", g)
	}
	switch bb, ab := b.Spec.Birthright, a.Spec.Birthright; {
	case bb == nil && ab == nil:
	case ab == nil:
		rs.add(Revoke, "spec.birthright", "birthright rule removed")
	case bb == nil || *bb != *ab:
		rs.add(Grant, "spec.birthright", "birthright rule set or changed")
	}
	switch {
	case b.Spec.Privileged && !a.Spec.Privileged:
		rs.add(Grant, "spec.privileged", "role no longer privileged")
	case !b.Spec.Privileged && a.Spec.Privileged:
		rs.add(Revoke, "spec.privileged", "role made privileged")
	}
	if !reflect.DeepEqual(b.Spec.Approvers, a.Spec.Approvers) {
		rs.add(Grant, "spec.approvers", "approvers of the role changed")
	}
}

// rolesOf returns the roles an account holds, birthright included.
func rolesOf(r *model.Repository, obj any) []string {
	switch o := obj.(type) {
	case *model.Person:
		if r == nil {
			return uniqueSorted(o.Spec.Roles)
		}
		return r.RolesOf(o)
	case *model.ServiceAccount:
		return uniqueSorted(o.Spec.Roles)
	}
	return nil
}

func templateName(r *model.Repository, p *model.Person) string {
	if r == nil {
		return p.Spec.Template
	}
	if t := r.TemplateOf(p); t != nil {
		return t.Metadata.Name
	}
	return ""
}

// diffRoles returns what is in b and not in a (gained), and the reverse (lost).
func diffRoles(a, b []string) (gained, lost []string) {
	in := func(xs []string, x string) bool {
		for _, y := range xs {
			if y == x {
				return true
			}
		}
		return false
	}
	for _, x := range uniqueSorted(b) {
		if !in(a, x) {
			gained = append(gained, x)
		}
	}
	for _, x := range uniqueSorted(a) {
		if !in(b, x) {
			lost = append(lost, x)
		}
	}
	return gained, lost
}

// changedFields names the fields that differ, to the depth of spec's
// children ("metadata.id", "spec.description"), sorted.
func changedFields(b, a any) []string {
	bm, am := asMap(b), asMap(a)
	var out []string
	for _, top := range unionKeys(bm, am) {
		bv, av := bm[top], am[top]
		if reflect.DeepEqual(bv, av) {
			continue
		}
		bc, bok := bv.(map[string]any)
		ac, aok := av.(map[string]any)
		if !bok && !aok || top == "apiVersion" || top == "kind" {
			out = append(out, top)
			continue
		}
		for _, k := range unionKeys(bc, ac) {
			if !reflect.DeepEqual(bc[k], ac[k]) {
				out = append(out, top+"."+k)
			}
		}
	}
	return out
}

func equal(b, a any) bool { return reflect.DeepEqual(asMap(b), asMap(a)) }

// asMap is an object's JSON form, which is what the policies see.
func asMap(v any) map[string]any {
	if s, ok := v.(string); ok { // a policy file
		return map[string]any{"source": s}
	}
	data, err := json.Marshal(v)
	if err != nil {
		// The model's types always marshal; a failure here is a bug, so it
		// must not pass for "unchanged".
		return map[string]any{"error": err.Error()}
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return map[string]any{"error": err.Error()}
	}
	return m
}

func unionKeys(a, b map[string]any) []string {
	set := map[string]bool{}
	for k := range a {
		set[k] = true
	}
	for k := range b {
		set[k] = true
	}
	return model.SortedNames(set)
}

func uniqueSorted(xs []string) []string {
	set := map[string]bool{}
	for _, x := range xs {
		set[x] = true
	}
	if len(set) == 0 {
		return nil
	}
	return model.SortedNames(set)
}

func kindWord(kind string) string {
	switch kind {
	case model.KindPerson:
		return "person"
	case model.KindServiceAccount:
		return "service account"
	}
	return strings.ToLower(kind)
}

func orNone(s string) string { return orDefault(s, "(none)") }

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
