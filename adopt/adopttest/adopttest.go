// Package adopttest builds, over LDAP, a part of a domain as people make
// one by hand before alm: people with employeeIDs, managers, titles and
// CNs such as "Brown, Alice"; service accounts in their own OU with an
// expiry; groups, some nested, and memberships of a BUILTIN group. The
// import tests use it, and so can a test that adopts and applies.
package adopttest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// Domain is what Build made.
type Domain struct {
	OU       string // the OU everything is below (full DN)
	Rel      string // OU relative to the base DN, as templates write OUs
	People   string // OU of the people (full DN)
	Services string // OU of the service accounts
	Groups   string // OU of the groups
	BaseDN   string
	// Logins of the accounts made, and the names of the groups.
	PersonLogins, ServiceLogins, GroupNames []string
	// RemoteDesktop is the BUILTIN group some accounts are members of.
	RemoteDesktop string
}

// Options size the domain part.
type Options struct {
	People   int       // people (distinct names up to 180); the first tenth manage the others
	Services int       // service accounts, each owned (manager) by a person
	Now      time.Time // expiries fall 30 to 300 days after its day, at midnight UTC
	Domain   string    // the DNS domain, for userPrincipalName (login@Domain)
}

var (
	given   = []string{"Alice", "Bruno", "Chen", "Dana", "Emeka", "Fatima", "Gustav", "Hana", "Ivan", "Julia", "Kofi", "Lena"}
	surname = []string{"Brown", "Okafor", "Rossi", "Nguyen", "Schmidt", "Garcia", "Kim", "Walker", "Patel", "Dubois", "Novak", "Silva", "Haddad", "Larsen", "Mensah"}
	depts   = []string{"Finance", "Sales", "Engineering", "Operations", "Support"}
	titles  = []string{"Analyst", "Engineer", "Manager", "Specialist", "Coordinator"}
	groups  = []string{"Finance", "Sales", "Engineering", "Operations", "Support", "VPN Users", "Reports", "Wiki Editors", "Source Readers", "Printers"}
)

// Build makes the domain part below ou (which must exist) over c: OUs
// People, Service Accounts and Groups, the accounts and the 10 groups.
// Names carry a random tag, as sAMAccountNames are unique in the domain.
func Build(c *ldap.Conn, baseDN, ou string, o Options) (*Domain, error) {
	tag := random(3)
	d := &Domain{OU: ou, Rel: strings.TrimSuffix(ou, ","+baseDN), BaseDN: baseDN,
		People: "OU=People," + ou, Services: "OU=Service Accounts," + ou, Groups: "OU=Groups," + ou,
		RemoteDesktop: "CN=Remote Desktop Users,CN=Builtin," + baseDN}
	for _, dn := range []string{d.People, d.Services, d.Groups} {
		add := ldap.NewAddRequest(dn, nil)
		add.Attribute("objectClass", []string{"top", "organizationalUnit"})
		if err := c.Add(add); err != nil {
			return nil, fmt.Errorf("add %s: %w", dn, err)
		}
	}
	groupDN := map[string]string{}
	members := map[string][]string{} // group DN -> member DNs
	for _, g := range groups {
		name := g + " " + tag
		dn := "CN=" + ldap.EscapeDN(name) + "," + d.Groups
		add := ldap.NewAddRequest(dn, nil)
		add.Attribute("objectClass", []string{"top", "group"})
		add.Attribute("sAMAccountName", []string{name})
		if err := c.Add(add); err != nil {
			return nil, fmt.Errorf("add %s: %w", dn, err)
		}
		groupDN[g] = dn
		d.GroupNames = append(d.GroupNames, name)
	}
	// Nesting, as domains grow it: reports sit in finance, source readers in engineering.
	members[groupDN["Finance"]] = append(members[groupDN["Finance"]], groupDN["Reports"])
	members[groupDN["Engineering"]] = append(members[groupDN["Engineering"]], groupDN["Source Readers"])

	managers := max(1, o.People/10)
	var personDN []string
	for i := 0; i < o.People; i++ {
		// Distinct names for the first 180: cns are unique within an OU.
		g, s := given[i%len(given)], surname[(i/len(given))%len(surname)]
		login := fmt.Sprintf("p%s%03d", tag, i)
		cn := s + ", " + g // the common "Surname, Given" form
		if i%10 == 3 {
			cn = g + " " + s
		}
		if i >= len(given)*len(surname) {
			cn += " " + strconv.Itoa(i)
		}
		dn := "CN=" + ldap.EscapeDN(cn) + "," + d.People
		dept := depts[i%len(depts)]
		attrs := map[string]string{
			"givenName": g, "sn": s, "displayName": g + " " + s, "employeeID": fmt.Sprintf("E%s%04d", tag, i),
			"title": titles[i%len(titles)], "department": dept, "mail": strings.ToLower(g+"."+s+strconv.Itoa(i)) + "@example.test",
			// as Active Directory Users and Computers writes it: login@domain
			"userPrincipalName": login + "@" + o.Domain,
		}
		if i >= managers {
			attrs["manager"] = personDN[i%managers]
		}
		if err := addUser(c, dn, login, 512, attrs); err != nil {
			return nil, err
		}
		personDN = append(personDN, dn)
		d.PersonLogins = append(d.PersonLogins, login)
		members[groupDN[dept]] = append(members[groupDN[dept]], dn)
		if i%3 == 0 {
			members[groupDN["VPN Users"]] = append(members[groupDN["VPN Users"]], dn)
		}
		if i%4 == 0 { // a set several accounts hold together
			members[groupDN["Wiki Editors"]] = append(members[groupDN["Wiki Editors"]], dn)
			members[groupDN["Printers"]] = append(members[groupDN["Printers"]], dn)
		}
		if i%7 == 0 {
			members[d.RemoteDesktop] = append(members[d.RemoteDesktop], dn)
		}
	}
	day := time.Date(o.Now.Year(), o.Now.Month(), o.Now.Day(), 0, 0, 0, 0, time.UTC)
	for i := 0; i < o.Services; i++ {
		login := fmt.Sprintf("svc-%s-%02d", tag, i)
		dn := "CN=" + login + "," + d.Services
		expires := day.AddDate(0, 0, 30+(i*13)%270)
		attrs := map[string]string{"description": "Service " + strconv.Itoa(i) + " of the " + depts[i%len(depts)] + " team",
			"accountExpires": fileTime(expires), "userPrincipalName": login + "@" + o.Domain,
			// the "Full name" Active Directory Users and Computers asks for
			"displayName": depts[i%len(depts)] + " service " + strconv.Itoa(i)}
		if len(personDN) > 0 {
			attrs["manager"] = personDN[i%len(personDN)]
		}
		// Enabled, password never expires: 512 | DONT_EXPIRE_PASSWORD.
		if err := addUser(c, dn, login, 512|0x10000, attrs); err != nil {
			return nil, err
		}
		d.ServiceLogins = append(d.ServiceLogins, login)
		members[groupDN["Reports"]] = append(members[groupDN["Reports"]], dn)
		if i%5 == 0 {
			members[d.RemoteDesktop] = append(members[d.RemoteDesktop], dn)
		}
	}
	for g, ms := range members {
		mod := ldap.NewModifyRequest(g, nil)
		mod.Add("member", ms)
		if err := c.Modify(mod); err != nil {
			return nil, fmt.Errorf("add %d members to %s: %w", len(ms), g, err)
		}
	}
	return d, nil
}

func addUser(c *ldap.Conn, dn, login string, uac int, attrs map[string]string) error {
	add := ldap.NewAddRequest(dn, nil)
	add.Attribute("objectClass", []string{"top", "person", "organizationalPerson", "user"})
	add.Attribute("sAMAccountName", []string{login})
	for k, v := range attrs {
		add.Attribute(k, []string{v})
	}
	// A password, as a person setting up an account gives it one.
	add.Attribute("unicodePwd", []string{unicodePwd("Aa1-" + random(12))})
	if err := c.Add(add); err != nil {
		return fmt.Errorf("add %s: %w", dn, err)
	}
	// Samba adds a user disabled without a password; it takes 512 afterwards.
	mod := ldap.NewModifyRequest(dn, nil)
	mod.Replace("userAccountControl", []string{strconv.Itoa(uac)})
	if err := c.Modify(mod); err != nil {
		return fmt.Errorf("enable %s: %w", dn, err)
	}
	return nil
}

// Repo writes the access repository's alm.yaml and templates for the domain
// part into files (path -> content), with domain the DNS name.
func (d *Domain) Repo(domain string) map[string]string {
	return map[string]string{
		"alm.yaml": `apiVersion: alm/v1
kind: Directory
metadata: {name: adopted}
spec:
  domain: ` + domain + `
  baseDN: ` + d.BaseDN + `
  groupsOU: OU=Groups,` + d.Rel + `
`,
		"templates/employee.yaml": `apiVersion: alm/v1
kind: WorkflowTemplate
metadata: {name: employee}
spec:
  appliesTo: Person
  personTypes: [employee]
  ou: OU=People,` + d.Rel + `
`,
		"templates/service-account.yaml": `apiVersion: alm/v1
kind: WorkflowTemplate
metadata: {name: service-account}
spec:
  appliesTo: ServiceAccount
  ou: OU=Service Accounts,` + d.Rel + `
  lifetime: {default: 180d, max: 365d}
  accountFlags: [DONT_EXPIRE_PASSWORD]
`,
	}
}

// unicodePwd is a password as AD takes it: quoted, in UTF-16LE.
func unicodePwd(pw string) string {
	var b []byte
	for _, r := range "\"" + pw + "\"" {
		b = append(b, byte(r), byte(r>>8))
	}
	return string(b)
}

// fileTime is t as a Windows file time, as accountExpires holds it.
func fileTime(t time.Time) string {
	const epoch = -11644473600 // 1601-01-01 UTC in Unix seconds
	return strconv.FormatInt((t.Unix()-epoch)*10_000_000, 10)
}

func random(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)[:n+1]
}
