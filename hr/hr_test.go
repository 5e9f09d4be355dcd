package hr

import (
	"bytes"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/alm-project/alm/reconciler/load"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// now is the day the fixtures are read for.
var now = time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)

func mapping(t *testing.T) Mapping {
	t.Helper()
	m, err := LoadMapping("testdata/mapping.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func read(t *testing.T, file string, m Mapping) *Export {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	x, err := Read(file, f, m)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// copyRepo copies testdata/repo to a temporary directory.
func copyRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	err := filepath.WalkDir("testdata/repo", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel("testdata/repo", p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(rel)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func sync(t *testing.T, dir, export string, o Options) *Result {
	t.Helper()
	repo, fsys, problems, err := Tree(dir)
	if err != nil || len(problems) > 0 {
		t.Fatalf("load: %v %v", err, problems)
	}
	if o.Now.IsZero() {
		o.Now = now
	}
	if o.Mapping.Columns.ID == "" {
		o.Mapping = mapping(t)
	}
	res, err := Sync(repo, fsys, read(t, export, o.Mapping), o)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	file := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (go test ./hr -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", file, got, want)
	}
}

// TestExport: joiners, movers, a leaver, a rename, a rehire, a contract's
// end moved and five bad rows (an unknown manager, a login taken, a date
// that does not parse, and both rows of a duplicated id) produce exactly the files in testdata/want
// (every other file untouched, comments and layout kept), a report whose
// skipped rows are five lines, and a repository that validates.
func TestExport(t *testing.T) {
	dir := copyRepo(t)
	res := sync(t, dir, "testdata/export.csv", Options{})
	if res.Refused != "" {
		t.Fatalf("refused: %s", res.Refused)
	}
	var report bytes.Buffer
	if err := res.Text(&report); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.txt", report.Bytes())
	var skipped []string
	for _, line := range strings.Split(report.String(), "\n") {
		if strings.HasPrefix(line, "  skipped ") {
			skipped = append(skipped, line)
		}
	}
	want := []string{
		"  skipped  line 9 (employee E008) column EmployeeID: employee id E008 is on line 16 too: HR exports one row per person, so every row of it is skipped",
		"  skipped  line 15 (employee E014) column ManagerID: manager E999 is no one in the repository or the export: fix the row in HR, or add the manager",
		"  skipped  line 16 (employee E008) column EmployeeID: employee id E008 is on line 9 too: HR exports one row per person, so every row of it is skipped",
		"  skipped  line 17 (employee E016) column Login: login asmith is taken by people/asmith.yaml: give this person another login",
		`  skipped  line 18 (employee E017) column Hired: "31/12/2026" is not a date in YYYY-MM-DD or DD.MM.YYYY`,
	}
	if strings.Join(skipped, "\n") != strings.Join(want, "\n") {
		t.Errorf("skipped rows:\n%s\nwant\n%s", strings.Join(skipped, "\n"), strings.Join(want, "\n"))
	}
	counts := map[string]int{}
	for _, c := range res.Changes {
		counts[c.Kind]++
	}
	if counts[Joiner] != 3 || counts[Mover] != 2 || counts[Leaver] != 1 || counts[Rename] != 1 || counts[Rehire] != 1 || counts[Contract] != 1 || res.Past != 1 || len(res.Missing) != 0 {
		t.Errorf("changes by kind %v, past %d, missing %v", counts, res.Past, res.Missing)
	}

	before := snapshot(t, dir)
	if err := Write(dir, res); err != nil {
		t.Fatal(err)
	}
	after := snapshot(t, dir)
	var deleted []string
	for p, data := range before {
		got, ok := after[p]
		switch {
		case !ok:
			deleted = append(deleted, p)
		case !bytes.Equal(got, data) && res.Files[p] == nil:
			t.Errorf("%s changed, and the result does not list it", p)
		}
	}
	sort.Strings(deleted)
	if *update {
		if err := os.RemoveAll("testdata/want"); err != nil {
			t.Fatal(err)
		}
	}
	golden(t, "want/deleted", []byte(strings.Join(deleted, "\n")+"\n"))
	var changed []string
	for p, data := range after {
		if !bytes.Equal(before[p], data) {
			golden(t, filepath.Join("want", p), data)
			changed = append(changed, p)
		}
	}
	// Every golden file is one the sync wrote: none is left over.
	var wanted []string
	_ = filepath.WalkDir("testdata/want", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() != "deleted" {
			rel, _ := filepath.Rel("testdata/want", p)
			wanted = append(wanted, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(changed)
	sort.Strings(wanted)
	if strings.Join(changed, ",") != strings.Join(wanted, ",") {
		t.Errorf("files written %v, golden files %v", changed, wanted)
	}
	if _, problems, err := load.Dir(dir); err != nil || len(problems) > 0 {
		t.Errorf("the synced repository does not validate: %v %v", err, problems)
	}
	// A second run over the synced repository finds nothing left to do.
	again := sync(t, dir, "testdata/export.csv", Options{})
	if len(again.Changes) != 0 || len(again.Files) != 0 || len(again.Bad) != 5 {
		t.Errorf("second run: %s", again.Summary())
	}
}

func snapshot(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		data, err := os.ReadFile(p)
		out[filepath.ToSlash(rel)] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRowsSkipped: rows the repository cannot take are skipped with their
// line, column and what to do; the others go ahead.
func TestRowsSkipped(t *testing.T) {
	const header = "EmployeeID;Login;FirstName;LastName;Mail;Dept;JobTitle;ManagerID;Kind;Hired;Left\n"
	tests := []struct {
		name, rows string
		skipped    []string
		changes    string // kind login, comma-separated
	}{
		{name: "a person file without source: hr",
			rows:    "X001;;Ops;Admin;;IT;Admin;E001;Permanent;2024-01-01;\n",
			skipped: []string{"line 2 (employee X001) column EmployeeID: people/opsadmin.yaml has this employee id and no \"source: hr\": HR does not manage it; add source: hr to the file to let it"}},
		{name: "a former login",
			rows: "E004;kwest;Kim;West;kwest@acme.test;Sales;Account manager;E002;Permanent;2024-02-01;\n" +
				"E020;kfox;Kai;Fox;;Sales;Clerk;E002;Permanent;2026-12-01;\n",
			skipped: []string{"line 3 (employee E020) column Login: login kfox is taken by people/kfox.yaml: give this person another login"},
			changes: "rename kwest,reference svc-crm"},
		{name: "a login the template's naming refuses",
			rows:    "E021;Ann_B;Ann;B;;Sales;Clerk;E002;Permanent;2026-12-01;\n",
			skipped: []string{"line 2 (employee E021) column Login: login Ann_B does not match template employee's naming pattern ^[a-z][a-z0-9]{1,19}$: give a login that does, or change the mapping's login rule"}},
		{name: "their own manager",
			rows:    "E022;;Sol;Self;;Sales;Clerk;E022;Permanent;2026-12-01;\n",
			skipped: []string{"line 2 (employee E022) column ManagerID: the person is their own manager: fix the row in HR"}},
		{name: "a joiner managed by a joiner skipped",
			rows: "E023;;Bea;Boss;;Sales;Lead;E999;Permanent;2026-12-01;\n" +
				"E024;;Rey;Report;;Sales;Clerk;E023;Permanent;2026-12-01;\n" +
				"E025;;Ola;Other;;Sales;Clerk;E002;Permanent;2026-12-01;\n",
			skipped: []string{
				"line 2 (employee E023) column ManagerID: manager E999 is no one in the repository or the export: fix the row in HR, or add the manager",
				"line 3 (employee E024) column ManagerID: manager E023's row (line 2) is skipped, so this one is too: fix that row",
			},
			changes: "joiner oother"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyRepo(t)
			export := filepath.Join(t.TempDir(), "export.csv")
			if err := os.WriteFile(export, []byte(header+tt.rows), 0o644); err != nil {
				t.Fatal(err)
			}
			res := sync(t, dir, export, Options{Partial: true})
			var skipped, changes []string
			for _, b := range res.Bad {
				skipped = append(skipped, b.String())
			}
			for _, c := range res.Changes {
				changes = append(changes, c.Kind+" "+c.Login)
			}
			if strings.Join(skipped, "\n") != strings.Join(tt.skipped, "\n") || strings.Join(changes, ",") != tt.changes {
				t.Errorf("skipped\n%s\nchanges %v\nwant\n%s\nchanges %s", strings.Join(skipped, "\n"), changes, strings.Join(tt.skipped, "\n"), tt.changes)
			}
		})
	}
}

// TestEdgeCases: what a sync does in the corners an HR feed reaches, each
// leaving a repository that validates.
func TestEdgeCases(t *testing.T) {
	const header = "EmployeeID;Login;FirstName;LastName;Mail;Dept;JobTitle;ManagerID;Kind;Hired;Left\n"
	asmith := "E002;%s;Alex;Smith;asmith@acme.test;Sales;%s;E001;Permanent;2021-03-01;\n"
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string)
		rows    string
		o       Options
		changes []string          // "kind login" in the report's order
		skipped []string          // Bad.String()
		files   map[string]string // path -> a line the file must have ("" : deleted)
		// anyChanges: the changes are not what the case is about.
		anyChanges bool
	}{
		{name: "a rename updates who names the old login",
			rows:    fmt.Sprintf(asmith, "alsmith", "Head of sales"),
			changes: []string{"rename alsmith", "reference bwhite", "reference ccontr", "reference dgreen", "reference jdoe", "reference kfox", "reference rgreen", "reference svc-crm"},
			files: map[string]string{"people/asmith.yaml": "", "people/alsmith.yaml": "  previousNames: [asmith]\n",
				"people/jdoe.yaml": "  manager: alsmith\n", "service-accounts/svc-crm.yaml": "  owner: alsmith   # the sales lead owns it\n"}},
		{name: "back to a former login",
			prepare: func(t *testing.T, dir string) {
				res := sync(t, dir, exportFile(t, header+fmt.Sprintf(asmith, "alsmith", "Head of sales")), Options{Partial: true})
				if err := Write(dir, res); err != nil {
					t.Fatal(err)
				}
			},
			rows:    fmt.Sprintf(asmith, "asmith", "Head of sales"),
			changes: []string{"rename asmith", "reference bwhite", "reference ccontr", "reference dgreen", "reference jdoe", "reference kfox", "reference rgreen", "reference svc-crm"},
			files:   map[string]string{"people/alsmith.yaml": "", "people/asmith.yaml": "  previousNames: [alsmith]\n"}},
		{name: "a login differing only in case is the same login",
			rows: fmt.Sprintf(asmith, "ASmith", "Head of sales")},
		{name: "logins that are no file name, nor a login",
			rows: "E030;a/b;Ann;Bee;;Sales;Clerk;E002;Permanent;2026-12-01;\n" +
				"E031;../alm;Al;Em;;Sales;Clerk;E002;Permanent;2026-12-01;\n",
			skipped: []string{
				`line 2 (employee E030) column Login: "a/b" is not a login Active Directory takes (at most 20 characters, none of " / \ [ ] : ; | = , + * ? < > @, no space or period at either end): give another`,
				`line 3 (employee E031) column Login: "../alm" is not a login Active Directory takes (at most 20 characters, none of " / \ [ ] : ; | = , + * ? < > @, no space or period at either end): give another`,
			}},
		{name: "a row whose file cannot take the edit is skipped, and those it manages keep theirs",
			prepare: func(t *testing.T, dir string) {
				replaceIn(t, dir, "people/asmith.yaml", "  title: Head of sales\n", "  title: >\n    Head of sales\n")
			},
			rows: fmt.Sprintf(asmith, "alsmith", "Head of EMEA") +
				"E004;;Kim;Fox;kfox@acme.test;Sales;Account manager;E002;Permanent;2024-02-01;\n",
			skipped: []string{"line 2 (employee E002) column JobTitle: people/asmith.yaml:13: spec.title is a block scalar: edit it by hand"},
			files:   map[string]string{"people/kfox.yaml": "  manager: asmith\n"}},
		{name: "a past leaver's end moved into the future is a rehire",
			rows:    "E006;;Robin;Green;rgreen@acme.test;Support;Engineer;E002;Permanent;2022-01-10;2027-01-31\n",
			changes: []string{"rehire rgreen"},
			files:   map[string]string{"people/rgreen.yaml": "  endDate: 2027-01-31\n"}},
		{name: "a blank type keeps the file's",
			rows: "E007;;Cat;Contr;ccontr@acme.test;IT;Network contractor;E002;;2026-01-05;2026-12-31\n"},
		{name: "missing, not started or leaving already: reported, not made leavers",
			prepare: func(t *testing.T, dir string) {
				replaceIn(t, dir, "people/fblack.yaml", "  startDate: 2024-01-15\n", "  startDate: 2027-02-01\n")
				replaceIn(t, dir, "people/egray.yaml", "  startDate: 2023-09-01\n", "  startDate: 2023-09-01\n  endDate: 2027-03-31\n")
			},
			// Everyone but ccontr, egray and fblack.
			rows: strings.Join(slices.DeleteFunc(strings.SplitAfter(string(must(os.ReadFile("testdata/export.csv"))), "\n")[1:9],
				func(l string) bool { return strings.HasPrefix(l, "E007;") }), ""),
			o:          Options{LeaveMissing: true},
			anyChanges: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyRepo(t)
			if tt.prepare != nil {
				tt.prepare(t, dir)
			}
			o := tt.o
			o.Partial = o.Partial || !o.LeaveMissing
			if o.LeaveMissing {
				o.Mapping = mapping(t)
				o.Mapping.Limits.Missing = Limit{Count: 10}
			}
			res := sync(t, dir, exportFile(t, header+tt.rows), o)
			var changes, skipped []string
			for _, c := range res.Changes {
				changes = append(changes, c.Kind+" "+c.Login)
			}
			for _, b := range res.Bad {
				skipped = append(skipped, b.String())
			}
			if !tt.anyChanges && strings.Join(changes, ",") != strings.Join(tt.changes, ",") || strings.Join(skipped, "\n") != strings.Join(tt.skipped, "\n") {
				t.Errorf("changes %q\nskipped %q\nwant %q\n%q", changes, skipped, tt.changes, tt.skipped)
			}
			if err := Write(dir, res); err != nil {
				t.Fatal(err)
			}
			for p, line := range tt.files {
				data, err := os.ReadFile(filepath.Join(dir, p))
				switch {
				case line == "" && err == nil:
					t.Errorf("%s is still there", p)
				case line != "" && !strings.Contains(string(data), line):
					t.Errorf("%s lacks %q:\n%s", p, line, data)
				}
			}
			if _, problems, err := load.Dir(dir); err != nil || len(problems) > 0 {
				t.Errorf("the repository does not validate: %v %v", err, problems)
			}
			if tt.o.LeaveMissing {
				var got []string
				for _, m := range res.Missing {
					got = append(got, m.Login+": "+m.Note)
				}
				want := []string{"ccontr: leaves 2026-12-31 already: not changed", "egray: leaves 2027-03-31 already: not changed", "fblack: starts 2027-02-01: not made a leaver"}
				if strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Errorf("missing %q, want %q", got, want)
				}
			}
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func exportFile(t *testing.T, content string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "export.csv")
	if err := os.WriteFile(f, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

func replaceIn(t *testing.T, dir, file, old, new string) {
	t.Helper()
	p := filepath.Join(dir, file)
	data, err := os.ReadFile(p)
	if err != nil || !strings.Contains(string(data), old) {
		t.Fatalf("%s lacks %q: %v", file, old, err)
	}
	if err := os.WriteFile(p, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}
