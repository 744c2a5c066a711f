import { describe, expect, it } from 'vitest';
import { BUILTIN_API_ID, type Api } from '../api';
import { addGrant, apiOfGrant, apisNotGranted, draftOf, grantableApis, removeGrant, sameGrants, setGrantScopes } from './grants';

function api(id: string, identifier: string, scopes: string[], builtin = false): Api {
  return {
    api_id: id,
    org_id: builtin ? null : 'o1',
    identifier,
    name: id,
    scopes: scopes.map((value) => ({ value, description: '' })),
    token_ttl_seconds: null,
    require_dpop: false,
    builtin,
    created_at: '2026-12-01T00:00:00Z',
    updated_at: '2026-12-01T00:00:00Z',
  };
}

const BUILTIN = api(BUILTIN_API_ID, 'https://idp.example.com', ['agents:read'], true);
const BILLING = api('billing', 'https://billing.example.com', ['invoices:read', 'invoices:write', 'invoices:void']);
const FILES = api('files', 'https://files.example.com', []);

describe('grants', () => {
  it('offers the organization’s registered APIs, not the built-in one, each once', () => {
    expect(grantableApis([BUILTIN, BILLING, FILES])).toEqual([BILLING, FILES]);
    const draft = addGrant([], BILLING);
    expect(draft).toEqual([{ audience: 'https://billing.example.com', scopes: [] }]);
    expect(apisNotGranted([BUILTIN, BILLING, FILES], draft)).toEqual([FILES]);
    expect(addGrant(draft, BILLING)).toEqual(draft);
  });

  it('ticks scopes in the API’s order and removes grants', () => {
    let draft = addGrant(addGrant([], BILLING), FILES);
    draft = setGrantScopes(draft, BILLING.identifier, ['invoices:void', 'invoices:read'], BILLING);
    expect(draft[0].scopes).toEqual(['invoices:read', 'invoices:void']);
    draft = setGrantScopes(draft, BILLING.identifier, ['invoices:read', 'gone:scope', 'invoices:read'], BILLING);
    expect(draft[0].scopes).toEqual(['invoices:read', 'gone:scope']);
    expect(removeGrant(draft, BILLING.identifier)).toEqual([{ audience: FILES.identifier, scopes: [] }]);
  });

  it('compares grants whatever their order, and copies them to edit', () => {
    const a = [
      { audience: 'https://x', scopes: ['a', 'b'] },
      { audience: 'https://y', scopes: [] },
    ];
    const b = [
      { audience: 'https://y', scopes: [] },
      { audience: 'https://x', scopes: ['b', 'a'] },
    ];
    expect(sameGrants(a, b)).toBe(true);
    expect(sameGrants(a, [b[0]])).toBe(false);
    expect(sameGrants(a, [{ audience: 'https://x', scopes: ['a'] }, b[0]])).toBe(false);
    const copy = draftOf(a);
    copy[0].scopes.push('c');
    expect(a[0].scopes).toEqual(['a', 'b']);
    expect(draftOf(undefined)).toEqual([]);
  });

  it('finds the API of a grant by its identifier', () => {
    expect(apiOfGrant([BILLING, FILES], { audience: FILES.identifier, scopes: [] })).toBe(FILES);
    expect(apiOfGrant([BILLING], { audience: 'https://gone.example.com', scopes: [] })).toBeUndefined();
  });
});
