// Package notify tells people what alm does to their accounts: the
// end-of-life notices templates ask for (before and at the end of life),
// first credentials, renewals. It computes which messages are due from the
// files, the time and the ledger of what was sent (kept in the receipts on
// the status branch), and hands each to the channels alm.yaml configures.
// Computing is pure; sending goes through the Channel interface, which the
// connectors (mail, webhook, github) implement.
package notify

import (
	"context"
	"time"
)

// Message is one thing to tell: a notice, a credential delivery, a
// renewal. It never carries a secret in clear: a credential travels only
// as Attachments encrypted to the recipient's key.
type Message struct {
	// ID is stable for the same message: sending it twice is what the
	// ledger prevents. A notice's ID names the account, the offset and the
	// date it is about, so a date moved by a renewal re-arms it.
	ID          string       `json:"id"`
	Kind        string       `json:"kind"` // KindNotice, KindCredentials, KindRenewal
	Subject     string       `json:"subject"`
	Text        string       `json:"text"` // plain text, the whole message
	Account     string       `json:"account,omitempty"`
	AccountID   string       `json:"accountID,omitempty"`
	File        string       `json:"file,omitempty"`
	Date        time.Time    `json:"date,omitzero"`  // the end of life (or other instant) it is about
	DueAt       time.Time    `json:"dueAt,omitzero"` // when it became due
	To          []Recipient  `json:"to"`
	Attachments []Attachment `json:"attachments,omitempty"`
}

// Message kinds.
const (
	KindNotice      = "notice"
	KindCredentials = "credentials"
	KindRenewal     = "renewal"
)

// Recipient is one person (or a fixed address) a message goes to, with
// what each channel needs to reach them.
type Recipient struct {
	Login  string `json:"login,omitempty"` // the person's login, "" for a fixed address
	Name   string `json:"name,omitempty"`
	Email  string `json:"email,omitempty"`
	GitHub string `json:"github,omitempty"`
	Role   string `json:"role,omitempty"` // why: owner, custodian, manager, ...
}

// Attachment is a file sent with a message: an age-encrypted credential,
// ASCII-armored. Its content is already ciphertext.
type Attachment struct {
	Name    string `json:"name"`
	Type    string `json:"type"` // MIME type
	Content []byte `json:"-"`    // never in JSON, logs or receipts
}

// Channel delivers messages: e-mail, a webhook, GitHub, a file. Send
// returns an error when the message did not go out; it is retried on the
// next run. A recipient a channel cannot reach (no e-mail address, for
// e-mail) is not an error: the channel sends to the others.
type Channel interface {
	// Name is the channel as alm.yaml and receipts name it: email,
	// webhook, github, file.
	Name() string
	Send(ctx context.Context, m Message) error
}
