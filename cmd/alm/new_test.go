package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// newRepository is a repository from alm init with one person, jdoe, made
// with alm new person.
func newRepository(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if code, out, errOut := runAlm(t, append([]string{"init", dir}, exampleFlags...)...); code != exitOK {
		t.Fatalf("init: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runAlm(t, "new", "person", "jdoe", "--id", "004217", "--given", "Jane", "--surname", "Doe",
		"--start", "2026-01-05", "--repo", dir); code != exitOK {
		t.Fatalf("new person: exit %d\n%s%s", code, out, errOut)
	}
	return dir
}

// The id pattern of schemas/serviceaccount.schema.json.
var serviceAccountID = regexp.MustCompile(`^sa-[0-9A-Za-z]+$`)

func TestNewServiceAccount(t *testing.T) {
	atClock(t, "2026-11-22T09:00:00Z")
	tests := []struct {
		name     string
		args     []string
		code     int
		says     string // on stderr
		problems string // on stdout, when validation takes the file back
		expires  string
	}{
		{name: "the default lifetime", args: []string{"--owner", "jdoe", "--description", "Demo"}, expires: "2027-05-21"},
		{name: "an earlier expiry", args: []string{"--owner", "jdoe", "--description", "Demo", "--expires", "2027-02-01"}, expires: "2027-02-01"},
		{name: "the latest expiry", args: []string{"--owner", "jdoe", "--description", "Demo", "--expires", "2027-11-22"}, expires: "2027-11-22"},
		{name: "past the maximum", args: []string{"--owner", "jdoe", "--description", "Demo", "--expires", "2027-11-23"},
			code: exitInvalid, says: "--expires 2027-11-23 is past template service-account's lifetime.max of 365d"},
		{name: "not a date", args: []string{"--owner", "jdoe", "--description", "Demo", "--expires", "next year"},
			code: exitInvalid, says: `--expires "next year": write a day as YYYY-MM-DD`},
		{name: "unknown owner", args: []string{"--owner", "ghost", "--description", "Demo"},
			code: exitInvalid, says: "people/ghost.yaml does not exist"},
		{name: "no owner", args: []string{"--description", "Demo"}, code: exitInvalid, says: "--owner is required"},
		{name: "unknown role", args: []string{"--owner", "jdoe", "--description", "Demo", "--role", "wifi"},
			code: exitInvalid, says: "service-accounts/svc-demo.yaml is not written: the repository does not validate with it (1 problem listed above)",
			problems: `service-accounts/svc-demo.yaml:11:11: spec.roles[0]: role "wifi" does not exist`},
		{name: "the owner as custodian", args: []string{"--owner", "jdoe", "--description", "Demo", "--custodian", "jdoe"},
			code: exitInvalid, says: "is not written", problems: `"jdoe" is the owner already`},
		{name: "--rev", args: []string{"--owner", "jdoe", "--description", "Demo", "--rev", "HEAD"},
			code: exitInvalid, says: "new writes into the working tree"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := newRepository(t)
			code, out, errOut := runAlm(t, append([]string{"new", "service-account", "svc-demo", "--repo", dir}, tt.args...)...)
			if code != tt.code || !strings.Contains(errOut, tt.says) || !strings.Contains(out, tt.problems) {
				t.Fatalf("exit %d, want %d saying %q and %q\n%s%s", code, tt.code, tt.says, tt.problems, out, errOut)
			}
			file := filepath.Join(dir, "service-accounts", "svc-demo.yaml")
			data, err := os.ReadFile(file)
			if tt.code != exitOK {
				if err == nil {
					t.Errorf("the file was left behind:\n%s", data)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Metadata struct{ Name, ID string }
				Spec     struct{ Owner, Created, Expires string }
			}
			if err := yaml.Unmarshal(data, &doc); err != nil {
				t.Fatal(err)
			}
			if doc.Metadata.Name != "svc-demo" || !serviceAccountID.MatchString(doc.Metadata.ID) || len(doc.Metadata.ID) != 13 ||
				doc.Spec.Owner != "jdoe" || doc.Spec.Created != "2026-11-22" || doc.Spec.Expires != tt.expires {
				t.Errorf("wrote %+v, want svc-demo, an sa- id of 10 characters, jdoe, created 2026-11-22, expires %s:\n%s", doc, tt.expires, data)
			}
			if !strings.Contains(out, "Wrote service-accounts/svc-demo.yaml (id "+doc.Metadata.ID) {
				t.Errorf("output:\n%s", out)
			}
			if code, out, errOut := runAlm(t, "validate", "--repo", dir); code != exitOK || !strings.Contains(out, "1 service accounts") {
				t.Errorf("validate: exit %d\n%s%s", code, out, errOut)
			}
		})
	}
}

func TestNewServiceAccountJSONAndFreshIDs(t *testing.T) {
	atClock(t, "2026-11-22T09:00:00Z")
	dir := newRepository(t)
	ids := map[string]bool{}
	for _, name := range []string{"svc-one", "svc-two", "svc-three"} {
		code, out, errOut := runAlm(t, "new", "service-account", name, "--owner", "jdoe", "--description", "Demo", "--repo", dir, "--format", "json")
		if code != exitOK {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
		var got struct {
			Written                                bool
			File, Kind, Name, ID, Created, Expires string
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%v:\n%s", err, out)
		}
		if !got.Written || got.File != "service-accounts/"+name+".yaml" || got.Kind != "ServiceAccount" || got.Created != "2026-11-22" || got.Expires != "2027-05-21" {
			t.Errorf("%+v", got)
		}
		if ids[got.ID] || !serviceAccountID.MatchString(got.ID) {
			t.Errorf("id %s repeats or does not match the schema", got.ID)
		}
		ids[got.ID] = true
	}
	// The same name again: the file exists.
	code, _, errOut := runAlm(t, "new", "service-account", "svc-one", "--owner", "jdoe", "--description", "Demo", "--repo", dir)
	if code != exitInvalid || !strings.Contains(errOut, "svc-one.yaml exists already") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

func TestNewPerson(t *testing.T) {
	atClock(t, "2026-11-22T09:00:00Z")
	tests := []struct {
		name string
		args []string
		code int
		says string
	}{
		{name: "every flag", args: []string{"asmith", "--id", "004101", "--given", "Anna", "--surname", "Smith", "--email", "anna.smith@example.test",
			"--manager", "jdoe", "--department", "Engineering", "--title", "Head of Engineering", "--start", "2026-12-01"}},
		{name: "starts today", args: []string{"asmith", "--id", "004101", "--given", "Anna", "--surname", "Smith"}},
		{name: "no id", args: []string{"asmith", "--given", "Anna", "--surname", "Smith"}, code: exitInvalid, says: "--id is required"},
		{name: "unknown manager", args: []string{"asmith", "--id", "1", "--given", "Anna", "--surname", "Smith", "--manager", "ghost"},
			code: exitInvalid, says: "people/ghost.yaml does not exist"},
		{name: "a bad e-mail address", args: []string{"asmith", "--id", "1", "--given", "Anna", "--surname", "Smith", "--email", "anna"},
			code: exitInvalid, says: "people/asmith.yaml is not written"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := newRepository(t)
			code, out, errOut := runAlm(t, append([]string{"new", "person", "--repo", dir}, tt.args...)...)
			if code != tt.code || !strings.Contains(errOut, tt.says) {
				t.Fatalf("exit %d, want %d saying %q\n%s%s", code, tt.code, tt.says, out, errOut)
			}
			_, err := os.Stat(filepath.Join(dir, "people", "asmith.yaml"))
			if written := err == nil; written != (tt.code == exitOK) {
				t.Errorf("people/asmith.yaml written %v, exit %d", written, code)
			}
		})
	}
}
