package approval

import (
	"reflect"
	"testing"

	"github.com/alm-project/alm/reconciler/model"
)

func people() *model.Repository {
	r := model.NewRepository()
	add := func(name, login, email string) {
		r.People[name] = &model.Person{Metadata: model.AccountMetadata{Name: name}, Spec: model.PersonSpec{GitHub: login, Email: email}}
	}
	add("jdoe", "JaneDoe", "jane.doe@example.com")
	add("asmith", "asmith", "alex.smith@example.com")
	add("sec1", "", "sam.sec@example.com")
	return r
}

func TestFromGitHub(t *testing.T) {
	got := FromGitHub(people(), PullRequest{
		Number:    12,
		Author:    Identity{Login: "janedoe"}, // logins ignore case
		Commits:   []Identity{{Login: "janedoe"}, {Email: "ALEX.SMITH@example.com"}, {Login: "ghost"}},
		Approvers: []Identity{{Login: "asmith"}, {Login: "octocat"}},
		Labels:    []string{"urgent", "access"},
		Head:      "abc",
	})
	want := Request{
		Number: 12, Source: SourceGitHub, Author: "jdoe",
		Authors:          []string{"jdoe", "asmith"},
		Approvers:        []string{"asmith"},
		UnknownApprovers: []string{"octocat"},
		UnknownAuthors:   []string{"ghost"},
		Labels:           []string{"access", "urgent"},
		Head:             "abc",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestFromTrailers(t *testing.T) {
	tests := []struct {
		name       string
		approvedBy []string
		authors    []Identity
		approvers  []string
		unknown    []string
		author     string
	}{
		{
			name:       "approvers mapped by e-mail",
			approvedBy: []string{"Sam Sec <sam.sec@example.com>", "Alex Smith <Alex.Smith@example.com>"},
			authors:    []Identity{{Name: "Jane Doe", Email: "jane.doe@example.com"}},
			approvers:  []string{"asmith", "sec1"},
			unknown:    []string{},
			author:     "jdoe",
		},
		{
			name:       "stranger and malformed trailers are unknown",
			approvedBy: []string{"Eve <eve@example.org>", "just a name"},
			authors:    []Identity{{Name: "Jane Doe", Email: "jane.doe@example.com"}},
			approvers:  []string{},
			unknown:    []string{"Eve <eve@example.org>", "just a name"},
			author:     "jdoe",
		},
		{
			name:       "author approving is still listed as approver",
			approvedBy: []string{"Jane Doe <jane.doe@example.com>"},
			authors:    []Identity{{Name: "Jane Doe", Email: "jane.doe@example.com"}},
			approvers:  []string{"jdoe"},
			unknown:    []string{},
			author:     "jdoe",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FromTrailers(people(), tt.approvedBy, tt.authors, "def")
			if !reflect.DeepEqual(got.Approvers, tt.approvers) || !reflect.DeepEqual(got.UnknownApprovers, tt.unknown) || got.Author != tt.author || got.Source != SourceTrailers {
				t.Errorf("got %+v", got)
			}
		})
	}
}

func TestParseIdentity(t *testing.T) {
	id, err := ParseIdentity(" Jane Doe <jane.doe@example.com> ")
	if err != nil || id != (Identity{Name: "Jane Doe", Email: "jane.doe@example.com"}) {
		t.Errorf("got %+v, %v", id, err)
	}
	if _, err := ParseIdentity("Jane Doe"); err == nil {
		t.Error("a name without an address parsed")
	}
}

// TestDirectoryClaims: a login or address two people claim (the loader
// reports it) resolves to the last of them by name, whatever the order the
// repository holds them in.
func TestDirectoryClaims(t *testing.T) {
	repo := model.NewRepository()
	for _, p := range []struct{ name, login, email string }{
		{"bob", "Shared", "one@example.test"},
		{"carol", "shared", "ONE@example.test"},
		{"alice", "SHARED", "alice@example.test"},
	} {
		repo.People[p.name] = &model.Person{Metadata: model.AccountMetadata{Name: p.name}, Spec: model.PersonSpec{GitHub: p.login, Email: p.email}}
	}
	for range 20 { // map order varies run to run
		d := NewDirectory(repo)
		if got, _ := d.Person(Identity{Login: "shared"}); got != "carol" {
			t.Fatalf("login: %q, want carol", got)
		}
		if got, _ := d.Person(Identity{Email: "one@EXAMPLE.test"}); got != "carol" {
			t.Fatalf("e-mail: %q, want carol", got)
		}
		if got, _ := d.Person(Identity{Email: "alice@example.test"}); got != "alice" {
			t.Fatalf("e-mail: %q, want alice", got)
		}
	}
}
