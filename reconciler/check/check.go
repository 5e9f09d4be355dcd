// Package check runs alm's pull-request check: it loads the access repository
// at two commits, computes the change between them, learns who asked for it
// and who approved it, and judges it with the Rego policies. Schema and
// reference problems the loader finds at head are reported in the same result.
package check

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/go-git/go-git/v5"

	"github.com/alm-project/alm/reconciler/approval"
	"github.com/alm-project/alm/reconciler/change"
	"github.com/alm-project/alm/reconciler/history"
	"github.com/alm-project/alm/reconciler/load"
	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/policy"
	"github.com/alm-project/alm/reconciler/preview"
)

// RuleLoad names the loader's problems (schema, syntax, references) among the
// policies' violations.
const RuleLoad = "schema"

// ErrNoPullRequest: a commit did not arrive through a merged pull request.
var ErrNoPullRequest = errors.New("no merged pull request")

// Approvals says who asked for a change and who approved it, as people of
// the given repository: Run passes the repository at base, so a pull request
// that adds a person, or gives someone's login or e-mail to another, cannot
// have that person's approval count.
type Approvals interface {
	Request(ctx context.Context, people *model.Repository) (*approval.Request, error)
}

// Options say what to check.
type Options struct {
	Base string // revision the change starts from (the pull request's base)
	Head string // revision to check
	// Now is the instant lifecycles are judged at: the clock for a pull
	// request, the merge's commit time when re-verifying.
	Now time.Time
	// Approvals is nil when there is no pull request: approvals are then
	// not judged, and a warning says so.
	Approvals Approvals
	// Files keeps parsed files between loads (load.OpenCache keeps them
	// across processes); nil parses base and head here, sharing what they
	// share.
	Files  *load.Cache
	Logger *slog.Logger
}

// Result is the verdict on a change.
type Result struct {
	Base        string             `json:"base"`
	Head        string             `json:"head"`
	Now         time.Time          `json:"now"`
	Denied      bool               `json:"denied"`
	Change      change.Set         `json:"change"`
	PullRequest *approval.Request  `json:"pullRequest"`
	Violations  []policy.Violation `json:"violations"`
	// Preview is what the merge would do to the directory now (alm check
	// --directory or --preview); the verdict never depends on it. When it
	// was asked for but could not be made, NoPreview says why.
	Preview   *preview.Preview `json:"preview,omitempty"`
	NoPreview string           `json:"noPreview,omitempty"`
	// Reviewers is whom the check asked for a review (alm check --pr);
	// nil when it did not ask.
	Reviewers *Reviewers `json:"reviewers,omitempty"`

	// The revisions as Run loaded them, for the preview.
	base, head                 *model.Repository
	baseProblems, headProblems int
}

// Repositories returns the base and the head as Run loaded them, or says
// why they cannot be planned: a revision with problems has no plan.
func (r *Result) Repositories() (base, head *model.Repository, err error) {
	switch {
	case r.base == nil || r.head == nil:
		return nil, nil, errors.New("the revisions were not loaded")
	case r.baseProblems > 0:
		return nil, nil, fmt.Errorf("the base %s has %d problems: fix them on the base branch first (alm validate --rev %s)", short(r.Base), r.baseProblems, short(r.Base))
	case r.headProblems > 0:
		return nil, nil, fmt.Errorf("the head has %d problems, listed above: fix them first", r.headProblems)
	}
	return r.base, r.head, nil
}

// Counts returns the number of denials and warnings.
func (r *Result) Counts() (denied, warned int) {
	for _, v := range r.Violations {
		if v.Severity == policy.Deny {
			denied++
		} else {
			warned++
		}
	}
	return denied, warned
}

// Run checks the change from o.Base to o.Head in the Git repository r.
// Nothing a pull request changes judges it: the rules are the built-in ones
// plus the organisation's policies as they stand at base (policy files it
// adds or changes are compiled and reported on, and take effect once
// merged); approvers are found among the people at base, and the templates,
// roles and people that decide who must approve and who can are read at
// base too (data.alm.base). An error means the check could not run.
func Run(ctx context.Context, r *git.Repository, o Options) (*Result, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	baseHash, err := history.Resolve(r, o.Base)
	if err != nil {
		return nil, fmt.Errorf("base: %w", err)
	}
	headHash, err := history.Resolve(r, o.Head)
	if err != nil {
		return nil, fmt.Errorf("head: %w", err)
	}
	// Base and head share all but the files the pull request changes:
	// those alone are parsed twice.
	cache := o.Files
	if cache == nil {
		cache = load.NewCache()
	}
	base, baseProblems, err := cache.Commit(ctx, r, baseHash)
	if err != nil {
		return nil, fmt.Errorf("load base %s: %w", baseHash, err)
	}
	// Each revision's policy data is built while the other work goes on:
	// it reads its loaded repository alone (and the head, base's data).
	baseData := background(func() policy.Data { return policy.NewData(base, o.Now) })
	head, problems, err := cache.Commit(ctx, r, headHash)
	if err != nil {
		return nil, fmt.Errorf("load head %s: %w", headHash, err)
	}
	headData := background(func() policy.Data { return policy.NewDataAfter(head, base, baseData(), o.Now) })
	log.Debug("loaded", "base", baseHash, "baseProblems", len(baseProblems), "head", headHash, "headProblems", len(problems), "filesParsed", cache.Parsed())

	res := &Result{Base: baseHash, Head: headHash, Now: o.Now.UTC(), Change: change.Between(base, head),
		base: base, head: head, baseProblems: len(baseProblems), headProblems: len(problems)}
	if o.Approvals != nil {
		if res.PullRequest, err = o.Approvals.Request(ctx, base); err != nil {
			return nil, fmt.Errorf("approvals: %w", err)
		}
	}
	engine, err := policy.New(ctx, base.Policies, headData(), baseData())
	if err != nil {
		return nil, err
	}
	vs, err := engine.Eval(ctx, policy.NewInput(base, head, res.Change, res.PullRequest, o.Now))
	if err != nil {
		return nil, err
	}
	if changedPolicies(res.Change) {
		headPolicyProblems, err := policy.Compile(head.Policies)
		if err != nil {
			return nil, err
		}
		vs = append(vs, headPolicyProblems...)
	}
	policy.Place(vs, head, base)
	res.Violations = merge(fromProblems(problems), vs)
	res.Denied = policy.Denied(res.Violations)
	return res, nil
}

// background starts f on its own goroutine; the function returned waits
// for its value, as often as it is called.
func background[T any](f func() T) func() T {
	out := make(chan T, 1)
	go func() { out <- f() }()
	return sync.OnceValue(func() T { return <-out })
}

func changedPolicies(s change.Set) bool {
	for _, f := range s.Files {
		if f.Kind == change.KindPolicy && f.Op != change.Deleted {
			return true
		}
	}
	return false
}

// fromProblems turns the loader's problems into denials.
func fromProblems(ps load.Problems) []policy.Violation {
	out := make([]policy.Violation, 0, len(ps))
	for _, p := range ps {
		out = append(out, policy.Violation{File: p.Pos.Path, Line: p.Pos.Line, Field: p.Field, Rule: RuleLoad, Message: p.Message, Severity: policy.Deny})
	}
	return out
}

// merge joins the loader's problems and the policies' violations. Where the
// loader already reports a field, a policy violation of the same file and
// field says the same thing again, and is dropped; identical violations
// (the same message from two revisions' policy files) are kept once.
func merge(problems, vs []policy.Violation) []policy.Violation {
	type key struct{ file, field string }
	reported := map[key]bool{}
	for _, p := range problems {
		if p.Field != "" {
			reported[key{p.File, p.Field}] = true
		}
	}
	out := append([]policy.Violation{}, problems...)
	// The people who could approve follow from the rule and file, so a
	// violation is the same without them.
	type same struct {
		file, field, rule, message string
		line                       int
		severity                   policy.Severity
	}
	seen := map[same]bool{}
	for _, v := range vs {
		if v.Field != "" && v.Severity == policy.Deny && reported[key{v.File, v.Field}] {
			continue
		}
		k := same{v.File, v.Field, v.Rule, v.Message, v.Line, v.Severity}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, v)
	}
	policy.Sort(out)
	return out
}
