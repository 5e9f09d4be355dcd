package report

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// The chart's panel in SVG user units; the SVG scales to the page's width.
const (
	chartW, chartH         = 760, 190
	padL, padR, padT, padB = 56, 20, 12, 28
	plotW, plotH           = chartW - padL - padR, chartH - padT - padB
	maxXTicks              = 7
)

// chart is one panel's geometry, worked out here so the template only draws.
type chart struct {
	Title, Class string
	W, H         int
	Left, Right  int // the plot area's edges
	Top, Bottom  int
	TickEnd      int    // where an x tick mark ends, below the axis
	Line, Area   string // SVG path data: a step line, and the area under it
	YTicks       []tick
	XTicks       []tick
	// The first, last and highest counts, with their dates, said in words
	// beside the chart.
	First, Last, Peak       int
	FirstAt, LastAt, PeakAt time.Time
}

type tick struct {
	Pos    string // x or y in user units
	Label  string
	Anchor string // text-anchor of an x label
}

// newChart draws value over the period as a step line: a count holds from one
// date until the next, and the last one until the period's end.
func newChart(title, class string, from, to time.Time, pts []Point, value func(Point) int) chart {
	x0, x1 := from, to
	if pts[0].Date.Before(x0) {
		x0 = pts[0].Date
	}
	if last := pts[len(pts)-1].Date; last.After(x1) {
		x1 = last
	}
	if !x1.After(x0) {
		x1 = x0.Add(24 * time.Hour)
	}
	top := 0
	peak := pts[0]
	for _, p := range pts {
		if value(p) > value(peak) {
			peak = p
		}
		top = max(top, value(p))
	}
	step := niceStep(float64(top) / 4)
	ymax := step * math.Ceil(float64(top)/step)
	if ymax == 0 {
		ymax = step
	}
	x := func(t time.Time) float64 {
		return padL + float64(plotW)*float64(t.Sub(x0))/float64(x1.Sub(x0))
	}
	y := func(v int) float64 { return padT + float64(plotH)*(1-float64(v)/ymax) }

	var line strings.Builder
	fmt.Fprintf(&line, "M%.1f %.1f", x(pts[0].Date), y(value(pts[0])))
	for _, p := range pts[1:] {
		fmt.Fprintf(&line, " H%.1f V%.1f", x(p.Date), y(value(p)))
	}
	fmt.Fprintf(&line, " H%.1f", x(x1))
	area := fmt.Sprintf("%s V%d H%.1f Z", line.String(), padT+plotH, x(pts[0].Date))

	c := chart{
		Title: title, Class: class,
		W: chartW, H: chartH,
		Left: padL, Right: padL + plotW, Top: padT, Bottom: padT + plotH, TickEnd: padT + plotH + 4,
		Line: line.String(), Area: area,
		First: value(pts[0]), FirstAt: pts[0].Date,
		Last: value(pts[len(pts)-1]), LastAt: pts[len(pts)-1].Date,
		Peak: value(peak), PeakAt: peak.Date,
	}
	for v := 0.0; v <= ymax+step/2; v += step {
		c.YTicks = append(c.YTicks, tick{Pos: fmt.Sprintf("%.1f", y(int(v))), Label: fmt.Sprintf("%d", int(v))})
	}
	for _, t := range calendarTicks(x0, x1) {
		pos := x(t)
		anchor := "middle"
		switch {
		case pos < padL+30:
			anchor = "start"
		case pos > padL+plotW-30:
			anchor = "end"
		}
		c.XTicks = append(c.XTicks, tick{Pos: fmt.Sprintf("%.1f", pos), Label: label(t, x1.Sub(x0)), Anchor: anchor})
	}
	return c
}

// niceStep rounds v up to 1, 2 or 5 times a power of ten, so the axis reads
// in round numbers; never below 1, since counts are whole.
func niceStep(v float64) float64 {
	if v <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// calendarTicks puts the x axis's marks on days, Mondays, first days of
// months, quarters or years, whichever is the finest that gives at most
// maxXTicks marks from a to b, so the axis reads as a calendar.
func calendarTicks(a, b time.Time) []time.Time {
	loc := a.Location()
	day := time.Date(a.Year(), a.Month(), a.Day(), 0, 0, 0, 0, loc)
	if day.Before(a) {
		day = day.AddDate(0, 0, 1)
	}
	type step struct{ years, months, days int }
	for _, s := range []step{{0, 0, 1}, {0, 0, 7}, {0, 1, 0}, {0, 3, 0}, {0, 6, 0}, {1, 0, 0}, {2, 0, 0}, {5, 0, 0}, {10, 0, 0}, {50, 0, 0}} {
		t := day
		switch {
		case s.days == 7:
			for t.Weekday() != time.Monday {
				t = t.AddDate(0, 0, 1)
			}
		case s.months > 0:
			t = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, loc)
			for t.Before(a) || (int(t.Month())-1)%s.months != 0 {
				t = t.AddDate(0, 1, 0)
			}
		case s.years > 0:
			t = time.Date(t.Year(), 1, 1, 0, 0, 0, 0, loc)
			for t.Before(a) || t.Year()%s.years != 0 {
				t = t.AddDate(1, 0, 0)
			}
		}
		var ticks []time.Time
		for ; !t.After(b) && len(ticks) <= maxXTicks; t = t.AddDate(s.years, s.months, s.days) {
			ticks = append(ticks, t)
		}
		if len(ticks) <= maxXTicks {
			return ticks
		}
	}
	return []time.Time{a, b}
}

// label names a tick as precisely as the chart's span needs.
func label(t time.Time, span time.Duration) string {
	switch {
	case span <= 120*24*time.Hour:
		return t.Format("2006-01-02")
	case span <= 6*366*24*time.Hour:
		return t.Format("Jan 2006")
	}
	return t.Format("2006")
}
