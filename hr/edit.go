package hr

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

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

func (s *syncer) apply(pl planned) error {
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
	set(FieldType, p.Spec.Type, row.Type)
	set(FieldDepartment, p.Spec.Department, row.Department)
	set(FieldTitle, p.Spec.Title, row.Title)
	set(FieldManager, p.Spec.Manager, s.logins[row.Manager])
	set(FieldStartDate, p.Spec.StartDate.String(), row.Start.String())
	set(FieldEndDate, p.Spec.EndDate.String(), row.End.String())
	renamed := pl.login != p.Metadata.Name
	if len(fields) == 0 && !renamed {
		return nil
	}
	c := Change{Kind: Mover, ID: row.ID, Login: pl.login, Path: p.Source.Path, Line: row.Line, Fields: fields}
	fileEnd, hrEnd := p.Spec.EndDate, row.End
	switch {
	case fileEnd.Equal(hrEnd.Time) || !row.has[FieldEndDate]:
		if renamed {
			c.Kind = Rename
		}
	case !fileEnd.IsZero() && (hrEnd.IsZero() || row.Start.After(fileEnd.Time)):
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
		return fmt.Errorf("%s: %w", p.Source.Path, err)
	}
	for _, f := range fields {
		if data, err = edit(p.Source.Path, data, f); err != nil {
			s.bad(row, f.Name, "%v", err)
			return nil
		}
	}
	if renamed {
		c.OldLogin, c.OldPath = p.Metadata.Name, p.Source.Path
		c.Path = path.Join(path.Dir(p.Source.Path), pl.login+".yaml")
		c.Fields = append([]Field{{Name: FieldLogin, From: p.Metadata.Name, To: pl.login}}, c.Fields...)
		if data, err = splice.Set(p.Source.Path, data, []string{"metadata", "name"}, splice.Scalar(pl.login)); err == nil &&
			!slices.Contains(p.Spec.PreviousNames, p.Metadata.Name) {
			data, err = splice.Append(p.Source.Path, data, []string{"spec", "previousNames"}, splice.Scalar(p.Metadata.Name), after("previousNames")...)
		}
		if err != nil {
			s.bad(row, FieldLogin, "%v", err)
			return nil
		}
		if _, err := fs.Stat(s.fsys, c.Path); err == nil && !strings.EqualFold(c.Path, c.OldPath) {
			s.bad(row, FieldLogin, "%s exists already: move it away, or give this person another login", c.Path)
			return nil
		}
		s.res.Files[c.OldPath] = nil
	}
	s.res.Files[c.Path] = data
	s.res.Changes = append(s.res.Changes, c)
	return nil
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
		if !s.today.Before(archived) {
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
func (s *syncer) join(pl planned) error {
	row := pl.row
	file := path.Join(model.Folders[model.KindPerson], pl.login+".yaml")
	if _, err := fs.Stat(s.fsys, file); err == nil {
		s.bad(row, FieldLogin, "%s exists already (not a person alm could read): move it away, or give this person another login", file)
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: %w", file, err)
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
	add(FieldType, row.Type, false)
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
	return nil
}

// missing lists the people HR manages whom a full export leaves out and
// who have not left already; with LeaveMissing they leave today.
func (s *syncer) missing() error {
	if s.o.Partial {
		return nil
	}
	seen := map[string]bool{}
	for _, r := range s.x.Rows {
		seen[r.ID] = true
	}
	for _, b := range s.res.Bad {
		seen[b.ID] = true
	}
	for _, name := range s.repo.PersonNames() {
		p := s.repo.People[name]
		// Someone who has left is expected to drop out of HR's export.
		if p.Spec.Source != SourceHR || seen[p.Metadata.ID] || !p.Spec.EndDate.IsZero() && p.Spec.EndDate.Before(s.today.Time) {
			continue
		}
		m := Missing{Login: p.Metadata.Name, ID: p.Metadata.ID, Path: p.Source.Path}
		if s.o.LeaveMissing {
			data, err := fs.ReadFile(s.fsys, p.Source.Path)
			if err != nil {
				return fmt.Errorf("%s: %w", p.Source.Path, err)
			}
			f := Field{Name: FieldEndDate, To: s.today.String()}
			if data, err = edit(p.Source.Path, data, f); err != nil {
				s.res.Bad = append(s.res.Bad, Bad{ID: p.Metadata.ID, Reason: fmt.Sprintf("%v", err)})
			} else {
				s.res.Files[p.Source.Path] = data
				s.res.Changes = append(s.res.Changes, Change{Kind: Leaver, ID: p.Metadata.ID, Login: p.Metadata.Name, Path: p.Source.Path,
					Fields: []Field{f}, Note: "not in the export (--missing leave)"})
				m.Left = true
			}
		}
		s.res.Missing = append(s.res.Missing, m)
	}
	return nil
}
