package main

import (
	"encoding/csv"
	"encoding/json"
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
			want: []string{`unapproved  69f767fafb0a "quick fix: kwest needs backups tonight" by Eve Ops <eve@acme.test>`}},
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
	// --format json is one document, the exceptions included.
	code, out, errOut := runAlm(t, append([]string{"--repo", h.Path, "--format", "json", "audit", "verify"}, gh...)...)
	var doc struct {
		Exceptions []struct{ Kind, Commit string } `json:"exceptions"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != exitChanges || len(doc.Exceptions) != 2 {
		t.Errorf("json: exit %d, %v, %+v\n%s", code, err, doc, errOut)
	}
}
