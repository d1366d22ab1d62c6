package logging

import "github.com/alecthomas/kingpin/v2"

// AddFlags registers --log.level and --log.format, as every Prometheus
// exporter spells them.
func AddFlags(app *kingpin.Application) *Config {
	c := &Config{}
	app.Flag("log.level", "Only log messages with the given severity or above. One of: [debug, info, warn, error]").
		Default("info").EnumVar(&c.Level, Levels...)
	app.Flag("log.format", "Output format of log messages. One of: [logfmt, json]").
		Default("logfmt").EnumVar(&c.Format, Formats...)
	return c
}
