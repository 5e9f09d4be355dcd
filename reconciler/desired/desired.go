// Package desired computes what the directory should hold at an instant: a
// pure function of the access repository and the time. For every person and
// service account it says whether the account exists, where it lives, whether
// it is enabled, its attributes and groups, and for each of these which file,
// field and rule asked for it. It does no I/O; the plan package compares it
// with what the directory holds.
package desired

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/alm-project/alm/reconciler/directory"
	"github.com/alm-project/alm/reconciler/lifecycle"
	"github.com/alm-project/alm/reconciler/model"
)

// Reason says which file, field and rule put a value in the desired state.
type Reason struct {
	File  string    `json:"file"`
	Line  int       `json:"line,omitempty"`
	Field string    `json:"field,omitempty"` // "spec.endDate"
	Rule  string    `json:"rule,omitempty"`  // "lifecycle: leaver", "birthright", "role vpn-users", "drift"
	Date  time.Time `json:"date,omitzero"`   // the date in the file that decided it, when one did
	Text  string    `json:"text"`
}

// Where is "file:line field", the place to look.
func (r Reason) Where() string {
	w := r.File
	if r.Line > 0 {
		w = fmt.Sprintf("%s:%d", w, r.Line)
	}
	if r.Field != "" {
		w += " " + r.Field
	}
	return w
}

// Warning is something the plan does not change but a person should look at.
type Warning struct {
	File    string `json:"file,omitempty"`
	Line    int    `json:"line,omitempty"`
	Account string `json:"account,omitempty"`
	Text    string `json:"text"`
}

func (w Warning) String() string {
	switch {
	case w.File != "" && w.Line > 0:
		return fmt.Sprintf("%s:%d: %s", w.File, w.Line, w.Text)
	case w.File != "":
		return w.File + ": " + w.Text
	}
	return w.Text
}

// Group is a group an account should be a member of, by name: the plan
// resolves names against the groups the directory holds.
type Group struct {
	Name   string `json:"name"`
	Role   string `json:"role"`
	Reason Reason `json:"reason"`
	// Privileged: a role marked privileged grants it (its own approvers
	// approved it). Only such a grant may put an account in a group the
	// directory holds as privileged.
	Privileged bool `json:"privileged,omitempty"`
}

// Account is one account as alm wants it at the instant.
type Account struct {
	ID       string          `json:"id"`   // metadata.id, written as the ownership marker
	Name     string          `json:"name"` // metadata.name: sAMAccountName and the CN
	Kind     string          `json:"kind"` // model.KindPerson or model.KindServiceAccount
	File     string          `json:"file"`
	Template string          `json:"template"`
	State    lifecycle.State `json:"state"`
	// Exists: create the account when the directory lacks it. Delete: remove
	// it when the directory holds it (end of life). An account with neither
	// (a joiner not yet provisioned) is left uncreated, but kept disabled and
	// without groups if the directory already holds it.
	Exists    bool   `json:"exists"`
	Delete    bool   `json:"delete"`
	Protected bool   `json:"protected,omitempty"` // the name is protected: alm never touches it
	DN        string `json:"dn"`
	Enabled   bool   `json:"enabled"`
	// UAC is userAccountControl: normal account, the template's flags, and
	// the disable bit when not Enabled. Only the bits ManagedUAC gives are compared.
	UAC int `json:"userAccountControl"`
	// Attributes holds every one of directory.ManagedAttributes; an empty
	// value means the attribute must be absent. accountExpires is always set
	// (directory.AccountExpiresNever when no date applies). A create writes
	// them all; on an account that exists, those in Unowned are left as the
	// directory has them.
	Attributes map[string]string `json:"attributes"`
	// Unowned are the attributes alm.yaml does not say alm owns and the
	// file does not set: alm leaves them alone on an existing account.
	Unowned map[string]bool `json:"unowned,omitempty"`
	// CN is the account's cn, the first value of DN: the login, or what
	// the template's cn format or the file's spec.cn makes.
	CN string `json:"cn"`
	// Adopt: the file claims an account the directory holds without
	// alm's marker (metadata.adopt); the plan writes the marker.
	Adopt     bool    `json:"adopt,omitempty"`
	ManagerID string  `json:"managerID,omitempty"` // the account manager's DN names
	Groups    []Group `json:"groups"`              // empty when the lifecycle withholds groups
	// PreviousNames is the rename history (spec.previousNames).
	PreviousNames []string `json:"previousNames,omitempty"`

	Lifecycle        Reason            `json:"lifecycle"`         // why the account is in its status
	Placement        Reason            `json:"placement"`         // why it lives in its OU
	NoGroups         Reason            `json:"noGroups,omitzero"` // why it holds no groups, when it does not
	AttributeReasons map[string]Reason `json:"attributeReasons"`  // per attribute, the field that sets it
	Source           model.Source      `json:"-"`                 // the file's positions
	manager          string            // the manager's (or owner's) name, resolved by links
	managerField     string
	ou               string // the OU the account lives in
	owned            map[string]bool
}

// ManagedGroup is a group some role names: alm manages its membership for
// managed accounts. A role names a group by name (found below the groups
// OU) or by DN (found wherever it is); Name is as the role writes it.
type ManagedGroup struct {
	Name  string   `json:"name"`
	DN    string   `json:"dn,omitempty"` // set when the role names the group by DN
	Roles []string `json:"roles"`
	File  string   `json:"file"` // the first role's file
	// Privileged: some role naming it is marked privileged.
	Privileged bool `json:"privileged,omitempty"`
	// Previous are the names it had (the roles' renamedGroups), newest first.
	Previous []string `json:"previous,omitempty"`
}

// GroupKey is how two role entries are told to name the same group: DNs
// as the directory compares them, names ignoring case.
func GroupKey(entry string) string {
	if dn, ok := GroupDNOf(entry); ok {
		return strings.ToLower(dn)
	}
	return strings.ToLower(entry)
}

// GroupDNOf returns the DN a role's group entry names, and whether it
// names one: an entry with '=' is a DN ("CN=Domain Admins,CN=Users,..."),
// anything else a group's name.
func GroupDNOf(entry string) (string, bool) {
	if !strings.Contains(entry, "=") {
		return "", false
	}
	return directory.Clean(entry), true
}

// State is the desired state of the whole directory at one instant.
type State struct {
	Revision        string    `json:"revision"`
	Now             time.Time `json:"now"`
	BaseDN          string    `json:"baseDN"`
	Domain          string    `json:"domain"`
	MarkerAttribute string    `json:"markerAttribute"`
	// GroupsOU is the full DN groups are read below ("" = the base DN), and
	// where a group the directory lacks is expected to be.
	GroupsOU  string `json:"groupsOU,omitempty"`
	LeaversOU string `json:"leaversOU,omitempty"`
	RetiredOU string `json:"retiredOU,omitempty"`
	// OUs are the managed OUs (full DNs): every template's OU, the leavers
	// and retired OUs. Unmarked accounts in them are orphans.
	OUs       []string `json:"ous"`
	Protected []string `json:"protected"` // names or DNs never touched
	Orphans   string   `json:"orphans"`   // model.OrphansReport or model.OrphansDisable
	// UnmanagedMemberships is model.MembershipsReport or MembershipsRemove.
	UnmanagedMemberships string `json:"unmanagedMemberships"`
	// Owned are the attributes alm owns (alm.yaml spec.attributes).
	Owned    []string       `json:"owned"`
	Limits   model.Limits   `json:"limits"`
	Accounts []*Account     `json:"accounts"` // sorted by name
	Groups   []ManagedGroup `json:"groups"`   // sorted by name
	Warnings []Warning      `json:"warnings,omitempty"`

	byID map[string]*Account
}

// Account returns the account with metadata.id id, or nil.
func (s *State) Account(id string) *Account {
	if s == nil {
		return nil
	}
	if s.byID != nil {
		return s.byID[id]
	}
	// A State built by hand or decoded has no index: look the slow way.
	for _, a := range s.Accounts {
		if a.ID == id {
			return a
		}
	}
	return nil
}

// IsProtected reports whether an account is on the protected list, by its
// sAMAccountName or its DN.
func (s *State) IsProtected(name, dn string) bool { return IsProtected(s.Protected, name, dn) }

// IsProtected reports whether an account is on a protected list of names
// (compared with sAMAccountName) and DNs (written with '=').
func IsProtected(list []string, name, dn string) bool {
	for _, p := range list {
		if strings.Contains(p, "=") {
			if dn != "" && directory.SameDN(directory.Clean(p), dn) {
				return true
			}
		} else if name != "" && strings.EqualFold(strings.TrimSpace(p), name) {
			return true
		}
	}
	return false
}

// Scope is what the directory must be read for: the managed OUs, the
// groups below the groups OU, and the groups roles name by DN.
func (s *State) Scope() directory.Scope {
	sc := directory.Scope{BaseDN: s.BaseDN, OUs: s.OUs, GroupBase: s.GroupsOU, MarkerAttribute: s.MarkerAttribute}
	for _, g := range s.Groups {
		if g.DN != "" {
			sc.Groups = append(sc.Groups, g.DN)
		}
	}
	return sc
}

// GroupDN is where a group the directory lacks is expected: in the groups
// OU, or at the base DN when alm.yaml sets none.
func (s *State) GroupDN(name string) string {
	base := s.GroupsOU
	if base == "" {
		base = s.BaseDN
	}
	return "CN=" + directory.EscapeValue(name) + "," + base
}

// Compute returns the desired state of every account at now. The error
// lists every problem that keeps an account's desired state from being
// known (no template, no OU, no id, an unknown account flag), each naming
// its file, line and field; the files must be fixed before a plan is made.
func Compute(repo *model.Repository, now time.Time) (*State, error) {
	if repo == nil || repo.Directory == nil {
		return nil, fmt.Errorf("%s: missing: the access repository needs one Directory object at its top", model.DirectoryFile)
	}
	c := &computer{repo: repo, now: now.UTC(), zone: repo.Zone()}
	c.directory(repo.Directory)
	if len(c.errs) > 0 {
		return nil, errors.Join(c.errs...)
	}
	for _, name := range repo.PersonNames() {
		c.person(repo.People[name])
	}
	for _, name := range repo.ServiceAccountNames() {
		c.service(repo.ServiceAccounts[name])
	}
	c.unique()
	c.links()
	c.managed()
	if len(c.errs) > 0 {
		return nil, errors.Join(c.errs...)
	}
	sort.SliceStable(c.s.Accounts, func(i, j int) bool { return c.s.Accounts[i].Name < c.s.Accounts[j].Name })
	c.s.byID = make(map[string]*Account, len(c.s.Accounts))
	for _, a := range c.s.Accounts {
		c.s.byID[a.ID] = a
	}
	return c.s, nil
}

type computer struct {
	repo   *model.Repository
	now    time.Time
	zone   *time.Location // alm.yaml's spec.timeZone: the files' dates mean midnight there
	s      *State
	errs   []error
	people map[string]*Account // by name, for manager and owner links
	owned  map[string]bool     // lower-case names of the attributes alm owns
}

func (c *computer) fail(pos model.Position, format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("%s: %s", pos, fmt.Sprintf(format, args...)))
}

func (c *computer) warn(pos model.Position, account, format string, args ...any) {
	c.s.Warnings = append(c.s.Warnings, Warning{File: pos.Path, Line: pos.Line, Account: account, Text: fmt.Sprintf(format, args...)})
}

func (c *computer) directory(d *model.Directory) {
	spec := d.Spec
	at := func(f string) model.Position { return withPath(d.Source.At(f), model.DirectoryFile) }
	if strings.TrimSpace(spec.BaseDN) == "" {
		c.fail(at("spec.baseDN"), "spec.baseDN is empty: set the directory's base DN, e.g. DC=example,DC=test")
	}
	if strings.TrimSpace(spec.Domain) == "" {
		c.fail(at("spec.domain"), "spec.domain is empty: set the DNS domain that ends every userPrincipalName, e.g. example.test")
	}
	base := directory.Clean(spec.BaseDN)
	c.s = &State{
		Revision:        c.repo.Revision,
		Now:             c.now,
		BaseDN:          base,
		Domain:          spec.Domain,
		MarkerAttribute: spec.MarkerAttribute,
		Orphans:         spec.Orphans,
		Limits:          spec.Limits,
		Protected:       append(append([]string{}, model.AlwaysProtected...), spec.Protected...),
		Accounts:        []*Account{},
		Groups:          []ManagedGroup{},
	}
	if c.s.MarkerAttribute == "" {
		c.s.MarkerAttribute = model.DefaultMarkerAttribute
	}
	if c.s.Orphans == "" {
		c.s.Orphans = model.OrphansReport
	}
	c.s.UnmanagedMemberships = spec.UnmanagedMemberships
	if c.s.UnmanagedMemberships == "" {
		c.s.UnmanagedMemberships = model.MembershipsReport
	}
	c.s.Owned = spec.Attributes
	if c.s.Owned == nil {
		c.s.Owned = model.DefaultAttributes
	}
	c.owned = map[string]bool{}
	for _, name := range c.s.Owned {
		c.owned[strings.ToLower(name)] = true
	}
	if spec.GroupsOU != "" {
		c.s.GroupsOU = directory.Join(spec.GroupsOU, base)
	}
	if spec.LeaversOU != "" {
		c.s.LeaversOU = directory.Join(spec.LeaversOU, base)
	}
	if spec.RetiredOU != "" {
		c.s.RetiredOU = directory.Join(spec.RetiredOU, base)
	}
	c.people = map[string]*Account{}
}

// withPath fills in a position's path when the object was built in Go
// rather than read from a file.
func withPath(p model.Position, path string) model.Position {
	if p.Path == "" {
		p.Path = path
	}
	return p
}

func filePath(src model.Source, kind, name string) string {
	if src.Path != "" {
		return src.Path
	}
	return model.Folders[kind] + "/" + name + ".yaml"
}

// reason builds a Reason pointing at a field of an account's file.
func (a *Account) reason(field, rule, text string, date time.Time) Reason {
	return Reason{File: a.File, Line: a.Source.At(field).Line, Field: field, Rule: rule, Date: date, Text: text}
}

func (c *computer) person(p *model.Person) {
	a := &Account{ID: p.Metadata.ID, Name: p.Metadata.Name, Kind: model.KindPerson, Source: p.Source, Adopt: p.Metadata.Adopt,
		File: filePath(p.Source, model.KindPerson, p.Metadata.Name), PreviousNames: p.Spec.PreviousNames}
	at := func(f string) model.Position { return withPath(p.Source.At(f), a.File) }
	t := c.repo.TemplateOf(p)
	switch {
	case p.Spec.Template != "" && t == nil:
		c.fail(at("spec.template"), "spec.template: no template %q; name one of templates/*.yaml", p.Spec.Template)
		return
	case t == nil:
		c.fail(at("spec.type"), "spec.type: no Person template applies to type %q; name one in spec.template or add a Person template for it", p.Spec.Type)
		return
	}
	templateField := "spec.type"
	if p.Spec.Template != "" {
		templateField = "spec.template"
	}
	st := lifecycle.Person(p, t, c.zone, c.now)
	if !c.common(a, st, t, templateField) {
		return
	}

	set, derive := a.setter(true), a.setter(false)
	set(directory.AttrGivenName, p.Spec.GivenName, "spec.givenName")
	set(directory.AttrSurname, p.Spec.Surname, "spec.surname")
	names := nameFields{login: a.Name, givenName: p.Spec.GivenName, surname: p.Spec.Surname}
	if p.Spec.DisplayName != "" {
		set(directory.AttrDisplayName, p.Spec.DisplayName, "spec.displayName")
	} else {
		derive(directory.AttrDisplayName, names.format(t.Spec.DisplayName, "{givenName} {surname}"), "spec.givenName")
	}
	names.displayName = a.Attributes[directory.AttrDisplayName]
	a.place(c, names.cn(t.Spec.CN, p.Spec.CN))
	set(directory.AttrMail, p.Spec.Email, "spec.email")
	set(directory.AttrDepartment, p.Spec.Department, "spec.department")
	set(directory.AttrTitle, p.Spec.Title, "spec.title")
	derive(directory.AttrDescription, "", "spec")
	derive(directory.AttrEmployeeID, p.Metadata.ID, "metadata.id")
	// A person's account expires when they leave: the instant the lifecycle
	// makes them a leaver (the start of endDate in alm.yaml's timeZone, or of
	// the end of an inactive window that leaves), so the account stops
	// working then even if no reconciler runs that day.
	if end, field := lifecycle.LeavingDate(p, t); end.IsZero() {
		derive(directory.AttrAccountExpires, directory.AccountExpiresNever, field)
	} else {
		set(directory.AttrAccountExpires, FileTime(end.Midnight(c.zone)), field)
	}
	a.manager, a.managerField = p.Spec.Manager, "spec.manager"
	a.grant(c, p.Spec.Roles, p)
	c.add(a)
}

func (c *computer) service(sa *model.ServiceAccount) {
	a := &Account{ID: sa.Metadata.ID, Name: sa.Metadata.Name, Kind: model.KindServiceAccount, Source: sa.Source, Adopt: sa.Metadata.Adopt,
		File: filePath(sa.Source, model.KindServiceAccount, sa.Metadata.Name), PreviousNames: sa.Spec.PreviousNames}
	at := func(f string) model.Position { return withPath(sa.Source.At(f), a.File) }
	t := c.repo.Templates[sa.Spec.Template]
	if t == nil {
		c.fail(at("spec.template"), "spec.template: no template %q; name one of templates/*.yaml", sa.Spec.Template)
		return
	}
	st := lifecycle.ServiceAccount(sa, t, c.zone, c.now)
	if !c.common(a, st, t, "spec.template") {
		return
	}
	set, derive := a.setter(true), a.setter(false)
	derive(directory.AttrGivenName, "", "spec")
	derive(directory.AttrSurname, "", "spec")
	names := nameFields{login: a.Name}
	if sa.Spec.DisplayName != "" {
		set(directory.AttrDisplayName, sa.Spec.DisplayName, "spec.displayName")
	} else {
		derive(directory.AttrDisplayName, names.format(t.Spec.DisplayName, "{login}"), "metadata.name")
	}
	names.displayName = a.Attributes[directory.AttrDisplayName]
	a.place(c, names.cn(t.Spec.CN, sa.Spec.CN))
	derive(directory.AttrMail, "", "spec")
	derive(directory.AttrDepartment, "", "spec")
	derive(directory.AttrTitle, "", "spec")
	set(directory.AttrDescription, sa.Spec.Description, "spec.description")
	derive(directory.AttrEmployeeID, "", "spec")
	// accountExpires is the expiry, except under an end-of-life action of
	// "review": such an account stays enabled past its date while it is
	// reviewed, and an expiry in the directory would stop it working.
	review := t.Spec.EndOfLife != nil && t.Spec.EndOfLife.Action == model.ActionReview
	if sa.Spec.Expires.IsZero() || review {
		derive(directory.AttrAccountExpires, directory.AccountExpiresNever, "spec.expires")
	} else {
		set(directory.AttrAccountExpires, FileTime(sa.Spec.Expires.Midnight(c.zone)), "spec.expires")
	}
	// A service account's manager in the directory is its owner, so that
	// the directory's own tools show who answers for it.
	a.manager, a.managerField = sa.Spec.Owner, "spec.owner"
	a.grant(c, sa.Spec.Roles, nil)
	c.add(a)
}

// common fills what people and service accounts share: status, placement,
// enablement, userAccountControl and the attributes every account has. It
// returns false when the account cannot be placed.
func (c *computer) common(a *Account, st lifecycle.State, t *model.WorkflowTemplate, templateField string) bool {
	ok := true
	if a.ID == "" {
		c.fail(withPath(a.Source.At("metadata.id"), a.File), "metadata.id is empty: alm marks the account it owns with it; set a stable, unique id")
		ok = false
	}
	if strings.TrimSpace(t.Spec.OU) == "" {
		c.fail(withPath(t.Source.At("spec.ou"), filePath(t.Source, model.KindWorkflowTemplate, t.Metadata.Name)),
			"spec.ou is empty: template %s must say which OU its accounts live in, e.g. OU=People", t.Metadata.Name)
		ok = false
	}
	uac := directory.UACNormalAccount
	for i, name := range t.Spec.AccountFlags {
		bit, err := flag(name)
		if err != nil {
			c.fail(withPath(t.Source.At(fmt.Sprintf("spec.accountFlags[%d]", i)), filePath(t.Source, model.KindWorkflowTemplate, t.Metadata.Name)),
				"spec.accountFlags[%d]: %v", i, err)
			ok = false
		}
		uac |= bit
	}
	if !ok {
		return false
	}
	a.Template = t.Metadata.Name
	a.State = st
	a.Exists = st.Exists
	a.Delete = !st.Exists && (st.Status == lifecycle.Archived || st.Status == lifecycle.Retired)
	a.Enabled = st.Enabled
	if !a.Enabled {
		uac |= directory.UACAccountDisable
	}
	a.UAC = uac
	a.Lifecycle = a.reason(st.Reason.Field, "lifecycle: "+string(st.Status), st.Reason.Text, st.Reason.Date)

	home := directory.Join(t.Spec.OU, c.s.BaseDN)
	ou := home
	a.Placement = a.reason(templateField, "template "+t.Metadata.Name,
		fmt.Sprintf("template %s places its accounts in %s", t.Metadata.Name, directory.Clean(t.Spec.OU)), time.Time{})
	switch {
	case st.Placement == lifecycle.Leavers && c.s.LeaversOU != "":
		ou = c.s.LeaversOU
		a.Placement = a.Lifecycle
		a.Placement.Text += "; leavers live in " + c.s.LeaversOU + " (alm.yaml spec.leaversOU)"
	case st.Placement == lifecycle.Gone && c.s.RetiredOU != "":
		ou = c.s.RetiredOU
		a.Placement = a.Lifecycle
		a.Placement.Text += "; retired accounts live in " + c.s.RetiredOU + " (alm.yaml spec.retiredOU)"
	}
	a.ou = ou
	a.place(c, a.Name)

	a.Attributes = make(map[string]string, len(directory.ManagedAttributes))
	a.AttributeReasons = make(map[string]Reason, len(directory.ManagedAttributes))
	a.Unowned = map[string]bool{}
	a.owned = c.owned
	a.setter(false)(directory.AttrUserPrincipalName, a.Name+"@"+c.s.Domain, "metadata.name")
	a.Attributes[directory.AttrManager] = ""
	return true
}

var kindWords = map[string]string{model.KindPerson: "people's accounts", model.KindServiceAccount: "service accounts"}

// place puts the account at its cn in its OU.
func (a *Account) place(c *computer, cn string) {
	a.CN = cn
	a.DN = "CN=" + directory.EscapeValue(cn) + "," + a.ou
	a.Protected = c.s.IsProtected(a.Name, a.DN)
}

// nameFields are what cn and displayName formats may name.
type nameFields struct{ login, givenName, surname, displayName string }

// format fills a format's {fields}; an empty format is def.
func (n nameFields) format(f, def string) string {
	if f == "" {
		f = def
	}
	r := strings.NewReplacer("{login}", n.login, "{givenName}", n.givenName, "{surname}", n.surname, "{displayName}", n.displayName)
	return strings.Join(strings.Fields(r.Replace(f)), " ")
}

// cn is the account's cn: the file's pin, else the template's choice,
// else the login. A format that gives nothing falls back to the login.
func (n nameFields) cn(choice, pin string) string {
	var v string
	switch {
	case pin != "":
		return pin
	case choice == "" || choice == model.CNLogin:
		v = n.login
	case choice == model.CNDisplayName:
		v = n.displayName
	default:
		v = n.format(choice, "")
	}
	if strings.Trim(v, " ,") == "" {
		return n.login
	}
	return v
}

// setter returns a function that sets one attribute and records the field
// behind it. explicit: the value is what a field of the file says, so alm
// manages it where the file sets it even when alm.yaml does not say alm
// owns the attribute; a derived value (or an empty one) is managed on an
// existing account only when alm owns the attribute.
func (a *Account) setter(explicit bool) func(name, value, field string) {
	return func(name, value, field string) {
		a.Attributes[name] = value
		if !a.owned[strings.ToLower(name)] && (!explicit || value == "") {
			a.Unowned[name] = true
		} else {
			delete(a.Unowned, name)
		}
		text := field
		switch {
		case field == "spec":
			text = "alm keeps it empty on " + kindWords[a.Kind]
			field = ""
		case value == "" || (name == directory.AttrAccountExpires && NeverExpires(value)):
			text = field + " is not set"
		default:
			text = field + " in " + a.File
		}
		a.AttributeReasons[name] = a.reason(field, "", text, time.Time{})
	}
}

// grant resolves the roles an account holds into groups: requested roles,
// and for people the roles whose birthright rule they match. The groups are
// kept only when the lifecycle lets the account hold them.
func (a *Account) grant(c *computer, requested []string, p *model.Person) {
	var groups []Group
	at := map[string]int{} // GroupKey -> index in groups
	add := func(role *model.Role, r Reason) {
		for _, g := range role.Spec.Groups {
			k := GroupKey(g)
			if i, ok := at[k]; ok {
				groups[i].Privileged = groups[i].Privileged || role.Spec.Privileged
				continue
			}
			at[k] = len(groups)
			groups = append(groups, Group{Name: g, Role: role.Metadata.Name, Reason: r, Privileged: role.Spec.Privileged})
		}
	}
	asked := map[string]bool{}
	for i, name := range requested {
		field := fmt.Sprintf("spec.roles[%d]", i)
		role := c.repo.Roles[name]
		if role == nil {
			c.warn(withPath(a.Source.At(field), a.File), a.Name, "%s: role %q does not exist, so it grants no groups; add roles/%s.yaml or remove it", field, name, name)
			continue
		}
		asked[name] = true
		add(role, a.reason(field, "role "+name, "requested role "+name, time.Time{}))
	}
	if p != nil {
		for _, name := range slices.Sorted(maps.Keys(c.repo.Roles)) {
			role := c.repo.Roles[name]
			if asked[name] || !role.Spec.Birthright.Matches(p) {
				continue
			}
			file := filePath(role.Source, model.KindRole, name)
			add(role, Reason{File: file, Line: role.Source.At("spec.birthright").Line, Field: "spec.birthright",
				Rule: "birthright", Text: fmt.Sprintf("role %s by birthright (%s)", name, describe(role.Spec.Birthright))})
		}
	}
	sort.SliceStable(groups, func(i, j int) bool { return strings.ToLower(groups[i].Name) < strings.ToLower(groups[j].Name) })
	if a.State.Groups {
		a.Groups = groups
		return
	}
	a.Groups = []Group{}
	a.NoGroups = a.Lifecycle
	switch a.State.Status {
	case lifecycle.Pending:
		a.NoGroups.Text += "; no groups until then"
	case lifecycle.Leaver:
		t := c.repo.Templates[a.Template]
		var grace model.Duration
		if t != nil && t.Spec.Leaver != nil {
			grace = t.Spec.Leaver.GroupGrace
		}
		// Counted from the leaving day as the lifecycle counts: calendar days in the zone.
		left, _ := lifecycle.LeavingDate(p, t)
		ended := left.Plus(grace, c.zone)
		a.NoGroups.Date = ended
		a.NoGroups.Text += fmt.Sprintf("; the %s group grace period of template %s ended %s", grace, a.Template, ended.Format(time.DateOnly))
	default:
		a.NoGroups.Text += "; no groups"
	}
}

func describe(b *model.Birthright) string {
	var parts []string
	if b.Department != "" {
		parts = append(parts, "department "+b.Department)
	}
	if b.Type != "" {
		parts = append(parts, "type "+b.Type)
	}
	if b.Title != "" {
		parts = append(parts, "title "+b.Title)
	}
	return strings.Join(parts, ", ")
}

func (c *computer) add(a *Account) {
	if a.Protected {
		c.warn(withPath(a.Source.At("metadata.name"), a.File), a.Name,
			"metadata.name: %s is a protected account; alm never touches it: remove this file or rename the account", a.Name)
	}
	c.s.Accounts = append(c.s.Accounts, a)
	if a.Kind == model.KindPerson {
		c.people[a.Name] = a
	}
}

// unique refuses two files that claim one id, or one login.
func (c *computer) unique() {
	ids, names := map[string]*Account{}, map[string]*Account{}
	for _, a := range c.s.Accounts {
		if b := ids[a.ID]; b != nil && a.ID != "" {
			c.fail(withPath(a.Source.At("metadata.id"), a.File), "metadata.id %q is also the id of %s: ids must be unique", a.ID, b.File)
		}
		ids[a.ID] = a
		if b := names[strings.ToLower(a.Name)]; b != nil {
			c.fail(withPath(a.Source.At("metadata.name"), a.File), "metadata.name %q is also the name of %s: logins must be unique", a.Name, b.File)
		}
		names[strings.ToLower(a.Name)] = a
	}
}

// links sets manager to the DN the manager's (or owner's) account should
// have. A manager without an account in the directory leaves it empty.
func (c *computer) links() {
	for _, a := range c.s.Accounts {
		r := a.reason(a.managerField, "", "", time.Time{})
		switch m := c.people[a.manager]; {
		case a.manager == "":
			r.Text = a.managerField + " is not set"
		case m == nil:
			r.Text = fmt.Sprintf("%s: no person %q, so no manager", a.managerField, a.manager)
			c.warn(withPath(a.Source.At(a.managerField), a.File), a.Name, "%s: no person %q; manager left empty: fix the name or add people/%s.yaml", a.managerField, a.manager, a.manager)
		case !m.Exists || m.Delete:
			r.Text = fmt.Sprintf("%s: %s has no account (%s), so no manager", a.managerField, m.Name, m.State.Status)
		default:
			a.Attributes[directory.AttrManager] = m.DN
			a.ManagerID = m.ID
			r.Text = fmt.Sprintf("%s: %s", a.managerField, m.Name)
		}
		a.AttributeReasons[directory.AttrManager] = r
		if !a.owned[strings.ToLower(directory.AttrManager)] && a.manager == "" {
			a.Unowned[directory.AttrManager] = true
		}
	}
}

// managed gathers the groups roles name and the OUs alm manages.
func (c *computer) managed() {
	groups := map[string]*ManagedGroup{}
	var order []string
	for _, name := range slices.Sorted(maps.Keys(c.repo.Roles)) {
		role := c.repo.Roles[name]
		for _, g := range role.Spec.Groups {
			k := GroupKey(g)
			mg := groups[k]
			if mg == nil {
				mg = &ManagedGroup{Name: g, File: filePath(role.Source, model.KindRole, name)}
				mg.DN, _ = GroupDNOf(g)
				groups[k] = mg
				order = append(order, k)
			}
			mg.Roles = append(mg.Roles, name)
			mg.Privileged = mg.Privileged || role.Spec.Privileged
		}
	}
	// Renames, followed back: a role's renamedGroups a->b and b->c make
	// a and b earlier names of c.
	renamedTo := map[string][]string{} // GroupKey(to) -> from names
	for _, name := range slices.Sorted(maps.Keys(c.repo.Roles)) {
		for _, r := range c.repo.Roles[name].Spec.RenamedGroups {
			renamedTo[GroupKey(r.To)] = append(renamedTo[GroupKey(r.To)], r.From)
		}
	}
	sort.Strings(order)
	for _, k := range order {
		mg := groups[k]
		seen := map[string]bool{k: true}
		for queue := renamedTo[k]; len(queue) > 0; queue = queue[1:] {
			if from := queue[0]; !seen[GroupKey(from)] {
				seen[GroupKey(from)] = true
				mg.Previous = append(mg.Previous, from)
				queue = append(queue, renamedTo[GroupKey(from)]...)
			}
		}
		c.s.Groups = append(c.s.Groups, *mg)
	}

	seen := map[string]bool{}
	addOU := func(dn string) {
		if k := strings.ToLower(dn); dn != "" && !seen[k] {
			seen[k] = true
			c.s.OUs = append(c.s.OUs, dn)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(c.repo.Templates)) {
		t := c.repo.Templates[name]
		if strings.TrimSpace(t.Spec.OU) != "" {
			addOU(directory.Join(t.Spec.OU, c.s.BaseDN))
		}
	}
	addOU(c.s.LeaversOU)
	addOU(c.s.RetiredOU)
	sort.Slice(c.s.OUs, func(i, j int) bool { return strings.ToLower(c.s.OUs[i]) < strings.ToLower(c.s.OUs[j]) })
}
