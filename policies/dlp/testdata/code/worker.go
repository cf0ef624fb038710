package worker

import (
	"context"
	"errors"
	"sync"
	"time"
)

var ErrClosed = errors.New("pool closed")

type Job func(ctx context.Context) error

type Pool struct {
	jobs   chan Job
	wg     sync.WaitGroup
	mu     sync.Mutex
	closed bool
}

func New(workers int) *Pool {
	p := &Pool{jobs: make(chan Job)}
	for i := 0; i < workers; i++ {
		p.wg.Add(1)
		go p.run()
	}
	return p
}

func (p *Pool) run() {
	defer p.wg.Done()
	for job := range p.jobs {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := job(ctx); err != nil {
			logError(err)
		}
		cancel()
	}
}

func (p *Pool) Submit(j Job) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	p.jobs <- j
	return nil
}

func (p *Pool) Close() {
	p.mu.Lock()
	p.closed = true
	close(p.jobs)
	p.mu.Unlock()
	p.wg.Wait()
}
