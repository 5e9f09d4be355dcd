package hr

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/splice"
)

// specOrder is the order alm's files list a person's spec: a field added
// goes after the nearest one before it that the file has.
var specOrder = []string{"givenName", "surname", "displayName", "cn", "email", "github", "publicKey", "reviewed", "type", "source",
	"template", "department", "title", "manager", "startDate", "endDate", "inactive", "roles", "previousNames"}

func after(field string) []string {
	i := slices.Index(specOrder, field)
	if i < 0 {
		return nil
	}
	out := slices.Clone(specOrder[:i])
	slices.Reverse(out)
	return out
}

// apply works out and makes one row's change; false when the row is
// skipped (into Bad) because its file cannot take it.
func (s *syncer) apply(pl planned) (bool, error) {
	if pl.person == nil {
		return s.join(pl)
	}
	row, p := pl.row, pl.person
	var fields []Field
	set := func(field, from, to string) {
		if row.has[field] && from != to {
			fields = append(fields, Field{Name: field, From: from, To: to})
		}
	}
	set(FieldGivenName, p.Spec.GivenName, row.GivenName)
	set(FieldSurname, p.Spec.Surname, row.Surname)
	set(FieldEmail, p.Spec.Email, row.Email)
	if row.Type != "" { // a blank cell keeps the file's
		set(FieldType, p.Spec.Type, row.Type)
	}
	set(FieldDepartment, p.Spec.Department, row.Department)
	set(FieldTitle, p.Spec.Title, row.Title)
	set(FieldManager, p.Spec.Manager, s.logins[row.Manager])
	set(FieldStartDate, p.Spec.StartDate.String(), row.Start.String())
	set(FieldEndDate, p.Spec.EndDate.String(), row.End.String())
	renamed := pl.login != p.Metadata.Name
	if len(fields) == 0 && !renamed {
		return true, nil
	}
	c := Change{Kind: Mover, ID: row.ID, Login: pl.login, Path: p.Source.Path, Line: row.Line, Fields: fields}
	fileEnd, hrEnd := p.Spec.EndDate, row.End
	switch {
	case fileEnd.Equal(hrEnd.Time) || !row.has[FieldEndDate]:
		if renamed {
			c.Kind = Rename
		}
	// Back after leaving: no end now, a new start after the end, or an
	// end that had passed moved into the future.
	case !fileEnd.IsZero() && (hrEnd.IsZero() || row.Start.After(fileEnd.Time) || s.left(p) && !hrEnd.Before(s.today.Time)):
		c.Kind, c.Note = Rehire, s.rehired(p, row)
	case fileEnd.IsZero():
		c.Kind = Leaver
	case row.Type == model.TypeContractor && p.Spec.Type == model.TypeContractor:
		c.Kind = Contract
	default:
		c.Kind = Leaver
	}
	data, err := fs.ReadFile(s.fsys, p.Source.Path)
	if err != nil {
		return false, fmt.Errorf("%s: %w", p.Source.Path, err)
	}
	for _, f := range fields {
		if data, err = edit(p.Source.Path, data, f); err != nil {
			s.bad(row, f.Name, "%v", err)
			return false, nil
		}
	}
	if renamed {
		c.OldLogin, c.OldPath = p.Metadata.Name, p.Source.Path
		c.Path = path.Join(path.Dir(p.Source.Path), pl.login+".yaml")
		c.Fields = append([]Field{{Name: FieldLogin, From: p.Metadata.Name, To: pl.login}}, c.Fields...)
		if _, err := fs.Stat(s.fsys, c.Path); err == nil {
			s.bad(row, FieldLogin, "%s exists already: move it away, or give this person another login", c.Path)
			return false, nil
		}
		// The new login leaves previousNames (a return to a former one);
		// the old one joins it.
		var prev []string
		for _, n := range p.Spec.PreviousNames {
			if !strings.EqualFold(n, pl.login) && !strings.EqualFold(n, p.Metadata.Name) {
				prev = append(prev, splice.Scalar(n))
			}
		}
		prev = append(prev, splice.Scalar(p.Metadata.Name))
		if data, err = splice.Set(p.Source.Path, data, []string{"metadata", "name"}, splice.Scalar(pl.login)); err == nil {
			data, err = splice.Set(p.Source.Path, data, []string{"spec", "previousNames"}, "["+strings.Join(prev, ", ")+"]", after("previousNames")...)
		}
		if err != nil {
			s.bad(row, FieldLogin, "%v", err)
			return false, nil
		}
		s.res.Files[c.OldPath] = nil
	}
	s.res.Files[c.Path] = data
	s.res.Changes = append(s.res.Changes, c)
	return true, nil
}

// edit sets one spec field in a file's bytes, or removes it when To is "".
func edit(file string, data []byte, f Field) ([]byte, error) {
	key := []string{"spec", f.Name}
	if f.To == "" {
		return splice.Delete(file, data, key...)
	}
	literal := splice.Scalar(f.To)
	if f.Name == FieldStartDate || f.Name == FieldEndDate {
		literal = f.To // YYYY-MM-DD, written plain as every date in the files
	}
	return splice.Set(file, data, key, literal, after(f.Name)...)
}

// rehired says what a rehire does, by the template's leaver rules: an
// account archived since is made again; one still a leaver is enabled.
func (s *syncer) rehired(p *model.Person, row Row) string {
	left := p.Spec.EndDate
	t := s.repo.TemplateOf(p)
	if t != nil && t.Spec.Leaver != nil && !t.Spec.Leaver.Retention.IsZero() {
		archived := left.Plus(t.Spec.Leaver.Retention, s.repo.Zone())
		if archived.Format(time.DateOnly) <= s.today.String() {
			how := "deleted"
			if t.Spec.Leaver.Archive == model.ArchiveStub {
				how = "kept as a disabled stub"
			}
			return fmt.Sprintf("left %s and was archived %s (%s, template %s): the account is made again, starting %s", left, archived.Format("2006-01-02"), how, t.Metadata.Name, row.Start)
		}
	}
	if row.Start.After(left.Time) {
		return fmt.Sprintf("left %s; starts again %s", left, row.Start)
	}
	return fmt.Sprintf("was to leave %s; stays", left)
}

// join writes a joiner's new file.
func (s *syncer) join(pl planned) (bool, error) {
	row := pl.row
	file := path.Join(model.Folders[model.KindPerson], pl.login+".yaml")
	if _, err := fs.Stat(s.fsys, file); err == nil {
		s.bad(row, FieldLogin, "%s exists already (not a person alm could read): move it away, or give this person another login", file)
		return false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("%s: %w", file, err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: alm/v1\nkind: Person\nmetadata:\n  name: %s\n  id: %s\nspec:\n", splice.Scalar(pl.login), splice.Scalar(row.ID))
	c := Change{Kind: Joiner, ID: row.ID, Login: pl.login, Path: file, Line: row.Line, Fields: []Field{}}
	add := func(field, v string, raw bool) {
		if v == "" {
			return
		}
		lit := v
		if !raw {
			lit = splice.Scalar(v)
		}
		fmt.Fprintf(&b, "  %s: %s\n", field, lit)
		if field != "source" {
			c.Fields = append(c.Fields, Field{Name: field, To: v})
		}
	}
	add(FieldGivenName, row.GivenName, false)
	add(FieldSurname, row.Surname, false)
	add(FieldEmail, row.Email, false)
	typ := row.Type
	if typ == "" {
		typ = model.TypeEmployee
	}
	add(FieldType, typ, false)
	add("source", SourceHR, false)
	add(FieldDepartment, row.Department, false)
	add(FieldTitle, row.Title, false)
	add(FieldManager, s.logins[row.Manager], false)
	add(FieldStartDate, row.Start.String(), true)
	add(FieldEndDate, row.End.String(), true)
	if row.Start.After(s.today.Time) {
		c.Note = "pending until " + row.Start.String()
	}
	s.res.Files[file] = []byte(b.String())
	s.res.Changes = append(s.res.Changes, c)
	return true, nil
}

// missing lists the people HR manages whom a full export leaves out and
// who have not left. With LeaveMissing those at work with no end date
// leave today; someone not started yet, or leaving on a date already, is
// only reported: an export that drops them early must not cut them off.
func (s *syncer) missing() error {
	if s.o.Partial {
		return nil
	}
	seen := map[string]bool{}
	for _, r := range s.x.Rows {
		seen[r.ID] = true
	}
	for id := range s.skipped {
		seen[id] = true
	}
	for _, name := range s.repo.PersonNames() {
		p := s.repo.People[name]
		if p.Spec.Source != SourceHR || seen[p.Metadata.ID] || s.left(p) {
			continue
		}
		m := Missing{Login: p.Metadata.Name, ID: p.Metadata.ID, Path: p.Source.Path}
		switch {
		case p.Spec.StartDate.After(s.today.Time):
			m.Note = "starts " + p.Spec.StartDate.String() + ": not made a leaver"
		case !p.Spec.EndDate.IsZero():
			m.Note = "leaves " + p.Spec.EndDate.String() + " already: not changed"
		case s.o.LeaveMissing:
			data, err := s.current(p)
			if err != nil {
				return err
			}
			f := Field{Name: FieldEndDate, To: s.today.String()}
			if data, err = edit(p.Source.Path, data, f); err != nil {
				s.res.Bad = append(s.res.Bad, Bad{File: p.Source.Path, ID: p.Metadata.ID, Reason: err.Error()})
				break
			}
			s.res.Files[p.Source.Path] = data
			s.res.Changes = append(s.res.Changes, Change{Kind: Leaver, ID: p.Metadata.ID, Login: p.Metadata.Name, Path: p.Source.Path,
				Fields: []Field{f}, Note: "not in the export (--missing leave)"})
			m.Left = true
		}
		s.res.Missing = append(s.res.Missing, m)
	}
	return nil
}

// current is a person's file as this sync has it so far.
func (s *syncer) current(p *model.Person) ([]byte, error) {
	if data, ok := s.res.Files[p.Source.Path]; ok && data != nil {
		return data, nil
	}
	data, err := fs.ReadFile(s.fsys, p.Source.Path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.Source.Path, err)
	}
	return data, nil
}

// references updates, with each rename, the files that name the old
// login: people's spec.manager, service accounts' spec.owner and
// spec.custodians. A file that cannot take the edit is reported: the
// rename would leave it naming no one.
func (s *syncer) references() error {
	renamed := map[string]string{} // old login -> new
	where := map[string]int{}      // metadata.id -> index of its change
	for i, c := range s.res.Changes {
		if c.OldLogin != "" {
			renamed[c.OldLogin] = c.Login
		}
		where[c.ID] = i
	}
	if len(renamed) == 0 {
		return nil
	}
	note := func(id, login, file string, f Field) {
		if i, ok := where[id]; ok {
			s.res.Changes[i].Fields = append(s.res.Changes[i].Fields, f)
			return
		}
		where[id] = len(s.res.Changes)
		s.res.Changes = append(s.res.Changes, Change{Kind: Reference, ID: id, Login: login, Path: file, Fields: []Field{f},
			Note: "names a login renamed in this sync"})
	}
	refuse := func(file, id string, err error) {
		s.res.Bad = append(s.res.Bad, Bad{File: file, ID: id, Reason: fmt.Sprintf("%v: it names a login this sync renames; edit it by hand in the pull request", err)})
	}
	for _, name := range s.repo.PersonNames() {
		p := s.repo.People[name]
		to, ok := renamed[p.Spec.Manager]
		if !ok {
			continue
		}
		file := p.Source.Path
		if i, ok := where[p.Metadata.ID]; ok {
			file = s.res.Changes[i].Path
		}
		data, ok := s.res.Files[file]
		if !ok {
			var err error
			if data, err = fs.ReadFile(s.fsys, file); err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
		}
		if cur, _ := splice.Get(data, "spec", "manager"); cur != p.Spec.Manager {
			continue // the person's own row set it already
		}
		edited, err := splice.Set(file, data, []string{"spec", "manager"}, splice.Scalar(to), after("manager")...)
		if err != nil {
			refuse(file, p.Metadata.ID, err)
			continue
		}
		s.res.Files[file] = edited
		note(p.Metadata.ID, p.Metadata.Name, file, Field{Name: FieldManager, From: p.Spec.Manager, To: to})
	}
	for _, name := range s.repo.ServiceAccountNames() {
		sa := s.repo.ServiceAccounts[name]
		file := sa.Source.Path
		var data []byte
		read := func() error {
			if data != nil {
				return nil
			}
			var err error
			data, err = fs.ReadFile(s.fsys, file)
			return err
		}
		if to, ok := renamed[sa.Spec.Owner]; ok {
			if err := read(); err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
			edited, err := splice.Set(file, data, []string{"spec", "owner"}, splice.Scalar(to))
			if err != nil {
				refuse(file, sa.Metadata.ID, err)
				continue
			}
			data = edited
			note(sa.Metadata.ID, sa.Metadata.Name, file, Field{Name: "owner", From: sa.Spec.Owner, To: to})
		}
		var custodians []string
		changed := false
		for _, c := range sa.Spec.Custodians {
			if to, ok := renamed[c]; ok {
				c, changed = to, true
			}
			custodians = append(custodians, splice.Scalar(c))
		}
		if changed {
			if err := read(); err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
			edited, err := splice.Set(file, data, []string{"spec", "custodians"}, "["+strings.Join(custodians, ", ")+"]")
			if err != nil {
				refuse(file, sa.Metadata.ID, err)
				continue
			}
			data = edited
			note(sa.Metadata.ID, sa.Metadata.Name, file, Field{Name: "custodians", From: strings.Join(sa.Spec.Custodians, ", "), To: strings.Join(custodians, ", ")})
		}
		if data != nil {
			s.res.Files[file] = data
		}
	}
	return nil
}
