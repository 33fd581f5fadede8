package bench

import (
	"context"
	"sync"
)

// parallel runs fn(i) for i in [0, n) with at most p calls in flight, the way
// Courier's ChildSet bounds its writes, and returns the first error.
func parallel(ctx context.Context, n, p int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan int)
	var (
		wg   sync.WaitGroup
		once sync.Once
		err  error
	)
	for w := 0; w < p; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if e := fn(ctx, i); e != nil {
					once.Do(func() { err = e; cancel() })
				}
			}
		}()
	}
feed:
	for i := 0; i < n; i++ {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return err
}
