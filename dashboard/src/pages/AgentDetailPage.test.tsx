import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { routes } from '../App';
import type { Agent, Credential, TrustedIssuer } from '../api';
import { fakeJwt, fill, jsonResponse, mockFetch, renderRoutes, signInThroughForm } from '../test/utils';

const TEAM_A = '0000000a-0000-4000-8000-000000000000';
const A = '0193a000-0000-7000-8000-00000000000a';
const B = '0193a000-0000-7000-8000-00000000000b';
const C = '0193a000-0000-7000-8000-00000000000c';
const GONE = '0193b000-0000-7000-8000-0000000000ff';

const AGENT: Agent = {
  agent_id: A,
  org_id: TEAM_A,
  name: 'billing-bot',
  description: '',
  owner: '',
  status: 'active',
  allowed_scopes: [],
  allowed_audiences: [],
  plan: 'free',
  metadata: {},
  require_dpop: true,
  delegates: [B],
  created_at: '2026-12-01T00:00:00Z',
  updated_at: '2026-12-01T00:00:00Z',
};
const PEER_B: Agent = { ...AGENT, agent_id: B, name: 'planner', require_dpop: false, delegates: [] };
const PEER_C: Agent = { ...AGENT, agent_id: C, name: 'reviewer', require_dpop: false, delegates: [] };
const K8S: TrustedIssuer = {
  trusted_issuer_id: '0193b000-0000-7000-8000-0000000000f1',
  org_id: TEAM_A,
  issuer: 'https://kubernetes.default.svc',
  jwks_uri: 'https://k8s.example/openid/v1/jwks',
  created_at: '2026-12-05T00:00:00Z',
};
const base = { agent_id: A, created_at: '2026-12-02T00:00:00Z', expires_at: null, revoked_at: null, last_used_at: null, rotated_from: null };
const CREDS: Credential[] = [
  { ...base, credential_id: 'c-secret', type: 'secret', status: 'active', secret_prefix: 'sk_live_VYY1' },
  { ...base, credential_id: 'c-key', type: 'private_key_jwt', status: 'active', secret_prefix: '', kids: ['ec-1', 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs'] },
  { ...base, credential_id: 'c-fed', type: 'federated', status: 'active', secret_prefix: '', trusted_issuer_id: K8S.trusted_issuer_id, subject: 'system:serviceaccount:billing:bot' },
  { ...base, credential_id: 'c-gone', type: 'federated', status: 'revoked', secret_prefix: '', trusted_issuer_id: GONE, subject: 'spiffe://example.org/old', revoked_at: '2026-12-03T00:00:00Z' },
];

function api(agent: Agent, extra: Parameters<typeof mockFetch>[0] = {}) {
  const token = fakeJwt({ scope: 'agents:read agents:write credentials:read credentials:write', org_id: TEAM_A });
  return mockFetch({
    'POST /api/v1/token': () => jsonResponse(200, { access_token: token, token_type: 'Bearer', expires_in: 3600 }),
    [`GET /api/v1/orgs/${TEAM_A}`]: () =>
      jsonResponse(200, { org_id: TEAM_A, name: 'team-a', status: 'active', max_agents: 5, metadata: {}, created_at: '', updated_at: '' }),
    [`GET /api/v1/agents/${A}`]: () => jsonResponse(200, agent),
    'GET /api/v1/agents': () => jsonResponse(200, { items: [agent, PEER_B, PEER_C], next_cursor: null }),
    [`GET /api/v1/agents/${A}/credentials`]: () => jsonResponse(200, { items: CREDS, next_cursor: null }),
    'GET /api/v1/trusted-issuers': () => jsonResponse(200, { items: [K8S], next_cursor: null }),
    ...extra,
  });
}

describe('Agent detail: credential types, require_dpop, delegates', () => {
  it('lists each credential by type: a secret’s prefix, a key’s kids, a federated one’s issuer and subject', async () => {
    const user = userEvent.setup({ delay: null });
    renderRoutes(routes, { fetch: api(AGENT), path: `/agents/${A}` });
    await signInThroughForm(user);
    const table = await screen.findByRole('table', { name: 'Credentials' });
    const row = (id: string) => table.querySelector(`tr[data-credential-id="${id}"]`) as HTMLElement;
    await waitFor(() => expect(within(row('c-fed')).getByRole('link', { name: K8S.issuer })).toBeInTheDocument());
    expect(within(row('c-secret')).getByText('sk_live_VYY1…')).toBeInTheDocument();
    expect(within(row('c-secret')).getByText('secret')).toBeInTheDocument();
    expect(within(row('c-key')).getByText('ec-1')).toBeInTheDocument();
    expect(within(row('c-key')).getByText('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs')).toBeInTheDocument();
    expect(within(row('c-key')).getByText('key')).toBeInTheDocument();
    expect(within(row('c-fed')).getByText('system:serviceaccount:billing:bot')).toBeInTheDocument();
    expect(within(row('c-fed')).getByText('federated')).toBeInTheDocument();
    expect(within(row('c-gone')).getByText(/deleted trusted issuer/)).toBeInTheDocument();
    expect(within(row('c-gone')).getByText('revoked')).toBeInTheDocument();

    // Only secrets rotate.
    await user.click(within(row('c-key')).getByRole('button', { name: /^Actions for credential/ }));
    expect(await screen.findByRole('menuitem', { name: 'Revoke' })).toBeInTheDocument();
    expect(screen.queryByRole('menuitem', { name: 'Rotate' })).toBeNull();

    expect(screen.getAllByText('DPoP required').length).toBeGreaterThan(0);
    const delegates = await screen.findByLabelText('Delegates');
    expect(await within(delegates).findByRole('link', { name: 'planner' })).toHaveAttribute('href', `/agents/${B}`);
  });

  it('issues a key credential from a pasted JWKS: no secret shown, the list refetched', async () => {
    const user = userEvent.setup({ delay: null });
    const key = { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo', kid: 'ed-1' };
    const post = vi.fn(async (_u: URL, init: RequestInit) => {
      expect(JSON.parse(String(init.body))).toEqual({ type: 'private_key_jwt', jwks: { keys: [key] } });
      return jsonResponse(201, { ...CREDS[1], credential_id: 'c-new', kids: ['ed-1'], client_id: A });
    });
    renderRoutes(routes, { fetch: api(AGENT, { [`POST /api/v1/agents/${A}/credentials`]: post }), path: `/agents/${A}` });
    await signInThroughForm(user);
    await user.click(await screen.findByRole('button', { name: 'Issue credential' }));
    const d = await screen.findByRole('dialog');
    await user.click(within(d).getByRole('radio', { name: 'Public key' }));
    fireEvent.change(within(d).getByLabelText(/Public key set/), { target: { value: JSON.stringify({ keys: [key] }) } });
    await user.click(within(d).getByRole('button', { name: 'Issue credential' }));
    await waitFor(() => expect(post).toHaveBeenCalledTimes(1));
    expect(await screen.findByText('Key credential issued')).toBeInTheDocument();
    expect(screen.queryByText('You will not see this secret again')).toBeNull();
  });

  it('edits require_dpop and the delegates (pick one, refuse itself by id, remove one) in one PATCH', async () => {
    const user = userEvent.setup({ delay: null });
    const patch = vi.fn(async (_u: URL, init: RequestInit) => {
      const body = JSON.parse(String(init.body));
      return jsonResponse(200, { ...AGENT, ...body });
    });
    renderRoutes(routes, { fetch: api(AGENT, { [`PATCH /api/v1/agents/${A}`]: patch }), path: `/agents/${A}` });
    await signInThroughForm(user);
    await user.click(await screen.findByRole('button', { name: 'Edit' }));
    const d = await screen.findByRole('dialog');
    const dpop = within(d).getByRole('switch', { name: /Require DPoP/ });
    expect(dpop).toBeChecked();
    await user.click(dpop);

    expect(await within(d).findByRole('group', { name: 'Delegate planner' })).toBeInTheDocument();
    await user.click(within(d).getByRole('combobox', { name: 'Add a delegate' }));
    expect(screen.queryByRole('option', { name: 'billing-bot', hidden: true })).toBeNull(); // not itself
    expect(screen.queryByRole('option', { name: 'planner', hidden: true })).toBeNull(); // not twice
    await user.click(await screen.findByRole('option', { name: 'reviewer', hidden: true }));
    expect(await within(d).findByRole('group', { name: 'Delegate reviewer' })).toBeInTheDocument();

    await fill(user, within(d).getByRole('textbox', { name: 'Delegate agent id' }), A);
    await user.click(within(d).getByRole('button', { name: 'Add' }));
    expect(await within(d).findByText('An agent cannot be its own delegate')).toBeInTheDocument();

    await user.click(within(d).getByRole('button', { name: 'Remove delegate planner' }));
    await user.click(within(d).getByRole('button', { name: 'Save changes' }));
    await waitFor(() => expect(patch).toHaveBeenCalledTimes(1));
    expect(JSON.parse(String(patch.mock.calls[0][1].body))).toEqual({ require_dpop: false, delegates: [C] });
  });

  it('shows no delegates where the server has none (an agent without the field)', async () => {
    const user = userEvent.setup({ delay: null });
    const { delegates: _d, require_dpop: _r, ...older } = AGENT;
    renderRoutes(routes, { fetch: api(older as Agent), path: `/agents/${A}` });
    await signInThroughForm(user);
    expect(await screen.findByRole('heading', { name: 'billing-bot', level: 2 })).toBeInTheDocument();
    expect(screen.queryByText(/Delegates/)).toBeNull();
    expect(screen.queryByText('DPoP required')).toBeNull();
    await user.click(screen.getByRole('button', { name: 'Edit' }));
    const d = await screen.findByRole('dialog');
    expect(within(d).queryByText('Delegates')).toBeNull();
    expect(within(d).queryByRole('switch', { name: /Require DPoP/ })).toBeNull();
  });
});
