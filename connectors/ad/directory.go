package ad

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/alm-project/alm/reconciler/directory"
)

// Redial bounds how a Directory dials again after losing its connection:
// Attempts dials, waiting Backoff before the second and twice as long
// before each one after. When none binds, the request fails with
// directory.ErrUnreachable and the run stops instead of trying every
// change against a dead server.
type Redial struct {
	Attempts int
	Backoff  time.Duration
}

// DefaultRedial is used when Config.Redial is zero: about 3.5 s of trying.
var DefaultRedial = Redial{Attempts: 3, Backoff: 500 * time.Millisecond}

// Directory is a connection to one domain controller, bound as the
// configured account. Every request has a timeout; a connection lost or
// stalled is closed and dialled again by the next request (see Redial). A
// request whose ctx ends is abandoned by closing the connection under it.
// Safe for use by one goroutine at a time.
type Directory struct {
	cfg     Config
	url     *url.URL
	tls     *tls.Config
	host    string // host:port
	timeout time.Duration
	redial  Redial
	log     *slog.Logger
	marker  string // attribute holding the ownership marker
	// rangeStep, when set, asks for multi-valued attributes this many values
	// at a time, as AD does by itself above 1500: tests use it to exercise
	// ranged retrieval on small groups.
	rangeStep int

	mu   sync.Mutex
	conn *ldap.Conn // nil until dialled, and after it is dropped
	// refused is why dialling again cannot work (a refused bind, an
	// untrusted certificate, a name that does not resolve): later
	// requests fail with it at once instead of binding again, which could
	// lock the bind account out.
	refused error
}

// Dial connects over LDAPS (or ldap:// with StartTLS), verifies the server
// against cfg.CAFile and binds as cfg.BindDN, once: a server that cannot be
// reached or refuses the bind is an error at once. A nil logger logs nothing.
func Dial(ctx context.Context, cfg Config, logger *slog.Logger) (*Directory, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	u, err := cfg.check()
	if err != nil {
		return nil, err
	}
	tc, err := tlsConfig(cfg, u.Hostname())
	if err != nil {
		return nil, &ConfigError{Err: err}
	}
	d := &Directory{cfg: cfg, url: u, tls: tc, log: logger, marker: cfg.MarkerAttribute,
		timeout: cfg.Timeout, redial: cfg.Redial}
	if d.timeout <= 0 {
		d.timeout = DefaultTimeout
	}
	if d.redial.Attempts <= 0 {
		d.redial = DefaultRedial
	}
	if d.marker == "" {
		d.marker = DefaultMarkerAttribute
	}
	d.host = u.Host
	if u.Port() == "" {
		port := "636"
		if u.Scheme == "ldap" {
			port = "389"
		}
		d.host = net.JoinHostPort(u.Hostname(), port)
	}
	conn, err := d.dial(ctx)
	if err != nil {
		return nil, err
	}
	d.conn = conn
	return d, nil
}

// dial makes and binds one connection.
func (d *Directory) dial(ctx context.Context) (*ldap.Conn, error) {
	dialer := &net.Dialer{Timeout: d.timeout}
	raw, err := dialer.DialContext(ctx, "tcp", d.host)
	if err != nil {
		return nil, dialError(d.cfg.URL, d.host, err)
	}
	if d.url.Scheme == "ldaps" {
		tconn := tls.Client(raw, d.tls)
		hctx, cancel := context.WithTimeout(ctx, d.timeout)
		err := tconn.HandshakeContext(hctx)
		cancel()
		if err != nil {
			raw.Close()
			return nil, dialError(d.cfg.URL, d.host, err)
		}
		raw = tconn
	}
	conn := ldap.NewConn(raw, d.url.Scheme == "ldaps")
	conn.Start()
	conn.SetTimeout(d.timeout)
	if d.cfg.StartTLS {
		if err := run(ctx, conn, opBind, d.cfg.URL, "", func() error { return conn.StartTLS(d.tls) }); err != nil {
			conn.Close()
			return nil, err
		}
	}
	if err := run(ctx, conn, opBind, d.cfg.BindDN, "", func() error { return conn.Bind(d.cfg.BindDN, d.cfg.Password) }); err != nil {
		conn.Close()
		return nil, err
	}
	d.log.Debug("bound to directory", "url", shownURL(d.cfg.URL), "bindDN", d.cfg.BindDN, "tls", d.url.Scheme == "ldaps" || d.cfg.StartTLS)
	return conn, nil
}

func tlsConfig(cfg Config, host string) (*tls.Config, error) {
	tc := &tls.Config{ServerName: cfg.ServerName, MinVersion: tls.VersionTLS12}
	if tc.ServerName == "" {
		tc.ServerName = host
	}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s holds no PEM certificate", cfg.CAFile)
		}
		tc.RootCAs = pool
	}
	return tc, nil
}

// Close closes the connection. A later request dials again.
func (d *Directory) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn == nil {
		return nil
	}
	err := d.conn.Close()
	d.conn = nil
	return err
}

// connection returns the live connection, dialling again when it was
// dropped: up to d.redial.Attempts times, with backoff, while dialling
// fails in a way that may pass (ErrUnavailable). A server that refuses the
// bind, a name that does not resolve or a certificate that is not trusted
// fails at once, and every later request with it.
func (d *Directory) connection(ctx context.Context) (*ldap.Conn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn != nil && !d.conn.IsClosing() {
		return d.conn, nil
	}
	if d.refused != nil {
		return nil, d.refused
	}
	d.conn = nil
	wait := d.redial.Backoff
	var last error
	for attempt := 1; attempt <= d.redial.Attempts; attempt++ {
		if attempt > 1 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, fmt.Errorf("dial %s: %w", shownURL(d.cfg.URL), ctx.Err())
			case <-t.C:
			}
			wait *= 2
		}
		conn, err := d.dial(ctx)
		if err == nil {
			d.log.Info("dialled the directory again", "url", shownURL(d.cfg.URL), "attempt", attempt)
			d.conn = conn
			return conn, nil
		}
		last = err
		d.log.Warn("dial failed", "url", shownURL(d.cfg.URL), "attempt", attempt, "error", err)
		if !errors.Is(err, directory.ErrUnavailable) {
			if ctx.Err() == nil {
				d.refused = err
			}
			return nil, err
		}
	}
	return nil, &directory.Error{Op: opBind, DN: shownURL(d.cfg.URL), Class: directory.ErrUnreachable,
		Detail: fmt.Sprintf("the connection was lost and %d dials failed; the last: %v", d.redial.Attempts, last),
		Hint:   "the directory is down or unreachable from here: the changes not yet made are reported as not attempted; run again when it answers"}
}

// drop closes a connection that failed under a request, so the next
// request dials afresh rather than waiting on a dead one.
func (d *Directory) drop(conn *ldap.Conn) {
	d.mu.Lock()
	defer d.mu.Unlock()
	conn.Close()
	if d.conn == conn {
		d.conn = nil
	}
}

// do runs one request on the connection and translates its error. When
// ctx ends while the request runs, the connection is closed under it; a
// connection that failed or timed out is dropped for the next request to
// dial again.
func (d *Directory) do(ctx context.Context, op, dn, attr string, f func(*ldap.Conn) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s %s: %w", op, dn, err)
	}
	conn, err := d.connection(ctx)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	err = f(conn)
	if !stop() {
		d.drop(conn)
		return fmt.Errorf("%s %s: %w (connection closed)", op, dn, ctx.Err())
	}
	if lost(err) {
		d.drop(conn)
	}
	return translateAs(d.cfg.BindDN, op, dn, attr, err)
}

// run runs f on a connection being set up, closing it if ctx ends first.
func run(ctx context.Context, conn *ldap.Conn, op, dn, attr string, f func() error) error {
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	err := f()
	if !stop() {
		return fmt.Errorf("%s %s: %w (connection closed)", op, dn, ctx.Err())
	}
	return translate(op, dn, attr, err)
}

// lost reports whether a request's error means the connection is gone or
// stalled (go-ldap says ErrorNetwork for a closed connection and for a
// request that timed out): it is dropped, and the next request dials again.
func lost(err error) bool {
	if err == nil {
		return false
	}
	var le *ldap.Error
	if !errors.As(err, &le) {
		return true // not the server's answer: the transport failed
	}
	return le.ResultCode == ldap.ErrorNetwork || le.ResultCode == ldap.LDAPResultServerDown ||
		le.ResultCode == ldap.LDAPResultTimeout || le.ResultCode == ldap.LDAPResultConnectError
}
