package server

import (
	"net"
	"strings"

	"github.com/prometheus/exporter-toolkit/web"
	"golang.org/x/net/netutil"
)

// limitedListeners opens the configured TCP addresses, each accepting at most
// max connections at once; the rest wait in the kernel's accept queue, which
// costs the process nothing. Under a flood of clients (every Alertmanager
// alert group retrying during an outage) the process's memory then stays
// bounded by max instead of by the number of clients. It returns nil, nil
// when there is nothing to limit: max 0, systemd socket activation or vsock
// addresses, which exporter-toolkit's ListenAndServe opens unlimited.
func limitedListeners(flags *web.FlagConfig, max int) ([]net.Listener, error) {
	if max <= 0 || flags.WebListenAddresses == nil || len(*flags.WebListenAddresses) == 0 ||
		(flags.WebSystemdSocket != nil && *flags.WebSystemdSocket) {
		return nil, nil
	}
	for _, a := range *flags.WebListenAddresses {
		if strings.HasPrefix(a, "vsock://") {
			return nil, nil
		}
	}
	var ls []net.Listener
	for _, a := range *flags.WebListenAddresses {
		l, err := net.Listen("tcp", a)
		if err != nil {
			for _, open := range ls {
				open.Close()
			}
			return nil, err
		}
		ls = append(ls, netutil.LimitListener(l, max))
	}
	return ls, nil
}
