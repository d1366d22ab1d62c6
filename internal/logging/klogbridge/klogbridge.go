// Package klogbridge sends what client-go logs through klog into the
// process's go-kit logger, so the exporter writes one format to one place.
// klog's verbose info lines become debug lines; its errors stay errors.
package klogbridge

import (
	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/go-logr/logr"
	"k8s.io/klog/v2"
)

// Install routes klog (and everything logging through it) to logger.
func Install(logger log.Logger) {
	klog.SetLogger(logr.New(&sink{logger: log.With(logger, "component", "client-go")}))
}

type sink struct {
	logger log.Logger
}

func (s *sink) Init(logr.RuntimeInfo) {}

// Enabled passes everything: the go-kit level filter decides.
func (s *sink) Enabled(int) bool { return true }

func (s *sink) Info(_ int, msg string, kv ...any) {
	level.Debug(s.logger).Log(append([]any{"msg", msg}, kv...)...)
}

func (s *sink) Error(err error, msg string, kv ...any) {
	level.Error(s.logger).Log(append([]any{"msg", msg, "err", err}, kv...)...)
}

func (s *sink) WithValues(kv ...any) logr.LogSink {
	return &sink{logger: log.With(s.logger, kv...)}
}

func (s *sink) WithName(name string) logr.LogSink {
	return &sink{logger: log.With(s.logger, "logger", name)}
}
