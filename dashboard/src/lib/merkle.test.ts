import { describe, expect, it } from 'vitest';
import { bytesToHex, eventLeafHash, hashChildren, hashLeaf, hexToBytes, parseCheckpoint, verifyInclusion } from './merkle';

// The RFC 6962 reference vectors (Certificate Transparency's test suite): eight leaves, the
// tree's interior nodes and its roots, written here literally.
const leaves = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'];
const level0 = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
  '0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7',
  '07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7',
  'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
  '4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658',
  'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
  '46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1',
];
const level1 = [
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
  '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
  'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
];
const level2 = [
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
];
const root8 = '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328';
const root7 = 'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c';
const h = hexToBytes;

describe('merkle', () => {
  it('hashes leaves and nodes as RFC 6962 does', async () => {
    for (let i = 0; i < 8; i++) expect(bytesToHex(await hashLeaf(h(leaves[i])))).toBe(level0[i]);
    expect(bytesToHex(await hashChildren(h(level0[0]), h(level0[1])))).toBe(level1[0]);
    expect(bytesToHex(await hashChildren(h(level2[0]), h(level2[1])))).toBe(root8);
  });

  it('verifies inclusion proofs and refuses altered ones', async () => {
    // leaf 0 of 8; leaf 5 of 8; leaf 6 of 7 (the right edge of an imperfect tree).
    const cases: [number, number, string[], string][] = [
      [0, 8, [level0[1], level1[1], level2[1]], root8],
      [5, 8, [level0[4], level1[3], level2[0]], root8],
      [6, 7, [level1[2], level2[0]], root7],
    ];
    for (const [i, n, p, root] of cases) {
      const leaf = h(level0[i]);
      expect(await verifyInclusion(i, n, leaf, p.map(h), h(root))).toBe(true);
      expect(await verifyInclusion(i, n, leaf, p.slice(1).map(h), h(root))).toBe(false);
      expect(await verifyInclusion(i, n, h(level0[(i + 1) % 7]), p.map(h), h(root))).toBe(false);
      expect(await verifyInclusion(i + 1, n, leaf, p.map(h), h(root))).toBe(false);
    }
    expect(await verifyInclusion(8, 8, h(level0[0]), [], h(root8))).toBe(false);
  });

  it('reads a checkpoint body and an event leaf', async () => {
    const note = 'idp.example/audit\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\n— idp.example/audit AAAA\n';
    const cp = parseCheckpoint(note);
    expect(cp.origin).toBe('idp.example/audit');
    expect(cp.size).toBe(8);
    expect(bytesToHex(cp.root)).toBe(root8);
    expect(() => parseCheckpoint('nonsense')).toThrow();
    expect(bytesToHex(await eventLeafHash('00'.repeat(32)))).toBe(bytesToHex(await hashLeaf(new Uint8Array(32))));
    await expect(async () => eventLeafHash('abc')).rejects.toThrow();
  });
});
