package credentials

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/notify"
)

// Sealed is one password alm gave an account, sealed to the person its
// Policy names; Armored is nil when the policy seals to no one (Why says
// why). It goes to delivery only: never into JSON, a log or a receipt.
type Sealed struct {
	Policy
	// Rotated: a rotation (alm rotate), not an account's first password.
	Rotated bool `json:"rotated,omitempty"`
	// At is when the password was set.
	At      time.Time `json:"at"`
	Armored []byte    `json:"-"`
}

// AttachmentType is the MIME type of an ASCII-armored age file.
const AttachmentType = "text/plain; charset=us-ascii"

// FileName is the name of the attachment that carries an account's
// sealed password.
func FileName(account string) string { return account + ".password.age" }

// Message is the notify.Message that delivers s to its recipient: the
// sealed password as its one attachment, and how to decrypt it. It
// refuses a Sealed with no ciphertext: that account's notice says how to
// reset the password instead (s.Why).
func Message(s Sealed) (notify.Message, error) {
	if len(s.Armored) == 0 {
		return notify.Message{}, fmt.Errorf("%s: no sealed password to deliver: %s", s.Account, s.Why)
	}
	_, kind, err := ParseKey(s.Key)
	if err != nil {
		return notify.Message{}, fmt.Errorf("%s: %s: %w", s.Account, s.KeyAt, err)
	}
	file := FileName(s.Account)
	var t strings.Builder
	what, subject := "the first password of the new account", "Password for the new account "+s.Account
	if s.Rotated {
		what, subject = "a new password for the account", "New password for "+s.Account
	}
	fmt.Fprintf(&t, "alm set %s %s at %s.\n\n", what, s.Account, s.At.UTC().Format(time.RFC3339))
	fmt.Fprintf(&t, "It is attached as %s, encrypted to the public key in your file (%s), so only your private key opens it. To read it:\n\n", file, s.KeyAt)
	if kind == KeySSH {
		fmt.Fprintf(&t, "    age -d -i ~/.ssh/id_ed25519 %s\n\n(name the private key that belongs to your spec.publicKey; age is at https://age-encryption.org)\n", file)
	} else {
		fmt.Fprintf(&t, "    age -d -i key.txt %s\n\n(key.txt is the identity file holding the AGE-SECRET-KEY- of your spec.publicKey; age is at https://age-encryption.org)\n", file)
	}
	switch {
	case s.Kind == model.KindPerson && s.To.Role == model.ToManager:
		fmt.Fprintf(&t, "\nGive it to %s in person or by a channel you trust; %s must change it at first logon.\n", s.Account, s.Account)
	case s.Kind == model.KindPerson:
		t.WriteString("\nYou must change it at first logon.\n")
	default:
		t.WriteString("\nPut it where the service reads it, then delete the decrypted copy. alm keeps no copy.\n")
	}
	return notify.Message{
		ID:      "credentials:" + s.AccountID + ":" + s.At.UTC().Format(time.RFC3339),
		Kind:    notify.KindCredentials,
		Subject: subject,
		Text:    t.String(),
		Account: s.Account, AccountID: s.AccountID, File: s.File, Date: s.At,
		To:          []notify.Recipient{s.To},
		Attachments: []notify.Attachment{{Name: file, Type: AttachmentType, Content: s.Armored}},
	}, nil
}

// Deliver sends m through every channel; sent names those it went out
// on, and the error says, channel by channel, what failed. A credential
// that went out on no channel is lost for good (the password is set): the
// caller must say so.
func Deliver(ctx context.Context, m notify.Message, channels []notify.Channel) (sent []string, err error) {
	if len(channels) == 0 {
		return nil, errors.New("no channel to deliver on")
	}
	var errs []error
	for _, c := range channels {
		if err := c.Send(ctx, m); err != nil {
			errs = append(errs, fmt.Errorf("channel %s: %w", c.Name(), err))
			continue
		}
		sent = append(sent, c.Name())
	}
	return sent, errors.Join(errs...)
}
