package load_test

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/alm-project/alm/reconciler/load/loadtest"
	"github.com/alm-project/alm/reconciler/model"
)

const role = "apiVersion: alm/v1\nkind: Role\nmetadata: {name: big}\nspec:\n  groups: [Big]\n"

// aliasesTo is a role whose description refers n times to a mapping of keys keys.
func aliasesTo(keys, n int) string {
	var b strings.Builder
	b.WriteString(role + "  x: &m {")
	for i := range keys {
		fmt.Fprintf(&b, "k%d: 1, ", i)
	}
	b.WriteString("}\n  description: [" + strings.Repeat("*m, ", n) + "]\n")
	return b.String()
}

// laughs is the "billion laughs": levels of lists of ten aliases each to the level below.
func laughs(levels int) string {
	var b strings.Builder
	b.WriteString(role + "  l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < levels; i++ {
		fmt.Fprintf(&b, "  l%d: &l%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*l%d, ", i-1), 10), ", "))
	}
	return b.String()
}

// exactly is prefix, x repeated and suffix, size bytes in all.
func exactly(size int, prefix, suffix string) string {
	return prefix + strings.Repeat("x", size-len(prefix)-len(suffix)) + suffix
}

// Inputs that once made loading unbounded, or slow enough to stall the
// fuzzer, are refused at their place; the limits themselves are accepted.
func TestBounds(t *testing.T) {
	manyKeys := func(n int) string {
		var b strings.Builder
		b.WriteString(role)
		for i := range n {
			fmt.Fprintf(&b, "  k%d: 1\n", i)
		}
		return b.String()
	}
	deepBlock := func(levels int) string {
		var b strings.Builder
		b.WriteString(role + "  description:\n")
		indent := "    "
		for range levels {
			b.WriteString(indent + "k:\n")
			indent += " "
		}
		return b.String() + indent + "v\n"
	}
	tests := []struct {
		name string
		path string
		data string
		want string // "line:col fragment", or "- fragment" at any place
	}{
		{"an alias inside its own anchor", "roles/big.yaml", role + "  description: &d {x: *d}\n",
			"6:23 nested more than 32 levels deep"},
		{"a list that holds itself", "roles/big.yaml", role + "  description: &d [*d, *d]\n",
			"6:20 nested more than 32 levels deep"},
		{"billion laughs", "roles/big.yaml", laughs(9), "10:47 more than 100000 values"},
		{"merge keys that multiply", "roles/big.yaml", role + "  a: &a {x: 1, y: 2}\n  b: &b {<<: [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a], z: [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]}\n" +
			strings.Repeat("  c: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b, *b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n", 1) +
			"  d: &d [" + strings.Repeat("*b, ", 2000) + "]\n", "9:3098 more than 100000 values"},
		{"aliases to a mapping of many keys", "roles/big.yaml", aliasesTo(300, 2000), "6:6 a mapping of 300 keys"},
		{"aliases to a mapping at the key limit", "roles/big.yaml", aliasesTo(256, 300), "7:789 more than 100000 values"},
		{"a mapping of many keys", "roles/big.yaml", manyKeys(20000), "5:3 a mapping of 20001 keys"},
		{"a mapping at the key limit", "roles/big.yaml", manyKeys(254), `- unknown field "spec.k0"`},
		{"nested lists", "people/jdoe.yaml", "roles: " + strings.Repeat("[", 9000) + strings.Repeat("]", 9000) + "\n", "1:40 nested more than 32 levels"},
		{"nested lists at the depth limit", "roles/big.yaml", role + "  description: " + strings.Repeat("[", 30) + strings.Repeat("]", 30) + "\n", `- "spec.description" must be a string`},
		{"nested mappings", "roles/big.yaml", deepBlock(40), "37:35 nested more than 32 levels"},
		{"a file over 256 KiB", "roles/big.yaml", role + "  description: " + strings.Repeat("x", 256<<10) + "\n", "1 262234 bytes: alm reads files of at most 262144 bytes"},
		{"a policy over 256 KiB", "policies/big.rego", "package alm.org.big\n" + strings.Repeat("# x\n", 1<<16), "1 262164 bytes"},
		{"a file of 256 KiB", "roles/big.yaml", exactly(256<<10, "apiVersion: alm/v1\nkind: Role\nmetadata: {name: big}\nspec:\n  groups: [", "]\n"),
			`- "spec.groups[0]" must be at most 64 characters long`},
	}
	acme := loadtest.Acme(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loadtest.Within(t, func() error {
				start := time.Now()
				_, problems, err := loadtest.Load(loadtest.With(acme, tt.path, []byte(tt.data)))
				if err != nil {
					return err
				}
				at, fragment, _ := strings.Cut(tt.want, " ")
				for _, p := range problems {
					if p.Pos.Path == tt.path && strings.Contains(p.Message, fragment) &&
						(at == "-" || strings.HasSuffix(p.Pos.String(), ":"+at)) {
						t.Logf("%s in %v", p, time.Since(start))
						return nil
					}
				}
				return fmt.Errorf("want %s:%s %q among the problems:\n%s", tt.path, at, fragment, problems.Error())
			})
		})
	}
}

// chainOf returns acme with n more people, each managed by the one before.
func chainOf(t *testing.T, n int) fstest.MapFS {
	fsys := loadtest.Acme(t)
	for i := range n {
		manager := ""
		if i > 0 {
			manager = fmt.Sprintf("\n  manager: c%03d", i-1)
		}
		fsys = loadtest.With(fsys, fmt.Sprintf("people/c%03d.yaml", i), fmt.Appendf(nil,
			"apiVersion: alm/v1\nkind: Person\nmetadata: {name: c%03d, id: \"9%05d\"}\nspec:\n  givenName: C\n  surname: C%d\n  type: employee\n  startDate: 2024-01-08%s\n",
			i, i, i, manager))
	}
	return fsys
}

// A chain longer than model.MaxManagerChain is reported once, at the first
// person beyond it; the longest allowed chain is not.
func TestManagerChainLength(t *testing.T) {
	tests := []struct {
		name   string
		people int
		loop   bool // c000 is managed by c002: c000, c001 and c002 loop
		want   []string
	}{
		{"the longest chain", model.MaxManagerChain + 1, false, nil}, // c064 has 64 managers above
		{"longer", model.MaxManagerChain + 10, false, []string{"people/c065.yaml:9:3: spec.manager: the management chain above c065 is more than 64 people long"}},
		{"longer, below a loop", model.MaxManagerChain + 10, true, []string{
			"people/c000.yaml:9:3: spec.manager: management chain loops back to c000",
			"people/c001.yaml:9:3: spec.manager: management chain loops back to c001",
			"people/c002.yaml:9:3: spec.manager: management chain loops back to c002",
			"people/c065.yaml:9:3: spec.manager: the management chain above c065 is more than 64 people long",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := chainOf(t, tt.people)
			if tt.loop {
				f := fsys["people/c000.yaml"]
				fsys = loadtest.With(fsys, "people/c000.yaml", append(append([]byte{}, f.Data...), "  manager: c002\n"...))
			}
			_, problems, err := loadtest.Load(fsys)
			if err != nil {
				t.Fatal(err)
			}
			if len(problems) != len(tt.want) {
				t.Fatalf("%d problems, want %d:\n%s", len(problems), len(tt.want), problems.Error())
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(problems[i].String(), w) {
					t.Errorf("problem %q, want %q", problems[i], w)
				}
			}
		})
	}
}

// A login longer than any login may be is not matched against its
// template's naming pattern: matching costs the name's length times the
// pattern's size, and this pair took 32 s.
func TestNamingSkipsOverlongLogins(t *testing.T) {
	name := strings.Repeat("a", 100_000)
	fsys := loadtest.With(loadtest.Acme(t), "templates/robot.yaml", []byte(
		"apiVersion: alm/v1\nkind: WorkflowTemplate\nmetadata: {name: robot}\nspec:\n  appliesTo: Person\n  ou: OU=Robots\n  naming: '"+
			strings.Repeat(`(?:a|b){1000}`, 50)+"$'\n"))
	fsys = loadtest.With(fsys, "people/"+name+".yaml", []byte(
		"apiVersion: alm/v1\nkind: Person\nmetadata: {name: "+name+", id: r1}\nspec:\n  givenName: R\n  surname: R\n  type: partner\n  template: robot\n  startDate: 2026-01-01\n"))
	loadtest.Within(t, func() error {
		_, problems, err := loadtest.Load(fsys)
		if err != nil {
			return err
		}
		for _, p := range problems {
			if strings.Contains(p.Message, "must be at most 20 characters long, not 100000") {
				return nil
			}
		}
		return fmt.Errorf("no problem with the login's length:\n%s", problems.Error())
	})
}
