package schemas

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

// Both checks once grew with the square of their input: a file of deeply
// nested lists, or with a key of a megabyte, took seconds. The sizes here
// took the old code several seconds each and take this one milliseconds.
func TestMessagesStayLinear(t *testing.T) {
	t.Run("nonFinite deep down", func(t *testing.T) {
		const depth = 30_000
		var doc any = math.NaN()
		for range depth {
			doc = []any{doc}
		}
		start := time.Now()
		p, ok := nonFinite(map[string]any{"spec": doc}, []string{"top"})
		if took := time.Since(start); took > time.Second {
			t.Errorf("took %v", took)
		}
		want := append([]string{"top", "spec"}, slices.Repeat([]string{"0"}, depth)...)
		if !ok || !slices.Equal(p, want) {
			t.Errorf("path of %d segments starting %v, want %d", len(p), p[:min(len(p), 3)], len(want))
		}
	})
	t.Run("nonFinite none", func(t *testing.T) {
		if p, ok := nonFinite(map[string]any{"a": []any{1.5, "x"}}, nil); ok {
			t.Errorf("found %v in finite values", p)
		}
	})
	tests := []struct{ name, want string }{
		{"givnName", "givenName"},
		{"manger", "manager"},
		{"rolez", "roles"},
		{"x", ""},
		{strings.Repeat("k", 8<<20), ""},
	}
	known := []string{"givenName", "manager", "roles", "surname", "displayName", "email", "github", "type",
		"source", "template", "department", "title", "startDate", "endDate", "inactive", "previousNames"}
	for _, tt := range tests {
		t.Run("closest "+tt.name[:min(len(tt.name), 10)], func(t *testing.T) {
			start := time.Now()
			if got := closest(tt.name, known); got != tt.want {
				t.Errorf("closest = %q, want %q", got, tt.want)
			}
			if took := time.Since(start); took > time.Second {
				t.Errorf("took %v", took)
			}
		})
	}
}
