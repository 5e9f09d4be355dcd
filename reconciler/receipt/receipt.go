// Package receipt records what an apply did: which revision of the access
// repository, which changes applied, failed or were skipped, and which
// notices went out. Receipts are committed to a status branch of the access
// repository (an orphan branch holding only receipts), so that Git history
// holds what was done beside what was asked. A run the guards or
// --require-approved refused leaves a receipt too, saying what was refused
// and why, so that the audit trail holds refusals as well; such a receipt
// applied nothing, and its commit carries RefusedTrailer rather than
// Trailer, so that "the last applied revision" passes it over. Writing
// builds Git objects directly and never touches the working tree or the
// checked-out branch.
package receipt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/alm-project/alm/reconciler/notify"
	"net/url"
	"strings"
	"time"
)

// Results of one change.
const (
	Applied = "applied"
	Failed  = "failed"
	Skipped = "skipped"
)

// DefaultBranch is the status branch when alm.yaml names none.
const DefaultBranch = "alm-status"

// Trailer is the commit trailer naming the access repository revision a
// receipt records; the history package looks for exactly this key.
const Trailer = "Alm-Applied-Revision"

// RefusedTrailer is the commit trailer of a refusal's receipt, naming the
// revision that was refused. It is not Trailer, so that neither Last nor
// history.LastApplied takes a refusal for the last revision applied.
const RefusedTrailer = "Alm-Refused-Revision"

// What refused a run (Refusal.By).
const (
	ByGuard      = "guard"      // the plan went over a limit or touched what alm never touches
	ByUnapproved = "unapproved" // --require-approved found changes no approved merge brought in
)

// Receipt is the record of one apply. Its JSON form is what the status
// branch holds; field order is the order below. It has no field for a
// password, a bind DN's secret or a token, and Directory loses any
// credentials when written.
type Receipt struct {
	Revision  string    `json:"revision"`  // the access repository commit applied (or refused), in full
	AppliedAt time.Time `json:"appliedAt"` // UTC; for a refusal, when it was refused
	Directory string    `json:"directory"` // the directory's URL, without user information
	Plan      Summary   `json:"plan"`      // for a guard's refusal, the plan refused: nothing applied
	Changes   []Entry   `json:"changes"`   // empty for a refusal: nothing was attempted
	// Findings are what stayed different from Git after the run.
	Findings []Finding `json:"findings"`
	Orphans  []Orphan  `json:"orphans"`
	// Notices are the messages this run tried to send, each channel's
	// outcome: what went out, and what failed and is tried again.
	Notices []notify.Delivery `json:"notices"`
	Refused *Refusal          `json:"refused,omitempty"` // nil when the run was not refused
	// Lease is the owner of the lease the run held, when it ran under one
	// (alm reconcile --interval): who applied, and when, is in Git.
	Lease string `json:"lease,omitempty"`
}

// Finding is one thing the run left different from what Git says, and
// what to do about it (plan.Finding, as the receipt keeps it).
type Finding struct {
	ID      string `json:"id"`
	Kind    string `json:"kind"`
	Account string `json:"account,omitempty"`
	DN      string `json:"dn,omitempty"`
	Group   string `json:"group,omitempty"`
	Text    string `json:"text"`
	Fix     string `json:"fix"`
}

// Refusal is what refused a run, and why: every limit the plan went over
// and every change the guards refuse, or every commit --require-approved
// refused.
type Refusal struct {
	By      string          `json:"by"`      // ByGuard or ByUnapproved
	Message string          `json:"message"` // the refusal as the run reported it, with its advice
	Limits  []Limit         `json:"limits,omitempty"`
	Changes []RefusedChange `json:"changes,omitempty"`
	Commits []RefusedCommit `json:"commits,omitempty"`
}

// Limit is one limit on destructive changes a plan went over.
type Limit struct {
	Kind     string  `json:"kind"`     // disable, removeFromGroup or delete
	Changes  int     `json:"changes"`  // changes of the kind in the plan
	Accounts int     `json:"accounts"` // distinct accounts they touch
	Managed  int     `json:"managed"`  // accounts carrying alm's marker
	Fraction float64 `json:"fraction"` // accounts / managed; 0 when none are managed
	Limit    Bound   `json:"limit"`    // the limit in force
	Exceeded string  `json:"exceeded"` // "count" or "fraction": the bound the plan went over
	Source   string  `json:"source"`   // where the limit was set: alm.yaml's field, alm's default or the flag
	Flag     string  `json:"flag"`     // the flag that raises it for one run
}

// Bound is a limit as alm.yaml writes it; zero sets no bound.
type Bound struct {
	Count    int     `json:"count"`
	Fraction float64 `json:"fraction"`
}

// RefusedChange is a change the guards never allow.
type RefusedChange struct {
	ID  string `json:"id"` // the plan's change ID
	Why string `json:"why"`
}

// RefusedCommit is a commit --require-approved did not find approved.
type RefusedCommit struct {
	Hash    string `json:"hash"`
	Subject string `json:"subject"`
	Author  string `json:"author"` // "Name <email>"
	Reason  string `json:"reason"`
	// Files are the files alm reads that hold, at the refused revision,
	// content this commit brought in without approval.
	Files []string `json:"files,omitempty"`
	// Cured: its changes were reverted; it no longer blocks.
	Cured bool `json:"cured,omitempty"`
}

// Summary counts a plan's changes by action and by result.
type Summary struct {
	Changes int            `json:"changes"`
	Actions map[string]int `json:"actions"` // "create": 2, "disable": 1
	Applied int            `json:"applied"`
	Failed  int            `json:"failed"`
	Skipped int            `json:"skipped"`
}

// Entry is one change of the plan and what became of it.
type Entry struct {
	ID      string `json:"id"`      // the plan's change ID
	Action  string `json:"action"`  // create, update, enable, disable, move, rename, add-member, remove-member, delete
	Account string `json:"account"` // metadata.name (sAMAccountName)
	DN      string `json:"dn"`
	Result  string `json:"result"`           // Applied, Failed or Skipped
	Error   string `json:"error,omitempty"`  // why it failed
	Reason  string `json:"reason,omitempty"` // why the plan asked for it, or why it was skipped
}

// Orphan is an unmanaged account found in a managed OU.
type Orphan struct {
	Account string `json:"account"`
	DN      string `json:"dn"`
	Action  string `json:"action"` // "reported" or "disabled"
}

// Summarize counts entries by action and result, for Receipt.Plan.
func Summarize(entries []Entry) Summary {
	s := Summary{Changes: len(entries), Actions: make(map[string]int)}
	for _, e := range entries {
		s.Actions[e.Action]++
		switch e.Result {
		case Applied:
			s.Applied++
		case Failed:
			s.Failed++
		case Skipped:
			s.Skipped++
		}
	}
	return s
}

// Marshal renders a receipt as the status branch holds it: indented JSON,
// fields in a fixed order, credentials removed from Directory, empty lists
// written as [] rather than null, a final newline.
func Marshal(r Receipt) ([]byte, error) {
	r = clean(r)
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // DNs and reasons hold & and < as they are
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func clean(r Receipt) Receipt {
	r.AppliedAt = r.AppliedAt.UTC()
	r.Directory = redact(r.Directory)
	if r.Changes == nil {
		r.Changes = []Entry{}
	}
	if r.Orphans == nil {
		r.Orphans = []Orphan{}
	}
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	if r.Notices == nil {
		r.Notices = []notify.Delivery{}
	}
	if r.Plan.Actions == nil {
		r.Plan.Actions = map[string]int{}
	}
	return r
}

// redact drops user information, query and fragment from a URL: a bind
// password must never reach Git, even when someone wrote it into the URL.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw[strings.LastIndex(raw, "@")+1:]
	}
	u.User = nil
	u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", false, "", ""
	return u.String()
}

// counts returns how many changes applied and failed, for the commit message.
func counts(r Receipt) (applied, failed int) {
	for _, e := range r.Changes {
		switch e.Result {
		case Applied:
			applied++
		case Failed:
			failed++
		}
	}
	return applied, failed
}

func short(rev string) string {
	if len(rev) > 7 {
		return rev[:7]
	}
	return rev
}

// message is the commit message; the trailer names the revision in full.
func message(r Receipt) string {
	if f := r.Refused; f != nil {
		var what string
		switch f.By {
		case ByUnapproved:
			blocking := 0
			for _, c := range f.Commits {
				if !c.Cured {
					blocking++
				}
			}
			what = fmt.Sprintf("%d unapproved %s", blocking, plural(blocking, "commit"))
		default:
			what = fmt.Sprintf("%d %s exceeded, %d %s refused", len(f.Limits), plural(len(f.Limits), "limit"), len(f.Changes), plural(len(f.Changes), "change"))
		}
		return fmt.Sprintf("alm refused %s (%s): %s\n\n%s: %s\n", short(r.Revision), f.By, what, RefusedTrailer, r.Revision)
	}
	applied, failed := counts(r)
	return fmt.Sprintf("alm apply %s: %d applied, %d failed\n\n%s: %s\n", short(r.Revision), applied, failed, Trailer, r.Revision)
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
