import { describe, expect, it } from 'vitest';
import { checkJwksUri, MAX_JWKS_KEYS, parseJwks, PRIVATE_MEMBERS } from './jwks';

// A real P-256 public key (RFC 7515 Appendix A.3) and its private half.
const EC_PUBLIC = {
  kty: 'EC',
  crv: 'P-256',
  x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
  y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
  kid: 'ec-1',
};
const EC_PRIVATE = { ...EC_PUBLIC, d: 'jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI' };

describe('parseJwks', () => {
  it('accepts a set of public keys and names their kids (null for none)', () => {
    const { kid: _kid, ...noKid } = EC_PUBLIC;
    const r = parseJwks(JSON.stringify({ keys: [EC_PUBLIC, { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' }, noKid] }));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.kids).toEqual(['ec-1', null, null]);
    expect(r.value.keys[0]).toEqual(EC_PUBLIC);
  });

  it('tolerates surrounding whitespace', () => {
    expect(parseJwks(`\n  ${JSON.stringify({ keys: [EC_PUBLIC] })}  \n`).ok).toBe(true);
  });

  it('refuses a key with a private member, naming it, and every private or symmetric member alike', () => {
    const r = parseJwks(JSON.stringify({ keys: [EC_PUBLIC, EC_PRIVATE] }));
    expect(r).toEqual({ ok: false, error: expect.stringContaining('Key 2 is a private or symmetric key (it has "d")') });
    for (const m of PRIVATE_MEMBERS) {
      const bad = parseJwks(JSON.stringify({ keys: [{ kty: 'RSA', n: 'AQAB', e: 'AQAB', [m]: 'x' }] }));
      expect(bad.ok, m).toBe(false);
      if (!bad.ok) expect(bad.error).toContain(`"${m}"`);
    }
  });

  it('refuses a symmetric key', () => {
    const r = parseJwks('{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/private or symmetric key \(it has "k"\)/);
  });

  it.each([
    ['', /Paste the public key set/],
    ['{"keys": [', /Not valid JSON/],
    ['[1, 2]', /A JWKS is a JSON object/],
    ['"keys"', /A JWKS is a JSON object/],
    ['{"kty": "EC", "crv": "P-256", "x": "a", "y": "b"}', /single key, not a key set/],
    ['{"jwks_uri": "https://x"}', /no "keys" member/],
    ['{"keys": {}}', /"keys" must be an array/],
    ['{"keys": []}', /holds no key/],
    ['{"keys": [42]}', /Key 1 is not a JSON object/],
    ['{"keys": [{"crv": "P-256"}]}', /Key 1 has no "kty"/],
    ['{"keys": [{"kty": "XYZ"}]}', /kty "XYZ"/],
    ['{"keys": [{"kty": "EC", "kid": 7}]}', /"kid" must be a string/],
  ])('refuses %j', (text, msg) => {
    const r = parseJwks(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(msg);
  });

  it(`refuses more than ${MAX_JWKS_KEYS} keys`, () => {
    const r = parseJwks(JSON.stringify({ keys: Array.from({ length: MAX_JWKS_KEYS + 1 }, (_, i) => ({ ...EC_PUBLIC, kid: `k${i}` })) }));
    expect(r.ok).toBe(false);
  });
});

describe('checkJwksUri', () => {
  it.each(['https://issuer.example/jwks.json', 'http://127.0.0.1:8443/keys', 'http://localhost/keys', 'http://[::1]:9000/k'])('accepts %s', (u) => {
    expect(checkJwksUri(u)).toBeNull();
  });
  it.each([
    ['', /required/],
    ['issuer.example/jwks', /absolute URL/],
    ['http://issuer.example/jwks', /https/],
    ['ftp://issuer.example/jwks', /https/],
    ['https://issuer.example/jwks#frag', /fragment/],
  ])('refuses %j', (u, msg) => {
    expect(checkJwksUri(u)).toMatch(msg);
  });
});
