// Package github reads pull requests and their reviews from GitHub (or GitHub
// Enterprise Server) and keeps alm's one sticky comment on a pull request.
// The token comes from the environment (GITHUB_TOKEN), never from a flag.
//
// The sticky comment is found by a marker in its body and by its author:
// anyone can write the marker, so only comments alm's own login wrote count.
// That login is Options.CommentAuthor ($ALM_GITHUB_COMMENT_AUTHOR for
// FromEnv) when given, else the token's user (GET /user), else, for a token
// that cannot read /user (a GitHub App installation token, such as the
// GITHUB_TOKEN of GitHub Actions), ActionsBot.
package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	gh "github.com/google/go-github/v92/github"
)

// TokenEnv is the environment variable holding the API token.
const TokenEnv = "GITHUB_TOKEN"

// CommentAuthorEnv names, for FromEnv, the login alm comments as, when it is
// not the token's user: a GitHub App's "<app-slug>[bot]".
const CommentAuthorEnv = "ALM_GITHUB_COMMENT_AUTHOR"

// ActionsBot is the login of GitHub Actions' GITHUB_TOKEN, whose comments
// GitHub shows as written by github-actions[bot].
const ActionsBot = "github-actions[bot]"

// ErrNoToken: no token in the environment.
var ErrNoToken = errors.New(TokenEnv + " is not set: export a token that can read pull requests (and write comments, for --comment)")

// Client talks to one repository.
type Client struct {
	gh            *gh.Client
	owner         string
	repo          string
	commentAuthor string
}

// Options configure a client. BaseURL is the API root of a GitHub Enterprise
// Server ("https://github.example.com/api/v3/") or of a test server; empty
// means api.github.com.
type Options struct {
	BaseURL    string
	Token      string
	HTTPClient *http.Client
	// CommentAuthor is the login alm's comments are written as (for a
	// GitHub App, "<app-slug>[bot]"); empty: learned from the token.
	CommentAuthor string
}

// New returns a client for "owner/repo".
func New(ownerRepo string, o Options) (*Client, error) {
	owner, repo, ok := strings.Cut(ownerRepo, "/")
	if !ok || owner == "" || repo == "" || strings.Contains(repo, "/") {
		return nil, fmt.Errorf("repository %q: write OWNER/REPO, e.g. acme/access", ownerRepo)
	}
	var opts []gh.ClientOptionsFunc
	if o.HTTPClient != nil {
		opts = append(opts, gh.WithHTTPClient(o.HTTPClient))
	} else {
		opts = append(opts, gh.WithTimeout(30*time.Second))
	}
	if o.Token != "" {
		opts = append(opts, gh.WithAuthToken(o.Token))
	}
	if o.BaseURL != "" {
		base := o.BaseURL
		if !strings.HasSuffix(base, "/") {
			base += "/"
		}
		opts = append(opts, gh.WithURLs(&base, &base))
	}
	c, err := gh.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("github client: %w", err)
	}
	return &Client{gh: c, owner: owner, repo: repo, commentAuthor: o.CommentAuthor}, nil
}

// FromEnv returns a client whose token is $GITHUB_TOKEN, commenting as
// $ALM_GITHUB_COMMENT_AUTHOR when that is set.
func FromEnv(ownerRepo, baseURL string) (*Client, error) {
	token := os.Getenv(TokenEnv)
	if token == "" {
		return nil, ErrNoToken
	}
	return New(ownerRepo, Options{BaseURL: baseURL, Token: token, CommentAuthor: os.Getenv(CommentAuthorEnv)})
}

// Repository is "owner/repo".
func (c *Client) Repository() string { return c.owner + "/" + c.repo }

// PullRequest is what alm needs of a pull request.
type PullRequest struct {
	Number      int
	Author      string // login
	Labels      []string
	Head        string // sha of the head commit
	Base        string // sha of the base commit
	Merged      bool
	MergeCommit string
}

// PullRequest reads one pull request.
func (c *Client) PullRequest(ctx context.Context, number int) (PullRequest, error) {
	pr, _, err := c.gh.PullRequests.Get(ctx, c.owner, c.repo, number)
	if err != nil {
		return PullRequest{}, fmt.Errorf("pull request %s#%d: %w", c.Repository(), number, err)
	}
	out := PullRequest{
		Number:      pr.GetNumber(),
		Author:      pr.GetUser().GetLogin(),
		Head:        pr.GetHead().GetSHA(),
		Base:        pr.GetBase().GetSHA(),
		Merged:      pr.GetMerged(),
		MergeCommit: pr.GetMergeCommitSHA(),
	}
	for _, l := range pr.Labels {
		out.Labels = append(out.Labels, l.GetName())
	}
	sort.Strings(out.Labels)
	return out, nil
}

// Review is one reviewer's standing verdict.
type Review struct {
	Login  string
	State  string // APPROVED, CHANGES_REQUESTED, DISMISSED
	Commit string
	At     time.Time
}

// Review states GitHub reports.
const (
	StateApproved         = "APPROVED"
	StateChangesRequested = "CHANGES_REQUESTED"
	StateDismissed        = "DISMISSED"
	StateCommented        = "COMMENTED"
	StatePending          = "PENDING"
)

// Approvals returns the logins whose latest review approves the head commit,
// sorted. A reviewer's latest verdict stands: a later request for changes or
// a dismissal cancels an approval; comments do not change a verdict; an
// approval of an earlier commit is stale and does not count.
func (c *Client) Approvals(ctx context.Context, number int, head string) ([]Review, error) {
	reviews, err := c.reviews(ctx, number)
	if err != nil {
		return nil, err
	}
	return Latest(reviews, head), nil
}

// Latest picks each reviewer's standing verdict from reviews in the order
// GitHub lists them (oldest first) and keeps the approvals of head.
func Latest(reviews []Review, head string) []Review {
	latest := map[string]Review{}
	for _, r := range reviews {
		switch r.State {
		case StateApproved, StateChangesRequested, StateDismissed:
			latest[strings.ToLower(r.Login)] = r
		}
	}
	var out []Review
	for _, r := range latest {
		if r.State == StateApproved && r.Commit == head {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Login < out[j].Login })
	return out
}

func (c *Client) reviews(ctx context.Context, number int) ([]Review, error) {
	var out []Review
	opts := &gh.ListOptions{PerPage: 100}
	for {
		page, resp, err := c.gh.PullRequests.ListReviews(ctx, c.owner, c.repo, number, opts)
		if err != nil {
			return nil, fmt.Errorf("reviews of %s#%d: %w", c.Repository(), number, err)
		}
		for _, r := range page {
			out = append(out, Review{
				Login:  r.GetUser().GetLogin(),
				State:  r.GetState(),
				Commit: r.GetCommitID(),
				At:     r.GetSubmittedAt().Time,
			})
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// CommitAuthor is the author of one commit of a pull request.
type CommitAuthor struct {
	Login string // empty when GitHub does not know the address
	Name  string
	Email string
}

// CommitAuthors returns the authors of a pull request's commits, in order.
func (c *Client) CommitAuthors(ctx context.Context, number int) ([]CommitAuthor, error) {
	var out []CommitAuthor
	opts := &gh.ListOptions{PerPage: 100}
	for {
		page, resp, err := c.gh.PullRequests.ListCommits(ctx, c.owner, c.repo, number, opts)
		if err != nil {
			return nil, fmt.Errorf("commits of %s#%d: %w", c.Repository(), number, err)
		}
		for _, rc := range page {
			out = append(out, CommitAuthor{
				Login: rc.GetAuthor().GetLogin(),
				Name:  rc.GetCommit().GetAuthor().GetName(),
				Email: rc.GetCommit().GetAuthor().GetEmail(),
			})
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// PullRequestsWithCommit returns the numbers of the pull requests that hold
// (or merged as) a commit.
func (c *Client) PullRequestsWithCommit(ctx context.Context, sha string) ([]int, error) {
	var out []int
	opts := &gh.ListOptions{PerPage: 100}
	for {
		page, resp, err := c.gh.PullRequests.ListPullRequestsWithCommit(ctx, c.owner, c.repo, sha, opts)
		if err != nil {
			return nil, fmt.Errorf("pull requests of commit %s in %s: %w", sha, c.Repository(), err)
		}
		for _, pr := range page {
			out = append(out, pr.GetNumber())
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// Comment is an issue comment.
type Comment struct {
	ID  int64
	URL string
}

// StickyComment makes one comment on the pull request, found again by a
// marker (an HTML comment such as "<!-- alm-check -->") in its body, hold
// body: the first comment alm's login wrote carrying the marker is updated,
// or one is created. Comments others wrote are never taken for alm's, marker
// or not, so nobody can block the comment or have alm edit theirs. The
// marker is added to body when body lacks it.
func (c *Client) StickyComment(ctx context.Context, number int, marker, body string) (Comment, bool, error) {
	if !strings.Contains(body, marker) {
		body = marker + "\n" + body
	}
	me, err := c.login(ctx)
	if err != nil {
		return Comment{}, false, err
	}
	existing, err := c.findComment(ctx, number, marker, me)
	if err != nil {
		return Comment{}, false, err
	}
	req := gh.IssueCommentRequest{Body: body}
	if existing != 0 {
		ic, _, err := c.gh.Issues.UpdateComment(ctx, c.owner, c.repo, existing, req)
		if err != nil {
			return Comment{}, false, fmt.Errorf("update comment %d on %s#%d: %w", existing, c.Repository(), number, err)
		}
		return Comment{ID: ic.GetID(), URL: ic.GetHTMLURL()}, false, nil
	}
	ic, _, err := c.gh.Issues.CreateComment(ctx, c.owner, c.repo, number, req)
	if err != nil {
		return Comment{}, false, fmt.Errorf("comment on %s#%d: %w", c.Repository(), number, err)
	}
	return Comment{ID: ic.GetID(), URL: ic.GetHTMLURL()}, true, nil
}

// login returns the login alm comments as: Options.CommentAuthor, else the
// token's user; a token that may not read /user (403) is an installation
// token, and the one alm runs with is GitHub Actions'.
func (c *Client) login(ctx context.Context) (string, error) {
	if c.commentAuthor != "" {
		return c.commentAuthor, nil
	}
	u, _, err := c.gh.Users.Get(ctx, "")
	var er *gh.ErrorResponse
	switch {
	case errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusForbidden:
		return ActionsBot, nil
	case err != nil:
		return "", fmt.Errorf("user of the GitHub token (for the comment's author; set %s to skip): %w", CommentAuthorEnv, err)
	case u.GetLogin() == "":
		return "", fmt.Errorf("user of the GitHub token has no login: set %s to the login alm comments as", CommentAuthorEnv)
	}
	return u.GetLogin(), nil
}

func (c *Client) findComment(ctx context.Context, number int, marker, author string) (int64, error) {
	opts := &gh.IssueListCommentsOptions{ListOptions: gh.ListOptions{PerPage: 100}}
	for {
		page, resp, err := c.gh.Issues.ListComments(ctx, c.owner, c.repo, number, opts)
		if err != nil {
			return 0, fmt.Errorf("comments of %s#%d: %w", c.Repository(), number, err)
		}
		for _, ic := range page {
			if strings.EqualFold(ic.GetUser().GetLogin(), author) && strings.Contains(ic.GetBody(), marker) {
				return ic.GetID(), nil
			}
		}
		if resp.NextPage == 0 {
			return 0, nil
		}
		opts.Page = resp.NextPage
	}
}
