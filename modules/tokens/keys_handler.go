package tokens

import (
	"net/http"

	"github.com/agentidp/agentidp/platform/httpserver"
)

// keyList is the answer of GET /api/v1/keys. Keys are few: one page, next_cursor null.
type keyList struct {
	Items      []KeyInfo `json:"items"`
	NextCursor *string   `json:"next_cursor"`
}

// listKeys is GET /api/v1/keys (keys:admin).
func (h *handler) listKeys(w http.ResponseWriter, r *http.Request) {
	keys, err := h.ring.ListKeys(r.Context())
	if err != nil {
		httpserver.WriteError(w, r, h.log, err)
		return
	}
	httpserver.WriteJSON(w, http.StatusOK, keyList{Items: keys})
}

// rotateKey is POST /api/v1/keys/rotate (keys:admin): 200 with the new key.
func (h *handler) rotateKey(w http.ResponseWriter, r *http.Request) {
	k, err := h.ring.RotateKey(r.Context())
	if err != nil {
		httpserver.WriteError(w, r, h.log, err)
		return
	}
	httpserver.WriteJSON(w, http.StatusOK, k)
}
