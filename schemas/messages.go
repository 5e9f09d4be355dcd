package schemas

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// printer renders the library's own message for kinds of failure the schemas do not use.
var printer = message.NewPrinter(language.English)

// reporter flattens the validator's tree of errors into one Violation per
// problem: the tree's inner nodes ($ref, allOf, groups) say where the
// validator went, only the leaves say what is wrong.
type reporter struct {
	set *Set
	doc any
	out []Violation
}

func (r *reporter) add(pointer []string, format string, args ...any) {
	if len(pointer) == 0 {
		pointer = nil
	}
	r.out = append(r.out, Violation{Pointer: pointer, Message: fmt.Sprintf(format, args...)})
}

func (r *reporter) walk(e *jsonschema.ValidationError) {
	if msg, ok := r.set.annotation(e.SchemaURL, "errorMessage"); ok {
		r.custom(e, msg)
		return
	}
	switch k := e.ErrorKind.(type) {
	case *kind.AnyOf, *kind.OneOf:
		if len(e.Causes) > 0 {
			// No errorMessage says what the alternatives mean: list what each wanted.
			var parts []string
			for _, c := range e.Causes {
				sub := reporter{set: r.set, doc: r.doc}
				sub.walk(c)
				for _, v := range sub.out {
					if !slices.Contains(parts, v.Message) {
						parts = append(parts, v.Message)
					}
				}
			}
			r.add(e.InstanceLocation, "%s matches none of its allowed forms: %s", r.subject(e.InstanceLocation), strings.Join(parts, "; or "))
			return
		}
		if o, ok := k.(*kind.OneOf); ok {
			r.add(e.InstanceLocation, "%s matches more than one of its allowed forms (%d and %d)", r.subject(e.InstanceLocation), o.Subschemas[0], o.Subschemas[1])
			return
		}
	}
	if len(e.Causes) > 0 {
		for _, c := range e.Causes {
			r.walk(c)
		}
		return
	}
	r.leaf(e)
}

// custom reports a failure that the schema explains with its own errorMessage.
func (r *reporter) custom(e *jsonschema.ValidationError, msg string) {
	if req, ok := e.ErrorKind.(*kind.Required); ok {
		for _, m := range req.Missing {
			p := child(e.InstanceLocation, m)
			r.add(p, "%s %s", r.subject(p), msg)
		}
		return
	}
	r.predicate(e.InstanceLocation, msg)
}

// predicate reports that a field does not meet a schema's own wording of a
// rule ("must be ..."), saying what the field holds when it is a scalar.
func (r *reporter) predicate(p []string, msg string) {
	switch v := lookup(r.doc, p); v.(type) {
	case map[string]any, []any:
	default:
		if strings.HasPrefix(msg, "must ") {
			r.add(p, "%s is %s: it %s", r.subject(p), display(v), msg)
			return
		}
	}
	r.add(p, "%s %s", r.subject(p), msg)
}

func (r *reporter) leaf(e *jsonschema.ValidationError) {
	p := e.InstanceLocation
	f := r.subject(p)
	switch k := e.ErrorKind.(type) {
	case *kind.AdditionalProperties:
		known := r.set.properties(e.SchemaURL)
		for _, name := range k.Properties {
			q := child(p, name)
			msg := fmt.Sprintf("unknown field %q", r.field(q))
			if s := closest(name, known); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			} else if len(known) > 0 {
				msg += fmt.Sprintf(" (known fields: %s)", strings.Join(known, ", "))
			}
			r.add(q, "%s", msg)
		}
	case *kind.Required:
		for _, m := range k.Missing {
			q := child(p, m)
			r.add(q, "missing required field %q", r.field(q))
		}
	case *kind.Type:
		want := make([]string, len(k.Want))
		for i, t := range k.Want {
			want[i] = typeName(t)
		}
		w := strings.Join(want, " or ")
		v := lookup(r.doc, p)
		switch {
		case v == nil:
			r.add(p, "%s is empty; it must be %s", f, w)
		case len(k.Want) == 1 && k.Want[0] == "string" && (k.Got == "number" || k.Got == "integer" || k.Got == "boolean"):
			r.add(p, "%s must be %s, not %s; put the value in quotes", f, w, typeName(k.Got))
		default:
			r.add(p, "%s must be %s, not %s", f, w, r.value(p))
		}
	case *kind.Enum:
		want := make([]string, len(k.Want))
		for i, v := range k.Want {
			want[i] = plain(v)
		}
		if len(want) == 1 {
			r.add(p, "%s must be %s, not %s", f, want[0], r.value(p))
		} else {
			r.add(p, "%s must be one of %s, not %s", f, strings.Join(want, ", "), r.value(p))
		}
	case *kind.Const:
		r.add(p, "%s must be %s, not %s", f, plain(k.Want), r.value(p))
	case *kind.Pattern:
		if msg, ok := r.set.annotation(e.SchemaURL, "patternErrorMessage"); ok {
			r.predicate(p, msg)
		} else {
			r.add(p, "%s must match %s, not %q", f, k.Want, k.Got)
		}
	case *kind.Format:
		switch k.Want {
		case "email":
			r.add(p, "%s must be an e-mail address, not %s", f, r.value(p))
		case "regex":
			r.add(p, "%s must be a regular expression (RE2 syntax): %v", f, k.Err)
		default:
			r.add(p, "%s must be a valid %s, not %s: %v", f, k.Want, r.value(p), k.Err)
		}
	case *kind.MinLength:
		if k.Want == 1 {
			r.add(p, "%s must not be empty", f)
		} else {
			r.add(p, "%s must be at least %d characters long, not %d", f, k.Want, k.Got)
		}
	case *kind.MaxLength:
		r.add(p, "%s must be at most %d characters long, not %d", f, k.Want, k.Got)
	case *kind.MinItems:
		r.add(p, "%s must list at least %s", f, plural(k.Want, "item"))
	case *kind.MaxItems:
		r.add(p, "%s must list at most %s, not %d", f, plural(k.Want, "item"), k.Got)
	case *kind.UniqueItems:
		dup := lookup(r.doc, child(p, strconv.Itoa(k.Duplicates[0])))
		r.add(child(p, strconv.Itoa(k.Duplicates[1])), "%s lists %s twice, at [%d] and [%d]; list it once", f, display(dup), k.Duplicates[0], k.Duplicates[1])
	case *kind.Minimum:
		r.add(p, "%s must be at least %s, not %s", f, ratText(k.Want.RatString()), ratText(k.Got.RatString()))
	case *kind.Maximum:
		r.add(p, "%s must be at most %s, not %s", f, ratText(k.Want.RatString()), ratText(k.Got.RatString()))
	case *kind.ExclusiveMinimum:
		r.add(p, "%s must be more than %s, not %s", f, ratText(k.Want.RatString()), ratText(k.Got.RatString()))
	case *kind.ExclusiveMaximum:
		r.add(p, "%s must be less than %s, not %s", f, ratText(k.Want.RatString()), ratText(k.Got.RatString()))
	case *kind.MinProperties:
		if known := r.set.properties(e.SchemaURL); len(known) > 0 && k.Want == 1 {
			r.add(p, "%s must set at least one of %s", f, strings.Join(known, ", "))
		} else {
			r.add(p, "%s must set at least %s", f, plural(k.Want, "field"))
		}
	case *kind.Not, *kind.FalseSchema:
		r.add(p, "%s is not allowed here", f)
	case *kind.InvalidJsonValue:
		r.add(p, "%s holds a Go %T, which is not a JSON-like value", f, k.Value)
	default:
		r.add(p, "%s: %s", f, e.ErrorKind.LocalizedString(printer))
	}
}

// sorted returns the violations in path order, without repeats.
func (r *reporter) sorted() []Violation {
	sort.SliceStable(r.out, func(i, j int) bool {
		if c := comparePointers(r.out[i].Pointer, r.out[j].Pointer); c != 0 {
			return c < 0
		}
		return r.out[i].Message < r.out[j].Message
	})
	var out []Violation
	for i, v := range r.out {
		if i > 0 && v.Message == r.out[i-1].Message && comparePointers(v.Pointer, r.out[i-1].Pointer) == 0 {
			continue
		}
		out = append(out, v)
	}
	return out
}

func comparePointers(a, b []string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] == b[i] {
			continue
		}
		x, errX := strconv.Atoi(a[i])
		y, errY := strconv.Atoi(b[i])
		if errX == nil && errY == nil {
			return x - y
		}
		return strings.Compare(a[i], b[i])
	}
	return len(a) - len(b)
}

// field renders p for a message about a field that exists or should.
func (r *reporter) field(p []string) string { return field(r.doc, p) }

// subject names the value at p as a message begins: "spec.owner" quoted,
// or the document itself.
func (r *reporter) subject(p []string) string {
	if len(p) == 0 {
		return "the document"
	}
	return strconv.Quote(field(r.doc, p))
}

// value describes the document's value at p for a message.
func (r *reporter) value(p []string) string { return display(lookup(r.doc, p)) }

func child(p []string, name string) []string {
	return append(p[:len(p):len(p)], name)
}

// display renders a value as a YAML author would recognise it.
func display(v any) string {
	switch v := v.(type) {
	case nil:
		return "empty"
	case string:
		return strconv.Quote(v)
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	case json.Number:
		return v.String()
	default:
		return fmt.Sprint(v)
	}
}

// plain renders an allowed value unquoted, as it would be written in YAML.
func plain(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return display(v)
}

func typeName(t string) string {
	switch t {
	case "object":
		return "a mapping"
	case "array":
		return "a list"
	case "string":
		return "a string"
	case "number":
		return "a number"
	case "integer":
		return "a whole number"
	case "boolean":
		return "true or false"
	case "null":
		return "empty"
	}
	return t
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// ratText shows a fraction as a decimal where it has a short one (1/2 → 0.5).
func ratText(s string) string {
	num, den, ok := strings.Cut(s, "/")
	if !ok {
		return s
	}
	n, err1 := strconv.ParseFloat(num, 64)
	d, err2 := strconv.ParseFloat(den, 64)
	if err1 != nil || err2 != nil || d == 0 {
		return s
	}
	return strconv.FormatFloat(n/d, 'g', -1, 64)
}

// closest returns the known name nearest to a misspelt one, or "" when none is close.
func closest(name string, known []string) string {
	best, bestD := "", 3
	runes := utf8.RuneCountInString(name)
	for _, k := range known {
		// The distance is at least the difference in length: skip the
		// quadratic work for a name that cannot be close (a 1 MB key).
		if abs(runes-utf8.RuneCountInString(k)) >= bestD {
			continue
		}
		d := distance(strings.ToLower(name), strings.ToLower(k))
		if d < bestD && d < len(name) {
			best, bestD = k, d
		}
	}
	return best
}

func abs(n int) int { return max(n, -n) }

// distance is the Levenshtein distance between two strings, by runes.
func distance(a, b string) int {
	x, y := []rune(a), []rune(b)
	prev := make([]int, len(y)+1)
	cur := make([]int, len(y)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(x); i++ {
		cur[0] = i
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(y)]
}
