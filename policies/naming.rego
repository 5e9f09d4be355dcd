# Naming: an account's login (metadata.name) fits Active Directory (at most
# 20 characters) and its template's naming pattern (spec.naming, as the
# template stood at base).
package alm.builtin.naming

import data.alm.builtin.lib

deny contains v if {
	some f in lib.present
	f.kind in lib.accounts
	count(f.name) > 20
	v := {
		"rule": "naming",
		"file": f.path,
		"field": "metadata.name",
		"msg": sprintf("%q is %d characters: an Active Directory login has at most 20", [f.name, count(f.name)]),
	}
}

# A login over 20 characters is denied above and not matched: matching costs
# the name's length times the pattern's size (a 650-byte pattern took 32 s
# over a name of 100 KB).
deny contains v if {
	some f in lib.present
	f.kind in lib.accounts
	count(f.name) <= 20
	pattern := lib.template_at_base(f).spec.naming
	pattern != ""
	not regex.match(pattern, f.name)
	v := {
		"rule": "naming",
		"file": f.path,
		"field": "metadata.name",
		"msg": sprintf("%q does not match template %s's naming pattern %s: choose a login that does", [f.name, f.template, pattern]),
	}
}
