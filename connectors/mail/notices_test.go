package mail

import (
	"context"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alm-project/alm/connectors/memory"
	"github.com/alm-project/alm/reconciler/desired"
	"github.com/alm-project/alm/reconciler/history/historytest"
	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/notify"
	"github.com/alm-project/alm/reconciler/reconcile"
)

// TestNoticesBySMTP: the reconciler's notices about examples/acme reach a
// real SMTP server in the test process: the message read back names the
// recipients the template asks for, the account and its date; a second
// run the same day sends nothing.
func TestNoticesBySMTP(t *testing.T) {
	p := newPKI(t)
	b := &backend{}
	port := serve(t, p, serveStartTLS, b)
	ch, err := New(model.EmailChannel{Host: "127.0.0.1", Port: port, From: "alm@example.com", Username: user,
		PasswordEnv: "ALM_SMTP_PASSWORD", CAFile: p.caFile}, password, WithTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	repo := historytest.New(t)
	repo.CopyDir("../../examples/acme")
	repo.Commit("Import the access repository", historytest.Person{Name: "Anna Smith", Email: "anna.smith@example.test"})
	src := reconcile.Source{Path: repo.Path, Rev: "HEAD"}
	run := func(at time.Time) {
		t.Helper()
		m, err := reconcile.Load(ctx, src)
		if err != nil {
			t.Fatal(err)
		}
		want, err := desired.Compute(m, at)
		if err != nil {
			t.Fatal(err)
		}
		dir := memory.New(want.BaseDN)
		pl, err := reconcile.Plan(ctx, dir, src, reconcile.Options{Now: at})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := reconcile.Apply(ctx, dir, pl, src, reconcile.ApplyOptions{Options: reconcile.Options{Now: at}, Channels: []notify.Channel{ch}}); err != nil && pl.Refused == nil {
			t.Fatal(err)
		}
	}
	run(time.Date(2027, 1, 30, 9, 0, 0, 0, time.UTC)) // svc-crm-sync's 30-day notice
	run(time.Date(2027, 1, 30, 15, 0, 0, 0, time.UTC))

	_, _, delivered := b.snapshot()
	var found []delivery
	for _, d := range delivered {
		msg, err := mail.ReadMessage(strings.NewReader(string(d.data)))
		if err != nil {
			t.Fatal(err)
		}
		subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		if subject != "svc-crm-sync ends on 2027-03-01" {
			continue
		}
		found = append(found, d)
		raw, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
		if err != nil {
			t.Fatal(err)
		}
		text := string(raw)
		for _, want := range []string{"Service account svc-crm-sync ends on 2027-03-01", "service-accounts/svc-crm-sync.yaml", "30d before"} {
			if !strings.Contains(text, want) {
				t.Errorf("the delivered body lacks %q:\n%s", want, text)
			}
		}
		rcpt := slices.Sorted(slices.Values(d.rcpt))
		if !slices.Equal(rcpt, []string{"david.kim@example.test", "emma.wright@example.test"}) {
			t.Errorf("delivered to %v, want the owner and the custodian", rcpt)
		}
		if to := msg.Header.Get("To"); !strings.Contains(to, "david.kim@example.test") {
			t.Errorf("To: %q", to)
		}
	}
	if len(found) != 1 {
		t.Errorf("svc-crm-sync's 30-day notice delivered %d times over two runs, want once", len(found))
	}
}
