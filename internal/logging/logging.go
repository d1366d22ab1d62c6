// Package logging builds the one go-kit logger a binary uses and bridges the
// libraries that insist on log/slog (exporter-toolkit) into it, so every line a
// process writes has the same format and level filter.
package logging

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	sloggokit "github.com/tjhop/slog-gokit"
)

// Levels and Formats are the values the --log.level and --log.format flags take.
var (
	Levels  = []string{"debug", "info", "warn", "error"}
	Formats = []string{"logfmt", "json"}
)

// Config is what the flags set.
type Config struct {
	Level  string
	Format string
}

// New returns a logger writing to w with a timestamp and caller on every line,
// filtered at the configured level.
func New(w io.Writer, c Config) (log.Logger, error) {
	var l log.Logger
	switch c.Format {
	case "logfmt", "":
		l = log.NewLogfmtLogger(log.NewSyncWriter(w))
	case "json":
		l = log.NewJSONLogger(log.NewSyncWriter(w))
	default:
		return nil, fmt.Errorf("unknown log format %q (want one of %v)", c.Format, Formats)
	}
	opt, err := levelOption(c.Level)
	if err != nil {
		return nil, err
	}
	l = level.NewFilter(l, opt)
	return log.With(l, "ts", log.DefaultTimestampUTC, "caller", log.DefaultCaller), nil
}

func levelOption(s string) (level.Option, error) {
	switch s {
	case "debug":
		return level.AllowDebug(), nil
	case "info", "":
		return level.AllowInfo(), nil
	case "warn":
		return level.AllowWarn(), nil
	case "error":
		return level.AllowError(), nil
	}
	return nil, fmt.Errorf("unknown log level %q (want one of %v)", s, Levels)
}

// Slog wraps logger for libraries that take a *slog.Logger. Level filtering
// stays with the go-kit logger, so the handler passes everything down.
func Slog(logger log.Logger) *slog.Logger {
	return slog.New(sloggokit.NewGoKitHandler(logger, slog.LevelDebug))
}
