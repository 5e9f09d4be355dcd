// Package policy runs the Rego rules over a change: alm's built-in rules
// (package policies) plus the access repository's own policies/*.rego. The
// rules follow conftest's convention: sets named deny and warn (or deny_*,
// warn_*) of messages, each a string or an object {msg, file, field, line,
// rule}. The repository is stored as data, at head (data.alm.repository) and
// at base (data.alm.base, which decides who must approve and who can); the
// change and its pull request are the input.
package policy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/util"

	"github.com/alm-project/alm/policies"
	"github.com/alm-project/alm/reconciler/model"
)

// Severity says whether a violation fails the check.
type Severity string

const (
	Deny Severity = "deny"
	Warn Severity = "warn"
)

// Violation is one message of one rule.
type Violation struct {
	File     string   `json:"file,omitempty"` // empty for the pull request as a whole
	Line     int      `json:"line,omitempty"`
	Field    string   `json:"field,omitempty"`
	Rule     string   `json:"rule"`
	Message  string   `json:"message"`
	Severity Severity `json:"severity"`
	// CanApprove names the people whose approval could lift a denial
	// (a rule's can_approve): alm check asks them for a review.
	CanApprove []string `json:"canApprove,omitempty"`
}

func (v Violation) String() string {
	where := v.File
	if v.Line > 0 {
		where += ":" + strconv.Itoa(v.Line)
	}
	if where == "" {
		where = "pull request"
	}
	return fmt.Sprintf("%s: %s: %s [%s]", where, v.Severity, v.Message, v.Rule)
}

// Rule names for problems with the organisation's policy files themselves.
const RulePolicyFile = "policy-file"

// Engine holds the compiled rules and the prepared query over one
// repository's data. Build one per check; Eval it for the change.
type Engine struct {
	query    rego.PreparedEvalQuery
	store    storage.Store // the data the query reads; the fuzz target replaces it
	outputs  []output
	problems []Violation // organisation policy files that did not compile
}

// output is one deny or warn set the query collects.
type output struct {
	binding  string
	pkg      string // "alm.builtin.approvals"
	severity Severity
}

// New compiles the built-in rules and the organisation's (test files
// skipped), stores the repository at head under data.alm.repository and at
// base under data.alm.base, and prepares the query. An organisation file that
// does not parse or compile, or that claims one of alm's packages, is left
// out and reported by Eval as a denial naming its file and line; a built-in
// rule that does not compile is an error.
func New(ctx context.Context, org []model.PolicyFile, head, base Data) (*Engine, error) {
	compiler, problems, err := compile(org)
	if err != nil {
		return nil, err
	}
	e := &Engine{problems: problems}

	var exprs []string
	paths := slices.Sorted(maps.Keys(compiler.Modules))
	for _, path := range paths {
		mod := compiler.Modules[path]
		pkg := strings.TrimPrefix(mod.Package.Path.String(), "data.")
		for _, name := range ruleNames(mod) {
			sev := Deny
			if strings.HasPrefix(name, "warn") {
				sev = Warn
			}
			binding := "x" + strconv.Itoa(len(e.outputs))
			ref := mod.Package.Path.Copy().Append(ast.StringTerm(name)).String()
			// A comprehension is defined even when the rule is not, so one
			// package without matches cannot make the whole query undefined.
			exprs = append(exprs, fmt.Sprintf("%s := [m | some m in %s]", binding, ref))
			e.outputs = append(e.outputs, output{binding, pkg, sev})
		}
	}
	if len(exprs) == 0 {
		return nil, fmt.Errorf("no deny or warn rules compiled")
	}
	// The people and service accounts stay Go values until a rule reads
	// one: a check reads a few of 100,000, and converting them all was
	// the engine's heaviest work (lazy.go).
	store := newLazyStore(map[string]any{"alm": map[string]any{"repository": storeValue(head), "base": storeValue(base)}})
	e.store = store
	e.query, err = rego.New(
		rego.Query(strings.Join(exprs, "; ")),
		rego.Compiler(compiler),
		rego.Store(store),
	).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("prepare policy query: %w", err)
	}
	return e, nil
}

// Compile compiles the built-in rules with the organisation's and returns
// the problems of the organisation's files (parse and compile errors, as
// denials at their lines). An error means a built-in rule does not compile.
func Compile(org []model.PolicyFile) ([]Violation, error) {
	_, problems, err := compile(org)
	return problems, err
}

// compile parses and compiles the built-in and organisation modules (test
// files skipped). Organisation modules with errors are dropped, reported, and
// the rest compiled again.
func compile(org []model.PolicyFile) (*ast.Compiler, []Violation, error) {
	var problems []Violation
	builtin := map[string]*ast.Module{}
	for _, m := range policies.Modules() {
		mod, err := parse(m.Path, m.Source)
		if err != nil {
			return nil, nil, fmt.Errorf("built-in policy %s: %w", m.Path, err)
		}
		builtin[m.Path] = mod
	}
	orgMods := map[string]*ast.Module{}
	for _, f := range org {
		if policies.IsTest(f.Path) {
			continue
		}
		if _, clash := builtin[f.Path]; clash {
			continue // the loader never names a file so; defensive only
		}
		mod, err := parse(f.Path, f.Source)
		if err != nil {
			problems = append(problems, regoErrors(err, f.Path)...)
			continue
		}
		if v, ok := reserved(mod); ok {
			problems = append(problems, v)
			continue
		}
		orgMods[f.Path] = mod
	}
	for {
		all := map[string]*ast.Module{}
		for p, m := range builtin {
			all[p] = m
		}
		for p, m := range orgMods {
			all[p] = m
		}
		c := ast.NewCompiler().WithDefaultRegoVersion(ast.RegoV1)
		c.Compile(all)
		if !c.Failed() {
			return c, problems, nil
		}
		bad := map[string]bool{}
		for _, ce := range c.Errors {
			if ce.Location != nil {
				if _, ok := orgMods[ce.Location.File]; ok {
					bad[ce.Location.File] = true
				}
			}
		}
		if len(bad) == 0 {
			if len(orgMods) == 0 {
				return nil, nil, fmt.Errorf("compile built-in policies: %w", c.Errors)
			}
			// Errors without a place in one organisation file (conflicts
			// between files): report them and keep the built-ins.
			for _, ce := range c.Errors {
				problems = append(problems, Violation{Rule: RulePolicyFile, Severity: Deny,
					Message: "organisation policies do not compile, so none of them ran: " + ce.Message})
			}
			orgMods = nil
			continue
		}
		for _, ce := range c.Errors {
			if ce.Location != nil && bad[ce.Location.File] {
				problems = append(problems, regoError(ce))
			}
		}
		for p := range bad {
			delete(orgMods, p)
		}
	}
}

// reservedPackages are alm's: the built-in rules and the data. An
// organisation module in one of them could add a definition to a built-in
// function (Rego ORs them) or shadow the data, and so loosen the built-in
// rules; such a module is refused.
var reservedPackages = []string{"alm.builtin", "alm.repository", "alm.base"}

// reserved reports an organisation module whose package is alm's.
func reserved(mod *ast.Module) (Violation, bool) {
	pkg := strings.TrimPrefix(mod.Package.Path.String(), "data.")
	claimed := pkg == "alm" // its rules would sit beside data.alm.repository
	for _, r := range reservedPackages {
		claimed = claimed || pkg == r || strings.HasPrefix(pkg, r+".")
	}
	if !claimed {
		return Violation{}, false
	}
	v := Violation{Rule: RulePolicyFile, Severity: Deny,
		Message: fmt.Sprintf("package %s is alm's, so the file did not run: name the package alm.org.<topic>", pkg)}
	if loc := mod.Package.Location; loc != nil {
		v.File, v.Line = loc.File, loc.Row
	}
	return v, true
}

// Eval runs every deny and warn rule over the input and returns their
// messages (with any organisation policy file that did not compile), sorted.
func (e *Engine) Eval(ctx context.Context, in Input) ([]Violation, error) {
	value, err := ast.InterfaceToValue(jsonValue(in))
	if err != nil {
		return nil, fmt.Errorf("policy input: %w", err)
	}
	rs, err := e.query.Eval(ctx, rego.EvalParsedInput(value))
	if err != nil {
		return nil, fmt.Errorf("evaluate policies: %w", err)
	}
	if len(rs) != 1 {
		return nil, fmt.Errorf("evaluate policies: %d results, want 1", len(rs))
	}
	out := append([]Violation{}, e.problems...)
	for _, o := range e.outputs {
		msgs, _ := rs[0].Bindings[o.binding].([]any)
		for _, m := range msgs {
			out = append(out, violation(m, o))
		}
	}
	Sort(out)
	return out, nil
}

// violation reads one message: a string, or an object with msg and
// optionally file, field, line, rule and can_approve (a list of people).
func violation(m any, o output) Violation {
	v := Violation{Rule: o.pkg, Severity: o.severity}
	switch x := m.(type) {
	case string:
		v.Message = x
	case map[string]any:
		v.Message = str(x["msg"])
		if v.Message == "" {
			v.Message = compact(x)
		}
		v.File = str(x["file"])
		v.Field = str(x["field"])
		if r := str(x["rule"]); r != "" {
			v.Rule = r
		}
		if names, ok := x["can_approve"].([]any); ok {
			for _, n := range names {
				if n := str(n); n != "" {
					v.CanApprove = append(v.CanApprove, n)
				}
			}
		}
		if n, ok := x["line"].(json.Number); ok {
			if i, err := n.Int64(); err == nil {
				v.Line = int(i)
			}
		}
	default:
		v.Message = compact(x)
	}
	return v
}

// Place fills in the line of violations that name a file and a field but
// no line, from where the loader found the field; repositories are searched
// in order (head first, then base for deleted files).
func Place(vs []Violation, repos ...*model.Repository) {
	all := make([]map[string]model.Source, len(repos)) // built when a file is not where its name says
	for i := range vs {
		if vs[i].Line != 0 || vs[i].File == "" {
			continue
		}
		for j, r := range repos {
			src, ok := named(r, vs[i].File)
			if !ok {
				if all[j] == nil {
					all[j] = Sources(r)
				}
				src, ok = all[j][vs[i].File]
			}
			if ok {
				vs[i].Line = src.At(vs[i].Field).Line
				break
			}
		}
	}
}

// named finds the object of a file where its path says: people/jdoe.yaml
// is jdoe's. A repository keeps 100,000 people; a check places a few.
func named(r *model.Repository, file string) (model.Source, bool) {
	if r == nil {
		return model.Source{}, false
	}
	if file == orDefault(pathOf(r.Directory), model.DirectoryFile) && r.Directory != nil {
		return r.Directory.Source, true
	}
	folder, name, _ := strings.Cut(file, "/")
	name = strings.TrimSuffix(strings.TrimSuffix(name, ".yaml"), ".yml")
	var src model.Source
	var kind string
	switch folder {
	case model.Folders[model.KindPerson]:
		if p := r.People[name]; p != nil {
			src, kind = p.Source, model.KindPerson
		}
	case model.Folders[model.KindServiceAccount]:
		if a := r.ServiceAccounts[name]; a != nil {
			src, kind = a.Source, model.KindServiceAccount
		}
	case model.Folders[model.KindRole]:
		if ro := r.Roles[name]; ro != nil {
			src, kind = ro.Source, model.KindRole
		}
	case model.Folders[model.KindWorkflowTemplate]:
		if t := r.Templates[name]; t != nil {
			src, kind = t.Source, model.KindWorkflowTemplate
		}
	}
	if kind == "" || fileOf(kind, name, src) != file {
		return model.Source{}, false
	}
	return src, true
}

// Sources returns the Source of every object file of a repository, by path.
func Sources(r *model.Repository) map[string]model.Source {
	out := map[string]model.Source{}
	if r == nil {
		return out
	}
	if r.Directory != nil {
		out[orDefault(r.Directory.Source.Path, model.DirectoryFile)] = r.Directory.Source
	}
	for name, t := range r.Templates {
		out[fileOf(model.KindWorkflowTemplate, name, t.Source)] = t.Source
	}
	for name, p := range r.People {
		out[fileOf(model.KindPerson, name, p.Source)] = p.Source
	}
	for name, a := range r.ServiceAccounts {
		out[fileOf(model.KindServiceAccount, name, a.Source)] = a.Source
	}
	for name, ro := range r.Roles {
		out[fileOf(model.KindRole, name, ro.Source)] = ro.Source
	}
	return out
}

func pathOf(d *model.Directory) string {
	if d == nil {
		return ""
	}
	return d.Source.Path
}

// Sort orders violations by file (the pull request first), line, severity
// (denials first) and message.
func Sort(vs []Violation) {
	sort.SliceStable(vs, func(i, j int) bool {
		a, b := vs[i], vs[j]
		switch {
		case a.File != b.File:
			return a.File < b.File
		case a.Line != b.Line:
			return a.Line < b.Line
		case a.Severity != b.Severity:
			return a.Severity == Deny
		case a.Rule != b.Rule:
			return a.Rule < b.Rule
		}
		return a.Message < b.Message
	})
}

// Denied reports whether any violation is a denial.
func Denied(vs []Violation) bool {
	for _, v := range vs {
		if v.Severity == Deny {
			return true
		}
	}
	return false
}

// ruleNames returns the deny and warn rules a module defines, by name.
func ruleNames(mod *ast.Module) []string {
	set := map[string]bool{}
	for _, r := range mod.Rules {
		ref := r.Head.Ref()
		if len(ref) == 0 || len(r.Head.Args) > 0 { // a function is not a set of messages
			continue
		}
		name, ok := ref[0].Value.(ast.Var)
		if !ok {
			continue
		}
		n := string(name)
		if n == "deny" || n == "warn" || strings.HasPrefix(n, "deny_") || strings.HasPrefix(n, "warn_") {
			set[n] = true
		}
	}
	return model.SortedNames(set)
}

func parse(path, src string) (*ast.Module, error) {
	return ast.ParseModuleWithOpts(path, src, ast.ParserOptions{RegoVersion: ast.RegoV1})
}

// regoErrors turns a parse error into denials at their lines.
func regoErrors(err error, path string) []Violation {
	var out []Violation
	if errs, ok := err.(ast.Errors); ok {
		for _, e := range errs {
			out = append(out, regoError(e))
		}
		return out
	}
	return []Violation{{File: path, Rule: RulePolicyFile, Severity: Deny, Message: "does not parse, so it did not run: " + err.Error()}}
}

func regoError(e *ast.Error) Violation {
	v := Violation{Rule: RulePolicyFile, Severity: Deny, Message: "does not compile, so it did not run: " + e.Message}
	if e.Location != nil {
		v.File, v.Line = e.Location.File, e.Location.Row
	}
	return v
}

// jsonValue turns Go values into the JSON-shaped values OPA reads
// (map[string]any, []any, json.Number, ...). The types given always
// marshal; a failure is a bug in this package.
func jsonValue[T any](v T) map[string]any {
	data, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("policy: marshal %T: %v", v, err))
	}
	var out map[string]any
	if err := util.UnmarshalJSON(data, &out); err != nil {
		panic(fmt.Sprintf("policy: unmarshal %T: %v", v, err))
	}
	return out
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func compact(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSpace(buf.String())
}
