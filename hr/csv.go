package hr

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/alm-project/alm/reconciler/model"
)

// Row is one person of the export, as read: each mapped field's value,
// trimmed, and where it came from.
type Row struct {
	Line                                                    int // the line it starts on (the header is line 1)
	ID, Login, GivenName, Surname, Email, Department, Title string
	Manager                                                 string // the manager's employee id
	Type                                                    string // alm's person type
	Start, End                                              model.Date
	has                                                     map[string]bool // fields the export has a column for
}

// Bad is a row that is skipped, and why: the line, the column (as the
// export names it) and what to do.
type Bad struct {
	Line   int    `json:"line,omitempty"` // 0 for a file of the repository (File)
	File   string `json:"file,omitempty"`
	ID     string `json:"id,omitempty"`
	Column string `json:"column,omitempty"`
	Reason string `json:"reason"`
}

func (b Bad) String() string {
	var s strings.Builder
	if b.Line == 0 {
		s.WriteString(b.File)
	} else {
		fmt.Fprintf(&s, "line %d", b.Line)
	}
	if b.ID != "" {
		fmt.Fprintf(&s, " (employee %s)", b.ID)
	}
	if b.Column != "" {
		fmt.Fprintf(&s, " column %s", b.Column)
	}
	return s.String() + ": " + b.Reason
}

// Export is an HR export read: its rows, the rows skipped, and which
// fields it has a column for (those HR owns in this run).
type Export struct {
	File string
	Rows []Row
	Bad  []Bad
	Has  map[string]bool
}

var bom = []byte{0xEF, 0xBB, 0xBF}

// Read reads a CSV export as HR systems write it: a header row, fields
// quoted where needed, UTF-8 with or without a byte-order mark, separated
// by "," or ";" (or a tab), guessed from the header unless the mapping
// says. A row that cannot be read as a person is in Bad, with its line
// and column; a file that is not CSV at all, or lacks a column the
// mapping requires, is an error and nothing is read.
func Read(file string, r io.Reader, m Mapping) (*Export, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(4)
	switch {
	case bytes.HasPrefix(head, bom):
		_, _ = br.Discard(len(bom))
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return nil, fmt.Errorf("%s: UTF-16: export as UTF-8 (with or without a byte-order mark)", file)
	}
	sep := m.Separator
	if sep == "" {
		// Peek returns what it could read along with EOF or a full buffer.
		first, _ := br.Peek(64 << 10)
		sep = guess(first)
	}
	cr := csv.NewReader(br)
	cr.Comma = rune(sep[0])
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	header, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%s: empty: an export needs a header row", file)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: header: %w", file, err)
	}
	index := map[string]int{}
	for i, h := range header {
		k := strings.ToLower(strings.TrimSpace(h))
		if j, ok := index[k]; ok && k != "" {
			return nil, fmt.Errorf("%s: header: column %q is both column %d and column %d: rename one in the export", file, h, j+1, i+1)
		}
		index[k] = i
	}
	x := &Export{File: file, Has: map[string]bool{}}
	cols := map[string]int{}
	for _, f := range fields {
		name := m.Columns.of(f)
		if name == "" {
			continue
		}
		i, ok := index[strings.ToLower(strings.TrimSpace(name))]
		if !ok {
			if required(f, m) {
				return nil, fmt.Errorf("%s: no column %q (columns.%s): the export's header has %s; fix the mapping or the export", file, name, f, strings.Join(header, ", "))
			}
			continue
		}
		cols[f], x.Has[f] = i, true
	}
	// Rows of an employee id that appears more than once are all skipped:
	// which of them HR means is not for alm to guess.
	type read struct {
		row Row
		bad *Bad
	}
	var rows []read
	lines := map[string][]int{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		line, _ := cr.FieldPos(0)
		var pe *csv.ParseError
		switch {
		case errors.As(err, &pe) && !errors.Is(err, csv.ErrFieldCount):
			return nil, fmt.Errorf("%s:%d:%d: not CSV: %v: fix the export (nothing was read)", file, pe.Line, pe.Column, pe.Err)
		case err != nil && !errors.Is(err, csv.ErrFieldCount):
			return nil, fmt.Errorf("%s: %w (nothing was read)", file, err)
		}
		if blank(rec) {
			continue
		}
		var row Row
		var bad *Bad
		if len(rec) != len(header) {
			id := ""
			if i, ok := cols[FieldID]; ok && i < len(rec) {
				id = strings.TrimSpace(rec[i])
			}
			bad = &Bad{Line: line, ID: id, Reason: fmt.Sprintf("%d fields, the header has %d: a separator or quote is out of place", len(rec), len(header))}
		} else {
			row, bad = parseRow(line, rec, header, cols, m)
		}
		if bad == nil {
			lines[row.ID] = append(lines[row.ID], line)
		}
		rows = append(rows, read{row, bad})
	}
	for _, r := range rows {
		bad := r.bad
		if ls := lines[r.row.ID]; bad == nil && len(ls) > 1 {
			var others []string
			for _, l := range ls {
				if l != r.row.Line {
					others = append(others, strconv.Itoa(l))
				}
			}
			bad = &Bad{Line: r.row.Line, ID: r.row.ID, Column: header[cols[FieldID]],
				Reason: fmt.Sprintf("employee id %s is on line %s too: HR exports one row per person, so every row of it is skipped", r.row.ID, strings.Join(others, ", "))}
		}
		if bad != nil {
			x.Bad = append(x.Bad, *bad)
			continue
		}
		r.row.has = x.Has
		x.Rows = append(x.Rows, r.row)
	}
	return x, nil
}

func required(f string, m Mapping) bool {
	switch f {
	case FieldID, FieldGivenName, FieldSurname, FieldStartDate:
		return true
	case FieldLogin:
		return m.Login == ""
	}
	return false
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// guess picks the separator the header line uses most, outside quotes.
func guess(data []byte) string {
	line, _, _ := bytes.Cut(data, []byte("\n"))
	counts := map[byte]int{}
	quoted := false
	for _, c := range line {
		switch {
		case c == '"':
			quoted = !quoted
		case !quoted && (c == ',' || c == ';' || c == '\t'):
			counts[c]++
		}
	}
	best := byte(',')
	for _, c := range []byte{';', '\t'} {
		if counts[c] > counts[best] {
			best = c
		}
	}
	return string(best)
}

// validID is the schema's pattern of metadata.id.
var validID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

func parseRow(line int, rec, header []string, cols map[string]int, m Mapping) (Row, *Bad) {
	row := Row{Line: line}
	get := func(f string) (string, string) {
		i, ok := cols[f]
		if !ok {
			return "", ""
		}
		return strings.TrimSpace(rec[i]), header[i]
	}
	bad := func(f, format string, args ...any) (Row, *Bad) {
		_, col := get(f)
		return row, &Bad{Line: line, ID: row.ID, Column: col, Reason: fmt.Sprintf(format, args...)}
	}
	if id, _ := get(FieldID); utf8.ValidString(id) {
		row.ID = id
	}
	for _, f := range fields {
		if i, ok := cols[f]; ok && !utf8.ValidString(rec[i]) {
			return bad(f, "not UTF-8: export as UTF-8")
		}
	}
	switch {
	case row.ID == "":
		return bad(FieldID, "no employee id: every row needs one")
	case len(row.ID) > 16 || !validID.MatchString(row.ID):
		return bad(FieldID, "employee id %q is not one alm can key a file by (at most 16 letters, digits, '.', '_' and '-', starting with a letter or digit): fix it in HR", row.ID)
	}
	for _, f := range []string{FieldGivenName, FieldSurname, FieldStartDate} {
		if v, _ := get(f); v == "" {
			return bad(f, "empty, and a person needs %s", f)
		}
	}
	row.Login, _ = get(FieldLogin)
	row.GivenName, _ = get(FieldGivenName)
	row.Surname, _ = get(FieldSurname)
	row.Email, _ = get(FieldEmail)
	row.Department, _ = get(FieldDepartment)
	row.Title, _ = get(FieldTitle)
	row.Manager, _ = get(FieldManager)
	t, _ := get(FieldType)
	typ, ok := m.personType(t)
	if !ok {
		return bad(FieldType, "person type %q is not employee, contractor or partner: map it under types in the mapping", t)
	}
	row.Type = typ
	var err error
	s, _ := get(FieldStartDate)
	if row.Start, err = m.date(s); err != nil {
		return bad(FieldStartDate, "%v", err)
	}
	if e, _ := get(FieldEndDate); e != "" {
		if row.End, err = m.date(e); err != nil {
			return bad(FieldEndDate, "%v", err)
		}
		if row.End.Before(row.Start.Time) {
			return bad(FieldEndDate, "ends %s, before the start %s: fix the row in HR", row.End, row.Start)
		}
	}
	if row.Type == model.TypeContractor && row.End.IsZero() {
		if _, ok := cols[FieldEndDate]; !ok {
			return bad(FieldType, "a contractor needs an end date, and the export has no end date column: map columns.endDate")
		}
		return bad(FieldEndDate, "a contractor needs an end date")
	}
	return row, nil
}
