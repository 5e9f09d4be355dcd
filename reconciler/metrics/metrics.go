// Package metrics keeps what the reconcile loop has done, for Prometheus
// (/metrics) and for a health check (/healthz). The loop calls Observe
// after each run and SetLease when the lease changes hands; the handler
// serves both endpoints from its own registry, never the global one, so
// two loops in one process (tests) do not share counters.
package metrics

import (
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Outcome is how a run ended.
type Outcome string

const (
	Succeeded Outcome = "succeeded" // planned and applied (or had nothing to apply)
	Refused   Outcome = "refused"   // a guard or --require-approved refused the plan
	Failed    Outcome = "failed"    // an error stopped the run, or changes failed
	// Unchanged: neither the remote head nor a clock-driven date moved
	// since the last success, so the run skipped the plan. It counts as a
	// success for health: nothing was left undone.
	Unchanged Outcome = "skipped-unchanged"
)

var outcomes = []Outcome{Succeeded, Refused, Failed, Unchanged}

// Change results, the result label of alm_changes_total.
const (
	ResultApplied = "applied"
	ResultFailed  = "failed"
)

// Notice results, the result label of alm_notices_total.
const (
	NoticeSent   = "sent"
	NoticeFailed = "failed"
)

// Run is what one run did.
type Run struct {
	Start    time.Time
	Duration time.Duration
	Outcome  Outcome
	// Refused names what refused the run, one label value each: the kinds
	// of limit the plan went over (disable, removeFromGroup, delete),
	// "change" for changes the guards never allow, "unapproved" for
	// commits --require-approved refused. Refusals makes it from the
	// refusal's record.
	Refused []string
	// Applied and Failed count the changes by action ("create": 2).
	// Changes makes them from apply's result.
	Applied map[string]int
	Failed  map[string]int
	// Drift counts the plan's changes that repair drift: the directory
	// was changed outside alm since the last apply.
	Drift int
	// Planned says the run made a plan, so Findings and Orphans are the
	// directory's current ones; a run that stopped earlier or skipped the
	// plan leaves the gauges as the last plan set them.
	Planned  bool
	Findings int
	Orphans  int
	// NoticesSent and NoticesFailed count deliveries (message and channel).
	NoticesSent   int
	NoticesFailed int
}

// Metrics are the reconcile loop's counters and the state /healthz
// reports. Its methods may be called from several goroutines.
type Metrics struct {
	reg *prometheus.Registry

	lastSuccess   prometheus.Gauge
	duration      prometheus.Histogram
	runs          *prometheus.CounterVec
	changes       *prometheus.CounterVec
	drift         prometheus.Counter
	findings      prometheus.Gauge
	orphans       prometheus.Gauge
	notices       *prometheus.CounterVec
	refused       *prometheus.CounterVec
	leaseHeld     prometheus.Gauge
	leaseOwner    *prometheus.GaugeVec
	now           func() time.Time
	mu            sync.Mutex
	started       time.Time
	last          *Run      // the last run observed, nil before any
	lastSucceeded time.Time // when the last successful run ended
}

// New makes the metrics with every series at zero, started now: /healthz
// counts the grace before the first run from here.
func New() *Metrics { return newAt(time.Now) }

func newAt(now func() time.Time) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		now: now,
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{Name: "alm_last_success_timestamp_seconds",
			Help: "When the last successful run (or one that found nothing changed) ended, in Unix seconds; 0 before any."}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "alm_run_duration_seconds",
			Help:    "How long each run took, from fetch to the last notice.",
			Buckets: []float64{0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800}}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "alm_runs_total",
			Help: "Runs by outcome: succeeded, refused, failed, skipped-unchanged."}, []string{"outcome"}),
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "alm_changes_total",
			Help: "Directory changes attempted, by action and result (applied, failed)."}, []string{"action", "result"}),
		drift: prometheus.NewCounter(prometheus.CounterOpts{Name: "alm_drift_total",
			Help: "Changes planned to repair drift: the directory was changed outside alm."}),
		findings: prometheus.NewGauge(prometheus.GaugeOpts{Name: "alm_findings",
			Help: "Findings of the last plan: what stays different from Git and needs a person."}),
		orphans: prometheus.NewGauge(prometheus.GaugeOpts{Name: "alm_orphans",
			Help: "Accounts in managed OUs that no file owns, at the last plan."}),
		notices: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "alm_notices_total",
			Help: "Message deliveries (one message on one channel) by result: sent, failed."}, []string{"result"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "alm_refused_runs_total",
			Help: "Refused runs by what refused them: a limit (disable, removeFromGroup, delete), change, unapproved."}, []string{"limit"}),
		leaseHeld: prometheus.NewGauge(prometheus.GaugeOpts{Name: "alm_lease_held",
			Help: "1 while this process holds the lease that lets it write to the directory, else 0."}),
		leaseOwner: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "alm_lease_owner_info",
			Help: "1 for the lease's current owner as this process last saw it; no series when nobody holds it."}, []string{"owner"}),
	}
	m.started = now()
	m.reg.MustRegister(m.lastSuccess, m.duration, m.runs, m.changes, m.drift, m.findings, m.orphans,
		m.notices, m.refused, m.leaseHeld, m.leaseOwner,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Series that exist from the start, so rate() and alerts see a zero
	// rather than no data.
	for _, o := range outcomes {
		m.runs.WithLabelValues(string(o))
	}
	for _, r := range []string{NoticeSent, NoticeFailed} {
		m.notices.WithLabelValues(r)
	}
	for _, l := range []string{"disable", "removeFromGroup", "delete"} {
		m.refused.WithLabelValues(l)
	}
	return m
}

// Observe records one run.
func (m *Metrics) Observe(r Run) {
	m.duration.Observe(r.Duration.Seconds())
	m.runs.WithLabelValues(string(r.Outcome)).Inc()
	for action, n := range r.Applied {
		m.changes.WithLabelValues(action, ResultApplied).Add(float64(n))
	}
	for action, n := range r.Failed {
		m.changes.WithLabelValues(action, ResultFailed).Add(float64(n))
	}
	m.drift.Add(float64(r.Drift))
	if r.Planned {
		m.findings.Set(float64(r.Findings))
		m.orphans.Set(float64(r.Orphans))
	}
	m.notices.WithLabelValues(NoticeSent).Add(float64(r.NoticesSent))
	m.notices.WithLabelValues(NoticeFailed).Add(float64(r.NoticesFailed))
	if r.Outcome == Refused {
		for _, l := range r.Refused {
			m.refused.WithLabelValues(l).Inc()
		}
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	last := r
	m.last = &last
	if r.Outcome == Succeeded || r.Outcome == Unchanged {
		end := r.Start.Add(r.Duration)
		if end.After(m.lastSucceeded) {
			m.lastSucceeded = end
			m.lastSuccess.Set(float64(end.UnixMilli()) / 1000)
		}
	}
}

// SetLease records whether this process holds the lease, and who does
// ("" when nobody does).
func (m *Metrics) SetLease(held bool, owner string) {
	if held {
		m.leaseHeld.Set(1)
	} else {
		m.leaseHeld.Set(0)
	}
	m.leaseOwner.Reset()
	if owner != "" {
		m.leaseOwner.WithLabelValues(owner).Set(1)
	}
}

// LastSuccess is when the last successful run ended; zero before any.
func (m *Metrics) LastSuccess() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lastSucceeded
}

// Handler serves /metrics (Prometheus' text format) and /healthz: 200
// while the last successful run ended less than healthAfter ago, 503 with
// a one-line reason otherwise. Before any successful run it answers 200
// for healthAfter after New, so a starting loop is not reported down.
func (m *Metrics) Handler(healthAfter time.Duration) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		code, reason := m.health(healthAfter)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(code)
		fmt.Fprintln(w, reason)
	})
	return mux
}

// health is /healthz's answer at the clock's time.
func (m *Metrics) health(after time.Duration) (int, string) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.lastSucceeded.IsZero() {
		age := now.Sub(m.lastSucceeded)
		if age < after {
			return http.StatusOK, fmt.Sprintf("ok: last successful run ended %s ago", round(age))
		}
		return http.StatusServiceUnavailable, fmt.Sprintf("unhealthy: last successful run ended %s ago, longer than %s%s",
			round(age), after, m.lastRun())
	}
	up := now.Sub(m.started)
	if m.last == nil {
		if up < after {
			return http.StatusOK, fmt.Sprintf("ok: no run yet, started %s ago", round(up))
		}
		return http.StatusServiceUnavailable, fmt.Sprintf("no run yet: started %s ago, longer than %s", round(up), after)
	}
	if up < after {
		return http.StatusOK, fmt.Sprintf("ok: no successful run yet, started %s ago%s", round(up), m.lastRun())
	}
	return http.StatusServiceUnavailable, fmt.Sprintf("unhealthy: no successful run since the start %s ago%s", round(up), m.lastRun())
}

// lastRun says how the last run ended, for a health reason; m.mu is held.
func (m *Metrics) lastRun() string {
	if m.last == nil {
		return ""
	}
	return fmt.Sprintf("; the last run (%s) %s", m.last.Start.UTC().Format(time.RFC3339), m.last.Outcome)
}

func round(d time.Duration) time.Duration { return d.Round(time.Second) }
