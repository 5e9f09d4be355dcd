package scaffold

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/alm-project/alm/reconciler/model"
)

var today = model.MustDate("2026-11-22")

// initialised is a new access repository with one person, jdoe, and one
// role, vpn-users.
func initialised(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := Init(dir, example, false); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "roles/vpn-users.yaml"), "apiVersion: alm/v1\nkind: Role\nmetadata: {name: vpn-users}\nspec: {groups: [VPN Users]}\n")
	repo := loaded(t, dir)
	a, err := Person(repo, PersonRequest{Login: "jdoe", ID: "004217", Given: "Jane", Surname: "Doe", Start: model.MustDate("2026-01-05")}, today)
	if err != nil {
		t.Fatal(err)
	}
	if problems, err := Add(dir, a); err != nil || len(problems) > 0 {
		t.Fatalf("add jdoe: %v\n%v", err, problems)
	}
	return dir
}

func loaded(t *testing.T, dir string) *model.Repository {
	t.Helper()
	repo, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return repo
}

// schemaID is the service account id pattern of serviceaccount.schema.json.
var schemaID = regexp.MustCompile(`^sa-[0-9A-Za-z]+$`)

func TestServiceAccount(t *testing.T) {
	tests := []struct {
		name        string
		req         ServiceAccountRequest
		wantExpires string
		refused     []string // the InvalidError says these
	}{
		{name: "the template's default lifetime", req: ServiceAccountRequest{Name: "svc-demo", Owner: "jdoe", Description: "Demo"},
			wantExpires: "2027-05-21"}, // 180 days after 2026-11-22
		{name: "an earlier expiry", req: ServiceAccountRequest{Name: "svc-demo", Owner: "jdoe", Description: "Demo", Expires: model.MustDate("2027-01-31")},
			wantExpires: "2027-01-31"},
		{name: "expiry at the maximum", req: ServiceAccountRequest{Name: "svc-demo", Owner: "jdoe", Description: "Demo", Expires: model.MustDate("2027-11-22")},
			wantExpires: "2027-11-22"},
		{name: "the template named", req: ServiceAccountRequest{Name: "svc-demo", Owner: "jdoe", Description: "Demo", Template: "service-account", Roles: []string{"vpn-users"}},
			wantExpires: "2027-05-21"},
		{name: "expiry past the maximum", req: ServiceAccountRequest{Name: "svc-demo", Owner: "jdoe", Description: "Demo", Expires: model.MustDate("2027-11-23")},
			refused: []string{"--expires 2027-11-23 is past template service-account's lifetime.max of 365d", "on or before 2027-11-22"}},
		{name: "expiry today", req: ServiceAccountRequest{Name: "svc-demo", Owner: "jdoe", Description: "Demo", Expires: today},
			refused: []string{"--expires 2026-11-22 is not after today"}},
		{name: "unknown owner", req: ServiceAccountRequest{Name: "svc-demo", Owner: "ghost", Description: "Demo"},
			refused: []string{"--owner ghost", "people/ghost.yaml does not exist"}},
		{name: "no owner", req: ServiceAccountRequest{Name: "svc-demo", Description: "Demo"},
			refused: []string{"--owner is required"}},
		{name: "unknown custodian", req: ServiceAccountRequest{Name: "svc-demo", Owner: "jdoe", Description: "Demo", Custodians: []string{"ghost"}},
			refused: []string{"--custodian ghost", "people/ghost.yaml"}},
		{name: "name against the naming pattern", req: ServiceAccountRequest{Name: "backup", Owner: "jdoe", Description: "Demo"},
			refused: []string{`"backup" does not match template service-account's naming pattern ^svc-[a-z0-9-]{2,16}$`}},
		{name: "no description", req: ServiceAccountRequest{Name: "svc-demo", Owner: "jdoe"},
			refused: []string{"--description is required"}},
		{name: "a person template", req: ServiceAccountRequest{Name: "svc-demo", Owner: "jdoe", Description: "Demo", Template: "employee"},
			refused: []string{"--template employee", "no template for service accounts", "service-account"}},
	}
	dir := initialised(t)
	repo := loaded(t, dir)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := ServiceAccount(repo, tt.req, today, rand.Reader)
			if len(tt.refused) > 0 {
				var ie *InvalidError
				if !errors.As(err, &ie) {
					t.Fatalf("error %v, want a refusal", err)
				}
				for _, s := range tt.refused {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("refusal does not say %q: %v", s, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.Path != "service-accounts/svc-demo.yaml" || a.Expires.String() != tt.wantExpires || a.Created != today {
				t.Errorf("%s created %s expires %s, want service-accounts/svc-demo.yaml, %s, %s", a.Path, a.Created, a.Expires, today, tt.wantExpires)
			}
			if !schemaID.MatchString(a.ID) || len(a.ID) != len("sa-")+idLength || strings.ToLower(a.ID) != a.ID {
				t.Errorf("id %q: want sa- and %d lower-case base32 characters", a.ID, idLength)
			}
			// Written into a copy, it validates, and loads as asked.
			d := t.TempDir()
			if err := os.CopyFS(d, os.DirFS(dir)); err != nil {
				t.Fatal(err)
			}
			problems, err := Add(d, a)
			if err != nil || len(problems) > 0 {
				t.Fatalf("add: %v\n%v\n%s", err, problems, a.Data)
			}
			got := loaded(t, d).ServiceAccounts["svc-demo"]
			if got == nil || got.Metadata.ID != a.ID || got.Spec.Expires != a.Expires || got.Spec.Created != today ||
				got.Spec.Owner != "jdoe" || got.Spec.Description != "Demo" || got.Spec.Template != "service-account" {
				t.Errorf("loaded %+v from\n%s", got, a.Data)
			}
			data, _ := os.ReadFile(filepath.Join(d, a.Path))
			if !bytes.HasPrefix(data, []byte("# yaml-language-server: $schema=../.alm/schemas/serviceaccount.schema.json\n")) {
				t.Errorf("no schema modeline:\n%s", data)
			}
		})
	}
}

// repeating yields the same bytes on every read: each draw the same id.
type repeating []byte

func (r repeating) Read(p []byte) (int, error) { return copy(p, r), nil }

// sequence yields its readers' bytes one draw after another.
type sequence []repeating

func (s *sequence) Read(p []byte) (int, error) {
	n, _ := (*s)[0].Read(p)
	*s = (*s)[1:]
	return n, nil
}

func TestServiceAccountIDIsFresh(t *testing.T) {
	dir := initialised(t)
	repo := loaded(t, dir)
	req := ServiceAccountRequest{Name: "svc-one", Owner: "jdoe", Description: "One"}
	first, err := ServiceAccount(repo, req, today, repeating{1, 2, 3, 4, 5, 6, 7})
	if err != nil {
		t.Fatal(err)
	}
	if problems, err := Add(dir, first); err != nil || len(problems) > 0 {
		t.Fatalf("add: %v %v", err, problems)
	}
	repo = loaded(t, dir)

	// The next draw repeats the id svc-one has: the one after it is taken.
	req.Name = "svc-two"
	draws := sequence{{1, 2, 3, 4, 5, 6, 7}, {7, 6, 5, 4, 3, 2, 1}}
	second, err := ServiceAccount(repo, req, today, &draws)
	if err != nil {
		t.Fatal(err)
	}
	if second.ID == first.ID || !schemaID.MatchString(second.ID) {
		t.Fatalf("second id %s, first %s: want a fresh one", second.ID, first.ID)
	}
	// A source that only repeats taken ids is an error, not a duplicate.
	if _, err := ServiceAccount(repo, req, today, repeating{1, 2, 3, 4, 5, 6, 7}); err == nil || !strings.Contains(err.Error(), "random source repeats") {
		t.Fatalf("error %v, want the repeating source named", err)
	}
	// Two draws from crypto/rand differ.
	a, _ := ServiceAccount(repo, req, today, rand.Reader)
	b, _ := ServiceAccount(repo, req, today, rand.Reader)
	if a.ID == b.ID {
		t.Errorf("two draws gave %s", a.ID)
	}
}

func TestAdd(t *testing.T) {
	dir := initialised(t)
	repo := loaded(t, dir)
	before := snapshot(t, dir)

	// A role that does not exist: the file is written, fails, and goes again.
	a, err := ServiceAccount(repo, ServiceAccountRequest{Name: "svc-demo", Owner: "jdoe", Description: "Demo", Roles: []string{"wifi"}}, today, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	problems, err := Add(dir, a)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 1 || problems[0].Pos.Path != "service-accounts/svc-demo.yaml" || !strings.Contains(problems[0].Message, `role "wifi" does not exist`) {
		t.Fatalf("problems %v, want the missing role at its line", problems)
	}
	if after := snapshot(t, dir); after != before {
		t.Errorf("the repository changed:\nbefore %s\nafter  %s", before, after)
	}

	// An existing file is never replaced.
	p, err := Person(repo, PersonRequest{Login: "jdoe2", ID: "9", Given: "J", Surname: "D"}, today)
	if err != nil {
		t.Fatal(err)
	}
	p.Path = "people/jdoe.yaml"
	if _, err := Add(dir, p); err == nil || !strings.Contains(err.Error(), "people/jdoe.yaml exists already") {
		t.Fatalf("error %v, want the existing file named", err)
	}
	if after := snapshot(t, dir); after != before {
		t.Errorf("the repository changed")
	}
}

func TestPerson(t *testing.T) {
	tests := []struct {
		name     string
		req      PersonRequest
		refused  []string
		problems string // Add's validation finds this problem
	}{
		{name: "an employee starting today", req: PersonRequest{Login: "asmith", ID: "004101", Given: "Anna", Surname: "Smith", Email: "anna.smith@example.test", Manager: "jdoe", Department: "Engineering", Title: "Head of Engineering", Roles: []string{"vpn-users"}}},
		{name: "a numeric-looking id stays a string", req: PersonRequest{Login: "bkim", ID: "000042", Given: "Bo", Surname: "Kim", Start: model.MustDate("2026-12-01")}},
		{name: "no id", req: PersonRequest{Login: "asmith", Given: "Anna", Surname: "Smith"}, refused: []string{"--id is required", "HR employee number"}},
		{name: "no surname", req: PersonRequest{Login: "asmith", ID: "1", Given: "Anna"}, refused: []string{"--surname is required"}},
		{name: "an id taken", req: PersonRequest{Login: "asmith", ID: "004217", Given: "Anna", Surname: "Smith"}, refused: []string{"--id 004217 is people/jdoe.yaml's already"}},
		{name: "unknown manager", req: PersonRequest{Login: "asmith", ID: "1", Given: "Anna", Surname: "Smith", Manager: "ghost"}, refused: []string{"--manager ghost", "people/ghost.yaml does not exist"}},
		{name: "login against the naming pattern", req: PersonRequest{Login: "Anna.Smith", ID: "1", Given: "Anna", Surname: "Smith"}, refused: []string{`"Anna.Smith" does not match template employee's naming pattern`}},
		{name: "a type no template takes", req: PersonRequest{Login: "asmith", ID: "1", Given: "Anna", Surname: "Smith", Type: "contractor"}, refused: []string{"no template applies to people of type contractor"}},
		{name: "a name YAML would misread", req: PersonRequest{Login: "nyes", ID: "7", Given: "yes", Surname: "No: really # not a comment"}},
	}
	dir := initialised(t)
	repo := loaded(t, dir)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := Person(repo, tt.req, today)
			if len(tt.refused) > 0 {
				var ie *InvalidError
				if !errors.As(err, &ie) {
					t.Fatalf("error %v, want a refusal", err)
				}
				for _, s := range tt.refused {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("refusal does not say %q: %v", s, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			d := t.TempDir()
			if err := os.CopyFS(d, os.DirFS(dir)); err != nil {
				t.Fatal(err)
			}
			problems, err := Add(d, a)
			if err != nil || len(problems) > 0 {
				t.Fatalf("add: %v\n%v\n%s", err, problems, a.Data)
			}
			got := loaded(t, d).People[tt.req.Login]
			wantStart := tt.req.Start
			if wantStart.IsZero() {
				wantStart = today
			}
			if got == nil || got.Metadata.ID != tt.req.ID || got.Spec.GivenName != tt.req.Given || got.Spec.Surname != tt.req.Surname ||
				got.Spec.Manager != tt.req.Manager || got.Spec.StartDate != wantStart || got.Spec.Type != "employee" || got.Spec.Email != tt.req.Email {
				t.Errorf("loaded %+v from\n%s", got, a.Data)
			}
		})
	}
}

func TestToday(t *testing.T) {
	at := time.Date(2026, 11, 22, 23, 30, 0, 0, time.UTC)
	for _, tt := range []struct {
		zone string
		want string
	}{{"UTC", "2026-11-22"}, {"Pacific/Auckland", "2026-11-23"}, {"America/Los_Angeles", "2026-11-22"}} {
		t.Run(tt.zone, func(t *testing.T) {
			if got := Today(at, model.MustTimeZone(tt.zone).Location()); got.String() != tt.want {
				t.Errorf("Today = %s, want %s", got, tt.want)
			}
		})
	}
}

// snapshot lists every file below dir with its size.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			fmt.Fprintf(&b, "%s %d\n", rel, info.Size())
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}
