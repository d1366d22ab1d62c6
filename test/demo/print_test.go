package demo

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/flagger-monitoring/flagger-monitoring/test/stack"
)

// printer writes one line per notification straight to stdout: t.Log
// would prefix every line with a file name and indent it.
type printer struct {
	mu    sync.Mutex
	start time.Time
}

func (p *printer) line(source, text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(os.Stdout, "%s %-7s %s\n", time.Now().Format("15:04:05"), "["+source+"]", text)
}

func (p *printer) banner(s *stack.Stack) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(os.Stdout, `
flagger-monitoring demo (up in %v)
  Prometheus        %s   (alerts: %s/alerts)
  Alertmanager      %s
  exporter metrics  %s/metrics
  event adapter     %s/metrics
Canaries, under the real Flagger: team-a/podinfo rolls back every other revision,
team-b/backend always promotes; in a loop.
Below: [flagger] the status Flagger writes, [slack] [teams] what the chat receivers get,
[event] the Flagger events the adapter delivers. Ctrl-C stops everything.

`, time.Since(p.start).Round(time.Second), s.PrometheusURL, s.PrometheusURL, s.AlertmanagerURL, s.ExporterURL, s.AdapterURL)
}

// step shows a status Flagger wrote; weight and failed checks only when set.
func (p *printer) step(namespace, name string, got stack.CanaryStatus) {
	text := fmt.Sprintf("%s.%s %s", name, namespace, got.Phase)
	if got.CanaryWeight > 0 {
		text += fmt.Sprintf(" weight=%d", got.CanaryWeight)
	}
	if got.FailedChecks > 0 {
		text += fmt.Sprintf(" failedChecks=%d", got.FailedChecks)
	}
	p.line("flagger", text)
}

// chat prints a Slack message or Teams card as the alerts it announces.
func (p *printer) chat(sink string, decode func([]byte) (stack.Notification, error)) func(stack.Message) {
	return func(m stack.Message) {
		n, err := decode(m.Body)
		if err != nil {
			p.line(sink, err.Error())
			return
		}
		var b strings.Builder
		object := ""
		if len(n.Firing) > 0 {
			object = n.Firing[0].Object
			b.WriteString("FIRING " + strings.Join(alerts(n.Firing), ","))
		}
		if object == "" && len(n.Ended) > 0 {
			object = n.Ended[0].Object
		}
		b.WriteString(" " + object)
		if len(n.Firing) > 0 && n.Firing[0].Message != "" {
			fmt.Fprintf(&b, " %q", n.Firing[0].Message)
		}
		if len(n.Ended) > 0 {
			b.WriteString("  ended: " + strings.Join(alerts(n.Ended), ","))
		}
		p.line(sink, strings.TrimSpace(b.String()))
	}
}

func alerts(es []stack.Entry) []string {
	var out []string
	for _, e := range es {
		if !slices.Contains(out, e.Alert) {
			out = append(out, e.Alert)
		}
	}
	return out
}

func (p *printer) event(m stack.Message) {
	e, err := stack.DecodeEvent(m.Body)
	if err != nil {
		p.line("event", err.Error())
		return
	}
	p.line("event", fmt.Sprintf("%s %s.%s %s %q", e.Phase, e.Name, e.Namespace, e.Metadata["eventType"], e.Metadata["eventMessage"]))
}

// raw: the pager and legacy Teams should stay quiet; show it if not.
func (p *printer) raw(m stack.Message) {
	p.line(m.Sink, fmt.Sprintf("%.200s", m.Body))
}
