import { describe, expect, it, vi } from 'vitest';
import { ApiClient, ApiError, buildQuery, collectPages, errorMessage, formEncode, OAuthError, requestToken } from '.';
import { headerOf, jsonResponse, mockFetch, problem } from '../test/utils';

const TOKEN = { access_token: 'eyJ.a.b', token_type: 'Bearer', expires_in: 3600, scope: 'agents:read keys:admin' };

describe('requestToken', () => {
  it('sends client_secret_basic with form-encoded credentials and no scope', async () => {
    const fetch = mockFetch({ 'POST /api/v1/token': () => jsonResponse(200, TOKEN) });
    const tok = await requestToken({ clientId: 'a b:c', clientSecret: 'sk_live_x+y/z=', fetch });
    expect(tok.access_token).toBe('eyJ.a.b');
    const [url, init] = fetch.mock.calls[0];
    expect(url).toBe('/api/v1/token');
    expect(init?.method).toBe('POST');
    expect(headerOf(init, 'Content-Type')).toBe('application/x-www-form-urlencoded');
    const auth = headerOf(init, 'Authorization')!;
    expect(auth.startsWith('Basic ')).toBe(true);
    // RFC 6749 §2.3.1: each part is form-encoded before base64.
    expect(atob(auth.slice(6))).toBe('a+b%3Ac:sk_live_x%2By%2Fz%3D');
    const body = new URLSearchParams(String(init?.body));
    expect(body.get('grant_type')).toBe('client_credentials');
    expect(body.has('scope')).toBe(false);
    expect(body.has('client_secret')).toBe(false);
  });

  it('sends client_secret_post in the form body', async () => {
    const fetch = mockFetch({ 'POST /api/v1/token': () => jsonResponse(200, TOKEN) });
    await requestToken({ clientId: 'id-1', clientSecret: 'sk_live_s&e=c', method: 'client_secret_post', fetch });
    const init = fetch.mock.calls[0][1];
    expect(headerOf(init, 'Authorization')).toBeNull();
    const body = new URLSearchParams(String(init?.body));
    expect(body.get('grant_type')).toBe('client_credentials');
    expect(body.get('client_id')).toBe('id-1');
    expect(body.get('client_secret')).toBe('sk_live_s&e=c');
    expect(body.has('scope')).toBe(false);
  });

  it('turns an OAuth error into a readable OAuthError', async () => {
    const fetch = mockFetch({
      'POST /api/v1/token': () => jsonResponse(401, { error: 'invalid_client', error_description: 'client authentication failed' }),
    });
    const err = await requestToken({ clientId: 'x', clientSecret: 'y', fetch }).catch((e) => e);
    expect(err).toBeInstanceOf(OAuthError);
    expect(err.error).toBe('invalid_client');
    expect(err.status).toBe(401);
    expect(errorMessage(err)).toBe('client authentication failed');
  });

  it('describes an OAuth error without a description and reads Retry-After', async () => {
    const fetch = mockFetch({
      'POST /api/v1/token': () => jsonResponse(429, { error: 'quota_exceeded' }, { 'Retry-After': '120' }),
    });
    const err = (await requestToken({ clientId: 'x', clientSecret: 'y', fetch }).catch((e) => e)) as OAuthError;
    expect(err.message).toMatch(/quota/i);
    expect(err.retryAfter).toBe(120);
  });

  it('formEncode follows application/x-www-form-urlencoded', () => {
    expect(formEncode('a b+c/~*')).toBe('a+b%2Bc%2F%7E*');
  });
});

describe('ApiClient', () => {
  function client(routes: Parameters<typeof mockFetch>[0], token: string | null = 'tok-123') {
    const fetch = mockFetch(routes);
    const onUnauthorized = vi.fn();
    const api = new ApiClient({ fetch, getToken: () => token, onUnauthorized });
    return { api, fetch, onUnauthorized };
  }

  it('sends the bearer token and JSON body', async () => {
    const agent = { agent_id: 'a1', name: 'bot' };
    const { api, fetch } = client({ 'POST /api/v1/agents': () => jsonResponse(201, agent) });
    const got = await api.createAgent({ name: 'bot', allowed_scopes: ['agents:read'] });
    expect(got).toEqual(agent);
    const init = fetch.mock.calls[0][1];
    expect(headerOf(init, 'Authorization')).toBe('Bearer tok-123');
    expect(headerOf(init, 'Content-Type')).toBe('application/json');
    expect(JSON.parse(String(init?.body))).toEqual({ name: 'bot', allowed_scopes: ['agents:read'] });
  });

  it('parses problem+json with per-field errors', async () => {
    const { api } = client({
      'PATCH /api/v1/agents/a1': () =>
        problem(400, 'validation_failed', 'The request has invalid fields.', [{ field: 'name', message: 'must be 1-128 characters' }]),
    });
    const err = (await api.updateAgent('a1', { name: '' }).catch((e) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(400);
    expect(err.code).toBe('validation_failed');
    expect(err.detail).toBe('The request has invalid fields.');
    expect(err.fieldErrors).toEqual([{ field: 'name', message: 'must be 1-128 characters' }]);
    expect(err.requestId).toBe('req-1');
    expect(errorMessage(err)).toBe('The request has invalid fields.');
  });

  it('handles a non-JSON error body', async () => {
    const { api } = client({
      'GET /api/v1/agents/a1': () => new Response('upstream down', { status: 502, statusText: 'Bad Gateway' }),
    });
    const err = (await api.getAgent('a1').catch((e) => e)) as ApiError;
    expect(err.status).toBe(502);
    expect(errorMessage(err)).toBe('upstream down');
  });

  it('calls onUnauthorized on a 401', async () => {
    const { api, onUnauthorized } = client({
      'GET /api/v1/agents': () => new Response(null, { status: 401, headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' } }),
    });
    await expect(api.listAgents()).rejects.toBeInstanceOf(ApiError);
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
  });

  it('does not call onUnauthorized on a 403', async () => {
    const { api, onUnauthorized } = client({
      'GET /api/v1/keys': () => problem(403, 'insufficient_scope', 'The token lacks keys:admin.'),
    });
    await expect(api.listKeys()).rejects.toMatchObject({ status: 403, code: 'insufficient_scope' });
    expect(onUnauthorized).not.toHaveBeenCalled();
  });

  it('passes filters, limit and cursor, leaving out empty ones', async () => {
    const { api, fetch } = client({
      'GET /api/v1/agents': (url) =>
        jsonResponse(200, { items: [{ agent_id: url.searchParams.get('cursor') ?? 'first' }], next_cursor: 'c2' }),
    });
    const page1 = await api.listAgents({ q: 'bot', status: '', owner: undefined, limit: 20 });
    expect(page1.next_cursor).toBe('c2');
    expect(fetch.mock.calls[0][0]).toBe('/api/v1/agents?q=bot&limit=20');
    const page2 = await api.listAgents({ q: 'bot', limit: 20, cursor: page1.next_cursor });
    expect(page2.items[0].agent_id).toBe('c2');
    expect(fetch.mock.calls[1][0]).toBe('/api/v1/agents?q=bot&limit=20&cursor=c2');
  });

  it('encodes audit filters', async () => {
    const { api, fetch } = client({ 'GET /api/v1/audit': () => jsonResponse(200, { items: [], next_cursor: null }) });
    const page = await api.listAudit({ agent_id: 'a1', action: 'agent.created', outcome: 'success', from: '2026-11-01T00:00:00Z', limit: 50 });
    expect(page.next_cursor).toBeNull();
    const url = new URL(fetch.mock.calls[0][0], 'http://x');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      agent_id: 'a1',
      action: 'agent.created',
      outcome: 'success',
      from: '2026-11-01T00:00:00Z',
      limit: '50',
    });
  });

  it('escapes path segments', async () => {
    const { api, fetch } = client({});
    await api.getAgent('../keys').catch(() => undefined);
    expect(fetch.mock.calls[0][0]).toBe('/api/v1/agents/..%2Fkeys');
  });

  it('rotates with a grace period and revokes with DELETE', async () => {
    const issued = { client_id: 'a1', client_secret: 'sk_live_new', credential_id: 'c2', expires_at: null };
    const { api, fetch } = client({
      'POST /api/v1/agents/a1/credentials/c1/rotate': () => jsonResponse(201, issued),
      'DELETE /api/v1/agents/a1/credentials/c2': () => new Response(null, { status: 204 }),
      'DELETE /api/v1/agents/a1': () => new Response(null, { status: 204 }),
    });
    expect(await api.rotateCredential('a1', 'c1', 300)).toEqual(issued);
    expect(JSON.parse(String(fetch.mock.calls[0][1]?.body))).toEqual({ grace_period_seconds: 300 });
    await expect(api.revokeCredential('a1', 'c2')).resolves.toBeUndefined();
    await expect(api.decommissionAgent('a1')).resolves.toBeUndefined();
    expect(fetch.mock.calls[2][1]?.method).toBe('DELETE');
  });

  it('exports audit NDJSON as a blob with the bearer header', async () => {
    const ndjson = '{"event_id":"e1"}\n{"event_id":"e2"}\n';
    const { api, fetch } = client({
      'GET /api/v1/audit/export': () =>
        new Response(ndjson, {
          status: 200,
          headers: { 'Content-Type': 'application/x-ndjson', 'Content-Disposition': 'attachment; filename="audit-2026.ndjson"' },
        }),
    });
    const { blob, filename } = await api.exportAudit({ agent_id: 'a1', outcome: '' });
    expect(await blob.text()).toBe(ndjson);
    expect(filename).toBe('audit-2026.ndjson');
    const [url, init] = fetch.mock.calls[0];
    expect(url).toBe('/api/v1/audit/export?agent_id=a1');
    expect(headerOf(init, 'Authorization')).toBe('Bearer tok-123');
    expect(headerOf(init, 'Accept')).toBe('application/x-ndjson');
  });

  it('names the export when the server gives no file name', async () => {
    const { api } = client({ 'GET /api/v1/audit/export': () => new Response('', { status: 200 }) });
    const { filename } = await api.exportAudit();
    expect(filename).toMatch(/^agentidp-audit-.*\.ndjson$/);
  });

  it('verifyAudit answers null on 404 and the result otherwise', async () => {
    const none = client({});
    expect(await none.api.verifyAudit()).toBeNull();
    const ok = client({
      'GET /api/v1/audit/verify': () => jsonResponse(200, { ok: false, checked: 12, first_bad_event_id: 'e7', reason: 'hash mismatch' }),
    });
    expect(await ok.api.verifyAudit()).toEqual({ ok: false, checked: 12, first_bad_event_id: 'e7', reason: 'hash mismatch' });
  });

  it('sends no Authorization header without a token', async () => {
    const { api, fetch } = client({ 'GET /api/v1/usage': () => jsonResponse(200, { months: [], days: [] }) }, null);
    await api.usage();
    expect(headerOf(fetch.mock.calls[0][1], 'Authorization')).toBeNull();
  });

  it('buildQuery omits empty values', () => {
    expect(buildQuery({ a: '', b: undefined, c: null, d: 0, e: 'x y' })).toBe('?d=0&e=x+y');
    expect(buildQuery({})).toBe('');
  });

  it('narrows lists and usage by org_id', async () => {
    const empty = () => jsonResponse(200, { items: [], next_cursor: null });
    const { api, fetch } = client({
      'GET /api/v1/agents': empty,
      'GET /api/v1/audit': empty,
      'GET /api/v1/apis': empty,
      'GET /api/v1/usage': () => jsonResponse(200, { months: [], days: [] }),
    });
    await api.listAgents({ org_id: 'o1', limit: 20 });
    await api.listAudit({ org_id: 'o1' });
    await api.listApis({ org_id: 'o1', limit: 200 });
    await api.usage(undefined, 'o1');
    await api.usage();
    expect(fetch.mock.calls.map(([u]) => u)).toEqual([
      '/api/v1/agents?org_id=o1&limit=20',
      '/api/v1/audit?org_id=o1',
      '/api/v1/apis?org_id=o1&limit=200',
      '/api/v1/usage?org_id=o1',
      '/api/v1/usage',
    ]);
  });

  it('calls the organization routes', async () => {
    const o = { org_id: 'o1', name: 'team-a' };
    const { api, fetch } = client({
      'POST /api/v1/orgs': () => jsonResponse(201, { org: o, admin: { client_id: 'a', client_secret: 's' } }),
      'GET /api/v1/orgs': () => jsonResponse(200, { items: [o], next_cursor: null }),
      'GET /api/v1/orgs/o1': () => jsonResponse(200, o),
      'PATCH /api/v1/orgs/o1': () => jsonResponse(200, o),
      'POST /api/v1/orgs/o1/suspend': () => jsonResponse(200, o),
      'POST /api/v1/orgs/o1/reactivate': () => jsonResponse(200, o),
    });
    expect((await api.createOrg({ name: 'team-a', max_agents: 3 })).admin.client_secret).toBe('s');
    expect(JSON.parse(String(fetch.mock.calls[0][1]?.body))).toEqual({ name: 'team-a', max_agents: 3 });
    await api.listOrgs({ q: 'te', status: 'active', limit: 200 });
    expect(fetch.mock.calls[1][0]).toBe('/api/v1/orgs?q=te&status=active&limit=200');
    await api.getOrg('o1');
    await api.updateOrg('o1', { metadata: {} });
    expect(JSON.parse(String(fetch.mock.calls[3][1]?.body))).toEqual({ metadata: {} });
    await api.suspendOrg('o1');
    await api.reactivateOrg('o1');
    expect(fetch.mock.calls.map(([u, i]) => `${i?.method} ${u}`).slice(2)).toEqual([
      'GET /api/v1/orgs/o1',
      'PATCH /api/v1/orgs/o1',
      'POST /api/v1/orgs/o1/suspend',
      'POST /api/v1/orgs/o1/reactivate',
    ]);
  });

  it('calls the API routes', async () => {
    const a = { api_id: 'p1', identifier: 'https://b.example.com' };
    const { api, fetch } = client({
      'POST /api/v1/apis': () => jsonResponse(201, a),
      'GET /api/v1/apis/p1': () => jsonResponse(200, a),
      'PATCH /api/v1/apis/p1': () => jsonResponse(200, a),
      'DELETE /api/v1/apis/p1': () => new Response(null, { status: 204 }),
      'GET /api/v1/apis/p1/resource-metadata': () => jsonResponse(200, { resource: a.identifier }),
    });
    await api.createApi({ identifier: a.identifier, name: 'B', scopes: [{ value: 's', description: '' }] });
    await api.getApi('p1');
    await api.updateApi('p1', { token_ttl_seconds: null, require_dpop: true });
    expect(JSON.parse(String(fetch.mock.calls[2][1]?.body))).toEqual({ token_ttl_seconds: null, require_dpop: true });
    await expect(api.deleteApi('p1')).resolves.toBeUndefined();
    expect((await api.apiResourceMetadata('p1')).resource).toBe(a.identifier);
    expect(fetch.mock.calls.map(([u, i]) => `${i?.method} ${u}`)).toEqual([
      'POST /api/v1/apis',
      'GET /api/v1/apis/p1',
      'PATCH /api/v1/apis/p1',
      'DELETE /api/v1/apis/p1',
      'GET /api/v1/apis/p1/resource-metadata',
    ]);
  });
});

describe('collectPages', () => {
  it('follows next_cursor up to a bound and says whether more were left', async () => {
    const pages: Record<string, { items: number[]; next_cursor: string | null }> = {
      '': { items: [1, 2], next_cursor: 'b' },
      b: { items: [3], next_cursor: 'c' },
      c: { items: [4], next_cursor: null },
    };
    const seen: (string | null)[] = [];
    const fetchPage = async (c: string | null) => {
      seen.push(c);
      return pages[c ?? ''];
    };
    expect(await collectPages(fetchPage)).toEqual({ items: [1, 2, 3, 4], truncated: false });
    expect(seen).toEqual([null, 'b', 'c']);
    expect(await collectPages(fetchPage, 2)).toEqual({ items: [1, 2, 3], truncated: true });
  });
});
