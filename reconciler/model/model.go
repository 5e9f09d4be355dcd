// Package model holds the Go types of the access repository's files: one
// type per kind (Directory, WorkflowTemplate, Person, ServiceAccount, Role)
// and the Repository that gathers them at one revision. It does no I/O; the
// load package fills it and checks it.
package model

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// APIVersion is the only apiVersion this build reads.
const APIVersion = "alm/v1"

// Kinds, as written in the files' kind field.
const (
	KindDirectory        = "Directory"
	KindWorkflowTemplate = "WorkflowTemplate"
	KindPerson           = "Person"
	KindServiceAccount   = "ServiceAccount"
	KindRole             = "Role"
)

// Folders says where each kind's files live; alm.yaml stands alone at the top.
var Folders = map[string]string{
	KindWorkflowTemplate: "templates",
	KindPerson:           "people",
	KindServiceAccount:   "service-accounts",
	KindRole:             "roles",
}

// MaxLogin is the most characters a login (metadata.name of an account,
// the sAMAccountName) has, as Active Directory and the schema say.
const MaxLogin = 20

// MaxPattern is the longest naming pattern (a template's spec.naming) alm
// compiles: compiling costs up to half a second for ten kilobytes of
// repetitions, and a pattern for logins of 20 characters needs far less.
const MaxPattern = 1000

// DirectoryFile is the path of the one Directory object.
const DirectoryFile = "alm.yaml"

// Metadata is common to every object. Name is the login for accounts;
// ID is stable for the life of the object and written into the directory as
// the ownership marker, so that a rename stays a rename.
type Metadata struct {
	Name string `yaml:"name" json:"name"`
	ID   string `yaml:"id,omitempty" json:"id,omitempty"`
}

// AccountMetadata is a person's or service account's metadata: Name is
// the login, ID its marker.
type AccountMetadata struct {
	Name string `yaml:"name" json:"name"`
	ID   string `yaml:"id" json:"id"`
	// Adopt (people and service accounts): the account already exists in
	// the directory without alm's marker, and this file claims it. The
	// plan then writes the marker and nothing else; without Adopt an
	// unmarked account of the same name is a finding, never taken over.
	Adopt bool `yaml:"adopt,omitempty" json:"adopt,omitempty"`
}

// Source records where an object was read from, and where each of its fields
// stands, so that every problem can name path:line:col.
type Source struct {
	Path   string    `json:"path"`
	Line   int       `json:"line"`
	Column int       `json:"column"`
	Fields Positions `json:"-"` // "spec.owner", "spec.roles[1]"
	// Blob is the file's Git blob id when it was read from a commit: two
	// objects of one path and blob hold the same content.
	Blob string `json:"-"`
}

// Position is a place in a file.
type Position struct {
	Path   string `json:"path"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
}

func (p Position) String() string {
	switch {
	case p.Line == 0:
		return p.Path
	case p.Column == 0:
		return fmt.Sprintf("%s:%d", p.Path, p.Line)
	}
	return fmt.Sprintf("%s:%d:%d", p.Path, p.Line, p.Column)
}

// At returns the position of a field ("spec.owner"), falling back to the
// nearest enclosing field that was written, then to the object itself.
func (s Source) At(field string) Position {
	for f := field; f != ""; f = parentField(f) {
		if fp, ok := s.Fields.Get(f); ok {
			return Position{Path: s.Path, Line: int(fp.Line), Column: int(fp.Column)}
		}
	}
	return Position{Path: s.Path, Line: s.Line, Column: s.Column}
}

// Positions are where a file's fields stand, sorted by field name. A
// repository holds one per file: a sorted slice of shared names takes a
// fraction of what a map of positions did.
type Positions []FieldPosition

// FieldPosition is where one field's key (or list item) stands.
type FieldPosition struct {
	Field        string
	Line, Column int32
}

// Get returns the position of a field.
func (ps Positions) Get(field string) (FieldPosition, bool) {
	i, ok := slices.BinarySearchFunc(ps, field, func(p FieldPosition, f string) int { return strings.Compare(p.Field, f) })
	if !ok {
		return FieldPosition{}, false
	}
	return ps[i], true
}

// PositionsOf sorts positions given by field (the path of each is the
// file's, and not kept).
func PositionsOf(m map[string]Position) Positions {
	out := make(Positions, 0, len(m))
	for f, p := range m {
		out = append(out, FieldPosition{Field: f, Line: int32(p.Line), Column: int32(p.Column)})
	}
	slices.SortFunc(out, func(a, b FieldPosition) int { return strings.Compare(a.Field, b.Field) })
	return out
}

func parentField(f string) string {
	i := strings.LastIndexAny(f, ".[")
	if i <= 0 {
		return ""
	}
	return f[:i]
}

// Directory (alm.yaml) says where and how to reconcile.
type Directory struct {
	Metadata Metadata      `yaml:"metadata" json:"metadata"`
	Spec     DirectorySpec `yaml:"spec" json:"spec"`
	Source   Source        `yaml:"-" json:"-"`
}

// DirectorySpec: OUs are written relative to BaseDN ("OU=Leavers,OU=ALM").
type DirectorySpec struct {
	Domain          string   `yaml:"domain" json:"domain"` // DNS name; the userPrincipalName suffix
	BaseDN          string   `yaml:"baseDN" json:"baseDN"`
	TimeZone        TimeZone `yaml:"timeZone,omitempty" json:"timeZone"` // dates in the files mean midnight here
	URL             string   `yaml:"url,omitempty" json:"url,omitempty"`
	MarkerAttribute string   `yaml:"markerAttribute,omitempty" json:"markerAttribute,omitempty"`
	GroupsOU        string   `yaml:"groupsOU,omitempty" json:"groupsOU,omitempty"`
	LeaversOU       string   `yaml:"leaversOU,omitempty" json:"leaversOU,omitempty"`
	RetiredOU       string   `yaml:"retiredOU,omitempty" json:"retiredOU,omitempty"`
	Protected       []string `yaml:"protected,omitempty" json:"protected,omitempty"`
	Orphans         string   `yaml:"orphans,omitempty" json:"orphans,omitempty"` // report | disable
	// UnmanagedMemberships: report | remove, for memberships of groups no
	// role names that are neither privileged nor in the groups OU.
	UnmanagedMemberships string `yaml:"unmanagedMemberships,omitempty" json:"unmanagedMemberships,omitempty"`
	Limits               Limits `yaml:"limits,omitempty" json:"limits"`
	StatusBranch         string `yaml:"statusBranch,omitempty" json:"statusBranch,omitempty"`
	// Attributes alm owns: on an account it manages, an owned attribute
	// its file leaves empty is cleared; any other attribute a file leaves
	// out is left as it is. Nil: DefaultAttributes.
	Attributes []string `yaml:"attributes,omitempty" json:"attributes,omitempty"`
	// Notify configures the channels notices go out on. Secrets (SMTP
	// password, webhook key, GitHub token) come from the environment.
	Notify *Notify `yaml:"notify,omitempty" json:"notify,omitempty"`
	// Alerts tells the operators when the reconciler needs them; nil: no
	// alerts.
	Alerts *Alerts `yaml:"alerts,omitempty" json:"alerts,omitempty"`
}

// Alerts: incidents of the reconciler (a refused run, failed changes, no
// success for too long, a lease held too long), told once each on the
// notify channels, and their recovery once.
type Alerts struct {
	// To are the operators' e-mail addresses; the webhook and GitHub
	// channels get every alert whoever it is addressed to.
	To []string `yaml:"to,omitempty" json:"to,omitempty"`
	// NoSuccessWithin: alert when no run has succeeded for this long.
	// Zero: never.
	NoSuccessWithin Interval `yaml:"noSuccessWithin,omitempty" json:"noSuccessWithin"`
	// LeaseHeldLongerThan: alert when one reconciler has held the lease
	// this long (a run stuck, or a holder that died without releasing
	// it). Zero: never.
	LeaseHeldLongerThan Interval `yaml:"leaseHeldLongerThan,omitempty" json:"leaseHeldLongerThan"`
}

// Notify is alm.yaml's channels: any of e-mail, a webhook and GitHub.
type Notify struct {
	Email   *EmailChannel   `yaml:"email,omitempty" json:"email,omitempty"`
	Webhook *WebhookChannel `yaml:"webhook,omitempty" json:"webhook,omitempty"`
	GitHub  *GitHubChannel  `yaml:"github,omitempty" json:"github,omitempty"`
}

// EmailChannel sends notices by SMTP to each recipient's spec.email.
type EmailChannel struct {
	Host string `yaml:"host" json:"host"`
	Port int    `yaml:"port,omitempty" json:"port,omitempty"` // 587 for starttls, 465 for implicit
	// TLS is starttls (the default) or implicit; never plain text.
	TLS         string `yaml:"tls,omitempty" json:"tls,omitempty"`
	From        string `yaml:"from" json:"from"`
	Username    string `yaml:"username,omitempty" json:"username,omitempty"`
	PasswordEnv string `yaml:"passwordEnv,omitempty" json:"passwordEnv,omitempty"` // the variable holding the SMTP password
	// CAFile trusts a private CA for the server's certificate.
	CAFile string `yaml:"caFile,omitempty" json:"caFile,omitempty"`
}

// E-mail TLS modes.
const (
	TLSStartTLS = "starttls"
	TLSImplicit = "implicit"
)

// WebhookChannel posts each notice as JSON (or Slack-compatible text),
// signed with HMAC-SHA256 over the body when SecretEnv names a key.
type WebhookChannel struct {
	// URL is where to POST; URLEnv names a variable holding it instead,
	// for URLs that carry their secret in the path (Slack's).
	URL       string `yaml:"url,omitempty" json:"url,omitempty"`
	URLEnv    string `yaml:"urlEnv,omitempty" json:"urlEnv,omitempty"`
	Format    string `yaml:"format,omitempty" json:"format,omitempty"`       // json (default) | slack
	SecretEnv string `yaml:"secretEnv,omitempty" json:"secretEnv,omitempty"` // the variable holding the HMAC key
}

// Webhook formats.
const (
	WebhookJSON  = "json"
	WebhookSlack = "slack"
)

// GitHubChannel opens an issue per notice in Repository (owner/name),
// mentioning the recipients' spec.github logins. The token is GITHUB_TOKEN.
type GitHubChannel struct {
	Repository string   `yaml:"repository" json:"repository"`
	Labels     []string `yaml:"labels,omitempty" json:"labels,omitempty"`
}

// DefaultAttributes are the attributes alm owns when alm.yaml lists none:
// every single-valued attribute it writes.
var DefaultAttributes = []string{
	"userPrincipalName", "givenName", "sn", "displayName", "mail", "department",
	"title", "manager", "description", "employeeID", "accountExpires",
}

// Defaults for fields of alm.yaml left out.
const (
	DefaultMarkerAttribute = "adminDescription"
	DefaultStatusBranch    = "alm-status"
	OrphansReport          = "report"
	OrphansDisable         = "disable"
	MembershipsReport      = "report"
	MembershipsRemove      = "remove"
)

// AlwaysProtected are the built-in accounts' names, never touched and
// never the login of a file, whatever alm.yaml lists. Protection is by
// identity too (RID below 1000, critical system objects), so a built-in
// account renamed stays protected.
var AlwaysProtected = []string{"Administrator", "krbtgt", "Guest", "DefaultAccount", "WDAGUtilityAccount"}

// Limits bound the destructive changes of one run.
type Limits struct {
	Disable         Limit `yaml:"disable,omitempty" json:"disable"`
	RemoveFromGroup Limit `yaml:"removeFromGroup,omitempty" json:"removeFromGroup"`
	Delete          Limit `yaml:"delete,omitempty" json:"delete"`
}

// DefaultLimits apply to each kind of limit alm.yaml leaves unset: a tool
// that can disable and delete accounts must not be unbounded by omission.
// Counts only: a fraction refuses the first leaver of a small directory.
var DefaultLimits = Limits{
	Disable:         Limit{Count: 10},
	RemoveFromGroup: Limit{Count: 25},
	Delete:          Limit{Count: 5},
}

// Limit is a count and a fraction of managed accounts; a plan over either is refused.
type Limit struct {
	Count    int     `yaml:"count,omitempty" json:"count"`
	Fraction float64 `yaml:"fraction,omitempty" json:"fraction"`
}

// UnmarshalYAML refuses a fraction that is not a number (.nan, .inf): no
// comparison with it is ever true, so it would switch the limit off, and
// JSON cannot hold it, so the policies' input could not be built.
func (l *Limit) UnmarshalYAML(n *yaml.Node) error {
	type plain Limit
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	if math.IsNaN(p.Fraction) || math.IsInf(p.Fraction, 0) {
		at := n
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "fraction" {
				at = n.Content[i+1]
			}
		}
		return &PositionError{Line: at.Line, Column: at.Column, Err: fmt.Errorf("fraction %s is not a number: write one from 0 to 1, e.g. 0.25", at.Value)}
	}
	*l = Limit(p)
	return nil
}

// WorkflowTemplate holds the rules for one category of account.
type WorkflowTemplate struct {
	Metadata Metadata     `yaml:"metadata" json:"metadata"`
	Spec     TemplateSpec `yaml:"spec" json:"spec"`
	Source   Source       `yaml:"-" json:"-"`
}

type TemplateSpec struct {
	AppliesTo       string                  `yaml:"appliesTo" json:"appliesTo"`                         // Person | ServiceAccount
	PersonTypes     []string                `yaml:"personTypes,omitempty" json:"personTypes,omitempty"` // narrows a Person template
	Naming          string                  `yaml:"naming,omitempty" json:"naming,omitempty"`           // a regular expression for metadata.name
	OU              string                  `yaml:"ou" json:"ou"`
	ProvisionAhead  Duration                `yaml:"provisionAhead,omitempty" json:"provisionAhead"`
	Lifetime        *Lifetime               `yaml:"lifetime,omitempty" json:"lifetime,omitempty"`
	Approvals       Approvals               `yaml:"approvals,omitempty" json:"approvals"`
	OwnerMayApprove bool                    `yaml:"ownerMayApprove,omitempty" json:"ownerMayApprove"`
	Notices         []Notice                `yaml:"notices,omitempty" json:"notices,omitempty"`
	EndOfLife       *EndOfLife              `yaml:"endOfLife,omitempty" json:"endOfLife,omitempty"`
	Leaver          *Leaver                 `yaml:"leaver,omitempty" json:"leaver,omitempty"`
	Inactive        map[string]InactiveRule `yaml:"inactive,omitempty" json:"inactive,omitempty"`
	Review          *Review                 `yaml:"review,omitempty" json:"review,omitempty"`
	AccountFlags    []string                `yaml:"accountFlags,omitempty" json:"accountFlags,omitempty"` // userAccountControl flags for service accounts
	// CN is how an account's cn (the first part of its DN) is made:
	// CNLogin (the default), CNDisplayName, or a format of fields in
	// braces ("{surname}, {givenName}"). DisplayName is the display
	// name's format ("{givenName} {surname}" for people, "{login}" for
	// service accounts by default). A file's spec.cn or spec.displayName
	// wins over either.
	CN          string `yaml:"cn,omitempty" json:"cn,omitempty"`
	DisplayName string `yaml:"displayName,omitempty" json:"displayName,omitempty"`
	// Credentials: who gets a new account's first password (encrypted to
	// their spec.publicKey), and rotation. Nil: no password is sent.
	Credentials *Credentials `yaml:"credentials,omitempty" json:"credentials,omitempty"`
	// Renewal (service accounts): the reconciler's renewal pull request.
	Renewal *Renewal `yaml:"renewal,omitempty" json:"renewal,omitempty"`
}

// CN choices of a template besides a format.
const (
	CNLogin       = "login"
	CNDisplayName = "displayName"
)

// Lifetime bounds a service account's expiry from the day it is requested.
type Lifetime struct {
	Default Duration `yaml:"default" json:"default"`
	Max     Duration `yaml:"max" json:"max"`
}

// Approvals says who must approve a pull request, per change class.
type Approvals struct {
	Grant  []ApprovalRule `yaml:"grant,omitempty" json:"grant,omitempty"`
	Revoke []ApprovalRule `yaml:"revoke,omitempty" json:"revoke,omitempty"`
	Other  []ApprovalRule `yaml:"other,omitempty" json:"other,omitempty"`
}

// ApprovalRule is one requirement: Count holders of Role, or someone in a
// Relation to the account (owner, manager, owner-manager, owner-or-manager, custodian).
type ApprovalRule struct {
	Role     string `yaml:"role,omitempty" json:"role,omitempty"`
	Relation string `yaml:"relation,omitempty" json:"relation,omitempty"`
	Count    int    `yaml:"count,omitempty" json:"count,omitempty"`
}

// Notice is a before-end-of-life (Before) or at-end-of-life (At: end)
// message. To holds recipients: owner, custodians, manager, owner-manager,
// approvers, or an e-mail address.
type Notice struct {
	Before Duration `yaml:"before,omitempty" json:"before"`
	At     string   `yaml:"at,omitempty" json:"at,omitempty"`
	To     []string `yaml:"to" json:"to"`
}

// Notice recipients.
const (
	ToOwner        = "owner"
	ToCustodians   = "custodians"
	ToManager      = "manager"
	ToOwnerManager = "owner-manager"
	ToApprovers    = "approvers"
	ToSelf         = "self" // the person whose account it is
)

// Credentials says who receives a new account's first password, and how
// often a service account's is rotated.
type Credentials struct {
	// To is owner (a service account's; the default), manager (a
	// person's), or self (the person, by the key in their own file).
	To          string   `yaml:"to,omitempty" json:"to,omitempty"`
	RotateEvery Duration `yaml:"rotateEvery,omitempty" json:"rotateEvery"`
}

// Renewal says when the reconciler opens a pull request that renews a
// service account, and whether it opens one to retire it at the end.
type Renewal struct {
	Before Duration `yaml:"before" json:"before"`
	Retire bool     `yaml:"retire,omitempty" json:"retire,omitempty"`
}

// EndOfLife is what happens to a service account at expiry.
type EndOfLife struct {
	Action      string   `yaml:"action" json:"action"` // disable | review | delete
	RetireAfter Duration `yaml:"retireAfter,omitempty" json:"retireAfter"`
	Retire      string   `yaml:"retire,omitempty" json:"retire,omitempty"` // delete | move
}

// End-of-life actions and retirements.
const (
	ActionDisable = "disable"
	ActionReview  = "review"
	ActionDelete  = "delete"
	RetireDelete  = "delete"
	RetireMove    = "move"
)

// Leaver is what happens to a person after endDate.
type Leaver struct {
	GroupGrace Duration `yaml:"groupGrace,omitempty" json:"groupGrace"`     // groups kept (reversible) this long
	Retention  Duration `yaml:"retention,omitempty" json:"retention"`       // then archived
	Archive    string   `yaml:"archive,omitempty" json:"archive,omitempty"` // delete | stub
}

// Archive choices.
const (
	ArchiveDelete = "delete"
	ArchiveStub   = "stub"
)

// InactiveRule says what the end of an inactive window of one type does.
type InactiveRule struct {
	AtEnd string `yaml:"atEnd" json:"atEnd"` // resume | leave | remain
}

// Inactive window types and their default end actions.
const (
	InactiveLongTermAway = "long-term-away"
	InactiveSuspended    = "suspended"
	InactiveGardenLeave  = "garden-leave"
	AtEndResume          = "resume"
	AtEndLeave           = "leave"
	AtEndRemain          = "remain"
)

// DefaultInactive are the end actions used when a template does not set its own.
var DefaultInactive = map[string]InactiveRule{
	InactiveLongTermAway: {AtEnd: AtEndResume},
	InactiveSuspended:    {AtEnd: AtEndRemain},
	InactiveGardenLeave:  {AtEnd: AtEndLeave},
}

// Review is recertification.
type Review struct {
	Every Duration `yaml:"every" json:"every"`
	By    string   `yaml:"by" json:"by"`
	// Grace is how long after a review falls due the access stays when
	// no one confirmed it; then the account is disabled. Zero: never.
	Grace Duration `yaml:"grace,omitempty" json:"grace"`
}

// Common is the metadata every kind has.
func (m AccountMetadata) Common() Metadata { return Metadata{Name: m.Name, ID: m.ID} }

// Person is a human identity.
type Person struct {
	Metadata AccountMetadata `yaml:"metadata" json:"metadata"`
	Spec     PersonSpec      `yaml:"spec" json:"spec"`
	Source   Source          `yaml:"-" json:"-"`
}

type PersonSpec struct {
	GivenName   string `yaml:"givenName" json:"givenName"`
	Surname     string `yaml:"surname" json:"surname"`
	DisplayName string `yaml:"displayName,omitempty" json:"displayName,omitempty"`
	CN          string `yaml:"cn,omitempty" json:"cn,omitempty"` // pins the cn, over the template's format
	Email       string `yaml:"email,omitempty" json:"email,omitempty"`
	GitHub      string `yaml:"github,omitempty" json:"github,omitempty"`
	// PublicKey is an age recipient (age1...) or an SSH public key: first
	// credentials sent to this person are encrypted to it.
	PublicKey string `yaml:"publicKey,omitempty" json:"publicKey,omitempty"`
	// Reviewed is the day the person's access was last confirmed in an
	// access review (alm review open's pull requests move it).
	Reviewed      Date      `yaml:"reviewed,omitempty" json:"reviewed"`
	Type          string    `yaml:"type" json:"type"` // employee | contractor | partner
	Source        string    `yaml:"source,omitempty" json:"source,omitempty"`
	Template      string    `yaml:"template,omitempty" json:"template,omitempty"`
	Department    string    `yaml:"department,omitempty" json:"department,omitempty"`
	Title         string    `yaml:"title,omitempty" json:"title,omitempty"`
	Manager       string    `yaml:"manager,omitempty" json:"manager,omitempty"`
	StartDate     Date      `yaml:"startDate" json:"startDate"`
	EndDate       Date      `yaml:"endDate,omitempty" json:"endDate"`
	Inactive      *Inactive `yaml:"inactive,omitempty" json:"inactive,omitempty"`
	Roles         []string  `yaml:"roles,omitempty" json:"roles,omitempty"`
	PreviousNames []string  `yaml:"previousNames,omitempty" json:"previousNames,omitempty"`
}

// MaxManagerChain is how many managers above a person alm follows. No
// organisation is this deep; a longer chain is a mistake the loader reports,
// and it would make the policies' data grow with the square of the chain.
const MaxManagerChain = 64

// Person types.
const (
	TypeEmployee   = "employee"
	TypeContractor = "contractor"
	TypePartner    = "partner"
)

// Inactive is a window in which a person's account is disabled but kept.
// Until may be empty: the window lasts until the file is edited.
type Inactive struct {
	Type   string `yaml:"type" json:"type"`
	Reason string `yaml:"reason,omitempty" json:"reason,omitempty"`
	From   Date   `yaml:"from" json:"from"`
	Until  Date   `yaml:"until,omitempty" json:"until"`
}

// DisplayName is the name shown in the directory.
func (p *Person) DisplayName() string {
	if p.Spec.DisplayName != "" {
		return p.Spec.DisplayName
	}
	return strings.TrimSpace(p.Spec.GivenName + " " + p.Spec.Surname)
}

// ServiceAccount is a non-human identity with an owner and an expiry.
type ServiceAccount struct {
	Metadata AccountMetadata    `yaml:"metadata" json:"metadata"`
	Spec     ServiceAccountSpec `yaml:"spec" json:"spec"`
	Source   Source             `yaml:"-" json:"-"`
}

type ServiceAccountSpec struct {
	Template      string   `yaml:"template" json:"template"`
	Description   string   `yaml:"description" json:"description"`
	DisplayName   string   `yaml:"displayName,omitempty" json:"displayName,omitempty"`
	CN            string   `yaml:"cn,omitempty" json:"cn,omitempty"`   // pins the cn, over the template's format
	Reviewed      Date     `yaml:"reviewed,omitempty" json:"reviewed"` // the last access review that confirmed it
	Owner         string   `yaml:"owner" json:"owner"`
	Custodians    []string `yaml:"custodians,omitempty" json:"custodians,omitempty"`
	Roles         []string `yaml:"roles,omitempty" json:"roles,omitempty"`
	Created       Date     `yaml:"created,omitempty" json:"created"` // the day requested; bounds expires by the template's lifetime.max
	Expires       Date     `yaml:"expires" json:"expires"`
	State         string   `yaml:"state,omitempty" json:"state,omitempty"` // active | disabled | retired
	PreviousNames []string `yaml:"previousNames,omitempty" json:"previousNames,omitempty"`
}

// Explicit service account states.
const (
	StateActive   = "active"
	StateDisabled = "disabled"
	StateRetired  = "retired"
)

// Role is a set of groups granted together.
type Role struct {
	Metadata Metadata `yaml:"metadata" json:"metadata"`
	Spec     RoleSpec `yaml:"spec" json:"spec"`
	Source   Source   `yaml:"-" json:"-"`
}

type RoleSpec struct {
	Description string   `yaml:"description,omitempty" json:"description,omitempty"`
	Groups      []string `yaml:"groups" json:"groups"`
	// RenamedGroups say which groups the role names by name had another
	// name before: a group alm created under the old name is renamed, not
	// deleted and created again.
	RenamedGroups []GroupRename  `yaml:"renamedGroups,omitempty" json:"renamedGroups,omitempty"`
	Birthright    *Birthright    `yaml:"birthright,omitempty" json:"birthright,omitempty"`
	Privileged    bool           `yaml:"privileged,omitempty" json:"privileged"`
	Approvers     []ApprovalRule `yaml:"approvers,omitempty" json:"approvers,omitempty"`
}

// GroupRename is one rename of a group a role names: From is the old name, To the new.
type GroupRename struct {
	From string `yaml:"from" json:"from"`
	To   string `yaml:"to" json:"to"`
}

// Birthright grants a role to every active person matching all set fields.
type Birthright struct {
	Department string `yaml:"department,omitempty" json:"department,omitempty"`
	Type       string `yaml:"type,omitempty" json:"type,omitempty"`
	Title      string `yaml:"title,omitempty" json:"title,omitempty"`
}

// Matches tells whether a person falls under the rule.
func (b *Birthright) Matches(p *Person) bool {
	if b == nil || (b.Department == "" && b.Type == "" && b.Title == "") {
		return false
	}
	return (b.Department == "" || b.Department == p.Spec.Department) &&
		(b.Type == "" || b.Type == p.Spec.Type) &&
		(b.Title == "" || b.Title == p.Spec.Title)
}

// PolicyFile is one of the access repository's own Rego files.
type PolicyFile struct {
	Path   string `json:"path"`
	Source string `json:"-"`
}

// Repository is the access repository at one revision, loaded and resolved.
type Repository struct {
	Revision        string                       `json:"revision,omitempty"` // commit hash; empty for a working tree
	Directory       *Directory                   `json:"directory"`
	Templates       map[string]*WorkflowTemplate `json:"templates"`
	People          map[string]*Person           `json:"people"`
	ServiceAccounts map[string]*ServiceAccount   `json:"serviceAccounts"`
	Roles           map[string]*Role             `json:"roles"`
	Policies        []PolicyFile                 `json:"policies,omitempty"`
}

// NewRepository returns an empty repository with its maps made.
func NewRepository() *Repository {
	return &Repository{
		Templates:       map[string]*WorkflowTemplate{},
		People:          map[string]*Person{},
		ServiceAccounts: map[string]*ServiceAccount{},
		Roles:           map[string]*Role{},
	}
}

// TemplateOf returns the template governing a person: the one the file names,
// else the Person template whose personTypes include the person's type, else
// the Person template with no personTypes.
func (r *Repository) TemplateOf(p *Person) *WorkflowTemplate {
	if p.Spec.Template != "" {
		return r.Templates[p.Spec.Template]
	}
	// The first by name of each kind, without sorting the names: this is
	// asked for every person, often.
	var match, fallback *WorkflowTemplate
	var matchName, fallbackName string
	for name, t := range r.Templates {
		if t.Spec.AppliesTo != KindPerson {
			continue
		}
		if len(t.Spec.PersonTypes) == 0 && (fallback == nil || name < fallbackName) {
			fallback, fallbackName = t, name
		}
		if slices.Contains(t.Spec.PersonTypes, p.Spec.Type) && (match == nil || name < matchName) {
			match, matchName = t, name
		}
	}
	if match != nil {
		return match
	}
	return fallback
}

// RolesOf returns the names of the roles a person holds by request or by
// birthright, sorted and without repeats. Whether the person is active enough
// to hold them is the lifecycle's question, not this one's.
func (r *Repository) RolesOf(p *Person) []string {
	set := map[string]bool{}
	for _, name := range p.Spec.Roles {
		set[name] = true
	}
	for name, role := range r.Roles {
		if role.Spec.Birthright.Matches(p) {
			set[name] = true
		}
	}
	return SortedNames(set)
}

// PersonNames returns the people's names, sorted.
func (r *Repository) PersonNames() []string { return sortedKeys(r.People) }

// ServiceAccountNames returns the service accounts' names, sorted.
func (r *Repository) ServiceAccountNames() []string { return sortedKeys(r.ServiceAccounts) }

// sortedKeys is slices.Sorted(maps.Keys(m)) in one allocation: repositories
// hold 100,000 people.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// SortedNames returns a map's keys sorted, and never nil: lists built from
// sets reach JSON and Rego, where an empty list must be [] and not null.
func SortedNames[V any](m map[string]V) []string {
	return append([]string{}, slices.Sorted(maps.Keys(m))...)
}
