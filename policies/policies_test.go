package policies

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/tester"
)

// TestRego runs the built-in rules' Rego unit tests (as `opa test policies/` does).
func TestRego(t *testing.T) {
	runRego(t, Tests())
}

// TestEveryRuleFileHasTests keeps a rule file from landing without its tests.
func TestEveryRuleFileHasTests(t *testing.T) {
	tests := map[string]bool{}
	for _, m := range Tests() {
		tests[m.Path] = true
	}
	for _, m := range Modules() {
		want := strings.TrimSuffix(m.Path, ".rego") + "_test.rego"
		if !tests[want] {
			t.Errorf("%s has no tests: add %s", m.Path, want)
		}
	}
}

// TestExamplePolicies runs the example organisation's rules and their tests
// compiled together with the built-in rules, as alm compiles them.
func TestExamplePolicies(t *testing.T) {
	paths, err := filepath.Glob("../examples/acme/policies/*.rego")
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no Rego files in examples/acme/policies")
	}
	mods := Modules()
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		mods = append(mods, Module{Path: p, Source: string(data)})
	}
	runRego(t, mods)
}

func runRego(t *testing.T, mods []Module) {
	t.Helper()
	parsed := map[string]*ast.Module{}
	for _, m := range mods {
		mod, err := ast.ParseModuleWithOpts(m.Path, m.Source, ast.ParserOptions{RegoVersion: ast.RegoV1})
		if err != nil {
			t.Fatalf("parse %s: %v", m.Path, err)
		}
		parsed[m.Path] = mod
	}
	ch, err := tester.NewRunner().SetModules(parsed).RaiseBuiltinErrors(true).RunTests(context.Background(), nil)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	n := 0
	for res := range ch {
		n++
		if !res.Pass() {
			msg := res.String()
			if res.Error != nil {
				msg += " error: " + res.Error.Error()
			}
			if res.FailedAt != nil {
				msg += " failed at " + res.FailedAt.Location.String() + ": " + res.FailedAt.String()
			}
			t.Errorf("%s", msg)
		}
	}
	if n == 0 {
		t.Fatal("no Rego tests ran")
	}
	t.Logf("%d Rego tests", n)
}
