package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/agentidp/agentidp/platform/database"
)

// genesisHash is the prev_hash of the first row of the chain.
var genesisHash = strings.Repeat("0", 64)

// hashVersion prefixes the canonical encoding, so that a future encoding can coexist.
const hashVersion = "agentidp-audit-v1"

// timeLayout is the canonical text of occurred_at in the hash: UTC, exactly microseconds
// (PostgreSQL's precision), so the hash recomputes after a round trip through either store.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// computeHash is the hex SHA-256 of the row's canonical encoding: every column but hash, in
// a fixed order, each as a 4-byte big-endian length followed by its bytes (so no field can
// bleed into the next), prev_hash last.
func computeHash(r *eventRow) string {
	h := sha256.New()
	var n [4]byte
	for _, f := range []string{
		hashVersion,
		strconv.FormatInt(r.Seq, 10),
		r.EventID,
		database.Time(r.OccurredAt).Format(timeLayout),
		r.ActorID,
		r.AgentID,
		r.Action,
		r.TargetType,
		r.TargetID,
		r.Outcome,
		r.IP,
		r.UserAgent,
		r.RequestID,
		r.Details,
		r.PrevHash,
	} {
		binary.BigEndian.PutUint32(n[:], uint32(len(f)))
		h.Write(n[:])
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}
