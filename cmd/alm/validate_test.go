package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/alm-project/alm/reconciler/history/historytest"
)

// runAlm runs the command line in-process and returns its exit code and output.
func runAlm(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// atClock runs the commands of the rest of the test at an instant, as the
// clock would: apply and reconcile refuse --now.
func atClock(t *testing.T, rfc3339 string) {
	t.Helper()
	at, err := time.Parse(time.RFC3339, rfc3339)
	if err != nil {
		t.Fatal(err)
	}
	before := clock
	clock = func() time.Time { return at }
	t.Cleanup(func() { clock = before })
}

func copyExample(t *testing.T) string {
	t.Helper()
	to := t.TempDir()
	if err := os.CopyFS(to, os.DirFS(filepath.Join("..", "..", "examples", "acme"))); err != nil {
		t.Fatal(err)
	}
	return to
}

// breakFile replaces old with new in a file and returns "path:line:col" of
// the replacement, plus the column offset within it.
func breakFile(t *testing.T, dir, file, old, new string, colOffset int) string {
	t.Helper()
	p := filepath.Join(dir, file)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(data), old)
	if i < 0 {
		t.Fatalf("%s has no %q", file, old)
	}
	if err := os.WriteFile(p, []byte(string(data[:i])+new+string(data[i+len(old):])), 0o644); err != nil {
		t.Fatal(err)
	}
	line := strings.Count(string(data[:i]), "\n") + 1
	col := i - strings.LastIndex(string(data[:i]), "\n") + colOffset
	return fmt.Sprintf("%s:%d:%d", file, line, col)
}

// spec returns the position of a file's spec key.
func spec(t *testing.T, dir, file string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(data), "\nspec:")
	if i < 0 {
		t.Fatalf("%s has no spec", file)
	}
	return fmt.Sprintf("%s:%d:1", file, strings.Count(string(data[:i+1]), "\n")+1)
}

func TestValidateExample(t *testing.T) {
	code, out, errOut := runAlm(t, "validate", "--repo", "../../examples/acme")
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if !strings.HasPrefix(out, "Valid: ") {
		t.Fatalf("output %q", out)
	}
}

// TestValidateBrokenTenWays breaks a copy of the example in ten different
// ways and expects exactly ten problems, each at its path:line:col.
func TestValidateBrokenTenWays(t *testing.T) {
	dir := copyExample(t)
	type want struct{ pos, says string }
	var wants []want
	add := func(pos, says string) { wants = append(wants, want{pos, says}) }

	add(breakFile(t, dir, "people/jdoe.yaml", "manager: asmith", "manager: nobody", 0),
		`spec.manager: person "nobody" does not exist`)
	add(breakFile(t, dir, "service-accounts/svc-crm-sync.yaml", "owner: dkim", "owner: ghost", 0),
		`spec.owner: person "ghost" does not exist`)
	add(breakFile(t, dir, "service-accounts/svc-backup.yaml", "expires: 2027-05-31", "expires: 2028-05-31", 0),
		"past template service-account's maximum lifetime of 365d")
	// The schema's rule for contractors has no field to point at but spec.
	breakFile(t, dir, "people/kwalker.yaml", "  endDate:", "  # endDate:", 0)
	add(spec(t, dir, "people/kwalker.yaml"), "endDate")
	add(breakFile(t, dir, "roles/vpn-users.yaml", "  groups:", "  colour: blue\n  groups:", 2), `colour`)
	add(breakFile(t, dir, "people/lchen.yaml", "startDate: 2026-12-07", "startDate: 2026-02-30", 0),
		"must be a calendar date")
	add(breakFile(t, dir, "templates/employee.yaml", "provisionAhead: 7d", "provisionAhead: a week", 0),
		"must be a duration")
	add(breakFile(t, dir, "service-accounts/svc-monitoring.yaml", "template: service-account", "template: robots", 0),
		`spec.template: template "robots" does not exist`)
	// YAML reports where a syntax error is found, by line only.
	finance := breakFile(t, dir, "roles/finance.yaml", "groups: [Finance, Finance Share]", "groups: [Finance, Finance Share", 0)
	add(finance[:strings.LastIndex(finance, ":")], "YAML syntax")
	add(breakFile(t, dir, "people/tnguyen.yaml", "roles: [backup-operators, vpn-users]", "roles: [backup-operators, vpn-users, wifi]", len("roles: [backup-operators, vpn-users, ")),
		`spec.roles[2]: role "wifi" does not exist`)

	code, out, errOut := runAlm(t, "validate", "--repo", dir, "--format", "json")
	if code != exitInvalid {
		t.Fatalf("exit %d, want %d\n%s%s", code, exitInvalid, out, errOut)
	}
	var report struct {
		Valid    bool
		Problems []struct {
			Position struct {
				Path         string
				Line, Column int
			}
			Message string
		}
	}
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if report.Valid || len(report.Problems) != 10 {
		t.Fatalf("valid=%v, %d problems, want 10:\n%s", report.Valid, len(report.Problems), out)
	}
	for _, w := range wants {
		found := false
		for _, p := range report.Problems {
			pos := fmt.Sprintf("%s:%d:%d", p.Position.Path, p.Position.Line, p.Position.Column)
			if p.Position.Column == 0 {
				pos = fmt.Sprintf("%s:%d", p.Position.Path, p.Position.Line)
			}
			if pos == w.pos && strings.Contains(p.Message, w.says) {
				found = true
			}
		}
		if !found {
			t.Errorf("no problem at %s saying %q in:\n%s", w.pos, w.says, out)
		}
	}

	// The text form lists the same ten, one a line, then a count.
	code, out, _ = runAlm(t, "validate", "--repo", dir)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != exitInvalid || len(lines) != 12 || lines[11] != "10 problems. Fix them and run alm validate again." {
		t.Fatalf("text output (exit %d):\n%s", code, out)
	}
}

func TestValidateCannotRun(t *testing.T) {
	code, _, errOut := runAlm(t, "validate", "--repo", filepath.Join(t.TempDir(), "missing"))
	if code != exitError || !strings.Contains(errOut, "missing") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	code, _, errOut = runAlm(t, "validate", "--format", "yaml")
	if code != exitInvalid || !strings.Contains(errOut, `--format "yaml"`) {
		t.Fatalf("exit %d: %s", code, errOut)
	}
}

// TestValidateOlderRevision validates an older commit while the working
// tree holds a broken change, and leaves the tree as it was.
func TestValidateOlderRevision(t *testing.T) {
	dir := copyExample(t)
	r, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	wt, _ := r.Worktree()
	if err := wt.AddGlob("."); err != nil {
		t.Fatal(err)
	}
	good, err := wt.Commit("import", &git.CommitOptions{Author: &object.Signature{Name: "t", Email: "t@example.test", When: time.Now()}})
	if err != nil {
		t.Fatal(err)
	}
	breakFile(t, dir, "people/jdoe.yaml", "manager: asmith", "manager: nobody", 0)
	if err := wt.AddGlob("."); err != nil {
		t.Fatal(err)
	}
	if _, err := wt.Commit("break", &git.CommitOptions{Author: &object.Signature{Name: "t", Email: "t@example.test", When: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, "people/jdoe.yaml"))

	if code, out, errOut := runAlm(t, "validate", "--repo", dir, "--rev", good.String()); code != exitOK {
		t.Fatalf("older revision: exit %d\n%s%s", code, out, errOut)
	}
	if code, _, _ := runAlm(t, "validate", "--repo", dir, "--rev", "HEAD"); code != exitInvalid {
		t.Fatalf("HEAD: exit %d, want %d", code, exitInvalid)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "people/jdoe.yaml"))
	if !bytes.Equal(before, after) {
		t.Fatal("validate --rev changed the working tree")
	}
	st, _ := wt.Status()
	if !st.IsClean() {
		t.Fatalf("working tree not clean after validate --rev:\n%s", st)
	}
}

// TestProtectedLoginsRefused: a file whose login is a built-in account or
// one alm.yaml protects is refused by validate and by check, at its line.
func TestProtectedLoginsRefused(t *testing.T) {
	person := func(name, id string) string {
		return "apiVersion: alm/v1\nkind: Person\nmetadata:\n  name: " + name + "\n  id: \"" + id + "\"\nspec:\n  givenName: Built\n  surname: In\n" +
			"  email: " + strings.ToLower(name) + "@example.test\n  type: employee\n  department: IT\n  title: Administrator\n  manager: asmith\n  startDate: 2020-01-06\n"
	}
	dir := copyExample(t)
	for name, id := range map[string]string{"Administrator": "000500", "krbtgt": "000502"} {
		if err := os.WriteFile(filepath.Join(dir, "people", name+".yaml"), []byte(person(name, id)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut := runAlm(t, "validate", "--repo", dir)
	if code != exitInvalid {
		t.Fatalf("validate: exit %d, want %d\n%s%s", code, exitInvalid, out, errOut)
	}
	for _, want := range []string{`people/Administrator.yaml:4:3: metadata.name: "Administrator" is a built-in account of Active Directory`,
		`people/krbtgt.yaml:4:3: metadata.name: "krbtgt" is a built-in account of Active Directory`} {
		if !strings.Contains(out+errOut, want) {
			t.Errorf("validate does not say %q:\n%s%s", want, out, errOut)
		}
	}

	// The same in a pull request: alm check denies it.
	repo := historytest.New(t)
	repo.CopyDir("../../examples/acme")
	base := repo.Commit("Import the access repository", admin)
	repo.Write("people/Administrator.yaml", person("Administrator", "000500"))
	head := repo.Commit("Manage the administrator", admin)
	code, out, errOut = runAlm(t, "check", "--repo", repo.Path, "--base", base, "--head", head, "--now", "2026-11-22T09:00:00Z")
	if code != exitInvalid || !strings.Contains(out, "people/Administrator.yaml:4") || !strings.Contains(out, "built-in account") {
		t.Errorf("check: exit %d, want %d and the file's line\n%s%s", code, exitInvalid, out, errOut)
	}
}
