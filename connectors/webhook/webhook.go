// Package webhook posts alm's messages to an HTTP endpoint: the message as
// JSON, or Slack-compatible text. With a secret (from the environment
// variable alm.yaml names in spec.notify.webhook.secretEnv) each body is
// signed with HMAC-SHA256, so the receiver can tell it came from alm;
// X-Alm-Message-Id lets it drop a message delivered twice.
//
// Attachments are never posted: they carry credentials and go by e-mail
// only. The JSON names the ones left out.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/notify"
)

// Headers alm sets on each post.
const (
	SignatureHeader = "X-Alm-Signature"  // sha256=<hex HMAC-SHA256 of the body>
	MessageIDHeader = "X-Alm-Message-Id" // notify.Message.ID
)

// DefaultTimeout bounds one post when the caller gives no client.
const DefaultTimeout = 30 * time.Second

// Channel posts one request per message.
type Channel struct {
	url    *url.URL
	format string
	secret []byte
	client *http.Client
}

var _ notify.Channel = (*Channel)(nil)

// New checks cfg (alm.yaml's spec.notify.webhook) and returns its channel.
// secret is the HMAC key, "" to send unsigned; client nil means one with
// DefaultTimeout.
func New(cfg model.WebhookChannel, secret string, client *http.Client) (*Channel, error) {
	const field = "alm.yaml spec.notify.webhook"
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("%s.url %q: write an http or https URL such as https://hooks.example.com/alm", field, redact(u, cfg.URL))
	}
	format := cfg.Format
	switch format {
	case "":
		format = model.WebhookJSON
	case model.WebhookJSON, model.WebhookSlack:
	default:
		return nil, fmt.Errorf("%s.format %q: write %s or %s", field, cfg.Format, model.WebhookJSON, model.WebhookSlack)
	}
	if cfg.SecretEnv != "" && secret == "" {
		return nil, fmt.Errorf("%s.secretEnv names %s, which is empty: export the HMAC key", field, cfg.SecretEnv)
	}
	if client == nil {
		client = &http.Client{Timeout: DefaultTimeout}
	}
	return &Channel{url: u, format: format, secret: []byte(secret), client: client}, nil
}

// Name is the channel as alm.yaml and receipts name it.
func (c *Channel) Name() string { return "webhook" }

// URL is where the channel posts, without its query (which may hold a
// token).
func (c *Channel) URL() string { return redact(c.url, "") }

func redact(u *url.URL, raw string) string {
	if u == nil {
		if i := strings.IndexAny(raw, "?#"); i >= 0 {
			return raw[:i] + "?…"
		}
		return raw
	}
	// The path may be the secret (Slack's incoming webhooks): errors,
	// logs and receipts name only the scheme and the host.
	s := u.Scheme + "://" + u.Host
	if u.Path != "" && u.Path != "/" {
		s += "/…"
	}
	if u.RawQuery != "" {
		s += "?…"
	}
	return s
}

// Send posts m. Any answer but 2xx is an error.
func (c *Channel) Send(ctx context.Context, m notify.Message) error {
	body, err := c.Body(m)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url.String(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook %s: %w", c.URL(), err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "alm")
	req.Header.Set(MessageIDHeader, m.ID)
	if len(c.secret) > 0 {
		req.Header.Set(SignatureHeader, sign(body, c.secret))
	}
	resp, err := c.client.Do(req)
	if err != nil {
		// The client's error repeats the URL with its query: name ours.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return fmt.Errorf("webhook %s: message %s: %w: check spec.notify.webhook.url and that the receiver runs; it is retried on the next run", c.URL(), m.ID, err)
	}
	defer func() { _ = resp.Body.Close() }()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &StatusError{URL: c.URL(), Status: resp.StatusCode, Answer: answerText(answer), MessageID: m.ID}
	}
	return nil
}

// StatusError is a receiver's answer other than 2xx.
type StatusError struct {
	URL       string // without the query
	Status    int
	Answer    string // the start of the answer's body
	MessageID string
}

func (e *StatusError) Error() string {
	hint := "it is retried on the next run"
	switch e.Status {
	case http.StatusUnauthorized, http.StatusForbidden:
		hint = "the receiver refused alm: check the key in spec.notify.webhook.secretEnv matches the receiver's"
	case http.StatusNotFound, http.StatusGone:
		hint = "check spec.notify.webhook.url"
	}
	s := fmt.Sprintf("webhook %s: message %s: answered %d %s", e.URL, e.MessageID, e.Status, http.StatusText(e.Status))
	if e.Answer != "" {
		s += fmt.Sprintf(" (%q)", e.Answer)
	}
	return s + ": " + hint
}

func answerText(b []byte) string {
	s := strings.TrimSpace(string(b))
	if !utf8.ValidString(s) {
		return ""
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// Payload is the JSON format's body: the message without its attachments.
type Payload struct {
	notify.Message
	// WithheldAttachments names the attachments left out: credentials go
	// by e-mail only.
	WithheldAttachments []string `json:"withheldAttachments,omitempty"`
}

// Body is what Send posts for m, in the channel's format.
func (c *Channel) Body(m notify.Message) ([]byte, error) {
	var withheld []string
	for _, a := range m.Attachments {
		withheld = append(withheld, a.Name)
	}
	var v any
	switch c.format {
	case model.WebhookSlack:
		v = map[string]string{"text": slackText(m, withheld)}
	default:
		m.Attachments = nil
		v = Payload{Message: m, WithheldAttachments: withheld}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("message %s as %s: %w", m.ID, c.format, err)
	}
	return b, nil
}

// slackText is the message in Slack's mrkdwn: the subject bold, the text,
// who it is for.
func slackText(m notify.Message, withheld []string) string {
	var b strings.Builder
	b.WriteString("*" + slackEscape(m.Subject) + "*\n")
	b.WriteString(slackEscape(strings.TrimRight(m.Text, "\n")))
	var to []string
	for _, r := range m.To {
		name := r.Name
		if name == "" {
			name = r.Login
		}
		if name == "" {
			name = r.Email
		}
		if r.Role != "" {
			name += " (" + r.Role + ")"
		}
		to = append(to, slackEscape(name))
	}
	if len(to) > 0 {
		b.WriteString("\nTo: " + strings.Join(to, ", "))
	}
	if len(withheld) > 0 {
		fmt.Fprintf(&b, "\n_%d attachment(s) sent by e-mail only_", len(withheld))
	}
	return b.String()
}

// slackEscape escapes the three characters Slack's mrkdwn reserves.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func sign(body, secret []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Signature is the X-Alm-Signature header's value for body under secret.
func Signature(body []byte, secret string) string { return sign(body, []byte(secret)) }

// Verify tells whether header (X-Alm-Signature) signs body with secret,
// comparing in constant time. An empty secret verifies nothing.
func Verify(body []byte, header, secret string) bool {
	if secret == "" {
		return false
	}
	got, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return false
	}
	mac, err := hex.DecodeString(got)
	if err != nil {
		return false
	}
	want := hmac.New(sha256.New, []byte(secret))
	want.Write(body)
	return hmac.Equal(mac, want.Sum(nil))
}
