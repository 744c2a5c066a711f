import { describe, expect, it } from 'vitest';
import { METADATA_MAX_BYTES, validateMetadata } from './metadata';
import { isAbsoluteUri } from './uri';

describe('validateMetadata', () => {
  it('accepts an object and empty text', () => {
    expect(validateMetadata('{"team": "search", "tier": 2}')).toMatchObject({ ok: true, value: { team: 'search', tier: 2 } });
    expect(validateMetadata('   ')).toEqual({ ok: true, value: {}, bytes: 2 });
  });

  it('rejects invalid JSON', () => {
    const r = validateMetadata('{"a": }');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/Not valid JSON/);
  });

  it.each([
    ['[1,2]', 'an array'],
    ['null', 'null'],
    ['"text"', 'a string'],
    ['42', 'a number'],
  ])('rejects %s as not an object', (text, kind) => {
    const r = validateMetadata(text);
    expect(r).toEqual({ ok: false, error: `Metadata must be a JSON object, not ${kind}.` });
  });

  it('enforces 8 KiB on the compact UTF-8 serialisation', () => {
    const fits = JSON.stringify({ k: 'x'.repeat(METADATA_MAX_BYTES - 8) }); // {"k":"…"} = 8 bytes overhead
    expect(validateMetadata(fits).ok).toBe(true);
    const over = JSON.stringify({ k: 'x'.repeat(METADATA_MAX_BYTES - 7) });
    const r = validateMetadata(over);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/8 KiB/);
    // Pretty-printing whitespace does not count, multi-byte characters do.
    expect(validateMetadata(JSON.stringify({ k: 'x'.repeat(8000) }, null, 40)).ok).toBe(true);
    expect(validateMetadata(JSON.stringify({ k: 'é'.repeat(4100) })).ok).toBe(false);
  });
});

describe('isAbsoluteUri', () => {
  it.each(['https://api.example.com', 'http://127.0.0.1:9000/x', 'urn:example:resource', 'spiffe://prod/ns/svc'])('accepts %s', (u) =>
    expect(isAbsoluteUri(u)).toBe(true),
  );
  it.each(['api.example.com', '/relative', 'https://', 'https://x.com/#frag', 'not a uri', ''])('rejects %s', (u) =>
    expect(isAbsoluteUri(u)).toBe(false),
  );
});
