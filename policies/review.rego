# Review: an account a change touches whose access review is due - its
# template (as at base) has review.every, and spec.reviewed plus every (for
# an account never reviewed, a person's startDate or a service account's
# created plus every) is today or earlier - is warned about, never denied:
# the review itself is `alm review open`'s pull request, and the grace is
# the lifecycle's. Only the accounts the change touches, so that a pull
# request says what its author can act on rather than repeating every
# overdue review in the repository on every change.
package alm.builtin.review

import data.alm.builtin.lib

# from is the date a review is counted from, and its field.
from(f) := [f.after.spec.reviewed, "spec.reviewed"] if {
	object.get(f.after.spec, "reviewed", null) != null
} else := [f.after.spec.startDate, "spec.startDate"] if {
	f.kind == "Person"
	object.get(f.after.spec, "startDate", null) != null
} else := [f.after.spec.created, "spec.created"] if {
	f.kind == "ServiceAccount"
	object.get(f.after.spec, "created", null) != null
}

# unreviewed are the statuses of accounts no review is asked of: not
# started, or on their way out.
unreviewed := {"pending", "leaver", "archived", "retired"}

warn contains v if {
	some f in lib.present
	f.kind in lib.accounts
	not f.statusAfter in unreviewed
	r := lib.template_at_base(f).spec.review
	every_ns := lib.duration_ns(r.every)
	every_ns > 0
	[start, field] := from(f)
	due_ns := lib.date_ns(start) + every_ns
	due_ns <= lib.today_ns
	due := time.format([due_ns, "UTC", "2006-01-02"])
	v := {
		"rule": "review",
		"file": f.path,
		"field": field,
		"msg": sprintf("%s %s's access review was due %s (every %s from %s): its %s confirms it by merging the pull request alm review open opens, which moves spec.reviewed%s", [
			lib.kind_word[f.kind], f.name, due, r.every, field, r.by, consequence(r, due_ns),
		]),
	}
}

consequence(r, due_ns) := sprintf("; not confirmed by %s (grace %s), alm disables the account until it is", [
	time.format([due_ns + lib.duration_ns(r.grace), "UTC", "2006-01-02"]), r.grace,
]) if {
	lib.duration_ns(object.get(r, "grace", "0d")) > 0
} else := ""
