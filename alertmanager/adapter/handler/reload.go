package handler

import "net/http"

// Reload serves POST /-/reload the way Prometheus does: 200 when the new
// config is in use, 500 with the reason when it was refused and the old one
// keeps running.
func Reload(reload func() error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost && r.Method != http.MethodPut {
			w.Header().Set("Allow", "POST, PUT")
			plain(w, http.StatusMethodNotAllowed, "method %s not allowed: POST to reload", r.Method)
			return
		}
		if err := reload(); err != nil {
			plain(w, http.StatusInternalServerError, "failed to reload config: %v", err)
			return
		}
		plain(w, http.StatusOK, "config reloaded")
	})
}
