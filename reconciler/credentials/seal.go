// Package credentials holds what becomes of a password alm gives an
// account: who may read it (the template's credentials.to), the password
// sealed to that person's public key with age, the message that delivers
// it, and rotation (Rotate, Due). A password exists in clear only inside
// the connector call that draws it and the Sealer it hands it to; nothing
// here decrypts: that is the recipient's business, with their private key.
package credentials

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"filippo.io/age/armor"
)

// Key kinds, as the message tells the recipient how to decrypt.
const (
	KeyAge = "age"
	KeySSH = "ssh"
)

// ParseKey reads a person's spec.publicKey: an age recipient (age1...) or
// an SSH public key (ssh-ed25519 or ssh-rsa, as in authorized_keys). It
// returns the recipient and its kind (KeyAge or KeySSH).
func ParseKey(key string) (age.Recipient, string, error) {
	key = strings.TrimSpace(key)
	switch {
	case key == "":
		return nil, "", errors.New("no public key")
	case strings.ContainsAny(key, "\r\n"):
		return nil, "", errors.New("more than one line: give one key")
	case strings.HasPrefix(key, "ssh-"):
		r, err := agessh.ParseRecipient(key)
		if err != nil {
			return nil, "", fmt.Errorf("not an SSH public key age can encrypt to (ssh-ed25519 or ssh-rsa): %w", err)
		}
		return r, KeySSH, nil
	case strings.HasPrefix(key, "age1"):
		rs, err := age.ParseRecipients(strings.NewReader(key))
		if err != nil {
			return nil, "", fmt.Errorf("not an age recipient: %w", err)
		}
		return rs[0], KeyAge, nil
	}
	return nil, "", errors.New("neither an age recipient (age1...) nor an SSH public key (ssh-ed25519 ..., ssh-rsa ...)")
}

// Sealer encrypts the passwords a connector draws to one recipient and
// keeps only the last ciphertext. Its Seal method is a directory.Seal.
type Sealer struct {
	to      age.Recipient
	kind    string
	armored []byte
}

// NewSealer returns a Sealer to key (see ParseKey).
func NewSealer(key string) (*Sealer, error) {
	r, kind, err := ParseKey(key)
	if err != nil {
		return nil, err
	}
	return &Sealer{to: r, kind: kind}, nil
}

// Seal encrypts password with age, ASCII-armored, replacing what an
// earlier call sealed: a connector that draws again writes the last one.
func (s *Sealer) Seal(password []byte) error {
	var buf bytes.Buffer
	a := armor.NewWriter(&buf)
	w, err := age.Encrypt(a, s.to)
	if err != nil {
		return fmt.Errorf("encrypt: %w", err)
	}
	if _, err := w.Write(password); err != nil {
		return fmt.Errorf("encrypt: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("encrypt: %w", err)
	}
	if err := a.Close(); err != nil {
		return fmt.Errorf("armor: %w", err)
	}
	s.armored = buf.Bytes()
	return nil
}

// Armored is the last password sealed, an ASCII-armored age file; nil
// before any.
func (s *Sealer) Armored() []byte { return s.armored }

// Kind is the key's kind, KeyAge or KeySSH.
func (s *Sealer) Kind() string { return s.kind }
