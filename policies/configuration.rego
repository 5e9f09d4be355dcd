# Configuration: alm.yaml, the workflow templates and the organisation's
# policies decide how every later change is judged, and the reconciler's
# reach. Changing one (adding, modifying, renaming or deleting its file)
# needs the people who guard privileged access, as they stood at base: at
# least one approval from a holder of a role that a privileged role names in
# spec.approvers. A template that stood at base also keeps what it asks for
# granting: each role in its spec.approvals.grant (relations do not apply to
# a template, which has no owner).
package alm.builtin.configuration

import data.alm.builtin.lib

kinds := {"Directory", "WorkflowTemplate", "Policy"}

op_word := {"add": "added", "modify": "changed", "rename": "moved", "delete": "deleted"}

deny contains v if {
	lib.reviewed
	some f in input.change.files
	f.kind in kinds
	count(lib.counted & lib.guardians) == 0
	v := {
		"rule": "configuration-approvals",
		"file": f.path,
		"field": lib.field_of(f),
		"msg": sprintf("%s is %s: alm.yaml, templates and policies decide how changes are judged, so changing them needs 1 approval from a holder of %s (the approvers of privileged roles, on the base branch), and it has 0; approved by %s%s", [
			f.path, op_word[f.op], guardian_word, lib.approved_by, can_approve,
		]),
		"can_approve": sort([p | some p in lib.guardians; lib.active(p); not p in lib.authors]),
	}
}

guardian_word := sprintf("role %s", [concat(" or ", sort([r | some r in lib.guardian_roles]))]) if {
	count(lib.guardian_roles) > 0
} else := "a role that a privileged role names in spec.approvers"

can_approve := sprintf("; can approve: %s", [concat(", ", names)]) if {
	names := sort([p | some p in lib.guardians; not p in lib.authors])
	count(names) > 0
} else := "; nobody can: give a privileged role spec.approvers naming a role that active people hold, merge that first, then this change" if {
	count(lib.guardian_roles) == 0
} else := "; nobody can: no active person other than the authors holds that role"

# base_name is the template's name at base (metadata.name may change).
base_name(f) := f.oldName if f.oldName

base_name(f) := f.name if not f.oldName

deny contains v if {
	lib.reviewed
	some f in input.change.files
	f.kind == "WorkflowTemplate"
	template := lib.base.templates[base_name(f)]
	some rule in object.get(template.spec, ["approvals", "grant"], [])
	rule.role
	have := lib.holds(rule.role)
	have < lib.needed(rule)
	v := {
		"rule": "configuration-approvals",
		"file": f.path,
		"field": lib.field_of(f),
		"msg": sprintf("template %s is %s: it needs what it asks for granting on the base branch, %d %s from a holder of role %s (spec.approvals.grant), and it has %d; approved by %s", [
			base_name(f), op_word[f.op], lib.needed(rule), lib.plural(lib.needed(rule)), rule.role, have, lib.approved_by,
		]),
		"can_approve": sort(lib.holders_able(rule.role)),
	}
}
