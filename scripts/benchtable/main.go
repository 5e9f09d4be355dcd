// Command benchtable reads `go test -bench` output on stdin, passes it
// through, and prints the table issue 13 asks of make bench: each figure,
// the floor measured in the same run, their ratio, and the target, so a
// reader sees at once what is met and what is not. A benchmark that did
// not run (no Samba, no git) leaves its row saying so.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// row is one line of the table: the figure and its floor are metrics of
// benchmarks (name without the -N suffix), the ratio is computed as the
// target reads it.
type row struct {
	work           string
	bench, metric  string                                         // the figure
	floor, fmetric string                                         // its floor ("" when the target is absolute)
	ratio          string                                         // "fig/floor", "floor/fig" (a rate), or a metric of bench
	target         string                                         // as written in the issue
	ok             func(m map[string]float64, ratio float64) bool // m: bench's metrics
	extra          []string                                       // more metrics of bench to show: "peak-KiB/account"
}

var rows = []row{
	{work: "alm validate, 100k accounts (load a commit)", bench: "BenchmarkValidate/100k", metric: "s/validate",
		floor: "BenchmarkValidate/100k", fmetric: "floor-s", ratio: "fig/floor", target: "(no target; was 15x)"},
	{work: "alm check, one-file pull request, 100k", bench: "BenchmarkOneFileCheck/100k", metric: "s/check",
		floor: "BenchmarkOneFileCheck/1k", fmetric: "s/check", ratio: "fig/floor",
		target: "<= 2 s, <= 300 MiB, <= 3x the 1k check", extra: []string{"peak-MiB"},
		ok: func(m map[string]float64, ratio float64) bool {
			return m["s/check"] <= 2 && m["peak-MiB"] <= 300 && ratio <= 3
		}},
	{work: "alm check, one-file pull request, 100k, --cache-dir holding the base", bench: "BenchmarkOneFileCheck/100k/cache-dir", metric: "s/check",
		floor: "BenchmarkOneFileCheck/1k/cache-dir", fmetric: "s/check", ratio: "fig/floor",
		target: "<= 2 s, <= 300 MiB, <= 3x the 1k check", extra: []string{"peak-MiB"},
		ok: func(m map[string]float64, ratio float64) bool {
			return m["s/check"] <= 2 && m["peak-MiB"] <= 300 && ratio <= 3
		}},
	{work: "alm check, one-file pull request, 10k", bench: "BenchmarkOneFileCheck/10k", metric: "s/check",
		floor: "BenchmarkOneFileCheck/1k", fmetric: "s/check", ratio: "fig/floor", target: "(the floor is the same check at 1k)", extra: []string{"peak-MiB"}},
	{work: "no-op alm plan, 100k, in-memory directory", bench: "BenchmarkNoOpPlan/100k", metric: "s/plan",
		target: "<= 5 KiB/account peak", extra: []string{"peak-KiB/account"},
		ok: func(m map[string]float64, _ float64) bool { return m["peak-KiB/account"] <= 5 }},
	{work: "no-op alm plan, 100k, in-memory directory, --cache-dir holding the revision", bench: "BenchmarkNoOpPlan/100k/cache-dir", metric: "s/plan",
		target: "<= 5 KiB/account peak", extra: []string{"peak-KiB/account"},
		ok: func(m map[string]float64, _ float64) bool { return m["peak-KiB/account"] <= 5 }},
	{work: "no-op alm plan, 10k, Samba AD", bench: "BenchmarkSambaPlanNoop", metric: "s/plan", floor: "BenchmarkSambaPlanNoop", fmetric: "floor-s/plan",
		ratio: "fig/floor", target: "<= 1.3x ldapsearch", extra: []string{"accounts", "peak-heap-B/account", "setup-s"},
		ok: func(_ map[string]float64, ratio float64) bool { return ratio <= 1.3 }},
	{work: "no-op alm plan, 10k, Samba AD, --cache-dir holding the revision", bench: "BenchmarkSambaPlanNoop", metric: "cached-s/plan", floor: "BenchmarkSambaPlanNoop", fmetric: "floor-s/plan",
		ratio: "fig/floor", target: "<= 1.3x ldapsearch",
		ok: func(_ map[string]float64, ratio float64) bool { return ratio <= 1.3 }},
	{work: "first alm apply, Samba AD (ALM_BENCH_APPLY_N, default 2,000)", bench: "BenchmarkSambaApply", metric: "accounts/s", floor: "BenchmarkSambaApply", fmetric: "floor-accounts/s",
		ratio: "fig/floor", target: ">= 0.9x ldapadd + batched ldapmodify", extra: []string{"accounts"},
		ok: func(_ map[string]float64, ratio float64) bool { return ratio >= 0.9 }},
	{work: "alm hr sync, 50k rows and people", bench: "BenchmarkSync/sync", metric: "sec/op", floor: "BenchmarkSync/floor=load", fmetric: "sec/op",
		ratio: "fig/floor", target: "in seconds (floor: loading the repository)"},
	{work: "alm audit access --at, 10k accounts, 5 years", bench: "BenchmarkAccessAt/at", metric: "sec/op", target: "in seconds"},
}

var line = regexp.MustCompile(`^(Benchmark\S+?)(-\d+)?\s+\d+\s+(.*)$`)

func main() {
	metrics := map[string]map[string]float64{}
	in := bufio.NewScanner(io.TeeReader(os.Stdin, os.Stdout))
	in.Buffer(make([]byte, 1<<20), 1<<20)
	for in.Scan() {
		m := line.FindStringSubmatch(in.Text())
		if m == nil {
			continue
		}
		f := strings.Fields(m[3])
		ms := map[string]float64{}
		for i := 0; i+1 < len(f); i += 2 {
			if v, err := strconv.ParseFloat(f[i], 64); err == nil {
				ms[f[i+1]] = v
			}
		}
		if ns, ok := ms["ns/op"]; ok {
			ms["sec/op"] = ns / 1e9
		}
		metrics[m[1]] = ms
	}
	fmt.Println()
	fmt.Println("| work | figure | floor | ratio | target | met |")
	fmt.Println("| --- | --- | --- | --- | --- | --- |")
	for _, r := range rows {
		fig, ok := metrics[r.bench][r.metric]
		if !ok {
			fmt.Printf("| %s | not run | | | %s | |\n", r.work, r.target)
			continue
		}
		figure := num(fig) + " " + r.metric
		for _, e := range r.extra {
			if v, ok := metrics[r.bench][e]; ok {
				figure += ", " + num(v) + " " + e
			}
		}
		floor, ratio := "", 0.0
		switch r.ratio {
		case "fig/floor":
			if fl, ok := metrics[r.floor][r.fmetric]; ok && fl > 0 {
				floor, ratio = num(fl)+" "+r.fmetric, fig/fl
			}
		case "":
		default:
			ratio = metrics[r.bench][r.ratio]
		}
		ratioText := ""
		if ratio > 0 {
			ratioText = fmt.Sprintf("%.2fx", ratio)
		}
		met := ""
		if r.ok != nil {
			met = "no"
			if r.ok(metrics[r.bench], ratio) {
				met = "yes"
			}
		}
		fmt.Printf("| %s | %s | %s | %s | %s | %s |\n", r.work, figure, floor, ratioText, r.target, met)
	}
}

// num writes a figure with three significant digits, whole numbers from
// 1,000 on: 0.907, 13.1, 1864.
func num(v float64) string {
	if v >= 1000 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}
