import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { routes } from '../App';
import { ROOT_ORG_ID, type Org } from '../api';
import { fakeJwt, jsonResponse, mockFetch, renderRoutes, signInThroughForm } from '../test/utils';

const TEAM_A = '0000000a-0000-4000-8000-000000000000';

const org = (org_id: string, name: string): Org => ({
  org_id,
  name,
  status: 'active',
  max_agents: 100,
  metadata: {},
  created_at: '2026-12-01T00:00:00Z',
  updated_at: '2026-12-01T00:00:00Z',
});

const agent = (id: string, name: string, org_id: string) => ({
  agent_id: id,
  org_id,
  name,
  description: '',
  owner: '',
  status: 'active',
  allowed_scopes: [],
  allowed_audiences: [],
  plan: 'free',
  metadata: {},
  grants: [],
  created_at: '2026-12-01T00:00:00Z',
  updated_at: '2026-12-01T00:00:00Z',
});

const OPERATOR = fakeJwt({ scope: 'agents:read agents:write audit:read usage:read orgs:admin apis:read', org_id: ROOT_ORG_ID });

function operatorApi(extra: Parameters<typeof mockFetch>[0] = {}) {
  const orgs = [org(ROOT_ORG_ID, 'root'), org(TEAM_A, 'team-a')];
  return mockFetch({
    'POST /api/v1/token': () => jsonResponse(200, { access_token: OPERATOR, token_type: 'Bearer', expires_in: 3600 }),
    'GET /api/v1/orgs': () => jsonResponse(200, { items: orgs, next_cursor: null }),
    'GET /api/v1/usage': () => jsonResponse(200, { months: [], days: [], agents_by_status: { active: 0, suspended: 0, decommissioned: 0 } }),
    'GET /api/v1/agents': (url) =>
      jsonResponse(200, {
        items:
          url.searchParams.get('org_id') === TEAM_A
            ? [agent('a2', 'team-a-bot', TEAM_A)]
            : [agent('a1', 'root-bot', ROOT_ORG_ID), agent('a2', 'team-a-bot', TEAM_A)],
        next_cursor: null,
      }),
    ...extra,
  });
}

describe('organization scope (operator)', () => {
  it('switches organization: the agents list is narrowed by org_id', async () => {
    const user = userEvent.setup({ delay: null });
    const fetch = operatorApi();
    renderRoutes(routes, { fetch, path: '/agents' });
    await signInThroughForm(user);
    // Every organization: an Organization column names each agent's.
    expect(await screen.findByText('root-bot')).toBeInTheDocument();
    expect(screen.getByRole('columnheader', { name: 'Organization' })).toBeInTheDocument();
    const switcher = screen.getByLabelText('Organization', { selector: 'input' });
    await waitFor(() => expect(switcher).toBeEnabled());
    expect(switcher).toHaveValue('All organizations');
    await user.click(switcher);
    await user.click(await screen.findByRole('option', { name: 'team-a', hidden: true }));
    await waitFor(() => expect(screen.queryByText('root-bot')).toBeNull());
    expect(screen.getByText('team-a-bot')).toBeInTheDocument();
    expect(screen.queryByRole('columnheader', { name: 'Organization' })).toBeNull();
    const last = fetch.mock.calls.filter(([u]) => u.startsWith('/api/v1/agents')).pop()!;
    expect(new URL(last[0], 'http://x').searchParams.get('org_id')).toBe(TEAM_A);
  });
});

describe('organizations (anyone else)', () => {
  it('shows only the caller’s own organization, read by the id in its token: no switcher, no Organizations page', async () => {
    const user = userEvent.setup({ delay: null });
    const token = fakeJwt({ scope: 'agents:read usage:read', org_id: TEAM_A });
    const fetch = mockFetch({
      'POST /api/v1/token': () => jsonResponse(200, { access_token: token, token_type: 'Bearer', expires_in: 3600 }),
      [`GET /api/v1/orgs/${TEAM_A}`]: () => jsonResponse(200, org(TEAM_A, 'team-a')),
      'GET /api/v1/usage': () => jsonResponse(200, { months: [], days: [], agents_by_status: { active: 1, suspended: 0, decommissioned: 0 } }),
      'GET /api/v1/agents': (url) => {
        expect(url.searchParams.has('org_id')).toBe(false);
        return jsonResponse(200, { items: [agent('a2', 'team-a-bot', TEAM_A)], next_cursor: null });
      },
    });
    renderRoutes(routes, { fetch, path: '/agents' });
    await signInThroughForm(user);
    expect(await screen.findByText('team-a-bot')).toBeInTheDocument();
    expect(await screen.findByTestId('own-org-name')).toHaveTextContent('team-a');
    expect(screen.queryByLabelText('Organization', { selector: 'input' })).toBeNull();
    expect(screen.queryByRole('link', { name: 'Organizations' })).toBeNull();
    expect(screen.queryByRole('columnheader', { name: 'Organization' })).toBeNull();
    expect(fetch.mock.calls.some(([u]) => u.split('?')[0] === '/api/v1/orgs')).toBe(false);
  });
});
