import { describe, expect, it } from 'vitest';
import type { Api } from '../api';
import {
  apiFieldToFormPath,
  apiToValues,
  apiValuesToPayload,
  formatTtl,
  protectedResourceMetadataUrl,
  removedScopes,
  validateIdentifier,
  validateScopeDescription,
  validateScopeValue,
  validateTtl,
} from './apiForm';

const API: Api = {
  api_id: '01a24b90-3bd9-705a-9368-6c714500b09e',
  org_id: '0000000a-0000-4000-8000-000000000000',
  identifier: 'https://billing.example.com',
  name: 'Billing',
  scopes: [
    { value: 'invoices:read', description: 'read invoices' },
    { value: 'invoices:write', description: '' },
  ],
  token_ttl_seconds: null,
  require_dpop: false,
  builtin: false,
  created_at: '2026-12-01T00:00:00Z',
  updated_at: '2026-12-01T00:00:00Z',
};

describe('API identifier', () => {
  it('accepts https URIs and http for loopback hosts only', () => {
    for (const ok of ['https://billing.example.com', 'HTTPS://Billing.example.com:443/', 'https://api.example.com/v1', 'http://localhost:9000', 'http://127.0.0.1/x', 'http://[::1]:8080', 'http://svc.localhost']) {
      expect(validateIdentifier(ok), ok).toBeNull();
    }
    expect(validateIdentifier('')).toMatch(/required/);
    expect(validateIdentifier('billing.example.com')).toMatch(/absolute/i);
    expect(validateIdentifier('http://billing.example.com')).toMatch(/loopback/);
    expect(validateIdentifier('ftp://billing.example.com')).toMatch(/https/);
    expect(validateIdentifier('https://user:pw@billing.example.com')).toMatch(/user/);
    expect(validateIdentifier('https://billing.example.com/?a=1')).toMatch(/query/);
    expect(validateIdentifier('https://billing.example.com/#f')).toMatch(/fragment/);
    expect(validateIdentifier('https://bïlling.example.com')).toMatch(/ASCII/);
    expect(validateIdentifier(`https://e.com/${'a'.repeat(520)}`)).toMatch(/512/);
  });
});

describe('API scopes', () => {
  const all = [{ value: 'a:read', description: '' }, { value: 'a:read', description: '' }, { value: 'B', description: '' }];
  it('checks each value (charset, length, once) and description', () => {
    expect(validateScopeValue('a:read', all, 0)).toBeNull();
    expect(validateScopeValue('a:read', all, 1)).toMatch(/once/);
    expect(validateScopeValue('B', all, 2)).toMatch(/a-z/);
    expect(validateScopeValue('', all, 0)).toMatch(/required/);
    expect(validateScopeValue('x'.repeat(65), [{ value: 'x'.repeat(65), description: '' }], 0)).toMatch(/1–64/);
    expect(validateScopeValue('files/read.all_v-2', [{ value: 'files/read.all_v-2', description: '' }], 0)).toBeNull();
    expect(validateScopeDescription('d'.repeat(257))).toMatch(/256/);
    expect(validateScopeDescription('tab\there')).toMatch(/control/);
    expect(validateScopeDescription('fine')).toBeNull();
  });

  it('names the scopes an edit removes', () => {
    const v = apiToValues(API);
    expect(removedScopes(API, v)).toEqual([]);
    expect(removedScopes(API, { ...v, scopes: [v.scopes[1]] })).toEqual(['invoices:read']);
  });
});

describe('API payload', () => {
  it('sends every field on create, the TTL and org only when set', () => {
    const v = { ...apiToValues(null), identifier: ' https://b.example.com ', name: ' B ', scopes: [{ value: ' s:r ', description: ' d ' }] };
    expect(apiValuesToPayload(v, null)).toEqual({
      identifier: 'https://b.example.com',
      name: 'B',
      scopes: [{ value: 's:r', description: 'd' }],
      require_dpop: false,
    });
    expect(apiValuesToPayload({ ...v, token_ttl_seconds: 600, org_id: 'o1', require_dpop: true }, null)).toMatchObject({
      token_ttl_seconds: 600,
      org_id: 'o1',
      require_dpop: true,
    });
  });

  it('sends only what changed on edit; an emptied TTL is null', () => {
    const v = apiToValues(API);
    expect(apiValuesToPayload(v, API)).toEqual({});
    const scopes = [...v.scopes, { value: 'invoices:void', description: 'void one' }];
    expect(apiValuesToPayload({ ...v, scopes, require_dpop: true }, API)).toEqual({
      scopes: [...API.scopes, { value: 'invoices:void', description: 'void one' }],
      require_dpop: true,
    });
    expect(apiValuesToPayload({ ...v, scopes: [{ ...v.scopes[0], description: 'changed' }, v.scopes[1]] }, API)).toEqual({
      scopes: [{ value: 'invoices:read', description: 'changed' }, API.scopes[1]],
    });
    const withTtl = { ...API, token_ttl_seconds: 600 };
    expect(apiValuesToPayload({ ...apiToValues(withTtl), token_ttl_seconds: '' }, withTtl)).toEqual({ token_ttl_seconds: null });
    expect(apiValuesToPayload({ ...v, token_ttl_seconds: 120 }, API)).toEqual({ token_ttl_seconds: 120 });
  });

  it('validates the TTL', () => {
    expect(validateTtl('')).toBeNull();
    expect(validateTtl(60)).toBeNull();
    expect(validateTtl(59)).not.toBeNull();
    expect(validateTtl(61.5)).not.toBeNull();
  });
});

describe('helpers', () => {
  it('inserts the RFC 9728 well-known path between host and path', () => {
    expect(protectedResourceMetadataUrl('https://billing.example.com')).toBe('https://billing.example.com/.well-known/oauth-protected-resource');
    expect(protectedResourceMetadataUrl('https://api.example.com:8443/v1/')).toBe(
      'https://api.example.com:8443/.well-known/oauth-protected-resource/v1',
    );
    expect(protectedResourceMetadataUrl('not a uri')).toBeNull();
  });

  it('maps server field names to form paths', () => {
    expect(apiFieldToFormPath('scopes[1].value')).toBe('scopes.1.value');
    expect(apiFieldToFormPath('identifier')).toBe('identifier');
  });

  it('formats lifetimes', () => {
    expect(formatTtl(null)).toMatch(/server/);
    expect(formatTtl(600)).toBe('10 min (600 s)');
    expect(formatTtl(7200)).toBe('2 h (7200 s)');
    expect(formatTtl(61)).toBe('61 s');
  });
});
