package main

import (
	"strings"
	"testing"

	"github.com/alm-project/alm/reconciler/model"
)

// TestChannels: each channel's secret comes from the variable alm.yaml
// names; one that cannot be set up is reported, the others still built.
func TestChannels(t *testing.T) {
	n := &model.Notify{
		Webhook: &model.WebhookChannel{URLEnv: "ALM_TEST_HOOK_URL", SecretEnv: "ALM_TEST_HOOK_KEY"},
		Email:   &model.EmailChannel{Host: "smtp.example.test", From: "alm@example.test", Username: "alm", PasswordEnv: "ALM_TEST_SMTP_PASSWORD"},
	}
	t.Setenv("ALM_TEST_HOOK_URL", "https://hooks.example.test/services/T0/B0/secret-path")
	t.Setenv("ALM_TEST_HOOK_KEY", "k")
	cs, err := channels(n, "")
	if len(cs) != 1 || cs[0].Name() != "webhook" || err == nil || !strings.Contains(err.Error(), "ALM_TEST_SMTP_PASSWORD, which is not set") {
		t.Fatalf("channels %v, error %v: want the webhook, and the e-mail's missing password named", cs, err)
	}
	if strings.Contains(err.Error(), "secret-path") {
		t.Errorf("the error shows the webhook's URL: %v", err)
	}
	t.Setenv("ALM_TEST_SMTP_PASSWORD", "p")
	if cs, err := channels(n, ""); len(cs) != 2 || err != nil {
		t.Errorf("with every secret set: %d channels, %v", len(cs), err)
	}
}
