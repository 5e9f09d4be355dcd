package model

import (
	"errors"
	"testing"

	"go.yaml.in/yaml/v3"
)

// A fraction that is not a number is refused where it is written: it would
// switch the limit off, and the policies' JSON input cannot hold it.
func TestLimitFraction(t *testing.T) {
	tests := []struct {
		name, src string
		want      float64
		line, col int // of the error; 0 when the limit decodes
	}{
		{"a fraction", "count: 2\nfraction: 0.25\n", 0.25, 0, 0},
		{"none", "count: 2\n", 0, 0, 0},
		{"not a number", "count: 2\nfraction: .nan\n", 0, 2, 11},
		{"infinite", "fraction: .inf\n", 0, 1, 11},
		{"minus infinite", "{count: 1, fraction: -.Inf}", 0, 1, 22},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l Limit
			err := yaml.Unmarshal([]byte(tt.src), &l)
			var pe *PositionError
			switch {
			case tt.line == 0 && err != nil:
				t.Fatal(err)
			case tt.line == 0 && l.Fraction != tt.want:
				t.Errorf("fraction %v, want %v", l.Fraction, tt.want)
			case tt.line != 0 && (!errors.As(err, &pe) || pe.Line != tt.line || pe.Column != tt.col):
				t.Errorf("error %v, want one at %d:%d", err, tt.line, tt.col)
			}
		})
	}
}

// TestTemplateOf: the template a person names, else the first by name of
// the Person templates listing their type, else the first by name of those
// listing none.
func TestTemplateOf(t *testing.T) {
	tpl := func(kind string, types ...string) *WorkflowTemplate {
		return &WorkflowTemplate{Spec: TemplateSpec{AppliesTo: kind, PersonTypes: types}}
	}
	r := NewRepository()
	r.Templates["a-service"] = tpl(KindServiceAccount)
	r.Templates["b-staff"] = tpl(KindPerson, TypeEmployee)
	r.Templates["c-staff"] = tpl(KindPerson, TypeContractor, TypeEmployee)
	r.Templates["y-default"] = tpl(KindPerson)
	r.Templates["z-default"] = tpl(KindPerson)
	tests := []struct {
		name, typ, named, want string
	}{
		{"the first listing the type", TypeEmployee, "", "b-staff"},
		{"the only one listing the type", TypeContractor, "", "c-staff"},
		{"none lists it: the first listing none", "intern", "", "y-default"},
		{"named in the file", TypeEmployee, "z-default", "z-default"},
		{"named, and missing", TypeEmployee, "nothing", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := r.TemplateOf(&Person{Spec: PersonSpec{Type: tt.typ, Template: tt.named}})
			name := ""
			for n, t := range r.Templates {
				if t == got {
					name = n
				}
			}
			if name != tt.want {
				t.Errorf("got %q, want %q", name, tt.want)
			}
		})
	}
	if got := NewRepository().TemplateOf(&Person{Spec: PersonSpec{Type: TypeEmployee}}); got != nil {
		t.Errorf("no templates: got %+v", got)
	}
}
