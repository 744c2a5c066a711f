package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/uptrace/bun"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The tree's hashing and node bookkeeping against the RFC 6962 reference vectors (the
// eight leaf inputs of the Certificate Transparency test suite, the root of every prefix
// and some interior nodes, written here literally).
func TestTreeMatchesRFC6962Vectors(t *testing.T) {
	inputs := []string{"", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"}
	roots := []string{
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
		"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
		"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
		"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
		"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
		"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
	}
	if got := hex.EncodeToString(hasher.EmptyRoot()); got != roots[0] {
		t.Fatalf("empty root %s", got)
	}
	tree := emptyTree()
	var nodes []*nodeRow
	var err error
	for i, in := range inputs {
		if nodes, err = appendLeaf(cloneTree(tree), hasher.HashLeaf(unhex(t, in)), nodes); err != nil {
			t.Fatal(err)
		}
		// cloneTree must leave the original alone: append to the original now.
		if _, err = appendLeaf(tree, hasher.HashLeaf(unhex(t, in)), nil); err != nil {
			t.Fatal(err)
		}
		root, err := tree.GetRootHash(nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(root); got != roots[i+1] {
			t.Fatalf("root of size %d = %s, want %s", i+1, got, roots[i+1])
		}
	}
	want := map[[2]int64]string{
		{0, 0}: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		{0, 7}: "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
		{1, 1}: "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		{1, 3}: "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
		{2, 1}: "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
		{3, 0}: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
	}
	if len(nodes) != 15 { // 8 leaves + 4 + 2 + 1: every perfect subtree once
		t.Fatalf("%d nodes stored, want 15", len(nodes))
	}
	for _, n := range nodes {
		if w, ok := want[[2]int64{int64(n.Level), n.Idx}]; ok && hex.EncodeToString(n.Hash) != w {
			t.Errorf("node (%d,%d) = %x, want %s", n.Level, n.Idx, n.Hash, w)
		}
	}
}

// independentRoot is RFC 9162's MTH over the events' chain hashes, computed from its
// definition with crypto/sha256 alone: the check the library-backed tree is held against.
func independentRoot(t testing.TB, rows []eventRow) []byte {
	t.Helper()
	leaves := make([][]byte, len(rows))
	for i, r := range rows {
		leaves[i] = unhex(t, r.Hash)
	}
	var mth func(d [][]byte) []byte
	mth = func(d [][]byte) []byte {
		switch len(d) {
		case 0:
			s := sha256.Sum256(nil)
			return s[:]
		case 1:
			s := sha256.Sum256(append([]byte{0}, d[0]...))
			return s[:]
		}
		k := 1
		for k*2 < len(d) {
			k *= 2
		}
		s := sha256.Sum256(append(append([]byte{1}, mth(d[:k])...), mth(d[k:])...))
		return s[:]
	}
	return mth(leaves)
}

// mustRoot is the root of the stored tree at size.
func mustRoot(t testing.TB, db bun.IDB, size uint64) []byte {
	t.Helper()
	root, err := rootAt(context.Background(), db, size)
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func TestLeafHashRefusesBadChainHash(t *testing.T) {
	for _, h := range []string{"", "zz", "00", genesisHash + "00"} {
		if _, err := leafHash(h); err == nil {
			t.Errorf("leafHash(%q) accepted", h)
		}
	}
	l, err := leafHash(genesisHash)
	if err != nil || !bytes.Equal(l, hasher.HashLeaf(make([]byte, 32))) {
		t.Fatalf("leafHash(genesis) = %x, %v", l, err)
	}
}
