package metrics

import (
	"github.com/alm-project/alm/reconciler/apply"
	"github.com/alm-project/alm/reconciler/receipt"
)

// Changes counts apply's results by action: those applied and those that
// failed. Skipped changes are in neither: they were not attempted.
func Changes(res apply.Result) (applied, failed map[string]int) {
	applied, failed = map[string]int{}, map[string]int{}
	for _, c := range res.Changes {
		switch c.Outcome {
		case apply.Applied:
			applied[string(c.Change.Action)]++
		case apply.Failed:
			failed[string(c.Change.Action)]++
		}
	}
	return applied, failed
}

// Refusals names what refused a run, as Run.Refused takes it: each limit's
// kind, "change" when the guards refuse changes outright, "unapproved"
// for --require-approved. Nil for nil.
func Refusals(f *receipt.Refusal) []string {
	if f == nil {
		return nil
	}
	if f.By == receipt.ByUnapproved {
		return []string{"unapproved"}
	}
	var out []string
	for _, l := range f.Limits {
		out = append(out, l.Kind)
	}
	if len(f.Changes) > 0 {
		out = append(out, "change")
	}
	return out
}
