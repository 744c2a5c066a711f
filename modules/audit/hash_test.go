package audit

import (
	"reflect"
	"slices"
	"testing"
	"time"
)

// sampleRow is a row of hash version 1 (written before organizations: no org_id).
func sampleRow() *eventRow {
	return &eventRow{
		Seq: 42, EventID: "0191f0a4-1c2d-7e3f-8a4b-5c6d7e8f9a0b",
		OccurredAt: time.Date(2026, 11, 28, 10, 11, 12, 345678000, time.UTC),
		ActorID:    "0191f0a4-1c2d-7e3f-8a4b-5c6d7e8f9a0c", AgentID: "0191f0a4-1c2d-7e3f-8a4b-5c6d7e8f9a0d",
		Action: "agent.updated", TargetType: "agent", TargetID: "0191f0a4-1c2d-7e3f-8a4b-5c6d7e8f9a0d",
		Outcome: "success", IP: "203.0.113.7", UserAgent: "probe/1", RequestID: "req-9",
		Details: `{"a":1}`, PrevHash: genesisHash, HashVersion: hashV1,
	}
}

// sampleRowV2 is the same event written with organizations (hash version 2).
func sampleRowV2() *eventRow {
	r := sampleRow()
	r.OrgID, r.HashVersion = "0191f0a4-1c2d-7e3f-8a4b-5c6d7e8f9a0e", hashV2
	return r
}

// sampleRowV3 is the same event numbered within its organization (hash version 3).
func sampleRowV3() *eventRow {
	r := sampleRowV2()
	r.OrgSeq, r.HashVersion = 7, hashV3
	return r
}

// The encodings are pinned: changing one would make every stored chain fail verification.
// Both hashes were also computed independently (Python, same encoding).
func TestHashIsPinned(t *testing.T) {
	const v1 = "87798847e3c31d16683dafdd2abdf72a87a6cb1a53e78913f365c8a55648646c"
	if got := computeHash(sampleRow()); got != v1 {
		t.Fatalf("hash of the version-1 sample row changed: %s", got)
	}
	const v2 = "5564e6625e11b85ce513aebc1d0f5019cfbff3ad006bfd7d30e6cb6a750ad86d"
	if got := computeHash(sampleRowV2()); got != v2 {
		t.Fatalf("hash of the version-2 sample row changed: %s", got)
	}
	// Computed in bash, each field as a 4-byte big-endian length then its bytes:
	//   f() { printf '%08x' ${#1} | xxd -r -p; printf '%s' "$1"; }
	//   { for x in agentidp-audit-v3 42 <event_id> 2026-11-28T10:11:12.345678Z <actor_id> \
	//     <agent_id> <org_id> 7 agent.updated agent <target_id> success 203.0.113.7 probe/1 \
	//     req-9 '{"a":1}' <64 zeros>; do f "$x"; done; } | sha256sum
	// (the same line with agentidp-audit-v2 and without the 7 gives v2 above).
	const v3 = "a6270ea4c7ff4364ea448ee1d596dd0e9bd8117e0a7decc098ee7ca9aee70872"
	if got := computeHash(sampleRowV3()); got != v3 {
		t.Fatalf("hash of the version-3 sample row changed: %s", got)
	}
	if hashVersion != hashV3 {
		t.Fatalf("new rows are written with hash version %d", hashVersion)
	}
}

// Every column but hash is covered by version 3: changing any one changes the hash.
// Version 2 covers every column but hash and org_seq, version 1 every one but hash, org_id
// and org_seq, which did not exist then.
func TestHashCoversEveryColumn(t *testing.T) {
	for _, c := range []struct {
		name      string
		sample    func() *eventRow
		uncovered []string
	}{{"v1", sampleRow, []string{"OrgID", "OrgSeq"}}, {"v2", sampleRowV2, []string{"OrgSeq"}}, {"v3", sampleRowV3, nil}} {
		base := computeHash(c.sample())
		v := reflect.ValueOf(c.sample()).Elem()
		for i := range v.NumField() {
			name := v.Type().Field(i).Name
			if name == "BaseModel" || name == "Hash" {
				continue
			}
			r := c.sample()
			f := reflect.ValueOf(r).Elem().Field(i)
			switch f.Kind() {
			case reflect.String:
				f.SetString(f.String() + "x")
			case reflect.Int64, reflect.Int:
				f.SetInt(f.Int() + 1)
			default:
				r.OccurredAt = r.OccurredAt.Add(time.Microsecond)
			}
			if changed := computeHash(r) != base; changed == slices.Contains(c.uncovered, name) {
				t.Errorf("%s: changing %s changes the hash: %v", c.name, name, changed)
			}
		}
	}
}

// An unknown hash version matches no stored hash.
func TestHashUnknownVersion(t *testing.T) {
	for _, v := range []int{0, 4, -1} {
		r := sampleRowV2()
		r.HashVersion = v
		if h := computeHash(r); h != "" {
			t.Errorf("version %d hashes to %s", v, h)
		}
	}
}

// A row of version 1 is intact only without an org_id: it was written before the column
// existed, and its hash does not cover it.
func TestVersion1RowWithOrgIsAltered(t *testing.T) {
	r := sampleRow()
	r.Hash = computeHash(r)
	if !rowIntact(r) {
		t.Fatal("intact version-1 row refused")
	}
	r.OrgID = "0191f0a4-1c2d-7e3f-8a4b-5c6d7e8f9a0e"
	if rowIntact(r) {
		t.Fatal("a version-1 row given an org_id passes")
	}
	r2 := sampleRowV2()
	r2.Hash = computeHash(r2)
	r2.HashVersion = hashV1 // downgraded, to hide the org_id from the hash
	if rowIntact(r2) {
		t.Fatal("a version-2 row relabelled version 1 passes")
	}
}

// A row of version 1 or 2 carries no org_seq (its hash cannot cover one), and a row of
// version 3 always has an org_id and an org_seq from 1.
func TestOrgSeqShapeByVersion(t *testing.T) {
	for _, c := range []struct {
		name   string
		row    func() *eventRow
		change func(*eventRow)
	}{
		{"v2 with org_seq", sampleRowV2, func(r *eventRow) { r.OrgSeq = 1 }},
		{"v1 with org_seq", sampleRow, func(r *eventRow) { r.OrgSeq = 1 }},
		{"v3 without org_seq", sampleRowV3, func(r *eventRow) { r.OrgSeq = 0 }},
		{"v3 with a negative org_seq", sampleRowV3, func(r *eventRow) { r.OrgSeq = -1 }},
		{"v3 without org_id", sampleRowV3, func(r *eventRow) { r.OrgID = "" }},
		{"v3 relabelled v2", sampleRowV3, func(r *eventRow) { r.HashVersion = hashV2 }},
	} {
		r := c.row()
		r.Hash = computeHash(r)
		if !rowIntact(r) {
			t.Fatalf("%s: the intact row is refused", c.name)
		}
		c.change(r)
		r.Hash = computeHash(r) // even rehashed, the shape is wrong (or the hash is)
		if c.name == "v3 relabelled v2" {
			r.Hash = computeHash(sampleRowV3())
		}
		if rowIntact(r) {
			t.Errorf("%s passes", c.name)
		}
	}
}

// Field boundaries are unambiguous: moving a byte from one field to the next changes it.
func TestHashFieldsDoNotBleed(t *testing.T) {
	a, b := sampleRowV2(), sampleRowV2()
	a.TargetType, a.TargetID = "ab", "c"
	b.TargetType, b.TargetID = "a", "bc"
	if computeHash(a) == computeHash(b) {
		t.Fatal("ab|c and a|bc hash alike")
	}
	a, b = sampleRowV2(), sampleRowV2()
	a.AgentID, a.OrgID = a.AgentID+"1", "2"
	b.OrgID = "12"
	if computeHash(a) == computeHash(b) {
		t.Fatal("agent_id|org_id bleed")
	}
	a, b = sampleRowV3(), sampleRowV3()
	a.OrgID, a.OrgSeq = a.OrgID+"1", 2
	b.OrgSeq = 12
	if computeHash(a) == computeHash(b) {
		t.Fatal("org_id|org_seq bleed")
	}
}

// The same instant in another zone, or with nanoseconds PostgreSQL drops, hashes alike.
func TestHashTimeIsCanonical(t *testing.T) {
	r := sampleRowV2()
	base := computeHash(r)
	r.OccurredAt = r.OccurredAt.In(time.FixedZone("X", -7*3600)).Add(999 * time.Nanosecond)
	if computeHash(r) != base {
		t.Fatal("zone or sub-microsecond digits change the hash")
	}
}
