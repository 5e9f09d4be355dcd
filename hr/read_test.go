package hr

import (
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	m := Default()
	tests := []struct {
		name    string
		csv     string
		rows    []string // id login given surname start end type
		bad     []string // Bad.String()
		wantErr string
	}{
		{name: "comma, no BOM",
			csv:  "id,login,givenName,surname,startDate\nE1,jdoe,Jane,Doe,2026-01-05\n",
			rows: []string{"E1 jdoe Jane Doe 2026-01-05  "}},
		{name: "semicolon and BOM, a quoted separator and quote",
			csv:  "\ufeffid;givenName;surname;title;startDate\nE1;Jane;Doe;\"Head; \"\"EMEA\"\"\";2026-01-05\n",
			rows: []string{"E1  Jane Doe 2026-01-05  "}},
		{name: "CRLF and blank lines",
			csv:  "id,givenName,surname,startDate\r\n\r\nE1,Jane,Doe,2026-01-05\r\n",
			rows: []string{"E1  Jane Doe 2026-01-05  "}},
		{name: "header names ignore case and space",
			csv:  " ID , GivenName,SURNAME,startdate\nE1,Jane,Doe,2026-01-05\n",
			rows: []string{"E1  Jane Doe 2026-01-05  "}},
		{name: "bad rows are skipped, the others read",
			csv: "id,givenName,surname,startDate,endDate,type\n" +
				",Jane,Doe,2026-01-05,,\n" +
				"E2,,Doe,2026-01-05,,\n" +
				"E3,Jo,Do,5 Jan 2026,,\n" +
				"E4,Jo,Do,2026-01-05,2025-01-01,\n" +
				"E5,Jo,Do,2026-01-05,,intern\n" +
				"E6,Jo,Do,2026-01-05,,contractor\n" +
				"E7,Jo,Do,2026-01-05\n" +
				"E8,Jo,Do,2026-01-05,,\n" +
				"E8,Jo,Do,2026-01-05,,\n" +
				"E9 X/1,Jo,Do,2026-01-05,,\n" +
				"E10,Jo,Do,2026-01-05,,Employee\n" +
				"E11,Jo,Do,2026-01-05,,\n",
			rows: []string{"E10  Jo Do 2026-01-05  employee", "E11  Jo Do 2026-01-05  "},
			bad: []string{
				"line 2 column id: no employee id: every row needs one",
				"line 3 (employee E2) column givenName: empty, and a person needs givenName",
				`line 4 (employee E3) column startDate: "5 Jan 2026" is not a date in YYYY-MM-DD`,
				"line 5 (employee E4) column endDate: ends 2025-01-01, before the start 2026-01-05: fix the row in HR",
				`line 6 (employee E5) column type: person type "intern" is not employee, contractor or partner: map it under types in the mapping`,
				"line 7 (employee E6) column endDate: a contractor needs an end date",
				"line 8 (employee E7): 4 fields, the header has 6: a separator or quote is out of place",
				"line 9 (employee E8) column id: employee id E8 is on line 10 too: HR exports one row per person, so every row of it is skipped",
				"line 10 (employee E8) column id: employee id E8 is on line 9 too: HR exports one row per person, so every row of it is skipped",
				`line 11 (employee E9 X/1) column id: employee id "E9 X/1" is not one alm can key a file by (at most 16 letters, digits, '.', '_' and '-', starting with a letter or digit): fix it in HR`,
			}},
		{name: "not UTF-8", csv: "id,givenName,surname,startDate\nE1,J\xe9r\xf4me,Doe,2026-01-05\n",
			bad: []string{"line 2 (employee E1) column givenName: not UTF-8: export as UTF-8"}},
		{name: "a required column missing", csv: "id,givenName,startDate\nE1,Jane,2026-01-05\n",
			wantErr: `no column "surname" (columns.surname)`},
		{name: "a column twice in the header", csv: "id,givenName,surname,startDate,ID\n", wantErr: `column "ID" is both column 1 and column 5`},
		{name: "UTF-16", csv: "\xff\xfei\x00d\x00", wantErr: "UTF-16: export as UTF-8"},
		{name: "empty", csv: "", wantErr: "empty: an export needs a header row"},
		{name: "a quote out of place", csv: "id,givenName,surname,startDate\nE1,Ja\"ne,Doe,2026-01-05\n",
			wantErr: "x.csv:2:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, err := Read("x.csv", strings.NewReader(tt.csv), m)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var rows, bad []string
			for _, r := range x.Rows {
				rows = append(rows, strings.Join([]string{r.ID, r.Login, r.GivenName, r.Surname, r.Start.String(), r.End.String(), r.Type}, " "))
			}
			for _, b := range x.Bad {
				bad = append(bad, b.String())
			}
			if strings.Join(rows, "\n") != strings.Join(tt.rows, "\n") || strings.Join(bad, "\n") != strings.Join(tt.bad, "\n") {
				t.Errorf("rows\n%s\nbad\n%s\nwant rows\n%s\nbad\n%s", strings.Join(rows, "\n"), strings.Join(bad, "\n"), strings.Join(tt.rows, "\n"), strings.Join(tt.bad, "\n"))
			}
		})
	}
}

func TestLogin(t *testing.T) {
	taken := map[string]bool{"jdoe": true, "jdoe2": true, "averyveryverylongsur": true}
	tests := []struct {
		name, rule, given, surname, want string
	}{
		{"initial and surname", "{given:1}{surname}", "Jane", "Doe", "jdoe3"},
		{"marks dropped", "{given:1}{surname}", "Zoë", "Ångström", "zangstrom"},
		{"letters spelled out", "{given}.{surname}", "Søren", "Åßberg", "soren.assberg"},
		{"spaces and apostrophes left out", "{given:1}{surname}", "Sean", "O'Brien Mac Donald", "sobrienmacdonald"},
		{"cut to 20", "{given:1}{surname}", "Ann", "Bartholomew-Featherstonehaugh", "abartholomew-feathers"[:20]},
		{"cut, then numbered within 20", "{given}{surname}", "Avery", "Veryverylongsurname", "averyveryverylongsu2"},
		{"nothing to make one of", "{surname}", "", "李", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rule, err := parseRule(tt.rule)
			if err != nil {
				t.Fatal(err)
			}
			got := login(rule, tt.given, tt.surname, func(l string) bool { return taken[l] })
			if got != tt.want || len(got) > MaxLogin {
				t.Errorf("login = %q, want %q", got, tt.want)
			}
		})
	}
	for _, bad := range []string{"jdoe", "{given", "{name}", "{given:0}", "{given} {surname}"} {
		if _, err := parseRule(bad); err == nil {
			t.Errorf("rule %q accepted", bad)
		}
	}
}

func TestParseMapping(t *testing.T) {
	tests := []struct {
		name, yaml, wantErr string
	}{
		{"the defaults", "{}", ""},
		{"an unknown field", "colums: {}", "field colums not found"},
		{"no id column", "columns: {id: ''}", "columns.id: name the column"},
		{"neither login column nor rule", "columns: {login: ''}\nlogin: ''", "neither columns.login nor a login rule"},
		{"a bad date format", "dateFormats: [DD/MM/YY]", "dateFormats[0]"},
		{"a type alm does not have", "types: {Intern: trainee}", `types["Intern"]`},
		{"a separator alm does not read", "separator: '|'", "separator"},
		{"a share over 1", "limits: {changes: {share: 2}}", "limits.changes"},
		{"a column mapped twice", "columns: {manager: ID}", `columns.id and columns.manager both name column "ID"`},
		{"an upper-case letter in the login rule", "login: '{given:1}X{surname}'", "between names a rule may write only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseMapping("m.yaml", []byte(tt.yaml))
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
}
