package ad

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// secret is a password no message may ever show.
const secret = "S3cret-Do-Not-Print!"

func TestConfigFromEnv(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	withNewline := write("pw-newline", secret+"\n")
	withCRLF := write("pw-crlf", secret+"\r\n")
	bare := write("pw", secret)
	empty := write("empty", "\n")

	tests := []struct {
		name            string
		dn, pw, pwFile  string
		wantPassword    string
		wantErrContains string
	}{
		{name: "password variable", dn: "CN=alm,DC=x", pw: secret, wantPassword: secret},
		{name: "password file with newline", dn: "CN=alm,DC=x", pwFile: withNewline, wantPassword: secret},
		{name: "password file with CRLF", dn: "CN=alm,DC=x", pwFile: withCRLF, wantPassword: secret},
		{name: "password file without newline", dn: "CN=alm,DC=x", pwFile: bare, wantPassword: secret},
		{name: "no bind DN", pw: secret, wantErrContains: EnvBindDN},
		{name: "no password", dn: "CN=alm,DC=x", wantErrContains: EnvBindPasswordFile},
		{name: "both", dn: "CN=alm,DC=x", pw: secret, pwFile: bare, wantErrContains: "only one"},
		{name: "missing file", dn: "CN=alm,DC=x", pwFile: filepath.Join(dir, "nope"), wantErrContains: EnvBindPasswordFile},
		{name: "empty file", dn: "CN=alm,DC=x", pwFile: empty, wantErrContains: "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvBindDN, tt.dn)
			t.Setenv(EnvBindPassword, tt.pw)
			t.Setenv(EnvBindPasswordFile, tt.pwFile)
			cfg, err := ConfigFromEnv("ldaps://dc1.example.test", "/ca.pem")
			if tt.wantErrContains != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErrContains) {
					t.Fatalf("err = %v, want one naming %q", err, tt.wantErrContains)
				}
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("error reveals the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Password != tt.wantPassword || cfg.BindDN != tt.dn || cfg.URL != "ldaps://dc1.example.test" || cfg.CAFile != "/ca.pem" {
				t.Errorf("got %v, want the DN, URL, CA file and password given", cfg)
			}
		})
	}
}

// TestPasswordNeverShown prints, logs and dials with configurations that
// carry a password, and looks for it in everything that comes out.
func TestPasswordNeverShown(t *testing.T) {
	base := Config{URL: "ldaps://127.0.0.1:1", BindDN: "CN=alm,DC=x", Password: secret, CAFile: "/nonexistent/ca.pem"}
	configs := map[string]Config{
		"plain ldap refused":     {URL: "ldap://dc1", BindDN: base.BindDN, Password: secret},
		"StartTLS on ldaps":      {URL: "ldaps://dc1", BindDN: base.BindDN, Password: secret, StartTLS: true},
		"bad scheme":             {URL: "http://dc1", BindDN: base.BindDN, Password: secret},
		"missing CA file":        base,
		"connection refused":     {URL: "ldaps://127.0.0.1:1", BindDN: base.BindDN, Password: secret},
		"plain, nothing listens": {URL: "ldap://127.0.0.1:1", BindDN: base.BindDN, Password: secret, AllowPlain: true},
		"no bind DN":             {URL: "ldaps://dc1", Password: secret},
		"credentials in the URL": {URL: "ldaps://alm:" + secret + "@dc1", BindDN: base.BindDN, Password: "other"},
	}
	for name, cfg := range configs {
		t.Run(name, func(t *testing.T) {
			var logs strings.Builder
			logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			logger.Info("config", "cfg", cfg)
			shown := []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%s", cfg), fmt.Sprintf("%#v", cfg), logs.String()}
			_, err := Dial(context.Background(), cfg, logger)
			if err == nil {
				t.Fatal("Dial succeeded, want an error")
			}
			shown = append(shown, err.Error(), logs.String())
			for _, s := range shown {
				if strings.Contains(s, secret) {
					t.Errorf("password shown: %s", s)
				}
			}
		})
	}
}

func TestPlainNeedsAllowPlain(t *testing.T) {
	_, err := Config{URL: "ldap://dc1", BindDN: "CN=alm", Password: secret}.check()
	if err == nil || !strings.Contains(err.Error(), "--allow-plain-ldap") || !strings.Contains(err.Error(), "ldaps://") {
		t.Errorf("check = %v, want a refusal saying how to allow it", err)
	}
	for _, cfg := range []Config{
		{URL: "ldap://dc1", BindDN: "CN=alm", Password: secret, StartTLS: true},
		{URL: "ldap://dc1", BindDN: "CN=alm", Password: secret, AllowPlain: true},
		{URL: "ldaps://dc1", BindDN: "CN=alm", Password: secret},
	} {
		if _, err := cfg.check(); err != nil {
			t.Errorf("check(%v) = %v, want nil", cfg, err)
		}
	}
}
