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
)

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

// maxBudget checks an upper bound on bytes.
func memBudget(name string, got float64, limit float64) Budget {
	return Budget{Name: name, Limit: "≤ " + mib(limit), Measured: mib(got), Checked: true, OK: got > 0 && got <= limit}
}
