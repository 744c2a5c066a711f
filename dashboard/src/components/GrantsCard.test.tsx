import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { routes } from '../App';
import { BUILTIN_API_ID } from '../api';
import { fakeJwt, jsonResponse, mockFetch, problem, renderRoutes, signInThroughForm, type Route } from '../test/utils';

const TEAM_A = '0000000a-0000-4000-8000-000000000000';
const AGENT_ID = '0b7c6d1e-1111-4a2b-8c3d-123456789abc';

const AGENT = {
  agent_id: AGENT_ID,
  org_id: TEAM_A,
  name: 'billing-bot',
  description: '',
  owner: '',
  status: 'active',
  allowed_scopes: [],
  allowed_audiences: [],
  plan: 'free',
  metadata: {},
  grants: [] as { audience: string; scopes: string[] }[],
  created_at: '2026-12-01T00:00:00Z',
  updated_at: '2026-12-01T00:00:00Z',
};

const api = (api_id: string, identifier: string, name: string, scopes: string[], builtin = false) => ({
  api_id,
  org_id: builtin ? null : TEAM_A,
  identifier,
  name,
  scopes: scopes.map((value) => ({ value, description: `${value} description` })),
  token_ttl_seconds: null,
  require_dpop: false,
  builtin,
  created_at: '2026-12-01T00:00:00Z',
  updated_at: '2026-12-01T00:00:00Z',
});

function server(scope: string, patch: Route) {
  const token = fakeJwt({ scope, org_id: TEAM_A });
  let current = AGENT;
  return mockFetch({
    'POST /api/v1/token': () => jsonResponse(200, { access_token: token, token_type: 'Bearer', expires_in: 3600 }),
    [`GET /api/v1/orgs/${TEAM_A}`]: () =>
      jsonResponse(200, { org_id: TEAM_A, name: 'team-a', status: 'active', max_agents: 5, metadata: {}, created_at: '', updated_at: '' }),
    [`GET /api/v1/agents/${AGENT_ID}`]: () => jsonResponse(200, current),
    'GET /api/v1/apis': (url) => {
      expect(url.searchParams.get('org_id')).toBe(TEAM_A);
      return jsonResponse(200, {
        items: [
          api(BUILTIN_API_ID, 'https://idp.example.com', 'AgentIdP management API', ['agents:read'], true),
          api('billing', 'https://billing.example.com', 'Billing', ['invoices:read', 'invoices:write', 'invoices:void']),
          api('files', 'https://files.example.com', 'Files', []),
        ],
        next_cursor: null,
      });
    },
    [`PATCH /api/v1/agents/${AGENT_ID}`]: async (url, init) => {
      const res = (await patch(url, init))!;
      if (res.ok) current = await res.clone().json();
      return res;
    },
  });
}

async function openEditor(user: ReturnType<typeof userEvent.setup>) {
  await signInThroughForm(user);
  const card = await screen.findByRole('region', { name: 'Grants' });
  expect(within(card).getByText('No grants.')).toBeInTheDocument();
  await user.click(within(card).getByRole('button', { name: 'Edit grants' }));
  const add = within(card).getByLabelText('Add a grant', { selector: 'input' });
  await waitFor(() => expect(add).toBeEnabled());
  await user.click(add);
  // The built-in API is granted through allowed scopes, not here.
  expect(screen.queryByRole('option', { name: /AgentIdP management API/, hidden: true })).toBeNull();
  await user.click(await screen.findByRole('option', { name: /^Billing/, hidden: true }));
  return card;
}

describe('grants of an agent', () => {
  it('picks an API of the agent’s organization, ticks its scopes and saves them with PATCH grants', async () => {
    const user = userEvent.setup({ delay: null });
    const patch = vi.fn(async (_u: URL, init: RequestInit) => {
      const body = JSON.parse(String(init.body));
      expect(body).toEqual({ grants: [{ audience: 'https://billing.example.com', scopes: ['invoices:read', 'invoices:void'] }] });
      return jsonResponse(200, { ...AGENT, grants: body.grants, updated_at: '2026-12-02T00:00:00Z' });
    });
    renderRoutes(routes, { fetch: server('agents:read agents:write apis:read apis:write', patch), path: `/agents/${AGENT_ID}` });
    const card = await openEditor(user);
    await user.click(within(card).getByRole('checkbox', { name: /invoices:void/ }));
    await user.click(within(card).getByRole('checkbox', { name: /invoices:read/ }));
    await user.click(within(card).getByRole('button', { name: 'Save grants' }));
    await waitFor(() => expect(patch).toHaveBeenCalledTimes(1));
    const table = await within(card).findByRole('table', { name: 'Grants of the agent' });
    expect(within(table).getByText('Billing')).toBeInTheDocument();
    expect(within(table).getByText('invoices:read')).toBeInTheDocument();
    expect(within(table).queryByText('invoices:write')).toBeNull();
  });

  it('shows the server’s refusal (403 without apis:write)', async () => {
    const user = userEvent.setup({ delay: null });
    const patch = vi.fn(() => problem(403, 'insufficient_scope', 'this call needs the scope: apis:write'));
    renderRoutes(routes, { fetch: server('agents:read agents:write apis:read', patch), path: `/agents/${AGENT_ID}` });
    const card = await openEditor(user);
    expect(within(card).getByText(/your token lacks it/)).toBeInTheDocument();
    await user.click(within(card).getByRole('checkbox', { name: /invoices:read/ }));
    await user.click(within(card).getByRole('button', { name: 'Save grants' }));
    expect(await within(card).findByText('this call needs the scope: apis:write')).toBeInTheDocument();
    expect(within(card).getByText('Not allowed')).toBeInTheDocument();
    // The draft stays for another try.
    expect(within(card).getByRole('checkbox', { name: /invoices:read/ })).toBeChecked();
  });
});
