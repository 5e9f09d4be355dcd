// Package preview says what merging a pull request would do to the
// directory now: the changes the head's plan has that the base's plan has
// not, or has differently, and the changes the base's plan has that the
// head's drops. What both plans share - work already pending before the
// pull request, orphans of the whole domain - is not the pull request's
// doing and is left out.
//
// Nothing a pull request changes decides where or how the directory is
// read. The URL, base DN, OUs (every template's ou, leaversOU, retiredOU,
// groupsOU), marker attribute, protected list, orphans and limits all come
// from the base revision: a pull request cannot point alm and its bind
// credentials at another server, nor widen what is read. The directory is
// read once, within the base's scope, and both revisions are planned
// against that one snapshot, the head's files with the base's alm.yaml.
// What the head changes in alm.yaml is listed, to take effect after the
// merge.
package preview

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	neturl "net/url"
	"strconv"
	"strings"
	"time"

	"github.com/alm-project/alm/reconciler/desired"
	"github.com/alm-project/alm/reconciler/directory"
	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/plan"
)

// Reader reads the directory within a scope.
type Reader interface {
	Read(ctx context.Context, scope directory.Scope) (*directory.Snapshot, error)
}

// Directory is a directory Make dials, reads once and closes.
type Directory interface {
	Reader
	Close() error
}

// Dial opens the directory at url, whose ownership marker is held in
// markerAttribute. Make passes it the base's settings only.
type Dial func(ctx context.Context, url, markerAttribute string) (Directory, error)

// Options are the choices of one preview.
type Options struct {
	// URL is the directory to read (alm check --directory); empty: the
	// base's spec.url.
	URL    string
	Now    time.Time
	Logger *slog.Logger
}

// Preview is what merging head into base would do to the directory now.
type Preview struct {
	Base           string          `json:"base"` // revisions
	Head           string          `json:"head"`
	Now            time.Time       `json:"now"`
	Directory      string          `json:"directory,omitempty"` // the URL read
	DirectoryState string          `json:"directoryState"`
	Scope          directory.Scope `json:"scope"` // what was read: the base's
	// Settings are alm.yaml's directory settings the head changes. They
	// take effect only after the merge: this preview uses the base's.
	Settings []Setting `json:"settings"`
	// Unread are OUs the head places accounts in that the base's scope
	// leaves out. They were not read: changes planned there assume them
	// empty, and whatever they hold is not shown.
	Unread []string `json:"unread"`
	// Changes the merge brings: New and Changed are the head's plan's,
	// Dropped the base's that the head's plan no longer has.
	Changes Delta[plan.Change] `json:"changes"`

	// Findings the merge brings or ends: what a run would leave different
	// from Git (a name taken, a group missing, ...), by their ID: New and
	// Changed are the head's plan's, Dropped those the merge resolves.
	Findings Delta[plan.Finding] `json:"findings"`

	// Warnings are the head's plan's warnings the base's plan has not:
	// those of the files the pull request touches.
	Warnings []desired.Warning `json:"warnings"`
	// Refused says why the guards, with the base's limits, would refuse
	// the plan after the merge; empty when they would allow it.
	Refused string `json:"refused,omitempty"`
}

// Empty reports whether the merge changes nothing in the directory.
func (p *Preview) Empty() bool { return p.Changes.Len() == 0 }

// Setting is one directory setting of alm.yaml the head changes.
type Setting struct {
	Field string `json:"field"` // "spec.url"
	Line  int    `json:"line,omitempty"`
	Base  string `json:"base"`
	Head  string `json:"head"`
}

// Delta is what the head has that the base has not, or has differently,
// and what the base has that the head drops.
type Delta[T any] struct {
	New     []T       `json:"new"`
	Changed []Pair[T] `json:"changed"`
	Dropped []T       `json:"dropped"`
}

// Pair is one thing as the base and as the head have it.
type Pair[T any] struct {
	Base T `json:"base"`
	Head T `json:"head"`
}

// Len counts the differences.
func (d Delta[T]) Len() int { return len(d.New) + len(d.Changed) + len(d.Dropped) }

// Between compares two lists of things by key: a key only the head has is
// new, one only the base has is dropped, one both have is changed when the
// two are not the same. New and Changed keep the head's order, Dropped the
// base's. A key listed twice is matched by its place among its repeats.
func Between[T any](base, head []T, key func(T) string, same func(a, b T) bool) Delta[T] {
	d := Delta[T]{New: []T{}, Changed: []Pair[T]{}, Dropped: []T{}}
	keys := func(list []T) []string {
		seen := map[string]int{}
		out := make([]string, len(list))
		for i, x := range list {
			k := key(x)
			out[i] = k + "\x00" + strconv.Itoa(seen[k])
			seen[k]++
		}
		return out
	}
	baseKeys, headKeys := keys(base), keys(head)
	inBase := make(map[string]int, len(base))
	for i, k := range baseKeys {
		inBase[k] = i
	}
	inHead := make(map[string]bool, len(head))
	for i, k := range headKeys {
		inHead[k] = true
		j, ok := inBase[k]
		switch {
		case !ok:
			d.New = append(d.New, head[i])
		case !same(base[j], head[i]):
			d.Changed = append(d.Changed, Pair[T]{Base: base[j], Head: head[i]})
		}
	}
	for i, k := range baseKeys {
		if !inHead[k] {
			d.Dropped = append(d.Dropped, base[i])
		}
	}
	return d
}

// ErrNoDirectory: neither --directory nor the base's alm.yaml names one.
var ErrNoDirectory = errors.New("no directory to read")

// Target is the directory a preview reads: url when given (alm check
// --directory), else the base's spec.url - never the head's.
func Target(base *model.Repository, url string) (string, error) {
	if url != "" {
		return url, nil
	}
	if base != nil && base.Directory != nil && base.Directory.Spec.URL != "" {
		return base.Directory.Spec.URL, nil
	}
	return "", fmt.Errorf("%w: pass --directory ldaps://... or set spec.url in %s at the base", ErrNoDirectory, model.DirectoryFile)
}

// Make dials the directory Target names with the base's marker attribute,
// reads it once within the base's scope and compares the two plans.
func Make(ctx context.Context, dial Dial, base, head *model.Repository, o Options) (*Preview, error) {
	url, err := Target(base, o.URL)
	if err != nil {
		return nil, err
	}
	// Compute first: a revision that cannot be planned needs no directory.
	want, err := compute(base, head, o.Now)
	if err != nil {
		return nil, err
	}
	d, err := dial(ctx, url, want.base.MarkerAttribute)
	if err != nil {
		return nil, fmt.Errorf("directory %s: %w", redacted(url), err)
	}
	defer d.Close()
	p, err := want.compare(ctx, d, logger(o))
	if err != nil {
		return nil, err
	}
	p.Directory = redacted(url)
	return p, nil
}

// redacted is a URL without any password written into it: the preview
// ends up in a pull-request comment.
func redacted(raw string) string {
	u, err := neturl.Parse(raw)
	if err != nil {
		return "(a URL that does not parse)"
	}
	return u.Redacted()
}

// Compute reads dir once within the base's scope and compares the plans of
// base and head (the head's files with the base's alm.yaml) made from it.
func Compute(ctx context.Context, dir Reader, base, head *model.Repository, o Options) (*Preview, error) {
	want, err := compute(base, head, o.Now)
	if err != nil {
		return nil, err
	}
	return want.compare(ctx, dir, logger(o))
}

func logger(o Options) *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}

// states are the two desired states a preview compares.
type states struct {
	baseRepo, headRepo *model.Repository
	base, head         *desired.State
}

func compute(base, head *model.Repository, now time.Time) (*states, error) {
	if base == nil || base.Directory == nil {
		return nil, fmt.Errorf("base: %s is missing: the base revision has no directory settings to read with", model.DirectoryFile)
	}
	if head == nil {
		return nil, errors.New("head: not loaded")
	}
	b, err := desired.Compute(base, now)
	if err != nil {
		return nil, fmt.Errorf("base: %w", err)
	}
	// The head's files, planned with the base's alm.yaml: where and how
	// the directory is read and written does not change before the merge.
	h := *head
	h.Directory = base.Directory
	hs, err := desired.Compute(&h, now)
	if err != nil {
		return nil, fmt.Errorf("head: %w", err)
	}
	return &states{baseRepo: base, headRepo: head, base: b, head: hs}, nil
}

func (s *states) compare(ctx context.Context, dir Reader, log *slog.Logger) (*Preview, error) {
	scope := s.base.Scope()
	snap, err := dir.Read(ctx, scope)
	if err != nil {
		return nil, fmt.Errorf("read directory: %w", err)
	}
	log.Info("read directory for the preview", "baseDN", scope.BaseDN, "ous", len(scope.OUs), "accounts", len(snap.Accounts), "groups", len(snap.Groups))
	// Without the last applied state neither plan labels drift: labels
	// would be the same on both sides, and the preview is about the pull
	// request, not about the directory's history.
	bp := plan.Diff(s.base, snap, plan.Options{})
	hp := plan.Diff(s.head, snap, plan.Options{})
	p := &Preview{
		Base:           s.base.Revision,
		Head:           s.head.Revision,
		Now:            s.head.Now,
		DirectoryState: hp.DirectoryState,
		Scope:          scope,
		Settings:       Settings(s.baseRepo.Directory, s.headRepo.Directory),
		Unread:         outside(s.head.OUs, scope),
		Changes:        Between(bp.Changes, hp.Changes, changeKey, sameChange),
		Findings:       Between(bp.Findings, hp.Findings, findingKey, sameFinding),
		Warnings:       newWarnings(bp.Warnings, hp.Warnings),
	}
	g := plan.NewGuardOptions(s.head)
	g.Live = snap
	if err := plan.Guard(hp, g); err != nil {
		p.Refused = err.Error()
	}
	return p, nil
}

func changeKey(c plan.Change) string { return c.ID }

func findingKey(f plan.Finding) string { return f.ID }

// sameFinding compares what two findings say differs; where the file
// stands is explanation.
func sameFinding(a, b plan.Finding) bool {
	return a.Kind == b.Kind && a.Text == b.Text && a.Fix == b.Fix && a.RepairedBy == b.RepairedBy
}

// sameChange compares what two changes do to the directory. Why they are
// made (reason, file, line) and their order are explanation: a pull request
// that moves a line in a file changes none of what the merge does.
func sameChange(a, b plan.Change) bool { return effect(a) == effect(b) }

func effect(c plan.Change) string {
	type attr struct{ Name, Old, New string }
	attrs := make([]attr, len(c.Attributes))
	for i, a := range c.Attributes {
		attrs[i] = attr{a.Name, a.Old, a.New}
	}
	data, err := json.Marshal(struct {
		Action                                  plan.Action
		Account, DN, NewDN, Marker, Group, Kind string
		Drift                                   bool
		Attributes                              []attr
	}{c.Action, c.Account, c.DN, c.NewDN, c.Marker, c.Group, c.Kind, c.Drift, attrs})
	if err != nil {
		panic(err) // strings and bools always marshal
	}
	return string(data)
}

// newWarnings are the head's warnings the base's plan does not give too.
func newWarnings(base, head []desired.Warning) []desired.Warning {
	had := make(map[desired.Warning]int, len(base))
	for _, w := range base {
		had[w]++
	}
	out := []desired.Warning{}
	for _, w := range head {
		if had[w] > 0 {
			had[w]--
			continue
		}
		out = append(out, w)
	}
	return out
}

// outside returns the OUs that are neither one of the scope's OUs nor below one.
func outside(ous []string, scope directory.Scope) []string {
	out := []string{}
	for _, ou := range ous {
		in := false
		for _, s := range scope.OUs {
			if directory.Under(ou, s) {
				in = true
				break
			}
		}
		if !in {
			out = append(out, ou)
		}
	}
	return out
}

// Settings lists the directory settings head's alm.yaml changes from base's.
// A setting left out and its default compare equal.
func Settings(base, head *model.Directory) []Setting {
	out := []Setting{}
	if base == nil || head == nil {
		return out
	}
	b, h := base.Spec, head.Spec
	or := func(v, def string) string {
		if v == "" {
			return def
		}
		return v
	}
	for _, s := range []struct {
		field      string
		base, head string
	}{
		{"spec.url", b.URL, h.URL},
		{"spec.baseDN", b.BaseDN, h.BaseDN},
		{"spec.domain", b.Domain, h.Domain},
		{"spec.markerAttribute", or(b.MarkerAttribute, model.DefaultMarkerAttribute), or(h.MarkerAttribute, model.DefaultMarkerAttribute)},
		{"spec.groupsOU", b.GroupsOU, h.GroupsOU},
		{"spec.leaversOU", b.LeaversOU, h.LeaversOU},
		{"spec.retiredOU", b.RetiredOU, h.RetiredOU},
		{"spec.protected", strings.Join(b.Protected, ", "), strings.Join(h.Protected, ", ")},
		{"spec.orphans", or(b.Orphans, model.OrphansReport), or(h.Orphans, model.OrphansReport)},
		{"spec.unmanagedMemberships", or(b.UnmanagedMemberships, model.MembershipsReport), or(h.UnmanagedMemberships, model.MembershipsReport)},
		{"spec.timeZone", or(b.TimeZone.String(), "UTC"), or(h.TimeZone.String(), "UTC")},
		{"spec.limits", limits(b.Limits), limits(h.Limits)},
		{"spec.statusBranch", or(b.StatusBranch, model.DefaultStatusBranch), or(h.StatusBranch, model.DefaultStatusBranch)},
	} {
		if s.base != s.head {
			out = append(out, Setting{Field: s.field, Line: head.Source.At(s.field).Line, Base: s.base, Head: s.head})
		}
	}
	return out
}

func limits(l model.Limits) string {
	one := func(name string, l model.Limit) string {
		return fmt.Sprintf("%s {count: %d, fraction: %s}", name, l.Count, strconv.FormatFloat(l.Fraction, 'f', -1, 64))
	}
	if l == (model.Limits{}) {
		return "(alm's defaults)"
	}
	return strings.Join([]string{one("disable", l.Disable), one("removeFromGroup", l.RemoveFromGroup), one("delete", l.Delete)}, ", ")
}
