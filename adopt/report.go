package adopt

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/alm-project/alm/reconciler/load"
	"github.com/alm-project/alm/reconciler/model"
)

// What a run did to a file.
const (
	StatusNew       = "new"
	StatusChanged   = "changed"
	StatusUnchanged = "unchanged"
)

// Report is what an import found and did: the closing report.
type Report struct {
	DryRun      bool   `json:"dryRun"`
	Files       []File `json:"files"`
	Managed     []Skip `json:"managed"`     // carrying alm's marker already
	Protected   []Skip `json:"protected"`   // built-in or protected: never imported
	NotImported []Skip `json:"notImported"` // no template for their OU, or a conflict
	Todo        []Todo `json:"todo"`        // what a person must fill or check
	Pins        Pins   `json:"pins"`
	// Effects are what the plan after the adopting apply would change, as
	// alm plan would show it: what a reviewer must agree to, or fix in the
	// files (or alm.yaml's attributes) first.
	Effects  []Effect      `json:"effects"`
	Problems load.Problems `json:"problems"` // alm validate's problems with the files as written
}

// MarshalJSON writes every list as [] when it is empty, never null.
func (r Report) MarshalJSON() ([]byte, error) {
	type plain Report
	p := plain(r)
	p.Files = nonNil(p.Files)
	p.Managed, p.Protected, p.NotImported = nonNil(p.Managed), nonNil(p.Protected), nonNil(p.NotImported)
	p.Todo = nonNil(p.Todo)
	p.Effects = nonNil(p.Effects)
	if p.Problems == nil {
		p.Problems = load.Problems{}
	}
	return json.Marshal(p)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// File is one file import wrote, would write, or left as it was.
type File struct {
	Path    string   `json:"path"`
	Kind    string   `json:"kind"`
	Account string   `json:"account,omitempty"`
	Status  string   `json:"status"`
	Fields  []string `json:"fields,omitempty"`  // the fields that changed
	Content string   `json:"content,omitempty"` // with a dry run: what would be written
	content []byte
}

// Effect is one change the first apply would make besides adopting.
type Effect struct {
	File    string `json:"file,omitempty"`
	Account string `json:"account,omitempty"`
	Action  string `json:"action"`
	Text    string `json:"text"` // e.g. "title: \"Analyst\" -> \"\"" or the group
}

// Skip is an account import did not write a file for, and why.
type Skip struct {
	Account string `json:"account"`
	DN      string `json:"dn"`
	Why     string `json:"why"`
}

// Todo is something a person must fill in or check in a file.
type Todo struct {
	File    string `json:"file"`
	Account string `json:"account,omitempty"`
	Field   string `json:"field"`
	Text    string `json:"text"`
}

// Pins count the accounts whose cn or displayName the files pin because
// the template would give another, and the cn format that fits most of them.
type Pins struct {
	CN          int    `json:"cn"`
	DisplayName int    `json:"displayName"`
	CNFormat    string `json:"cnFormat,omitempty"` // a template cn format
	CNFits      int    `json:"cnFits,omitempty"`   // how many pinned cns it gives
}

// Count returns how many files are new, changed and unchanged.
func (r *Report) Count() (created, changed, unchanged int) {
	for _, f := range r.Files {
		switch f.Status {
		case StatusNew:
			created++
		case StatusChanged:
			changed++
		default:
			unchanged++
		}
	}
	return created, changed, unchanged
}

// WithContent puts each new or changed file's content in the report, for a dry run's JSON.
func (r *Report) WithContent() {
	for i := range r.Files {
		r.Files[i].Content = string(r.Files[i].content)
	}
}

// cnFormats are the template cn formats tried against the pinned cns.
var cnFormats = []string{model.CNLogin, model.CNDisplayName, "{givenName} {surname}", "{surname}, {givenName}", "{surname} {givenName}"}

func countPins(drafts []*draft, pinned []*draft) Pins {
	var p Pins
	for _, d := range drafts {
		if d.displayPin != "" {
			p.DisplayName++
		}
	}
	p.CN = len(pinned)
	for _, f := range cnFormats {
		n := 0
		for _, d := range pinned {
			if formatCN(f, d) == d.cnPin {
				n++
			}
		}
		if n > p.CNFits {
			p.CNFormat, p.CNFits = f, n
		}
	}
	return p
}

func formatCN(format string, d *draft) string {
	a := d.live.Attributes
	switch format {
	case model.CNLogin:
		return d.live.Name
	case model.CNDisplayName:
		return a["displayName"]
	}
	return strings.NewReplacer("{givenName}", a["givenName"], "{surname}", a["sn"], "{login}", d.live.Name).Replace(format)
}

// Text writes the closing report for a person.
func (r *Report) Text(w io.Writer) error {
	var b strings.Builder
	created, changed, unchanged := r.Count()
	fmt.Fprintf(&b, "%d new, %d changed, %d unchanged", created, changed, unchanged)
	if r.DryRun {
		b.WriteString(" (dry run: nothing written)")
	}
	b.WriteString("\n")
	for _, f := range r.Files {
		switch f.Status {
		case StatusNew:
			fmt.Fprintf(&b, "  new      %s\n", f.Path)
		case StatusChanged:
			fmt.Fprintf(&b, "  changed  %s: %s\n", f.Path, strings.Join(f.Fields, ", "))
		}
	}
	skips := func(title string, list []Skip) {
		if len(list) == 0 {
			return
		}
		fmt.Fprintf(&b, "\n%s (%d):\n", title, len(list))
		for _, s := range list {
			fmt.Fprintf(&b, "  %s (%s): %s\n", s.Account, s.DN, s.Why)
		}
	}
	if len(r.Managed) > 0 {
		fmt.Fprintf(&b, "\nSkipped, managed by alm already (they carry its marker): %d\n", len(r.Managed))
	}
	skips("Built-in or protected, never imported", r.Protected)
	skips("Not imported", r.NotImported)
	if len(r.Todo) > 0 {
		fmt.Fprintf(&b, "\nTo fill in or check by hand (%d):\n", len(r.Todo))
		for _, t := range r.Todo {
			fmt.Fprintf(&b, "  %s %s: %s\n", t.File, t.Field, t.Text)
		}
	}
	if r.Pins.CN > 0 || r.Pins.DisplayName > 0 {
		fmt.Fprintf(&b, "\nPinned where the template gives another value: %d cn, %d displayName.\n", r.Pins.CN, r.Pins.DisplayName)
		if r.Pins.CNFits > 0 {
			fmt.Fprintf(&b, "A template cn format of %q would give %d of the %d pinned cns.\n", r.Pins.CNFormat, r.Pins.CNFits, r.Pins.CN)
		}
	}
	if len(r.Effects) > 0 {
		fmt.Fprintf(&b, "\nThe apply that adopts writes only alm's marker; the plan after it would change (%d) - fix the files, or alm.yaml's attributes, if it should not:\n", len(r.Effects))
		for _, e := range r.Effects {
			fmt.Fprintf(&b, "  %s %s: %s\n", e.Action, orDash(e.Account), e.Text)
		}
	} else if len(r.Problems) == 0 && len(r.Files) > 0 {
		b.WriteString("\nThe apply that adopts writes alm's marker on each account imported; the plans after it change nothing else.\n")
	}
	if len(r.Problems) > 0 {
		fmt.Fprintf(&b, "\n%d problems (alm validate):\n", len(r.Problems))
		for _, p := range r.Problems {
			fmt.Fprintf(&b, "  %s\n", p)
		}
		b.WriteString("Fix them and run alm validate again.\n")
	} else {
		b.WriteString("\nThe files are valid (alm validate).\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Files writes, for a dry run, each file that would be written: path, then content.
func (r *Report) WriteFiles(w io.Writer) error {
	for _, f := range r.Files {
		if f.Status == StatusUnchanged {
			continue
		}
		if _, err := fmt.Fprintf(w, "--- %s (%s)\n%s\n", f.Path, f.Status, f.content); err != nil {
			return err
		}
	}
	return nil
}
