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
	"DONT_EXPIRE_PASSWORD":   directory.UACDontExpirePassword,
	"NOT_DELEGATED":          directory.UACNotDelegated,
	"SMARTCARD_REQUIRED":     directory.UACSmartcardRequired,
	"TRUSTED_FOR_DELEGATION": directory.UACTrustedForDelegation,
	"PASSWD_NOTREQD":         directory.UACPasswordNotRequired,
}

// ManagedUAC are the userAccountControl bits alm keeps equal to the files:
// the disable bit and every flag a template may set. Other bits (set by the
// directory itself, or by hand for reasons alm has no say in) are kept.
var ManagedUAC = func() int {
	m := directory.UACAccountDisable
	for _, bit := range AccountFlags {
		m |= bit
	}
	return m
}()

// flag returns the bit a template's flag name stands for.
func flag(name string) (int, error) {
	bit, ok := AccountFlags[strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(name), "-", "_"))]
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
