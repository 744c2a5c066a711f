import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { routes } from '../App';
import type { TrustedIssuer } from '../api';
import { fakeJwt, fill, jsonResponse, mockFetch, problem, renderRoutes, signInThroughForm } from '../test/utils';

const TEAM_A = '0000000a-0000-4000-8000-000000000000';
const K8S: TrustedIssuer = {
  trusted_issuer_id: '0193b000-0000-7000-8000-0000000000f1',
  org_id: TEAM_A,
  issuer: 'https://kubernetes.default.svc',
  jwks_uri: 'https://k8s.example/openid/v1/jwks',
  created_at: '2026-12-05T00:00:00Z',
};
const KEY = { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo', kid: 'ci-1' };
const CI: TrustedIssuer = {
  trusted_issuer_id: '0193b000-0000-7000-8000-0000000000f2',
  org_id: TEAM_A,
  issuer: 'https://ci.example',
  jwks: { keys: [KEY] },
  created_at: '2026-12-06T00:00:00Z',
};

function orgAdminApi(extra: Parameters<typeof mockFetch>[0] = {}) {
  const token = fakeJwt({ scope: 'agents:read credentials:read credentials:write', org_id: TEAM_A });
  return mockFetch({
    'POST /api/v1/token': () => jsonResponse(200, { access_token: token, token_type: 'Bearer', expires_in: 3600 }),
    [`GET /api/v1/orgs/${TEAM_A}`]: () =>
      jsonResponse(200, { org_id: TEAM_A, name: 'team-a', status: 'active', max_agents: 5, metadata: {}, created_at: '', updated_at: '' }),
    'GET /api/v1/trusted-issuers': () => jsonResponse(200, { items: [K8S], next_cursor: null }),
    [`GET /api/v1/trusted-issuers/${K8S.trusted_issuer_id}`]: () => jsonResponse(200, K8S),
    [`GET /api/v1/trusted-issuers/${CI.trusted_issuer_id}`]: () => jsonResponse(200, CI),
    ...extra,
  });
}

describe('Trusted issuers pages', () => {
  it('lists, then registers a pasted key set after showing a 409 for an issuer already trusted', async () => {
    const user = userEvent.setup({ delay: null });
    const bodies: unknown[] = [];
    const create = vi.fn(async (_u: URL, init: RequestInit) => {
      const body = JSON.parse(String(init.body));
      bodies.push(body);
      if (body.issuer === K8S.issuer) return problem(409, 'conflict', 'the organization already trusts this issuer');
      return jsonResponse(201, CI);
    });
    const fetch = orgAdminApi({ 'POST /api/v1/trusted-issuers': create });
    renderRoutes(routes, { fetch, path: '/trusted-issuers' });
    await signInThroughForm(user);
    const table = await screen.findByRole('table', { name: 'Trusted issuers' });
    const row = within(table).getByText(K8S.issuer).closest('tr')!;
    expect(within(row).getByText(K8S.jwks_uri!)).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Trusted issuers' })).toHaveAttribute('aria-current', 'page');

    await user.click(screen.getByRole('button', { name: 'Register issuer' }));
    const d = await screen.findByRole('dialog');
    await fill(user, within(d).getByRole('textbox', { name: /^Issuer/ }), K8S.issuer);
    await fill(user, within(d).getByRole('textbox', { name: /^JWKS URI/ }), 'http://k8s.example/jwks');
    await user.click(within(d).getByRole('button', { name: 'Register issuer' }));
    expect(await within(d).findByText('Must be https (or http to a loopback host)')).toBeInTheDocument();
    expect(create).not.toHaveBeenCalled();
    const uri = within(d).getByRole('textbox', { name: /^JWKS URI/ });
    await user.clear(uri);
    await fill(user, uri, K8S.jwks_uri!);
    await user.click(within(d).getByRole('button', { name: 'Register issuer' }));
    expect(await within(d).findByText('the organization already trusts this issuer')).toBeInTheDocument();
    expect(bodies[0]).toEqual({ issuer: K8S.issuer, jwks_uri: K8S.jwks_uri });

    const issuer = within(d).getByRole('textbox', { name: /^Issuer/ });
    await user.clear(issuer);
    await fill(user, issuer, CI.issuer);
    await user.click(within(d).getByRole('radio', { name: 'Pasted (JWKS)' }));
    fireEvent.change(within(d).getByLabelText(/^JWKS/), { target: { value: JSON.stringify({ keys: [{ ...KEY, d: 'x' }] }) } });
    expect(await within(d).findByText(/private or symmetric key/)).toBeInTheDocument();
    await user.click(within(d).getByRole('button', { name: 'Register issuer' }));
    expect(create).toHaveBeenCalledTimes(1);
    fireEvent.change(within(d).getByLabelText(/^JWKS/), { target: { value: JSON.stringify({ keys: [KEY] }) } });
    await user.click(within(d).getByRole('button', { name: 'Register issuer' }));
    await waitFor(() => expect(create).toHaveBeenCalledTimes(2));
    expect(bodies[1]).toEqual({ issuer: CI.issuer, jwks: { keys: [KEY] } });
    expect(await screen.findByRole('heading', { name: CI.issuer, level: 2 })).toBeInTheDocument();
    expect(JSON.parse(screen.getByLabelText('Public key set').textContent!)).toEqual({ keys: [KEY] });
  });

  it('deletes after a confirmation that says it revokes every credential bound to it', async () => {
    const user = userEvent.setup({ delay: null });
    const del = vi.fn(() => new Response(null, { status: 204 }));
    const fetch = orgAdminApi({ [`DELETE /api/v1/trusted-issuers/${K8S.trusted_issuer_id}`]: del });
    renderRoutes(routes, { fetch, path: `/trusted-issuers/${K8S.trusted_issuer_id}` });
    await signInThroughForm(user);
    expect(await screen.findByRole('heading', { name: K8S.issuer, level: 2 })).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Delete' }));
    const d = await screen.findByRole('dialog');
    expect(d).toHaveTextContent('This revokes every credential bound to it');
    expect(del).not.toHaveBeenCalled();
    await user.click(within(d).getByRole('button', { name: 'Delete and revoke' }));
    await waitFor(() => expect(del).toHaveBeenCalledTimes(1));
    expect(await screen.findByRole('heading', { name: 'Trusted issuers', level: 2 })).toBeInTheDocument();
  });

  it("shows the server's refusal to delete", async () => {
    const user = userEvent.setup({ delay: null });
    const fetch = orgAdminApi({
      [`DELETE /api/v1/trusted-issuers/${K8S.trusted_issuer_id}`]: () =>
        problem(409, 'conflict', "deleting it would take the organization's last admin its last active credential"),
    });
    renderRoutes(routes, { fetch, path: '/trusted-issuers' });
    await signInThroughForm(user);
    await user.click(await screen.findByRole('button', { name: `Actions for ${K8S.issuer}` }));
    await user.click(await screen.findByRole('menuitem', { name: 'Delete' }));
    await user.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Delete and revoke' }));
    expect(await screen.findByText(/last admin its last active credential/)).toBeInTheDocument();
  });
});
