// Package adtest connects tests to the throw-away Samba AD DC that
// scripts/ad/start.sh runs, and gives each test its own OU.
//
// Tests find the DC through ALM_TEST_AD_ENV, the ad.env file start.sh
// writes. Without it they skip, unless ALM_TEST_AD_REQUIRED=1 (make test),
// where a missing directory is a failure rather than a silent pass.
//
// alm binds as a delegated account (Env.BindDN, Env.Password) holding
// only the rights docs/permissions.md lists, on OU=alm-tests and on the
// OUs Root gives out; the test's own fixtures (Conn, OU, Root) use the
// domain's administrator (Env.AdminDN). ALM_TEST_AD_BIND=admin makes
// alm bind as the administrator too.
package adtest

import (
	"bufio"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// Environment variables read by New.
const (
	EnvFile     = "ALM_TEST_AD_ENV"
	EnvRequired = "ALM_TEST_AD_REQUIRED"
	// EnvBind says whom alm binds as: "delegated" (the default) or "admin".
	EnvBind = "ALM_TEST_AD_BIND"
)

// Env is one running directory, as described by ad.env.
type Env struct {
	URL        string // ldaps://127.0.0.1:636
	CAFile     string // PEM of the CA that signed the server's certificate
	ServerName string // name to verify the certificate against
	// BindDN and Password are the account alm binds as: the delegated
	// one unless ALM_TEST_AD_BIND=admin.
	BindDN   string
	Password string
	// AdminDN and AdminPassword are the domain's administrator, whom
	// Conn, OU and Root bind as to make and check what alm works on.
	AdminDN       string
	AdminPassword string
	Delegated     bool   // BindDN is the delegated account
	BaseDN        string // DC=example,DC=test
	Domain        string // DNS domain: example.test
	path          string // the ad.env file
}

// New returns the directory named by ALM_TEST_AD_ENV, skipping the test when
// that is unset (failing instead when ALM_TEST_AD_REQUIRED=1).
func New(t testing.TB) *Env {
	t.Helper()
	path := os.Getenv(EnvFile)
	if path == "" {
		if os.Getenv(EnvRequired) == "1" {
			t.Fatalf("%s is not set but %s=1: start a directory with scripts/ad/start.sh DIR and set %s=DIR/ad.env", EnvFile, EnvRequired, EnvFile)
		}
		t.Skipf("needs Samba AD: run scripts/ad/start.sh DIR and set %s=DIR/ad.env (or run make test)", EnvFile)
	}
	env, err := Load(path)
	if err != nil {
		t.Fatalf("%s: %v", EnvFile, err)
	}
	switch mode := os.Getenv(EnvBind); mode {
	case "", "delegated":
		dn, pw, err := env.delegated()
		if err != nil {
			t.Fatalf("set up the delegated bind account: %v", err)
		}
		env.BindDN, env.Password, env.Delegated = dn, pw, true
	case "admin":
	default:
		t.Fatalf("%s=%q: want delegated or admin", EnvBind, mode)
	}
	return env
}

// Load reads an ad.env file: sh-sourceable KEY='value' lines.
func Load(path string) (*Env, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	vars, err := parse(f.Name(), bufio.NewScanner(f))
	if err != nil {
		return nil, err
	}
	env := &Env{
		URL:           vars["AD_LDAPS_URL"],
		CAFile:        vars["AD_CA_CERT"],
		ServerName:    vars["AD_TLS_SERVER_NAME"],
		BindDN:        vars["AD_BIND_DN"],
		Password:      vars["AD_BIND_PASSWORD"],
		AdminDN:       vars["AD_BIND_DN"],
		AdminPassword: vars["AD_BIND_PASSWORD"],
		BaseDN:        vars["AD_BASE_DN"],
		Domain:        vars["AD_DOMAIN"],
		path:          path,
	}
	for key, v := range map[string]string{
		"AD_LDAPS_URL": env.URL, "AD_CA_CERT": env.CAFile, "AD_BIND_DN": env.BindDN,
		"AD_BIND_PASSWORD": env.Password, "AD_BASE_DN": env.BaseDN,
	} {
		if v == "" {
			return nil, fmt.Errorf("%s: %s is missing: rerun scripts/ad/start.sh", path, key)
		}
	}
	return env, nil
}

// parse reads KEY='value' lines as start.sh writes them; a single quote
// inside a value ends the quoting, is escaped and reopens it, as in sh.
func parse(name string, sc *bufio.Scanner) (map[string]string, error) {
	vars := map[string]string{}
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, quoted, ok := strings.Cut(line, "=")
		if !ok || len(quoted) < 2 || quoted[0] != '\'' || quoted[len(quoted)-1] != '\'' {
			return nil, fmt.Errorf("%s:%d: want KEY='value'", name, n)
		}
		vars[key] = strings.ReplaceAll(quoted[1:len(quoted)-1], `'\''`, `'`)
	}
	return vars, sc.Err()
}

// TLSConfig verifies the server against the environment's CA.
func (e *Env) TLSConfig() (*tls.Config, error) {
	pem, err := os.ReadFile(e.CAFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: no PEM certificate", e.CAFile)
	}
	return &tls.Config{RootCAs: pool, ServerName: e.ServerName, MinVersion: tls.VersionTLS12}, nil
}

// Conn returns a connection bound as the administrator, closed when the
// test ends. It is for checking the directory behind the code under test.
func (e *Env) Conn(t testing.TB) *ldap.Conn {
	t.Helper()
	c, err := e.dial()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func (e *Env) dial() (*ldap.Conn, error) {
	tc, err := e.TLSConfig()
	if err != nil {
		return nil, err
	}
	c, err := ldap.DialURL(e.URL, ldap.DialWithTLSConfig(tc))
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", e.URL, err)
	}
	c.SetTimeout(30 * time.Second)
	if err := c.Bind(e.AdminDN, e.AdminPassword); err != nil {
		c.Close()
		return nil, fmt.Errorf("bind %s: %w", e.AdminDN, err)
	}
	return c, nil
}

// Parent is the OU under which every test OU is created.
func (e *Env) Parent() string { return "OU=alm-tests," + e.BaseDN }

// OU creates an empty OU for this test alone and deletes it, with everything
// in it, when the test ends. It returns the OU's DN.
func (e *Env) OU(t testing.TB) string {
	t.Helper()
	c, err := e.dial()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Packages run in parallel: whoever comes second finds the parent there.
	if err := addOU(c, e.Parent()); err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultEntryAlreadyExists) {
		t.Fatalf("create %s: %v", e.Parent(), err)
	}
	dn := "OU=" + ldap.EscapeDN(name(t.Name())) + "," + e.Parent()
	if err := addOU(c, dn); err != nil {
		t.Fatalf("create %s: %v", dn, err)
	}
	t.Cleanup(func() {
		c, err := e.dial()
		if err != nil {
			t.Errorf("delete test OU %s: %v", dn, err)
			return
		}
		defer c.Close()
		del := ldap.NewDelRequest(dn, []ldap.Control{ldap.NewControlSubtreeDelete()})
		if err := c.Del(del); err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
			t.Errorf("delete test OU %s: %v", dn, err)
		}
	})
	return dn
}

// Root gives this test alone the OU rdn at the domain's root (e.g.
// "OU=ALM", where examples/acme lives), with nothing in it: it waits for
// any other test holding it - packages run in parallel - by a lock file,
// deletes whatever an earlier run left there, and deletes it again when the
// test ends. It returns the OU's DN. When alm binds as the administrator
// the OU is left for the test to create, or not; when alm binds as the
// delegated account, it is created empty with the delegation on it, as an
// administrator makes alm's root OU: the delegated account may not create
// objects at the domain's root (docs/permissions.md).
func (e *Env) Root(t testing.TB, rdn string) string {
	t.Helper()
	dn := rdn + "," + e.BaseDN
	lock, err := os.OpenFile(filepath.Join(os.TempDir(), "alm-adtest-"+strings.ToLower(strings.NewReplacer("=", "-", ",", "-").Replace(dn))+".lock"),
		os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatalf("lock %s: %v", dn, err)
	}
	clear := func() {
		c, err := e.dial()
		if err != nil {
			t.Errorf("clear %s: %v", dn, err)
			return
		}
		defer c.Close()
		del := ldap.NewDelRequest(dn, []ldap.Control{ldap.NewControlSubtreeDelete()})
		if err := c.Del(del); err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
			t.Errorf("clear %s: %v", dn, err)
		}
	}
	t.Cleanup(func() {
		clear()
		lock.Close() // releases the lock
	})
	clear()
	if e.Delegated {
		c, err := e.dial()
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := addOU(c, dn); err != nil {
			t.Fatalf("create %s: %v", dn, err)
		}
		e.Delegate(t, dn)
	}
	return dn
}

func addOU(c *ldap.Conn, dn string) error {
	parsed, err := ldap.ParseDN(dn)
	if err != nil || len(parsed.RDNs) == 0 {
		return errors.Join(fmt.Errorf("parse %q", dn), err)
	}
	add := ldap.NewAddRequest(dn, nil)
	add.Attribute("objectClass", []string{"top", "organizationalUnit"})
	add.Attribute("ou", []string{parsed.RDNs[0].Attributes[0].Value})
	return c.Add(add)
}

// Unique returns prefix and 8 random hex digits: a sAMAccountName no other
// test (nor an earlier run's deleted object) uses. Keep prefix within 11
// characters: AD allows 20.
func Unique(prefix string) string {
	random := make([]byte, 4)
	rand.Read(random)
	return prefix + hex.EncodeToString(random)
}

// name makes an OU name from a test name: t-<name>-<random>, at most 64
// characters (AD's limit for ou), readable in the directory when a test
// leaves something behind.
func name(test string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(test) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	s := b.String()
	if len(s) > 40 {
		s = s[:40]
	}
	random := make([]byte, 4)
	rand.Read(random)
	return "t-" + s + "-" + hex.EncodeToString(random)
}
