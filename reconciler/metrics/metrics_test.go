package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/alm-project/alm/reconciler/apply"
	"github.com/alm-project/alm/reconciler/plan"
	"github.com/alm-project/alm/reconciler/receipt"
)

// clock is a settable time for /healthz.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func (c *clock) set(t time.Time)         { c.mu.Lock(); c.t = t; c.mu.Unlock() }

var t0 = time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)

// scrape reads /metrics from a real server and parses it as Prometheus does.
func scrape(t *testing.T, srv *httptest.Server) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// value is the sample of family name whose labels include want; -1 when
// there is none.
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f, ok := fams[name]
	if !ok {
		return -1
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	return -1
}

func TestObserveMovesCounters(t *testing.T) {
	c := &clock{t: t0}
	m := newAt(c.now)
	srv := httptest.NewServer(m.Handler(time.Hour))
	defer srv.Close()

	type sample struct {
		name   string
		labels map[string]string
		want   float64
	}
	steps := []struct {
		name string
		run  Run
		want []sample
	}{
		{"before any run", Run{}, []sample{
			{"alm_runs_total", map[string]string{"outcome": "succeeded"}, 0},
			{"alm_runs_total", map[string]string{"outcome": "refused"}, 0},
			{"alm_refused_runs_total", map[string]string{"limit": "disable"}, 0},
			{"alm_notices_total", map[string]string{"result": "failed"}, 0},
			{"alm_last_success_timestamp_seconds", nil, 0},
			{"alm_lease_held", nil, 0},
		}},
		{"a run that creates an account", Run{Start: t0, Duration: 3 * time.Second, Outcome: Succeeded,
			Applied: map[string]int{"create": 1, "add-member": 2}, Planned: true, Findings: 2, Orphans: 1, Drift: 1, NoticesSent: 1},
			[]sample{
				{"alm_runs_total", map[string]string{"outcome": "succeeded"}, 1},
				{"alm_changes_total", map[string]string{"action": "create", "result": "applied"}, 1},
				{"alm_changes_total", map[string]string{"action": "add-member", "result": "applied"}, 2},
				{"alm_findings", nil, 2},
				{"alm_orphans", nil, 1},
				{"alm_drift_total", nil, 1},
				{"alm_notices_total", map[string]string{"result": "sent"}, 1},
				{"alm_run_duration_seconds", nil, 1},
				{"alm_last_success_timestamp_seconds", nil, float64(t0.Add(3 * time.Second).Unix())},
			}},
		{"a refused run", Run{Start: t0.Add(time.Minute), Duration: time.Second, Outcome: Refused,
			Refused: []string{"disable", "delete"}, Planned: true, Findings: 0, Orphans: 1},
			[]sample{
				{"alm_runs_total", map[string]string{"outcome": "refused"}, 1},
				{"alm_refused_runs_total", map[string]string{"limit": "disable"}, 1},
				{"alm_refused_runs_total", map[string]string{"limit": "delete"}, 1},
				{"alm_refused_runs_total", map[string]string{"limit": "removeFromGroup"}, 0},
				{"alm_findings", nil, 0},
				{"alm_last_success_timestamp_seconds", nil, float64(t0.Add(3 * time.Second).Unix())},
			}},
		{"a run with a failed change and a failed notice", Run{Start: t0.Add(2 * time.Minute), Duration: time.Second, Outcome: Failed,
			Applied: map[string]int{"create": 1}, Failed: map[string]int{"disable": 1}, NoticesFailed: 2},
			[]sample{
				{"alm_runs_total", map[string]string{"outcome": "failed"}, 1},
				{"alm_changes_total", map[string]string{"action": "create", "result": "applied"}, 2},
				{"alm_changes_total", map[string]string{"action": "disable", "result": "failed"}, 1},
				{"alm_notices_total", map[string]string{"result": "failed"}, 2},
				{"alm_orphans", nil, 1}, // not planned: left as the last plan set it
				{"alm_run_duration_seconds", nil, 3},
			}},
		{"a run that found nothing changed", Run{Start: t0.Add(10 * time.Minute), Duration: time.Second, Outcome: Unchanged},
			[]sample{
				{"alm_runs_total", map[string]string{"outcome": "skipped-unchanged"}, 1},
				{"alm_last_success_timestamp_seconds", nil, float64(t0.Add(10*time.Minute + time.Second).Unix())},
			}},
	}
	for i, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if i > 0 {
				m.Observe(st.run)
			}
			fams := scrape(t, srv)
			for _, s := range st.want {
				if got := value(fams, s.name, s.labels); got != s.want {
					t.Errorf("%s%v = %v, want %v", s.name, s.labels, got, s.want)
				}
			}
		})
	}
}

func TestSetLease(t *testing.T) {
	m := New()
	srv := httptest.NewServer(m.Handler(time.Hour))
	defer srv.Close()
	cases := []struct {
		name      string
		held      bool
		owner     string
		wantHeld  float64
		wantOwner []string
	}{
		{"this process takes it", true, "host-a/123", 1, []string{"host-a/123"}},
		{"another takes it over", false, "host-b/7", 0, []string{"host-b/7"}},
		{"nobody holds it", false, "", 0, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m.SetLease(tc.held, tc.owner)
			fams := scrape(t, srv)
			if got := value(fams, "alm_lease_held", nil); got != tc.wantHeld {
				t.Errorf("alm_lease_held = %v, want %v", got, tc.wantHeld)
			}
			var owners []string
			for _, mm := range fams["alm_lease_owner_info"].GetMetric() {
				owners = append(owners, mm.GetLabel()[0].GetValue())
			}
			if !slices.Equal(owners, tc.wantOwner) {
				t.Errorf("owners = %v, want %v", owners, tc.wantOwner)
			}
		})
	}
}

func TestHealthz(t *testing.T) {
	c := &clock{t: t0}
	m := newAt(c.now)
	srv := httptest.NewServer(m.Handler(2 * time.Hour))
	defer srv.Close()

	steps := []struct {
		name     string
		advance  time.Duration
		run      *Run
		wantCode int
		wantText string
	}{
		{"just started", time.Minute, nil, 200, "ok: no run yet"},
		{"no run within the threshold", 2 * time.Hour, nil, 503, "no run yet: started 2h1m0s ago"},
		{"a refused run is no success", 0, &Run{Start: t0.Add(2 * time.Hour), Duration: time.Minute, Outcome: Refused}, 503, "no successful run since the start"},
		{"a success makes it healthy", time.Minute, &Run{Start: t0.Add(2*time.Hour + time.Minute), Duration: time.Minute, Outcome: Succeeded}, 200, "ok: last successful run ended"},
		{"still young", time.Hour, nil, 200, "ok"},
		{"too old", time.Hour + time.Minute, nil, 503, "longer than 2h0m0s"},
		{"found nothing changed: healthy again", 0, &Run{Start: t0.Add(5 * time.Hour), Duration: time.Second, Outcome: Unchanged}, 200, "ok"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			c.advance(st.advance)
			if st.run != nil {
				m.Observe(*st.run)
				c.set(st.run.Start.Add(st.run.Duration))
			}
			resp, err := http.Get(srv.URL + "/healthz")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != st.wantCode || !strings.Contains(string(body), st.wantText) {
				t.Errorf("/healthz = %d %q, want %d containing %q", resp.StatusCode, body, st.wantCode, st.wantText)
			}
			if strings.Count(strings.TrimSpace(string(body)), "\n") != 0 {
				t.Errorf("/healthz reason is not one line: %q", body)
			}
		})
	}
}

func TestChangesAndRefusals(t *testing.T) {
	res := apply.Result{Changes: []apply.ChangeResult{
		{Change: plan.Change{Action: plan.Create}, Outcome: apply.Applied},
		{Change: plan.Change{Action: plan.Create}, Outcome: apply.Failed},
		{Change: plan.Change{Action: plan.AddMember}, Outcome: apply.Skipped},
		{Change: plan.Change{Action: plan.Disable}, Outcome: apply.Applied},
	}}
	applied, failed := Changes(res)
	if applied["create"] != 1 || applied["disable"] != 1 || failed["create"] != 1 || len(applied)+len(failed) != 3 {
		t.Errorf("Changes = %v, %v", applied, failed)
	}
	cases := []struct {
		name string
		f    *receipt.Refusal
		want []string
	}{
		{"not refused", nil, nil},
		{"over two limits", &receipt.Refusal{By: receipt.ByGuard, Limits: []receipt.Limit{{Kind: plan.LimitDisable}, {Kind: plan.LimitDelete}}}, []string{"disable", "delete"}},
		{"a change never allowed", &receipt.Refusal{By: receipt.ByGuard, Changes: []receipt.RefusedChange{{ID: "x"}}}, []string{"change"}},
		{"unapproved commits", &receipt.Refusal{By: receipt.ByUnapproved}, []string{"unapproved"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Refusals(tc.f); !slices.Equal(got, tc.want) {
				t.Errorf("Refusals = %v, want %v", got, tc.want)
			}
		})
	}
}
