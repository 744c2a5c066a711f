package audit

import (
	"bytes"
	"encoding/json"
	"net/url"
	"testing"
	"time"
)

// fuzzKey and fuzzCheckpoint are a real verifier key and a checkpoint it signed (size 1),
// made once for the seeds.
func fuzzSeeds(f *testing.F) (vkey string, note []byte, export []byte) {
	f.Helper()
	key, err := newEphemeralKey("fuzz.example/audit")
	if err != nil {
		f.Fatal(err)
	}
	r := &eventRow{Seq: 1, EventID: "0191f0a4-1c2d-7e3f-8a4b-5c6d7e8f9a0b", OccurredAt: time.Unix(1700000000, 0).UTC(),
		OrgID: "00000000-0000-0000-0000-000000000001", OrgSeq: 1,
		Action: "x.y", Outcome: "success", Details: `{"a":"<b>"}`, PrevHash: genesisHash, HashVersion: hashVersion}
	r.Hash = computeHash(r)
	leaf, _ := leafHash(r.Hash)
	text, err := signCheckpoint(key, 1, leaf)
	if err != nil {
		f.Fatal(err)
	}
	var buf bytes.Buffer
	_ = jsonLine(&buf, toEvent(r))
	return key.verifierKey, []byte(text), buf.Bytes()
}

// The offline verifier reads an export and a checkpoint from anywhere: no input makes it
// panic, and a checkpoint it accepts was signed by the key.
func FuzzVerifyExport(f *testing.F) {
	vkey, note, export := fuzzSeeds(f)
	f.Add(export, note)
	f.Add([]byte("{}\n"), note)
	f.Add(export, []byte("fuzz.example/audit\n1\nAAAA\n\n— fuzz.example/audit AAAA\n"))
	f.Add([]byte(`{"seq":1,"hash":"zz"}`), note)
	f.Fuzz(func(t *testing.T, export, checkpoint []byte) {
		rep, err := VerifyExport(bytes.NewReader(export), checkpoint, vkey, nil)
		if err == nil && rep.OK && rep.TreeSize > 0 && !bytes.Equal(checkpoint, note) && rep.Checked == 0 {
			t.Fatalf("an empty export matched a checkpoint: %+v", rep)
		}
	})
}

// The organization export checker reads an export from anywhere: no input makes it panic,
// and what it accepts has its org_seq range within what it read.
func FuzzVerifyOrgExport(f *testing.F) {
	_, _, export := fuzzSeeds(f)
	f.Add(export, "00000000-0000-0000-0000-000000000001")
	f.Add(append(append([]byte{}, export...), export...), "00000000-0000-0000-0000-000000000001")
	f.Add([]byte(`{"seq":1,"org_seq":-1,"hash_version":3}`), "x")
	f.Add([]byte("{}\n\n{\"org_seq\":99999999999999999999}"), "00000000-0000-0000-0000-000000000002")
	f.Fuzz(func(t *testing.T, export []byte, org string) {
		rep, err := VerifyOrgExport(bytes.NewReader(export), org)
		if err != nil {
			return
		}
		if rep.Checked < 0 || rep.LastOrgSeq < rep.FirstOrgSeq || (rep.OK && rep.LastOrgSeq-rep.FirstOrgSeq >= rep.Checked && rep.LastOrgSeq > 0) {
			t.Fatalf("report %+v", rep)
		}
	})
}

// The proof and export query parsers take any query string without panicking, and what
// they accept is within bounds.
func FuzzProofQueries(f *testing.F) {
	for _, s := range []string{"seq=1", "seq=1&tree_size=2", "from=1&to=2", "after_seq=0&follow=true",
		"seq=-1", "seq=99999999999999999999", "tree_size=0", "follow=1", "from=2&to=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		if p, err := parseInclusion(q); err == nil && (p.Seq < 1 || p.TreeSize < 0 || (p.TreeSize > 0 && p.Seq > p.TreeSize)) {
			t.Fatalf("inclusion %q accepted as %+v", raw, p)
		}
		if p, err := parseConsistency(q); err == nil && (p.From < 1 || p.From > p.To) {
			t.Fatalf("consistency %q accepted as %+v", raw, p)
		}
		if p, err := parseExport(q); err == nil && p.AfterSeq < 0 {
			t.Fatalf("export %q accepted as %+v", raw, p)
		}
		_, _ = parseCheckpointQuery(q)
	})
}

func jsonLine(buf *bytes.Buffer, e Event) error {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	return enc.Encode(e)
}
