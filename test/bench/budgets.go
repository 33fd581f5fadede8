package bench

import "fmt"

// Budget limits. docs/performance.md explains what each one protects against.
const (
	// maxTimeRatio bounds fan-out and update time relative to the raw client.
	maxTimeRatio = 1.5
	// maxPeakRSS and maxSteadyRSS bound the manager's memory in scenario 4.
	maxPeakRSS   = 96 << 20
	maxSteadyRSS = 64 << 20
	// maxChurnGrowth bounds how far steady RSS after scenario 8's churn may stay
	// above the figure before the copies existed.
	maxChurnGrowth = 10 << 20
	// maxHeapPerCopy bounds the steady Go heap in use each managed copy costs,
	// whatever its size (scenario 9): a cache of whole copies costs more than the
	// smallest copy measured (8 KiB). The figure varies by a KiB or two from run to
	// run. targetHeapPerCopy is issue 19's goal, reported but not yet enforced.
	maxHeapPerCopy    = 8 << 10
	targetHeapPerCopy = 2 << 10
	// maxPeakFactor bounds the peak RSS of a fan-out or a start-up as a multiple of
	// the steady RSS after it (scenario 9): with the collector's default pacing the
	// heap may reach twice the live heap, and an initial list held whole takes it
	// beyond. targetPeakOverSteady is issue 19's goal, reported but not enforced:
	// it needs the heap's growth bounded by a soft memory limit, which the chart
	// and the bundle set from the container's limit (--memory-limit).
	maxPeakFactor        = 2.0
	targetPeakOverSteady = 32 << 20
)

// issue19 names why a scale target is not enforced yet.
const issue19 = "issue 19"

// perCopyBudgets check the heap per copy: the enforced bound and the target.
func perCopyBudgets(name string, perCopy float64) []Budget {
	kib := func(b float64) string { return fmt.Sprintf("%.2f KiB", b/1024) }
	return []Budget{
		{Name: name, Limit: "≤ " + kib(maxHeapPerCopy), Measured: kib(perCopy), Checked: true, OK: perCopy <= maxHeapPerCopy},
		{Name: name + " (target)", Limit: "≤ " + kib(targetHeapPerCopy), Measured: kib(perCopy), OK: perCopy <= targetHeapPerCopy, Target: issue19},
	}
}

// peakBudgets check a snapshot's peak RSS against its steady RSS: the enforced
// factor and the target margin.
func peakBudgets(name string, m memSnapshot) []Budget {
	factor, over := float64(m.PeakRSS)/float64(m.RSS), float64(m.PeakRSS-m.RSS)
	return []Budget{
		{Name: name + ": peak RSS / steady RSS", Limit: fmt.Sprintf("≤ %.1f×", maxPeakFactor), Measured: fmt.Sprintf("%.2f×", factor),
			Checked: true, OK: m.RSS > 0 && factor <= maxPeakFactor},
		{Name: name + ": peak RSS − steady RSS (target)", Limit: "≤ " + mib(targetPeakOverSteady), Measured: mib(over),
			OK: over <= targetPeakOverSteady, Target: issue19},
	}
}

// timeBudget checks a Courier/baseline ratio.
func timeBudget(name string, q float64, checked bool) Budget {
	return Budget{Name: name, Limit: fmt.Sprintf("≤ %.1f× baseline", maxTimeRatio), Measured: fmt.Sprintf("%.2f×", q),
		Checked: checked, OK: q > 0 && q <= maxTimeRatio}
}

// exactBudget checks that a count is exactly want.
func exactBudget(name string, got, want float64, why string) Budget {
	b := Budget{Name: name, Limit: fmt.Sprintf("= %g", want), Measured: fmt.Sprintf("%g", got), Checked: true, OK: got == want}
	if !b.OK {
		b.Why = why
	}
	return b
}

// memBudget checks an upper bound on bytes.
func memBudget(name string, got float64, limit float64) Budget {
	return Budget{Name: name, Limit: "≤ " + mib(limit), Measured: mib(got), Checked: true, OK: got > 0 && got <= limit}
}
