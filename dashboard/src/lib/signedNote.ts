/**
 * Signed notes (C2SP signed-note, the format of golang.org/x/mod/sumdb/note) checked in the
 * browser: the note verifier key `<name>+<8 hex key hash>+<base64(0x01 ‖ Ed25519 public key)>`
 * and a note `<text>\n\n— <name> <base64(4-byte key hash ‖ 64-byte signature)>\n…`. The
 * signature is verified with Web Crypto's Ed25519; nothing here trusts the server. Parsing is
 * as strict as note.NewVerifier and note.Open: anything malformed is refused with a
 * NoteError; a signature by another key is ignored; the note verifies only if a signature by
 * the expected key (name and key hash) verifies.
 */

export class NoteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoteError';
  }
}

/** A parsed note verifier key (an Ed25519 one: the only algorithm the format defines). */
export interface VerifierKey {
  name: string;
  /** The 4-byte key hash, as a number (0 … 2^32 − 1). */
  keyHash: number;
  /** The raw 32-byte Ed25519 public key. */
  publicKey: Uint8Array;
  /** The key as it was given (trimmed). */
  text: string;
}

export interface NoteSignature {
  name: string;
  keyHash: number;
  /** The signature bytes after the key hash. */
  signature: Uint8Array;
}

export interface SignedNote {
  /** The signed text: everything before the blank line, with its final newline. */
  text: string;
  signatures: NoteSignature[];
}

const ALG_ED25519 = 1;
const MAX_SIGNATURES = 100; // as note.Open
const SIG_PREFIX = '\u2014 '; // "— " (EM DASH, space)

// Go's unicode.IsSpace: the White_Space property (JavaScript's \s differs: it has U+FEFF, not U+0085).
const SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;
const LONE_SURROGATE = /\p{Surrogate}/u;

/** A key or signer name: non-empty, no white space, no "+" (note's isValidName). */
export function isValidName(name: string): boolean {
  return name !== '' && !SPACE.test(name) && !name.includes('+') && !LONE_SURROGATE.test(name);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Standard base64 with padding, nothing else (atob alone also takes spaces and missing padding). */
export function decodeBase64Strict(s: string): Uint8Array | null {
  if (!BASE64.test(s)) return null;
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

const utf8 = (s: string) => new TextEncoder().encode(s);

/** The key hash: the first 4 bytes of SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key), big-endian. */
export async function keyHash(name: string, algAndKey: Uint8Array): Promise<number> {
  const sum = new Uint8Array(await crypto.subtle.digest('SHA-256', concat(utf8(name + '\n'), algAndKey)));
  return new DataView(sum.buffer).getUint32(0);
}

export function keyHashHex(h: number): string {
  return h.toString(16).padStart(8, '0');
}

/** Parses a note verifier key and checks its key hash (note.NewVerifier). */
export async function parseVerifierKey(vkey: string): Promise<VerifierKey> {
  const text = vkey.trim();
  // The name has no "+", nor the hash; the base64 key may hold some.
  const i = text.indexOf('+');
  const j = i < 0 ? -1 : text.indexOf('+', i + 1);
  if (j < 0) throw new NoteError('A verifier key has three parts joined by "+": <name>+<8 hex digits>+<base64 key>.');
  const [name, hash16, key64] = [text.slice(0, i), text.slice(i + 1, j), text.slice(j + 1)];
  if (!isValidName(name)) throw new NoteError('The key name is empty or contains white space.');
  if (!/^[0-9a-f]{8}$/i.test(hash16)) throw new NoteError('The key hash must be 8 hexadecimal digits.');
  const key = decodeBase64Strict(key64);
  if (!key || key.length === 0) throw new NoteError('The key is not base64.');
  if (key[0] !== ALG_ED25519) throw new NoteError('The key is not an Ed25519 key (its first byte must be 0x01).');
  if (key.length !== 33) throw new NoteError('An Ed25519 key is 32 bytes.');
  const want = parseInt(hash16, 16);
  if ((await keyHash(name, key)) !== want) {
    throw new NoteError('The key hash does not match the name and key (a mistyped or altered key).');
  }
  return { name, keyHash: want, publicKey: key.slice(1), text };
}

/** Splits a signed note into its text and signature lines without verifying anything (note.Open's rules). */
export function parseSignedNote(msg: string): SignedNote {
  // Valid Unicode and no ASCII control character but the newline. (Invalid UTF-8 from the
  // server was already replaced by U+FFFD when decoded: such a note then fails to verify.)
  if (/[\u0000-\u0009\u000b-\u001f]/.test(msg) || LONE_SURROGATE.test(msg)) {
    throw new NoteError('The note holds a control character or invalid text.');
  }
  const split = msg.lastIndexOf('\n\n');
  if (split < 0) throw new NoteError('The note has no signature block (a blank line, then signature lines).');
  const text = msg.slice(0, split + 1);
  const block = msg.slice(split + 2);
  if (block === '' || !block.endsWith('\n')) throw new NoteError('The note has no signature lines, or they do not end with a newline.');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) throw new NoteError(`The note has more than ${MAX_SIGNATURES} signatures.`);
  const signatures = lines.map((line): NoteSignature => {
    if (!line.startsWith(SIG_PREFIX)) throw new NoteError('A signature line must start with "— " (an em dash and a space).');
    const rest = line.slice(SIG_PREFIX.length);
    const sp = rest.indexOf(' ');
    const name = sp < 0 ? rest : rest.slice(0, sp);
    const b64 = sp < 0 ? '' : rest.slice(sp + 1);
    const sig = b64 === '' ? null : decodeBase64Strict(b64);
    if (!isValidName(name) || !sig || sig.length < 5) {
      throw new NoteError('A signature line is malformed: "— <name> <base64 of key hash and signature>".');
    }
    return { name, keyHash: new DataView(sig.buffer, sig.byteOffset).getUint32(0), signature: sig.slice(4) };
  });
  return { text, signatures };
}

/**
 * Verifies msg with key: returns the signed text when a signature by key (same name and key
 * hash) verifies with Ed25519. Signatures by other keys are ignored; a signature by key that
 * does not verify, or none at all, is a NoteError.
 */
export async function verifyNote(msg: string, key: VerifierKey): Promise<string> {
  const note = parseSignedNote(msg);
  // As note.Open: the first signature by a verifier counts, repeats are dropped.
  const sig = note.signatures.find((s) => s.name === key.name && s.keyHash === key.keyHash);
  if (!sig) throw new NoteError(`The note carries no signature by the key ${key.name}+${keyHashHex(key.keyHash)}.`);
  const ok =
    sig.signature.length === 64 &&
    (await crypto.subtle.verify(
      { name: 'Ed25519' },
      await crypto.subtle.importKey('raw', concat(key.publicKey), { name: 'Ed25519' }, false, ['verify']),
      concat(sig.signature),
      utf8(note.text),
    ));
  if (!ok) throw new NoteError(`The signature by ${key.name}+${keyHashHex(key.keyHash)} does not verify: the note was altered or not signed by this key.`);
  return note.text;
}
