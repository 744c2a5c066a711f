import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { routes } from '../App';
import { BUILTIN_API_ID, type Api } from '../api';
import { fakeJwt, fill, jsonResponse, mockFetch, problem, renderRoutes, signInThroughForm } from '../test/utils';

const TEAM_A = '0000000a-0000-4000-8000-000000000000';
const BILLING_ID = '01a24b90-3bd9-705a-9368-6c714500b09e';

const BUILTIN: Api = {
  api_id: BUILTIN_API_ID,
  org_id: null,
  identifier: 'https://idp.example.com',
  name: 'AgentIdP management API',
  scopes: [{ value: 'agents:read', description: 'read agents' }],
  token_ttl_seconds: null,
  require_dpop: false,
  builtin: true,
  created_at: '2026-12-01T00:00:00Z',
  updated_at: '2026-12-01T00:00:00Z',
};
const BILLING: Api = {
  ...BUILTIN,
  api_id: BILLING_ID,
  org_id: TEAM_A,
  identifier: 'https://billing.example.com',
  name: 'Billing',
  scopes: [
    { value: 'invoices:read', description: 'read invoices' },
    { value: 'invoices:write', description: '' },
  ],
  builtin: false,
};

function metadataOf(a: Api) {
  return {
    resource: a.identifier,
    resource_name: a.name,
    authorization_servers: [`https://idp.example.com/orgs/${TEAM_A}`],
    scopes_supported: a.scopes.map((s) => s.value),
    bearer_methods_supported: ['header'],
    dpop_signing_alg_values_supported: ['RS256'],
    dpop_bound_access_tokens_required: a.require_dpop,
  };
}

function orgAdminApi(extra: Parameters<typeof mockFetch>[0] = {}) {
  const token = fakeJwt({ scope: 'agents:read agents:write apis:read apis:write', org_id: TEAM_A });
  return mockFetch({
    'POST /api/v1/token': () => jsonResponse(200, { access_token: token, token_type: 'Bearer', expires_in: 3600 }),
    [`GET /api/v1/orgs/${TEAM_A}`]: () =>
      jsonResponse(200, { org_id: TEAM_A, name: 'team-a', status: 'active', max_agents: 5, metadata: {}, created_at: '', updated_at: '' }),
    'GET /api/v1/apis': () => jsonResponse(200, { items: [BUILTIN, BILLING], next_cursor: null }),
    [`GET /api/v1/apis/${BUILTIN_API_ID}`]: () => jsonResponse(200, BUILTIN),
    [`GET /api/v1/apis/${BUILTIN_API_ID}/resource-metadata`]: () => jsonResponse(200, metadataOf(BUILTIN)),
    [`GET /api/v1/apis/${BILLING_ID}`]: () => jsonResponse(200, BILLING),
    [`GET /api/v1/apis/${BILLING_ID}/resource-metadata`]: () => jsonResponse(200, metadataOf(BILLING)),
    ...extra,
  });
}

describe('APIs pages', () => {
  it('lists the built-in API marked, and creates an API with its scopes', async () => {
    const user = userEvent.setup({ delay: null });
    const create = vi.fn(async (_u: URL, init: RequestInit) => {
      expect(JSON.parse(String(init.body))).toEqual({
        identifier: 'https://files.example.com',
        name: 'Files',
        scopes: [{ value: 'files:read', description: 'read files' }],
        token_ttl_seconds: 600,
        require_dpop: false,
      });
      return jsonResponse(201, { ...BILLING, api_id: 'new-api', identifier: 'https://files.example.com', name: 'Files' });
    });
    const fetch = orgAdminApi({
      'POST /api/v1/apis': create,
      'GET /api/v1/apis/new-api': () => jsonResponse(200, { ...BILLING, api_id: 'new-api', name: 'Files' }),
      'GET /api/v1/apis/new-api/resource-metadata': () => jsonResponse(200, metadataOf(BILLING)),
    });
    renderRoutes(routes, { fetch, path: '/apis' });
    await signInThroughForm(user);
    const table = await screen.findByRole('table', { name: 'APIs' });
    const builtinRow = within(table).getByText('AgentIdP management API').closest('tr')!;
    expect(within(builtinRow).getByText('built-in')).toBeInTheDocument();
    expect(within(table).getByText('Billing').closest('tr')!.textContent).not.toContain('built-in');

    await user.click(screen.getByRole('button', { name: 'Create API' }));
    const dialog = await screen.findByRole('dialog');
    await fill(user, within(dialog).getByLabelText(/^identifier/i), 'http://files.example.com');
    await fill(user, within(dialog).getByLabelText(/^name/i), 'Files');
    await user.click(within(dialog).getByRole('button', { name: 'Create API' }));
    expect(await within(dialog).findByText('https, or http only for a loopback host')).toBeInTheDocument();
    const identifier = within(dialog).getByLabelText(/^identifier/i);
    await user.clear(identifier);
    await fill(user, identifier, 'https://files.example.com');
    await user.click(within(dialog).getByRole('button', { name: 'Add scope' }));
    await fill(user, within(dialog).getByLabelText('Scope 1 value'), 'files:read');
    await fill(user, within(dialog).getByLabelText('Scope 1 description'), 'read files');
    await fill(user, within(dialog).getByLabelText(/token lifetime/i), '600');
    await user.click(within(dialog).getByRole('button', { name: 'Create API' }));
    await waitFor(() => expect(create).toHaveBeenCalledTimes(1));
    expect(await screen.findByRole('heading', { name: 'Files' })).toBeInTheDocument();
  });

  it('shows the built-in API read-only, with its resource metadata', async () => {
    const user = userEvent.setup({ delay: null });
    renderRoutes(routes, { fetch: orgAdminApi(), path: `/apis/${BUILTIN_API_ID}` });
    await signInThroughForm(user);
    expect(await screen.findByRole('heading', { name: 'AgentIdP management API' })).toBeInTheDocument();
    expect(screen.getByText('Read-only')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Edit' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Delete' })).toBeNull();
    const doc = await screen.findByLabelText('Resource metadata document');
    expect(JSON.parse(doc.textContent!)).toMatchObject({ resource: 'https://idp.example.com', bearer_methods_supported: ['header'] });
  });

  it('edits scopes and require_dpop, warns of a removed scope, and deletes after confirming', async () => {
    const user = userEvent.setup({ delay: null });
    const patch = vi.fn(async (_u: URL, init: RequestInit) => {
      const body = JSON.parse(String(init.body));
      expect(body).toEqual({
        scopes: [
          { value: 'invoices:read', description: 'read all invoices' },
          { value: 'invoices:void', description: '' },
        ],
        require_dpop: true,
      });
      return jsonResponse(200, { ...BILLING, ...body, updated_at: '2026-12-02T00:00:00Z' });
    });
    const del = vi.fn(() => new Response(null, { status: 204 }));
    const fetch = orgAdminApi({ [`PATCH /api/v1/apis/${BILLING_ID}`]: patch, [`DELETE /api/v1/apis/${BILLING_ID}`]: del });
    renderRoutes(routes, { fetch, path: `/apis/${BILLING_ID}` });
    await signInThroughForm(user);
    expect(await screen.findByRole('heading', { name: 'Billing' })).toBeInTheDocument();
    expect(await screen.findByText('https://billing.example.com/.well-known/oauth-protected-resource')).toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: 'Edit' }));
    const dialog = await screen.findByRole('dialog');
    const desc = within(dialog).getByLabelText('Scope 1 description');
    await user.clear(desc);
    await fill(user, desc, 'read all invoices');
    const value2 = within(dialog).getByLabelText('Scope 2 value');
    fireEvent.change(value2, { target: { value: 'invoices:void' } });
    expect(await within(dialog).findByText(/Removing invoices:write removes it from every agent's grant/)).toBeInTheDocument();
    await user.click(within(dialog).getByLabelText(/require dpop/i));
    await user.click(within(dialog).getByRole('button', { name: 'Save changes' }));
    await waitFor(() => expect(patch).toHaveBeenCalledTimes(1));
    expect(await screen.findByText('DPoP required')).toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: 'Delete' }));
    expect(await screen.findByText(/stops working at once/)).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Delete API' }));
    await waitFor(() => expect(del).toHaveBeenCalledTimes(1));
    expect(await screen.findByRole('heading', { name: 'APIs' })).toBeInTheDocument();
  });

  it('shows the server’s problem detail when a save is refused', async () => {
    const user = userEvent.setup({ delay: null });
    const fetch = orgAdminApi({
      [`PATCH /api/v1/apis/${BILLING_ID}`]: () =>
        problem(400, 'validation_failed', 'the request has invalid fields', [{ field: 'token_ttl_seconds', message: 'must be at most 3600' }]),
    });
    renderRoutes(routes, { fetch, path: `/apis/${BILLING_ID}` });
    await signInThroughForm(user);
    await user.click(await screen.findByRole('button', { name: 'Edit' }));
    const dialog = await screen.findByRole('dialog');
    await fill(user, within(dialog).getByLabelText(/token lifetime/i), '7200');
    await user.click(within(dialog).getByRole('button', { name: 'Save changes' }));
    expect(await within(dialog).findByText('must be at most 3600')).toBeInTheDocument();
  });
});
