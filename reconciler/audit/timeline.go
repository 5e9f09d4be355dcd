package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/alm-project/alm/reconciler/change"
	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/receipt"
)

// Kinds of timeline events.
const (
	Requested = "requested" // a merge brought a change to the account's file: who asked, which pull request
	Approved  = "approved"  // who approved that merge
	Pushed    = "pushed"    // a commit pushed straight to the branch changed the file: nobody approved it
	Created   = "created"   // the file was added
	Changed   = "changed"   // one field of the file changed, in words
	Renamed   = "renamed"   // metadata.name changed (the file may have moved)
	Disabled  = "disabled"  // the file disabled the account (state disabled, an inactive window)
	Retired   = "retired"   // the file retired it (state retired)
	Reviewed  = "reviewed"  // spec.reviewed moved on: an access review confirmed the account's access
	Removed   = "removed"   // the file was deleted
	Applied   = "applied"   // a run applied a change to the account (Result says how it went)
	Drift     = "drift"     // a run found the account changed outside alm and put it back
	Notice    = "notice"    // a message about the account went out (or failed)
)

// ErrNoAccount: no account of the history has that login or id.
var ErrNoAccount = errors.New("no such account in the history")

// Event is one thing that happened to an account.
type Event struct {
	At      time.Time `json:"at"`
	Kind    string    `json:"kind"`
	Account string    `json:"account"` // the login at the time
	Text    string    `json:"text"`
	// Commit is the branch's commit (the merge) the change arrived by, or
	// for an applied change the revision the run applied.
	Commit      string   `json:"commit,omitempty"`
	PullRequest int      `json:"pullRequest,omitempty"`
	By          []string `json:"by,omitempty"`     // the requester, or the approvers
	Result      string   `json:"result,omitempty"` // for applied, drift and notice: applied, failed, skipped; sent or failed
	Detail      string   `json:"detail,omitempty"` // the plan's reason, or the error
}

// Timeline is the whole life of one account, oldest first, across renames.
type Timeline struct {
	ID    string   `json:"id"`
	Kind  string   `json:"kind"`  // Person or ServiceAccount
	Names []string `json:"names"` // the logins it had, oldest first
	Paths []string `json:"paths"` // the files it lived in, oldest first
	// Requests are the commits that changed its file, oldest first.
	Requests []Request `json:"requests"`
	Events   []Event   `json:"events"`
}

// Resolve returns the metadata.id of the account a login names, current
// or former; a login several accounts had is refused, naming their ids.
func (h *History) Resolve(name string) (string, error) {
	ids := h.index.Names[name]
	switch len(ids) {
	case 0:
		return "", fmt.Errorf("account %q: %w (give a login it had, or --id)", name, ErrNoAccount)
	case 1:
		return ids[0], nil
	}
	return "", fmt.Errorf("account %q: the login was held by %d accounts (ids %s): say which with --id", name, len(ids), strings.Join(ids, ", "))
}

// Account returns the timeline of the account with metadata.id id.
func (h *History) Account(ctx context.Context, id string) (Timeline, error) {
	paths := h.index.IDs[id]
	if len(paths) == 0 {
		return Timeline{}, fmt.Errorf("account id %q: %w", id, ErrNoAccount)
	}
	t := Timeline{ID: id, Paths: paths, Requests: []Request{}, Events: []Event{}}
	// The commits that touched any of its paths, in branch order.
	touched := map[int]bool{}
	for _, p := range paths {
		for _, pc := range h.index.Paths[p] {
			if pc.ID == id {
				touched[pc.Commit] = true
			}
		}
	}
	order := make([]int, 0, len(touched))
	for i := range touched {
		order = append(order, i)
	}
	sort.Ints(order)
	names := map[string]bool{}
	for _, i := range order {
		c := h.index.Commits[i]
		parent := ""
		if len(c.Parents) > 0 {
			parent = c.Parents[0]
		}
		var before, after *model.Repository
		var err error
		if parent != "" {
			if before, err = h.partial(ctx, parent, paths...); err != nil {
				return Timeline{}, err
			}
		}
		if after, err = h.partial(ctx, c.Hash, paths...); err != nil {
			return Timeline{}, err
		}
		var f *change.File
		set := change.Between(before, after)
		for j := range set.Files {
			if set.Files[j].ID == id {
				f = &set.Files[j]
			}
		}
		if f == nil {
			continue // the file changed in a way alm does not read (a comment)
		}
		rq, err := h.Request(ctx, c.Hash)
		if err != nil {
			return Timeline{}, err
		}
		t.Requests = append(t.Requests, rq)
		t.Kind = f.Kind
		login := f.Name
		if f.OldName != "" && !names[f.OldName] {
			t.Names, names[f.OldName] = append(t.Names, f.OldName), true
		}
		if !names[login] {
			t.Names, names[login] = append(t.Names, login), true
		}
		base := Event{At: rq.At, Account: login, Commit: rq.Commit, PullRequest: rq.PullRequest}
		if rq.Merge {
			e := base
			e.Kind, e.By, e.Text = Requested, []string{rq.Requester}, requestText(rq)
			t.Events = append(t.Events, e)
			e = base
			e.Kind, e.By = Approved, rq.Approvers
			e.Text = "approved by " + orNobody(rq.Approvers) + " (" + rq.Source + ")"
			t.Events = append(t.Events, e)
		} else {
			e := base
			e.Kind, e.By = Pushed, []string{rq.Requester}
			e.Text = fmt.Sprintf("pushed straight to the branch by %s, not through an approved merge: %q", rq.Requester, rq.Subject)
			t.Events = append(t.Events, e)
		}
		for _, e := range fileEvents(*f) {
			ev := base
			ev.Kind, ev.Text = e.Kind, e.Text
			t.Events = append(t.Events, ev)
		}
	}
	t.Events = append(t.Events, h.runEvents(id, names)...)
	sort.SliceStable(t.Events, func(i, j int) bool { return t.Events[i].At.Before(t.Events[j].At) })
	if t.Names == nil {
		t.Names = []string{}
	}
	return t, nil
}

func requestText(rq Request) string {
	pr := "no pull request named"
	if rq.PullRequest != 0 {
		pr = fmt.Sprintf("pull request #%d", rq.PullRequest)
	}
	return fmt.Sprintf("requested by %s (%s): %q", rq.Requester, pr, rq.Title)
}

func orNobody(xs []string) string {
	if len(xs) == 0 {
		return "nobody"
	}
	return strings.Join(xs, ", ")
}

// fileEvents turns one file's change into events, one per field, in words.
func fileEvents(f change.File) []Event {
	switch f.Op {
	case change.Added:
		text := "new " + strings.ToLower(f.Kind) + " " + f.Name
		if len(f.Granted) > 0 {
			text += ", roles " + strings.Join(f.Granted, ", ")
		}
		return []Event{{Kind: Created, Text: text}}
	case change.Deleted:
		text := "file " + f.Path + " removed"
		if len(f.Revoked) > 0 {
			text += ", roles " + strings.Join(f.Revoked, ", ") + " revoked"
		}
		return []Event{{Kind: Removed, Text: text}}
	}
	var out []Event
	if f.Op == change.Renamed {
		out = append(out, Event{Kind: Changed, Text: "file moved from " + f.OldPath + " to " + f.Path})
	}
	if len(f.Granted) > 0 || len(f.Revoked) > 0 {
		var parts []string
		for _, r := range f.Granted {
			parts = append(parts, "+ "+r)
		}
		for _, r := range f.Revoked {
			parts = append(parts, "- "+r)
		}
		out = append(out, Event{Kind: Changed, Text: "roles " + strings.Join(parts, ", ")})
	}
	before, after := asMap(f.Before), asMap(f.After)
	for _, r := range f.Reasons {
		kind, text := Changed, r.Text
		switch {
		case r.Field == "spec.roles":
			continue // said above, as one line
		case r.Field == "metadata.name":
			kind = Renamed
		case r.Field == "spec.state" && strings.HasSuffix(r.Text, "→ "+model.StateDisabled):
			kind = Disabled
		case r.Field == "spec.state" && strings.HasSuffix(r.Text, "→ "+model.StateRetired):
			kind = Retired
		case r.Field == "spec.inactive" && r.Class == change.Revoke:
			kind = Disabled
		case r.Class == change.Other && strings.HasPrefix(r.Field, "spec."):
			if b, a, ok := scalars(before, after, strings.TrimPrefix(r.Field, "spec.")); ok {
				text = fmt.Sprintf("%s %s → %s", strings.TrimPrefix(r.Field, "spec."), b, a)
			}
			if r.Field == "spec.reviewed" {
				kind, text = Reviewed, "access review confirmed: "+text
			}
		}
		out = append(out, Event{Kind: kind, Text: text})
	}
	return out
}

// scalars returns a spec field's value before and after, when both are
// plain values ("(none)" for absent): "department Sales → Finance".
func scalars(before, after map[string]any, field string) (string, string, bool) {
	get := func(m map[string]any) (string, bool) {
		spec, _ := m["spec"].(map[string]any)
		v, ok := spec[field]
		if !ok || v == nil {
			return "(none)", true
		}
		switch v.(type) {
		case map[string]any, []any:
			return "", false
		}
		return fmt.Sprint(v), true
	}
	b, okb := get(before)
	a, oka := get(after)
	return b, a, okb && oka
}

func asMap(v any) map[string]any {
	data, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(data, &m) != nil {
		return nil
	}
	return m
}

// runEvents are what the runs did to the account: each change applied
// (drift repairs apart) and each message about it.
func (h *History) runEvents(id string, names map[string]bool) []Event {
	var out []Event
	for _, r := range h.receipts {
		if r.Refused != nil {
			continue
		}
		for _, e := range r.Changes {
			if a, _ := entryAccount(e.ID); a != id {
				continue
			}
			ev := Event{At: r.AppliedAt.UTC(), Kind: Applied, Account: e.Account, Commit: r.Revision, Result: e.Result, Detail: e.Reason}
			ev.Text = entryText(e)
			if e.Error != "" {
				ev.Detail = e.Error
			}
			if isDrift(e) {
				ev.Kind = Drift
				ev.Text = "drift found: " + ev.Text
				if e.Result == receipt.Applied {
					ev.Text += ", reverted"
				}
			}
			out = append(out, ev)
		}
		for _, d := range r.Notices {
			if !names[d.Account] {
				continue
			}
			ev := Event{At: d.At.UTC(), Kind: Notice, Account: d.Account, Result: "sent", By: d.Recipients,
				Text: fmt.Sprintf("%s %q on %s to %s", d.Kind, d.Subject, d.Channel, strings.Join(d.Recipients, ", "))}
			if d.Error != "" {
				ev.Result, ev.Detail = "failed", d.Error
			}
			if ev.At.IsZero() {
				ev.At = r.AppliedAt.UTC()
			}
			out = append(out, ev)
		}
	}
	return out
}

func entryText(e receipt.Entry) string {
	_, group := entryAccount(e.ID)
	if group != "" {
		return e.Action + " " + group + ": " + e.Result
	}
	return e.Action + ": " + e.Result
}
