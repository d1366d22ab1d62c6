package config

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"
	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"

	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/deliver"
)

// TargetConfig is one consumer of Flagger events.
type TargetConfig struct {
	Name string `yaml:"name"`
	// URL or URLFile (exactly one). The file is read on every (re)load, so a
	// mounted Secret can rotate it.
	URL        commoncfg.Secret           `yaml:"url,omitempty"`
	URLFile    string                     `yaml:"url_file,omitempty"`
	HTTPConfig commoncfg.HTTPClientConfig `yaml:"http_config,omitempty"`
	// HMACKeyFile, when set, signs every request: X-Signature: sha256=<hex
	// HMAC-SHA256 of the body>, the header Flux's generic-hmac provider
	// sends. A file only (a key in the config would be one more secret in a
	// ConfigMap); read on every (re)load, so rotating the Secret needs a reload.
	HMACKeyFile string `yaml:"hmac_key_file,omitempty"`
	// Matchers select the alerts this target gets, in Alertmanager's matcher
	// syntax (namespace=~"team-a.*"); all must match; none means all alerts.
	Matchers    []string       `yaml:"matchers,omitempty"`
	Timeout     model.Duration `yaml:"timeout,omitempty"`
	MaxRetries  *int           `yaml:"max_retries,omitempty"`
	MinBackoff  model.Duration `yaml:"min_backoff,omitempty"`
	MaxBackoff  model.Duration `yaml:"max_backoff,omitempty"`
	Concurrency int            `yaml:"concurrency,omitempty"`
}

// DefaultTarget: five retries from 100ms doubling to 2s fit in the default
// 10s request timeout alongside a 3s attempt timeout.
var DefaultTarget = TargetConfig{
	HTTPConfig:  commoncfg.DefaultHTTPClientConfig,
	Timeout:     model.Duration(3 * time.Second),
	MaxRetries:  func() *int { n := 5; return &n }(),
	MinBackoff:  model.Duration(100 * time.Millisecond),
	MaxBackoff:  model.Duration(2 * time.Second),
	Concurrency: 4,
}

// UnmarshalYAML fills in defaults before reading the target.
func (t *TargetConfig) UnmarshalYAML(unmarshal func(any) error) error {
	*t = DefaultTarget
	t.MaxRetries = new(int)
	*t.MaxRetries = *DefaultTarget.MaxRetries
	type plain TargetConfig
	return unmarshal((*plain)(t))
}

func (t *TargetConfig) validate() error {
	switch {
	case t.Name == "":
		return errors.New("name is required")
	case (t.URL == "") == (t.URLFile == ""):
		return errors.New("exactly one of url and url_file is required")
	case t.Timeout <= 0:
		return errors.New("timeout must be positive")
	case t.MaxRetries == nil || *t.MaxRetries < 0:
		return errors.New("max_retries must not be negative")
	case t.MinBackoff <= 0:
		return errors.New("min_backoff must be positive")
	case t.MaxBackoff < t.MinBackoff:
		return errors.New("max_backoff must not be below min_backoff")
	case t.Concurrency < 1:
		return errors.New("concurrency must be at least 1")
	}
	if t.URL != "" {
		if err := checkURL(string(t.URL)); err != nil {
			return fmt.Errorf("url: %w", err)
		}
	}
	if _, err := t.matchers(); err != nil {
		return err
	}
	return t.HTTPConfig.Validate()
}

// checkURL explains a bad URL without quoting it: it may hold a token.
func checkURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return errors.New("not a valid URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return errors.New("scheme must be http or https")
	case u.Host == "":
		return errors.New("host is missing")
	}
	return nil
}

func (t *TargetConfig) matchers() ([]*labels.Matcher, error) {
	ms := make([]*labels.Matcher, 0, len(t.Matchers))
	for i, s := range t.Matchers {
		m, err := labels.ParseMatcher(s)
		if err != nil {
			return nil, fmt.Errorf("matchers[%d]: %w", i, err)
		}
		ms = append(ms, m)
	}
	return ms, nil
}

// build makes the runtime target: reads url_file and builds the HTTP client.
func (t *TargetConfig) build(userAgent string) (*deliver.Target, error) {
	u := string(t.URL)
	if t.URLFile != "" {
		b, err := os.ReadFile(t.URLFile)
		if err != nil {
			return nil, fmt.Errorf("url_file: %w", err)
		}
		u = strings.TrimSpace(string(b))
		if err := checkURL(u); err != nil {
			return nil, fmt.Errorf("url_file %s: %w", t.URLFile, err)
		}
	}
	ms, err := t.matchers()
	if err != nil {
		return nil, err
	}
	var key []byte
	if t.HMACKeyFile != "" {
		if key, err = readKey(t.HMACKeyFile); err != nil {
			return nil, err
		}
	}
	// No WithUserAgent: its round tripper clones every request to set the
	// header; deliver sets it on the request it builds anyway.
	client, err := commoncfg.NewClientFromConfig(t.HTTPConfig, "flagger_event_adapter_"+t.Name)
	if err != nil {
		return nil, fmt.Errorf("http_config: %w", err)
	}
	return &deliver.Target{
		Name:      t.Name,
		URL:       deliver.Secret(u),
		Client:    client,
		UserAgent: userAgent,
		HMACKey:   key,
		Matchers:  ms,
		Policy: deliver.Policy{
			Timeout:     time.Duration(t.Timeout),
			MaxRetries:  *t.MaxRetries,
			MinBackoff:  time.Duration(t.MinBackoff),
			MaxBackoff:  time.Duration(t.MaxBackoff),
			Concurrency: t.Concurrency,
		},
	}, nil
}

// readKey reads an HMAC key file; surrounding whitespace (a trailing newline
// from an editor or `kubectl create secret --from-file`) is not part of the
// key. Errors name the file, never its content.
func readKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("hmac_key_file: %w", err)
	}
	k := bytes.TrimSpace(b)
	if len(k) == 0 {
		return nil, fmt.Errorf("hmac_key_file %s: empty", path)
	}
	return k, nil
}
