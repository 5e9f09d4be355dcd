# Identity: metadata.id is the account's identity in the directory (the
# ownership marker), so it never changes; and the file of a live account is
# never deleted, because the reconciler would lose track of the account.
package alm.builtin.identity

import data.alm.builtin.lib

deny contains v if {
	some f in input.change.files
	f.op in {"modify", "rename"}
	f.kind != "Policy"
	old := object.get(f.before, ["metadata", "id"], "")
	old != ""
	new := object.get(f.after, ["metadata", "id"], "")
	new != old
	v := {
		"rule": "immutable-id",
		"file": f.path,
		"field": "metadata.id",
		"msg": sprintf("metadata.id changed from %q to %q: an id never changes; restore %q (to rename, change metadata.name and keep the id)", [old, new, old]),
	}
}

deny contains v if {
	some f in input.change.files
	f.op == "delete"
	f.kind in lib.accounts
	not f.statusBefore in {"archived", "retired"}
	v := {
		"rule": "live-account-deleted",
		"file": f.path,
		"msg": sprintf("%s is deleted while %s is %s: %s and let the reconciler retire the account; delete the file once it is %s", [
			f.path, f.name, f.statusBefore, retire_hint[f.kind], done_status[f.kind],
		]),
	}
}

retire_hint := {
	"Person": "set spec.endDate instead",
	"ServiceAccount": "set spec.state: retired (or an earlier spec.expires) instead",
}

done_status := {"Person": "archived", "ServiceAccount": "retired"}

# A rename keeps the old login in previousNames, so history can find it.
warn contains v if {
	some f in input.change.files
	f.kind in lib.accounts
	f.oldName
	not f.oldName in object.get(f.after.spec, "previousNames", [])
	v := {
		"rule": "rename-history",
		"file": f.path,
		"field": "spec.previousNames",
		"msg": sprintf("%s was renamed from %s: add %s to spec.previousNames so its history can be found", [f.name, f.oldName, f.oldName]),
	}
}
