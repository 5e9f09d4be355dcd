package deploy

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const systemdDir = "systemd"

func TestSystemdService(t *testing.T) {
	checkFile(t, systemdDir+"/alm-reconcile.service", checkService, []broken{
		{"not oneshot", "Type=oneshot", "Type=simple", "Type=oneshot"},
		{"root", "DynamicUser=yes", "User=root", "root"},
		{"writable system", "ProtectSystem=strict", "ProtectSystem=full", "ProtectSystem=full: want strict"},
		{"privileges", "NoNewPrivileges=yes", "NoNewPrivileges=no", "NoNewPrivileges"},
		{"inline password", "Environment=ALM_BIND_PASSWORD_FILE=%d/bind-password", "Environment=ALM_BIND_PASSWORD=hunter2", "sets a secret inline"},
		{"credential not loaded", "LoadCredential=bind-password:", "LoadCredential=other:", "not loaded"},
		{"loop in a oneshot", "--require-approved", "--interval 10m", "--interval"},
	})
}

func TestSystemdTimer(t *testing.T) {
	checkFile(t, systemdDir+"/alm-reconcile.timer", checkTimer, []broken{
		{"no schedule", "OnCalendar=*:0/15", "", "no schedule"},
		{"other unit", "Unit=alm-reconcile.service", "Unit=alm.service", "alm.service"},
		{"not installed", "WantedBy=timers.target", "WantedBy=multi-user.target", "timers.target"},
	})
}

// TestSystemdVerify runs systemd-analyze verify on both units: a misspelt
// key, a bad calendar or a missing unit is printed, and any output fails.
func TestSystemdVerify(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze is not installed, so the units are not verified: apt-get install -y systemd (make deploy-check tries)")
	}
	service := read(t, systemdDir+"/alm-reconcile.service")
	timer := read(t, systemdDir+"/alm-reconcile.timer")
	if out := verifyUnits(t, service, timer); out != "" {
		t.Errorf("systemd-analyze verify:\n%s", out)
	}
	t.Run("a misspelt key is reported", func(t *testing.T) {
		bad := bytes.Replace(service, []byte("ProtectSystem=strict"), []byte("ProtectSystm=strict"), 1)
		if out := verifyUnits(t, bad, timer); !strings.Contains(out, "ProtectSystm") {
			t.Errorf("systemd-analyze verify passed a unit with an unknown key; printed %q", out)
		}
	})
}

// verifyUnits verifies the units in a scratch root holding the system's own
// units (the targets they depend on) and an executable /usr/local/bin/alm,
// which verify requires ExecStart's binary to be, and returns what it printed.
func verifyUnits(t *testing.T, service, timer []byte) string {
	t.Helper()
	sys := "/usr/lib/systemd/system"
	if _, err := os.Stat(sys); err != nil {
		sys = "/lib/systemd/system"
	}
	r := t.TempDir()
	units := filepath.Join(r, "etc/systemd/system")
	for _, d := range []string{units, filepath.Join(r, "usr/local/bin"), filepath.Join(r, "usr/lib/systemd")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command("cp", "-a", sys, filepath.Join(r, "usr/lib/systemd/system")).CombinedOutput(); err != nil {
		t.Fatalf("copy %s: %v: %s", sys, err, out)
	}
	files := map[string][]byte{
		filepath.Join(r, "usr/local/bin/alm"):         []byte("#!/bin/sh\n"),
		filepath.Join(units, "alm-reconcile.service"): service,
		filepath.Join(units, "alm-reconcile.timer"):   timer,
	}
	for p, data := range files {
		mode := os.FileMode(0o644)
		if filepath.Base(p) == "alm" {
			mode = 0o755
		}
		if err := os.WriteFile(p, data, mode); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command("systemd-analyze", "verify", "--man=no", "--root="+r,
		filepath.Join(units, "alm-reconcile.service"), filepath.Join(units, "alm-reconcile.timer")).CombinedOutput()
	if err != nil && len(out) == 0 {
		return err.Error()
	}
	return strings.TrimSpace(string(out))
}

type entry struct {
	line       int
	key, value string
}

// parseUnit reads a unit file into its sections' entries, in order, keys
// repeated as systemd allows, continuation lines joined.
func parseUnit(data []byte) map[string][]entry {
	units := map[string][]entry{}
	section := ""
	var pending string
	start := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if pending == "" && (line == "" || line[0] == '#' || line[0] == ';') {
			continue
		}
		if pending == "" {
			start = n
		}
		if strings.HasSuffix(line, `\`) {
			pending += strings.TrimSuffix(line, `\`) + " "
			continue
		}
		line, pending = pending+line, ""
		if strings.HasPrefix(line, "[") {
			section = strings.Trim(line, "[]")
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		units[section] = append(units[section], entry{start, strings.TrimSpace(k), strings.TrimSpace(v)})
	}
	return units
}

func values(entries []entry, key string) []string {
	var out []string
	for _, e := range entries {
		if e.key == key {
			out = append(out, e.value)
		}
	}
	return out
}

func last(entries []entry, key string) string {
	v := values(entries, key)
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

// checkService lists what keeps the service from being one hardened
// alm reconcile run whose bind password is a credential, never inline.
func checkService(data []byte) []string {
	s := parseUnit(data)["Service"]
	var problems []string
	add := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	if v := last(s, "Type"); v != "oneshot" {
		add("Type=%s: want Type=oneshot (one run a timer starts)", v)
	}
	exec := strings.Fields(last(s, "ExecStart"))
	if len(exec) < 2 || filepath.Base(exec[0]) != "alm" || exec[1] != "reconcile" {
		add("ExecStart %q: want alm reconcile", exec)
	}
	for _, a := range exec {
		if a == "--interval" || strings.HasPrefix(a, "--interval=") {
			add("ExecStart passes --interval: a oneshot run must end; the timer schedules it")
		}
		if secretName.MatchString(a) && strings.HasPrefix(a, "--") {
			add("ExecStart passes %s: secrets come from the environment or files, never flags", a)
		}
	}
	user := last(s, "User")
	if last(s, "DynamicUser") != "yes" && (user == "" || user == "root" || user == "0") {
		add("runs as root: set DynamicUser=yes or a dedicated User=")
	}
	if v := last(s, "ProtectSystem"); v != "strict" {
		add("ProtectSystem=%s: want strict", v)
	}
	if v := last(s, "NoNewPrivileges"); v != "yes" {
		add("NoNewPrivileges=%s: want yes", v)
	}
	creds := map[string]bool{}
	for _, v := range values(s, "LoadCredential") {
		creds[strings.SplitN(v, ":", 2)[0]] = true
	}
	passwordFile := ""
	for _, v := range values(s, "Environment") {
		for _, kv := range strings.Fields(v) {
			name, value, _ := strings.Cut(strings.Trim(kv, `"`), "=")
			if secretName.MatchString(name) && !secretValueAllowed(name, value) {
				add("Environment=%s sets a secret inline: use LoadCredential= and ALM_BIND_PASSWORD_FILE", name)
			}
			if name == "ALM_BIND_PASSWORD_FILE" {
				passwordFile = value
			}
		}
	}
	switch cred, ok := strings.CutPrefix(passwordFile, "%d/"); {
	case passwordFile == "":
		add("ALM_BIND_PASSWORD_FILE is not set: point it at a LoadCredential= file (%%d/NAME)")
	case ok && !creds[cred]:
		add("ALM_BIND_PASSWORD_FILE=%s names a credential that is not loaded: add LoadCredential=%s:PATH", passwordFile, cred)
	}
	return problems
}

// checkTimer lists what keeps the timer from starting the service on a schedule.
func checkTimer(data []byte) []string {
	u := parseUnit(data)
	var problems []string
	if len(values(u["Timer"], "OnCalendar")) == 0 && len(values(u["Timer"], "OnUnitActiveSec")) == 0 {
		problems = append(problems, "[Timer] has no schedule: set OnCalendar=")
	}
	if v := last(u["Timer"], "Unit"); v != "alm-reconcile.service" {
		problems = append(problems, fmt.Sprintf("Unit=%s: want alm-reconcile.service", v))
	}
	if v := last(u["Install"], "WantedBy"); v != "timers.target" {
		problems = append(problems, fmt.Sprintf("WantedBy=%s: want timers.target", v))
	}
	return problems
}
