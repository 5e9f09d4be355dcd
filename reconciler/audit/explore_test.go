package audit_test

import (
	"context"
	"encoding/json"
	"os"
	"time"
	"testing"

	"github.com/alm-project/alm/connectors/github"
	"github.com/alm-project/alm/connectors/github/githubtest"
	"github.com/alm-project/alm/reconciler/audit"
	"github.com/alm-project/alm/reconciler/audit/audittest"
)

func TestExplore(t *testing.T) {
	h := audittest.New(t)
	ctx := context.Background()
	gh, err := github.New("acme/access", github.Options{BaseURL: h.GitHubURL, Token: githubtest.Token})
	if err != nil {
		t.Fatal(err)
	}
	a, err := audit.Open(ctx, h.Path, audit.Options{Branch: "main", GitHub: gh})
	if err != nil {
		t.Fatal(err)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	id, err := a.Resolve("kfox")
	if err != nil {
		t.Fatal(err)
	}
	tl, err := a.Account(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range tl.Events {
		t.Logf("%s %-9s %-7s %s %v %s", e.At.Format("01-02T15"), e.Kind, e.Account, e.Text, e.By, e.Result)
	}
	for _, d := range []int{1, 5, 10} {
		acc, err := a.At(ctx, audittest.Day(time.Month(d), 20), "")
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range acc.Accounts {
			t.Logf("%d %s %v %s %v", d, h.Account, h.Enabled, h.State, h.Groups)
		}
	}
	df, err := a.Diff(ctx, audittest.Day(1, 20), audittest.Day(10, 20), "")
	if err != nil {
		t.Fatal(err)
	}
	enc.Encode(df)
	x, err := a.Verify(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	enc.Encode(x)
}
