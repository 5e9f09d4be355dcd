package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alm-project/alm/connectors/github"
	"github.com/alm-project/alm/connectors/github/githubtest"
	"github.com/alm-project/alm/reconciler/audit/audittest"
)

func TestAudit(t *testing.T) {
	h := audittest.New(t)
	t.Setenv(github.TokenEnv, githubtest.Token)
	t.Setenv(github.CommentAuthorEnv, "")
	gh := []string{"--github", "acme/access", "--github-api", h.GitHubURL}
	report := filepath.Join(t.TempDir(), "report.html")
	tests := []struct {
		name string
		args []string
		code int
		want []string // in stdout
	}{
		{name: "timeline by a former login", args: []string{"audit", "account", "kfox"}, code: exitOK,
			want: []string{"Account kwest (Person, id 000005): logins kfox, kwest", "renamed   renamed from kfox to kwest", "pushed    pushed straight to the branch by Eve Ops"}},
		{name: "timeline by id", args: []string{"audit", "account", "--id", "sa-02", "--format", "csv"}, code: exitOK,
			want: []string{"at,kind,account,text,", "retired,svc-report,state active → retired"}},
		{name: "unknown login", args: []string{"audit", "account", "nobody"}, code: exitInvalid},
		{name: "access at a date", args: []string{"audit", "access", "--at", "2026-10-20", "--group", "VPN Users"}, code: exitOK,
			want: []string{"3 accounts", "svc-report           disabled expired   VPN Users"}},
		{name: "diff", args: append([]string{"audit", "access", "--diff", "2026-01-20", "2026-10-20", "--format", "csv"}, gh...), code: exitOK,
			want: []string{"jdoe,000003,FS Backup Operators,granted,2026-05-04T10:00:00Z", "jdoe-gh,asmith-gh,github"}},
		{name: "diff backwards", args: []string{"audit", "access", "--diff", "2026-10-20", "2026-01-20"}, code: exitInvalid},
		{name: "neither --at nor --diff", args: []string{"audit", "access"}, code: exitInvalid},
		{name: "verify names the direct push", args: append([]string{"audit", "verify"}, gh...), code: exitChanges,
			want: []string{`unapproved  ` + h.Commits["push"][:12] + ` "quick fix: kwest needs backups tonight" by Eve Ops <eve@acme.test>`}},
		{name: "report", args: append([]string{"audit", "report", "--from", "2026-01-20", "--to", "2026-10-20", "--out", report}, gh...), code: exitOK,
			want: []string{"Wrote " + report + ": 2 granted, 1 removed, 2 exceptions, 1 review done, 1 overdue."}},
		{name: "report backwards", args: []string{"audit", "report", "--from", "2026-10-20", "--to", "2026-01-20", "--out", report}, code: exitInvalid},
		{name: "report without --out", args: []string{"audit", "report", "--from", "2026-01-20", "--to", "2026-10-20"}, code: exitInvalid},
		{name: "report of a bad date", args: []string{"audit", "report", "--from", "20 January", "--to", "2026-10-20", "--out", report}, code: exitInvalid},
		{name: "a format audit does not write", args: []string{"audit", "verify", "--format", "markdown"}, code: exitInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"--repo", h.Path, "--log-level", "error"}, tt.args...)
			code, out, errOut := runAlm(t, args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tt.code, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(strings.Join(tt.args, " "), "csv") {
				if _, err := csv.NewReader(strings.NewReader(out)).ReadAll(); err != nil {
					t.Errorf("not CSV: %v", err)
				}
			}
		})
	}
	// The report holds the period's grants, the direct push and the reviews.
	html, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"asmith-gh", h.Commits["push"][:12], "svc-backup", "svc-report", "Alex Smith &lt;asmith@acme.test&gt;"} {
		if !strings.Contains(string(html), w) {
			t.Errorf("%s lacks %q", report, w)
		}
	}
	// The report's --format json is one document: the file and the period.
	code, out, errOut := runAlm(t, "--repo", h.Path, "--format", "json", "audit", "report", "--from", "2026-01-20", "--to", "2026-10-20", "--out", report)
	var rep struct {
		Out    string `json:"out"`
		Period struct {
			Reviewed []struct{ Account string } `json:"reviewed"`
			Overdue  []struct{ Account string } `json:"overdue"`
		} `json:"period"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != exitOK || rep.Out != report ||
		len(rep.Period.Reviewed) != 1 || len(rep.Period.Overdue) != 1 {
		t.Errorf("report json: exit %d, %v, %+v\n%s%s", code, err, rep, out, errOut)
	}
	// --format json is one document, the exceptions included.
	code, out, errOut = runAlm(t, append([]string{"--repo", h.Path, "--format", "json", "audit", "verify"}, gh...)...)
	var doc struct {
		Exceptions []struct{ Kind, Commit string } `json:"exceptions"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != exitChanges || len(doc.Exceptions) != 2 {
		t.Errorf("json: exit %d, %v, %+v\n%s", code, err, doc, errOut)
	}
}
