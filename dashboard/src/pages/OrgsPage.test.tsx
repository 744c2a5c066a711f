import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { routes } from '../App';
import { ROOT_ORG_ID, type Org } from '../api';
import { fakeJwt, fill, jsonResponse, mockFetch, problem, renderRoutes, signInThroughForm } from '../test/utils';

const TEAM_A = '0000000a-0000-4000-8000-000000000000';
const ADMIN_A = '0000000a-aaaa-4000-8000-000000000001';
const SECRET_A = 'sk_live_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCd';

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

describe('organizations (operator)', () => {
  it('creates an organization and shows its admin secret once', async () => {
    const user = userEvent.setup({ delay: null });
    const create = vi.fn(async (_url: URL, init: RequestInit) => {
      expect(JSON.parse(String(init.body))).toEqual({ name: 'team-b', max_agents: 5 });
      return jsonResponse(201, {
        org: org('0000000b-0000-4000-8000-000000000000', 'team-b'),
        admin: { agent_id: ADMIN_A, client_id: ADMIN_A, client_secret: SECRET_A, credential_id: 'c1' },
      });
    });
    const fetch = operatorApi({ 'POST /api/v1/orgs': create });
    renderRoutes(routes, { fetch, path: '/orgs' });
    await signInThroughForm(user);
    expect(await screen.findByRole('heading', { name: 'Organizations' })).toBeInTheDocument();
    await user.click(await screen.findByRole('button', { name: 'Create organization' }));
    const dialog = await screen.findByRole('dialog');
    await fill(user, within(dialog).getByLabelText(/^name/i), 'team-b');
    await fill(user, within(dialog).getByLabelText(/max agents/i), '5');
    await user.click(within(dialog).getByRole('button', { name: 'Create organization' }));
    expect(await screen.findByText('Organization created')).toBeInTheDocument();
    expect(screen.getByText(/You will not see this secret again/)).toBeInTheDocument();
    expect(screen.getByRole('textbox', { name: 'Client secret' })).toHaveValue(SECRET_A);
    expect(screen.getByRole('textbox', { name: 'Client ID' })).toHaveValue(ADMIN_A);
    await user.click(screen.getByRole('button', { name: 'I have stored the secret' }));
    await waitFor(() => expect(screen.queryByText(SECRET_A)).toBeNull());
    expect(document.body.innerHTML).not.toContain(SECRET_A);
    expect(create).toHaveBeenCalledTimes(1);
  });

  it('asks before suspending, and shows the server’s refusal for root', async () => {
    const user = userEvent.setup({ delay: null });
    const fetch = operatorApi({
      'POST /api/v1/orgs/00000000-0000-0000-0000-000000000001/suspend': () =>
        problem(409, 'conflict', 'the root organization cannot be suspended'),
    });
    renderRoutes(routes, { fetch, path: '/orgs' });
    await signInThroughForm(user);
    await user.click(await screen.findByRole('button', { name: 'Actions for root' }));
    await user.click(await screen.findByRole('menuitem', { name: 'Suspend' }));
    await user.click(await screen.findByRole('button', { name: 'Suspend organization' }));
    expect(await screen.findByText('the root organization cannot be suspended')).toBeInTheDocument();
  });

  it('edits name and max_agents with a PATCH of the changed fields', async () => {
    const user = userEvent.setup({ delay: null });
    const patch = vi.fn(async (_url: URL, init: RequestInit) => {
      expect(JSON.parse(String(init.body))).toEqual({ name: 'team-a2', max_agents: 7 });
      return jsonResponse(200, { ...org(TEAM_A, 'team-a2'), max_agents: 7 });
    });
    const fetch = operatorApi({ [`PATCH /api/v1/orgs/${TEAM_A}`]: patch });
    renderRoutes(routes, { fetch, path: '/orgs' });
    await signInThroughForm(user);
    await user.click(await screen.findByRole('button', { name: 'Actions for team-a' }));
    await user.click(await screen.findByRole('menuitem', { name: 'Edit' }));
    const dialog = await screen.findByRole('dialog');
    const name = within(dialog).getByLabelText(/^name/i);
    await user.clear(name);
    await fill(user, name, 'team-a2');
    const max = within(dialog).getByLabelText(/max agents/i);
    await user.clear(max);
    await fill(user, max, '7');
    await user.click(within(dialog).getByRole('button', { name: 'Save changes' }));
    await waitFor(() => expect(patch).toHaveBeenCalledTimes(1));
  });
});
