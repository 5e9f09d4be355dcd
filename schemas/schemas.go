// Package schemas holds the JSON Schemas of the access repository's kinds and
// validates documents against them. The schemas are the reference for field
// names and values; editors use the same files (yaml-language-server), so
// every property carries a description.
//
// Beyond standard JSON Schema 2020-12 the files use two annotations that
// editors based on vscode-json-languageservice also read:
// patternErrorMessage (said when a pattern does not match) and errorMessage
// (said instead of any failure of that schema at that value). Both are
// predicates that follow the field's name: "must be ...", "is required ...".
package schemas

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/alm-project/alm/reconciler/model"
)

//go:embed *.json
var files embed.FS

// Base is the URL every schema's $id starts with; references between the
// files resolve against it, to the embedded files, never to the network.
const Base = "https://alm.dev/schemas/v1/"

// fileOf names the schema of each kind.
var fileOf = map[string]string{
	model.KindDirectory:        "directory.schema.json",
	model.KindWorkflowTemplate: "workflowtemplate.schema.json",
	model.KindPerson:           "person.schema.json",
	model.KindServiceAccount:   "serviceaccount.schema.json",
	model.KindRole:             "role.schema.json",
}

// kindOrder is the order kinds are listed in messages: the design's.
var kindOrder = []string{
	model.KindDirectory, model.KindWorkflowTemplate, model.KindPerson,
	model.KindServiceAccount, model.KindRole,
}

// Set is the compiled schema of every kind.
type Set struct {
	kinds map[string]*jsonschema.Schema
	docs  map[string]any // the schema files as parsed, by URL, for their annotations
}

// Violation is one thing wrong with a document. Pointer is the instance
// location as path segments ("spec", "roles", "1"); for a missing or unknown
// field it ends with that field's name, so the nearest part of it that exists
// in the file is where the problem is. Message names the field in the form
// "spec.roles[1]" and says what is wrong.
type Violation struct {
	Pointer []string
	Message string
}

func (v Violation) String() string { return v.Message }

// Compile compiles the embedded schemas.
func Compile() (*Set, error) { return compileFS(files, fileOf) }

// compileFS compiles the schemas of fsys, naming the file of each kind.
func compileFS(fsys fs.FS, kinds map[string]string) (*Set, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	c.UseLoader(embeddedOnly{})
	c.UseRegexpEngine(boundedRegexp)
	s := &Set{kinds: map[string]*jsonschema.Schema{}, docs: map[string]any{}}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read embedded schemas: %w", err)
	}
	for _, e := range entries {
		f, err := fsys.Open(e.Name())
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", e.Name(), err)
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", e.Name(), err)
		}
		u := Base + e.Name()
		if id, _ := doc.(map[string]any)["$id"].(string); id != u {
			return nil, fmt.Errorf("%s: $id is %q, want %q", e.Name(), id, u)
		}
		if err := c.AddResource(u, doc); err != nil {
			return nil, fmt.Errorf("add %s: %w", e.Name(), err)
		}
		s.docs[u] = doc
	}
	for kind, name := range kinds {
		sch, err := c.Compile(Base + name)
		if err != nil {
			return nil, fmt.Errorf("compile %s: %w", name, err)
		}
		s.kinds[kind] = sch
	}
	return s, nil
}

// embeddedOnly refuses every URL: all the schemas were added from the
// embedded files, so anything else is a mistake in them.
type embeddedOnly struct{}

func (embeddedOnly) Load(u string) (any, error) {
	return nil, fmt.Errorf("%s is not one of the embedded schemas", u)
}

// Kinds lists the kinds there are schemas for.
func (s *Set) Kinds() []string { return append([]string(nil), kindOrder...) }

// Validate checks a JSON-like document (map[string]any, []any, string,
// float64 or json.Number, bool, nil; FromYAML makes one) against the schema
// of its kind. It returns one Violation per problem, in document path order,
// or nil when the document is valid.
func (s *Set) Validate(kind string, doc any) []Violation {
	sch, ok := s.kinds[kind]
	if !ok {
		return []Violation{{
			Pointer: []string{"kind"},
			Message: fmt.Sprintf(`"kind" must be one of %s, not %q`, strings.Join(kindOrder, ", "), kind),
		}}
	}
	r := reporter{set: s, doc: doc}
	if p, ok := nonFinite(doc, nil); ok {
		r.add(p, "%s must be a finite number", r.subject(p))
		return r.out
	}
	err := sch.Validate(doc)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		r.add(nil, "%v", err)
		return r.out
	}
	r.walk(ve)
	return r.sorted()
}

// boundedRegexp compiles a regular expression of at most model.MaxPattern
// bytes: format "regex" compiles a file's naming pattern, and a longer one
// takes long to compile and is refused by maxLength anyway.
func boundedRegexp(s string) (jsonschema.Regexp, error) {
	if len(s) > model.MaxPattern {
		return nil, fmt.Errorf("%d characters, more than the %d alm compiles", len(s), model.MaxPattern)
	}
	return regexp.Compile(s)
}

// nonFinite finds a NaN or infinite float64, which JSON cannot hold and the
// validator cannot compare. The path is built on the way back up, once: a
// copy at every level would be quadratic in the depth of the document.
func nonFinite(v any, at []string) ([]string, bool) {
	rev, ok := nonFiniteRev(v)
	if !ok {
		return nil, false
	}
	slices.Reverse(rev)
	return append(at, rev...), true
}

// nonFiniteRev is nonFinite's path, innermost segment first.
func nonFiniteRev(v any) ([]string, bool) {
	switch v := v.(type) {
	case float64:
		return nil, math.IsNaN(v) || math.IsInf(v, 0)
	case float32:
		return nil, math.IsNaN(float64(v)) || math.IsInf(float64(v), 0)
	case map[string]any:
		for k, e := range v {
			if p, ok := nonFiniteRev(e); ok {
				return append(p, k), true
			}
		}
	case []any:
		for i, e := range v {
			if p, ok := nonFiniteRev(e); ok {
				return append(p, strconv.Itoa(i)), true
			}
		}
	}
	return nil, false
}

// annotation returns a string keyword of the schema at a location
// (URL#/json/pointer), or of the schemas that apply in place around it
// (allOf/anyOf/oneOf members, if/then/else, not), whose messages cover it.
func (s *Set) annotation(location, key string) (string, bool) {
	u, frag, _ := strings.Cut(location, "#")
	doc, ok := s.docs[u]
	if !ok {
		return "", false
	}
	tokens := pointerTokens(frag)
	for {
		if obj, ok := lookup(doc, tokens).(map[string]any); ok {
			if msg, ok := obj[key].(string); ok {
				return msg, true
			}
		}
		n := len(tokens)
		switch {
		case n >= 1 && (tokens[n-1] == "then" || tokens[n-1] == "else" || tokens[n-1] == "if" || tokens[n-1] == "not"):
			tokens = tokens[:n-1]
		case n >= 2 && (tokens[n-2] == "allOf" || tokens[n-2] == "anyOf" || tokens[n-2] == "oneOf" || tokens[n-2] == "dependentSchemas"):
			tokens = tokens[:n-2]
		default:
			return "", false
		}
	}
}

// properties lists the property names the schema at a location declares.
func (s *Set) properties(location string) []string {
	u, frag, _ := strings.Cut(location, "#")
	obj, _ := lookup(s.docs[u], pointerTokens(frag)).(map[string]any)
	props, _ := obj["properties"].(map[string]any)
	names := make([]string, 0, len(props))
	for name := range props {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

func pointerTokens(frag string) []string {
	if f, err := url.PathUnescape(frag); err == nil {
		frag = f
	}
	frag = strings.TrimPrefix(frag, "/")
	if frag == "" {
		return nil
	}
	tokens := strings.Split(frag, "/")
	for i, t := range tokens {
		tokens[i] = strings.NewReplacer("~1", "/", "~0", "~").Replace(t)
	}
	return tokens
}

// lookup follows path segments through a JSON-like value; nil when absent.
func lookup(v any, tokens []string) any {
	for _, t := range tokens {
		switch c := v.(type) {
		case map[string]any:
			v = c[t]
		case []any:
			i, err := strconv.Atoi(t)
			if err != nil || i < 0 || i >= len(c) {
				return nil
			}
			v = c[i]
		default:
			return nil
		}
	}
	return v
}

// field renders a path the way model.Source.Fields keys it: spec.roles[1].
// Segments are indexes only where the document holds a list.
func field(doc any, pointer []string) string {
	var b strings.Builder
	v := doc
	for _, seg := range pointer {
		if list, ok := v.([]any); ok {
			b.WriteString("[" + seg + "]")
			if i, err := strconv.Atoi(seg); err == nil && i >= 0 && i < len(list) {
				v = list[i]
			} else {
				v = nil
			}
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(seg)
		if m, ok := v.(map[string]any); ok {
			v = m[seg]
		} else {
			v = nil
		}
	}
	return b.String()
}
