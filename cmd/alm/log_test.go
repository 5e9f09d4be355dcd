package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestLogFormat: --log-format json makes every log line on stderr a JSON
// object; text keeps key=value; anything else is refused by name.
func TestLogFormat(t *testing.T) {
	cases := []struct {
		name     string
		args     []string
		wantCode int
		check    func(t *testing.T, stderr string)
	}{
		{"text by default", nil, exitOK, func(t *testing.T, stderr string) {
			if !strings.Contains(stderr, `level=DEBUG msg="loading access repository" repo=../../examples/acme`) {
				t.Errorf("stderr is not key=value:\n%s", stderr)
			}
		}},
		{"json", []string{"--log-format", "json"}, exitOK, func(t *testing.T, stderr string) {
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			for _, l := range lines {
				var rec map[string]any
				if err := json.Unmarshal([]byte(l), &rec); err != nil {
					t.Fatalf("line is not JSON: %v\n%s", err, l)
				}
				if rec["level"] == nil || rec["msg"] == nil || rec["time"] == nil {
					t.Errorf("line lacks time, level or msg: %s", l)
				}
			}
			if !strings.Contains(stderr, `"msg":"loading access repository","repo":"../../examples/acme"`) {
				t.Errorf("no loading record in:\n%s", stderr)
			}
		}},
		{"unknown", []string{"--log-format", "logfmt"}, exitInvalid, func(t *testing.T, stderr string) {
			if !strings.Contains(stderr, `--log-format "logfmt": use text or json`) {
				t.Errorf("stderr = %q", stderr)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"validate", "--repo", "../../examples/acme", "--log-level", "debug"}, tc.args...)
			code, _, stderr := runAlm(t, args...)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tc.wantCode, stderr)
			}
			tc.check(t, stderr)
		})
	}
}
