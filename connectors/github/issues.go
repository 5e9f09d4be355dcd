package github

import (
	"context"
	"errors"
	"fmt"
	"strings"

	gh "github.com/google/go-github/v92/github"

	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/notify"
)

// ErrCredentials: a credential delivery was handed to the GitHub channel.
// An issue is readable by everyone with access to the repository, so
// credentials go by e-mail only, even encrypted.
var ErrCredentials = errors.New("credentials go by e-mail only, never in a GitHub issue")

// Issues is the GitHub channel: one issue per message in the repository
// alm.yaml's spec.notify.github names, mentioning the recipients' GitHub
// logins. Opening is idempotent: an issue alm's login opened whose body
// carries the message's marker means the message went out already, so a
// retry after a lost answer never opens a second one.
type Issues struct {
	c      *Client
	labels []string
}

var _ notify.Channel = (*Issues)(nil)

// NewIssues returns the channel for cfg; o as for New (the token is
// GITHUB_TOKEN's, which needs permission to write issues).
func NewIssues(cfg model.GitHubChannel, o Options) (*Issues, error) {
	c, err := New(cfg.Repository, o)
	if err != nil {
		return nil, fmt.Errorf("alm.yaml spec.notify.github.repository: %w", err)
	}
	return &Issues{c: c, labels: cfg.Labels}, nil
}

// Name is the channel as alm.yaml and receipts name it.
func (i *Issues) Name() string { return "github" }

// Issue is an issue a message went out as.
type Issue struct {
	Number int
	URL    string
}

// Send opens m's issue unless it is open (or closed) already.
func (i *Issues) Send(ctx context.Context, m notify.Message) error {
	_, _, err := i.Open(ctx, m)
	return err
}

// Marker is the hidden line in the body of the issue m goes out as; alm
// finds the issue again by it.
func Marker(id string) string { return "<!-- alm:message:" + id + " -->" }

// Open returns m's issue, opening it when no issue alm opened carries m's
// marker; created says whether it did. A credential delivery is refused
// (ErrCredentials); other attachments are left out and the body says so.
func (i *Issues) Open(ctx context.Context, m notify.Message) (issue Issue, created bool, err error) {
	if m.Kind == notify.KindCredentials {
		return Issue{}, false, fmt.Errorf("message %s to %s: %w: remove github from the channels that deliver credentials", m.ID, i.c.Repository(), ErrCredentials)
	}
	if m.ID == "" {
		return Issue{}, false, fmt.Errorf("message %q to %s has no ID: alm could not tell whether it went out already", m.Subject, i.c.Repository())
	}
	me, err := i.c.login(ctx)
	if err != nil {
		return Issue{}, false, err
	}
	marker := Marker(m.ID)
	if found, ok, err := i.find(ctx, marker, me); err != nil || ok {
		return found, false, err
	}
	req := gh.CreateIssueRequest{Title: m.Subject, Body: gh.Ptr(issueBody(m, marker)), Labels: i.labels}
	is, _, err := i.c.gh.Issues.Create(ctx, i.c.owner, i.c.repo, req)
	if err != nil {
		return Issue{}, false, fmt.Errorf("open issue for message %s in %s (the token needs permission to write issues; it is retried on the next run): %w", m.ID, i.c.Repository(), err)
	}
	return Issue{Number: is.GetNumber(), URL: is.GetHTMLURL()}, true, nil
}

// find looks through the repository's issues, open and closed, for one
// author opened with marker in its body. Only alm's own issues count:
// anyone can write the marker, and must not be able to silence a notice.
// With labels configured, only issues carrying them are listed (alm puts
// them on every issue it opens), which keeps the listing short.
func (i *Issues) find(ctx context.Context, marker, author string) (Issue, bool, error) {
	opts := &gh.IssueListByRepoOptions{State: "all", Labels: i.labels, ListOptions: gh.ListOptions{PerPage: 100}}
	for {
		page, resp, err := i.c.gh.Issues.ListByRepo(ctx, i.c.owner, i.c.repo, opts)
		if err != nil {
			return Issue{}, false, fmt.Errorf("issues of %s (looking for %s; the token needs permission to read issues): %w", i.c.Repository(), marker, err)
		}
		for _, is := range page {
			if is.IsPullRequest() || !strings.EqualFold(is.GetUser().GetLogin(), author) {
				continue
			}
			if strings.Contains(is.GetBody(), marker) {
				return Issue{Number: is.GetNumber(), URL: is.GetHTMLURL()}, true, nil
			}
		}
		if resp.NextPage == 0 {
			return Issue{}, false, nil
		}
		opts.ListOptions.Page = resp.NextPage
	}
}

// issueBody is the message's text, the people it is for and the marker.
func issueBody(m notify.Message, marker string) string {
	var b strings.Builder
	b.WriteString(strings.TrimRight(m.Text, "\n"))
	b.WriteString("\n")
	if n := len(m.Attachments); n > 0 {
		fmt.Fprintf(&b, "\n_%d attachment(s) left out: they are sent by e-mail only._\n", n)
	}
	var cc []string
	seen := map[string]bool{}
	for _, r := range m.To {
		k := strings.ToLower(r.GitHub)
		if r.GitHub == "" || seen[k] {
			continue
		}
		seen[k] = true
		cc = append(cc, "@"+r.GitHub)
	}
	if len(cc) > 0 {
		b.WriteString("\ncc " + strings.Join(cc, " ") + "\n")
	}
	b.WriteString("\n" + marker + "\n")
	return b.String()
}
