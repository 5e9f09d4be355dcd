package ad

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"os"

	"github.com/go-ldap/ldap/v3"
)

// Directory is a bound connection to one domain controller. go-ldap takes
// no context: when the ctx of a call ends while the call runs, the
// connection is closed under it, and the Directory is then spent.
type Directory struct {
	conn   *ldap.Conn
	log    *slog.Logger
	marker string // attribute holding the ownership marker
	// rangeStep, when set, asks for multi-valued attributes this many values
	// at a time, as AD does by itself above 1500: tests use it to exercise
	// ranged retrieval on small groups.
	rangeStep int
}

// Dial connects over LDAPS (or ldap:// with StartTLS), verifies the server
// against cfg.CAFile and binds as cfg.BindDN. A nil logger logs nothing.
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
		return nil, err
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	host := u.Host
	if u.Port() == "" {
		port := "636"
		if u.Scheme == "ldap" {
			port = "389"
		}
		host = net.JoinHostPort(u.Hostname(), port)
	}

	dialer := &net.Dialer{Timeout: timeout}
	raw, err := dialer.DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, translate(opBind, cfg.URL, "", err)
	}
	if u.Scheme == "ldaps" {
		tconn := tls.Client(raw, tc)
		hctx, cancel := context.WithTimeout(ctx, timeout)
		err := tconn.HandshakeContext(hctx)
		cancel()
		if err != nil {
			raw.Close()
			return nil, translate(opBind, cfg.URL, "", err)
		}
		raw = tconn
	}
	conn := ldap.NewConn(raw, u.Scheme == "ldaps")
	conn.Start()
	conn.SetTimeout(timeout)
	marker := cfg.MarkerAttribute
	if marker == "" {
		marker = DefaultMarkerAttribute
	}
	d := &Directory{conn: conn, log: logger, marker: marker}

	if cfg.StartTLS {
		err := d.do(ctx, opBind, cfg.URL, "", func() error { return conn.StartTLS(tc) })
		if err != nil {
			conn.Close()
			return nil, err
		}
	}
	err = d.do(ctx, opBind, cfg.BindDN, "", func() error { return conn.Bind(cfg.BindDN, cfg.Password) })
	if err != nil {
		conn.Close()
		return nil, err
	}
	logger.Debug("bound to directory", "url", cfg.URL, "bindDN", cfg.BindDN, "tls", u.Scheme == "ldaps" || cfg.StartTLS)
	return d, nil
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

// Close closes the connection.
func (d *Directory) Close() error {
	return d.conn.Close()
}

// do runs one LDAP request and translates its error, giving up when ctx
// ends by closing the connection (later requests fail as unavailable).
func (d *Directory) do(ctx context.Context, op, dn, attr string, f func() error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s %s: %w", op, dn, err)
	}
	stop := context.AfterFunc(ctx, func() { d.conn.Close() })
	err := f()
	if !stop() {
		return fmt.Errorf("%s %s: %w (connection closed)", op, dn, ctx.Err())
	}
	return translate(op, dn, attr, err)
}
