/**
 * The audit log's latest checkpoint, accepted only once its signature verified in this
 * browser: with the verifier key the user pinned (obtained out of band: no trust in the
 * server), or else with the key the server serves at GET /api/v1/audit/checkpoint/key
 * (which proves only that the server signed what it serves). The root of such a checkpoint
 * is what inclusion proofs are checked against.
 */
import type { AuditCheckpoint } from '../api';
import { parseCheckpoint, type Checkpoint } from './merkle';
import { keyHashHex, NoteError, parseSignedNote, parseVerifierKey, verifyNote, type VerifierKey } from './signedNote';

/** Where the verifier key came from. */
export type KeySource = 'pinned' | 'server';

export interface VerifiedCheckpoint extends Checkpoint {
  source: KeySource;
  key: VerifierKey;
  /** When the server says it signed it (Last-Modified; not covered by the signature). */
  signedAt: string | null;
}

/** The checkpoint did not verify: malformed, the wrong key, or a bad signature. */
export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

/** localStorage item holding the pinned verifier key (a public key: nothing secret). */
export const PINNED_KEY_STORAGE = 'agentidp.audit.pinnedVerifierKey';

/** "name+hash": how a key is named on the page. */
export function keyLabel(k: VerifierKey): string {
  return `${k.name}+${keyHashHex(k.keyHash)}`;
}

function whose(source: KeySource): string {
  return source === 'pinned' ? 'your pinned key' : "the server's key";
}

/**
 * Verifies a checkpoint note with a verifier key: the key must parse, its name must be the
 * checkpoint's origin, and a signature by it must verify; the result is read from the signed
 * text only.
 */
export async function verifyCheckpoint(note: string, keyText: string, source: KeySource): Promise<Checkpoint & { key: VerifierKey }> {
  let key: VerifierKey;
  try {
    key = await parseVerifierKey(keyText);
  } catch (err) {
    throw new CheckpointError(`${source === 'pinned' ? 'Your pinned key' : "The server's key"} is not a verifier key: ${(err as Error).message}`);
  }
  let claimed: Checkpoint;
  try {
    claimed = parseCheckpoint(parseSignedNote(note).text);
  } catch (err) {
    throw new CheckpointError(`The checkpoint is malformed: ${err instanceof NoteError ? err.message : 'its text is not an origin, a tree size and a root hash.'}`);
  }
  if (key.name !== claimed.origin) {
    throw new CheckpointError(
      `${source === 'pinned' ? 'Your pinned key' : "The server's key"} is named ${key.name}, not the checkpoint's origin ${claimed.origin}: it is a key for another log.`,
    );
  }
  let text: string;
  try {
    text = await verifyNote(note, key);
  } catch (err) {
    throw new CheckpointError(`Checked with ${whose(source)}: ${(err as Error).message}`);
  }
  return { ...parseCheckpoint(text), key };
}

/** What loading needs of the API client. */
export interface CheckpointSource {
  auditCheckpoint(signal?: AbortSignal): Promise<AuditCheckpoint | null>;
  auditCheckpointKey(signal?: AbortSignal): Promise<string>;
}

/**
 * Fetches the latest checkpoint and verifies it with the pinned key, or (none pinned) with
 * the key the server serves. null when no checkpoint was signed yet; a CheckpointError when
 * it does not verify; other errors are the API's.
 */
export async function loadVerifiedCheckpoint(api: CheckpointSource, pinned: string, signal?: AbortSignal): Promise<VerifiedCheckpoint | null> {
  const cp = await api.auditCheckpoint(signal);
  if (!cp) return null;
  const source: KeySource = pinned.trim() ? 'pinned' : 'server';
  const keyText = source === 'pinned' ? pinned : await api.auditCheckpointKey(signal);
  const c = await verifyCheckpoint(cp.note, keyText, source);
  return { ...c, source, signedAt: cp.signedAt };
}
