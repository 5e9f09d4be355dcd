package desired

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/alm-project/alm/reconciler/directory"
)

// AccountFlags are the userAccountControl flags a template's accountFlags
// may name, spelled as Microsoft documents them. Names are read
// case-insensitively, with '-' for '_' also accepted.
var AccountFlags = map[string]int{
	"DONT_EXPIRE_PASSWORD": directory.UACDontExpirePassword,
	"NOT_DELEGATED":        directory.UACNotDelegated,
	"SMARTCARD_REQUIRED":   directory.UACSmartcardRequired,
}

// DangerousFlags weaken an account: no template may set them, and on an
// account alm manages they are drift, reverted, whoever set them.
// DONT_EXPIRE_PASSWORD is dangerous only where the template does not ask
// for it (it is one of AccountFlags); it is listed for the words.
var DangerousFlags = map[string]struct {
	Bit  int
	Risk string
}{
	"PASSWD_NOTREQD":                 {directory.UACPasswordNotRequired, "the account may have an empty password"},
	"TRUSTED_FOR_DELEGATION":         {directory.UACTrustedForDelegation, "unconstrained delegation: services it runs can act as anyone who signs in to them"},
	"TRUSTED_TO_AUTH_FOR_DELEGATION": {directory.UACTrustedToAuthForDelegation, "protocol transition: it can obtain tickets as any user"},
	"DONT_REQ_PREAUTH":               {directory.UACDontRequirePreauth, "no Kerberos pre-authentication: its password can be cracked offline (AS-REP roasting)"},
	"USE_DES_KEY_ONLY":               {directory.UACUseDESKeyOnly, "DES keys only: broken encryption"},
	"ENCRYPTED_TEXT_PWD_ALLOWED":     {directory.UACEncryptedTextPasswordAllowed, "its password is stored with reversible encryption"},
	"DONT_EXPIRE_PASSWORD":           {directory.UACDontExpirePassword, "its password never expires"},
}

// ManagedUAC returns the userAccountControl bits alm keeps equal to the
// files on an account whose desired value is uac: the disable bit, the
// flags its template asks for (added when missing), and every flag that
// weakens an account (removed unless the template asks for it). A
// protective flag the template does not ask for (NOT_DELEGATED,
// SMARTCARD_REQUIRED set by hand) is left alone: removing it would weaken
// the account. Other bits - set by the directory itself, or by hand for
// reasons alm has no say in - are kept.
func ManagedUAC(uac int) int {
	m := directory.UACAccountDisable | uac&templateUAC
	for _, f := range DangerousFlags {
		m |= f.Bit
	}
	return m
}

// templateUAC are the bits a template may set.
var templateUAC = func() int {
	m := 0
	for _, bit := range AccountFlags {
		m |= bit
	}
	return m
}()

// FlagNames names the dangerous and template flags set in bits, sorted.
func FlagNames(bits int) []string {
	var out []string
	seen := map[string]bool{}
	for name, f := range DangerousFlags {
		if bits&f.Bit != 0 {
			out, seen[name] = append(out, name), true
		}
	}
	for name, bit := range AccountFlags {
		if bits&bit != 0 && !seen[name] {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// flag returns the bit a template's flag name stands for.
func flag(name string) (int, error) {
	key := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(name), "-", "_"))
	if f, ok := DangerousFlags[key]; ok {
		if _, allowed := AccountFlags[key]; !allowed {
			return 0, fmt.Errorf("account flag %s is refused: %s; alm never sets it, and reverts it where it finds it", key, f.Risk)
		}
	}
	bit, ok := AccountFlags[key]
	if !ok {
		names := make([]string, 0, len(AccountFlags))
		for n := range AccountFlags {
			names = append(names, n)
		}
		sort.Strings(names)
		return 0, fmt.Errorf("unknown account flag %q; use one of %s", name, strings.Join(names, ", "))
	}
	return bit, nil
}

// fileTimeEpoch is 1601-01-01 UTC, the start of Windows file time, in Unix seconds.
const fileTimeEpoch = -11644473600

// FileTime returns t as a Windows file time (100 ns intervals since
// 1601-01-01 UTC), as accountExpires holds it.
func FileTime(t time.Time) string {
	return strconv.FormatInt((t.Unix()-fileTimeEpoch)*10_000_000+int64(t.Nanosecond()/100), 10)
}

// ParseFileTime reads a Windows file time. ok is false for the values that
// mean "never" (empty, 0, the largest int64) and for what is not a number.
func ParseFileTime(v string) (t time.Time, ok bool) {
	if NeverExpires(v) {
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, false
	}
	return time.Unix(n/10_000_000+fileTimeEpoch, (n%10_000_000)*100).UTC(), true
}

// NeverExpires reports whether an accountExpires value means no expiry:
// AD uses both 0 and the largest int64, and an absent value means the same.
func NeverExpires(v string) bool {
	return v == "" || v == "0" || v == directory.AccountExpiresNever
}
