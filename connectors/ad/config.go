package ad

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"
)

// Environment variables ConfigFromEnv reads: credentials never come from
// flags or files in the access repository.
const (
	EnvBindDN           = "ALM_BIND_DN"
	EnvBindPassword     = "ALM_BIND_PASSWORD"
	EnvBindPasswordFile = "ALM_BIND_PASSWORD_FILE"
)

// DefaultMarkerAttribute holds alm's ownership marker when the directory
// settings name none: free for local use on every AD user and writable
// by anyone who may write the user.
const DefaultMarkerAttribute = "adminDescription"

// DefaultTimeout bounds one LDAP request when Config.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// Config says how to reach and bind to a domain controller.
type Config struct {
	URL        string // ldaps://dc1.example.com (or ldap:// with StartTLS)
	CAFile     string // PEM bundle to verify the server with; the system roots when empty
	ServerName string // name the certificate must carry; the URL's host when empty
	BindDN     string
	Password   string
	StartTLS   bool // upgrade an ldap:// connection before binding
	// AllowPlain permits ldap:// without StartTLS, which sends the password
	// in clear: for test directories only.
	AllowPlain bool
	Timeout    time.Duration // per request; DefaultTimeout when zero
	// Redial bounds dialling again after a lost connection; DefaultRedial when zero.
	Redial Redial
	// MarkerAttribute holds the ownership marker; DefaultMarkerAttribute when empty.
	MarkerAttribute string
	// NewPassword makes the password of a new account from its
	// sAMAccountName; nil draws a random one from crypto/rand, as alm
	// always does. Tests set it to learn a password they can bind with.
	NewPassword func(name string) (string, error)
}

// ConfigError is a setting that can never work (a URL with credentials,
// plain ldap:// without the opt-in, an unreadable CA file): nothing was
// sent to any server. The command line exits 3 for it.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// ConfigFromEnv returns a Config for url and caFile with the bind account
// from ALM_BIND_DN and ALM_BIND_PASSWORD or ALM_BIND_PASSWORD_FILE.
func ConfigFromEnv(url, caFile string) (Config, error) {
	cfg := Config{URL: url, CAFile: caFile}
	cfg.BindDN = os.Getenv(EnvBindDN)
	if cfg.BindDN == "" {
		return Config{}, fmt.Errorf("%s is not set: set it to the DN (or user@domain) of the account alm binds as", EnvBindDN)
	}
	pw := os.Getenv(EnvBindPassword)
	file := os.Getenv(EnvBindPasswordFile)
	switch {
	case pw != "" && file != "":
		return Config{}, fmt.Errorf("both %s and %s are set: set only one", EnvBindPassword, EnvBindPasswordFile)
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			// the path error names the file, never its contents
			return Config{}, fmt.Errorf("%s: %w", EnvBindPasswordFile, err)
		}
		pw = strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
		if pw == "" {
			return Config{}, fmt.Errorf("%s: %s is empty: write the bind account's password into it", EnvBindPasswordFile, file)
		}
	case pw == "":
		return Config{}, fmt.Errorf("neither %s nor %s is set: set one to the bind account's password (the file is safer: environments leak)", EnvBindPasswordFile, EnvBindPassword)
	}
	cfg.Password = pw
	return cfg, nil
}

// String leaves the password out, so a Config printed by mistake reveals none.
func (c Config) String() string {
	return fmt.Sprintf("ad.Config{URL: %q, BindDN: %q, Password: %s, CAFile: %q, StartTLS: %t}",
		shownURL(c.URL), c.BindDN, redacted(c.Password), c.CAFile, c.StartTLS)
}

// GoString leaves the password out of %#v too.
func (c Config) GoString() string { return c.String() }

// LogValue leaves the password out of logs.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("url", shownURL(c.URL)), slog.String("bindDN", c.BindDN),
		slog.String("caFile", c.CAFile), slog.Bool("startTLS", c.StartTLS))
}

func redacted(s string) string {
	if s == "" {
		return `""`
	}
	return "<redacted>"
}

// shownURL is the URL without any password written into it, for messages.
func shownURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(an unparsable URL)"
	}
	return u.Redacted()
}

// check refuses settings that would send the password in clear or cannot work.
func (c Config) check() (*url.URL, error) {
	u, err := c.checkURL()
	if err != nil {
		return nil, &ConfigError{Err: err}
	}
	return u, nil
}

func (c Config) checkURL() (*url.URL, error) {
	if c.URL == "" {
		return nil, errors.New("no directory URL: set the directory's url (ldaps://host)")
	}
	u, err := url.Parse(c.URL)
	if err != nil {
		// url's error quotes the text, which may hold credentials.
		return nil, errors.New("directory URL does not parse: want ldaps://host[:port]")
	}
	if u.User != nil {
		return nil, fmt.Errorf("directory URL %s holds credentials: remove them, and set %s and %s or %s instead", u.Redacted(), EnvBindDN, EnvBindPassword, EnvBindPasswordFile)
	}
	switch u.Scheme {
	case "ldaps":
		if c.StartTLS {
			return nil, fmt.Errorf("directory URL %s: StartTLS applies to ldap:// only; ldaps:// is already TLS", c.URL)
		}
	case "ldap":
		if !c.StartTLS && !c.AllowPlain {
			return nil, fmt.Errorf("directory URL %s would send the bind password unencrypted: use ldaps://, or StartTLS (--starttls), or allow it with --allow-plain-ldap (test directories only)", c.URL)
		}
	default:
		return nil, fmt.Errorf("directory URL %s: want ldaps:// or ldap://", c.URL)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("directory URL %s has no host", c.URL)
	}
	if c.BindDN == "" {
		return nil, fmt.Errorf("no bind DN: set %s", EnvBindDN)
	}
	if c.Password == "" {
		// AD takes a simple bind with an empty password as anonymous
		return nil, fmt.Errorf("no password for %s: set %s or %s", c.BindDN, EnvBindPasswordFile, EnvBindPassword)
	}
	return u, nil
}
