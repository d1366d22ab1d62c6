package event

import "testing"

// The builtin renderer must say exactly what DefaultMessageTemplate says.
func TestDefaultMessageMatchesTemplate(t *testing.T) {
	tmpl, err := parseTemplate(DefaultMessageTemplate)
	if err != nil {
		t.Fatal(err)
	}
	values := []string{"", " ", "x", " padded \n", "a<b>&\"c\"", "ünï\tcode"}
	anns := []map[string]string{nil, {}}
	for _, msg := range values {
		for _, sum := range values {
			for _, desc := range values {
				a := map[string]string{}
				for k, v := range map[string]string{"message": msg, "summary": sum, "description": desc} {
					if v != "" || len(anns)%2 == 0 {
						a[k] = v
					}
				}
				anns = append(anns, a)
			}
		}
	}
	for _, a := range anns {
		want, err := render(tmpl, &MessageData{Annotations: a})
		if err != nil {
			t.Fatal(err)
		}
		if got := defaultMessage(a); got != want {
			t.Errorf("annotations %q: builtin %q, template %q", a, got, want)
		}
	}
}

func TestSentences(t *testing.T) {
	for _, c := range [][3]string{
		{"Canary failed", "Workload podinfo namespace test", "Canary failed: Workload podinfo namespace test"},
		{"A canary was rolled back.", "Canary test/podinfo is in phase Failed.", "A canary was rolled back. Canary test/podinfo is in phase Failed."},
		{"Done!", "x", "Done! x"},
		{"", "only description", "only description"},
		{" summary ", "", "summary"},
	} {
		if got := sentences(c[0], c[1]); got != c[2] {
			t.Errorf("sentences(%q, %q) = %q, want %q", c[0], c[1], got, c[2])
		}
	}
}
