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
//   - 3: version 2's fields with org_seq (decimal) after org_id: the event's number within
//     its organization (1, 2, 3, … with no gaps), so that an organization can prove its own
//     export complete.
const (
	hashV1      = 1
	hashV2      = 2
	hashV3      = 3
	hashVersion = hashV3 // what new rows are written with
)

// hashNames are the encodings' first fields, by version.
var hashNames = map[int]string{
	hashV1: "agentidp-audit-v1",
	hashV2: "agentidp-audit-v2",
	hashV3: "agentidp-audit-v3",
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
	fields := make([]string, 0, 17)
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
	if r.HashVersion >= hashV3 {
		fields = append(fields, strconv.FormatInt(r.OrgSeq, 10))
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

// rowIntact reports whether r's content matches its hash and its version's shape. A row of
// hash version 1 was written before organizations, with no org_id, and one of version 1 or
// 2 with no org_seq, neither of which its hash covers: such a value on it was put there
// afterwards. A version-3 row always has an org_id and an org_seq from 1.
func rowIntact(r *eventRow) bool {
	if computeHash(r) != r.Hash {
		return false
	}
	switch r.HashVersion {
	case hashV1:
		return r.OrgID == "" && r.OrgSeq == 0
	case hashV2:
		return r.OrgSeq == 0
	default:
		return r.OrgID != "" && r.OrgSeq >= 1
	}
}
