package schemas

import (
	"io/fs"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// Every schema file declares draft 2020-12 and its $id, has a title, and
// every property it declares carries a description (editors show it) and
// sits in an object closed to unknown fields.
func TestSchemaFiles(t *testing.T) {
	s := mustCompile(t)
	names, err := fs.Glob(files, "*.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			doc := s.docs[Base+name].(map[string]any)
			if got := doc["$schema"]; got != "https://json-schema.org/draft/2020-12/schema" {
				t.Errorf("$schema is %v", got)
			}
			if doc["title"] == nil || doc["description"] == nil {
				t.Errorf("title or description missing")
			}
			w := walker{t: t, set: s, url: Base + name}
			w.schema(doc, "", false)
			for def, sub := range asMap(doc["$defs"]) {
				if _, ok := asMap(sub)["description"]; !ok {
					t.Errorf("$defs/%s has no description", def)
				}
			}
		})
	}
	var used []string
	for _, f := range fileOf {
		used = append(used, f)
	}
	used = append(used, "common.schema.json")
	sort.Strings(used)
	if !slices.Equal(names, used) {
		t.Errorf("embedded files %v, want %v", names, used)
	}
}

type walker struct {
	t   *testing.T
	set *Set
	url string
}

// schema checks one schema object; conditional says it only narrows
// another (if/then/else, not), so it need not close itself.
func (w walker) schema(node map[string]any, at string, conditional bool) {
	if props, ok := node["properties"].(map[string]any); ok && !conditional {
		if node["additionalProperties"] != false {
			w.t.Errorf("%s: declares properties but additionalProperties is not false", at)
		}
		for name, p := range props {
			prop := asMap(p)
			if !w.described(prop) {
				w.t.Errorf("%s/properties/%s has no description", at, name)
			}
		}
	}
	for key, v := range node {
		cond := conditional || key == "if" || key == "then" || key == "else" || key == "not"
		switch key {
		case "properties", "$defs":
			for name, sub := range asMap(v) {
				w.schema(asMap(sub), at+"/"+key+"/"+name, cond)
			}
		case "items", "if", "then", "else", "not":
			w.schema(asMap(v), at+"/"+key, cond)
		case "allOf", "anyOf", "oneOf":
			for i, sub := range asList(v) {
				w.schema(asMap(sub), at+"/"+key+"/"+strconv.Itoa(i), true)
			}
		}
	}
}

// described says whether a property has a description, its own or its $ref's.
func (w walker) described(prop map[string]any) bool {
	if _, ok := prop["description"]; ok {
		return true
	}
	ref, ok := prop["$ref"].(string)
	if !ok {
		return false
	}
	file, frag, _ := strings.Cut(ref, "#")
	u := w.url
	if file != "" {
		u = Base + file
	}
	_, ok = asMap(lookup(w.set.docs[u], pointerTokens(frag)))["description"]
	return ok
}

func asMap(v any) map[string]any { m, _ := v.(map[string]any); return m }
