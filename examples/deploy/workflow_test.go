package deploy

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
	"go.yaml.in/yaml/v3"
)

// actionlintConfig names the runner label and the variable the example
// uses, so actionlint checks them rather than calling them unknown.
const actionlintConfig = `self-hosted-runner:
  labels: [alm]
config-variables: [ALM_BIND_DN]
`

func TestWorkflow(t *testing.T) {
	checkFile(t, "github/alm-reconcile.yaml", func(data []byte) []string {
		return append(lint(t, "github/alm-reconcile.yaml", data), checkWorkflow(data)...)
	}, []broken{
		{"hosted runner", "runs-on: [self-hosted, linux, alm]", "runs-on: ubuntu-latest", "self-hosted"},
		{"no schedule", "  schedule:\n    - cron: \"*/15 * * * *\"\n", "", "schedule"},
		{"bad cron", `cron: "*/15 * * * *"`, `cron: "*/15 * * *"`, "invalid CRON format"},
		{"inline token", "ALM_GIT_TOKEN: ${{ github.token }}", "ALM_GIT_TOKEN: ghp_abc", "ALM_GIT_TOKEN"},
		{"unknown context", "${{ github.repository }}.git", "${{ github.repo }}.git", "repo"},
		{"overlapping runs", "cancel-in-progress: false", "cancel-in-progress: maybe", "boolean literal"},
	})
}

// TestRepositoryWorkflows lints the other workflows this repository ships,
// the example access repository's and its own CI's.
func TestRepositoryWorkflows(t *testing.T) {
	for _, dir := range []string{root + "/.github/workflows", root + "/examples/acme/.github/workflows"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.y*ml"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no workflows in %s (%v)", dir, err)
		}
		for _, f := range files {
			for _, p := range lint(t, f, read(t, f)) {
				t.Errorf("%s", p)
			}
		}
	}
}

// lint runs actionlint on data as if it were the file at path, with
// shellcheck on the run: scripts when it is installed.
func lint(t *testing.T, path string, data []byte) []string {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "actionlint.yaml")
	if err := os.WriteFile(cfg, []byte(actionlintConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := &actionlint.LinterOptions{ConfigFile: cfg}
	if sc, err := exec.LookPath("shellcheck"); err == nil {
		opts.Shellcheck = sc
	}
	l, err := actionlint.NewLinter(io.Discard, opts)
	if err != nil {
		t.Fatal(err)
	}
	errs, err := l.Lint(path, data, nil)
	if err != nil {
		t.Fatalf("actionlint %s: %v", path, err)
	}
	var problems []string
	for _, e := range errs {
		problems = append(problems, fmt.Sprintf("%s:%d:%d: %s [%s]", path, e.Line, e.Column, e.Message, e.Kind))
	}
	return problems
}

type workflow struct {
	On struct {
		Schedule []struct {
			Cron string `yaml:"cron"`
		} `yaml:"schedule"`
	} `yaml:"on"`
	Jobs map[string]struct {
		RunsOn any `yaml:"runs-on"`
		Steps  []struct {
			Run string            `yaml:"run"`
			Env map[string]string `yaml:"env"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

// checkWorkflow lists what keeps the workflow from running alm reconcile on
// a schedule, on a self-hosted runner, with no secret written into it.
func checkWorkflow(data []byte) []string {
	var w workflow
	if err := yaml.Unmarshal(data, &w); err != nil {
		return []string{"parse: " + err.Error()}
	}
	var problems []string
	if len(w.On.Schedule) == 0 {
		problems = append(problems, "on.schedule is empty: the workflow must run on a schedule")
	}
	reconciles := false
	for name, j := range w.Jobs {
		var labels []string
		switch r := j.RunsOn.(type) {
		case string:
			labels = []string{r}
		case []any:
			for _, l := range r {
				labels = append(labels, fmt.Sprint(l))
			}
		}
		if !slices.Contains(labels, "self-hosted") {
			problems = append(problems, fmt.Sprintf("job %s runs on %v: want a self-hosted runner, which can reach a DC", name, labels))
		}
		for _, s := range j.Steps {
			if strings.Contains(s.Run, "alm reconcile") {
				reconciles = true
			}
			for k, v := range s.Env {
				if secretName.MatchString(k) && !secretValueAllowed(k, v) {
					problems = append(problems, fmt.Sprintf("job %s: env %s has a literal value: use ${{ secrets.* }} or a file on the runner", name, k))
				}
			}
		}
	}
	if !reconciles {
		problems = append(problems, "no step runs alm reconcile")
	}
	return problems
}
