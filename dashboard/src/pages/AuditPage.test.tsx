import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { routes } from '../App';
import { fill, headerOf, jsonResponse, mockFetch, renderRoutes } from '../test/utils';

const ADMIN_ID = '7d3e2c1b-4a5f-4e6d-8c9b-0a1b2c3d4e5f';
const AGENT = '0b7c6d1e-1111-4a2b-8c3d-123456789abc';

function event(i: number) {
  return {
    event_id: `e${i}`,
    occurred_at: new Date(Date.UTC(2026, 10, 28, 12, 0, 60 - i)).toISOString(),
    actor_id: ADMIN_ID,
    agent_id: AGENT,
    action: i % 2 ? 'token.issued' : 'agent.updated',
    target_type: 'agent',
    target_id: AGENT,
    outcome: 'success',
    ip: '127.0.0.1',
    user_agent: 'test',
    request_id: `r${i}`,
    details: { n: i },
  };
}

describe('audit page', () => {
  it('filters by agent from the URL, loads more with the cursor, hides verify on 404, exports with the token', async () => {
    const user = userEvent.setup({ delay: null });
    const createObjectURL = vi.fn(() => 'blob:x');
    Object.assign(URL, { createObjectURL, revokeObjectURL: vi.fn() });
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => {});
    const fetch = mockFetch({
      'POST /api/v1/token': () => jsonResponse(200, { access_token: 'tok-9', token_type: 'Bearer', expires_in: 3600, scope: 'audit:read' }),
      'GET /api/v1/audit': (url) => {
        expect(url.searchParams.get('agent_id')).toBe(AGENT);
        return url.searchParams.get('cursor') === 'p2'
          ? jsonResponse(200, { items: [event(3)], next_cursor: null })
          : jsonResponse(200, { items: [event(1), event(2)], next_cursor: 'p2' });
      },
      'GET /api/v1/audit/export': () => new Response('{"event_id":"e1"}\n', { status: 200, headers: { 'Content-Type': 'application/x-ndjson' } }),
      // no /api/v1/audit/verify: the mock answers 404
    });
    renderRoutes(routes, { fetch, path: `/audit?agent_id=${AGENT}` });
    await fill(user, await screen.findByLabelText(/client id/i), ADMIN_ID);
    await fill(user, screen.getByLabelText(/client secret/i), 'sk_live_x');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));

    expect(await screen.findByRole('heading', { name: 'Audit log' })).toBeInTheDocument();
    expect((screen.getByLabelText('Agent ID') as HTMLInputElement).value).toBe(AGENT);
    expect(await screen.findAllByRole('cell', { name: 'token.issued' })).toHaveLength(1);
    await user.click(screen.getByRole('button', { name: 'Load more' }));
    await waitFor(() => expect(screen.getAllByRole('cell', { name: 'token.issued' })).toHaveLength(2));
    expect(screen.queryByRole('button', { name: 'Load more' })).toBeNull();
    expect(screen.getByText(/3 events — end of the log/)).toBeInTheDocument();
    // The verify endpoint answered 404: no panel.
    expect(screen.queryByText(/audit chain/i)).toBeNull();

    await user.click(screen.getByRole('button', { name: 'Export NDJSON' }));
    await waitFor(() => expect(click).toHaveBeenCalled());
    const exportCall = fetch.mock.calls.find(([u]) => u.startsWith('/api/v1/audit/export'))!;
    expect(exportCall[0]).toBe(`/api/v1/audit/export?agent_id=${AGENT}`);
    expect(headerOf(exportCall[1], 'Authorization')).toBe('Bearer tok-9');
    expect(createObjectURL).toHaveBeenCalled();
    click.mockRestore();
  });

  it('shows a broken chain to an operator', async () => {
    const user = userEvent.setup({ delay: null });
    const fetch = mockFetch({
      'POST /api/v1/token': () =>
        jsonResponse(200, { access_token: 't', token_type: 'Bearer', expires_in: 3600, scope: 'audit:read orgs:admin' }),
      'GET /api/v1/orgs': () => jsonResponse(200, { items: [], next_cursor: null }),
      'GET /api/v1/audit': () => jsonResponse(200, { items: [], next_cursor: null }),
      'GET /api/v1/audit/verify': () => jsonResponse(200, { ok: false, checked: 40, first_bad_event_id: 'e17', reason: 'hash mismatch' }),
    });
    renderRoutes(routes, { fetch, path: '/audit' });
    await fill(user, await screen.findByLabelText(/client id/i), ADMIN_ID);
    await fill(user, screen.getByLabelText(/client secret/i), 'sk_live_x');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByText('Audit chain broken')).toBeInTheDocument();
    expect(screen.getByText('e17')).toBeInTheDocument();
    expect(screen.getByText('No events yet')).toBeInTheDocument();
  });

  it('does not verify the chain for a caller without orgs:admin (it needs it)', async () => {
    const user = userEvent.setup({ delay: null });
    const fetch = mockFetch({
      'POST /api/v1/token': () => jsonResponse(200, { access_token: 't', token_type: 'Bearer', expires_in: 3600, scope: 'audit:read' }),
      'GET /api/v1/audit': () => jsonResponse(200, { items: [], next_cursor: null }),
    });
    renderRoutes(routes, { fetch, path: '/audit' });
    await fill(user, await screen.findByLabelText(/client id/i), ADMIN_ID);
    await fill(user, screen.getByLabelText(/client secret/i), 'sk_live_x');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByText('No events yet')).toBeInTheDocument();
    expect(fetch.mock.calls.some(([u]) => u.startsWith('/api/v1/audit/verify'))).toBe(false);
    expect(screen.queryByText(/audit chain/i)).toBeNull();
  });
});
