import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { routes } from '../App';
import { headerOf, jsonResponse, mockFetch, renderRoutes, fill } from '../test/utils';

const ADMIN_ID = '7d3e2c1b-4a5f-4e6d-8c9b-0a1b2c3d4e5f';
const SECRET = 'sk_live_0123456789abcdefghijABCDEFGHIJ_-klmnopq';

const USAGE = {
  months: [{ month: new Date().toISOString().slice(0, 7), tokens_issued: 42, limit: null, remaining: null }],
  days: [],
  agents_by_status: { active: 3, suspended: 1, decommissioned: 2 },
};

function api(scope = 'agents:read agents:write usage:read audit:read') {
  return mockFetch({
    'POST /api/v1/token': (_url, init) => {
      const auth = headerOf(init, 'Authorization') ?? '';
      const [id, secret] = atob(auth.replace('Basic ', '')).split(':');
      if (id === ADMIN_ID && decodeURIComponent(secret) === SECRET) {
        return jsonResponse(200, { access_token: 'tok-1', token_type: 'Bearer', expires_in: 3600, scope });
      }
      return jsonResponse(401, { error: 'invalid_client', error_description: 'Client authentication failed.' });
    },
    'GET /api/v1/usage': (_url, init) =>
      headerOf(init, 'Authorization') === 'Bearer tok-1' ? jsonResponse(200, USAGE) : new Response(null, { status: 401 }),
  });
}

describe('sign-in', () => {
  it('redirects to sign-in, validates, and shows the OAuth error description', async () => {
    const user = userEvent.setup({ delay: null });
    const fetch = api();
    renderRoutes(routes, { fetch, path: '/agents' });
    expect(await screen.findByRole('form', { name: 'Sign in' })).toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByText('Client ID is required')).toBeInTheDocument();
    expect(screen.getByText('Client secret is required')).toBeInTheDocument();
    expect(fetch).not.toHaveBeenCalled();

    await fill(user, screen.getByLabelText(/client id/i), 'not-a-uuid');
    await fill(user, screen.getByLabelText(/client secret/i), 'nope');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByText('The client ID is a UUID')).toBeInTheDocument();

    await user.clear(screen.getByLabelText(/client id/i));
    await fill(user, screen.getByLabelText(/client id/i), ADMIN_ID);
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByText('Client authentication failed.')).toBeInTheDocument();
    // The wrong secret is cleared from the field.
    expect((screen.getByLabelText(/client secret/i) as HTMLInputElement).value).toBe('');
  });

  it('signs in, lands on the page asked for, keeps nothing in web storage, and signs out', async () => {
    const user = userEvent.setup({ delay: null });
    const fetch = api();
    const { router } = renderRoutes(routes, { fetch, path: '/' });
    await fill(user, await screen.findByLabelText(/client id/i), ADMIN_ID);
    await fill(user, screen.getByLabelText(/client secret/i), SECRET);
    await user.click(screen.getByRole('button', { name: 'Sign in' }));

    expect(await screen.findByText('6 in total')).toBeInTheDocument(); // 3 + 1 + 2 agents
    expect(screen.getAllByText('42').length).toBeGreaterThan(0); // tokens this month
    expect(router.state.location.pathname).toBe('/');
    expect(headerOf(fetch.mock.calls[1][1], 'Authorization')).toBe('Bearer tok-1');
    expect(localStorage.length).toBe(0);
    expect(sessionStorage.length).toBe(0);
    expect(document.body.innerHTML).not.toContain(SECRET);

    // No keys:admin in the scope: the Keys page is not offered.
    expect(screen.queryByRole('link', { name: /signing keys/i })).toBeNull();
    expect(screen.getByRole('link', { name: /agents/i })).toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: /sign out/i }));
    expect(await screen.findByRole('form', { name: 'Sign in' })).toBeInTheDocument();
    expect((screen.getByLabelText(/client secret/i) as HTMLInputElement).value).toBe('');
  });

  it('offers the Keys page when the token has keys:admin', async () => {
    const user = userEvent.setup({ delay: null });
    renderRoutes(routes, { fetch: api('usage:read keys:admin'), path: '/' });
    await fill(user, await screen.findByLabelText(/client id/i), ADMIN_ID);
    await fill(user, screen.getByLabelText(/client secret/i), SECRET);
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('link', { name: /signing keys/i })).toBeInTheDocument();
  });

  it('asks to sign in again after a 401', async () => {
    const user = userEvent.setup({ delay: null });
    let revoked = false;
    const base = api();
    const fetch = mockFetch({
      'POST /api/v1/token': (url, init) => base(url.pathname, init),
      'GET /api/v1/usage': (url, init) => (revoked ? new Response(null, { status: 401 }) : base(url.pathname, init)),
      'GET /api/v1/agents': () => new Response(null, { status: 401 }),
    });
    const { router } = renderRoutes(routes, { fetch, path: '/' });
    await fill(user, await screen.findByLabelText(/client id/i), ADMIN_ID);
    await fill(user, screen.getByLabelText(/client secret/i), SECRET);
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByText('6 in total')).toBeInTheDocument();
    revoked = true;
    await user.click(screen.getByRole('link', { name: /agents/i }));
    expect(await screen.findByText(/no longer accepts your token/i)).toBeInTheDocument();
    await waitFor(() => expect(router.state.location.pathname).toBe('/signin'));
  });
});
