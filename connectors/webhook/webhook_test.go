package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alm-project/alm/reconciler/model"
	"github.com/alm-project/alm/reconciler/notify"
)

const secret = "hmac-key-from-env"

// received is one request the receiver got.
type received struct {
	header http.Header
	body   []byte
}

// receiver is an HTTP endpoint that answers status and keeps what it got.
type receiver struct {
	mu     sync.Mutex
	status int
	answer string
	got    []received
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if r.Method != http.MethodPost {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	rc.got = append(rc.got, received{header: r.Header.Clone(), body: body})
	w.WriteHeader(rc.status)
	_, _ = io.WriteString(w, rc.answer)
}

func message() notify.Message {
	return notify.Message{
		ID:        "credentials/svc-web/2026-05-01",
		Kind:      notify.KindCredentials,
		Subject:   "svc-web: first password <encrypted>",
		Text:      "The password of svc-web is attached, encrypted to your key.\nDecrypt it with: age -d -i key.txt\n",
		Account:   "svc-web",
		AccountID: "S-1-5-21-1-2-3-1105",
		File:      "accounts/service/svc-web.yaml",
		Date:      time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC),
		DueAt:     time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC),
		To: []notify.Recipient{
			{Login: "jdoe", Name: "Jane Doe", Email: "jane.doe@example.com", GitHub: "jane-doe", Role: "owner"},
			{Email: "ops@example.com", Role: "address"},
		},
		Attachments: []notify.Attachment{{Name: "svc-web.password.age", Type: "application/x-age-armored", Content: []byte("AGE CIPHERTEXT")}},
	}
}

func TestSend(t *testing.T) {
	cases := []struct {
		name    string
		format  string
		secret  string
		status  int
		answer  string
		wantErr string // "" : no error
		check   func(t *testing.T, r received)
	}{
		{name: "json signed", format: model.WebhookJSON, secret: secret, status: http.StatusOK, check: checkJSON},
		{name: "json by default, unsigned", status: http.StatusNoContent, check: func(t *testing.T, r received) {
			if h := r.header.Get(SignatureHeader); h != "" {
				t.Errorf("unsigned channel sent %s: %s", SignatureHeader, h)
			}
			checkJSON(t, r)
		}},
		{name: "slack", format: model.WebhookSlack, secret: secret, status: http.StatusOK, check: func(t *testing.T, r received) {
			var got map[string]string
			if err := json.Unmarshal(r.body, &got); err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"text": "*svc-web: first password &lt;encrypted&gt;*\n" +
				"The password of svc-web is attached, encrypted to your key.\nDecrypt it with: age -d -i key.txt\n" +
				"To: Jane Doe (owner), ops@example.com (address)\n" +
				"_1 attachment(s) sent by e-mail only_"}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("slack body\n got %q\nwant %q", got, want)
			}
		}},
		{name: "server error", secret: secret, status: http.StatusInternalServerError, answer: "database down",
			wantErr: `answered 500 Internal Server Error ("database down"): it is retried on the next run`},
		{name: "refused", secret: secret, status: http.StatusUnauthorized, wantErr: "answered 401 Unauthorized: the receiver refused alm"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rc := &receiver{status: tc.status, answer: tc.answer}
			srv := httptest.NewServer(rc)
			t.Cleanup(srv.Close)
			url := srv.URL + "/hooks/alm?token=query-secret"
			ch, err := New(model.WebhookChannel{URL: url, Format: tc.format, SecretEnv: env(tc.secret)}, tc.secret, srv.Client())
			if err != nil {
				t.Fatal(err)
			}
			err = ch.Send(context.Background(), message())
			if len(rc.got) != 1 {
				t.Fatalf("receiver got %d requests, want 1", len(rc.got))
			}
			r := rc.got[0]
			checkHeaders(t, r, tc.secret)
			if tc.wantErr != "" {
				var se *StatusError
				if err == nil || !errors.As(err, &se) || se.Status != tc.status || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Send = %v, want a StatusError with %q", err, tc.wantErr)
				}
				if !strings.Contains(err.Error(), srv.URL+"/…?…") || strings.Contains(err.Error(), "query-secret") || strings.Contains(err.Error(), "/hooks/alm") {
					t.Errorf("error must name the host, neither the path nor the query (either may be the secret): %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			tc.check(t, r)
		})
	}
}

func env(secret string) string {
	if secret == "" {
		return ""
	}
	return "ALM_WEBHOOK_SECRET"
}

func checkHeaders(t *testing.T, r received, secret string) {
	t.Helper()
	for h, want := range map[string]string{"Content-Type": "application/json", "User-Agent": "alm", MessageIDHeader: message().ID} {
		if got := r.header.Get(h); got != want {
			t.Errorf("%s: %q, want %q", h, got, want)
		}
	}
	if secret == "" {
		return
	}
	sig := r.header.Get(SignatureHeader)
	if !Verify(r.body, sig, secret) {
		t.Errorf("signature %q does not verify the body", sig)
	}
	if Verify(r.body, sig, "another key") {
		t.Errorf("signature verifies under another key")
	}
}

// checkJSON decodes the body as a receiver would: the message, its
// attachments named as withheld and never their content.
func checkJSON(t *testing.T, r received) {
	t.Helper()
	var got notify.Message
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	want := message()
	want.Attachments = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decoded message\n got %+v\nwant %+v", got, want)
	}
	var p Payload
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p.WithheldAttachments, []string{"svc-web.password.age"}) {
		t.Errorf("withheldAttachments %q, want the attachment's name", p.WithheldAttachments)
	}
	if strings.Contains(string(r.body), "AGE CIPHERTEXT") || strings.Contains(string(r.body), `"attachments"`) {
		t.Errorf("body carries the attachment: %s", r.body)
	}
}

func TestVerify(t *testing.T) {
	body := []byte(`{"id":"n1"}`)
	good := Signature(body, secret)
	cases := []struct {
		name   string
		body   []byte
		header string
		secret string
		want   bool
	}{
		{name: "good", body: body, header: good, secret: secret, want: true},
		{name: "body changed", body: []byte(`{"id":"n2"}`), header: good, secret: secret},
		{name: "other key", body: body, header: good, secret: "other"},
		{name: "no prefix", body: body, header: strings.TrimPrefix(good, "sha256="), secret: secret},
		{name: "not hex", body: body, header: "sha256=zz", secret: secret},
		{name: "truncated", body: body, header: good[:len(good)-2], secret: secret},
		{name: "empty header", body: body, secret: secret},
		{name: "empty secret", body: body, header: Signature(body, ""), secret: ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Verify(tc.body, tc.header, tc.secret); got != tc.want {
				t.Errorf("Verify = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/hook?token=query-secret"
	srv.Close()
	ch, err := New(model.WebhookChannel{URL: url}, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	err = ch.Send(context.Background(), message())
	if err == nil || strings.Contains(err.Error(), "query-secret") || !strings.Contains(err.Error(), srv.URL+"/…?…") {
		t.Fatalf("Send = %v, want an error naming the URL without its query", err)
	}
}

func TestNew(t *testing.T) {
	cases := []struct {
		name    string
		cfg     model.WebhookChannel
		secret  string
		wantErr string
	}{
		{name: "https", cfg: model.WebhookChannel{URL: "https://hooks.example.com/alm"}},
		{name: "slack", cfg: model.WebhookChannel{URL: "https://hooks.example.com/alm", Format: model.WebhookSlack}},
		{name: "not a URL", cfg: model.WebhookChannel{URL: "hooks.example.com"}, wantErr: "spec.notify.webhook.url"},
		{name: "ftp", cfg: model.WebhookChannel{URL: "ftp://hooks.example.com/alm"}, wantErr: "spec.notify.webhook.url"},
		{name: "bad format", cfg: model.WebhookChannel{URL: "https://hooks.example.com/alm", Format: "xml"}, wantErr: "spec.notify.webhook.format"},
		{name: "secretEnv empty", cfg: model.WebhookChannel{URL: "https://hooks.example.com/alm", SecretEnv: "ALM_WEBHOOK_SECRET"}, wantErr: "export the HMAC key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ch, err := New(tc.cfg, tc.secret, nil)
			if tc.wantErr == "" {
				if err != nil || ch.Name() != "webhook" {
					t.Fatalf("New = %v, %v", ch, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("New = %v, want an error with %q", err, tc.wantErr)
			}
		})
	}
}
