package deploy

import (
	"bytes"
	"fmt"
	"path"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

func TestDockerfile(t *testing.T) {
	checkFile(t, root+"/Dockerfile", checkDockerfile, []broken{
		{"root user", "USER 65532:65532", "USER root", "runs as root"},
		{"uid 0", "USER 65532:65532", "USER 0:0", "runs as root"},
		{"no user", "USER 65532:65532\n", "", "sets no USER"},
		{"debian base", "FROM gcr.io/distroless/static-debian12:nonroot", "FROM debian:bookworm", "final stage's base"},
		{"cgo", "CGO_ENABLED=0 go build", "go build", "CGO_ENABLED=0"},
		{"no trimpath", " -trimpath", "", "-trimpath"},
		{"secret env", "ARG VERSION=\"\"", "ENV ALM_BIND_PASSWORD=hunter2", "ALM_BIND_PASSWORD"},
		{"secret arg", "ARG VERSION=\"\"", "ARG GIT_TOKEN", "GIT_TOKEN"},
		{"shell entrypoint", `ENTRYPOINT ["/usr/local/bin/alm"]`, "ENTRYPOINT /usr/local/bin/alm", "exec (JSON) form"},
		{"entrypoint not copied", `ENTRYPOINT ["/usr/local/bin/alm"]`, `ENTRYPOINT ["/bin/alm"]`, "not copied"},
	})
}

type stage struct {
	base, name string
	nodes      []*parser.Node
}

// args are the words after an instruction's keyword.
func args(n *parser.Node) []string {
	var out []string
	for a := n.Next; a != nil; a = a.Next {
		out = append(out, a.Value)
	}
	return out
}

// checkDockerfile parses data as BuildKit does and lists what keeps the image
// from being a static alm run as a non-root user without secrets.
func checkDockerfile(data []byte) []string {
	res, err := parser.Parse(bytes.NewReader(data))
	if err != nil {
		return []string{"parse: " + err.Error()}
	}
	var problems []string
	for _, w := range res.Warnings {
		problems = append(problems, "parser warning: "+w.Short)
	}
	var stages []stage
	for _, n := range res.AST.Children {
		kw := strings.ToLower(n.Value)
		a := args(n)
		switch kw {
		case "env":
			for i := 0; i+1 < len(a); i += 2 {
				if secretName.MatchString(a[i]) && !secretValueAllowed(a[i], a[i+1]) {
					problems = append(problems, fmt.Sprintf("line %d: ENV %s holds a secret in the image: pass it at run time", n.StartLine, a[i]))
				}
			}
		case "arg":
			for _, v := range a {
				name := strings.SplitN(v, "=", 2)[0]
				if secretName.MatchString(name) {
					problems = append(problems, fmt.Sprintf("line %d: ARG %s: build arguments stay in the image's history; use a secret mount", n.StartLine, name))
				}
			}
		}
		if kw == "from" {
			s := stage{base: a[0]}
			if len(a) == 3 && strings.EqualFold(a[1], "as") {
				s.name = a[2]
			}
			stages = append(stages, s)
			continue
		}
		if len(stages) > 0 {
			stages[len(stages)-1].nodes = append(stages[len(stages)-1].nodes, n)
		}
	}
	if len(stages) < 2 {
		return append(problems, "want a build stage and a final stage")
	}
	final := stages[len(stages)-1]
	if !strings.HasPrefix(final.base, "gcr.io/distroless/static") && final.base != "scratch" {
		problems = append(problems, fmt.Sprintf("final stage's base %s: use gcr.io/distroless/static or scratch", final.base))
	}
	var user string
	var entry *parser.Node
	copied := map[string]bool{}
	for _, n := range final.nodes {
		switch strings.ToLower(n.Value) {
		case "user":
			user = args(n)[0]
		case "entrypoint":
			entry = n
		case "copy":
			if a := args(n); len(a) > 1 {
				dst := a[len(a)-1]
				for _, src := range a[:len(a)-1] {
					copied[dst] = true
					copied[path.Join(dst, path.Base(src))] = true
				}
			}
		}
	}
	switch u := strings.SplitN(user, ":", 2)[0]; u {
	case "":
		problems = append(problems, "final stage sets no USER: it would run as root")
	case "root", "0":
		problems = append(problems, fmt.Sprintf("final stage runs as root (USER %s): use a numeric non-root user such as 65532", user))
	}
	switch {
	case entry == nil:
		problems = append(problems, "final stage has no ENTRYPOINT")
	case !entry.Attributes["json"]:
		problems = append(problems, fmt.Sprintf("line %d: ENTRYPOINT: use the exec (JSON) form, so alm gets SIGTERM, not a shell", entry.StartLine))
	default:
		bin := args(entry)[0]
		if path.Base(bin) != "alm" {
			problems = append(problems, fmt.Sprintf("line %d: ENTRYPOINT %s: want alm", entry.StartLine, bin))
		}
		if !copied[bin] {
			problems = append(problems, fmt.Sprintf("line %d: ENTRYPOINT %s is not copied into the final stage", entry.StartLine, bin))
		}
	}
	var build string
	for _, s := range stages[:len(stages)-1] {
		for _, n := range s.nodes {
			if strings.EqualFold(n.Value, "run") && strings.Contains(strings.Join(args(n), " "), "go build") {
				build = strings.Join(args(n), " ")
			}
		}
	}
	if build == "" {
		return append(problems, "no build stage RUNs go build")
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-s -w", "-X main.version="} {
		if !strings.Contains(build, want) {
			problems = append(problems, fmt.Sprintf("go build lacks %s (a static, reproducible, versioned binary)", want))
		}
	}
	return problems
}
