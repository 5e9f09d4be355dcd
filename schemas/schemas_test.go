package schemas

import (
	"math"
	"os"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func mustCompile(t *testing.T) *Set {
	t.Helper()
	s, err := Compile()
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return s
}

func parse(t *testing.T, src string) any {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		t.Fatalf("parse test document: %v\n%s", err, src)
	}
	return FromYAML(&n)
}

const person = `apiVersion: alm/v1
kind: Person
metadata: {name: jdoe, id: "004217"}
spec:
  givenName: Jane
  surname: Doe
  email: jane.doe@example.test
  type: employee
  startDate: 2026-01-05
`

const serviceAccount = `apiVersion: alm/v1
kind: ServiceAccount
metadata: {name: svc-backup, id: sa-01J9ZK3Q}
spec:
  template: service-account
  description: Nightly backup
  owner: jdoe
  expires: 2027-05-31
`

const saTemplate = `apiVersion: alm/v1
kind: WorkflowTemplate
metadata: {name: service-account}
spec:
  appliesTo: ServiceAccount
  ou: OU=Service Accounts,OU=ALM
  lifetime: {default: 180d, max: 365d}
`

const role = `apiVersion: alm/v1
kind: Role
metadata: {name: vpn-users}
spec:
  groups: [VPN Users]
`

const directory = `apiVersion: alm/v1
kind: Directory
metadata: {name: acme}
spec:
  domain: example.test
  baseDN: DC=example,DC=test
`

func TestValidate(t *testing.T) {
	s := mustCompile(t)
	type v = Violation
	tests := []struct {
		name string
		kind string
		doc  string
		want []Violation
	}{
		{"valid person", "Person", person, nil},
		{"valid service account", "ServiceAccount", serviceAccount, nil},
		{"valid template", "WorkflowTemplate", saTemplate, nil},
		{"valid role", "Role", role, nil},
		{"a group by DN, longer than a name may be", "Role", strings.Replace(role, "groups: [VPN Users]", "groups: ['CN=Domain Admins,CN=Users,DC=corp,DC=example,DC=com', 'CN=Tier 0 Administrators,OU=Privileged Access,OU=Groups,DC=corp,DC=example,DC=com']", 1), nil},
		{
			"a group name longer than 64", "Role", strings.Replace(role, "groups: [VPN Users]", "groups: ["+strings.Repeat("g", 65)+"]", 1),
			[]Violation{{[]string{"spec", "groups", "0"}, `"spec.groups[0]" must be at most 64 characters long, not 65`}},
		},
		{"valid directory", "Directory", directory, nil},
		{"valid contractor", "Person", strings.Replace(person, "type: employee", "type: contractor\n  endDate: 2027-01-31", 1), nil},
		{"empty end date is no end date", "Person", person + "  endDate:\n", nil},
		{
			"unknown field with a suggestion", "ServiceAccount",
			strings.Replace(serviceAccount, "owner:", "ownr:", 1),
			[]Violation{
				{[]string{"spec", "owner"}, `missing required field "spec.owner"`},
				{[]string{"spec", "ownr"}, `unknown field "spec.ownr" (did you mean "owner"?)`},
			},
		},
		{
			"unknown field without a near name", "Role", role + "  colour: red\n",
			[]Violation{{[]string{"spec", "colour"}, `unknown field "spec.colour" (known fields: approvers, birthright, description, groups, privileged, renamedGroups)`}},
		},
		{
			"unknown top-level field", "Role", role + "status: {}\n",
			[]Violation{{[]string{"status"}, `unknown field "status" (known fields: apiVersion, kind, metadata, spec)`}},
		},
		{
			"wrong type: a string for a list", "Person", person + "  roles: vpn-users\n",
			[]Violation{{[]string{"spec", "roles"}, `"spec.roles" must be a list, not "vpn-users"`}},
		},
		{
			"wrong type: a number for a string", "Person", strings.Replace(person, `id: "004217"`, `id: 4217`, 1),
			[]Violation{{[]string{"metadata", "id"}, `"metadata.id" must be a string, not a number; put the value in quotes`}},
		},
		{
			"wrong type: empty", "ServiceAccount", strings.Replace(serviceAccount, "owner: jdoe", "owner:", 1),
			[]Violation{{[]string{"spec", "owner"}, `"spec.owner" is empty; it must be a string`}},
		},
		{
			"bad enum", "Person", strings.Replace(person, "type: employee", "type: contracter", 1),
			[]Violation{{[]string{"spec", "type"}, `"spec.type" must be one of employee, contractor, partner, not "contracter"`}},
		},
		{
			"bad enum in a list", "WorkflowTemplate", saTemplate + "  accountFlags: [DONT_EXPIRE_PASSWORD, NEVER_EXPIRE]\n",
			[]Violation{{[]string{"spec", "accountFlags", "1"}, `"spec.accountFlags[1]" is "NEVER_EXPIRE": it must be DONT_EXPIRE_PASSWORD, NOT_DELEGATED or SMARTCARD_REQUIRED: alm never sets a flag that weakens an account (PASSWD_NOTREQD, TRUSTED_FOR_DELEGATION, TRUSTED_TO_AUTH_FOR_DELEGATION, DONT_REQ_PREAUTH, USE_DES_KEY_ONLY, ENCRYPTED_TEXT_PWD_ALLOWED), and reverts it where it finds one`}},
		},
		{
			"wrong apiVersion", "Role", strings.Replace(role, "alm/v1", "alm/v2", 1),
			[]Violation{{[]string{"apiVersion"}, `"apiVersion" must be alm/v1, not "alm/v2"`}},
		},
		{
			"wrong kind in the document", "Role", strings.Replace(role, "kind: Role", "kind: Person", 1),
			[]Violation{{[]string{"kind"}, `"kind" must be Role, not "Person"`}},
		},
		{
			"bad date: not zero-padded", "Person", strings.Replace(person, "2026-01-05", "2026-1-5", 1),
			[]Violation{{[]string{"spec", "startDate"}, `"spec.startDate" is "2026-1-5": it must be a calendar date written YYYY-MM-DD (e.g. 2026-05-30)`}},
		},
		{
			"bad date: no such day", "ServiceAccount", strings.Replace(serviceAccount, "2027-05-31", "2027-02-29", 1),
			[]Violation{{[]string{"spec", "expires"}, `"spec.expires" is "2027-02-29": it must be a calendar date written YYYY-MM-DD (e.g. 2026-05-30)`}},
		},
		{
			"bad date: a time of day", "Person", person + "  endDate: 2027-01-31T17:00:00Z\n",
			[]Violation{{[]string{"spec", "endDate"}, `"spec.endDate" is "2027-01-31T17:00:00Z": it must be a calendar date written YYYY-MM-DD (e.g. 2026-05-30), or left empty`}},
		},
		{
			"bad duration", "WorkflowTemplate", strings.Replace(saTemplate, "max: 365d", "max: 1y", 1),
			[]Violation{{[]string{"spec", "lifetime", "max"}, `"spec.lifetime.max" is "1y": it must be a duration: a number and a unit h, d or w (e.g. 30d, 2w or 1w2d)`}},
		},
		{
			"name too long", "Person", strings.Replace(person, "name: jdoe", "name: jane-doe-from-engineering", 1),
			[]Violation{{[]string{"metadata", "name"}, `"metadata.name" must be at most 20 characters long, not 25`}},
		},
		{
			"name with a forbidden character", "Person", strings.Replace(person, "name: jdoe", `name: "j@doe"`, 1),
			[]Violation{{[]string{"metadata", "name"}, `"metadata.name" is "j@doe": it must not contain any of " / \ [ ] : ; | = , + * ? < > @ nor begin or end with a space or a period (it is an Active Directory sAMAccountName)`}},
		},
		{
			"name ending with a period", "ServiceAccount", strings.Replace(serviceAccount, "name: svc-backup", "name: svc-backup.", 1),
			[]Violation{{[]string{"metadata", "name"}, `"metadata.name" is "svc-backup.": it must not contain any of " / \ [ ] : ; | = , + * ? < > @ nor begin or end with a space or a period (it is an Active Directory sAMAccountName)`}},
		},
		{
			"a space inside a name is allowed", "Person", strings.Replace(person, "name: jdoe", `name: "jane doe"`, 1), nil,
		},
		{
			"contractor without endDate", "Person", strings.Replace(person, "type: employee", "type: contractor", 1),
			[]Violation{{[]string{"spec", "endDate"}, `"spec.endDate" is required for a contractor: the day the contract ends, YYYY-MM-DD`}},
		},
		{
			"contractor with an empty endDate", "Person", strings.Replace(person, "type: employee", "type: contractor\n  endDate:", 1),
			[]Violation{{[]string{"spec", "endDate"}, `"spec.endDate" is required for a contractor: the day the contract ends, YYYY-MM-DD`}},
		},
		{
			"missing required fields", "ServiceAccount", strings.Replace(strings.Replace(serviceAccount, "  expires: 2027-05-31\n", "", 1), ", id: sa-01J9ZK3Q", "", 1),
			[]Violation{
				{[]string{"metadata", "id"}, `missing required field "metadata.id"`},
				{[]string{"spec", "expires"}, `missing required field "spec.expires"`},
			},
		},
		{
			"missing spec", "Role", "apiVersion: alm/v1\nkind: Role\nmetadata: {name: x}\n",
			[]Violation{{[]string{"spec"}, `missing required field "spec"`}},
		},
		{
			"document is not a mapping", "Role", "- a\n- b\n",
			[]Violation{{nil, `the document must be a mapping, not a list`}},
		},
		{
			"service account id without its prefix", "ServiceAccount", strings.Replace(serviceAccount, "sa-01J9ZK3Q", "01J9ZK3Q", 1),
			[]Violation{{[]string{"metadata", "id"}, `"metadata.id" is "01J9ZK3Q": it must be sa- followed by letters and digits (a generated identifier such as sa-01JX8Q2M5T3V9W4Y6Z7A8B9C0D)`}},
		},
		{
			"role listed twice", "Person", person + "  roles: [vpn-users, engineering, vpn-users]\n",
			[]Violation{{[]string{"spec", "roles", "2"}, `"spec.roles" lists "vpn-users" twice, at [0] and [2]; list it once`}},
		},
		{
			"bad e-mail address", "Person", strings.Replace(person, "jane.doe@example.test", "jane.doe", 1),
			[]Violation{{[]string{"spec", "email"}, `"spec.email" must be an e-mail address, not "jane.doe"`}},
		},
		{
			"service account template without lifetime", "WorkflowTemplate", strings.Replace(saTemplate, "  lifetime: {default: 180d, max: 365d}\n", "", 1),
			[]Violation{{[]string{"spec", "lifetime"}, `"spec.lifetime" is required when appliesTo is ServiceAccount: every service account expires within lifetime.max (e.g. lifetime: {default: 180d, max: 365d})`}},
		},
		{
			"person fields in a service account template", "WorkflowTemplate", saTemplate + "  provisionAhead: 7d\n  leaver: {retention: 90d}\n",
			[]Violation{
				{[]string{"spec", "leaver"}, `"spec.leaver" is only for templates with appliesTo: Person (service accounts end with endOfLife)`},
				{[]string{"spec", "provisionAhead"}, `"spec.provisionAhead" is only for templates with appliesTo: Person`},
			},
		},
		{
			"notice with both before and at", "WorkflowTemplate", saTemplate + "  notices: [{before: 7d, to: [owner]}, {before: 1d, at: end, to: [owner]}]\n",
			[]Violation{{[]string{"spec", "notices", "1"}, `"spec.notices[1]" must have either before (e.g. before: 30d) or at: end, not both`}},
		},
		{
			"notice with neither, to nobody", "WorkflowTemplate", saTemplate + "  notices: [{to: []}]\n",
			[]Violation{
				{[]string{"spec", "notices", "0"}, `"spec.notices[0]" must have either before (e.g. before: 30d) or at: end, not both`},
				{[]string{"spec", "notices", "0", "to"}, `"spec.notices[0].to" must list at least 1 item`},
			},
		},
		{
			"approval rule with role and relation", "WorkflowTemplate", saTemplate + "  approvals: {grant: [{role: security-approvers, relation: owner}]}\n",
			[]Violation{{[]string{"spec", "approvals", "grant", "0"}, `"spec.approvals.grant[0]" must name either a role or a relation, not both (e.g. {role: security-approvers, count: 1} or {relation: owner-manager})`}},
		},
		{
			"approval count below one", "Role", role + "  approvers: [{role: security-approvers, count: 0}]\n",
			[]Violation{{[]string{"spec", "approvers", "0", "count"}, `"spec.approvers[0].count" must be at least 1, not 0`}},
		},
		{
			"unknown inactive type", "WorkflowTemplate", strings.Replace(saTemplate, "ServiceAccount", "Person", 1)[:0] +
				"apiVersion: alm/v1\nkind: WorkflowTemplate\nmetadata: {name: employee}\nspec:\n  appliesTo: Person\n  ou: OU=People\n  inactive: {suspend: {atEnd: remain}, garden-leave: {atEnd: quit}}\n",
			[]Violation{
				{[]string{"spec", "inactive", "garden-leave", "atEnd"}, `"spec.inactive.garden-leave.atEnd" must be one of resume, leave, remain, not "quit"`},
				{[]string{"spec", "inactive", "suspend"}, `unknown field "spec.inactive.suspend" (did you mean "suspended"?)`},
			},
		},
		{
			"naming is not a regular expression", "WorkflowTemplate", saTemplate + "  naming: '^svc-(['\n",
			[]Violation{{[]string{"spec", "naming"}, "\"spec.naming\" must be a regular expression (RE2 syntax): error parsing regexp: missing closing ]: `[`"}},
		},
		{
			"privileged role without approvers", "Role", role + "  privileged: true\n",
			[]Violation{{[]string{"spec", "approvers"}, `"spec.approvers" is required for a privileged role: who must approve a grant, e.g. [{role: security-approvers, count: 1}]`}},
		},
		{
			"privileged role with no approver rules", "Role", role + "  privileged: true\n  approvers: []\n",
			[]Violation{{[]string{"spec", "approvers"}, `"spec.approvers" must list at least one rule for a privileged role, e.g. [{role: security-approvers, count: 1}]`}},
		},
		{
			"empty birthright", "Role", role + "  birthright: {}\n",
			[]Violation{{[]string{"spec", "birthright"}, `"spec.birthright" must set at least one of department, title, type`}},
		},
		{
			"fraction over one", "Directory", directory + "  limits: {disable: {count: 5, fraction: 1.5}}\n",
			[]Violation{{[]string{"spec", "limits", "disable", "fraction"}, `"spec.limits.disable.fraction" must be at most 1, not 1.5`}},
		},
		{
			"count not whole", "Directory", directory + "  limits: {delete: {count: 2.5}}\n",
			[]Violation{{[]string{"spec", "limits", "delete", "count"}, `"spec.limits.delete.count" must be a whole number, not 2.5`}},
		},
		{
			"ldap url with credentials", "Directory", directory + "  url: ldaps://admin:secret@dc1.example.test\n",
			[]Violation{{[]string{"spec", "url"}, `"spec.url" is "ldaps://admin:secret@dc1.example.test": it must be an ldap:// or ldaps:// URL with a host (and optional port), without credentials or path`}},
		},
		{
			"relative DN", "Directory", directory + "  leaversOU: Leavers\n",
			[]Violation{{[]string{"spec", "leaversOU"}, `"spec.leaversOU" is "Leavers": it must be a distinguished name such as OU=Leavers,OU=ALM (without the baseDN)`}},
		},
		{
			"role name with capitals", "Role", strings.Replace(role, "name: vpn-users", "name: VPN-Users", 1),
			[]Violation{{[]string{"metadata", "name"}, `"metadata.name" is "VPN-Users": it must be lower-case letters, digits and hyphens, beginning and ending with a letter or digit (e.g. vpn-users)`}},
		},
		{
			"group with a trailing space", "Role", strings.Replace(role, "[VPN Users]", "['VPN Users ']", 1),
			[]Violation{{[]string{"spec", "groups", "0"}, `"spec.groups[0]" is "VPN Users ": it must not begin or end with a space`}},
		},
		{
			"several problems, in path order", "Person", strings.Replace(strings.Replace(person, "type: employee", "type: staff", 1), "givenName: Jane", "givenName: ''\n  manger: asmith", 1),
			[]Violation{
				{[]string{"spec", "givenName"}, `"spec.givenName" must not be empty`},
				{[]string{"spec", "manger"}, `unknown field "spec.manger" (did you mean "manager"?)`},
				{[]string{"spec", "type"}, `"spec.type" must be one of employee, contractor, partner, not "staff"`},
			},
		},
		{
			"unknown kind", "Persn", person,
			[]Violation{{[]string{"kind"}, `"kind" must be one of Directory, WorkflowTemplate, Person, ServiceAccount, Role, not "Persn"`}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := s.Validate(tt.kind, parse(t, tt.doc))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Validate:\n got %s\nwant %s", show(got), show(tt.want))
			}
		})
	}
}

func show(vs []Violation) string {
	if len(vs) == 0 {
		return "none"
	}
	var b strings.Builder
	for _, v := range vs {
		b.WriteString("\n  " + strings.Join(v.Pointer, "/") + ": " + v.Message)
	}
	return b.String()
}

func TestValidateNonFinite(t *testing.T) {
	s := mustCompile(t)
	doc := parse(t, directory).(map[string]any)
	doc["spec"].(map[string]any)["limits"] = map[string]any{"disable": map[string]any{"fraction": math.Inf(1)}}
	got := s.Validate("Directory", doc)
	want := []Violation{{[]string{"spec", "limits", "disable", "fraction"}, `"spec.limits.disable.fraction" must be a finite number`}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Validate:\n got %s\nwant %s", show(got), show(want))
	}
}

func TestKinds(t *testing.T) {
	s := mustCompile(t)
	want := []string{"Directory", "WorkflowTemplate", "Person", "ServiceAccount", "Role"}
	if got := s.Kinds(); !reflect.DeepEqual(got, want) {
		t.Errorf("Kinds() = %v, want %v", got, want)
	}
	for _, k := range want {
		if _, ok := s.kinds[k]; !ok {
			t.Errorf("no schema compiled for %s", k)
		}
	}
}

// Where a schema gives no errorMessage for its alternatives, the message
// lists what each alternative wanted.
func TestValidateAlternatives(t *testing.T) {
	s, err := compileFS(os.DirFS("testdata/alternatives"), map[string]string{"Alt": "alternatives.schema.json"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		doc  string
		want []Violation
	}{
		{"none matches", "one: 1.5\nany: 2\n", []Violation{
			{[]string{"any"}, `"any" matches none of its allowed forms: "any" must be a string, not a number; put the value in quotes; or "any" must be true or false, not 2`},
			{[]string{"one"}, `"one" matches none of its allowed forms: "one" must be a string, not a number; put the value in quotes; or "one" must be a whole number, not 1.5`},
		}},
		{"more than one matches", "one: abc\n", []Violation{
			{[]string{"one"}, `"one" matches more than one of its allowed forms (0 and 1)`},
		}},
		{"exactly one matches", "one: abcd\nany: true\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := s.Validate("Alt", parse(t, tt.doc))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Validate:\n got %s\nwant %s", show(got), show(tt.want))
			}
		})
	}
}
