package benchutil

import (
	"bytes"
	"testing"
)

func TestRegistryFromTextReproducesTheSeries(t *testing.T) {
	in := []byte("# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\"} 3\na_total{x=\"2\"} 4\n# HELP g G.\n# TYPE g gauge\ng{y=\"q\\\"\"} 1.5\n")
	reg, err := RegistryFromText(in)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := ScrapeRegistry(reg, &out); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), in) {
		t.Fatalf("got\n%s\nwant\n%s", out.Bytes(), in)
	}
	var sock Socket
	if err := WriteRaw(bytes.Repeat([]byte("x"), 3*ChunkSize+1), &sock); err != nil || len(sock.buf) != ChunkSize {
		t.Fatalf("raw write: %v %d", err, len(sock.buf))
	}
}
