// Package schedule holds when a workload may roll: maintenance windows (days of the
// week and hours in a time zone) and a minimum interval between two rollouts. It is
// pure: every function takes the time it decides for, so the rollout controller
// and its tests use the same clock.
package schedule
