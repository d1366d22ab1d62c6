package event

import (
	"strings"
	"text/template"
	"time"
)

// MessageData is what the message template sees: the alert, what the mapper
// made of it, and the notification it came in.
type MessageData struct {
	Status       string
	Labels       map[string]string
	Annotations  map[string]string
	StartsAt     time.Time
	EndsAt       time.Time
	GeneratorURL string
	Fingerprint  string

	Name      string
	Namespace string
	Phase     string

	Receiver          string
	ExternalURL       string
	GroupLabels       map[string]string
	CommonLabels      map[string]string
	CommonAnnotations map[string]string
}

var templateFuncs = template.FuncMap{
	"toUpper":   strings.ToUpper,
	"toLower":   strings.ToLower,
	"trimSpace": strings.TrimSpace,
	"join":      strings.Join,
	"sentences": sentences,
}

// sentences joins a summary and a description: with ": " after a summary
// that is a phrase (Flagger's "Canary failed"), with a space after one that
// is already a sentence (the mixin's summaries end with a period), so the
// event never reads "rolled back.: Canary …".
func sentences(summary, description string) string {
	summary, description = strings.TrimSpace(summary), strings.TrimSpace(description)
	if summary == "" || description == "" {
		return summary + description
	}
	if strings.HasSuffix(summary, ".") || strings.HasSuffix(summary, "!") || strings.HasSuffix(summary, "?") {
		return summary + " " + description
	}
	return summary + ": " + description
}

// render executes t; the result is trimmed because YAML block scalars in a
// config leave a trailing newline nobody wants in an event.
func render(t *template.Template, d *MessageData) (string, error) {
	var b strings.Builder
	if err := t.Execute(&b, d); err != nil {
		return "", err
	}
	return strings.TrimSpace(b.String()), nil
}

func sampleData() *MessageData {
	return &MessageData{
		Status:      "firing",
		Labels:      map[string]string{"alertname": "Sample", "namespace": "ns", "canary": "c"},
		Annotations: map[string]string{"summary": "s", "description": "d"},
		Name:        "c", Namespace: "ns", Phase: "Failed",
	}
}
