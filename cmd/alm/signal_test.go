package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/alm-project/alm/connectors/ad"
	"github.com/alm-project/alm/connectors/ad/adtest"
	"github.com/alm-project/alm/reconciler/receipt"
)

// envRunMain makes the test binary run alm's main instead of the tests,
// with the arguments after "--": so a test can signal a real alm process.
const envRunMain = "ALM_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(envRunMain) == "1" {
		for i, a := range os.Args {
			if a == "--" {
				os.Args = append([]string{"alm"}, os.Args[i+1:]...)
				break
			}
		}
		main()
		return
	}
	os.Exit(m.Run())
}

// TestSIGTERMStopsAfterTheChangeInFlight: alm apply, sent SIGTERM in the
// middle of creating accounts, finishes the change in flight, reports the
// rest as not attempted, writes its receipt, and exits 1; the next apply
// converges.
func TestSIGTERMStopsAfterTheChangeInFlight(t *testing.T) {
	env := adtest.New(t)
	f := newFixture(t, env)
	const people = 40
	for i := range people {
		login := adtest.Unique("s")
		f.repo.Write("people/"+login+".yaml", `apiVersion: alm/v1
kind: Person
metadata: {name: `+login+`, id: "`+login[1:]+`"}
spec:
  givenName: Test
  surname: Person`+strings.Repeat("x", i%3)+`
  type: employee
  department: Engineering
  startDate: 2026-01-05
  roles: [staff]
`)
	}
	f.repo.Commit("Forty people", admin)
	args := []string{"apply", "--yes", "--log-level", "info", "--repo", f.repo.Path, "--directory", env.URL,
		"--ca-file", env.CAFile, "--tls-server-name", env.ServerName}
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^$", "--"}, args...)...)
	cmd.Env = append(os.Environ(), envRunMain+"=1", ad.EnvBindDN+"="+env.BindDN, ad.EnvBindPassword+"="+env.Password)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	applied, signalled := 0, false
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		log.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), "msg=applied") {
			applied++
		}
		if applied == 10 && !signalled {
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			signalled = true
		}
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitError {
		t.Fatalf("alm apply after SIGTERM: %v, want exit %d\n%s%s", err, exitError, stdout.String(), log.String())
	}
	out := stdout.String()
	for _, want := range []string{"not attempted: the run was stopped", "Receipt: "} {
		if !strings.Contains(out, want) {
			t.Errorf("the output does not say %q:\n%s", want, out)
		}
	}
	if !strings.Contains(log.String(), "stopped by a signal after the change in flight") {
		t.Errorf("the error does not say the run was stopped:\n%s", log.String())
	}
	last, err := receipt.Last(context.Background(), f.repo.Path, "")
	if err != nil || last == nil {
		t.Fatalf("receipt after SIGTERM: %v, %v", last, err)
	}
	if last.Plan.Applied < 10 || last.Plan.Skipped == 0 || last.Plan.Failed != 0 || last.Plan.Applied+last.Plan.Skipped != last.Plan.Changes {
		t.Errorf("receipt counts %+v: want the changes before the signal applied, the rest not attempted, none failed", last.Plan)
	}

	// The rest, on the next run; the first run's half is not done twice.
	t.Setenv(ad.EnvBindDN, env.BindDN)
	t.Setenv(ad.EnvBindPassword, env.Password)
	if code, out, errOut := runAlm(t, args...); code != exitOK {
		t.Fatalf("the next apply: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut := runAlm(t, "plan", "--detailed-exitcode", "--repo", f.repo.Path, "--directory", env.URL,
		"--ca-file", env.CAFile, "--tls-server-name", env.ServerName)
	if code != exitOK {
		t.Errorf("a plan after both: exit %d\n%s%s", code, out, errOut)
	}
}
