package github

import (
	"context"
	"fmt"
	"sort"
	"unicode/utf8"

	gh "github.com/google/go-github/v92/github"
)

// Commit makes one commit on branch whose parent is the commit parent (a
// sha, normally the default branch's head): the files in put are written
// (path -> content) and the paths in del deleted, over parent's tree,
// through the Git Data API (GET git/commits/{parent} for its tree, POST
// git/trees with base_tree, POST git/commits, then the branch ref created
// (POST git/refs) or moved with force (PATCH git/refs/heads/{branch})).
// It returns the new commit's sha. One commit, so a pull request never
// shows half a change.
//
// Content must be UTF-8 text (it travels in the tree's JSON); a path may
// not be both written and deleted, and deleting a path parent lacks fails.
func (c *Client) Commit(ctx context.Context, branch, parent, message string, put map[string][]byte, del []string) (string, error) {
	entries := make([]*gh.TreeEntry, 0, len(put)+len(del))
	for path, content := range put {
		if !utf8.Valid(content) {
			return "", fmt.Errorf("file %s for branch %s of %s is not UTF-8 text", path, branch, c.Repository())
		}
		entries = append(entries, &gh.TreeEntry{Path: gh.Ptr(path), Mode: gh.Ptr("100644"), Type: gh.Ptr("blob"), Content: gh.Ptr(string(content))})
	}
	deleted := map[string]bool{}
	for _, path := range del {
		if _, ok := put[path]; ok {
			return "", fmt.Errorf("file %s for branch %s of %s is both written and deleted", path, branch, c.Repository())
		}
		if deleted[path] {
			continue
		}
		deleted[path] = true
		// Neither SHA nor Content: go-github sends "sha": null, a deletion.
		entries = append(entries, &gh.TreeEntry{Path: gh.Ptr(path), Mode: gh.Ptr("100644"), Type: gh.Ptr("blob")})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].GetPath() < entries[j].GetPath() })

	pc, _, err := c.gh.Git.GetCommit(ctx, c.owner, c.repo, parent)
	if err != nil {
		return "", fmt.Errorf("commit %s of %s: %w", parent, c.Repository(), err)
	}
	tree, _, err := c.gh.Git.CreateTree(ctx, c.owner, c.repo, pc.GetTree().GetSHA(), entries)
	if err != nil {
		return "", fmt.Errorf("tree for branch %s of %s over %s: %w", branch, c.Repository(), parent, err)
	}
	nc, _, err := c.gh.Git.CreateCommit(ctx, c.owner, c.repo, gh.Commit{
		Message: gh.Ptr(message), Tree: &gh.Tree{SHA: tree.SHA}, Parents: []*gh.Commit{{SHA: gh.Ptr(parent)}},
	}, nil)
	if err != nil {
		return "", fmt.Errorf("commit for branch %s of %s over %s: %w", branch, c.Repository(), parent, err)
	}
	sha := nc.GetSHA()

	_, exists, err := c.Branch(ctx, branch)
	switch {
	case err != nil:
		return "", err
	case !exists:
		if err := c.CreateBranch(ctx, branch, sha); err != nil {
			return "", err
		}
	default:
		_, _, err := c.gh.Git.UpdateRef(ctx, c.owner, c.repo, "heads/"+branch, gh.UpdateRef{SHA: sha, Force: gh.Ptr(true)})
		if err != nil {
			return "", fmt.Errorf("move branch %s of %s to %s: %w", branch, c.Repository(), sha, err)
		}
	}
	return sha, nil
}

// OpenPullRequestFrom returns the open pull request whose head is branch of
// this repository, ok false when none is open. Should several be open (into
// different bases), the one GitHub lists first, the newest, is returned.
func (c *Client) OpenPullRequestFrom(ctx context.Context, branch string) (number int, ok bool, err error) {
	opts := &gh.PullRequestListOptions{State: "open", Head: c.owner + ":" + branch, ListOptions: gh.ListOptions{PerPage: 1}}
	page, _, err := c.gh.PullRequests.List(ctx, c.owner, c.repo, opts)
	if err != nil {
		return 0, false, fmt.Errorf("open pull requests from branch %s of %s: %w", branch, c.Repository(), err)
	}
	if len(page) == 0 {
		return 0, false, nil
	}
	return page[0].GetNumber(), true, nil
}

// EditPullRequest sets an open pull request's title and body.
func (c *Client) EditPullRequest(ctx context.Context, number int, title, body string) error {
	_, _, err := c.gh.PullRequests.Edit(ctx, c.owner, c.repo, number, &gh.PullRequest{Title: gh.Ptr(title), Body: gh.Ptr(body)})
	if err != nil {
		return fmt.Errorf("edit pull request %s#%d: %w", c.Repository(), number, err)
	}
	return nil
}

// ClosePullRequest closes a pull request, leaving comment first when not
// empty, so the reason is there before it closes.
func (c *Client) ClosePullRequest(ctx context.Context, number int, comment string) error {
	if comment != "" {
		_, _, err := c.gh.Issues.CreateComment(ctx, c.owner, c.repo, number, gh.IssueCommentRequest{Body: comment})
		if err != nil {
			return fmt.Errorf("comment on %s#%d: %w", c.Repository(), number, err)
		}
	}
	_, _, err := c.gh.PullRequests.Edit(ctx, c.owner, c.repo, number, &gh.PullRequest{State: gh.Ptr("closed")})
	if err != nil {
		return fmt.Errorf("close pull request %s#%d: %w", c.Repository(), number, err)
	}
	return nil
}
