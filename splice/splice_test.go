package splice

import (
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

const person = `apiVersion: alm/v1
kind: Person
metadata:
  name: jdoe          # the login
  id: "004217"
spec:
  givenName: Jane
  surname: Doe

  # HR owns the next fields
  department: Engineering
  title: 'Backend engineer'
  manager: asmith
  startDate: 2026-01-05
  endDate:                      # set by HR or by a leaver pull request
  roles: [vpn-users]            # requested roles
  previousNames:
    - jsmith
`

// value reads path in data as decoded data, to compare with a literal.
func value(t *testing.T, data []byte, path []string) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatalf("result does not parse: %v\n%s", err, data)
	}
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("no %s in\n%s", k, data)
		}
		v = m[k]
	}
	return v
}

// readsBack checks that out parses and holds literal at path.
func readsBack(t *testing.T, out []byte, path []string, literal string) {
	t.Helper()
	var want map[string]any
	if err := yaml.Unmarshal([]byte("k: "+literal), &want); err != nil {
		t.Fatal(err)
	}
	if got := value(t, out, path); !reflect.DeepEqual(got, want["k"]) {
		t.Errorf("%v reads back %#v, want %#v", path, got, want["k"])
	}
	if s, ok := want["k"].(string); ok {
		if got, ok := Get(out, path...); !ok || got != s {
			t.Errorf("Get(%v) = %q, %v; want %q", path, got, ok, s)
		}
	}
}

func TestScalar(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Engineering", "Engineering"},
		{"Backend engineer", "Backend engineer"},
		{"José", "José"},
		{"it's", "it's"},
		{"a#b", "a#b"},
		{"004217", `"004217"`},
		{"4217", `"4217"`},
		{"1.5", `"1.5"`},
		{"2026-01-05", `"2026-01-05"`},
		{"1:20", `"1:20"`},
		{"yes", `"yes"`},
		{"No", `"No"`},
		{"on", `"on"`},
		{"true", `"true"`},
		{"null", `"null"`},
		{"~", `"~"`},
		{"", `""`},
		{" x", `" x"`},
		{"x ", `"x "`},
		{"#x", `"#x"`},
		{"a #b", `"a #b"`},
		{"a: b", `"a: b"`},
		{"a:", `"a:"`},
		{"- x", `"- x"`},
		{"a, b", `"a, b"`},
		{"[x]", `"[x]"`},
		{"{x}", `"{x}"`},
		{"&x", `"&x"`},
		{"*x", `"*x"`},
		{"!x", `"!x"`},
		{"%x", `"%x"`},
		{"@x", `"@x"`},
		{"'x'", `"'x'"`},
		{`say "hi"`, `say "hi"`},
		{`"hi"`, `"\"hi\""`},
		{"a\nb", `"a\nb"`},
		{"a\tb", `"a\tb"`},
		{"a\\b", `a\b`},
		{"\x01", `"\x01"`},
		{"a\u2028b", `"a\u2028b"`},
		{"<<", `"<<"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := Scalar(tt.in)
			if got != tt.want {
				t.Errorf("Scalar(%q) = %s, want %s", tt.in, got, tt.want)
			}
			for _, doc := range []string{"k: " + got, "k: [" + got + "]", "k:\n  - " + got} {
				var v map[string]any
				if err := yaml.Unmarshal([]byte(doc), &v); err != nil {
					t.Fatalf("%q: %v", doc, err)
				}
				if l, ok := v["k"].([]any); ok && len(l) == 1 {
					v["k"] = l[0]
				}
				if v["k"] != tt.in {
					t.Errorf("%q reads back %#v", doc, v["k"])
				}
			}
		})
	}
}

func TestGet(t *testing.T) {
	data := []byte(person + "aliased: &a {x: 1}\nother: *a\n")
	tests := []struct {
		path []string
		want string
		ok   bool
	}{
		{[]string{"metadata", "id"}, "004217", true},
		{[]string{"spec", "title"}, "Backend engineer", true},
		{[]string{"spec", "startDate"}, "2026-01-05", true},
		{[]string{"spec", "endDate"}, "", false},
		{[]string{"spec", "roles"}, "", false},
		{[]string{"spec", "nothing"}, "", false},
		{[]string{"spec", "title", "deeper"}, "", false},
		{[]string{"other", "x"}, "1", true},
	}
	for _, tt := range tests {
		t.Run(dotted(tt.path), func(t *testing.T) {
			if got, ok := Get(data, tt.path...); got != tt.want || ok != tt.ok {
				t.Errorf("Get = %q, %v; want %q, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
	if got, ok := Get([]byte(crlf(person)), "spec", "manager"); got != "asmith" || !ok {
		t.Errorf("Get in a CRLF file = %q, %v", got, ok)
	}
	if _, ok := Get([]byte("a: [1,\n"), "a"); ok {
		t.Error("Get read a broken file")
	}
}

func TestSet(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		path    []string
		literal string
		after   []string
		want    string
	}{
		{name: "existing plain value",
			in: person, path: []string{"spec", "department"}, literal: "Sales",
			want: strings.Replace(person, "department: Engineering\n", "department: Sales\n", 1)},
		{name: "existing plain value keeps its comment",
			in: person, path: []string{"metadata", "name"}, literal: "jdoe2",
			want: strings.Replace(person, "name: jdoe          #", "name: jdoe2          #", 1)},
		{name: "single-quoted value",
			in: person, path: []string{"spec", "title"}, literal: Scalar("Staff engineer"),
			want: strings.Replace(person, "title: 'Backend engineer'\n", "title: Staff engineer\n", 1)},
		{name: "double-quoted value",
			in: person, path: []string{"metadata", "id"}, literal: Scalar("004218"),
			want: strings.Replace(person, `id: "004217"`, `id: "004218"`, 1)},
		{name: "double-quoted value with escapes",
			in: "name: \"Jos\\u00e9 \\\"J\\\"\"  # c\nnext: 1\n", path: []string{"name"}, literal: Scalar("Joe"),
			want: "name: Joe  # c\nnext: 1\n"},
		{name: "single-quoted value with a quote",
			in: "name: 'it''s'   # c\nnext: 1\n", path: []string{"name"}, literal: Scalar("it's"),
			want: "name: it's   # c\nnext: 1\n"},
		{name: "plain value over several lines",
			in: "a:\n  text: one\n    two   # c\n  b: 2\n", path: []string{"a", "text"}, literal: "three",
			want: "a:\n  text: three   # c\n  b: 2\n"},
		{name: "value on the next line",
			in: "a:\n  text:\n    one\n  b: 2\n", path: []string{"a", "text"}, literal: "two",
			want: "a:\n  text:\n    two\n  b: 2\n"},
		{name: "columns count characters, not bytes",
			in: "prénom: Zoë  # c\n", path: []string{"prénom"}, literal: "Anaïs",
			want: "prénom: Anaïs  # c\n"},
		{name: "tab after the colon",
			in: "a:\tone\n", path: []string{"a"}, literal: "two",
			want: "a:\ttwo\n"},
		{name: "null value with a comment",
			in: person, path: []string{"spec", "endDate"}, literal: "2026-03-31",
			want: strings.Replace(person, "endDate:       ", "endDate: 2026-03-31       ", 1)},
		{name: "null value at the end of a file",
			in: "a: 1\nb:", path: []string{"b"}, literal: "2",
			want: "a: 1\nb: 2"},
		{name: "null value under a quoted key",
			in: "\"a b\": # c\n", path: []string{"a b"}, literal: "1",
			want: "\"a b\": 1 # c\n"},
		{name: "explicit null",
			in: "a: ~\n", path: []string{"a"}, literal: "1",
			want: "a: 1\n"},
		{name: "insert after an anchor",
			in: person, path: []string{"spec", "location"}, literal: "Paris", after: []string{"nothing", "title"},
			want: strings.Replace(person, "  title: 'Backend engineer'\n", "  title: 'Backend engineer'\n  location: Paris\n", 1)},
		{name: "insert after an absent anchor goes last",
			in: person, path: []string{"spec", "location"}, literal: "Paris", after: []string{"nothing"},
			want: person + "  location: Paris\n"},
		{name: "insert after an anchor with a block sequence",
			in:   "spec:\n  roles:\n  - a\n\n  - b\n    # dropped c\n\n  # the manager\n  manager: x\n",
			path: []string{"spec", "team"}, literal: "core", after: []string{"roles"},
			want: "spec:\n  roles:\n  - a\n\n  - b\n    # dropped c\n  team: core\n\n  # the manager\n  manager: x\n"},
		{name: "insert after an anchor with a nested mapping",
			in:   "spec:\n  a:\n    b:\n      c: 1\n  d: 2\n",
			path: []string{"spec", "e"}, literal: "3", after: []string{"a"},
			want: "spec:\n  a:\n    b:\n      c: 1\n  e: 3\n  d: 2\n"},
		{name: "insert at the end of a nested mapping, before the next top key",
			in:   "spec:\n  a: 1\n\n# status\nstatus: x\n",
			path: []string{"spec", "b"}, literal: "2",
			want: "spec:\n  a: 1\n  b: 2\n\n# status\nstatus: x\n"},
		{name: "insert a top-level key",
			in: person, path: []string{"status"}, literal: "active",
			want: person + "status: active\n"},
		{name: "insert a key that needs quotes",
			in: "a: 1\n", path: []string{"on"}, literal: "2",
			want: "a: 1\n\"on\": 2\n"},
		{name: "insert before a second document",
			in: "a: 1\n---\nb: 2\n", path: []string{"c"}, literal: "3",
			want: "a: 1\nc: 3\n---\nb: 2\n"},
		{name: "flow sequence replaces a block sequence",
			in: person, path: []string{"spec", "previousNames"}, literal: "[jsmith, jdoe2]",
			want: strings.Replace(person, "previousNames:\n    - jsmith\n", "previousNames: [jsmith, jdoe2]\n", 1)},
		{name: "flow sequence replaces a block sequence and keeps the key's comment",
			in:   "l:   # c\n  # first\n  - a\n  - b\nz: 1\n",
			path: []string{"l"}, literal: "[x]",
			want: "l: [x]   # c\nz: 1\n"},
		{name: "flow sequence replaces a flow sequence",
			in: person, path: []string{"spec", "roles"}, literal: "[vpn-users, git]",
			want: strings.Replace(person, "roles: [vpn-users]     ", "roles: [vpn-users, git]     ", 1)},
		{name: "flow sequence replaces one over several lines",
			in:   "l: [a,   # c\n  b]  # d\nz: 1\n",
			path: []string{"l"}, literal: "[]",
			want: "l: []  # d\nz: 1\n"},
		{name: "flow sequence on the line after its key",
			in: "l:\n  [a, b]  # c\nz: 1\n", path: []string{"l"}, literal: "[c]",
			want: "l:\n  [c]  # c\nz: 1\n"},
		{name: "double-quoted value over several lines",
			in: "a: \"one\n  two\"  # c\nb: 1\n", path: []string{"a"}, literal: "three",
			want: "a: three  # c\nb: 1\n"},
		{name: "insert after a document start marker",
			in: "---\na: 1\n", path: []string{"b"}, literal: "2",
			want: "---\na: 1\nb: 2\n"},
		{name: "insert before a document end marker",
			in: "a: 1\n...\n", path: []string{"b"}, literal: "2",
			want: "a: 1\nb: 2\n...\n"},
		{name: "byte order mark",
			in: "\uFEFFa: 1\n", path: []string{"a"}, literal: "2",
			want: "\uFEFFa: 2\n"},
		{name: "CRLF: replace",
			in: crlf(person), path: []string{"spec", "department"}, literal: "Sales",
			want: crlf(strings.Replace(person, "department: Engineering\n", "department: Sales\n", 1))},
		{name: "CRLF: null value",
			in: crlf(person), path: []string{"spec", "endDate"}, literal: "2026-03-31",
			want: crlf(strings.Replace(person, "endDate:       ", "endDate: 2026-03-31       ", 1))},
		{name: "CRLF: insert",
			in: crlf(person), path: []string{"spec", "location"}, literal: "Paris", after: []string{"title"},
			want: crlf(strings.Replace(person, "  title: 'Backend engineer'\n", "  title: 'Backend engineer'\n  location: Paris\n", 1))},
		{name: "no final line break: insert at the end",
			in: "a: 1\nb: 2", path: []string{"c"}, literal: "3",
			want: "a: 1\nb: 2\nc: 3"},
		{name: "no final line break: insert in the middle",
			in: "a: 1\nb: 2", path: []string{"c"}, literal: "3", after: []string{"a"},
			want: "a: 1\nc: 3\nb: 2"},
		{name: "no final line break, CRLF",
			in: "a: 1\r\nb: 2", path: []string{"c"}, literal: "3",
			want: "a: 1\r\nb: 2\r\nc: 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Set("f.yaml", []byte(tt.in), tt.path, tt.literal, tt.after...)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("got:\n%q\nwant:\n%q", got, tt.want)
			}
			readsBack(t, got, tt.path, tt.literal)
			again, err := Set("f.yaml", got, tt.path, tt.literal, tt.after...)
			if err != nil || string(again) != string(got) {
				t.Errorf("setting again changed the file: %v\n%s", err, again)
			}
		})
	}
}

func TestSetRefused(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		path    []string
		literal string
		want    string
	}{
		{name: "flow parent", in: "spec: {a: 1}\n", path: []string{"spec", "a"}, literal: "2",
			want: "f.yaml:1: spec is a flow mapping: edit it by hand"},
		{name: "flow parent, absent key", in: "spec: {a: 1}\n", path: []string{"spec", "b"}, literal: "2",
			want: "f.yaml:1: spec is a flow mapping: edit it by hand"},
		{name: "flow document", in: "{a: 1}\n", path: []string{"a"}, literal: "2",
			want: "f.yaml:1: the document is a flow mapping: edit it by hand"},
		{name: "block scalar", in: "spec:\n  title: |\n    Backend\n", path: []string{"spec", "title"}, literal: "x",
			want: "f.yaml:2: spec.title is a block scalar: edit it by hand"},
		{name: "folded scalar", in: "spec:\n  title: >-\n    Backend\n", path: []string{"spec", "title"}, literal: "x",
			want: "f.yaml:2: spec.title is a block scalar: edit it by hand"},
		{name: "mapping", in: person, path: []string{"spec"}, literal: "x",
			want: "f.yaml:7: spec is a mapping: edit it by hand"},
		{name: "block sequence given a scalar", in: person, path: []string{"spec", "previousNames"}, literal: "x",
			want: "f.yaml:18: spec.previousNames is a sequence: give a flow sequence like [a, b] or edit it by hand"},
		{name: "flow mapping value", in: "a: {b: 1}\n", path: []string{"a"}, literal: "{b: 2}",
			want: "f.yaml:1: a is a mapping: edit it by hand"},
		{name: "absent parent", in: person, path: []string{"status", "phase"}, literal: "x",
			want: "f.yaml:1: no status mapping: add it by hand"},
		{name: "parent not a mapping", in: person, path: []string{"spec", "title", "x"}, literal: "x",
			want: "f.yaml:12: spec.title is not a mapping: edit it by hand"},
		{name: "null parent", in: "spec:\n", path: []string{"spec", "x"}, literal: "x",
			want: "f.yaml:1: spec is empty: add x under it by hand"},
		{name: "anchored value", in: "a: &x 1\nb: *x\n", path: []string{"a"}, literal: "2",
			want: "f.yaml:1: a has an anchor or a tag: edit it by hand"},
		{name: "tagged value", in: "a: !!str 1\n", path: []string{"a"}, literal: "2",
			want: "f.yaml:1: a has an anchor or a tag: edit it by hand"},
		{name: "alias value", in: "a: &x 1\nb: *x\n", path: []string{"b"}, literal: "2",
			want: "f.yaml:2: b is an alias: edit it by hand"},
		{name: "duplicate key", in: "a: 1\na: 2\n", path: []string{"a"}, literal: "3",
			want: "f.yaml:1: a appears twice: fix the file by hand"},
		{name: "literal that is a mapping", in: person, path: []string{"spec", "title"}, literal: "a: b",
			want: `f.yaml:12: "a: b" is not a one-line YAML value for spec.title: quote it with splice.Scalar`},
		{name: "literal with a comment", in: person, path: []string{"spec", "title"}, literal: "a #b",
			want: `f.yaml:12: "a #b" is not a one-line YAML value for spec.title: quote it with splice.Scalar`},
		{name: "literal on two lines", in: person, path: []string{"spec", "title"}, literal: "a\nb",
			want: `f.yaml:12: "a\nb" is not a one-line YAML value for spec.title: quote it with splice.Scalar`},
		{name: "empty literal", in: person, path: []string{"spec", "title"}, literal: "",
			want: `f.yaml:12: "" is not a one-line YAML value for spec.title: quote it with splice.Scalar`},
		{name: "broken file", in: "a: [1,\nb: 2\n", path: []string{"a"}, literal: "1",
			want: "f.yaml:2: did not find expected ',' or ']': fix the YAML by hand"},
		{name: "an edit that would change another value", in: "spec:\n  a: |+\n    x\n\n", path: []string{"spec", "b"}, literal: "1",
			want: "f.yaml:4: editing spec.b would change more than its value: edit it by hand"},
		{name: "lone carriage return", in: "a: 1\rb: 2\n", path: []string{"a"}, literal: "1",
			want: "f.yaml:1: line breaks other than LF and CRLF: edit it by hand"},
		{name: "not a mapping", in: "- a\n", path: []string{"a"}, literal: "1",
			want: "f.yaml:1: not a YAML mapping: fix the file by hand"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Set("f.yaml", []byte(tt.in), tt.path, tt.literal)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error %v, want %s\n%s", err, tt.want, got)
			}
		})
	}
}

func TestDelete(t *testing.T) {
	tests := []struct {
		name string
		in   string
		path []string
		want string
	}{
		{name: "scalar key",
			in: person, path: []string{"spec", "endDate"},
			want: strings.Replace(person, "  endDate:                      # set by HR or by a leaver pull request\n", "", 1)},
		{name: "block sequence with a head comment",
			in:   "spec:\n  a: 1\n  # old logins\n  previousNames:\n    - x\n\n    - y\n  b: 2\n",
			path: []string{"spec", "previousNames"},
			want: "spec:\n  a: 1\n  b: 2\n"},
		{name: "comment lines before the next key stay",
			in:   "spec:\n  l:\n  - a\n  # about b\n  b: 2\n",
			path: []string{"spec", "l"},
			want: "spec:\n  # about b\n  b: 2\n"},
		{name: "a comment set apart by a blank line stays",
			in:   "spec:\n  a: 1\n\n  # HR owns these\n\n  b: 2\n  c: 3\n",
			path: []string{"spec", "b"},
			want: "spec:\n  a: 1\n\n  # HR owns these\n\n  c: 3\n"},
		{name: "a key takes its head comment along",
			in: person, path: []string{"spec", "department"},
			want: strings.Replace(person, "\n  # HR owns the next fields\n  department: Engineering\n", "\n", 1)},
		{name: "nested mapping",
			in:   "a:\n  b:\n    c: 1\n    # d\n    e: [1,\n      2]\n  f: 1\n",
			path: []string{"a", "b"},
			want: "a:\n  f: 1\n"},
		{name: "block scalar",
			in:   "a: |\n  one\n\n  # two\nb: 1\n",
			path: []string{"a"},
			want: "b: 1\n"},
		{name: "last key of the file",
			in: person, path: []string{"spec", "previousNames"},
			want: strings.TrimSuffix(person, "  previousNames:\n    - jsmith\n")},
		{name: "absent key",
			in: person, path: []string{"spec", "nothing"}, want: person},
		{name: "absent parent",
			in: person, path: []string{"status", "phase"}, want: person},
		{name: "CRLF",
			in: crlf(person), path: []string{"spec", "roles"},
			want: crlf(strings.Replace(person, "  roles: [vpn-users]            # requested roles\n", "", 1))},
		{name: "no final line break",
			in: "a: 1\nb:\n  - x", path: []string{"b"}, want: "a: 1"},
		{name: "no final line break, CRLF",
			in: "a: 1\r\nb: 2", path: []string{"b"}, want: "a: 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Delete("f.yaml", []byte(tt.in), tt.path...)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("got:\n%q\nwant:\n%q", got, tt.want)
			}
			if v := value(t, got, tt.path[:len(tt.path)-1]); v != nil {
				if _, ok := v.(map[string]any)[tt.path[len(tt.path)-1]]; ok {
					t.Errorf("%v still there", tt.path)
				}
			}
		})
	}
	for _, tt := range []struct{ name, in, want string }{
		{"flow parent", "spec: {a: 1}\n", "f.yaml:1: spec is a flow mapping: edit it by hand"},
		{"only key", "spec:\n  a: 1\n", "f.yaml:2: spec.a is the only key of its mapping: edit it by hand"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Delete("f.yaml", []byte(tt.in), "spec", "a"); err == nil || err.Error() != tt.want {
				t.Errorf("error %v, want %s", err, tt.want)
			}
		})
	}
}

func TestAppend(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		path    []string
		literal string
		after   []string
		want    string
		list    []any
	}{
		{name: "flow sequence",
			in: person, path: []string{"spec", "roles"}, literal: "git",
			want: strings.Replace(person, "roles: [vpn-users]     ", "roles: [vpn-users, git]     ", 1),
			list: []any{"vpn-users", "git"}},
		{name: "empty flow sequence",
			in: "roles: []  # none\n", path: []string{"roles"}, literal: "git",
			want: "roles: [git]  # none\n", list: []any{"git"}},
		{name: "flow sequence with a trailing comma",
			in: "roles: [a, b,]\n", path: []string{"roles"}, literal: "c",
			want: "roles: [a, b, c]\n", list: []any{"a", "b", "c"}},
		{name: "flow sequence over several lines",
			in: "roles: [a,\n  b  # c\n]\nz: 1\n", path: []string{"roles"}, literal: `"x, y"`,
			want: "roles: [a,\n  b, \"x, y\"  # c\n]\nz: 1\n", list: []any{"a", "b", "x, y"}},
		{name: "block sequence",
			in: person, path: []string{"spec", "previousNames"}, literal: "jdoe2",
			want: person + "    - jdoe2\n", list: []any{"jsmith", "jdoe2"}},
		{name: "block sequence followed by a key",
			in:   "l:\n- a\n-   b\n    # c\n# about z\nz: 1\n",
			path: []string{"l"}, literal: Scalar("004217"),
			want: "l:\n- a\n-   b\n    # c\n-   \"004217\"\n# about z\nz: 1\n", list: []any{"a", "b", "004217"}},
		{name: "block sequence of mappings",
			in: "l:\n  - name: a\n    id: 1\n", path: []string{"l"}, literal: "{name: b, id: 2}",
			want: "l:\n  - name: a\n    id: 1\n  - {name: b, id: 2}\n",
			list: []any{map[string]any{"name": "a", "id": 1}, map[string]any{"name": "b", "id": 2}}},
		{name: "absent sequence",
			in: person, path: []string{"spec", "groups"}, literal: "staff", after: []string{"roles"},
			want: strings.Replace(person, "# requested roles\n", "# requested roles\n  groups: [staff]\n", 1),
			list: []any{"staff"}},
		{name: "null sequence",
			in: "groups:   # c\n", path: []string{"groups"}, literal: "staff",
			want: "groups: [staff]   # c\n", list: []any{"staff"}},
		{name: "CRLF block sequence",
			in: crlf(person), path: []string{"spec", "previousNames"}, literal: "jdoe2",
			want: crlf(person + "    - jdoe2\n"), list: []any{"jsmith", "jdoe2"}},
		{name: "no final line break",
			in: "l:\n  - a", path: []string{"l"}, literal: "b",
			want: "l:\n  - a\n  - b", list: []any{"a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Append("f.yaml", []byte(tt.in), tt.path, tt.literal, tt.after...)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("got:\n%q\nwant:\n%q", got, tt.want)
			}
			if v := value(t, got, tt.path); !reflect.DeepEqual(v, tt.list) {
				t.Errorf("reads back %#v, want %#v", v, tt.list)
			}
		})
	}
	for _, tt := range []struct{ name, in, literal, want string }{
		{"not a sequence", "spec:\n  a: x\n", "b", "f.yaml:2: spec.a is not a sequence: edit it by hand"},
		{"flow parent", "spec: {a: [x]}\n", "b", "f.yaml:1: spec is a flow mapping: edit it by hand"},
		{"two items", "spec:\n  a: [x]\n", "b, c", `f.yaml:2: "b, c" is not a one-line YAML value for spec.a: quote it with splice.Scalar`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Append("f.yaml", []byte(tt.in), []string{"spec", "a"}, tt.literal); err == nil || err.Error() != tt.want {
				t.Errorf("error %v, want %s", err, tt.want)
			}
		})
	}
}

// TestPersonLayout edits the sample person file as the HR feed does and
// checks that no line but the edited ones changes.
func TestPersonLayout(t *testing.T) {
	edits := []struct {
		name           string
		edit           func([]byte) ([]byte, error)
		removed, added []string
	}{
		{"department",
			func(b []byte) ([]byte, error) {
				return Set("people/jdoe.yaml", b, []string{"spec", "department"}, Scalar("Platform"))
			},
			[]string{"  department: Engineering"}, []string{"  department: Platform"}},
		{"endDate",
			func(b []byte) ([]byte, error) {
				return Set("people/jdoe.yaml", b, []string{"spec", "endDate"}, "2026-06-30")
			},
			[]string{"  endDate:                      # set by HR or by a leaver pull request"},
			[]string{"  endDate: 2026-06-30                      # set by HR or by a leaver pull request"}},
		{"delete endDate",
			func(b []byte) ([]byte, error) { return Delete("people/jdoe.yaml", b, "spec", "endDate") },
			[]string{"  endDate:                      # set by HR or by a leaver pull request"}, nil},
		{"previousNames",
			func(b []byte) ([]byte, error) {
				return Append("people/jdoe.yaml", b, []string{"spec", "previousNames"}, "jdoe")
			},
			nil, []string{"    - jdoe"}},
	}
	for _, e := range edits {
		t.Run(e.name, func(t *testing.T) {
			got, err := e.edit([]byte(person))
			if err != nil {
				t.Fatal(err)
			}
			removed, added := diff(person, string(got))
			if !reflect.DeepEqual(removed, e.removed) || !reflect.DeepEqual(added, e.added) {
				t.Errorf("removed %q, added %q; want removed %q, added %q", removed, added, e.removed, e.added)
			}
		})
	}
	// All four in sequence, each on the previous one's result.
	data := []byte(person)
	for _, e := range edits {
		var err error
		if data, err = e.edit(data); err != nil {
			t.Fatalf("%s: %v", e.name, err)
		}
	}
	want := strings.NewReplacer(
		"department: Engineering", "department: Platform",
		"  endDate:                      # set by HR or by a leaver pull request\n", "",
		"    - jsmith\n", "    - jsmith\n    - jdoe\n").Replace(person)
	if string(data) != want {
		t.Errorf("got:\n%s\nwant:\n%s", data, want)
	}
}

// diff returns the lines of a and b between their common first and last
// lines.
func diff(a, b string) (removed, added []string) {
	x, y := strings.Split(a, "\n"), strings.Split(b, "\n")
	for len(x) > 0 && len(y) > 0 && x[0] == y[0] {
		x, y = x[1:], y[1:]
	}
	for len(x) > 0 && len(y) > 0 && x[len(x)-1] == y[len(y)-1] {
		x, y = x[:len(x)-1], y[:len(y)-1]
	}
	if len(x) > 0 {
		removed = x
	}
	if len(y) > 0 {
		added = y
	}
	return removed, added
}

func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }
