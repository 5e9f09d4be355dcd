package check

import (
	"context"
	"fmt"

	"github.com/go-git/go-git/v5"

	"github.com/alm-project/alm/connectors/github"
	"github.com/alm-project/alm/reconciler/approval"
	"github.com/alm-project/alm/reconciler/history"
	"github.com/alm-project/alm/reconciler/model"
)

// Trailers reads approvals from the Approved-by trailers of a merge commit,
// for Git hosts other than GitHub. The requesters are the authors of the
// commits the merge brought in; the author of the oldest is the requester.
type Trailers struct {
	Repo   *git.Repository
	Commit string
}

func (t Trailers) Request(ctx context.Context, people *model.Repository) (*approval.Request, error) {
	c, err := history.Read(t.Repo, t.Commit)
	if err != nil {
		return nil, err
	}
	introduced, err := history.Introduced(ctx, t.Repo, c.Hash)
	if err != nil {
		return nil, err
	}
	// Introduced lists newest first; the requester started the branch.
	var authors []approval.Identity
	for i := len(introduced) - 1; i >= 0; i-- {
		a := introduced[i].Author
		authors = append(authors, approval.Identity{Name: a.Name, Email: a.Email})
	}
	req := approval.FromTrailers(people, history.TrailerValues(c.Message, approval.TrailerKey), authors, c.Hash)
	return &req, nil
}

// GitHubReviews is what the GitHub approvals need of a GitHub client.
type GitHubReviews interface {
	PullRequest(ctx context.Context, number int) (github.PullRequest, error)
	Approvals(ctx context.Context, number int, head string) ([]github.Review, error)
	CommitAuthors(ctx context.Context, number int) ([]github.CommitAuthor, error)
}

// GitHub reads approvals from a pull request's reviews: each reviewer's
// latest verdict on the head commit. The requesters are the pull request's
// author and the authors of its commits.
type GitHub struct {
	Client GitHubReviews
	Number int
}

func (g GitHub) Request(ctx context.Context, people *model.Repository) (*approval.Request, error) {
	pr, err := g.Client.PullRequest(ctx, g.Number)
	if err != nil {
		return nil, err
	}
	reviews, err := g.Client.Approvals(ctx, g.Number, pr.Head)
	if err != nil {
		return nil, err
	}
	commits, err := g.Client.CommitAuthors(ctx, g.Number)
	if err != nil {
		return nil, err
	}
	in := approval.PullRequest{Number: pr.Number, Author: approval.Identity{Login: pr.Author}, Labels: pr.Labels, Head: pr.Head}
	for _, c := range commits {
		in.Commits = append(in.Commits, approval.Identity{Login: c.Login, Name: c.Name, Email: c.Email})
	}
	for _, r := range reviews {
		in.Approvers = append(in.Approvers, approval.Identity{Login: r.Login})
	}
	req := approval.FromGitHub(people, in)
	return &req, nil
}

// GitHubMerge reads the approvals of the pull request GitHub merged as a
// commit, for re-verifying main's history: the commit's pull request, then
// its reviews.
type GitHubMerge struct {
	Client interface {
		GitHubReviews
		PullRequestsWithCommit(ctx context.Context, sha string) ([]int, error)
	}
	Commit string
}

func (g GitHubMerge) Request(ctx context.Context, people *model.Repository) (*approval.Request, error) {
	numbers, err := g.Client.PullRequestsWithCommit(ctx, g.Commit)
	if err != nil {
		return nil, err
	}
	for _, n := range numbers {
		pr, err := g.Client.PullRequest(ctx, n)
		if err != nil {
			return nil, err
		}
		if pr.Merged && pr.MergeCommit == g.Commit {
			return GitHub{Client: g.Client, Number: n}.Request(ctx, people)
		}
	}
	return nil, fmt.Errorf("commit %s: %w", g.Commit, ErrNoPullRequest)
}
