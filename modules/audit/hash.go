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

// Versions of the canonical encoding. A row's hash_version column says which one its hash
// covers; each version's name is the encoding's first field, so a row cannot pass for
// another version's.
//
//   - 1: the columns of version 1 of the schema. Rows written before organizations keep it
//     (their org_id is NULL: the table refuses UPDATE).
//   - 2: version 1's fields with org_id after agent_id.
const (
	hashV1      = 1
	hashV2      = 2
	hashVersion = hashV2 // what new rows are written with
)

// hashNames are the encodings' first fields, by version.
var hashNames = map[int]string{
	hashV1: "agentidp-audit-v1",
	hashV2: "agentidp-audit-v2",
}

// timeLayout is the canonical text of occurred_at in the hash: UTC, exactly microseconds
// (PostgreSQL's precision), so the hash recomputes after a round trip through either store.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// computeHash is the hex SHA-256 of the row's canonical encoding in its hash_version: the
// columns in a fixed order, each as a 4-byte big-endian length followed by its bytes (so no
// field can bleed into the next), prev_hash last. A NULL column is "". An unknown version
// hashes to "", which matches no stored hash.
func computeHash(r *eventRow) string {
	name, ok := hashNames[r.HashVersion]
	if !ok {
		return ""
	}
	fields := make([]string, 0, 16)
	fields = append(fields,
		name,
		strconv.FormatInt(r.Seq, 10),
		r.EventID,
		database.Time(r.OccurredAt).Format(timeLayout),
		r.ActorID,
		r.AgentID,
	)
	if r.HashVersion >= hashV2 {
		fields = append(fields, r.OrgID)
	}
	fields = append(fields,
		r.Action,
		r.TargetType,
		r.TargetID,
		r.Outcome,
		r.IP,
		r.UserAgent,
		r.RequestID,
		r.Details,
		r.PrevHash,
	)
	h := sha256.New()
	var n [4]byte
	for _, f := range fields {
		binary.BigEndian.PutUint32(n[:], uint32(len(f)))
		h.Write(n[:])
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}
