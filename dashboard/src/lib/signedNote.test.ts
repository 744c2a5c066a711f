import { describe, expect, it } from 'vitest';
import { bytesToHex } from './merkle';
import { decodeBase64Strict, isValidName, keyHashHex, NoteError, parseSignedNote, parseVerifierKey, verifyNote } from './signedNote';

// golang.org/x/mod/sumdb/note's own example (note.go's package documentation and
// example_test.go, v0.43.0): PeterNeumann's key and a note it signed, and the same note with
// EnochRoot's signature added.
const PETER = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const PETER_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_SIG = '— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';
const ENOCH_SIG = '— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n';
const PETER_NOTE = PETER_TEXT + '\n' + PETER_SIG;

// A checkpoint signed by note.Sign (golang.org/x/mod v0.43.0), with a witness's signature
// first. Produced by a throwaway Go program:
//
//	seed := sha256.Sum256([]byte("agentidp dashboard test vector"))       // witness: "... test witness"
//	pub := ed25519.NewKeyFromSeed(seed[:]).Public().(ed25519.PublicKey)
//	vkey, _ := note.NewEd25519VerifierKey("idp.example/audit", pub)    // AUDIT below
//	signer, _ := note.NewSigner("PRIVATE+KEY+idp.example/audit+8a6ef0a3+" + base64(0x01 ‖ seed))
//	msg, _ := note.Sign(&note.Note{Text: "idp.example/audit\n8\nXcna…Qyg=\n"}, witness, signer)
//
// and checked with note.Open before printing. The root is the RFC 6962 eight-leaf tree's
// (merkle.test.ts).
const AUDIT = 'idp.example/audit+8a6ef0a3+AfRKHLFprDRiZgAfB7VGfnZZGQGef/VO6XCqzJ+kBE5O';
const WITNESS = 'witness.example+15af2df9+AWk6H3ZTYw0w/ffqFlupLE0ptnZzJFO79PVCYq65sheX';
const CP_TEXT = 'idp.example/audit\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n';
const CP_NOTE =
  CP_TEXT +
  '\n' +
  '— witness.example Fa8t+c/bTQb5TENDi5G+iMMroMSszeL68+f+9qjczHTFoHXq8kqo56Lk+Ct0cCE8wa5ZLU9pcqiSg0fSErXTgCpoxgs=\n' +
  '— idp.example/audit im7wo9XXdvkWGeZKrxP1CUy3ZR9lGKzH3sEOGfSm7067TrajCsIWzOCKKwgyn+zUjdK5xcNS+6ZSKQQ2Hz6U9uv59wU=\n';

/** Flips one bit of the byte at i of the base64 in a signature line. */
function flipSigByte(note: string, line: number, i: number): string {
  const lines = note.split('\n');
  const sigLine = lines[line];
  const cut = sigLine.lastIndexOf(' ');
  const sig = decodeBase64Strict(sigLine.slice(cut + 1))!;
  sig[i] ^= 1;
  lines[line] = sigLine.slice(0, cut + 1) + btoa(String.fromCharCode(...sig));
  return lines.join('\n');
}

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(NoteError);
    return (err as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('verifier keys', () => {
  it("parses the library's example key", async () => {
    const k = await parseVerifierKey(` ${PETER}\n`);
    expect(k.name).toBe('PeterNeumann');
    expect(keyHashHex(k.keyHash)).toBe('c74f20a3');
    expect(k.publicKey).toHaveLength(32);
    expect(bytesToHex(k.publicKey).slice(0, 8)).toBe('1a5cd907');
    expect(k.text).toBe(PETER);
    const a = await parseVerifierKey(AUDIT);
    expect([a.name, keyHashHex(a.keyHash)]).toEqual(['idp.example/audit', '8a6ef0a3']);
  });

  it('refuses malformed keys and a key hash that does not match', async () => {
    expect(await refusal(parseVerifierKey(PETER.replace('c74f20a3', 'c74f20a4')))).toMatch(/key hash does not match/);
    expect(await refusal(parseVerifierKey(PETER.replace('PeterNeumann', 'PeterNeuman')))).toMatch(/key hash does not match/);
    expect(await refusal(parseVerifierKey(PETER.replace('ARpc', 'ARpd')))).toMatch(/key hash does not match/);
    expect(await refusal(parseVerifierKey(''))).toMatch(/three parts/);
    expect(await refusal(parseVerifierKey('PeterNeumann+c74f20a3'))).toMatch(/three parts/);
    expect(await refusal(parseVerifierKey(PETER + '+x'))).toMatch(/not base64/);
    expect(await refusal(parseVerifierKey('Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'))).toMatch(/name/);
    expect(await refusal(parseVerifierKey('+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'))).toMatch(/name/);
    expect(await refusal(parseVerifierKey(PETER.replace('c74f20a3', 'c74f20a')))).toMatch(/8 hexadecimal/);
    expect(await refusal(parseVerifierKey(PETER.replace('c74f20a3', 'c74f20g3')))).toMatch(/8 hexadecimal/);
    expect(await refusal(parseVerifierKey(PETER.replace('W', '')))).toMatch(/not base64/); // length not a multiple of 4
    expect(await refusal(parseVerifierKey(PETER.replace('ARpc', 'AR c')))).toMatch(/not base64/);
    expect(await refusal(parseVerifierKey('PeterNeumann+c74f20a3+'))).toMatch(/not base64/);
    // Right shape, wrong algorithm byte (0x02) or length.
    expect(await refusal(parseVerifierKey('PeterNeumann+c74f20a3+Alpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'))).toMatch(/Ed25519/);
    expect(await refusal(parseVerifierKey('PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy'))).toMatch(/32 bytes/);
  });

  it('reads names and base64 as the Go library does', () => {
    expect(isValidName('idp.example:8443/audit')).toBe(true);
    for (const bad of ['', 'a b', 'a+b', 'a\tb', 'a\u00a0b', 'a\u0085b', 'a\u3000b', 'a\ud800b']) expect(isValidName(bad)).toBe(false);
    expect(decodeBase64Strict('AAEC')).toEqual(new Uint8Array([0, 1, 2]));
    expect(decodeBase64Strict('AAE=')).toEqual(new Uint8Array([0, 1]));
    for (const bad of ['AAE', 'AA E=', 'AAE=\n', 'AA-_', '====']) expect(decodeBase64Strict(bad)).toBeNull();
  });
});

describe('signed notes', () => {
  it("verifies the library's example note, alone and with another key's signature", async () => {
    const peter = await parseVerifierKey(PETER);
    expect(await verifyNote(PETER_NOTE, peter)).toBe(PETER_TEXT);
    // EnochRoot's signature is by a key we do not hold: ignored, before or after.
    expect(await verifyNote(PETER_NOTE + ENOCH_SIG, peter)).toBe(PETER_TEXT);
    expect(await verifyNote(PETER_TEXT + '\n' + ENOCH_SIG + PETER_SIG, peter)).toBe(PETER_TEXT);
    const n = parseSignedNote(PETER_NOTE + ENOCH_SIG);
    expect(n.signatures.map((s) => [s.name, keyHashHex(s.keyHash), s.signature.length])).toEqual([
      ['PeterNeumann', 'c74f20a3', 64],
      ['EnochRoot', 'af0cfe78', 64],
    ]);
  });

  it('verifies a checkpoint signed by note.Sign, ignoring the witness', async () => {
    const audit = await parseVerifierKey(AUDIT);
    expect(await verifyNote(CP_NOTE, audit)).toBe(CP_TEXT);
    // The witness's own key verifies its signature too.
    expect(await verifyNote(CP_NOTE, await parseVerifierKey(WITNESS))).toBe(CP_TEXT);
  });

  it('refuses tampered text, a tampered signature and the wrong key', async () => {
    const audit = await parseVerifierKey(AUDIT);
    expect(await refusal(verifyNote(CP_NOTE.replace('\n8\n', '\n9\n'), audit))).toMatch(/does not verify/);
    expect(await refusal(verifyNote(CP_NOTE.replace('idp.example/audit\n', 'idp.example/audiT\n'), audit))).toMatch(/does not verify/);
    expect(await refusal(verifyNote(flipSigByte(CP_NOTE, 5, 10), audit))).toMatch(/does not verify/);
    expect(await refusal(verifyNote(flipSigByte(CP_NOTE, 5, 67), audit))).toMatch(/does not verify/);
    // A tampered witness signature is not ours to judge: ignored.
    expect(await verifyNote(flipSigByte(CP_NOTE, 4, 10), audit)).toBe(CP_TEXT);
    // A changed key hash in our signature line: the line is no longer by our key.
    expect(await refusal(verifyNote(flipSigByte(CP_NOTE, 5, 0), audit))).toMatch(/no signature by the key idp\.example\/audit\+8a6ef0a3/);
    // The wrong key: another name, or the same name with another key.
    expect(await refusal(verifyNote(CP_NOTE, await parseVerifierKey(PETER)))).toMatch(/no signature by the key PeterNeumann/);
    expect(await refusal(verifyNote(PETER_NOTE, audit))).toMatch(/no signature/);
    // A truncated signature by our key.
    const short = CP_NOTE.replace(/im7wo9\S+/, btoa(String.fromCharCode(...decodeBase64Strict('im7wo9XXdvkWGeZKrxP1CUy3ZR9lGKzH3sEOGfSm7067TrajCsIWzOCKKwgyn+zUjdK5xcNS+6ZSKQQ2Hz6U9uv59wU=')!.slice(0, 40))));
    expect(await refusal(verifyNote(short, audit))).toMatch(/does not verify/);
  });

  it('refuses malformed notes', async () => {
    const audit = await parseVerifierKey(AUDIT);
    const sig = CP_NOTE.slice(CP_TEXT.length + 1);
    const cases: [string, RegExp][] = [
      ['', /no signature block/],
      [CP_TEXT, /no signature block/],
      [CP_TEXT + '\n', /no signature lines/],
      [CP_NOTE.slice(0, -1), /do not end with a newline/],
      [CP_NOTE + '\n', /no signature lines/],
      [CP_TEXT + '\n' + sig.replaceAll('—', '-'), /must start with/],
      [CP_TEXT + '\n' + sig.replace('— witness.example ', '— witness.example  '), /malformed/],
      [CP_TEXT + '\n' + sig.replace('— witness.example ', '— witness.example\t'), /control character/],
      [CP_TEXT + '\n— idp.example/audit\n', /malformed/],
      [CP_TEXT + '\n— idp.example/audit AAAA\n', /malformed/], // 3 bytes: shorter than a key hash and one byte
      [CP_TEXT + '\n— idp.example/audit not*base64\n', /malformed/],
      [CP_TEXT.replace('\n8\n', '\r\n8\n') + '\n' + sig, /control character/],
      [CP_TEXT + '\n' + sig.repeat(51), /more than 100/],
    ];
    for (const [note, why] of cases) {
      expect(() => parseSignedNote(note), JSON.stringify(note)).toThrow(why);
      expect(await refusal(verifyNote(note, audit))).toMatch(why);
    }
    // Exactly 100 signature lines are still read.
    expect(parseSignedNote(CP_TEXT + '\n' + sig.repeat(50)).signatures).toHaveLength(100);
  });
});
