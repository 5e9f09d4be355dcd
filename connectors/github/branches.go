package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	gh "github.com/google/go-github/v92/github"
)

// PullRequestsFrom returns the numbers of the pull requests, in any state
// (open, closed or merged), whose head is branch of this repository.
func (c *Client) PullRequestsFrom(ctx context.Context, branch string) ([]int, error) {
	var out []int
	opts := &gh.PullRequestListOptions{State: "all", Head: c.owner + ":" + branch, ListOptions: gh.ListOptions{PerPage: 100}}
	for {
		page, resp, err := c.gh.PullRequests.List(ctx, c.owner, c.repo, opts)
		if err != nil {
			return nil, fmt.Errorf("pull requests from branch %s of %s: %w", branch, c.Repository(), err)
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

// DefaultBranch returns the repository's default branch and its head commit.
func (c *Client) DefaultBranch(ctx context.Context) (name, sha string, err error) {
	repo, _, err := c.gh.Repositories.Get(ctx, c.owner, c.repo)
	if err != nil {
		return "", "", fmt.Errorf("repository %s: %w", c.Repository(), err)
	}
	name = repo.GetDefaultBranch()
	sha, ok, err := c.Branch(ctx, name)
	switch {
	case err != nil:
		return "", "", err
	case !ok:
		return "", "", fmt.Errorf("default branch %s of %s does not exist: push a first commit", name, c.Repository())
	}
	return name, sha, nil
}

// Branch returns the head commit of a branch, and false when there is no
// such branch.
func (c *Client) Branch(ctx context.Context, name string) (string, bool, error) {
	ref, _, err := c.gh.Git.GetRef(ctx, c.owner, c.repo, "heads/"+name)
	var er *gh.ErrorResponse
	switch {
	case errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusNotFound:
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("branch %s of %s: %w", name, c.Repository(), err)
	}
	return ref.GetObject().GetSHA(), true, nil
}

// CreateBranch makes branch name point at commit sha.
func (c *Client) CreateBranch(ctx context.Context, name, sha string) error {
	_, _, err := c.gh.Git.CreateRef(ctx, c.owner, c.repo, gh.CreateRef{Ref: "refs/heads/" + name, SHA: sha})
	if err != nil {
		return fmt.Errorf("create branch %s of %s at %s: %w", name, c.Repository(), sha, err)
	}
	return nil
}

// File returns a file's content on a branch (or any ref) and its blob sha,
// which UpdateFile needs.
func (c *Client) File(ctx context.Context, path, ref string) ([]byte, string, error) {
	fc, _, _, err := c.gh.Repositories.GetContents(ctx, c.owner, c.repo, path, &gh.RepositoryContentGetOptions{Ref: ref})
	if err != nil {
		return nil, "", fmt.Errorf("file %s at %s of %s: %w", path, ref, c.Repository(), err)
	}
	if fc == nil {
		return nil, "", fmt.Errorf("file %s at %s of %s is a directory", path, ref, c.Repository())
	}
	s, err := fc.GetContent()
	if err != nil {
		return nil, "", fmt.Errorf("file %s at %s of %s: %w", path, ref, c.Repository(), err)
	}
	return []byte(s), fc.GetSHA(), nil
}

// UpdateFile commits new content of a file onto a branch; sha is the blob
// the content replaces (from File), so a file changed meanwhile is refused.
func (c *Client) UpdateFile(ctx context.Context, branch, path, message string, content []byte, sha string) error {
	_, _, err := c.gh.Repositories.UpdateFile(ctx, c.owner, c.repo, path, &gh.RepositoryContentFileOptions{
		Message: gh.Ptr(message), Content: content, SHA: gh.Ptr(sha), Branch: gh.Ptr(branch),
	})
	if err != nil {
		return fmt.Errorf("commit %s onto branch %s of %s: %w", path, branch, c.Repository(), err)
	}
	return nil
}

// OpenPullRequest opens a pull request from head into base and returns its
// number and address.
func (c *Client) OpenPullRequest(ctx context.Context, head, base, title, body string) (int, string, error) {
	pr, _, err := c.gh.PullRequests.Create(ctx, c.owner, c.repo, gh.CreatePullRequest{
		Title: gh.Ptr(title), Head: head, Base: base, Body: gh.Ptr(body),
	})
	if err != nil {
		return 0, "", fmt.Errorf("open pull request from %s into %s of %s: %w", head, base, c.Repository(), err)
	}
	return pr.GetNumber(), pr.GetHTMLURL(), nil
}
