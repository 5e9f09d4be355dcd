package ad

import (
	"crypto/rand"
	"encoding/binary"
	"math/big"
	"unicode/utf16"
)

// passwordLength is well above any usual domain minimum (7 by default,
// 14 in hardened domains) and below AD's 256.
const passwordLength = 24

// Character classes: AD's complexity rule wants three of the four; the
// password takes one of each. No quotes or backslashes, which would need
// escaping inside unicodePwd's quotes.
var passwordClasses = []string{
	"ABCDEFGHJKLMNPQRSTUVWXYZ",
	"abcdefghijkmnopqrstuvwxyz",
	"23456789",
	"!#%+-.:=?@_~",
}

// password returns a random password with at least one character of each
// class, from crypto/rand.
func password() (string, error) {
	var all string
	for _, c := range passwordClasses {
		all += c
	}
	b := make([]byte, passwordLength)
	for i := range b {
		set := all
		if i < len(passwordClasses) {
			set = passwordClasses[i]
		}
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(set))))
		if err != nil {
			return "", err
		}
		b[i] = set[n.Int64()]
	}
	// shuffle, so the guaranteed classes do not always lead
	for i := len(b) - 1; i > 0; i-- {
		j, err := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		if err != nil {
			return "", err
		}
		b[i], b[j.Int64()] = b[j.Int64()], b[i]
	}
	return string(b), nil
}

// unicodePwd encodes a password as AD wants it written: the password in
// double quotes, as UTF-16LE. go-ldap sends the bytes as they are.
func unicodePwd(pw string) string {
	units := utf16.Encode([]rune(`"` + pw + `"`))
	b := make([]byte, 2*len(units))
	for i, u := range units {
		binary.LittleEndian.PutUint16(b[2*i:], u)
	}
	return string(b)
}
