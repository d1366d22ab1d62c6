package logging

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/go-kit/log/level"
)

func TestNewFiltersByLevelAndFormats(t *testing.T) {
	var buf bytes.Buffer
	l, err := New(&buf, Config{Level: "warn", Format: "json"})
	if err != nil {
		t.Fatal(err)
	}
	level.Info(l).Log("msg", "dropped")
	level.Warn(l).Log("msg", "kept", "k", "v")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("want 1 line at warn, got %d: %q", len(lines), buf.String())
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &m); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if m["msg"] != "kept" || m["level"] != "warn" || m["ts"] == nil || m["caller"] == nil {
		t.Fatalf("unexpected line %v", m)
	}
}

func TestNewRejectsUnknownValues(t *testing.T) {
	if _, err := New(&bytes.Buffer{}, Config{Level: "loud"}); err == nil {
		t.Error("unknown level accepted")
	}
	if _, err := New(&bytes.Buffer{}, Config{Format: "xml"}); err == nil {
		t.Error("unknown format accepted")
	}
}

func TestSlogBridgeKeepsLevelAndFilter(t *testing.T) {
	var buf bytes.Buffer
	l, err := New(&buf, Config{Level: "info", Format: "logfmt"})
	if err != nil {
		t.Fatal(err)
	}
	s := Slog(l)
	s.Debug("hidden")
	s.Error("shown", "addr", ":9100")
	out := buf.String()
	if strings.Contains(out, "hidden") {
		t.Errorf("debug line passed an info filter: %q", out)
	}
	if !strings.Contains(out, "level=error") || !strings.Contains(out, "addr=:9100") {
		t.Errorf("slog line not bridged: %q", out)
	}
}
