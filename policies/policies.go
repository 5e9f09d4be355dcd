// Package policies holds alm's built-in Rego rules, embedded in the binary,
// with their unit tests. README.md documents the input and data the rules
// read, so organisations can write their own.
package policies

import (
	"embed"
	"io/fs"
	"sort"
	"strings"
)

//go:embed *.rego
var files embed.FS

// Module is one Rego file.
type Module struct {
	Path   string // "policies/approvals.rego"
	Source string
}

// Modules returns the built-in rules, without their tests, sorted by path.
func Modules() []Module { return read(func(name string) bool { return !IsTest(name) }) }

// Tests returns the built-in rules and their tests, for a test runner.
func Tests() []Module { return read(func(string) bool { return true }) }

// IsTest reports whether a Rego file holds unit tests (name ends _test.rego).
func IsTest(name string) bool { return strings.HasSuffix(name, "_test.rego") }

func read(keep func(string) bool) []Module {
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		panic("policies: read embedded files: " + err.Error()) // cannot happen: the files are compiled in
	}
	var out []Module
	for _, e := range entries {
		if !keep(e.Name()) {
			continue
		}
		data, err := files.ReadFile(e.Name())
		if err != nil {
			panic("policies: read embedded " + e.Name() + ": " + err.Error())
		}
		out = append(out, Module{Path: "policies/" + e.Name(), Source: string(data)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}
