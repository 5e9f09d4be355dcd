package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func TestReviewOpen(t *testing.T) {
	repo := "../../reconciler/review/testdata/access"
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{name: "lists what is due", args: []string{"review", "open", "--repo", repo, "--at", "2027-03-02"},
			want: "asmith (@asmith-gh): 2 account(s) due by 2027-03-01, branch alm/review/asmith/2027-03-01\n  jdoe (people/jdoe.yaml) due 2027-03-01"},
		{name: "nothing due", args: []string{"review", "open", "--repo", repo, "--at", "2027-01-01"}, want: "No access review is due."},
		{name: "--at with --github refused", args: []string{"review", "open", "--repo", repo, "--at", "2027-03-02", "--github", "acme/access"},
			code: exitInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errs bytes.Buffer
			if code := run(context.Background(), tt.args, &out, &errs); code != tt.code {
				t.Fatalf("exit %d, want %d: %s", code, tt.code, errs.String())
			}
			if !strings.Contains(out.String(), tt.want) {
				t.Errorf("output lacks %q:\n%s", tt.want, out.String())
			}
		})
	}
	var out bytes.Buffer
	if code := run(context.Background(), []string{"review", "open", "--repo", repo, "--at", "2027-03-02", "--format", "json"}, &out, &bytes.Buffer{}); code != 0 {
		t.Fatalf("json: exit %d", code)
	}
	var rep struct {
		Opened []struct{ Reviewer, Branch string } `json:"opened"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil || len(rep.Opened) != 3 || rep.Opened[2].Branch != "alm/review/jdoe/2027-03-01" {
		t.Errorf("json: %v %+v", err, rep)
	}
}
