# ACME's own rule: a service account says what it is for, in at least 20
# characters, so whoever reviews or recertifies it knows what it does.
# alm adds this file to its built-in rules (see alm's policies/README.md for
# the input); test it with: opa test policies/
package alm.org.descriptions

min_length := 20

deny contains v if {
	some f in input.change.files
	f.kind == "ServiceAccount"
	f.op != "delete"
	d := trim_space(object.get(f.after.spec, "description", ""))
	count(d) < min_length
	v := {
		"msg": sprintf("service account %s: description %q is shorter than %d characters; say what the account does and for whom", [f.name, d, min_length]),
		"file": f.path,
		"field": "spec.description",
	}
}
