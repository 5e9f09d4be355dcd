package scaffold

import (
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/alm-project/alm/reconciler/load"
	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/schemas"
)

// Account is the file of a new account and what was chosen for it.
type Account struct {
	File
	Kind    string
	Name    string
	ID      string
	Created model.Date // service accounts: the day requested
	Expires model.Date // service accounts
	Start   model.Date // people
	End     model.Date // people, when given
}

// ServiceAccountRequest is what alm new service-account asks for.
type ServiceAccountRequest struct {
	Name        string
	Owner       string
	Template    string // "": the repository's only ServiceAccount template
	Description string
	Custodians  []string
	Roles       []string
	Expires     model.Date // zero: created plus the template's lifetime.default
}

// PersonRequest is what alm new person asks for.
type PersonRequest struct {
	Login      string
	ID         string // the HR number
	Given      string
	Surname    string
	Email      string
	Manager    string
	Type       string // "": employee
	Department string
	Title      string
	Start      model.Date // zero: today
	End        model.Date
	Roles      []string
}

// idEncoding is base32 in lower case: letters and digits 2-7, which the
// schema's id pattern (^sa-[0-9A-Za-z]+$) allows and nobody misreads.
var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// idLength is the random part of a service account's id: 10 characters,
// 50 bits, so that two requests made in parallel branches do not collide.
const idLength = 10

// Load reads the working tree at dir as alm validate does, and refuses a
// repository that has problems already: a new file would be judged with
// them, and its own problems lost among them.
func Load(dir string) (*model.Repository, error) {
	repo, problems, err := load.Dir(dir)
	if err != nil {
		return nil, err
	}
	if len(problems) > 0 {
		return nil, &InvalidError{fmt.Errorf("%s has %d problems already; fix them (alm validate lists them) and run alm new again:\n%w", dir, len(problems), problems)}
	}
	if repo.Directory == nil {
		return nil, invalid("%s has no %s: run alm init there first, or pass --repo the access repository", dir, model.DirectoryFile)
	}
	return repo, nil
}

// ServiceAccount returns the file of a new service account, requested
// today, with an id drawn from random.
func ServiceAccount(repo *model.Repository, r ServiceAccountRequest, today model.Date, random io.Reader) (Account, error) {
	if r.Name == "" {
		return Account{}, invalid("the service account needs a name, e.g. alm new service-account svc-backup")
	}
	if strings.TrimSpace(r.Description) == "" {
		return Account{}, invalid("--description is required: what %s does, in a sentence (it becomes the AD description)", r.Name)
	}
	t, err := serviceTemplate(repo, r.Template)
	if err != nil {
		return Account{}, err
	}
	if err := naming(t, r.Name); err != nil {
		return Account{}, err
	}
	if err := isPerson(repo, "--owner", r.Owner); err != nil {
		return Account{}, err
	}
	for _, c := range r.Custodians {
		if err := isPerson(repo, "--custodian", c); err != nil {
			return Account{}, err
		}
	}
	l := t.Spec.Lifetime
	if l == nil {
		return Account{}, invalid("template %s has no lifetime: add lifetime: {default: 180d, max: 365d} to %s", t.Metadata.Name, t.Source.Path)
	}
	latest := dayOf(today.Plus(l.Max, time.UTC)) // dates of one zone compare the same in any: count in UTC, as alm validate does
	expires := r.Expires
	switch {
	case expires.IsZero():
		expires = dayOf(today.Plus(l.Default, time.UTC))
	case !expires.After(today.Time):
		return Account{}, invalid("--expires %s is not after today, %s: give a day to come", expires, today)
	case expires.After(latest.Time):
		return Account{}, invalid("--expires %s is past template %s's lifetime.max of %s from today (%s): expire on or before %s, and renew later", expires, t.Metadata.Name, l.Max, today, latest)
	}
	id, err := freshID(repo, random)
	if err != nil {
		return Account{}, err
	}

	var b strings.Builder
	b.WriteString("apiVersion: " + model.APIVersion + "\nkind: " + model.KindServiceAccount + "\n")
	b.WriteString("metadata:\n  name: " + scalarOf(r.Name) + "\n")
	b.WriteString("  id: " + id + "   # generated once, never changed: the ownership marker in the directory\n")
	b.WriteString("spec:\n  template: " + scalarOf(t.Metadata.Name) + "\n")
	b.WriteString("  description: " + scalarOf(r.Description) + "\n")
	b.WriteString("  owner: " + scalarOf(r.Owner) + "   # answers for the account and receives its notices\n")
	if len(r.Custodians) > 0 {
		b.WriteString("  custodians: " + flowList(r.Custodians) + "   # stand in for the owner\n")
	}
	if len(r.Roles) > 0 {
		b.WriteString("  roles: " + flowList(r.Roles) + "\n")
	}
	b.WriteString("  created: " + today.String() + "   # the day requested\n")
	fmt.Fprintf(&b, "  expires: %s   # at most %s (template %s's lifetime.max) after created; renew by moving both\n", expires, l.Max, t.Metadata.Name)
	return Account{
		File:    File{Path: model.Folders[model.KindServiceAccount] + "/" + r.Name + ".yaml", Data: align([]byte(b.String()))},
		Kind:    model.KindServiceAccount,
		Name:    r.Name,
		ID:      id,
		Created: today,
		Expires: expires,
	}, nil
}

// Person returns the file of a new person, starting on r.Start or today.
func Person(repo *model.Repository, r PersonRequest, today model.Date) (Account, error) {
	if r.Login == "" {
		return Account{}, invalid("the person needs a login, e.g. alm new person jdoe")
	}
	for _, f := range []struct{ flag, v, what string }{
		{"--id", r.ID, "the HR employee number, e.g. --id 004217; it never changes and marks the account as alm's"},
		{"--given", r.Given, "the first name"},
		{"--surname", r.Surname, "the last name"},
	} {
		if strings.TrimSpace(f.v) == "" {
			return Account{}, invalid("%s is required: %s", f.flag, f.what)
		}
	}
	if r.Type == "" {
		r.Type = "employee"
	}
	if r.Start.IsZero() {
		r.Start = today
	}
	if r.Manager != "" {
		if err := isPerson(repo, "--manager", r.Manager); err != nil {
			return Account{}, err
		}
	}
	for _, other := range repo.People {
		if other.Metadata.ID == r.ID {
			return Account{}, invalid("--id %s is people/%s.yaml's already: each person has their own HR number", r.ID, other.Metadata.Name)
		}
	}
	p := &model.Person{Metadata: model.AccountMetadata{Name: r.Login, ID: r.ID}, Spec: model.PersonSpec{Type: r.Type}}
	t := repo.TemplateOf(p)
	if t == nil {
		return Account{}, invalid("no template applies to people of type %s: add one to templates/ (appliesTo: Person, personTypes: [%s]) or pass another --type", r.Type, r.Type)
	}
	if err := naming(t, r.Login); err != nil {
		return Account{}, err
	}

	var b strings.Builder
	b.WriteString("apiVersion: " + model.APIVersion + "\nkind: " + model.KindPerson + "\n")
	b.WriteString("metadata:\n  name: " + scalarOf(r.Login) + "\n")
	b.WriteString("  id: " + quoted(r.ID) + "   # the HR number, quoted so leading zeros survive; never changes\n")
	b.WriteString("spec:\n  givenName: " + scalarOf(r.Given) + "\n  surname: " + scalarOf(r.Surname) + "\n")
	if r.Email != "" {
		b.WriteString("  email: " + scalarOf(r.Email) + "\n")
	}
	b.WriteString("  type: " + scalarOf(r.Type) + "   # template " + t.Metadata.Name + " applies\n")
	b.WriteString("  source: manual   # written through a pull request, not by an HR feed\n")
	if r.Department != "" {
		b.WriteString("  department: " + scalarOf(r.Department) + "\n")
	}
	if r.Title != "" {
		b.WriteString("  title: " + scalarOf(r.Title) + "\n")
	}
	if r.Manager != "" {
		b.WriteString("  manager: " + scalarOf(r.Manager) + "   # approves this person's access\n")
	}
	b.WriteString("  startDate: " + r.Start.String() + "   # the first working day\n")
	if !r.End.IsZero() {
		b.WriteString("  endDate: " + r.End.String() + "   # the first day without access\n")
	}
	if len(r.Roles) > 0 {
		b.WriteString("  roles: " + flowList(r.Roles) + "\n")
	}
	return Account{
		File:  File{Path: model.Folders[model.KindPerson] + "/" + r.Login + ".yaml", Data: align([]byte(b.String()))},
		Kind:  model.KindPerson,
		Name:  r.Login,
		ID:    r.ID,
		Start: r.Start,
		End:   r.End,
	}, nil
}

// Add writes a new account's file into the working tree at dir, refusing
// to replace one, and loads the repository with it as alm validate does.
// When that finds problems the file is removed again and the problems
// returned: the repository is left as it was.
func Add(dir string, a Account) (load.Problems, error) {
	p := filepath.Join(dir, filepath.FromSlash(a.Path))
	data := a.Data
	// Point editors at the schema when init left a copy of the schemas here.
	if kind := kindOf(a.Path); kind != "" {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(path.Join(SchemaDir, schemas.FileOf(kind))))); err == nil {
			data = append([]byte(SchemaComment(a.Path, kind)+"\n"), data...)
		}
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, fmt.Errorf("make folder for %s: %w", a.Path, err)
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return nil, invalid("%s exists already: edit it, or choose another name", p)
	}
	if err != nil {
		return nil, err
	}
	_, werr := f.Write(data)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(p)
		return nil, fmt.Errorf("write %s: %w", p, werr)
	}
	_, problems, err := load.Dir(dir)
	if err != nil || len(problems) > 0 {
		if rerr := os.Remove(p); rerr != nil {
			return problems, errors.Join(err, fmt.Errorf("remove %s again: %w", p, rerr))
		}
	}
	return problems, err
}

// serviceTemplate finds the template a new service account is under.
func serviceTemplate(repo *model.Repository, name string) (*model.WorkflowTemplate, error) {
	var names []string
	for _, n := range model.SortedNames(repo.Templates) {
		if repo.Templates[n].Spec.AppliesTo == model.KindServiceAccount {
			names = append(names, n)
		}
	}
	if name == "" {
		switch len(names) {
		case 0:
			return nil, invalid("no template applies to service accounts: add one to templates/ (alm init writes templates/service-account.yaml)")
		case 1:
			return repo.Templates[names[0]], nil
		}
		return nil, invalid("--template is required: templates %s apply to service accounts", strings.Join(names, ", "))
	}
	t, ok := repo.Templates[name]
	if !ok || t.Spec.AppliesTo != model.KindServiceAccount {
		return nil, invalid("--template %s: templates/%s.yaml is no template for service accounts; name one of: %s", name, name, strings.Join(names, ", "))
	}
	return t, nil
}

// naming checks a login against its template's naming pattern.
func naming(t *model.WorkflowTemplate, login string) error {
	if t.Spec.Naming == "" {
		return nil
	}
	re, err := regexp.Compile(t.Spec.Naming)
	if err != nil {
		return invalid("%s: spec.naming is no regular expression: %v", t.Source.Path, err)
	}
	if !re.MatchString(login) {
		return invalid("%q does not match template %s's naming pattern %s: choose a name that does", login, t.Metadata.Name, t.Spec.Naming)
	}
	return nil
}

// isPerson refuses a login that is no person of the repository.
func isPerson(repo *model.Repository, flag, login string) error {
	if login == "" {
		return invalid("%s is required: the login of a person in people/", flag)
	}
	if _, ok := repo.People[login]; !ok {
		return invalid("%s %s: people/%s.yaml does not exist; name a person of this repository, or add their file first (alm new person)", flag, login, login)
	}
	return nil
}

// freshID draws a service account id no file of the repository has.
func freshID(repo *model.Repository, random io.Reader) (string, error) {
	used := map[string]bool{}
	for _, a := range repo.ServiceAccounts {
		used[a.Metadata.ID] = true
	}
	for _, p := range repo.People {
		used[p.Metadata.ID] = true
	}
	buf := make([]byte, 7) // 56 bits: 12 base32 characters, cut to idLength
	for range 10 {
		if _, err := io.ReadFull(random, buf); err != nil {
			return "", fmt.Errorf("draw an id: %w", err)
		}
		id := "sa-" + idEncoding.EncodeToString(buf)[:idLength]
		if !used[id] {
			return id, nil
		}
	}
	return "", errors.New("draw an id: ten draws were all taken: the random source repeats")
}

// dayOf is the calendar day of an instant counted in UTC.
func dayOf(t time.Time) model.Date {
	y, m, d := t.Date()
	return model.Date{Time: time.Date(y, m, d, 0, 0, 0, 0, time.UTC)}
}

// Today is the calendar day of now in zone, as the files write days.
func Today(now time.Time, zone *time.Location) model.Date { return dayOf(now.In(zone)) }

// scalarOf is scalar for values the files have checked already.
func scalarOf(s string) string {
	v, err := scalar(s)
	if err != nil {
		return quoted(s)
	}
	return v
}

// quoted writes s as a double-quoted YAML scalar: a string whatever it holds.
func quoted(s string) string {
	b, err := yaml.Marshal(&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Style: yaml.DoubleQuotedStyle, Value: s})
	if err != nil {
		return fmt.Sprintf("%q", s)
	}
	return strings.TrimSuffix(string(b), "\n")
}

// flowList writes names as a YAML flow list: [a, b].
func flowList(names []string) string {
	parts := slices.Clone(names)
	for i, n := range parts {
		parts[i] = scalarOf(n)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
