package alm.org.example

deny contains msg if {
	false
	msg := "never"
}
