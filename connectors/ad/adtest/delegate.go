package adtest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"unicode/utf16"

	"github.com/go-ldap/ldap/v3"
)

// DelegatedName is the sAMAccountName of the account alm binds as in
// tests; it lives in OU=alm-tests, beside the test OUs.
const DelegatedName = "alm-delegated"

// delegatedOnce caches, per ad.env, the delegated account's DN and password
// for the life of the test binary.
var (
	delegatedMu    sync.Mutex
	delegatedCache = map[string][2]string{}
)

// DelegatedDN is the DN of the delegated account.
func (e *Env) DelegatedDN() string { return "CN=" + DelegatedName + "," + e.Parent() }

// delegated makes sure the delegated account exists, holds a password this
// process knows, and has the delegation on OU=alm-tests; it returns its
// DN and password. Test binaries run in parallel and bind as the account
// at any time, so its password is drawn once and kept in a file only the
// user running the tests may read (os.TempDir, mode 0600), shared under a
// lock; a password that no longer binds (a new DC) is drawn again. The
// password never reaches a log: errors name the file, not its contents.
func (e *Env) delegated() (dn, password string, err error) {
	delegatedMu.Lock()
	defer delegatedMu.Unlock()
	if c, ok := delegatedCache[e.path]; ok {
		return c[0], c[1], nil
	}
	key := sha256.Sum256([]byte(e.URL + "\n" + e.BaseDN + "\n" + e.path))
	stem := filepath.Join(os.TempDir(), "alm-adtest-delegated-"+hex.EncodeToString(key[:8]))
	lock, err := os.OpenFile(stem+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return "", "", err
	}
	defer lock.Close() // releases the lock
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", "", fmt.Errorf("lock %s: %w", lock.Name(), err)
	}

	dn = e.DelegatedDN()
	secret := stem + ".secret"
	if b, err := os.ReadFile(secret); err == nil && e.binds(dn, string(b)) {
		password = string(b)
	}
	c, err := e.dial()
	if err != nil {
		return "", "", err
	}
	defer c.Close()
	if err := addOU(c, e.Parent()); err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultEntryAlreadyExists) {
		return "", "", fmt.Errorf("create %s: %w", e.Parent(), err)
	}
	if password == "" {
		if password, err = e.resetDelegated(c, dn); err != nil {
			return "", "", err
		}
		tmp := secret + ".new"
		if err := os.WriteFile(tmp, []byte(password), 0o600); err != nil {
			return "", "", err
		}
		if err := os.Rename(tmp, secret); err != nil {
			return "", "", err
		}
	}
	sid, err := objectSID(c, dn)
	if err != nil {
		return "", "", err
	}
	if err := addACEs(c, e.Parent(), delegation(sid)); err != nil {
		return "", "", err
	}
	delegatedCache[e.path] = [2]string{dn, password}
	return dn, password, nil
}

// resetDelegated creates the delegated account, or gives it a new
// password, as the administrator: an ordinary enabled user, in no group.
func (e *Env) resetDelegated(c *ldap.Conn, dn string) (string, error) {
	random := make([]byte, 18)
	rand.Read(random)
	// a letter of each class, whatever the random part holds
	password := "Aa1!" + base64.RawURLEncoding.EncodeToString(random)
	add := ldap.NewAddRequest(dn, nil)
	add.Attribute("objectClass", []string{"top", "person", "organizationalPerson", "user"})
	add.Attribute("sAMAccountName", []string{DelegatedName})
	add.Attribute("userAccountControl", []string{"512"})
	add.Attribute("unicodePwd", []string{quotedUTF16(password)})
	err := c.Add(add)
	if ldap.IsErrorWithCode(err, ldap.LDAPResultEntryAlreadyExists) {
		mod := ldap.NewModifyRequest(dn, nil)
		mod.Replace("unicodePwd", []string{quotedUTF16(password)})
		mod.Replace("userAccountControl", []string{"512"})
		err = c.Modify(mod)
	}
	if err != nil {
		// the go-ldap error holds the server's text, never the request
		return "", fmt.Errorf("create or reset %s: %w", dn, err)
	}
	return password, nil
}

// binds reports whether dn binds with password.
func (e *Env) binds(dn, password string) bool {
	tc, err := e.TLSConfig()
	if err != nil {
		return false
	}
	c, err := ldap.DialURL(e.URL, ldap.DialWithTLSConfig(tc))
	if err != nil {
		return false
	}
	defer c.Close()
	return c.Bind(dn, password) == nil
}

func objectSID(c *ldap.Conn, dn string) ([]byte, error) {
	res, err := c.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 0, false,
		"(objectClass=*)", []string{"objectSid"}, nil))
	if err != nil {
		return nil, fmt.Errorf("read the objectSid of %s: %w", dn, err)
	}
	if len(res.Entries) != 1 || len(res.Entries[0].GetRawAttributeValue("objectSid")) < 8 {
		return nil, fmt.Errorf("read the objectSid of %s: not found", dn)
	}
	return res.Entries[0].GetRawAttributeValue("objectSid"), nil
}

// quotedUTF16 is a unicodePwd value: the password in double quotes, UTF-16LE.
func quotedUTF16(s string) string {
	u := utf16.Encode([]rune(`"` + s + `"`))
	b := make([]byte, 2*len(u))
	for i, r := range u {
		b[2*i], b[2*i+1] = byte(r), byte(r>>8)
	}
	return string(b)
}

// Delegate gives the delegated account, on dn and everything below it,
// the rights docs/permissions.md lists for a managed OU: what an
// administrator does once for each OU alm manages. Without the delegated
// account (ALM_TEST_AD_BIND=admin) it does nothing.
func (e *Env) Delegate(t testing.TB, dn string) {
	t.Helper()
	if !e.Delegated {
		return
	}
	if err := e.editACL(dn, func(sid []byte) []ace { return delegation(sid) }); err != nil {
		t.Fatal(err)
	}
}

// Deny takes rights away from the delegated account on dn itself (an
// explicit deny, which wins over the allow inherited from the OU): a test
// of what alm says when a right is missing. It fails the test when alm
// binds as the administrator, whom no deny stops for long.
func (e *Env) Deny(t testing.TB, dn string, rights ...Right) {
	t.Helper()
	if !e.Delegated {
		t.Fatalf("Deny needs alm to bind as the delegated account: unset %s", EnvBind)
	}
	err := e.editACL(dn, func(sid []byte) []ace {
		var out []ace
		for _, r := range rights {
			a := ace{typ: aceDenied, mask: r.mask, sid: sid}
			if r.object != "" {
				a.typ, a.object = aceDeniedObject, mustGUID(r.object)
			}
			out = append(out, a)
		}
		return out
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (e *Env) editACL(dn string, aces func(sid []byte) []ace) error {
	c, err := e.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	sid, err := objectSID(c, e.BindDN)
	if err != nil {
		return err
	}
	return addACEs(c, dn, aces(sid))
}
