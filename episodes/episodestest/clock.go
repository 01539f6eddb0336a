package episodestest

import (
	"sync"
	"time"
)

// Clock is a clock the tests move by hand; pass its Now where a package
// takes a clock. It is safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock at Friday 5 March 2021, 9:30 UTC (a P21 air
// day), or at the time given.
func NewClock(at ...time.Time) *Clock {
	c := &Clock{now: time.Date(2021, 3, 5, 9, 30, 0, 0, time.UTC)}
	if len(at) > 0 {
		c.now = at[0]
	}
	return c
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}
