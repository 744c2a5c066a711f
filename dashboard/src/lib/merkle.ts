/**
 * RFC 9162 Merkle tree checks in the browser, with Web Crypto's SHA-256 only: the leaf hash
 * of an audit event and the verification of an inclusion proof against a checkpoint's root
 * (RFC 9162 §2.1.3.2). Nothing here trusts the server: the root comes from the signed
 * checkpoint, the leaf from the event's own hash, the proof is only a list of hashes.
 */

async function sha256(...parts: Uint8Array[]): Promise<Uint8Array> {
  const len = parts.reduce((n, p) => n + p.length, 0);
  const buf = new Uint8Array(len);
  let off = 0;
  for (const p of parts) {
    buf.set(p, off);
    off += p.length;
  }
  return new Uint8Array(await crypto.subtle.digest('SHA-256', buf));
}

export function hexToBytes(hex: string): Uint8Array {
  if (!/^([0-9a-f]{2})*$/i.test(hex)) throw new Error('not hex');
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function bytesToHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

export function base64ToBytes(s: string): Uint8Array {
  const bin = atob(s);
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/** SHA-256(0x00 ‖ data): the hash of a leaf. */
export function hashLeaf(data: Uint8Array): Promise<Uint8Array> {
  return sha256(new Uint8Array([0]), data);
}

/** SHA-256(0x01 ‖ left ‖ right): the hash of an interior node. */
export function hashChildren(left: Uint8Array, right: Uint8Array): Promise<Uint8Array> {
  return sha256(new Uint8Array([1]), left, right);
}

/** The leaf hash of an audit event: its chain hash (hex) decoded, then hashLeaf. */
export function eventLeafHash(chainHashHex: string): Promise<Uint8Array> {
  const raw = hexToBytes(chainHashHex);
  if (raw.length !== 32) throw new Error('an event hash is 32 bytes');
  return hashLeaf(raw);
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Recomputes the root from an inclusion proof (RFC 9162 §2.1.3.2) and compares it with
 * root. Indices up to 2^53 (JavaScript numbers) suffice for any audit log.
 */
export async function verifyInclusion(
  leafIndex: number,
  treeSize: number,
  leafHash: Uint8Array,
  proof: Uint8Array[],
  root: Uint8Array,
): Promise<boolean> {
  if (!Number.isSafeInteger(leafIndex) || !Number.isSafeInteger(treeSize) || leafIndex < 0 || leafIndex >= treeSize) {
    return false;
  }
  let fn = leafIndex;
  let sn = treeSize - 1;
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = await hashChildren(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = await hashChildren(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equal(r, root);
}

export interface Checkpoint {
  origin: string;
  size: number;
  root: Uint8Array;
}

/** Reads the body of a C2SP tlog-checkpoint note: origin, size, base64 root hash. */
export function parseCheckpoint(note: string): Checkpoint {
  const [origin, size, root] = note.split('\n');
  if (!origin || !/^[0-9]+$/.test(size ?? '') || !root) throw new Error('not a checkpoint');
  const bytes = base64ToBytes(root);
  if (bytes.length !== 32) throw new Error('not a checkpoint');
  return { origin, size: Number(size), root: bytes };
}
