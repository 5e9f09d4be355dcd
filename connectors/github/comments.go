package github

import (
	"context"
	"fmt"
	"strings"

	gh "github.com/google/go-github/v92/github"
)

// CommentOnce comments body on a pull request unless alm's login has
// already written a comment carrying marker there: a message that must be
// posted once however often a run repeats. It reports whether it
// commented. As with StickyComment, comments others wrote never count.
func (c *Client) CommentOnce(ctx context.Context, number int, marker, body string) (Comment, bool, error) {
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
	if existing != 0 {
		return Comment{ID: existing}, false, nil
	}
	ic, _, err := c.gh.Issues.CreateComment(ctx, c.owner, c.repo, number, gh.IssueCommentRequest{Body: body})
	if err != nil {
		return Comment{}, false, fmt.Errorf("comment on %s#%d: %w", c.Repository(), number, err)
	}
	return Comment{ID: ic.GetID(), URL: ic.GetHTMLURL()}, true, nil
}
