package notify

import (
	"context"
	"log/slog"
	"sort"
	"time"

	"github.com/alm-project/alm/reconciler/model"
)

// Ledger says which messages went out on which channel: message ID ->
// channel name -> when. The reconciler keeps it on the status branch with
// the receipts, so Git holds what was sent.
type Ledger map[string]map[string]time.Time

// Sent reports whether message id went out on channel.
func (l Ledger) Sent(id, channel string) bool {
	_, ok := l[id][channel]
	return ok
}

// Record notes the deliveries that succeeded.
func (l Ledger) Record(ds []Delivery) {
	for _, d := range ds {
		if d.Error != "" {
			continue
		}
		if l[d.ID] == nil {
			l[d.ID] = map[string]time.Time{}
		}
		l[d.ID][d.Channel] = d.At
	}
}

// Delivery is what became of one message on one channel.
type Delivery struct {
	ID         string    `json:"id"`
	Kind       string    `json:"kind"`
	Account    string    `json:"account,omitempty"`
	Subject    string    `json:"subject"`
	Channel    string    `json:"channel"`
	Recipients []string  `json:"recipients"` // logins, or addresses for fixed ones
	At         time.Time `json:"at"`
	Error      string    `json:"error,omitempty"` // empty when it went out
}

// Pending are the messages, of those given, that some of the channels
// (by name) has not sent yet; with no channel named (alm.yaml configures
// none: an --outbox alone), those no channel has sent.
func Pending(ms []Message, channels []string, sent Ledger) []Message {
	var out []Message
	for _, m := range ms {
		if len(channels) == 0 {
			if len(sent[m.ID]) == 0 {
				out = append(out, m)
			}
			continue
		}
		for _, c := range channels {
			if !sent.Sent(m.ID, c) {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

// Send hands every message to every channel that has not sent it yet,
// each once. A channel that fails is recorded and tried again on the next
// run; it never stops the others. now is when the deliveries are said to
// have happened.
func Send(ctx context.Context, ms []Message, channels []Channel, sent Ledger, now time.Time, log *slog.Logger) []Delivery {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var out []Delivery
	for _, m := range ms {
		for _, c := range channels {
			if sent.Sent(m.ID, c.Name()) {
				continue
			}
			d := Delivery{ID: m.ID, Kind: m.Kind, Account: m.Account, Subject: m.Subject, Channel: c.Name(), Recipients: names(m.To), At: now.UTC()}
			if err := c.Send(ctx, m); err != nil {
				d.Error = err.Error()
				log.Warn("notice not sent", "id", m.ID, "channel", c.Name(), "error", err)
			} else {
				log.Info("notice sent", "id", m.ID, "channel", c.Name(), "recipients", d.Recipients)
			}
			out = append(out, d)
		}
	}
	return out
}

// Failed counts the deliveries that did not go out.
func Failed(ds []Delivery) int {
	n := 0
	for _, d := range ds {
		if d.Error != "" {
			n++
		}
	}
	return n
}

func names(rs []Recipient) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		if r.Login != "" {
			out = append(out, r.Login)
		} else {
			out = append(out, r.Email)
		}
	}
	return out
}

// Messages are the scheduled notices' messages.
func Messages(s []Scheduled) []Message {
	out := make([]Message, len(s))
	for i := range s {
		out[i] = s[i].Message
	}
	return out
}

// Configured names the channels alm.yaml's notify sets up, as each
// Channel's Name says it: what a plan checks the ledger against.
func Configured(n *model.Notify) []string {
	var out []string
	if n == nil {
		return out
	}
	if n.Email != nil {
		out = append(out, "email")
	}
	if n.Webhook != nil {
		out = append(out, "webhook")
	}
	if n.GitHub != nil {
		out = append(out, "github")
	}
	return out
}

// Listing is what alm notices shows: at an instant, the notices due and
// not yet sent on every channel, those sent (by the ledger), and those
// coming within a horizon.
type Listing struct {
	At       time.Time   `json:"at"`
	Channels []string    `json:"channels"`
	Due      []Scheduled `json:"due"`
	Sent     []SentEntry `json:"sent"`
	Upcoming []Scheduled `json:"upcoming"`
}

// SentEntry is one message the ledger says went out, and where.
type SentEntry struct {
	ID       string               `json:"id"`
	Account  string               `json:"account,omitempty"`
	Subject  string               `json:"subject,omitempty"`
	Channels map[string]time.Time `json:"channels"`
}

// List makes the listing at at from the schedule, the ledger and the
// channels configured, with the notices due within horizon after at.
func List(all []Scheduled, at time.Time, sent Ledger, channels []string, horizon time.Duration) Listing {
	l := Listing{At: at, Channels: append([]string{}, channels...), Due: []Scheduled{}, Sent: []SentEntry{}, Upcoming: []Scheduled{}}
	known := map[string]Scheduled{}
	for _, s := range all {
		known[s.ID] = s
		switch {
		case !at.Before(s.DueAt) && at.Before(s.Until):
			if len(Pending([]Message{s.Message}, channels, sent)) > 0 {
				l.Due = append(l.Due, s)
			}
		case s.DueAt.After(at) && s.DueAt.Before(at.Add(horizon)):
			l.Upcoming = append(l.Upcoming, s)
		}
	}
	for _, id := range sortedKeys(sent) {
		e := SentEntry{ID: id, Channels: sent[id]}
		if s, ok := known[id]; ok {
			e.Account, e.Subject = s.Account, s.Subject
		}
		l.Sent = append(l.Sent, e)
	}
	return l
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
