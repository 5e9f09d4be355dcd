package hr

import (
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/alm-project/alm/reconciler/model"
)

// SourceHR is the spec.source of the people HR manages.
const SourceHR = "hr"

// Kinds of change, in the order a report lists them.
const (
	Joiner   = "joiner"   // a new file, pending until the start date
	Rehire   = "rehire"   // an end date removed, or a new start after it
	Leaver   = "leaver"   // an end date set (or moved, for an employee)
	Rename   = "rename"   // a new login: the file renamed, previousNames kept
	Contract = "contract" // a contractor's end date moved
	Mover    = "mover"    // department, manager, title, type, names or e-mail
	// Reference is a file that names a renamed login (a manager, a
	// service account's owner or custodian), updated with the rename.
	Reference = "reference"
)

var kindOrder = map[string]int{Joiner: 0, Rehire: 1, Leaver: 2, Rename: 3, Contract: 4, Mover: 5, Reference: 6}

// Field is one field's value before and after ("" for none).
type Field struct {
	Name string `json:"name"`
	From string `json:"from"`
	To   string `json:"to"`
}

// Change is what the export changes for one person.
type Change struct {
	Kind     string  `json:"kind"`
	ID       string  `json:"id"`
	Login    string  `json:"login"`
	OldLogin string  `json:"oldLogin,omitempty"`
	Path     string  `json:"path"`
	OldPath  string  `json:"oldPath,omitempty"`
	Line     int     `json:"line,omitempty"` // the export's line; 0 for a person it leaves out
	Fields   []Field `json:"fields"`
	Note     string  `json:"note,omitempty"`
}

// Missing is a person HR manages whom a full export leaves out.
type Missing struct {
	Login string `json:"login"`
	ID    string `json:"id"`
	Path  string `json:"path"`
	Left  bool   `json:"left"`           // made a leaver (--missing leave)
	Note  string `json:"note,omitempty"` // why it was not, with --missing leave
}

// Result is what an export asks of the repository. Files holds each
// file's new content (nil: the file is deleted, as a renamed file's old
// path); nothing is in it when the export is refused.
type Result struct {
	File    string            `json:"file"`
	Day     model.Date        `json:"day"`    // the day the export is read for
	People  int               `json:"people"` // people with source: hr who have not left, before the export
	Changes []Change          `json:"changes"`
	Bad     []Bad             `json:"skipped"`
	Missing []Missing         `json:"missing"`
	Past    int               `json:"past"` // rows of people who left before Day and have no file: nothing to do
	Refused string            `json:"refused,omitempty"`
	Files   map[string][]byte `json:"-"`
}

// Count returns how many changes are of kind.
func (r *Result) Count(kind string) int {
	n := 0
	for _, c := range r.Changes {
		if c.Kind == kind {
			n++
		}
	}
	return n
}

// Options are a sync's choices.
type Options struct {
	Mapping Mapping
	Now     time.Time
	// LeaveMissing makes people HR manages whom the export leaves out
	// leavers, ending today; otherwise they are only reported.
	LeaveMissing bool
	// Partial says the export is not all of HR: nobody is missing from it.
	Partial bool
}

// Sync works out, from the repository as it is (repo, and its files in
// fsys by the paths repo's sources name) and an export, every file change
// the export asks for. HR's row is authoritative for the fields the export
// has a column for; the rest of each file - roles, keys, notes, comments,
// layout - is kept byte for byte. A row that cannot be carried out is
// skipped into Bad, never half-applied; the other rows go ahead. When the
// export leaves out or changes more people than the mapping's limits
// allow, it is refused whole: Refused says why and Files is empty.
func Sync(repo *model.Repository, fsys fs.FS, x *Export, o Options) (*Result, error) {
	zone := repo.Zone()
	today := model.Date{Time: midnight(o.Now.In(zone))}
	res := &Result{File: x.File, Day: today, Changes: []Change{}, Bad: append([]Bad{}, x.Bad...), Missing: []Missing{}, Files: map[string][]byte{}}
	s := &syncer{repo: repo, fsys: fsys, x: x, o: o, res: res, today: today, byID: map[string]*model.Person{}, claimed: map[string]string{},
		former: map[string]*model.Person{}, naming: map[string]*regexp.Regexp{}, lower: map[string]string{}, skipped: map[string]int{}}
	for _, name := range repo.PersonNames() {
		p := repo.People[name]
		s.byID[p.Metadata.ID] = p
		s.lower[strings.ToLower(name)] = p.Source.Path
		for _, n := range p.Spec.PreviousNames {
			s.former[strings.ToLower(n)] = p
		}
		if p.Spec.Source == SourceHR && !s.left(p) {
			res.People++
		}
	}
	for name, sa := range repo.ServiceAccounts {
		s.lower[strings.ToLower(name)] = sa.Source.Path
	}
	for _, b := range x.Bad {
		if b.ID != "" {
			s.skipped[b.ID] = b.Line
		}
	}
	rule, _ := parseRule(o.Mapping.Login) // checked with the mapping
	var todo []planned
	for _, row := range x.Rows {
		if pl, ok := s.plan(row, rule); ok {
			todo = append(todo, pl)
		}
	}
	// A row apply cannot carry out (its file cannot be edited, its new
	// path is taken) is skipped, and may have been another row's manager:
	// start again without it until every row left goes through.
	for {
		todo = s.managers(todo)
		res.Changes, res.Files = []Change{}, map[string][]byte{}
		dropped := -1
		for i, pl := range todo {
			ok, err := s.apply(pl)
			if err != nil {
				return nil, err
			}
			if !ok {
				dropped = i
				break
			}
		}
		if dropped < 0 {
			break
		}
		todo = slices.Delete(todo, dropped, dropped+1)
	}
	if err := s.references(); err != nil {
		return nil, err
	}
	if err := s.missing(); err != nil {
		return nil, err
	}
	sort.SliceStable(res.Changes, func(i, j int) bool {
		a, b := res.Changes[i], res.Changes[j]
		if kindOrder[a.Kind] != kindOrder[b.Kind] {
			return kindOrder[a.Kind] < kindOrder[b.Kind]
		}
		return a.Login < b.Login
	})
	sort.SliceStable(res.Bad, func(i, j int) bool { return res.Bad[i].Line < res.Bad[j].Line })
	lim := o.Mapping.Limits
	switch {
	case !o.Partial && lim.Missing.Exceeded(len(res.Missing), res.People):
		res.Refused = fmt.Sprintf("the export leaves out %d of the %d people HR manages, more than limits.missing allows (%d and %s): it looks truncated. Nothing was changed: check the export, or say --partial for an export of some people only",
			len(res.Missing), res.People, lim.Missing.Count, percent(lim.Missing.Share))
	case lim.Changes.Exceeded(len(res.Changes)-res.Count(Reference), res.People):
		res.Refused = fmt.Sprintf("the export changes %d people of the %d HR manages, more than limits.changes allows (%d and %s). Nothing was changed: check the export, or raise limits.changes in the mapping for this run (a first import of everyone needs it raised)",
			len(res.Changes)-res.Count(Reference), res.People, lim.Changes.Count, percent(lim.Changes.Share))
	}
	if res.Refused != "" {
		res.Files = map[string][]byte{}
	}
	return res, nil
}

func percent(f float64) string { return fmt.Sprintf("%g%%", f*100) }

func midnight(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

type syncer struct {
	repo    *model.Repository
	fsys    fs.FS
	x       *Export
	o       Options
	res     *Result
	today   model.Date
	byID    map[string]*model.Person
	claimed map[string]string // lower-case login -> the employee id a row gave it
	lower   map[string]string // lower-case login of a person or service account -> its file
	skipped map[string]int    // employee id -> the line of its row skipped
	naming  map[string]*regexp.Regexp
	logins  map[string]string        // employee id -> login, of people and rows
	former  map[string]*model.Person // lower-case former login -> whose
}

// planned is a row that passed the checks of its own: its person (nil for
// a joiner) and the login it gets.
type planned struct {
	row    Row
	person *model.Person
	login  string
}

func (s *syncer) bad(row Row, field, format string, args ...any) {
	col := ""
	if field != "" {
		col = s.o.Mapping.Columns.of(field)
	}
	s.res.Bad = append(s.res.Bad, Bad{Line: row.Line, ID: row.ID, Column: col, Reason: fmt.Sprintf(format, args...)})
	s.skipped[row.ID] = row.Line
}

// left reports whether a person's end date has passed.
func (s *syncer) left(p *model.Person) bool {
	return !p.Spec.EndDate.IsZero() && p.Spec.EndDate.Before(s.today.Time)
}

// accountName is the schema's pattern of a login (AD's sAMAccountName).
var accountName = regexp.MustCompile(`^[^"/\\\[\]:;|=,+*?<>@\x00-\x1f .]([^"/\\\[\]:;|=,+*?<>@\x00-\x1f]*[^"/\\\[\]:;|=,+*?<>@\x00-\x1f .])?$`)

// taken reports whether a login is anyone's but the person with id: a
// person's login or former login, a service account's, or a row's.
func (s *syncer) taken(l, id string) (string, bool) {
	k := strings.ToLower(l)
	if path, ok := s.lower[k]; ok {
		if p := s.byID[id]; p == nil || !strings.EqualFold(p.Metadata.Name, l) {
			return path, true
		}
	}
	if p := s.former[k]; p != nil && p.Metadata.ID != id {
		return p.Source.Path + " (a former login)", true
	}
	if other, ok := s.claimed[k]; ok && other != id {
		return "the row of employee " + other, true
	}
	return "", false
}

func (s *syncer) plan(row Row, rule []part) (planned, bool) {
	p := s.byID[row.ID]
	if p != nil && p.Spec.Source != SourceHR {
		s.bad(row, FieldID, "%s has this employee id and no \"source: hr\": HR does not manage it; add source: hr to the file to let it", p.Source.Path)
		return planned{}, false
	}
	if p == nil && !row.End.IsZero() && row.End.Before(s.today.Time) {
		s.res.Past++ // left before today and never had a file
		return planned{}, false
	}
	pl := planned{row: row, person: p}
	switch {
	case row.has[FieldLogin] && row.Login != "" && (p == nil || !strings.EqualFold(row.Login, p.Metadata.Name)):
		pl.login = row.Login
	case p != nil:
		pl.login = p.Metadata.Name
	case rule == nil:
		s.bad(row, FieldLogin, "empty, and the mapping has no login rule: give the login, or a rule such as {given:1}{surname}")
		return planned{}, false
	default:
		pl.login = login(rule, row.GivenName, row.Surname, func(l string) bool { _, t := s.taken(l, row.ID); return t })
		if pl.login == "" {
			s.bad(row, FieldSurname, "the login rule makes nothing of %q %q: give a login column", row.GivenName, row.Surname)
			return planned{}, false
		}
	}
	if p == nil || pl.login != p.Metadata.Name {
		if where, t := s.taken(pl.login, row.ID); t {
			s.bad(row, FieldLogin, "login %s is taken by %s: give this person another login", pl.login, where)
			return planned{}, false
		}
		if utf8.RuneCountInString(pl.login) > MaxLogin || !accountName.MatchString(pl.login) {
			s.bad(row, FieldLogin, "%q is not a login Active Directory takes (at most %d characters, none of \" / \\ [ ] : ; | = , + * ? < > @, no space or period at either end): give another", pl.login, MaxLogin)
			return planned{}, false
		}
		t := s.template(p, row)
		if re := s.pattern(t); re != nil && !re.MatchString(pl.login) {
			s.bad(row, FieldLogin, "login %s does not match template %s's naming pattern %s: give a login that does, or change the mapping's login rule", pl.login, t.Metadata.Name, t.Spec.Naming)
			return planned{}, false
		}
	}
	s.claimed[strings.ToLower(pl.login)] = row.ID
	return pl, true
}

// template is the template a person would have after the row.
func (s *syncer) template(p *model.Person, row Row) *model.WorkflowTemplate {
	q := &model.Person{}
	if p != nil {
		q.Spec.Template = p.Spec.Template
	}
	q.Spec.Type = row.Type
	if q.Spec.Type == "" {
		q.Spec.Type = model.TypeEmployee
		if p != nil {
			q.Spec.Type = p.Spec.Type
		}
	}
	return s.repo.TemplateOf(q)
}

func (s *syncer) pattern(t *model.WorkflowTemplate) *regexp.Regexp {
	if t == nil || t.Spec.Naming == "" {
		return nil
	}
	re, ok := s.naming[t.Metadata.Name]
	if !ok {
		re, _ = regexp.Compile(t.Spec.Naming) // the loader checked it
		s.naming[t.Metadata.Name] = re
	}
	return re
}

// managers resolves each row's manager (an employee id) to a login, from
// the repository or another row; a row whose manager is no one is
// skipped, and so, in turn, are the rows managed by a joiner skipped.
func (s *syncer) managers(todo []planned) []planned {
	if !s.x.Has[FieldManager] {
		return todo
	}
	// Each pass drops rows; a joiner dropped may have managed others.
	for {
		logins := map[string]string{}
		for id, p := range s.byID {
			logins[id] = p.Metadata.Name
		}
		for _, pl := range todo {
			logins[pl.row.ID] = pl.login
		}
		var keep []planned
		for _, pl := range todo {
			m := pl.row.Manager
			switch {
			case m == "":
			case m == pl.row.ID:
				s.bad(pl.row, FieldManager, "the person is their own manager: fix the row in HR")
				continue
			case logins[m] == "" && s.skipped[m] != 0:
				s.bad(pl.row, FieldManager, "manager %s's row (line %d) is skipped, so this one is too: fix that row", m, s.skipped[m])
				continue
			case logins[m] == "":
				s.bad(pl.row, FieldManager, "manager %s is no one in the repository or the export: fix the row in HR, or add the manager", m)
				continue
			}
			keep = append(keep, pl)
		}
		if len(keep) == len(todo) {
			s.logins = logins
			return keep
		}
		todo = keep
	}
}
