package harness

import (
	"io"
	"net"
	"sync"
)

// forwarder gives the API server one stable address across restarts: clients
// (and the exporter under test) dial the forwarder, which relays to whichever
// API server instance is current. While no instance is up, connections are
// accepted and closed at once, which a client sees as the server being down.
type forwarder struct {
	ln      net.Listener
	mu      sync.Mutex
	backend string // host:port of the current API server; "" while down
	conns   map[net.Conn]struct{}
	wg      sync.WaitGroup
}

func newForwarder() (*forwarder, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f := &forwarder{ln: ln, conns: map[net.Conn]struct{}{}}
	f.wg.Add(1)
	go f.serve()
	return f, nil
}

func (f *forwarder) addr() string { return f.ln.Addr().String() }

// setBackend switches to a new API server ("" for none) and cuts every
// relayed connection, so clients notice the change as a real restart.
func (f *forwarder) setBackend(addr string) {
	f.mu.Lock()
	f.backend = addr
	for c := range f.conns {
		c.Close()
	}
	f.mu.Unlock()
}

func (f *forwarder) serve() {
	defer f.wg.Done()
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		f.mu.Lock()
		backend := f.backend
		f.mu.Unlock()
		if backend == "" {
			c.Close()
			continue
		}
		f.wg.Add(1)
		go f.relay(c, backend)
	}
}

func (f *forwarder) relay(client net.Conn, backend string) {
	defer f.wg.Done()
	server, err := net.Dial("tcp", backend)
	if err != nil {
		client.Close()
		return
	}
	f.mu.Lock()
	if f.backend != backend { // cut (or switched) while dialling
		f.mu.Unlock()
		client.Close()
		server.Close()
		return
	}
	f.conns[client], f.conns[server] = struct{}{}, struct{}{}
	f.mu.Unlock()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		io.Copy(dst, src)
		done <- struct{}{}
	}
	go pipe(server, client)
	go pipe(client, server)
	<-done
	client.Close()
	server.Close()
	<-done
	f.mu.Lock()
	delete(f.conns, client)
	delete(f.conns, server)
	f.mu.Unlock()
}

func (f *forwarder) close() {
	f.ln.Close()
	f.setBackend("")
	f.wg.Wait()
}
