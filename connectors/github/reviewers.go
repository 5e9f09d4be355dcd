package github

import (
	"context"
	"fmt"
	"sort"
	"strings"

	gh "github.com/google/go-github/v92/github"
)

// RequestedReviewers returns the logins asked for a review of a pull
// request who have not reviewed it yet (GitHub drops a reviewer from this
// list once they review), sorted.
func (c *Client) RequestedReviewers(ctx context.Context, number int) ([]string, error) {
	var out []string
	// The endpoint is not paged by go-github's ListReviewers; GitHub caps
	// the requested reviewers of a pull request well below one page.
	rs, _, err := c.gh.PullRequests.ListReviewers(ctx, c.owner, c.repo, number)
	if err != nil {
		return nil, fmt.Errorf("requested reviewers of %s#%d: %w", c.Repository(), number, err)
	}
	for _, u := range rs.Users {
		out = append(out, u.GetLogin())
	}
	sort.Strings(out)
	return out, nil
}

// Reviewed returns the logins that submitted any review of a pull request
// (approving, requesting changes, commenting or dismissed), sorted and once
// each.
func (c *Client) Reviewed(ctx context.Context, number int) ([]string, error) {
	reviews, err := c.reviews(ctx, number)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, r := range reviews {
		if r.Login != "" && !seen[strings.ToLower(r.Login)] {
			seen[strings.ToLower(r.Login)] = true
			out = append(out, r.Login)
		}
	}
	sort.Strings(out)
	return out, nil
}

// RequestReviewers asks logins for a review of a pull request.
func (c *Client) RequestReviewers(ctx context.Context, number int, logins []string) error {
	if len(logins) == 0 {
		return nil
	}
	_, _, err := c.gh.PullRequests.RequestReviewers(ctx, c.owner, c.repo, number, gh.ReviewersRequest{Reviewers: logins})
	if err != nil {
		return fmt.Errorf("request reviews from %s on %s#%d: %w", strings.Join(logins, ", "), c.Repository(), number, err)
	}
	return nil
}
