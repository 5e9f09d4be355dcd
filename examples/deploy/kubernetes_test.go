package deploy

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/yaml"
)

const kubernetesDir = "kubernetes"

func TestKubernetes(t *testing.T) {
	cases := map[string][]broken{
		"cronjob.yaml": {
			{"misspelt field", "concurrencyPolicy: Forbid", "concurrencyPolcy: Forbid", "unknown field"},
			{"bad quantity", "memory: 1Gi", "memory: 1 gigabyte", "quantities must match"},
			{"root", "runAsNonRoot: true", "runAsNonRoot: false", "runAsNonRoot"},
			{"writable root", "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false", "readOnlyRootFilesystem"},
			{"escalation", "allowPrivilegeEscalation: false", "allowPrivilegeEscalation: true", "allowPrivilegeEscalation"},
			{"no limits", "limits:\n                  memory: 1Gi", "limits: {}", "memory limit"},
			{"inline password", "value: /etc/alm/credentials/bind-password", "value: /etc/alm/credentials/bind-password\n                - name: ALM_BIND_PASSWORD\n                  value: hunter2", "ALM_BIND_PASSWORD"},
			{"overlapping runs", "concurrencyPolicy: Forbid", "concurrencyPolicy: Allow", "Forbid"},
			{"password file not mounted", "mountPath: /etc/alm/credentials\n", "mountPath: /etc/alm/creds\n", "not on a secret volume"},
		},
		"deployment.yaml": {
			{"misspelt probe", "livenessProbe:", "livenesProbe:", "unknown field"},
			{"probe on another port", "port: metrics", "port: 8080", "probe"},
			{"no scrape", `prometheus.io/scrape: "true"`, `prometheus.io/scrape: "false"`, "prometheus.io/scrape"},
			{"replicas without lease", "- --lease-name=alm-reconciler\n", "", "--lease-name"},
			{"no interval", "- --interval=10m\n", "", "--interval"},
			{"latest image", "image: ghcr.io/alm-project/alm:v1.0.0", "image: ghcr.io/alm-project/alm:latest", "tag"},
			{"token mounted", "automountServiceAccountToken: false", "automountServiceAccountToken: true", "automountServiceAccountToken"},
		},
		"networkpolicy.yaml": {
			{"http open", "port: 443", "port: 80", "port 80"},
			{"ldaps anywhere", "        - ipBlock:\n            cidr: 192.0.2.10/32\n        - ipBlock:\n            cidr: 192.0.2.11/32\n", "", "any destination"},
			{"no egress policy", "policyTypes: [Ingress, Egress]", "policyTypes: [Ingress]", "Egress"},
			{"selects nothing", "app.kubernetes.io/name: alm\n  policyTypes", "app.kubernetes.io/name: other\n  policyTypes", "selects"},
		},
		"namespace.yaml":      nil,
		"serviceaccount.yaml": nil,
	}
	entries, err := os.ReadDir(kubernetesDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if _, ok := cases[e.Name()]; !ok {
			t.Errorf("%s/%s has no case in TestKubernetes: add one, so it is checked", kubernetesDir, e.Name())
		}
	}
	for name, broken := range cases {
		t.Run(name, func(t *testing.T) {
			checkFile(t, kubernetesDir+"/"+name, func(data []byte) []string {
				return checkManifests(t, name, data)
			}, broken)
		})
	}
}

// checkManifests decodes the file's documents strictly, then checks them
// together with the other manifests in the directory (the NetworkPolicy's
// selector against the workloads' labels).
func checkManifests(t *testing.T, name string, data []byte) []string {
	objs, problems := decodeAll(name, data)
	others := map[string][]byte{}
	entries, _ := os.ReadDir(kubernetesDir)
	for _, e := range entries {
		if e.Name() != name {
			others[e.Name()] = read(t, filepath.Join(kubernetesDir, e.Name()))
		}
	}
	var all []any
	all = append(all, objs...)
	for n, d := range others {
		o, _ := decodeAll(n, d)
		all = append(all, o...)
	}
	for _, o := range objs {
		problems = append(problems, checkObject(o, all)...)
	}
	return problems
}

// decodeAll splits a file into YAML documents and decodes each into its
// k8s.io/api type; a field the type lacks fails, as kubectl --validate=strict does.
func decodeAll(name string, data []byte) ([]any, []string) {
	var objs []any
	var problems []string
	for i, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(data), -1) {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var meta struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
			problems = append(problems, fmt.Sprintf("%s document %d: %v", name, i+1, err))
			continue
		}
		var obj any
		switch meta.APIVersion + " " + meta.Kind {
		case "v1 Namespace":
			obj = &corev1.Namespace{}
		case "v1 ServiceAccount":
			obj = &corev1.ServiceAccount{}
		case "v1 Secret":
			obj = &corev1.Secret{}
		case "v1 ConfigMap":
			obj = &corev1.ConfigMap{}
		case "batch/v1 CronJob":
			obj = &batchv1.CronJob{}
		case "apps/v1 Deployment":
			obj = &appsv1.Deployment{}
		case "networking.k8s.io/v1 NetworkPolicy":
			obj = &networkingv1.NetworkPolicy{}
		default:
			problems = append(problems, fmt.Sprintf("%s document %d: %s %s: no type to check it against: add it to decodeAll", name, i+1, meta.APIVersion, meta.Kind))
			continue
		}
		if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
			problems = append(problems, fmt.Sprintf("%s document %d (%s): %v", name, i+1, meta.Kind, err))
			continue
		}
		objs = append(objs, obj)
	}
	return objs, problems
}

func checkObject(obj any, all []any) []string {
	switch o := obj.(type) {
	case *corev1.Secret:
		if len(o.Data) > 0 || len(o.StringData) > 0 {
			return []string{fmt.Sprintf("Secret %s holds data: reference a Secret the operator creates, never commit one", o.Name)}
		}
	case *batchv1.CronJob:
		p := checkPod("CronJob "+o.Name, o.Spec.JobTemplate.Spec.Template.Spec)
		if o.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
			p = append(p, fmt.Sprintf("CronJob %s: concurrencyPolicy %q: want Forbid, one run at a time", o.Name, o.Spec.ConcurrencyPolicy))
		}
		if hasFlag(o.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Args, "--interval") {
			p = append(p, fmt.Sprintf("CronJob %s passes --interval: a job's run must end", o.Name))
		}
		return p
	case *appsv1.Deployment:
		return checkDeployment(o)
	case *networkingv1.NetworkPolicy:
		return checkNetworkPolicy(o, all)
	}
	return nil
}

// podSpec is a workload's pod template, nil for other objects.
func podSpec(obj any) *corev1.PodSpec {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		return &o.Spec.Template.Spec
	case *batchv1.CronJob:
		return &o.Spec.JobTemplate.Spec.Template.Spec
	}
	return nil
}

func hasFlag(args []string, flag string) bool {
	return flagValue(args, flag) != "" || slices.Contains(args, flag)
}

func flagValue(args []string, flag string) string {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, flag+"="); ok {
			return v
		}
		if a == flag && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// checkPod lists what keeps a pod from running alm as non-root, read-only,
// without privileges, bounded, with secrets only from Secrets and files.
func checkPod(what string, spec corev1.PodSpec) []string {
	var problems []string
	add := func(format string, a ...any) { problems = append(problems, what+": "+fmt.Sprintf(format, a...)) }
	sc := spec.SecurityContext
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		add("securityContext.runAsNonRoot is not true")
	}
	if sc == nil || sc.RunAsUser == nil || *sc.RunAsUser == 0 {
		add("securityContext.runAsUser is not a non-root UID")
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		add("automountServiceAccountToken is not false: alm never calls the Kubernetes API")
	}
	secretMounts := map[string]bool{}
	for _, v := range spec.Volumes {
		if v.Secret != nil {
			secretMounts[v.Name] = true
		}
	}
	if len(spec.Containers) != 1 {
		add("want one container, got %d", len(spec.Containers))
		return problems
	}
	c := spec.Containers[0]
	if i := strings.LastIndex(c.Image, ":"); i < 0 || strings.Contains(c.Image[i:], "/") || c.Image[i+1:] == "latest" {
		add("image %s: pin a release tag", c.Image)
	}
	if len(c.Args) == 0 || c.Args[0] != "reconcile" {
		add("args %q: want alm reconcile", c.Args)
	}
	for _, a := range c.Args {
		if strings.HasPrefix(a, "--") && secretName.MatchString(a) {
			add("args pass %s: secrets come from the environment or files, never flags", a)
		}
	}
	csc := c.SecurityContext
	if csc == nil || csc.ReadOnlyRootFilesystem == nil || !*csc.ReadOnlyRootFilesystem {
		add("readOnlyRootFilesystem is not true")
	}
	if csc == nil || csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation {
		add("allowPrivilegeEscalation is not false")
	}
	if csc == nil || csc.Capabilities == nil || !slices.Contains(csc.Capabilities.Drop, "ALL") {
		add("capabilities do not drop ALL")
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() {
		add("resources: no cpu and memory requests")
	}
	if c.Resources.Limits.Memory().IsZero() {
		add("resources: no memory limit")
	}
	for _, e := range c.Env {
		if secretName.MatchString(e.Name) && !secretValueAllowed(e.Name, e.Value) {
			add("env %s has a literal value: take it from a Secret (valueFrom) or a mounted file", e.Name)
		}
		if strings.HasSuffix(e.Name, "_FILE") && e.Value != "" {
			mounted := false
			for _, m := range c.VolumeMounts {
				if secretMounts[m.Name] && strings.HasPrefix(e.Value, strings.TrimSuffix(m.MountPath, "/")+"/") {
					mounted = true
				}
			}
			if !mounted {
				add("env %s=%s is not on a secret volume's mount", e.Name, e.Value)
			}
		}
	}
	return problems
}

func checkDeployment(d *appsv1.Deployment) []string {
	what := "Deployment " + d.Name
	spec := d.Spec.Template.Spec
	problems := checkPod(what, spec)
	add := func(format string, a ...any) { problems = append(problems, what+": "+fmt.Sprintf(format, a...)) }
	if len(spec.Containers) != 1 {
		return problems
	}
	c := spec.Containers[0]
	if !hasFlag(c.Args, "--interval") {
		add("args lack --interval: without it reconcile runs once and the pod restarts")
	}
	if d.Spec.Replicas != nil && *d.Spec.Replicas > 1 && !hasFlag(c.Args, "--lease-name") {
		add("%d replicas without --lease-name: two reconcilers would apply at once", *d.Spec.Replicas)
	}
	listen := flagValue(c.Args, "--listen")
	_, port, _ := strings.Cut(listen, ":")
	if port == "" {
		add("args lack --listen HOST:PORT: no /healthz or /metrics")
		return problems
	}
	named := map[string]string{}
	for _, p := range c.Ports {
		named[p.Name] = fmt.Sprint(p.ContainerPort)
	}
	probe := c.LivenessProbe
	switch {
	case probe == nil || probe.HTTPGet == nil:
		add("no HTTP liveness probe on /healthz")
	case probe.HTTPGet.Path != "/healthz":
		add("liveness probe path %s: want /healthz", probe.HTTPGet.Path)
	default:
		p := probe.HTTPGet.Port.String()
		if n, ok := named[p]; ok {
			p = n
		}
		if p != port {
			add("liveness probe on port %s, but --listen serves %s", p, port)
		}
	}
	ann := d.Spec.Template.Annotations
	if ann["prometheus.io/scrape"] != "true" {
		add("annotation prometheus.io/scrape is not \"true\"")
	}
	if ann["prometheus.io/port"] != port {
		add("annotation prometheus.io/port %q, but --listen serves %s", ann["prometheus.io/port"], port)
	}
	return problems
}

// allowedEgress is all alm's pods may reach: LDAPS, HTTPS to the Git host, DNS.
var allowedEgress = map[string]bool{"TCP/636": true, "TCP/443": true, "UDP/53": true, "TCP/53": true}

func checkNetworkPolicy(np *networkingv1.NetworkPolicy, all []any) []string {
	what := "NetworkPolicy " + np.Name
	var problems []string
	add := func(format string, a ...any) { problems = append(problems, what+": "+fmt.Sprintf(format, a...)) }
	if !slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress) {
		add("policyTypes lack Egress: all egress is allowed")
	}
	for i, r := range np.Spec.Egress {
		if len(r.Ports) == 0 {
			add("egress[%d] allows every port", i)
		}
		for _, p := range r.Ports {
			proto := "TCP"
			if p.Protocol != nil {
				proto = string(*p.Protocol)
			}
			key := fmt.Sprintf("%s/%s", proto, p.Port)
			if !allowedEgress[key] {
				add("egress[%d] allows %s port %s: only 636, 443 and DNS", i, proto, p.Port)
			}
			if (key == "TCP/636" || key == "TCP/443") && len(r.To) == 0 {
				add("egress[%d] allows %s to any destination: name the hosts' addresses", i, key)
			}
		}
	}
	selected := 0
	for _, o := range all {
		var labels map[string]string
		switch w := o.(type) {
		case *appsv1.Deployment:
			labels = w.Spec.Template.Labels
		case *batchv1.CronJob:
			labels = w.Spec.JobTemplate.Spec.Template.Labels
		default:
			continue
		}
		match := true
		for k, v := range np.Spec.PodSelector.MatchLabels {
			if labels[k] != v {
				match = false
			}
		}
		if match {
			selected++
		}
	}
	if selected == 0 {
		add("podSelector selects none of the workloads' pods")
	}
	return problems
}
