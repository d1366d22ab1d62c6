//go:build tools

// Package tools pins github.com/fluxcd/flagger/cmd/flagger; the Makefile builds it into bin/.
package tools

import _ "github.com/fluxcd/flagger/cmd/flagger"
