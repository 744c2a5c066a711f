import { describe, expect, it } from 'vitest';
import { ROOT_ORG_ID } from '../api';
import { fakeJwt } from '../test/utils';
import { claimsFromJwt, orgIdFromJwt, scopesFromJwt } from './AuthContext';

describe('token claims (display only)', () => {
  it('reads scope and org_id from the payload', () => {
    const t = fakeJwt({ scope: 'agents:read apis:write', org_id: '0000000a-0000-4000-8000-000000000000', name: 'é' });
    expect(scopesFromJwt(t)).toEqual(['agents:read', 'apis:write']);
    expect(orgIdFromJwt(t)).toBe('0000000a-0000-4000-8000-000000000000');
  });

  it('takes a token without org_id, or no JWT at all, as root’s', () => {
    expect(orgIdFromJwt(fakeJwt({ scope: '' }))).toBe(ROOT_ORG_ID);
    expect(orgIdFromJwt('opaque-token')).toBe(ROOT_ORG_ID);
    expect(claimsFromJwt('a.!!!.c')).toEqual({});
    expect(claimsFromJwt(fakeJwt([1, 2] as unknown as Record<string, unknown>))).toEqual({});
  });
});
