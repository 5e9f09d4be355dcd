package schemas

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestFromYAML(t *testing.T) {
	type m = map[string]any
	type l = []any
	n := func(s string) json.Number { return json.Number(s) }
	tests := []struct {
		name string
		src  string
		want any
	}{
		{"plain and quoted strings", "a: hello\nb: 'it''s'\nc: \"x\\ty\"\n", m{"a": "hello", "b": "it's", "c": "x\ty"}},
		{"quoted number stays a string", `id: "004217"`, m{"id": "004217"}},
		{"date keeps its text", "d: 2026-05-30", m{"d": "2026-05-30"}},
		{"loose date keeps its text", "d: 2026-5-3", m{"d": "2026-5-3"}},
		{"timestamp keeps its text", "t: 2026-05-30T10:00:00Z", m{"t": "2026-05-30T10:00:00Z"}},
		{"explicit timestamp tag", "t: !!timestamp 2026-05-30", m{"t": "2026-05-30"}},
		{"decimal integer", "n: 42", m{"n": n("42")}},
		{"negative integer", "n: -7", m{"n": n("-7")}},
		{"leading zeros are octal in YAML", "n: 004217", m{"n": n("2191")}},
		{"hexadecimal", "n: 0x1F", m{"n": n("31")}},
		{"underscores", "n: 1_000", m{"n": n("1000")}},
		{"beyond int64", "n: 12345678901234567890", m{"n": n("12345678901234567890")}},
		{"float", "f: 0.25", m{"f": n("0.25")}},
		{"float with exponent", "f: 1e3", m{"f": n("1000")}},
		{"float without leading digit", "f: .5", m{"f": n("0.5")}},
		{"infinity keeps its text", "f: .inf", m{"f": ".inf"}},
		{"not a number keeps its text", "f: .nan", m{"f": ".nan"}},
		{"booleans", "a: true\nb: False", m{"a": true, "b": false}},
		{"yes and no are strings in YAML 1.2", "a: yes\nb: no\nc: on", m{"a": "yes", "b": "no", "c": "on"}},
		{"null forms", "a: null\nb: ~\nc:\n", m{"a": nil, "b": nil, "c": nil}},
		{"explicit string tag", "a: !!str 12", m{"a": "12"}},
		{"custom tag keeps its text", "a: !secret xyz", m{"a": "xyz"}},
		{"binary keeps its text", "a: !!binary aGVsbG8=", m{"a": "aGVsbG8="}},
		{"block text", "a: |\n  one\n  two\n", m{"a": "one\ntwo\n"}},
		{"numeric keys are text", "1: a\ntrue: b\n~: c\n", m{"1": "a", "true": "b", "~": "c"}},
		{"nested", "spec:\n  roles: [a, b]\n  limits: {disable: {count: 5}}\n", m{"spec": m{"roles": l{"a", "b"}, "limits": m{"disable": m{"count": n("5")}}}}},
		{"empty list and mapping", "a: []\nb: {}", m{"a": l{}, "b": m{}}},
		{"top-level list", "- 1\n- x\n", l{n("1"), "x"}},
		{"alias", "a: &r [x, y]\nb: *r\n", m{"a": l{"x", "y"}, "b": l{"x", "y"}}},
		{"merge: own keys win", "base: &b {x: 1, y: 2}\nc:\n  <<: *b\n  y: 3\n", m{"base": m{"x": n("1"), "y": n("2")}, "c": m{"x": n("1"), "y": n("3")}}},
		{"merge: own keys win even before <<", "base: &b {x: 1, y: 2}\nc:\n  y: 3\n  <<: *b\n", m{"base": m{"x": n("1"), "y": n("2")}, "c": m{"x": n("1"), "y": n("3")}}},
		{"merge: first mapping wins", "a: &a {x: 1}\nb: &b {x: 2, z: 2}\nc: {<<: [*a, *b]}\n", m{"a": m{"x": n("1")}, "b": m{"x": n("2"), "z": n("2")}, "c": m{"x": n("1"), "z": n("2")}}},
		{"merge of a scalar stays a key", "c: {<<: 5}\n", m{"c": m{"<<": n("5")}}},
		{"quoted << is an ordinary key", "c: {'<<': {x: 1}}\n", m{"c": m{"<<": m{"x": n("1")}}}},
		{"later duplicate key wins", "a: 1\na: 2\n", m{"a": n("2")}},
		{"empty document", "", nil},
		{"comment only", "# nothing\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var doc yaml.Node
			if err := yaml.Unmarshal([]byte(tt.src), &doc); err != nil {
				t.Fatalf("parse: %v", err)
			}
			got := FromYAML(&doc)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("FromYAML(%q)\n got %#v\nwant %#v", tt.src, got, tt.want)
			}
		})
	}
}

// FromYAML expands aliases and merge keys as the YAML decoder does when it
// fills the model's types; compare with the decoder's own result.
func TestFromYAMLMergesLikeDecoder(t *testing.T) {
	srcs := []string{
		"base: &b {x: 1, y: 2}\nc:\n  <<: *b\n  y: 3\n",
		"base: &b {x: 1, y: 2}\nc:\n  y: 3\n  <<: *b\n",
		"a: &a {x: 1}\nb: &b {x: 2, z: 2}\nc: {<<: [*a, *b], w: 0}\n",
		"a: &a {x: 1, n: {p: 1}}\nb: &b {<<: *a, x: 2}\nc: {<<: *b}\n",
		"r: &r [1, 2]\ns: {l: *r}\n",
	}
	for _, src := range srcs {
		var want any
		if err := yaml.Unmarshal([]byte(src), &want); err != nil {
			t.Fatalf("decode %q: %v", src, err)
		}
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
			t.Fatalf("parse %q: %v", src, err)
		}
		if got := FromYAML(&doc); !reflect.DeepEqual(got, numbers(want)) {
			t.Errorf("FromYAML(%q)\n got %#v\nwant %#v", src, got, numbers(want))
		}
	}
}

// numbers turns the decoder's ints into the json.Number FromYAML makes.
func numbers(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = numbers(e)
		}
	case []any:
		for i, e := range v {
			v[i] = numbers(e)
		}
	case int:
		return json.Number(strconv.Itoa(v))
	}
	return v
}

func TestFromYAMLNil(t *testing.T) {
	if got := FromYAML(nil); got != nil {
		t.Errorf("FromYAML(nil) = %#v, want nil", got)
	}
}

// A file of nested aliases must not make FromYAML build a billion values.
func TestFromYAMLAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i <= 9; i++ {
		b.WriteString("a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(b.String()), &doc); err != nil {
		t.Fatalf("parse: %v", err)
	}
	got := FromYAML(&doc)
	if c := count(got); c > maxNodes+1 {
		t.Errorf("FromYAML built %d values, want at most %d", c, maxNodes+1)
	}
}

func count(v any) int {
	switch v := v.(type) {
	case map[string]any:
		c := 1
		for _, e := range v {
			c += count(e)
		}
		return c
	case []any:
		c := 1
		for _, e := range v {
			c += count(e)
		}
		return c
	}
	return 1
}
