// Package synthetic generates access repositories of any size, shaped like
// examples/acme, for benchmarks: the same configuration, templates, roles
// and policies, with generated people and service accounts.
package synthetic

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/alm-project/alm/examples"
)

// Files is an access repository of n people and n/100 service
// accounts: examples/acme's alm.yaml, templates, roles and policies, and
// people shaped like acme's. Most are active employees; every tenth is a
// contractor, one in fifty has left, one in a hundred starts next week. A
// third request vpn-users, and management is a tree eight wide, so chains
// are as deep as in a real organisation (log8 n).
func Files(n int) (map[string]string, error) {
	files := map[string]string{}
	err := fs.WalkDir(examples.Acme(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(p, "people/") || strings.HasPrefix(p, "service-accounts/") {
			return err
		}
		data, err := fs.ReadFile(examples.Acme(), p)
		files[p] = string(data)
		return err
	})
	if err != nil {
		return nil, err
	}
	departments := []string{"Engineering", "Sales", "Finance", "Support"}
	for i := range n {
		name := PersonName(i)
		typ, end := "employee", ""
		switch {
		case i%10 == 9:
			typ, end = "contractor", "\n  endDate: 2027-01-31"
		case i%50 == 7:
			end = "\n  endDate: 2026-04-10"
		}
		start := "2024-01-08"
		if i%100 == 3 {
			start = "2026-05-05"
		}
		manager := ""
		if i > 0 {
			manager = "\n  manager: " + PersonName((i-1)/8)
		}
		roles := ""
		switch {
		case i < 3:
			roles = "\n  roles: [security-approvers, vpn-users]"
		case i%3 == 0:
			roles = "\n  roles: [vpn-users]"
		}
		files["people/"+name+".yaml"] = fmt.Sprintf(`# yaml-language-server: $schema=../../../schemas/person.schema.json
apiVersion: alm/v1
kind: Person
metadata:
  name: %s
  id: "%06d"
spec:
  givenName: Given%d
  surname: Surname%d
  email: %s@example.test
  type: %s
  source: hr
  department: %s
  title: Engineer%s
  startDate: %s%s%s
`, name, 100000+i, i, i, name, typ, departments[i%len(departments)], manager, start, end, roles)
	}
	for i := range n / 100 {
		name := fmt.Sprintf("svc-app%04d", i)
		files["service-accounts/"+name+".yaml"] = fmt.Sprintf(`# yaml-language-server: $schema=../../../schemas/serviceaccount.schema.json
apiVersion: alm/v1
kind: ServiceAccount
metadata:
  name: %s
  id: sa-%06d
spec:
  template: service-account
  description: Synchronises application %d with the CRM
  owner: %s
  custodians: [%s]
  roles: [crm-integration]
  created: 2026-03-01
  expires: 2027-02-01
`, name, i, i, PersonName(8*i+1), PersonName(8*i+2))
	}
	return files, nil
}

// PersonName is the login of the i-th generated person.
func PersonName(i int) string { return fmt.Sprintf("u%06d", i) }

// WriteGit writes Files(n) into dir and commits them with the git command
// (go-git takes minutes for 100,000 files), on branch main, packed as a
// clone holds them. It returns the commit.
func WriteGit(dir string, n int) (string, error) {
	files, err := Files(n)
	if err != nil {
		return "", err
	}
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			return "", err
		}
	}
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "-A"}, {"commit", "-q", "-m", "Generated access repository"}, {"repack", "-q", "-a", "-d"}} {
		if _, err := Git(dir, args...); err != nil {
			return "", err
		}
	}
	return Git(dir, "rev-parse", "HEAD")
}

// Git runs the git command in dir with a fixed identity and date, and
// returns its output.
func Git(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=a", "GIT_AUTHOR_EMAIL=a@example.test", "GIT_COMMITTER_NAME=a",
		"GIT_COMMITTER_EMAIL=a@example.test", "GIT_AUTHOR_DATE=2026-04-01T09:00:00Z", "GIT_COMMITTER_DATE=2026-04-01T09:00:00Z")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out)), nil
}
