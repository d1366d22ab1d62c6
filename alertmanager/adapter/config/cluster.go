package config

import (
	"fmt"
	"net/http"

	commoncfg "github.com/prometheus/common/config"

	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/peer"
)

// Cluster lists the adapter's replicas so they share one idempotency window
// (package peer). Empty: this replica delivers everything itself.
type Cluster struct {
	// Peers are every replica's base URL, this one included, as the others
	// reach it: the same list in every replica's file.
	Peers []string `yaml:"peers,omitempty"`
	// HTTPConfig is how a replica calls the others: the TLS and basic-auth
	// settings matching their --web.config.file.
	HTTPConfig commoncfg.HTTPClientConfig `yaml:"http_config,omitempty"`
}

// Identity is what tells replicas apart; it comes from the command line and
// the machine, not the shared file.
type Identity struct {
	UserAgent string
	// SelfURL is this replica's entry in cluster.peers; when empty, the
	// entry whose host starts with Hostname.
	SelfURL, Hostname string
	// Peers, when set, replace cluster.peers (command-line flags).
	Peers []string
}

// UnmarshalYAML fills in defaults before reading the section.
func (c *Cluster) UnmarshalYAML(unmarshal func(any) error) error {
	c.HTTPConfig = commoncfg.DefaultHTTPClientConfig
	type plain Cluster
	return unmarshal((*plain)(c))
}

func (c *Cluster) validate() error {
	if err := checkPeers(c.Peers); err != nil {
		return err
	}
	return c.HTTPConfig.Validate()
}

// checkPeers refuses a peer list the ring cannot use: malformed URLs or one
// listed twice.
func checkPeers(peers []string) error {
	if len(peers) == 0 {
		return nil
	}
	if _, err := peer.NewRing(peers, peers[0], ""); err != nil {
		return err
	}
	seen := map[string]bool{}
	for i, p := range peers {
		if seen[p] {
			return fmt.Errorf("cluster.peers[%d]: listed twice", i)
		}
		seen[p] = true
	}
	return nil
}

// build finds this replica in the ring and makes the client for the others.
func (c *Cluster) build(id Identity) (*peer.Ring, *http.Client, error) {
	peers := c.Peers
	if len(id.Peers) > 0 {
		peers = id.Peers
		if err := checkPeers(peers); err != nil {
			return nil, nil, fmt.Errorf("--cluster.peer: %w", err)
		}
	}
	if len(peers) == 0 {
		return nil, nil, nil
	}
	ring, err := peer.NewRing(peers, id.SelfURL, id.Hostname)
	if err != nil {
		return nil, nil, err
	}
	client, err := commoncfg.NewClientFromConfig(c.HTTPConfig, "flagger_event_adapter_peers")
	if err != nil {
		return nil, nil, fmt.Errorf("cluster.http_config: %w", err)
	}
	return ring, client, nil
}
