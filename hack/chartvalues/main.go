// Command chartvalues rewrites the values table of a chart's README.md from
// its values.yaml (see internal/chartdoc). make generate runs it.
//
//	go run ./hack/chartvalues charts/flagger-monitoring
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/flagger-monitoring/flagger-monitoring/internal/chartdoc"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: chartvalues CHART_DIR")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "chartvalues:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	values, err := os.ReadFile(filepath.Join(dir, "values.yaml"))
	if err != nil {
		return err
	}
	rows, err := chartdoc.Rows(values)
	if err != nil {
		return err
	}
	readmePath := filepath.Join(dir, "README.md")
	readme, err := os.ReadFile(readmePath)
	if err != nil {
		return err
	}
	out, err := chartdoc.Splice(string(readme), chartdoc.Table(rows))
	if err != nil {
		return err
	}
	return os.WriteFile(readmePath, []byte(out), 0o644)
}
