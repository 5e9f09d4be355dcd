package check

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/alm-project/alm/connectors/github"
	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/policy"
)

// Reviewers says whom a check asked to review the pull request: the people
// who could lift its approval denials (each denial's CanApprove), as they
// stood at base.
type Reviewers struct {
	// Asked were asked by this run; Before had been asked, or had
	// reviewed, already. Both are "person (@login)".
	Asked  []string `json:"asked"`
	Before []string `json:"before"`
	// NoLogin could approve but have no spec.github, so GitHub cannot ask
	// them: someone must tell them.
	NoLogin []string `json:"noLogin"`
	// Failed says why the request could not be made; the verdict does not
	// depend on it.
	Failed string `json:"failed,omitempty"`
}

// ReviewRequester is what asking for reviews needs of GitHub.
type ReviewRequester interface {
	PullRequest(ctx context.Context, number int) (github.PullRequest, error)
	RequestedReviewers(ctx context.Context, number int) ([]string, error)
	Reviewed(ctx context.Context, number int) ([]string, error)
	RequestReviewers(ctx context.Context, number int, logins []string) error
}

// AskReviewers requests a review of pull request number from each person
// who could approve what the check denies and has a GitHub login, once: not
// from the pull request's author, nor from anyone already asked or who has
// reviewed it. It fills in res.Reviewers, and says there why it could not
// ask when GitHub refused: the verdict never depends on it.
func AskReviewers(ctx context.Context, gh ReviewRequester, number int, res *Result) error {
	if res.base == nil {
		return errors.New("the base revision was not loaded")
	}
	rv := &Reviewers{Asked: []string{}, Before: []string{}, NoLogin: []string{}}
	res.Reviewers = rv
	names := Candidates(res.Violations)
	if len(names) == 0 {
		return nil
	}
	pr, err := gh.PullRequest(ctx, number)
	if err != nil {
		rv.Failed = err.Error()
		return err
	}
	requested, err := gh.RequestedReviewers(ctx, number)
	if err != nil {
		rv.Failed = err.Error()
		return err
	}
	reviewed, err := gh.Reviewed(ctx, number)
	if err != nil {
		rv.Failed = err.Error()
		return err
	}
	before := map[string]bool{}
	for _, l := range append(requested, reviewed...) {
		before[strings.ToLower(l)] = true
	}
	var logins, asked []string
	for _, name := range names {
		p := res.base.People[name]
		login := ""
		if p != nil {
			login = p.Spec.GitHub
		}
		switch {
		case login == "":
			rv.NoLogin = append(rv.NoLogin, name)
		case strings.EqualFold(login, pr.Author):
			// GitHub refuses to ask the author, who cannot approve anyway.
		case before[strings.ToLower(login)]:
			rv.Before = append(rv.Before, name+" (@"+login+")")
		default:
			logins = append(logins, login)
			asked = append(asked, name+" (@"+login+")")
		}
	}
	if err := gh.RequestReviewers(ctx, number, logins); err != nil {
		rv.Failed = err.Error()
		return err
	}
	rv.Asked = append(rv.Asked, asked...)
	return nil
}

// Candidates returns the people, sorted and once each, who could lift any
// of the denials.
func Candidates(vs []policy.Violation) []string {
	set := map[string]bool{}
	for _, v := range vs {
		if v.Severity != policy.Deny {
			continue
		}
		for _, n := range v.CanApprove {
			set[n] = true
		}
	}
	return model.SortedNames(set)
}

// reviewersLine says whom the check asked, for the text and the comment;
// "" when it did not try.
func reviewersLine(r *Result) string {
	rv := r.Reviewers
	if rv == nil {
		return ""
	}
	var parts []string
	if len(rv.Asked) > 0 {
		parts = append(parts, "asked now: "+strings.Join(rv.Asked, ", "))
	}
	if len(rv.Before) > 0 {
		parts = append(parts, "asked before or reviewed: "+strings.Join(rv.Before, ", "))
	}
	if len(rv.NoLogin) > 0 {
		parts = append(parts, "could approve but have no GitHub login (spec.github), so tell them: "+strings.Join(rv.NoLogin, ", "))
	}
	if rv.Failed != "" {
		parts = append(parts, "could not ask: "+rv.Failed)
	}
	if len(parts) == 0 {
		return "Reviews: nobody to ask (no denial that an approval would lift)"
	}
	return fmt.Sprintf("Reviews: %s", strings.Join(parts, "; "))
}
