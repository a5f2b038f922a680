package graphsim

import (
	"encoding/json"
	"net/http"
	"strings"
)

// serveSim answers the introspection endpoints. They need no token and are
// not counted.
//
//	GET  /_sim/state              State
//	POST /_sim/reset              Reset
//	GET  /_sim/requests           the request log
//	GET  /_sim/faults, PUT /_sim/faults   read or replace the faults (JSON Faults)
//	POST /_sim/tokens/expire-access | expire-refresh | revoke-refresh
//	POST /_sim/users              add or replace a user (JSON User)
func (s *Sim) serveSim(w http.ResponseWriter, r *http.Request) {
	route := r.Method + " " + strings.TrimPrefix(r.URL.Path, "/_sim")
	switch route {
	case "GET /state":
		writeJSON(w, 200, s.State())
	case "POST /reset":
		s.Reset()
		w.WriteHeader(http.StatusNoContent)
	case "GET /requests":
		writeJSON(w, 200, map[string]any{"requests": s.Requests()})
	case "GET /faults":
		writeJSON(w, 200, s.Faults())
	case "PUT /faults":
		var f Faults
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			writeJSON(w, 400, map[string]string{"error": "invalid faults: " + err.Error()})
			return
		}
		s.SetFaults(f)
		writeJSON(w, 200, f)
	case "POST /tokens/expire-access":
		s.ExpireAccessTokens()
		w.WriteHeader(http.StatusNoContent)
	case "POST /tokens/expire-refresh":
		s.ExpireRefreshTokens()
		w.WriteHeader(http.StatusNoContent)
	case "POST /tokens/revoke-refresh":
		s.RevokeRefreshTokens()
		w.WriteHeader(http.StatusNoContent)
	case "POST /users":
		var u User
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&u); err != nil || u.ID == "" || u.UserPrincipalName == "" {
			writeJSON(w, 400, map[string]string{"error": "a user needs at least id and userPrincipalName"})
			return
		}
		s.AddUser(u)
		writeJSON(w, 200, u)
	default:
		writeJSON(w, 404, map[string]string{"error": "no such simulator endpoint: " + route})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(marshal(v))
}
