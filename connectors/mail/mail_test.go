package mail

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	netmail "net/mail"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/notify"
)

const (
	user     = "alm"
	password = "s3cret-smtp"
)

// pki is a test CA and a server certificate it signed for 127.0.0.1.
type pki struct {
	caFile string
	server tls.Certificate
}

func newPKI(t *testing.T) pki {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "alm test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return pki{caFile: caFile, server: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}}
}

// delivery is one message the server accepted.
type delivery struct {
	from string
	rcpt []string
	data []byte
}

// backend is an SMTP server's mailbox: it checks AUTH PLAIN against one
// user and password and keeps what it was given.
type backend struct {
	mu        sync.Mutex
	sessions  int
	authTries int // AUTH attempts: a credential reached the server
	delivered []delivery
}

func (b *backend) NewSession(*smtp.Conn) (smtp.Session, error) {
	b.mu.Lock()
	b.sessions++
	b.mu.Unlock()
	return &session{b: b}, nil
}

type session struct {
	b      *backend
	authed bool
	cur    delivery
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, u, p string) error {
		s.b.mu.Lock()
		s.b.authTries++
		s.b.mu.Unlock()
		if u != user || p != password {
			return smtp.ErrAuthFailed
		}
		s.authed = true
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if !s.authed {
		return smtp.ErrAuthRequired
	}
	s.cur = delivery{from: from}
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.cur.rcpt = append(s.cur.rcpt, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.data = b
	s.b.mu.Lock()
	s.b.delivered = append(s.b.delivered, s.cur)
	s.b.mu.Unlock()
	return nil
}

func (s *session) Reset()        { s.cur = delivery{} }
func (s *session) Logout() error { return nil }

func (b *backend) snapshot() (sessions, authTries int, delivered []delivery) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sessions, b.authTries, slices.Clone(b.delivered)
}

// Server kinds.
const (
	serveStartTLS = "starttls"
	serveImplicit = "implicit"
	servePlain    = "plain" // no TLS at all, AUTH offered in clear
)

// serve starts an SMTP server of kind on 127.0.0.1 and returns its port.
func serve(t *testing.T, p pki, kind string, b *backend) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := smtp.NewServer(b)
	s.Domain = "mx.test"
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	s.ErrorLog = testLogger{t}
	tc := &tls.Config{Certificates: []tls.Certificate{p.server}}
	switch kind {
	case serveStartTLS:
		s.TLSConfig = tc
	case serveImplicit:
		l = tls.NewListener(l, tc)
	case servePlain:
		// A server that would take a password in clear: the client must
		// not give it one.
		s.AllowInsecureAuth = true
	}
	go func() { _ = s.Serve(l) }()
	t.Cleanup(func() { _ = s.Close() })
	return l.Addr().(*net.TCPAddr).Port
}

type testLogger struct{ t *testing.T }

func (l testLogger) Printf(f string, v ...any) { l.t.Logf("smtp server: "+f, v...) }
func (l testLogger) Println(v ...any)          { l.t.Log(append([]any{"smtp server:"}, v...)...) }

func message() notify.Message {
	return notify.Message{
		ID:      "notice/svc-web/beol-30d/2026-07-01",
		Kind:    notify.KindNotice,
		Subject: "svc-web läuft am 2026-07-01 ab",
		Text:    "The service account svc-web expires on 2026-07-01.\nRenew it: open a pull request that moves spec.expires.\n",
		Account: "svc-web",
		To: []notify.Recipient{
			{Login: "jdoe", Name: "Jane Doe", Email: "jane.doe@example.com", Role: "owner"},
			{Login: "kfox", Name: "Kim Fox", Email: "kim.fox@example.com", Role: "custodian"},
			{Login: "nomail", Name: "No Mail", GitHub: "nomail", Role: "custodian"},
			{Login: "jdoe", Name: "Jane Doe", Email: "Jane.Doe@example.com", Role: "manager"}, // same person twice
		},
	}
}

func TestSend(t *testing.T) {
	p := newPKI(t)
	armored := []byte("-----BEGIN AGE ENCRYPTED FILE-----\nYWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBz\n-----END AGE ENCRYPTED FILE-----\n")
	withAttachment := message()
	withAttachment.Kind = notify.KindCredentials
	withAttachment.Attachments = []notify.Attachment{
		{Name: "svc-web.password.age", Type: "application/x-age-armored", Content: armored},
		{Name: "readme.bin", Content: []byte{0, 1, 2, 0xff}},
	}
	closedPort := func(t *testing.T) int {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		_ = l.Close()
		return port
	}
	cases := []struct {
		name      string
		server    string // "" : nothing listening
		tls       string
		noCA      bool
		password  string
		msg       notify.Message
		wantErr   error
		wantAuths int
		wantMail  bool
	}{
		{name: "starttls", server: serveStartTLS, tls: model.TLSStartTLS, password: password, msg: message(), wantAuths: 1, wantMail: true},
		{name: "implicit TLS", server: serveImplicit, tls: model.TLSImplicit, password: password, msg: message(), wantAuths: 1, wantMail: true},
		{name: "attachments", server: serveStartTLS, password: password, msg: withAttachment, wantAuths: 1, wantMail: true},
		{name: "wrong password", server: serveStartTLS, password: "wrong", msg: message(), wantErr: ErrAuth, wantAuths: 1},
		{name: "no STARTTLS offered", server: servePlain, password: password, msg: message(), wantErr: ErrNoTLS},
		{name: "untrusted certificate", server: serveStartTLS, noCA: true, password: password, msg: message(), wantErr: ErrTLS},
		{name: "implicit client, starttls server", server: serveStartTLS, tls: model.TLSImplicit, password: password, msg: message(), wantErr: ErrTLS},
		{name: "nothing listening", password: password, msg: message(), wantErr: ErrUnreachable},
		{name: "nobody has an address", server: serveStartTLS, password: password, wantErr: ErrNoAddress,
			msg: notify.Message{ID: "x", Subject: "s", Text: "t", To: []notify.Recipient{{Login: "nomail", GitHub: "nomail"}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := &backend{}
			var port int
			if tc.server == "" {
				port = closedPort(t)
			} else {
				port = serve(t, p, tc.server, b)
			}
			cfg := model.EmailChannel{Host: "127.0.0.1", Port: port, TLS: tc.tls, From: "alm@example.com",
				Username: user, PasswordEnv: "ALM_SMTP_PASSWORD", CAFile: p.caFile}
			if tc.noCA {
				cfg.CAFile = ""
			}
			ch, err := New(cfg, tc.password, WithTimeout(10*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			err = ch.Send(context.Background(), tc.msg)
			if tc.wantErr == nil && err != nil {
				t.Fatalf("Send: %v", err)
			}
			if tc.wantErr != nil {
				t.Logf("error: %v", err)
				var me *Error
				if !errors.Is(err, tc.wantErr) || !errors.As(err, &me) {
					t.Fatalf("Send = %v, want %v", err, tc.wantErr)
				}
				if want := "127.0.0.1:" + strconv.Itoa(port); me.Server != want || !strings.Contains(err.Error(), want) {
					t.Errorf("error names server %q, want %q: %v", me.Server, want, err)
				}
				if strings.Contains(err.Error(), tc.password) {
					t.Errorf("error carries the password: %v", err)
				}
			}
			sessions, auths, delivered := b.snapshot()
			if auths != tc.wantAuths {
				t.Errorf("AUTH attempts = %d, want %d", auths, tc.wantAuths)
			}
			if !tc.wantMail {
				if len(delivered) != 0 {
					t.Errorf("delivered %d messages, want none", len(delivered))
				}
				if len(Addresses(tc.msg)) == 0 && sessions != 0 {
					t.Errorf("a message for nobody opened %d SMTP sessions", sessions)
				}
				return
			}
			if len(delivered) != 1 {
				t.Fatalf("delivered %d messages, want 1", len(delivered))
			}
			checkDelivery(t, delivered[0], tc.msg)
		})
	}
}

// checkDelivery parses what the server received as a mail reader would.
func checkDelivery(t *testing.T, d delivery, m notify.Message) {
	t.Helper()
	wantTo := []string{"jane.doe@example.com", "kim.fox@example.com"}
	if d.from != "alm@example.com" || !slices.Equal(d.rcpt, wantTo) {
		t.Errorf("envelope from %q to %q, want alm@example.com to %q", d.from, d.rcpt, wantTo)
	}
	pm, err := netmail.ReadMessage(bytes.NewReader(d.data))
	if err != nil {
		t.Fatal(err)
	}
	to, err := pm.Header.AddressList("To")
	if err != nil {
		t.Fatal(err)
	}
	var gotTo []string
	for _, a := range to {
		gotTo = append(gotTo, a.Address)
	}
	if !slices.Equal(gotTo, wantTo) {
		t.Errorf("To: %q, want %q", gotTo, wantTo)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(pm.Header.Get("Subject"))
	if err != nil || subject != m.Subject {
		t.Errorf("Subject %q (%v), want %q", subject, err, m.Subject)
	}
	if got := pm.Header.Get("X-Alm-Message-Id"); got != m.ID {
		t.Errorf("X-Alm-Message-Id %q, want %q", got, m.ID)
	}
	if got := pm.Header.Get("Message-Id"); !strings.HasSuffix(got, "@example.com>") {
		t.Errorf("Message-Id %q, want one at the sender's domain", got)
	}
	if _, err := pm.Header.Date(); err != nil {
		t.Errorf("Date: %v", err)
	}
	body, files := parts(t, pm.Header.Get("Content-Type"), pm.Header.Get("Content-Transfer-Encoding"), pm.Body)
	if strings.ReplaceAll(body, "\r\n", "\n") != m.Text {
		t.Errorf("body %q, want %q", body, m.Text)
	}
	if len(files) != len(m.Attachments) {
		t.Fatalf("%d attachments, want %d", len(files), len(m.Attachments))
	}
	for _, a := range m.Attachments {
		f, ok := files[a.Name]
		if !ok {
			t.Errorf("attachment %s missing: %v", a.Name, files)
			continue
		}
		wantType := a.Type
		if wantType == "" {
			wantType = "application/octet-stream"
		}
		if f.typ != wantType || !bytes.Equal(f.content, a.Content) {
			t.Errorf("attachment %s: %s %q, want %s %q", a.Name, f.typ, f.content, wantType, a.Content)
		}
	}
}

type file struct {
	typ     string
	content []byte
}

// parts returns the text/plain body and the attachments by name.
func parts(t *testing.T, contentType, cte string, r io.Reader) (string, map[string]file) {
	t.Helper()
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]file{}
	if !strings.HasPrefix(mt, "multipart/") {
		if mt != "text/plain" || !strings.EqualFold(params["charset"], "UTF-8") {
			t.Errorf("body is %s charset %s, want text/plain UTF-8", mt, params["charset"])
		}
		return string(decode(t, cte, r)), files
	}
	var body string
	mr := multipart.NewReader(r, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return body, files
		}
		if err != nil {
			t.Fatal(err)
		}
		// NextPart decodes quoted-printable itself and drops the header.
		cte := part.Header.Get("Content-Transfer-Encoding")
		if name := part.FileName(); name != "" {
			typ, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
			files[name] = file{typ: typ, content: decode(t, cte, part)}
			continue
		}
		b, f := parts(t, part.Header.Get("Content-Type"), cte, part)
		body += b
		for k, v := range f {
			files[k] = v
		}
	}
}

func decode(t *testing.T, cte string, r io.Reader) []byte {
	t.Helper()
	if strings.EqualFold(cte, "base64") {
		r = base64.NewDecoder(base64.StdEncoding, r)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A server that accepts the connection and never greets holds the send
// only as long as ctx allows.
func TestSendEndsWithContext(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { _ = c.Close() })
		}
	}()
	ch, err := New(model.EmailChannel{Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, From: "alm@example.com"}, "")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = ch.Send(ctx, message())
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("Send = %v, want ErrUnreachable", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Send took %s after a 300ms deadline", d)
	}
}

func TestNew(t *testing.T) {
	p := newPKI(t)
	notPEM := filepath.Join(t.TempDir(), "ca.txt")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	ok := model.EmailChannel{Host: "smtp.example.com", From: "alm@example.com"}
	cases := []struct {
		name     string
		edit     func(*model.EmailChannel)
		password string
		wantErr  string // "" : no error
		wantPort int
	}{
		{name: "starttls default port", edit: func(*model.EmailChannel) {}, wantPort: 587},
		{name: "implicit default port", edit: func(c *model.EmailChannel) { c.TLS = model.TLSImplicit }, wantPort: 465},
		{name: "port given", edit: func(c *model.EmailChannel) { c.Port = 2525 }, wantPort: 2525},
		{name: "CA file", edit: func(c *model.EmailChannel) { c.CAFile = p.caFile }, wantPort: 587},
		{name: "no host", edit: func(c *model.EmailChannel) { c.Host = "" }, wantErr: "spec.notify.email.host"},
		{name: "bad from", edit: func(c *model.EmailChannel) { c.From = "alm" }, wantErr: "spec.notify.email.from"},
		{name: "plain text refused", edit: func(c *model.EmailChannel) { c.TLS = "none" }, wantErr: "never sends mail in plain text"},
		{name: "username without password", edit: func(c *model.EmailChannel) { c.Username, c.PasswordEnv = "alm", "ALM_SMTP_PASSWORD" }, wantErr: "export ALM_SMTP_PASSWORD"},
		{name: "username without passwordEnv", edit: func(c *model.EmailChannel) { c.Username = "alm" }, wantErr: "passwordEnv"},
		{name: "CA file missing", edit: func(c *model.EmailChannel) { c.CAFile = filepath.Join(t.TempDir(), "nope.pem") }, wantErr: "spec.notify.email.caFile"},
		{name: "CA file not PEM", edit: func(c *model.EmailChannel) { c.CAFile = notPEM }, wantErr: "no PEM certificate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := ok
			tc.edit(&cfg)
			ch, err := New(cfg, tc.password)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("New = %v, want an error with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ch.Name() != "email" || ch.Server() != "smtp.example.com:"+strconv.Itoa(tc.wantPort) {
				t.Errorf("Name %q Server %q, want email on port %d", ch.Name(), ch.Server(), tc.wantPort)
			}
		})
	}
}
