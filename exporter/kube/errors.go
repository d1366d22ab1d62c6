package kube

import (
	"errors"
	"io"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// A watchProblem is a class of list/watch failure with what an operator
// should do about it.
type watchProblem struct {
	reason string // label value of flagger_exporter_watch_errors_total
	fix    string // logged once when the problem starts
}

var (
	problemCRDMissing   = watchProblem{"crd_missing", "install Flagger's CRDs (canaries.flagger.app); the exporter picks canaries up as soon as the CRD exists"}
	problemForbidden    = watchProblem{"forbidden", "grant get, list and watch on canaries.flagger.app to the exporter's ServiceAccount (see deploy/exporter/rbac.yaml, or deploy/exporter/namespaced with --namespace)"}
	problemUnauthorized = watchProblem{"unauthorized", "check the exporter's credentials (ServiceAccount token or --kubeconfig)"}
	problemExpired      = watchProblem{"expired", ""} // routine: client-go relists
	problemClosed       = watchProblem{"closed", ""}  // routine: the server ended the watch
	problemOther        = watchProblem{"other", "check that the API server is reachable from the exporter"}
)

// classify sorts a list/watch error. Expired resource versions and closed
// watches are routine and not worth an operator's attention.
func classify(err error) watchProblem {
	switch {
	case apierrors.IsNotFound(err):
		return problemCRDMissing
	case apierrors.IsForbidden(err):
		return problemForbidden
	case apierrors.IsUnauthorized(err):
		return problemUnauthorized
	case apierrors.IsResourceExpired(err), apierrors.IsGone(err):
		return problemExpired
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return problemClosed
	}
	return problemOther
}

// WatchErrorReason is the reason label classify gives err, for other
// informers of the exporter (the Events watch) to count theirs alike.
func WatchErrorReason(err error) string { return classify(err).reason }
