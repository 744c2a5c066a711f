package audit

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/agentidp/agentidp/modules/orgs"
)

// orgLog is a chain of n events alternating between root and another organization, linked
// as the writers link them, and the NDJSON lines of each event.
func orgLog(t *testing.T, n int) (rows []*eventRow, lines []string) {
	t.Helper()
	const other = "0191f0a4-1c2d-7e3f-8a4b-5c6d7e8f9aff"
	for i := range n {
		org := orgs.RootID
		if i%2 == 1 {
			org = other
		}
		rows = append(rows, &eventRow{EventID: "0191f0a4-1c2d-7e3f-8a4b-5c6d7e8f9a0b",
			OccurredAt: time.Unix(1700000000+int64(i), 0).UTC(), OrgID: org, Action: "x.y",
			Outcome: "success", Details: "{}", HashVersion: hashVersion})
	}
	if _, _, _, err := link(rows, head{hash: genesisHash, tree: emptyTree()}, nil); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		var buf bytes.Buffer
		if err := jsonLine(&buf, toEvent(r)); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, buf.String())
	}
	return rows, lines
}

// rootLines are the lines of root's events (its export).
func rootLines(rows []*eventRow, lines []string) []string {
	var out []string
	for i, r := range rows {
		if r.OrgID == orgs.RootID {
			out = append(out, lines[i])
		}
	}
	return out
}

func TestVerifyOrgExport(t *testing.T) {
	rows, lines := orgLog(t, 12)
	root := rootLines(rows, lines) // seq 1, 3, 5, …: org_seq 1..6
	old := &eventRow{Seq: 1, EventID: "0191f0a4-1c2d-7e3f-8a4b-5c6d7e8f9a0c", OccurredAt: time.Unix(1600000000, 0).UTC(),
		Action: "x.old", Outcome: "success", Details: "{}", PrevHash: genesisHash, HashVersion: hashV1}
	old.Hash = computeHash(old)
	var oldLine bytes.Buffer
	_ = jsonLine(&oldLine, toEvent(old))
	for _, c := range []struct {
		name   string
		lines  []string
		org    string
		ok     bool
		reason string
		badSeq int64
	}{
		{"whole", root, orgs.RootID, true, "", 0},
		{"the other's", []string{lines[1], lines[3], lines[5]}, "0191F0A4-1C2D-7E3F-8A4B-5C6D7E8F9AFF", true, "", 0},
		{"a version-1 event first (root's)", append([]string{oldLine.String()}, root[1:]...), orgs.RootID, true, "", 0},
		{"a version-1 event in another's", []string{oldLine.String(), lines[1]}, rows[1].OrgID, false, "foreign", 1},
		{"after an archive", root[2:], orgs.RootID, true, "", 0},
		{"one taken out", append(append([]string{}, root[:2]...), root[3:]...), orgs.RootID, false, "deleted: org_seq 4 where org_seq 3 was expected (1 events missing)", 7},
		{"one repeated", append(append([]string{}, root[:3]...), root[2:]...), orgs.RootID, false, "reordered or repeated: seq 5 after seq 5", 5},
		{"two swapped", []string{root[0], root[2], root[1]}, orgs.RootID, false, "deleted: org_seq 3 where org_seq 2", 5}, // the gap comes first
		{"seq going back", []string{root[0], root[1], root[1]}, orgs.RootID, false, "reordered or repeated: seq 3 after seq 3", 3},
		{"another's event", []string{root[0], lines[1], root[1]}, orgs.RootID, false, "foreign", 2},
		{"an org_seq edited", []string{root[0], strings.Replace(root[1], `"org_seq":2`, `"org_seq":3`, 1)}, orgs.RootID, false, "altered", 3},
		{"an org_seq dropped", []string{root[0], strings.Replace(root[1], `"org_seq":2`, `"org_seq":null`, 1)}, orgs.RootID, false, "altered", 3},
	} {
		rep, err := VerifyOrgExport(strings.NewReader(strings.Join(c.lines, "")), c.org)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if rep.OK != c.ok || !strings.HasPrefix(rep.Reason, c.reason) || rep.FirstBadSeq != c.badSeq {
			t.Errorf("%s: %+v", c.name, rep)
		}
	}
	rep, _ := VerifyOrgExport(strings.NewReader(strings.Join(root, "")), orgs.RootID)
	if rep.FirstOrgSeq != 1 || rep.LastOrgSeq != 6 || rep.Checked != 6 || rep.Unnumbered != 0 {
		t.Fatalf("whole export: %+v", rep)
	}
	if _, err := VerifyOrgExport(strings.NewReader(root[0]), "not-a-uuid"); err == nil {
		t.Fatal("a bad organization id accepted")
	}
	if _, err := VerifyOrgExport(strings.NewReader("{"), orgs.RootID); err == nil {
		t.Fatal("a bad line accepted")
	}
}
