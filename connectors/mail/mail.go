// Package mail sends alm's messages by e-mail over SMTP, always over TLS:
// STARTTLS (port 587 by default) or implicit TLS (465). A server that does
// not offer STARTTLS is refused before any credential or message is sent.
// The SMTP password comes from the environment variable alm.yaml names in
// spec.notify.email.passwordEnv; the caller reads it and passes it to New.
package mail

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"

	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/notify"
)

// Default ports per TLS mode.
const (
	PortStartTLS = 587
	PortImplicit = 465
)

// DefaultTimeout bounds one message's SMTP conversation when ctx has no
// deadline: a server that accepts the connection and then says nothing
// must not hold a run forever.
const DefaultTimeout = 30 * time.Second

// The kinds of failure, for errors.Is: a caller (and a receipt) can tell a
// refused login from a server that cannot be reached.
var (
	ErrUnreachable = errors.New("unreachable")
	ErrNoTLS       = errors.New("offers no STARTTLS")
	ErrTLS         = errors.New("TLS handshake failed")
	ErrAuth        = errors.New("SMTP auth refused")
	// ErrNoAddress is a message none of whose recipients has an e-mail
	// address: it reached no one.
	ErrNoAddress = errors.New("no recipient has an e-mail address")
	ErrRejected  = errors.New("message refused")
)

// Error is a send that failed: which server, at which step (Kind, one of
// the Err* values above), the underlying error and what to do.
type Error struct {
	Server string // host:port
	Kind   error
	Err    error
	Hint   string
}

func (e *Error) Error() string {
	return fmt.Sprintf("smtp server %s: %v: %v; %s", e.Server, e.Kind, e.Err, e.Hint)
}

// Unwrap lets errors.Is match both the kind and the cause.
func (e *Error) Unwrap() []error { return []error{e.Kind, e.Err} }

// Channel sends one e-mail per message.
type Channel struct {
	cfg      model.EmailChannel
	password string
	port     int
	implicit bool
	tls      *tls.Config
	timeout  time.Duration
}

// Option changes a Channel.
type Option func(*Channel)

// WithTimeout bounds each message's conversation when ctx has no deadline
// (DefaultTimeout otherwise).
func WithTimeout(d time.Duration) Option { return func(c *Channel) { c.timeout = d } }

var _ notify.Channel = (*Channel)(nil)

// New checks cfg (alm.yaml's spec.notify.email) and returns its channel.
// password is the SMTP password, used only when cfg.Username is set.
func New(cfg model.EmailChannel, password string, opts ...Option) (*Channel, error) {
	const field = "alm.yaml spec.notify.email"
	if cfg.Host == "" {
		return nil, fmt.Errorf("%s.host is empty: name the SMTP server", field)
	}
	if _, err := netmail.ParseAddress(cfg.From); err != nil {
		return nil, fmt.Errorf("%s.from %q: %w: write an address such as alm@example.com", field, cfg.From, err)
	}
	c := &Channel{cfg: cfg, password: password, timeout: DefaultTimeout}
	switch cfg.TLS {
	case "", model.TLSStartTLS:
		c.port = PortStartTLS
	case model.TLSImplicit:
		c.port, c.implicit = PortImplicit, true
	default:
		return nil, fmt.Errorf("%s.tls %q: write %s or %s (alm never sends mail in plain text)", field, cfg.TLS, model.TLSStartTLS, model.TLSImplicit)
	}
	if cfg.Port != 0 {
		c.port = cfg.Port
	}
	if cfg.Username != "" && password == "" {
		env := cfg.PasswordEnv
		if env == "" {
			return nil, fmt.Errorf("%s.username %q has no password: set %s.passwordEnv to the variable that holds it", field, cfg.Username, field)
		}
		return nil, fmt.Errorf("%s.username %q has no password: export %s", field, cfg.Username, env)
	}
	c.tls = &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("%s.caFile: %w", field, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s.caFile %s: no PEM certificate in it: give the CA that signed the SMTP server's certificate", field, cfg.CAFile)
		}
		c.tls.RootCAs = pool
	}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// Name is the channel as alm.yaml and receipts name it.
func (c *Channel) Name() string { return "email" }

// Server is host:port.
func (c *Channel) Server() string { return net.JoinHostPort(c.cfg.Host, strconv.Itoa(c.port)) }

// Addresses are the e-mail addresses m goes to: every recipient's, once.
// None means Send sends nothing.
func Addresses(m notify.Message) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range m.To {
		k := strings.ToLower(r.Email)
		if r.Email == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, r.Email)
	}
	return out
}

// Send mails m to every recipient with an e-mail address, in one message.
// A message none of whose recipients has one is an error (ErrNoAddress):
// it reached no one, and a sealed password sent so would be lost while
// the run said it went out. The conversation ends when ctx does.
func (c *Channel) Send(ctx context.Context, m notify.Message) error {
	msg, err := c.compose(m)
	if err != nil {
		return err
	}
	if msg == nil {
		var who []string
		for _, r := range m.To {
			who = append(who, r.Login)
		}
		return &Error{Server: c.Server(), Kind: ErrNoAddress, Err: fmt.Errorf("none of %s", strings.Join(who, ", ")),
			Hint: "give them spec.email in their files; nothing was sent"}
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	return c.deliver(ctx, msg)
}

// compose builds the e-mail, nil when nobody has an address.
func (c *Channel) compose(m notify.Message) (*gomail.Msg, error) {
	to := Addresses(m)
	if len(to) == 0 {
		return nil, nil
	}
	msg := gomail.NewMsg(gomail.WithCharset(gomail.CharsetUTF8))
	if err := msg.From(c.cfg.From); err != nil {
		return nil, fmt.Errorf("alm.yaml spec.notify.email.from %q: %w", c.cfg.From, err)
	}
	for _, r := range m.To {
		if r.Email == "" {
			continue
		}
		if _, err := netmail.ParseAddress(r.Email); err != nil {
			return nil, fmt.Errorf("message %s: recipient %s (%s) has e-mail %q: %w: fix spec.email in their file", m.ID, recipientName(r), r.Role, r.Email, err)
		}
	}
	if err := msg.To(to...); err != nil {
		return nil, fmt.Errorf("message %s: recipients: %w", m.ID, err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageIDWithValue(messageID(m.ID, c.cfg.From))
	msg.SetGenHeader("X-Alm-Message-Id", m.ID)
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	for _, a := range m.Attachments {
		opts := []gomail.FileOption{gomail.WithFileContentType(gomail.ContentType(a.Type))}
		if a.Type == "" {
			opts[0] = gomail.WithFileContentType(gomail.TypeAppOctetStream)
		}
		msg.AttachReadSeeker(a.Name, bytes.NewReader(a.Content), opts...)
	}
	return msg, nil
}

func recipientName(r notify.Recipient) string {
	if r.Login != "" {
		return r.Login
	}
	if r.Name != "" {
		return r.Name
	}
	return r.Email
}

// messageID is stable per message, so a mail system that sees the same
// message twice (a retry after a lost answer) can tell.
func messageID(id, from string) string {
	sum := sha256.Sum256([]byte(id))
	domain := "alm.invalid"
	if a, err := netmail.ParseAddress(from); err == nil {
		if _, d, ok := strings.Cut(a.Address, "@"); ok {
			domain = d
		}
	}
	return "alm." + hex.EncodeToString(sum[:16]) + "@" + domain
}

func (c *Channel) deliver(ctx context.Context, msg *gomail.Msg) error {
	// Ends the dialer's hold on the connection with this conversation,
	// not with a caller's longer-lived ctx.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	opts := []gomail.Option{
		gomail.WithPort(c.port),
		gomail.WithTLSConfig(c.tls),
		gomail.WithDialContextFunc(c.dialer(ctx)),
		// Opportunistic lets go-mail do STARTTLS when offered; the check
		// after dialing refuses a connection that did not end up
		// encrypted, with a typed error and before AUTH or MAIL.
		gomail.WithTLSPolicy(gomail.TLSOpportunistic),
	}
	if d, ok := ctx.Deadline(); ok {
		opts = append(opts, gomail.WithTimeout(max(time.Until(d), time.Millisecond)))
	}
	if c.implicit {
		opts = append(opts, gomail.WithSSL())
	}
	client, err := gomail.NewClient(c.cfg.Host, opts...)
	if err != nil {
		return c.fail(ErrUnreachable, err, "check alm.yaml spec.notify.email")
	}
	sc, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return c.dialError(ctx, err)
	}
	// QUIT after an accepted DATA changes nothing: the message went out.
	defer func() { _ = client.CloseWithSMTPClient(sc) }()
	if st, terr := sc.GetTLSConnectionState(); terr != nil || !st.HandshakeComplete {
		hint := "enable STARTTLS on the server, or set spec.notify.email.tls to implicit (port 465) if it speaks TLS from the start"
		return c.fail(ErrNoTLS, errors.New("the connection is not encrypted and alm never sends mail in plain text"), hint)
	}
	if c.cfg.Username != "" {
		if err := sc.Auth(smtp.PlainAuth("", c.cfg.Username, c.password, c.cfg.Host, false)); err != nil {
			if ctx.Err() != nil {
				return c.fail(ErrUnreachable, ctx.Err(), "the server did not answer in time; it is retried on the next run")
			}
			where := "the password"
			if c.cfg.PasswordEnv != "" {
				where = "the password in $" + c.cfg.PasswordEnv
			}
			return c.fail(ErrAuth, err, fmt.Sprintf("check spec.notify.email.username %q and %s", c.cfg.Username, where))
		}
	}
	if err := client.SendWithSMTPClient(sc, msg); err != nil {
		if ctx.Err() != nil {
			return c.fail(ErrUnreachable, ctx.Err(), "the server did not answer in time; it is retried on the next run")
		}
		return c.fail(ErrRejected, err, "read the server's answer; the message is retried on the next run")
	}
	return nil
}

// dialer dials plain TCP or TLS and ties the connection to ctx: go-mail
// bounds only the dial by ctx, so a cancelled run closes the connection
// to end a conversation in progress.
func (c *Channel) dialer(ctx context.Context) gomail.DialContextFunc {
	return func(dctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		var conn net.Conn
		var err error
		if c.implicit {
			conn, err = (&tls.Dialer{NetDialer: &d, Config: c.tls}).DialContext(dctx, network, addr)
		} else {
			conn, err = d.DialContext(dctx, network, addr)
		}
		if err != nil {
			return nil, err
		}
		context.AfterFunc(ctx, func() { _ = conn.Close() })
		return conn, nil
	}
}

func (c *Channel) dialError(ctx context.Context, err error) error {
	var (
		verr  *tls.CertificateVerificationError
		rerr  tls.RecordHeaderError
		aerr  tls.AlertError
		herr  x509.HostnameError
		uaerr x509.UnknownAuthorityError
		terr  *textproto.Error
	)
	switch {
	case errors.As(err, &verr), errors.As(err, &herr), errors.As(err, &uaerr):
		return c.fail(ErrTLS, err, "the server's certificate is not trusted: set spec.notify.email.caFile to the CA that signed it, or fix the host name")
	case errors.As(err, &rerr):
		return c.fail(ErrTLS, err, "the server does not speak TLS on this port: for port 587 set spec.notify.email.tls to starttls")
	case errors.As(err, &aerr):
		return c.fail(ErrTLS, err, "the server refused the TLS handshake: check its TLS configuration")
	case ctx.Err() != nil:
		return c.fail(ErrUnreachable, ctx.Err(), "the server did not answer in time; it is retried on the next run")
	case errors.As(err, &terr):
		return c.fail(ErrRejected, err, "the server refused the conversation; read its answer")
	}
	return c.fail(ErrUnreachable, err, "check spec.notify.email.host and port and that the server runs; the message is retried on the next run")
}

func (c *Channel) fail(kind, err error, hint string) error {
	return &Error{Server: c.Server(), Kind: kind, Err: err, Hint: hint}
}
