import { describe, expect, it } from 'vitest';
import type { Org } from '../api';
import { orgToValues, orgValuesToPayload, validateMaxAgents, validateOrgName } from './orgForm';

const ORG: Org = {
  org_id: '0000000a-0000-4000-8000-000000000000',
  name: 'team-a',
  status: 'active',
  max_agents: 100,
  metadata: { cost_center: 'ml' },
  created_at: '2026-12-01T00:00:00Z',
  updated_at: '2026-12-01T00:00:00Z',
};

describe('organization form', () => {
  it('validates the name and max_agents as the server does', () => {
    expect(validateOrgName('  ')).toBe('Name is required');
    expect(validateOrgName('x'.repeat(129))).toMatch(/128/);
    expect(validateOrgName('a\u0007b')).toMatch(/control/);
    expect(validateOrgName(' team-b ')).toBeNull();
    expect(validateMaxAgents('', false)).toBeNull();
    expect(validateMaxAgents('', true)).not.toBeNull();
    expect(validateMaxAgents(-1, false)).not.toBeNull();
    expect(validateMaxAgents(2.5, false)).not.toBeNull();
    expect(validateMaxAgents(2147483648, false)).not.toBeNull();
    expect(validateMaxAgents(0, true)).toBeNull();
  });

  it('sends the filled fields on create, leaving max_agents to the server when empty', () => {
    expect(orgValuesToPayload({ name: ' team-b ', max_agents: '', metadata: '' }, null)).toEqual({ name: 'team-b' });
    expect(orgValuesToPayload({ name: 'team-b', max_agents: 5, metadata: '{"a": 1}' }, null)).toEqual({
      name: 'team-b',
      max_agents: 5,
      metadata: { a: 1 },
    });
  });

  it('sends only the changed fields on edit', () => {
    const v = orgToValues(ORG);
    expect(orgValuesToPayload(v, ORG)).toEqual({});
    expect(orgValuesToPayload({ ...v, name: 'team-a2', max_agents: 7 }, ORG)).toEqual({ name: 'team-a2', max_agents: 7 });
    expect(orgValuesToPayload({ ...v, metadata: '{}' }, ORG)).toEqual({ metadata: {} });
  });
});
