// Package peer shares one idempotency window between adapter replicas.
//
// Behind an Alertmanager HA pair, one event can arrive twice: each peer
// notifies when gossip lags or is partitioned, and a Service sends the two
// copies to different replicas, whose windows know nothing of each other.
// So every canary has one owner among the replicas (rendezvous hashing over
// the configured peer URLs): a replica delivers its own canaries' events
// and forwards the others' to their owner, whose window then sees both
// copies. One owner per canary also keeps Flagger's order per canary
// across replicas.
package peer

import (
	"errors"
	"fmt"
	"hash/fnv"
	"net/url"
	"os"
	"strings"
)

// Ring is the set of replicas and which one this process is.
type Ring struct {
	URLs []string // every replica's base URL, as the others reach it
	Self int      // index of this process in URLs
}

// NewRing finds self among urls: the URL given (--cluster.self-url), or else
// the one whose host's first DNS label is this machine's hostname, as a
// StatefulSet pod "adapter-1" is "adapter-1.adapter.ns.svc" in the list.
func NewRing(urls []string, self, hostname string) (*Ring, error) {
	if len(urls) == 0 {
		return nil, nil
	}
	r := &Ring{URLs: urls, Self: -1}
	for i, u := range urls {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return nil, fmt.Errorf("cluster.peers[%d]: want http(s)://host:port", i)
		}
		label, _, _ := strings.Cut(p.Hostname(), ".")
		if (self != "" && strings.TrimSuffix(u, "/") == strings.TrimSuffix(self, "/")) || (self == "" && label == hostname) {
			if r.Self >= 0 {
				return nil, errors.New("cluster.peers: this replica matches more than one peer; set --cluster.self-url")
			}
			r.Self = i
		}
	}
	if r.Self < 0 {
		who := "hostname " + hostname
		if self != "" {
			who = "--cluster.self-url " + self
		}
		return nil, fmt.Errorf("cluster.peers: no peer is this replica (%s); list every replica, this one included", who)
	}
	return r, nil
}

// Hostname is os.Hostname, "" when it fails.
func Hostname() string {
	h, _ := os.Hostname()
	return h
}

// Owner is the index of the replica that delivers canary's events: the
// highest hash of (peer, canary). Adding or removing a replica moves only
// the canaries it gains or loses.
func (r *Ring) Owner(canary string) int {
	c := sum64(canary)
	best, owner := uint64(0), 0
	for i, u := range r.URLs {
		if s := mix(sum64(u) ^ c); i == 0 || s > best {
			best, owner = s, i
		}
	}
	return owner
}

func sum64(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// mix is splitmix64's finalizer. FNV alone is not enough: peer URLs that
// differ only in a port digit hash to states whose order barely depends on
// what follows, so one replica could own every canary.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}
