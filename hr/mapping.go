package hr

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/alm-project/alm/reconciler/model"
)

// Mapping says how to read an HR export: which column holds which field,
// how logins are made, how dates are written, which HR person types are
// which alm type, and the limits that refuse an export whole.
type Mapping struct {
	Columns Columns `yaml:"columns"`
	// Login is the rule that makes a joiner's login when the export has no
	// login column, or the row's is empty: {given}, {surname}, {given:1}
	// (the first letter), {surname:N}, and literal characters; the result
	// is lower-cased, transliterated to a-z, digits, '.', '-' and '_',
	// cut to 20 characters and made unique with a number.
	Login string `yaml:"login"`
	// DateFormats are the layouts dates are written in, tried in order:
	// YYYY, MM, DD (and M, D without leading zero), any other character
	// literal. Default YYYY-MM-DD.
	DateFormats []string `yaml:"dateFormats"`
	// Types maps HR's person types to alm's (employee, contractor,
	// partner), compared ignoring case; alm's own names need no entry.
	Types map[string]string `yaml:"types"`
	// Separator is "," or ";" or tab; default: guessed from the header.
	Separator string `yaml:"separator"`
	Limits    Limits `yaml:"limits"`
}

// Columns are the export's column headers (compared ignoring case and
// surrounding space) for each field alm reads. An empty name means the
// export has no such column: HR does not own that field.
type Columns struct {
	ID         string `yaml:"id"`
	Login      string `yaml:"login"`
	GivenName  string `yaml:"givenName"`
	Surname    string `yaml:"surname"`
	Email      string `yaml:"email"`
	Department string `yaml:"department"`
	Title      string `yaml:"title"`
	Manager    string `yaml:"manager"` // the manager's employee id
	Type       string `yaml:"type"`
	StartDate  string `yaml:"startDate"`
	EndDate    string `yaml:"endDate"`
}

// Limits refuse an export whole when it would change, or leaves out, more
// people than an export plausibly should: a truncated or wrong file must
// not fire or rewrite everyone. A limit is passed when the count exceeds
// both Count and Share of the people HR manages.
type Limits struct {
	Changes Limit `yaml:"changes"`
	Missing Limit `yaml:"missing"`
}

// Limit is a count and a share; both must be exceeded to refuse.
type Limit struct {
	Count int     `yaml:"count"`
	Share float64 `yaml:"share"`
}

// Exceeded reports whether n of total passes the limit.
func (l Limit) Exceeded(n, total int) bool {
	return n > l.Count && float64(n) > l.Share*float64(total)
}

// Field names, as the mapping's columns and alm's files name them.
const (
	FieldID         = "id"
	FieldLogin      = "login"
	FieldGivenName  = "givenName"
	FieldSurname    = "surname"
	FieldEmail      = "email"
	FieldDepartment = "department"
	FieldTitle      = "title"
	FieldManager    = "manager"
	FieldType       = "type"
	FieldStartDate  = "startDate"
	FieldEndDate    = "endDate"
)

// fields in the order a file lists them.
var fields = []string{FieldID, FieldLogin, FieldGivenName, FieldSurname, FieldEmail, FieldDepartment, FieldTitle, FieldManager, FieldType, FieldStartDate, FieldEndDate}

func (c Columns) of(field string) string {
	switch field {
	case FieldID:
		return c.ID
	case FieldLogin:
		return c.Login
	case FieldGivenName:
		return c.GivenName
	case FieldSurname:
		return c.Surname
	case FieldEmail:
		return c.Email
	case FieldDepartment:
		return c.Department
	case FieldTitle:
		return c.Title
	case FieldManager:
		return c.Manager
	case FieldType:
		return c.Type
	case FieldStartDate:
		return c.StartDate
	case FieldEndDate:
		return c.EndDate
	}
	return ""
}

// Default is the mapping used without --mapping: columns named as alm's
// fields, logins from the export's login column or first initial and
// surname, ISO dates, and limits of 20 people and a quarter of them
// changed, 3 people and 5% missing.
func Default() Mapping {
	return Mapping{
		Columns: Columns{ID: "id", Login: "login", GivenName: "givenName", Surname: "surname", Email: "email",
			Department: "department", Title: "title", Manager: "manager", Type: "type", StartDate: "startDate", EndDate: "endDate"},
		Login:       "{given:1}{surname}",
		DateFormats: []string{"YYYY-MM-DD"},
		Limits:      Limits{Changes: Limit{Count: 20, Share: 0.25}, Missing: Limit{Count: 3, Share: 0.05}},
	}
}

// LoadMapping reads a mapping file over the defaults: a field it leaves
// out keeps its default; a column set to "" means the export has none.
// Unknown fields and bad values are refused at their line.
func LoadMapping(path string) (Mapping, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Mapping{}, fmt.Errorf("mapping: %w", err)
	}
	return ParseMapping(path, data)
}

// ParseMapping is LoadMapping of data read from file.
func ParseMapping(file string, data []byte) (Mapping, error) {
	m := Default()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		return Mapping{}, fmt.Errorf("%s: %w: see alm hr sync --help for the mapping's fields", file, err)
	}
	return m, m.check(file)
}

func (m *Mapping) check(file string) error {
	if m.Columns.ID == "" {
		return fmt.Errorf("%s: columns.id: name the column of the employee id, the key of every person", file)
	}
	for _, f := range []string{FieldGivenName, FieldSurname, FieldStartDate} {
		if m.Columns.of(f) == "" {
			return fmt.Errorf("%s: columns.%s: name the column; a person file needs it", file, f)
		}
	}
	seen := map[string]string{}
	for _, f := range fields {
		name := strings.ToLower(strings.TrimSpace(m.Columns.of(f)))
		if name == "" {
			continue
		}
		if other, ok := seen[name]; ok {
			return fmt.Errorf("%s: columns.%s and columns.%s both name column %q: each field has its own column", file, other, f, m.Columns.of(f))
		}
		seen[name] = f
	}
	if m.Columns.Login == "" && m.Login == "" {
		return fmt.Errorf("%s: neither columns.login nor a login rule: name one", file)
	}
	if m.Login != "" {
		if _, err := parseRule(m.Login); err != nil {
			return fmt.Errorf("%s: login: %w", file, err)
		}
	}
	if len(m.DateFormats) == 0 {
		m.DateFormats = []string{"YYYY-MM-DD"}
	}
	for i, f := range m.DateFormats {
		if _, err := layout(f); err != nil {
			return fmt.Errorf("%s: dateFormats[%d]: %w", file, i, err)
		}
	}
	for k, v := range m.Types {
		if !validType(v) {
			return fmt.Errorf("%s: types[%q]: %q is not employee, contractor or partner", file, k, v)
		}
	}
	switch m.Separator {
	case "", ",", ";", "\t":
	default:
		return fmt.Errorf("%s: separator %q: use \",\", \";\" or a tab", file, m.Separator)
	}
	for name, l := range map[string]Limit{"limits.changes": m.Limits.Changes, "limits.missing": m.Limits.Missing} {
		if l.Count < 0 || l.Share < 0 || l.Share > 1 {
			return fmt.Errorf("%s: %s: count is a number of people (0 or more), share a fraction from 0 to 1", file, name)
		}
	}
	return nil
}

func validType(t string) bool {
	switch t {
	case model.TypeEmployee, model.TypeContractor, "partner":
		return true
	}
	return false
}

// personType maps an HR type to alm's; "" for a blank cell (an existing
// person keeps theirs, a joiner is an employee); false when not known.
func (m Mapping) personType(v string) (string, bool) {
	if v == "" {
		return "", true
	}
	for k, t := range m.Types {
		if strings.EqualFold(k, v) {
			return t, true
		}
	}
	if l := strings.ToLower(v); validType(l) {
		return l, true
	}
	return "", false
}

// layout turns YYYY-MM-DD style into a Go layout.
func layout(f string) (string, error) {
	var b strings.Builder
	y, mo, d := false, false, false
	for i := 0; i < len(f); {
		switch {
		case strings.HasPrefix(f[i:], "YYYY"):
			b.WriteString("2006")
			i, y = i+4, true
		case strings.HasPrefix(f[i:], "MM"):
			b.WriteString("01")
			i, mo = i+2, true
		case strings.HasPrefix(f[i:], "DD"):
			b.WriteString("02")
			i, d = i+2, true
		case f[i] == 'M':
			b.WriteString("1")
			i, mo = i+1, true
		case f[i] == 'D':
			b.WriteString("2")
			i, d = i+1, true
		case f[i] >= '0' && f[i] <= '9' || f[i] >= 'A' && f[i] <= 'Z' || f[i] >= 'a' && f[i] <= 'z':
			return "", fmt.Errorf("%q: %q is neither YYYY, MM, DD, M nor D: write other characters as separators only", f, f[i:i+1])
		default:
			b.WriteByte(f[i])
			i++
		}
	}
	if !y || !mo || !d {
		return "", fmt.Errorf("%q: a date format needs YYYY, a month (MM or M) and a day (DD or D)", f)
	}
	return b.String(), nil
}

// date parses v in the first format that reads it.
func (m Mapping) date(v string) (model.Date, error) {
	for _, f := range m.DateFormats {
		l, _ := layout(f)
		if t, err := time.Parse(l, v); err == nil {
			return model.Date{Time: t}, nil
		}
	}
	return model.Date{}, fmt.Errorf("%q is not a date in %s", v, strings.Join(m.DateFormats, " or "))
}
