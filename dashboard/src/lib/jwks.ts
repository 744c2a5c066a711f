import type { Jwks } from '../api';

/**
 * Members that only a private or symmetric key has (RFC 7518 §6.2.2, §6.3.2, §6.4.1,
 * RFC 8037 §2): a key set holding one of them gives a secret away, so it is refused here
 * before it leaves the browser. The server refuses it as well (400); it is the authority.
 */
export const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/** At most this many keys in one set (the server's limit). */
export const MAX_JWKS_KEYS = 20;

/** Key types the server takes: RSA, EC (P-256, P-384) and OKP (Ed25519). */
const KEY_TYPES = ['RSA', 'EC', 'OKP'];

export type JwksParse = { ok: true; value: Jwks; kids: (string | null)[] } | { ok: false; error: string };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Reads a pasted JSON Web Key Set (RFC 7517 §5) of public keys, for display and a first
 * check only: JSON, an object with a non-empty `keys` array of at most 20 keys, each an
 * object with a `kty` of RSA, EC or OKP and no private or symmetric member. Everything
 * else (sizes, curves, `use`, `alg`, duplicate `kid`s) is the server's to judge; its 400
 * detail is shown next to this. `kids` are the keys' `kid`s, null where absent (the
 * server names such a key by its RFC 7638 thumbprint).
 */
export function parseJwks(text: string): JwksParse {
  const t = text.trim();
  if (!t) return { ok: false, error: 'Paste the public key set: {"keys": [ … ]}.' };
  let v: unknown;
  try {
    v = JSON.parse(t);
  } catch (e) {
    return { ok: false, error: `Not valid JSON: ${(e as Error).message}` };
  }
  if (!isObject(v)) return { ok: false, error: 'A JWKS is a JSON object: {"keys": [ … ]}.' };
  if (!('keys' in v)) {
    if ('kty' in v) return { ok: false, error: 'This is a single key, not a key set: wrap it as {"keys": [ <the key> ]}.' };
    return { ok: false, error: 'Not a JWKS: the object has no "keys" member.' };
  }
  const keys = v.keys;
  if (!Array.isArray(keys)) return { ok: false, error: '"keys" must be an array of keys.' };
  if (keys.length === 0) return { ok: false, error: 'The key set holds no key.' };
  if (keys.length > MAX_JWKS_KEYS) return { ok: false, error: `At most ${MAX_JWKS_KEYS} keys in one set (this one has ${keys.length}).` };
  const kids: (string | null)[] = [];
  for (const [i, key] of keys.entries()) {
    const n = `Key ${i + 1}`;
    if (!isObject(key)) return { ok: false, error: `${n} is not a JSON object.` };
    if (typeof key.kty !== 'string' || !key.kty) return { ok: false, error: `${n} has no "kty" (key type).` };
    const secret = PRIVATE_MEMBERS.filter((m) => m in key);
    if (secret.length) {
      return {
        ok: false,
        error: `${n} is a private or symmetric key (it has ${secret.map((m) => `"${m}"`).join(', ')}): paste the public key set only, and keep the private key where it is.`,
      };
    }
    if (!KEY_TYPES.includes(key.kty)) return { ok: false, error: `${n} has kty "${key.kty}": only RSA, EC and OKP (Ed25519) public keys are taken.` };
    if (key.kid !== undefined && typeof key.kid !== 'string') return { ok: false, error: `${n}'s "kid" must be a string.` };
    kids.push(typeof key.kid === 'string' && key.kid ? key.kid : null);
  }
  return { ok: true, value: { keys: keys as Record<string, unknown>[] }, kids };
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/**
 * Checks a trusted issuer's jwks_uri as the server will: https, or http to a loopback host
 * only, with no fragment. null when it passes; else why not.
 */
export function checkJwksUri(s: string): string | null {
  const t = s.trim();
  if (!t) return 'The address of the issuer’s key set is required';
  let u: URL;
  try {
    u = new URL(t);
  } catch {
    return 'Not an absolute URL';
  }
  if (u.hash) return 'No fragment (#…) in the address';
  if (u.protocol === 'https:' && u.hostname) return null;
  if (u.protocol === 'http:' && LOOPBACK.test(u.hostname)) return null;
  return 'Must be https (or http to a loopback host)';
}
