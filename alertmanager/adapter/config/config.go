// Package config reads the adapter's YAML config file, turns it into the
// runtime objects the handler uses, and swaps them on reload (SIGHUP or
// POST /-/reload) only when the new file is entirely valid.
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v2"

	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/event"
)

// Config is the file's layout. Every field has a default except targets.
type Config struct {
	Global  Global         `yaml:"global,omitempty"`
	Mapping event.Rules    `yaml:"mapping,omitempty"`
	Cluster Cluster        `yaml:"cluster,omitempty"`
	Targets []TargetConfig `yaml:"targets"`
}

// Global settings apply to every notification.
type Global struct {
	// RequestTimeout bounds a whole notification, retries included. It should
	// stay below Alertmanager's webhook timeout so the adapter answers (503)
	// before Alertmanager gives up on its own.
	RequestTimeout model.Duration `yaml:"request_timeout,omitempty"`
	// IdempotencyWindow is how long a delivered event is remembered per
	// target; 0 turns de-duplication off.
	IdempotencyWindow model.Duration `yaml:"idempotency_window,omitempty"`
	// IdempotencyMaxEntries bounds the memory per target.
	IdempotencyMaxEntries int `yaml:"idempotency_max_entries,omitempty"`
	// MaxBodyBytes bounds a webhook body; larger ones get a 413.
	MaxBodyBytes int64 `yaml:"max_body_bytes,omitempty"`
	// MaxInFlight bounds the notifications being delivered at once; more
	// are answered 503 at once, for Alertmanager to retry. While a target
	// is down every notification waits out request_timeout, and
	// Alertmanager keeps sending one per alert group: without a bound the
	// adapter's memory would grow with the number of groups.
	MaxInFlight int `yaml:"max_in_flight,omitempty"`
}

// DefaultGlobal: a 10s deadline sits well below the group interval that
// bounds Alertmanager's own notification retries; a group of 1000 alerts is
// about 700 KB, so 8 MiB leaves room without inviting abuse; 256 waiting
// notifications hold about 20 MiB (docs/reliability.md).
var DefaultGlobal = Global{
	RequestTimeout:        model.Duration(10 * time.Second),
	IdempotencyWindow:     model.Duration(time.Hour),
	IdempotencyMaxEntries: 10000,
	MaxBodyBytes:          8 << 20,
	MaxInFlight:           256,
}

// UnmarshalYAML fills in defaults before reading the section.
func (g *Global) UnmarshalYAML(unmarshal func(any) error) error {
	*g = DefaultGlobal
	type plain Global
	return unmarshal((*plain)(g))
}

// Load reads and validates the file. Relative paths inside it (url_file,
// TLS files, password files) are relative to the file's directory.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c.setDirectory(filepath.Dir(path))
	return c, nil
}

// Parse reads and validates a config from bytes; unknown keys are errors, so
// a typo does not silently fall back to a default.
func Parse(b []byte) (*Config, error) {
	c := &Config{Global: DefaultGlobal}
	if err := yaml.UnmarshalStrict(b, c); err != nil {
		return nil, err
	}
	return c, c.Validate()
}

// Validate checks what YAML types cannot. Messages name the field, never a
// URL or secret value.
func (c *Config) Validate() error {
	g := c.Global
	switch {
	case g.RequestTimeout <= 0:
		return errors.New("global.request_timeout must be positive")
	case g.IdempotencyWindow < 0:
		return errors.New("global.idempotency_window must not be negative")
	case g.IdempotencyMaxEntries <= 0:
		return errors.New("global.idempotency_max_entries must be positive")
	case g.MaxBodyBytes <= 0:
		return errors.New("global.max_body_bytes must be positive")
	case g.MaxInFlight <= 0:
		return errors.New("global.max_in_flight must be positive")
	case len(c.Targets) == 0:
		return errors.New("targets: at least one target is required")
	}
	if _, err := c.Mapping.Compile(); err != nil {
		return err
	}
	if err := c.Cluster.validate(); err != nil {
		return err
	}
	seen := map[string]bool{}
	for i := range c.Targets {
		t := &c.Targets[i]
		if err := t.validate(); err != nil {
			return fmt.Errorf("targets[%d] (%q): %w", i, t.Name, err)
		}
		if seen[t.Name] {
			return fmt.Errorf("targets[%d]: duplicate name %q", i, t.Name)
		}
		seen[t.Name] = true
	}
	return nil
}

func (c *Config) setDirectory(dir string) {
	c.Cluster.HTTPConfig.SetDirectory(dir)
	for i := range c.Targets {
		t := &c.Targets[i]
		t.HTTPConfig.SetDirectory(dir)
		t.URLFile = commoncfg.JoinDir(dir, t.URLFile)
		t.HMACKeyFile = commoncfg.JoinDir(dir, t.HMACKeyFile)
	}
}
