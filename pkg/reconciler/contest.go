package reconciler

import (
	"sort"
	"sync"
	"time"
)

// When another writer (a person, a second controller) keeps rewriting an object a
// controller owns, repairing every edit makes the two write forever. Contests
// notice such a fight per object and back off: the first repairs are immediate; once
// an object needed ContestThreshold repairs within ContestWindow it is contested,
// and is repaired again only after an exponentially growing delay since the last
// repair (ContestBase doubling up to ContestCap), or as soon as the other writer has
// been quiet for ContestQuiet, whichever comes first. When the other writer stops,
// the object converges within ContestQuiet; while it goes on, a repair costs at
// most ContestThreshold + log2(duration/ContestBase) + 1 writes, plus one per pause
// of ContestQuiet: a fight is forgotten only after ContestWindow without a foreign
// edit, so a writer that pauses (or a loaded API server that delays its edits) and
// resumes meets the backoff it had reached, not ContestThreshold immediate repairs.
const (
	// ContestWindow is how far back repairs count towards a contest.
	ContestWindow = time.Minute
	// ContestThreshold repairs within ContestWindow make an object contested.
	ContestThreshold = 3
	// ContestBase is the wait after the first repair of a contest; it doubles.
	ContestBase = time.Second
	// ContestCap bounds the wait between two repairs of a contested object.
	ContestCap = time.Minute
	// ContestQuiet without a foreign write means the other writer stopped.
	ContestQuiet = 2 * time.Second
)

// maxContests bounds what is remembered: past it, the quietest are forgotten.
const maxContests = 10_000

// Contests track fights over objects, by any comparable key. Safe for concurrent
// use; the zero value is ready. ChildSets use one per reconciler; a controller
// writing objects without a ChildSet (the rollout controller) can keep its own.
type Contests struct {
	mu  sync.Mutex
	m   map[any]*contest
	now func() time.Time // nil: time.Now
}

type contest struct {
	repairs    []time.Time // repairs within ContestWindow
	level      int         // > 0: contested, and how many delayed repairs it took
	lastRepair time.Time
	// seen is the last version written by someone else, and when it was first seen.
	seen   string
	seenAt time.Time
	// Writer names the other writer, once a caller found out (SetWriter).
	writer string
}

// Admission is what Admit decides about one repair.
type Admission struct {
	// Write: repair now (then call Repaired).
	Write bool
	// Wait is how long to wait before asking again, when not Write.
	Wait time.Duration
	// Contested: the object is being fought over (also when Write, for a delayed
	// repair); Started is true on the call that found the fight.
	Contested, Started bool
	// Repairs within ContestWindow, and the other writer if known.
	Repairs int
	Writer  string
}

func (c *Contests) clock() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

// Admit decides whether the object key, found at version (its resourceVersion)
// and not as its owner wants it, may be repaired now.
func (c *Contests) Admit(key any, version string) Admission {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.clock()
	st := c.get(key, now)
	keep := st.repairs[:0]
	for _, t := range st.repairs {
		if now.Sub(t) < ContestWindow {
			keep = append(keep, t)
		}
	}
	st.repairs = keep
	if st.level > 0 && now.Sub(st.seenAt) >= ContestWindow {
		// A window without a foreign edit: the fight is over, this edit is a new one.
		*st = contest{}
	}
	a := Admission{Repairs: len(st.repairs), Writer: st.writer}
	if st.level == 0 {
		if len(st.repairs) < ContestThreshold {
			a.Write = true
			return a
		}
		st.level, a.Started = 1, true
		st.seen, st.seenAt = version, now
	}
	a.Contested = true
	if version != st.seen {
		st.seen, st.seenAt = version, now
	}
	if quiet := now.Sub(st.seenAt); quiet >= ContestQuiet {
		// The other writer stopped, or paused: repair now, at no higher level. The
		// fight stays remembered until a window passes without a foreign edit.
		a.Write, a.Contested = true, false
		return a
	}
	if since := now.Sub(st.lastRepair); since >= backoff(st.level) {
		st.level++
		a.Write = true
		return a
	}
	a.Wait = min(backoff(st.level)-now.Sub(st.lastRepair), ContestQuiet-now.Sub(st.seenAt))
	return a
}

// WriterOrAnother is Writer, or "another writer" while it is not known, for messages.
func (a Admission) WriterOrAnother() string {
	if a.Writer == "" {
		return "another writer"
	}
	return a.Writer
}

// Repaired records a repair of key that Admit allowed.
func (c *Contests) Repaired(key any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.clock()
	st := c.get(key, now)
	st.repairs = append(st.repairs, now)
	st.lastRepair = now
}

// SetWriter records who else writes key, for the messages of later Admissions.
func (c *Contests) SetWriter(key any, writer string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[key]; ok {
		st.writer = writer
	}
}

// Forget drops what is remembered of key (deleted, say).
func (c *Contests) Forget(key any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, key)
}

func (c *Contests) get(key any, now time.Time) *contest {
	if c.m == nil {
		c.m = map[any]*contest{}
	}
	st, ok := c.m[key]
	if !ok {
		if len(c.m) >= maxContests {
			c.forgetQuietest(now)
		}
		st = &contest{}
		c.m[key] = st
	}
	return st
}

// forgetQuietest drops the half of the entries repaired longest ago.
func (c *Contests) forgetQuietest(now time.Time) {
	type aged struct {
		key any
		at  time.Time
	}
	all := make([]aged, 0, len(c.m))
	for k, st := range c.m {
		all = append(all, aged{k, st.lastRepair})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].at.Before(all[j].at) })
	for _, a := range all[:len(all)/2] {
		delete(c.m, a.key)
	}
}

func backoff(level int) time.Duration {
	d := ContestBase
	for i := 1; i < level && d < ContestCap; i++ {
		d *= 2
	}
	return min(d, ContestCap)
}
