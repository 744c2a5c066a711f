import { describe, expect, it } from 'vitest';
import { ROOT_ORG_ID, type Org } from '../api';
import { ALL_ORGS, defaultOrgForCreate, listOrgFilter, pickerOptions, sortOrgs, switcherOptions } from './orgs';

const org = (org_id: string, name: string, status: Org['status'] = 'active'): Org => ({
  org_id,
  name,
  status,
  max_agents: 100,
  metadata: {},
  created_at: '2026-12-01T00:00:00Z',
  updated_at: '2026-12-01T00:00:00Z',
});

const ROOT = org(ROOT_ORG_ID, 'root');
const BETA = org('0000000b-0000-4000-8000-000000000000', 'beta', 'suspended');
const ALPHA = org('0000000a-0000-4000-8000-000000000000', 'Alpha');

describe('organization choices', () => {
  it('sorts root first, then by name without regard to case', () => {
    expect(sortOrgs([BETA, ALPHA, ROOT]).map((o) => o.name)).toEqual(['root', 'Alpha', 'beta']);
  });

  it('offers "All organizations" and every organization in the switcher, suspended ones marked', () => {
    expect(switcherOptions([BETA, ROOT, ALPHA])).toEqual([
      { value: ALL_ORGS, label: 'All organizations' },
      { value: ROOT_ORG_ID, label: 'root' },
      { value: ALPHA.org_id, label: 'Alpha' },
      { value: BETA.org_id, label: 'beta (suspended)' },
    ]);
  });

  it('offers only active organizations to create in, plus the default when it is not one', () => {
    expect(pickerOptions([BETA, ROOT, ALPHA]).map((o) => o.label)).toEqual(['root', 'Alpha']);
    expect(pickerOptions([BETA, ROOT, ALPHA], BETA.org_id).map((o) => o.label)).toEqual(['root', 'Alpha', 'beta (suspended)']);
    expect(pickerOptions([], ROOT_ORG_ID)).toEqual([{ value: ROOT_ORG_ID, label: 'root' }]);
  });

  it('sends org_id only for an operator who picked one organization', () => {
    expect(listOrgFilter(true, ALL_ORGS)).toBeUndefined();
    expect(listOrgFilter(true, ALPHA.org_id)).toBe(ALPHA.org_id);
    expect(listOrgFilter(false, ALPHA.org_id)).toBeUndefined();
  });

  it('creates in the switched-to organization, else in the caller’s', () => {
    expect(defaultOrgForCreate(ALL_ORGS, ROOT_ORG_ID)).toBe(ROOT_ORG_ID);
    expect(defaultOrgForCreate(ALPHA.org_id, ROOT_ORG_ID)).toBe(ALPHA.org_id);
  });
});
