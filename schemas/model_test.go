package schemas

import (
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/alm-project/alm/reconciler/model"
)

// The schemas describe exactly the fields of the model's types: every yaml
// tag is a property and every property a yaml tag, with matching types, and
// a field without omitempty is required.
func TestSchemasMatchModel(t *testing.T) {
	s := mustCompile(t)
	for kind, typ := range map[string]reflect.Type{
		model.KindDirectory:        reflect.TypeFor[model.Directory](),
		model.KindWorkflowTemplate: reflect.TypeFor[model.WorkflowTemplate](),
		model.KindPerson:           reflect.TypeFor[model.Person](),
		model.KindServiceAccount:   reflect.TypeFor[model.ServiceAccount](),
		model.KindRole:             reflect.TypeFor[model.Role](),
	} {
		t.Run(kind, func(t *testing.T) {
			u := Base + fileOf[kind]
			c := modelCheck{t: t, set: s, kind: kind}
			// apiVersion and kind are the file's, not the model's.
			c.object(typ, u, s.docs[u].(map[string]any), "", "apiVersion", "kind")
		})
	}
}

type modelCheck struct {
	t    *testing.T
	set  *Set
	kind string
}

// extraRequired are required by the schema although the Go field may be
// empty: the brief's rule that accounts carry an id.
var extraRequired = map[string]bool{
	model.KindPerson + " metadata.id":         true,
	model.KindServiceAccount + " metadata.id": true,
}

func (c *modelCheck) resolve(u string, node map[string]any) (string, map[string]any) {
	for i := 0; i < 10; i++ {
		ref, ok := node["$ref"].(string)
		if !ok {
			return u, node
		}
		file, frag, _ := strings.Cut(ref, "#")
		if file != "" {
			u = Base + file
		}
		next, ok := lookup(c.set.docs[u], pointerTokens(frag)).(map[string]any)
		if !ok {
			c.t.Fatalf("$ref %s from %s resolves to nothing", ref, u)
		}
		node = next
	}
	return u, node
}

func (c *modelCheck) object(typ reflect.Type, u string, node map[string]any, at string, schemaOnly ...string) {
	u, node = c.resolve(u, node)
	if node["additionalProperties"] != false {
		c.t.Errorf("%s: additionalProperties is not false", name(at))
	}
	props, _ := node["properties"].(map[string]any)
	var required []string
	for _, r := range asList(node["required"]) {
		required = append(required, r.(string))
	}
	fields := map[string]bool{}
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		tag := f.Tag.Get("yaml")
		if tag == "-" || !f.IsExported() {
			continue
		}
		n, opts, _ := strings.Cut(tag, ",")
		fields[n] = true
		path := join(at, n)
		prop, ok := props[n].(map[string]any)
		if !ok {
			c.t.Errorf("%s: Go field %s.%s has no schema property", path, typ.Name(), f.Name)
			continue
		}
		isRequired := slices.Contains(required, n)
		if omit := strings.Contains(opts, "omitempty"); !omit && !isRequired {
			c.t.Errorf("%s: the Go field has no omitempty but the schema does not require it", path)
		} else if omit && isRequired && !extraRequired[c.kind+" "+path] {
			c.t.Errorf("%s: the schema requires it but the Go field is omitempty", path)
		}
		c.value(f.Type, u, prop, path)
	}
	for n := range props {
		if !fields[n] && !slices.Contains(schemaOnly, n) {
			c.t.Errorf("%s: schema property has no field in Go type %s", join(at, n), typ.Name())
		}
	}
}

func (c *modelCheck) value(typ reflect.Type, u string, node map[string]any, at string) {
	u, node = c.resolve(u, node)
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	want := ""
	switch {
	case typ == reflect.TypeFor[model.Date](), typ == reflect.TypeFor[model.Duration](), typ == reflect.TypeFor[model.Interval](), typ == reflect.TypeFor[model.TimeZone]():
		want = "string"
	case typ.Kind() == reflect.String:
		want = "string"
	case typ.Kind() == reflect.Bool:
		want = "boolean"
	case typ.Kind() == reflect.Int:
		want = "integer"
	case typ.Kind() == reflect.Float64:
		want = "number"
	case typ.Kind() == reflect.Slice:
		want = "array"
	case typ.Kind() == reflect.Map, typ.Kind() == reflect.Struct:
		want = "object"
	default:
		c.t.Errorf("%s: no rule for Go type %s", name(at), typ)
		return
	}
	if got := types(node); !slices.Contains(got, want) {
		c.t.Errorf("%s: schema types %v, Go type %s wants %s", name(at), got, typ, want)
		return
	}
	switch {
	case want == "array":
		items, _ := node["items"].(map[string]any)
		c.value(typ.Elem(), u, items, at+"[]")
	case want == "object" && typ.Kind() == reflect.Map:
		if node["additionalProperties"] != false {
			c.t.Errorf("%s: additionalProperties is not false", name(at))
		}
		props, _ := node["properties"].(map[string]any)
		keys := make([]string, 0, len(props))
		for k := range props {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			c.value(typ.Elem(), u, props[k].(map[string]any), join(at, k))
		}
	case want == "object" && typ != reflect.TypeFor[model.Date]() && typ != reflect.TypeFor[model.Duration]() && typ != reflect.TypeFor[model.Interval]():
		c.object(typ, u, node, at)
	}
}

// types lists the JSON types a schema admits, from type, or else from its enum or const.
func types(node map[string]any) []string {
	switch t := node["type"].(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, e := range t {
			out = append(out, e.(string))
		}
		return out
	}
	values := asList(node["enum"])
	if c, ok := node["const"]; ok {
		values = append(values, c)
	}
	var out []string
	for _, v := range values {
		switch v.(type) {
		case string:
			out = append(out, "string")
		case bool:
			out = append(out, "boolean")
		}
	}
	return out
}

func asList(v any) []any { l, _ := v.([]any); return l }

func join(at, n string) string {
	if at == "" {
		return n
	}
	return at + "." + n
}

func name(at string) string {
	if at == "" {
		return "(top)"
	}
	return at
}
