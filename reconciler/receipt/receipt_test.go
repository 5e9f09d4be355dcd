package receipt

import (
	"bytes"
	"flag"
	"github.com/alm-project/alm/reconciler/notify"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func sample() Receipt {
	changes := []Entry{
		{ID: "c1", Action: "create", Account: "ann.lee", DN: "CN=Ann Lee,OU=People,DC=example,DC=test",
			Result: Applied, Reason: "people/ann.lee.yaml: spec.start 2026-03-01 reached"},
		{ID: "c2", Action: "disable", Account: "bob", DN: "CN=Bob,OU=People,DC=example,DC=test",
			Result: Failed, Error: "modify CN=Bob,OU=People,DC=example,DC=test: insufficient access rights",
			Reason: "people/bob.yaml: spec.end 2026-02-28 passed"},
		{ID: "c3", Action: "add-member", Account: "ann.lee", DN: "CN=R&D <Tools>,OU=Groups,DC=example,DC=test",
			Result: Skipped, Reason: "depends on c1"},
	}
	return Receipt{
		Revision:  "0123456789abcdef0123456789abcdef01234567",
		AppliedAt: time.Date(2026, 3, 1, 9, 30, 5, 0, time.FixedZone("CET", 3600)),
		Directory: "ldaps://svc-alm:Secr3t!@dc1.example.test:636/?base",
		Plan:      Summarize(changes),
		Changes:   changes,
		Findings:  []Finding{{ID: "unmanaged-membership:1:cn=printers", Kind: "unmanaged-membership", Account: "bob", DN: "CN=Bob,OU=People,DC=example,DC=test", Group: "CN=Printers,DC=example,DC=test", Text: "bob is a member of CN=Printers,DC=example,DC=test, which no role names", Fix: "grant it through a role"}},
		Orphans:   []Orphan{{Account: "tmp1", DN: "CN=tmp1,OU=People,DC=example,DC=test", Action: "reported"}},
		Notices: []notify.Delivery{
			{ID: "notice:sa-1:30d-before:2026-03-31", Kind: "notice", Account: "svc-backup", Subject: "svc-backup ends on 2026-03-31", Channel: "email",
				Recipients: []string{"ann.lee"}, At: time.Date(2026, 3, 1, 8, 30, 5, 0, time.UTC)},
			{ID: "notice:sa-1:30d-before:2026-03-31", Kind: "notice", Account: "svc-backup", Subject: "svc-backup ends on 2026-03-31", Channel: "webhook",
				Recipients: []string{"ann.lee"}, At: time.Date(2026, 3, 1, 8, 30, 5, 0, time.UTC), Error: "POST https://hooks.example.test/alm: 503 Service Unavailable"},
		},
	}
}

// refusedByGuard is the receipt of a plan over two limits, with a change on
// a protected account.
func refusedByGuard() Receipt {
	r := sample()
	r.Plan = Summary{Changes: 7, Actions: map[string]int{"disable": 3, "remove-member": 3, "update": 1}}
	r.Changes, r.Orphans, r.Notices = nil, nil, nil
	r.Refused = &Refusal{
		By:      ByGuard,
		Message: "plan refused: it disables 3 accounts, over the limit of 2 (alm.yaml spec.limits.disable.count); ...",
		Limits: []Limit{
			{Kind: "disable", Changes: 3, Accounts: 3, Managed: 10, Fraction: 0.3, Limit: Bound{Count: 2, Fraction: 0.5},
				Exceeded: "count", Source: "alm.yaml spec.limits.disable.count", Flag: "--max-disable"},
			{Kind: "removeFromGroup", Changes: 3, Accounts: 2, Managed: 10, Fraction: 0.2, Limit: Bound{Count: 25, Fraction: 0.1},
				Exceeded: "fraction", Source: "alm.yaml spec.limits.removeFromGroup.fraction", Flag: "--max-remove"},
		},
		Changes: []RefusedChange{{ID: "c7", Why: "Administrator (CN=Administrator,CN=Users,DC=example,DC=test) is a protected account; alm never touches it"}},
	}
	return r
}

// refusedUnapproved is the receipt of a --require-approved run refused.
func refusedUnapproved() Receipt {
	return Receipt{
		Revision:  "89abcdef0123456789abcdef0123456789abcdef",
		AppliedAt: time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC),
		Directory: "ldaps://svc-alm:Secr3t!@dc1.example.test:636",
		Refused: &Refusal{
			By:      ByUnapproved,
			Message: "unapproved commits on the branch: 1 of 3 commits on main since 0123456789ab were not approved ...",
			Commits: []RefusedCommit{
				{Hash: "fedcba9876543210fedcba9876543210fedcba98", Subject: "Add svc-pushed", Author: "Mallory <mallory@example.test>",
					Reason: "pushed straight to the branch, not merged from an approved pull request", Files: []string{"service-accounts/svc-pushed.yaml"}},
				{Hash: "76543210fedcba9876543210fedcba9876543210", Subject: "Fix a typo", Author: "Jane Doe <jdoe@example.test>",
					Reason: "pushed straight to the branch, not merged from an approved pull request", Cured: true},
			},
		},
	}
}

func TestMarshalGolden(t *testing.T) {
	tests := []struct {
		name   string
		r      Receipt
		golden string
	}{
		{"full", sample(), "receipt.json"},
		{"empty lists", Receipt{Revision: "abc", AppliedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Directory: "ldap://127.0.0.1"}, "empty.json"},
		{"refused by the guards", refusedByGuard(), "refused-guard.json"},
		{"refused as unapproved", refusedUnapproved(), "refused-unapproved.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Marshal(tt.r)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tt.golden)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Marshal differs from %s (go test -update to accept):\n%s", path, got)
			}
		})
	}
}

// TestNoSecretFields walks the Receipt type: no field, at any depth, may
// be meant for a secret.
func TestNoSecretFields(t *testing.T) {
	secret := regexp.MustCompile(`(?i)pass|pwd|secret|token|credential|bind`)
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type, string)
	walk = func(typ reflect.Type, at string) {
		for typ.Kind() == reflect.Slice || typ.Kind() == reflect.Map || typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || seen[typ] || typ.PkgPath() != reflect.TypeFor[Receipt]().PkgPath() {
			return
		}
		seen[typ] = true
		for f := range typ.Fields() {
			name := at + "." + f.Name
			if secret.MatchString(f.Name) || secret.MatchString(f.Tag.Get("json")) {
				t.Errorf("%s (json %q) looks like a field for a secret", name, f.Tag.Get("json"))
			}
			walk(f.Type, name)
		}
	}
	walk(reflect.TypeFor[Receipt](), "Receipt")
	if len(seen) < 9 {
		t.Errorf("walked %d struct types, want Receipt, Summary, Entry, Orphan, Refusal, Limit, Bound, RefusedChange and RefusedCommit at least", len(seen))
	}
}

func TestRedact(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "ldaps://dc1.example.test:636", "ldaps://dc1.example.test:636"},
		{"user and password", "ldaps://svc:Secr3t@dc1.example.test:636", "ldaps://dc1.example.test:636"},
		{"user only", "ldap://admin@127.0.0.1", "ldap://127.0.0.1"},
		{"query and fragment", "ldaps://dc1/?password=x#y", "ldaps://dc1/"},
		{"unparseable", "ldaps://svc:p%zz@dc1", "dc1"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := redact(tt.in); got != tt.want {
				t.Errorf("redact(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	for _, r := range []Receipt{sample(), refusedByGuard(), refusedUnapproved()} {
		data, err := Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{"Secr3t", "svc-alm", "?base"} {
			if bytes.Contains(data, []byte(s)) {
				t.Errorf("the receipt JSON holds %q:\n%s", s, data)
			}
		}
	}
}

func TestSummarize(t *testing.T) {
	got := Summarize(sample().Changes)
	want := Summary{Changes: 3, Actions: map[string]int{"create": 1, "disable": 1, "add-member": 1}, Applied: 1, Failed: 1, Skipped: 1}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Summarize = %+v, want %+v", got, want)
	}
}

func TestMessage(t *testing.T) {
	r := sample()
	r.Changes = append(r.Changes, Entry{ID: "c4", Action: "update", Result: Applied})
	want := "alm apply 0123456: 2 applied, 1 failed\n\nAlm-Applied-Revision: 0123456789abcdef0123456789abcdef01234567\n"
	if got := message(r); got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
	if !strings.HasPrefix(message(Receipt{Revision: "abc"}), "alm apply abc: 0 applied, 0 failed\n") {
		t.Errorf("message of a short revision: %q", message(Receipt{Revision: "abc"}))
	}
	tests := []struct {
		name string
		r    Receipt
		want string
	}{
		{"guard", refusedByGuard(), "alm refused 0123456 (guard): 2 limits exceeded, 1 change refused\n\nAlm-Refused-Revision: 0123456789abcdef0123456789abcdef01234567\n"},
		{"unapproved", refusedUnapproved(), "alm refused 89abcde (unapproved): 1 unapproved commit\n\nAlm-Refused-Revision: 89abcdef0123456789abcdef0123456789abcdef\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := message(tt.r)
			if got != tt.want {
				t.Errorf("message = %q, want %q", got, tt.want)
			}
			if strings.Contains(got, Trailer) {
				t.Errorf("a refusal's message carries %s: the last applied revision would be the refused one", Trailer)
			}
		})
	}
}
