package canary

import (
	"testing"
)

// The vectors: Flagger's constant checksum of a Canary without status (what
// it posts before initialisation), an empty tracked-config map, and the
// inputs of Flagger's own TestCanaryChecksum (pkg/controller/webhook_test.go).
// The real Flagger's posts are compared with the exporter's series in
// test/conformance.
func TestChecksumVectors(t *testing.T) {
	cm := map[string]string{"test-config-map": "484637c76acaa7c6"}
	empty := map[string]string{}
	for _, tc := range []struct {
		name string
		tc   *map[string]string
		las  string
		want string
	}{
		{"no status", nil, "", "758df7c9fc"},
		{"empty trackedConfigs", &empty, "", "68bf6f479b"},
		{"spec only", nil, "4cb74184589", "7c9d467496"},
		{"spec and a config map", &cm, "4cb74184589", "569bdb7cb9"},
		{"another spec", &cm, "5f56684589", "85d557f47b"},
	} {
		if got := Checksum(tc.tc, tc.las); got != tc.want {
			t.Errorf("%s: Checksum = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// Decode hashes the status it reads: absent and empty trackedConfigs differ,
// map order does not matter, a broken field is a warning.
func TestDecodeChecksum(t *testing.T) {
	check := func(name string, status map[string]any, want string, warnings int) {
		t.Helper()
		obj := base()
		obj["status"] = status
		c, warns, err := Decode(obj, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if c.Checksum != want || len(warns) != warnings {
			t.Errorf("%s: checksum %q (want %q), warnings %q (want %d)", name, c.Checksum, want, warns, warnings)
		}
	}
	check("absent", map[string]any{"phase": "Initializing"}, Checksum(nil, ""), 0)
	empty := map[string]string{}
	check("empty", map[string]any{"trackedConfigs": map[string]any{}}, Checksum(&empty, ""), 0)
	two := map[string]string{"configmap/a": "1", "secret/b": "2"}
	check("two configs", map[string]any{"lastAppliedSpec": "x", "trackedConfigs": map[string]any{"secret/b": "2", "configmap/a": "1"}}, Checksum(&two, "x"), 0)
	check("configs wrong type", map[string]any{"lastAppliedSpec": "x", "trackedConfigs": "nope"}, Checksum(nil, "x"), 1)
	one := map[string]string{"configmap/a": "1"}
	check("config value wrong type", map[string]any{"lastAppliedSpec": "x", "trackedConfigs": map[string]any{"configmap/a": "1", "secret/b": int64(2)}}, Checksum(&one, "x"), 1)
	if Checksum(&two, "x") == Checksum(&one, "x") || Checksum(nil, "") == Checksum(&empty, "") {
		t.Error("different statuses must hash differently")
	}
}
