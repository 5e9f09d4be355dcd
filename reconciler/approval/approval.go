// Package approval says who asked for a change and who approved it, as people
// of the access repository: GitHub logins map to a person's spec.github, and
// e-mail addresses (Approved-by trailers, commit authors) to spec.email. It is
// pure; the reviews and trailers are read elsewhere.
package approval

import (
	"fmt"
	"maps"
	"net/mail"
	"slices"
	"sort"
	"strings"

	"github.com/alm-project/alm/reconciler/model"
)

// Sources of approvals.
const (
	SourceGitHub   = "github"
	SourceTrailers = "trailers"
)

// TrailerKey is the commit trailer that records an approval on a merge commit.
const TrailerKey = "Approved-by"

// Request is a change's requesters and approvers, as the policies see them
// (input.pullRequest).
type Request struct {
	Number int    `json:"number,omitempty"`
	Source string `json:"source"` // github | trailers
	// Author is the person who opened the request ("" when not a person).
	Author string `json:"author"`
	// Authors are every person who authored the change: the author and the
	// authors of its commits. None of them may approve it.
	Authors   []string `json:"authors"`
	Approvers []string `json:"approvers"`
	// UnknownApprovers and UnknownAuthors are identities no person claims.
	UnknownApprovers []string `json:"unknownApprovers"`
	UnknownAuthors   []string `json:"unknownAuthors"`
	Labels           []string `json:"labels"`
	Head             string   `json:"head,omitempty"` // the commit reviewed
}

// Identity is someone as Git or GitHub knows them; any field may be empty.
type Identity struct {
	Login string `json:"login,omitempty"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

func (id Identity) String() string {
	switch {
	case id.Login != "":
		return id.Login
	case id.Name != "" && id.Email != "":
		return id.Name + " <" + id.Email + ">"
	case id.Email != "":
		return "<" + id.Email + ">"
	}
	return id.Name
}

// ParseIdentity reads "Full Name <email>", as trailers and Git write it.
func ParseIdentity(s string) (Identity, error) {
	a, err := mail.ParseAddress(strings.TrimSpace(s))
	if err != nil {
		return Identity{}, fmt.Errorf("%q is not \"Full Name <email>\": %w", s, err)
	}
	return Identity{Name: a.Name, Email: a.Address}, nil
}

// Directory finds people by their GitHub login or e-mail, ignoring case.
type Directory struct {
	logins map[string]string
	emails map[string]string
}

// NewDirectory indexes the people of a repository.
func NewDirectory(repo *model.Repository) Directory {
	d := Directory{logins: make(map[string]string, len(repo.People)), emails: make(map[string]string, len(repo.People))}
	// Two people claiming one login or address (the loader reports it)
	// resolve to the last by name, without sorting 100,000 names.
	claim := func(m map[string]string, key, name string) {
		if other, ok := m[key]; !ok || other < name {
			m[key] = name
		}
	}
	for name, p := range repo.People {
		if p.Spec.GitHub != "" {
			claim(d.logins, strings.ToLower(p.Spec.GitHub), name)
		}
		if p.Spec.Email != "" {
			claim(d.emails, strings.ToLower(p.Spec.Email), name)
		}
	}
	return d
}

// Person returns the name of the person an identity belongs to: by login
// first, then by e-mail.
func (d Directory) Person(id Identity) (string, bool) {
	if id.Login != "" {
		if name, ok := d.logins[strings.ToLower(id.Login)]; ok {
			return name, true
		}
	}
	if id.Email != "" {
		if name, ok := d.emails[strings.ToLower(id.Email)]; ok {
			return name, true
		}
	}
	return "", false
}

// Logins returns the login → person index (lower-case logins).
func (d Directory) Logins() map[string]string { return d.logins }

// Emails returns the e-mail → person index (lower-case addresses).
func (d Directory) Emails() map[string]string { return d.emails }

// PullRequest is a GitHub pull request as the approval rules need it.
type PullRequest struct {
	Number    int
	Author    Identity   // the login that opened it
	Commits   []Identity // the authors of its commits
	Approvers []Identity // logins whose latest review approved the head commit
	Labels    []string
	Head      string
}

// FromGitHub maps a pull request's people to the repository's.
func FromGitHub(repo *model.Repository, pr PullRequest) Request {
	r := newRequest(repo, SourceGitHub, pr.Author, pr.Commits, pr.Approvers)
	r.Number = pr.Number
	r.Head = pr.Head
	r.Labels = sortedCopy(pr.Labels)
	return r
}

// FromTrailers maps the Approved-by trailers of a merge commit, and the
// authors of the commits it merged (the first is the requester), to people.
// A trailer that is not "Name <email>" is an unknown approver.
func FromTrailers(repo *model.Repository, approvedBy []string, authors []Identity, head string) Request {
	var approvers []Identity
	var bad []string
	for _, v := range approvedBy {
		id, err := ParseIdentity(v)
		if err != nil {
			bad = append(bad, strings.TrimSpace(v))
			continue
		}
		approvers = append(approvers, id)
	}
	var author Identity
	if len(authors) > 0 {
		author = authors[0]
	}
	r := newRequest(repo, SourceTrailers, author, authors, approvers)
	r.UnknownApprovers = sortedUnique(append(r.UnknownApprovers, bad...))
	r.Head = head
	return r
}

func newRequest(repo *model.Repository, source string, author Identity, commits, approvers []Identity) Request {
	dir := NewDirectory(repo)
	r := Request{Source: source, Authors: []string{}, Approvers: []string{}, UnknownApprovers: []string{}, UnknownAuthors: []string{}, Labels: []string{}}
	authors := map[string]bool{}
	var unknownAuthors []string
	for i, id := range append([]Identity{author}, commits...) {
		if id == (Identity{}) {
			continue
		}
		name, ok := dir.Person(id)
		if !ok {
			unknownAuthors = append(unknownAuthors, id.String())
			continue
		}
		if i == 0 {
			r.Author = name
		}
		authors[name] = true
	}
	// The author leads the list; the rest are sorted.
	if r.Author != "" {
		r.Authors = append(r.Authors, r.Author)
		delete(authors, r.Author)
	}
	r.Authors = append(r.Authors, slices.Sorted(maps.Keys(authors))...)
	r.UnknownAuthors = sortedUnique(unknownAuthors)
	approved := map[string]bool{}
	var unknown []string
	for _, id := range approvers {
		if name, ok := dir.Person(id); ok {
			approved[name] = true
		} else {
			unknown = append(unknown, id.String())
		}
	}
	r.Approvers = model.SortedNames(approved)
	r.UnknownApprovers = sortedUnique(unknown)
	return r
}

func sortedUnique(xs []string) []string {
	set := map[string]bool{}
	for _, x := range xs {
		set[x] = true
	}
	return model.SortedNames(set)
}

func sortedCopy(xs []string) []string {
	out := append([]string{}, xs...)
	sort.Strings(out)
	return out
}
