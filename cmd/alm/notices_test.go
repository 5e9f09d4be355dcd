package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/alm-project/alm/connectors/memory"
	"github.com/alm-project/alm/connectors/outbox"
	"github.com/alm-project/alm/reconciler/notify"
	"github.com/alm-project/alm/reconciler/reconcile"
)

// TestNoticesCommand: alm notices lists what is due at an instant, and,
// once a run has sent it (the ledger on the status branch), what was sent.
func TestNoticesCommand(t *testing.T) {
	repo := copyExample(t)
	commitAll(t, repo)
	code, out, errOut := runAlm(t, "notices", "--repo", repo, "--at", "2027-01-30")
	if code != exitOK || !strings.Contains(out, "Due, not yet sent on every channel (2):") ||
		!strings.Contains(out, "svc-crm-sync ends on 2027-03-01 (30d before) to dkim (owner), ewright (custodian)") ||
		!strings.Contains(out, "Sent (0):") || !strings.Contains(out, "kwalker ends on 2027-01-31") {
		t.Fatalf("notices before any run: exit %d\n%s%s", code, out, errOut)
	}

	// A reconciler's run at that instant sends them (into a writer here).
	ctx := context.Background()
	at := time.Date(2027, 1, 30, 6, 0, 0, 0, time.UTC)
	src := reconcile.Source{Path: repo, Rev: "HEAD"}
	dir := memory.New("DC=example,DC=test")
	pl, err := reconcile.Plan(ctx, dir, src, reconcile.Options{Now: at})
	if err != nil {
		t.Fatal(err)
	}
	var sent strings.Builder
	if _, err := reconcile.Apply(ctx, dir, pl, src, reconcile.ApplyOptions{Options: reconcile.Options{Now: at}, Channels: []notify.Channel{outbox.To(&sent)}}); err != nil && pl.Refused == nil {
		t.Fatal(err)
	}
	code, out, errOut = runAlm(t, "notices", "--repo", repo, "--at", "2027-01-30T12:00:00Z", "--format", "json")
	var l notify.Listing
	if err := json.Unmarshal([]byte(out), &l); code != exitOK || err != nil {
		t.Fatalf("notices --format json: exit %d, %v\n%s%s", code, err, out, errOut)
	}
	found := false
	for _, e := range l.Sent {
		if e.ID == "notice:sa-01KJPXDKQGC9VA0QRH34YENBSG:30d-before:2027-03-01" && !e.Channels["outbox"].IsZero() {
			found = true
		}
	}
	if !found || len(l.Due) != 0 {
		t.Errorf("after the run: sent %+v, due %d; want svc-crm-sync's notice sent on the outbox and nothing due (no channel in alm.yaml: the ledger is what counts)", l.Sent, len(l.Due))
	}
	if code, _, errOut := runAlm(t, "notices", "--repo", repo, "--at", "next week"); code != exitInvalid || !strings.Contains(errOut, "--at") {
		t.Errorf("a bad --at: exit %d\n%s", code, errOut)
	}
}
