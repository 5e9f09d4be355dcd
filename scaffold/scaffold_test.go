package scaffold

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alm-project/alm/reconciler/load"
	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/schemas"
)

var example = Options{Domain: "example.test", BaseDN: "DC=example,DC=test"}

func TestRepository(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		want    map[string][]string // file -> lines it must hold
		wantOUs []string            // every OU alm manages, as desired state would see them
	}{
		{
			name: "defaults",
			opts: example,
			want: map[string][]string{
				"alm.yaml": {"  domain: example.test ", "  baseDN: DC=example,DC=test ", "  timeZone: UTC ",
					"  groupsOU: OU=Groups,OU=ALM ", "  # url: ldaps://dc1.example.test:636"},
				"templates/employee.yaml":        {"  ou: OU=People,OU=ALM "},
				"templates/service-account.yaml": {"  ou: OU=Service Accounts,OU=ALM ", "    default: 180d ", "    max: 365d "},
				".github/workflows/alm.yaml":     {"  ALM_VERSION: latest ", "          alm check --repo . --base HEAD^1 --head HEAD \\"},
			},
		},
		{
			name: "every flag",
			opts: Options{Domain: "Corp.Example.com", BaseDN: "DC=corp,DC=example,DC=com", OU: "OU=Identity,OU=IT",
				TimeZone: "Europe/Berlin", URL: "ldaps://dc1.corp.example.com:636", Version: "v1.2.3"},
			want: map[string][]string{
				"alm.yaml": {"  name: corp", "  timeZone: Europe/Berlin ", "  url: ldaps://dc1.corp.example.com:636 ",
					"  leaversOU: OU=Leavers,OU=Identity,OU=IT ", "  retiredOU: OU=Retired,OU=Identity,OU=IT "},
				"templates/employee.yaml":    {"  ou: OU=People,OU=Identity,OU=IT "},
				".github/workflows/alm.yaml": {"  ALM_VERSION: v1.2.3 "},
				"README.md":                  {"# Access repository for Corp.Example.com"},
			},
		},
		{
			name: "a DN that YAML must quote",
			opts: Options{Domain: "example.test", BaseDN: "DC=example,DC=test", OU: "OU=#ALM: accounts"},
			want: map[string][]string{
				"templates/employee.yaml": {`  ou: 'OU=People,OU=#ALM: accounts' `},
			},
		},
		{
			name: "a development build installs the latest release",
			opts: Options{Domain: "example.test", BaseDN: "DC=example,DC=test", Version: "(devel)"},
			want: map[string][]string{".github/workflows/alm.yaml": {"  ALM_VERSION: latest "}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files, err := Repository(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			byPath := map[string][]byte{}
			for _, f := range files {
				byPath[f.Path] = f.Data
			}
			for file, lines := range tt.want {
				for _, l := range lines {
					if !bytes.Contains(byPath[file], []byte(l)) {
						t.Errorf("%s has no line with %q:\n%s", file, l, byPath[file])
					}
				}
			}
			// The files load as alm validate loads them, one template per kind.
			repo, problems := loadFiles(t, files)
			if len(problems) > 0 {
				t.Fatalf("problems:\n%v", problems)
			}
			if len(repo.Templates) != 2 || repo.Templates["employee"] == nil || repo.Templates["service-account"] == nil {
				t.Errorf("templates %v, want employee and service-account", model.SortedNames(repo.Templates))
			}
			for _, dir := range []string{"people", "service-accounts", "roles"} {
				if !hasPrefix(files, dir+"/") {
					t.Errorf("nothing keeps %s/ in Git", dir)
				}
			}
			checkModelines(t, files, byPath)
		})
	}
}

// checkModelines wants every file of one of alm's kinds to start with the
// modeline of its kind's schema, at a relative path that init writes.
func checkModelines(t *testing.T, files []File, byPath map[string][]byte) {
	t.Helper()
	kinds := 0
	for _, f := range files {
		kind := kindOf(f.Path)
		if kind == "" {
			continue
		}
		kinds++
		first, _, _ := bytes.Cut(f.Data, []byte("\n"))
		ref, ok := strings.CutPrefix(string(first), "# yaml-language-server: $schema=")
		if !ok {
			t.Errorf("%s starts with %q, want the schema modeline", f.Path, first)
			continue
		}
		target := path.Join(path.Dir(f.Path), ref)
		if target != path.Join(SchemaDir, schemas.FileOf(kind)) || byPath[target] == nil {
			t.Errorf("%s points at %s, which init does not write as the %s schema", f.Path, target, kind)
		}
	}
	if kinds != 3 {
		t.Errorf("%d files of alm's kinds, want alm.yaml and two templates", kinds)
	}
}

func TestRepositorySchemasAreTheEmbeddedOnes(t *testing.T) {
	files, err := Repository(example)
	if err != nil {
		t.Fatal(err)
	}
	names := schemas.Names()
	if len(names) < 6 {
		t.Fatalf("only %d embedded schemas: %v", len(names), names)
	}
	byPath := map[string][]byte{}
	for _, f := range files {
		byPath[f.Path] = f.Data
	}
	for _, name := range names {
		want, err := fs.ReadFile(schemas.FS(), name)
		if err != nil {
			t.Fatal(err)
		}
		if got := byPath[path.Join(SchemaDir, name)]; !bytes.Equal(got, want) {
			t.Errorf("%s/%s differs from the embedded schema", SchemaDir, name)
		}
	}
}

func TestRepositoryRefusesValues(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		says []string
	}{
		{"no domain", Options{BaseDN: "DC=example,DC=test"}, []string{"--domain is required"}},
		{"no base DN", Options{Domain: "example.test"}, []string{"--base-dn is required"}},
		{"domain", Options{Domain: "example test", BaseDN: "DC=example,DC=test"}, []string{`--domain: "spec.domain" is "example test"`, "must be a DNS name"}},
		{"base DN", Options{Domain: "example.test", BaseDN: "example.test"}, []string{`--base-dn: "spec.baseDN"`, "distinguished name"}},
		{"base DN without DC", Options{Domain: "example.test", BaseDN: "OU=x"}, []string{"--base-dn: ", "no DC= component"}},
		{"time zone", Options{Domain: "example.test", BaseDN: "DC=example,DC=test", TimeZone: "Mars/Olympus"}, []string{"--time-zone: ", "Mars/Olympus"}},
		{"url", Options{Domain: "example.test", BaseDN: "DC=example,DC=test", URL: "https://dc1"}, []string{`--url: "spec.url" is "https://dc1"`, "ldaps://"}},
		{"ou", Options{Domain: "example.test", BaseDN: "DC=example,DC=test", OU: "ALM"}, []string{`--ou: "spec.groupsOU" is "OU=Groups,ALM"`}},
		{"ou with the base DN", Options{Domain: "example.test", BaseDN: "DC=example,DC=test", OU: "OU=ALM,DC=example,DC=test"}, []string{`--ou "OU=ALM,DC=example,DC=test" ends with --base-dn`, "e.g. OU=ALM"}},
		{"line break", Options{Domain: "example.test\nx: y", BaseDN: "DC=example,DC=test"}, []string{"line break"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Repository(tt.opts)
			var ie *InvalidError
			if !errors.As(err, &ie) {
				t.Fatalf("error %v, want an InvalidError", err)
			}
			for _, s := range tt.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error does not say %q:\n%v", s, err)
				}
			}
			if strings.Contains(err.Error(), "bug in alm") {
				t.Errorf("a bad flag reported as a bug:\n%v", err)
			}
			// One flag, one line: --ou sets five fields, --domain two.
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("more than one line for one flag:\n%v", err)
			}
		})
	}
}

func TestInit(t *testing.T) {
	tests := []struct {
		name    string
		before  map[string]string // files in the folder before init
		force   bool
		invalid string // the InvalidError names this file
		broken  string // the check after writing names this problem
	}{
		{name: "empty folder"},
		{name: "missing folder", before: nil},
		{name: "a file init writes", before: map[string]string{"README.md": "mine\n"}, invalid: "README.md exists already"},
		{name: "a schema init writes", before: map[string]string{".alm/schemas/role.schema.json": "{}"}, invalid: "role.schema.json exists already"},
		{name: "other files stay", before: map[string]string{"notes.txt": "mine\n"}},
		{name: "forced over its own files", before: map[string]string{"README.md": "mine\n"}, force: true},
		// The check after writing is the guard against init writing what alm
		// validate refuses; a person file left there by hand trips it.
		{name: "forced over a broken repository", force: true,
			before: map[string]string{"people/jdoe.yaml": "apiVersion: alm/v1\nkind: Person\nmetadata: {name: jdoe, id: \"1\"}\nspec: {givenName: J, surname: D, type: employee, startDate: 2026-01-05, manager: nobody}\n"},
			broken: `people/jdoe.yaml:4:`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "access")
			for p, data := range tt.before {
				write(t, filepath.Join(dir, p), data)
			}
			files, err := Init(dir, example, tt.force)
			switch {
			case tt.invalid != "":
				var ie *InvalidError
				if !errors.As(err, &ie) || !strings.Contains(err.Error(), tt.invalid) {
					t.Fatalf("error %v, want one saying %q", err, tt.invalid)
				}
				if _, err := os.Stat(filepath.Join(dir, "alm.yaml")); err == nil {
					t.Error("alm.yaml was written though init refused")
				}
				for p, data := range tt.before {
					if got, _ := os.ReadFile(filepath.Join(dir, p)); string(got) != data {
						t.Errorf("%s changed to %q", p, got)
					}
				}
				return
			case tt.broken != "":
				if err == nil || !strings.Contains(err.Error(), tt.broken) || !strings.Contains(err.Error(), `person "nobody" does not exist`) {
					t.Fatalf("error %v, want the problem at %s", err, tt.broken)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			if _, problems, err := load.Dir(dir); err != nil || len(problems) > 0 {
				t.Fatalf("load: %v\n%v", err, problems)
			}
			for _, f := range files {
				got, err := os.ReadFile(filepath.Join(dir, f.Path))
				if err != nil || !bytes.Equal(got, f.Data) {
					t.Errorf("%s on disk differs from what init returned (%v)", f.Path, err)
				}
			}
			if tt.before["notes.txt"] != "" {
				if got, _ := os.ReadFile(filepath.Join(dir, "notes.txt")); string(got) != "mine\n" {
					t.Errorf("notes.txt changed to %q", got)
				}
			}
		})
	}
}

func loadFiles(t *testing.T, files []File) (*model.Repository, load.Problems) {
	t.Helper()
	dir := t.TempDir()
	if err := Write(dir, files, false); err != nil {
		t.Fatal(err)
	}
	repo, problems, err := load.Dir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return repo, problems
}

func hasPrefix(files []File, prefix string) bool {
	for _, f := range files {
		if strings.HasPrefix(f.Path, prefix) {
			return true
		}
	}
	return false
}

func write(t *testing.T, p, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
