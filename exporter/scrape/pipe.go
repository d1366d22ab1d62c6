package scrape

import (
	"io"
	"sync"
)

// pipeChunks bounds what a pipelined scrape holds beyond the socket's own
// buffers: 4 chunks of the exposition writer's 64 KiB.
const pipeChunks = 4

// pipe overlaps rendering with sending: Write copies each chunk the
// exposition writer hands it and returns, while a goroutine writes the
// copies to the connection. A plain 10k-canary scrape is 40 MB, about as
// long to render as to send, so done one after the other the scrape takes
// twice as long as sending alone; memory stays at a few chunks, where
// keeping the rendered text would cost the 40 MB.
type pipe struct {
	chunks chan []byte // rendered, to be sent
	free   chan []byte // sent, to be reused
	done   chan struct{}
	mu     sync.Mutex
	err    error // the first failed write to out
}

func newPipe(out io.Writer) *pipe {
	p := &pipe{chunks: make(chan []byte, pipeChunks), free: make(chan []byte, pipeChunks), done: make(chan struct{})}
	for range pipeChunks {
		p.free <- nil
	}
	go p.send(out)
	return p
}

func (p *pipe) send(out io.Writer) {
	defer close(p.done)
	for c := range p.chunks {
		if p.failed() == nil {
			if _, err := out.Write(c); err != nil {
				p.mu.Lock()
				p.err = err
				p.mu.Unlock()
			}
		}
		p.free <- c[:0]
	}
}

func (p *pipe) failed() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Write queues a copy of b; it fails once a write to the connection has, so
// the render stops early when the scraper hung up.
func (p *pipe) Write(b []byte) (int, error) {
	if err := p.failed(); err != nil {
		return 0, err
	}
	p.chunks <- append(<-p.free, b...)
	return len(b), nil
}

// Close waits until everything queued was sent, and reports the first
// failed write.
func (p *pipe) Close() error {
	close(p.chunks)
	<-p.done
	return p.failed()
}
