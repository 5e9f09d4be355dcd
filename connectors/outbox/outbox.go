// Package outbox is a notice channel that writes messages down instead of
// sending them: to a folder, one file per message with its attachments
// beside it (for a site that picks messages up with its own tools), or to
// a writer (alm demo shows what would have been sent). It carries
// attachments, so it can deliver sealed passwords: they are ciphertext.
package outbox

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/alm-project/alm/reconciler/notify"
)

// Channel writes messages; Name is "outbox".
type Channel struct {
	dir string    // a folder, or
	w   io.Writer // a writer
	mu  sync.Mutex
}

// New writes each message into dir (made when missing, mode 0700): the
// message as <id>.txt, each attachment as <id>.<name>, all mode 0600.
func New(dir string) *Channel { return &Channel{dir: dir} }

// To writes each message to w as text; attachments are named, not written.
func To(w io.Writer) *Channel { return &Channel{w: w} }

// Name is the channel as receipts name it.
func (c *Channel) Name() string { return "outbox" }

// Send writes m down.
func (c *Channel) Send(ctx context.Context, m notify.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	text := Format(m)
	if c.w != nil {
		_, err := io.WriteString(c.w, text)
		return err
	}
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return fmt.Errorf("outbox %s: %w", c.dir, err)
	}
	stem := safe(m.ID)
	if err := os.WriteFile(filepath.Join(c.dir, stem+".txt"), []byte(text), 0o600); err != nil {
		return fmt.Errorf("outbox %s: %w", c.dir, err)
	}
	for _, a := range m.Attachments {
		if err := os.WriteFile(filepath.Join(c.dir, stem+"."+safe(a.Name)), a.Content, 0o600); err != nil {
			return fmt.Errorf("outbox %s: %w", c.dir, err)
		}
	}
	return nil
}

// Format is a message as the outbox writes it: headers, then the text.
func Format(m notify.Message) string {
	var b strings.Builder
	var to []string
	for _, r := range m.To {
		who := r.Login
		if r.Email != "" {
			who = strings.TrimSpace(who + " <" + r.Email + ">")
		}
		if r.Role != "" {
			who += " (" + r.Role + ")"
		}
		to = append(to, who)
	}
	fmt.Fprintf(&b, "To: %s\nSubject: %s\nMessage: %s\n", strings.Join(to, ", "), m.Subject, m.ID)
	for _, a := range m.Attachments {
		fmt.Fprintf(&b, "Attachment: %s (%d bytes, encrypted)\n", a.Name, len(a.Content))
	}
	b.WriteString("\n" + strings.TrimRight(m.Text, "\n") + "\n\n")
	return b.String()
}

// safe keeps a name to letters, digits, '.', '-' and '_'.
func safe(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}
