import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it } from 'vitest';
import { routes } from '../App';
import { PINNED_KEY_STORAGE } from '../lib/checkpointTrust';
import { keyHash, keyHashHex } from '../lib/signedNote';
import { fill, jsonResponse, mockFetch, renderRoutes } from '../test/utils';

const ADMIN_ID = '7d3e2c1b-4a5f-4e6d-8c9b-0a1b2c3d4e5f';

// A checkpoint of two audit events signed by note.Sign (golang.org/x/mod v0.43.0) with the
// key AUDIT (the Go program is described in lib/signedNote.test.ts): the events' chain hashes
// are SHA-256("event 1") and SHA-256("event 2"); the inclusion proof of the first is the
// second's leaf hash.
const AUDIT = 'idp.example/audit+8a6ef0a3+AfRKHLFprDRiZgAfB7VGfnZZGQGef/VO6XCqzJ+kBE5O';
const NOTE =
  'idp.example/audit\n2\nfRyF4sWA+DEawiyg0/UpTTjmwDMbLK29zf9uGMwRwWs=\n\n' +
  '— idp.example/audit im7wo2gjCGVBEleLQQOm9bFYgIcdukRKtagoSQWUyVwUTTYsVtOSgGnfYN+9ox7yTxRFe/S5x0iJjgyJmuDoofRR4Ag=\n';
const E1 = 'fb378474af5953bec611fcb2602c5b61271c1f233b60c0adba76d5d6f47a50c4';
const PROOF1 = 'hEoynr6HUcf++mpGysB25pQBrVsE+N3QFtI+Si2OEOc=';
const PETER = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';

const event = {
  event_id: 'e1',
  seq: 1,
  occurred_at: '2026-12-06T10:00:00Z',
  actor_id: ADMIN_ID,
  agent_id: ADMIN_ID,
  action: 'agent.created',
  target_type: 'agent',
  target_id: ADMIN_ID,
  outcome: 'success',
  ip: '127.0.0.1',
  user_agent: 'test',
  request_id: 'r1',
  details: {},
  hash: E1,
};

/** A well-formed key named like the log's origin but holding another Ed25519 key. */
async function otherKeySameName(): Promise<string> {
  const k = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  const raw = new Uint8Array([1, ...new Uint8Array(await crypto.subtle.exportKey('raw', k.publicKey))]);
  return `idp.example/audit+${keyHashHex(await keyHash('idp.example/audit', raw))}+${btoa(String.fromCharCode(...raw))}`;
}

function server(note = NOTE) {
  return mockFetch({
    'POST /api/v1/token': () => jsonResponse(200, { access_token: 't', token_type: 'Bearer', expires_in: 3600, scope: 'audit:read' }),
    'GET /api/v1/audit': () => jsonResponse(200, { items: [event], next_cursor: null }),
    'GET /api/v1/audit/checkpoint': () =>
      new Response(note, { status: 200, headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Last-Modified': 'Sun, 06 Dec 2026 10:00:05 GMT' } }),
    'GET /api/v1/audit/checkpoint/key': () => new Response(AUDIT + '\n', { status: 200, headers: { 'Content-Type': 'text/plain' } }),
    'GET /api/v1/audit/proof/inclusion': (url) => {
      expect(url.searchParams.get('seq')).toBe('1');
      expect(url.searchParams.get('tree_size')).toBe('2');
      return jsonResponse(200, { leaf_index: 0, tree_size: 2, hashes: [PROOF1] });
    },
  });
}

async function signIn(fetch: ReturnType<typeof server>) {
  const user = userEvent.setup({ delay: null });
  renderRoutes(routes, { fetch, path: '/audit' });
  await fill(user, await screen.findByLabelText(/client id/i), ADMIN_ID);
  await fill(user, screen.getByLabelText(/client secret/i), 'sk_live_x');
  await user.click(screen.getByRole('button', { name: 'Sign in' }));
  await screen.findByRole('heading', { name: 'Audit log' });
  return user;
}

async function verifyInclusion(user: ReturnType<typeof userEvent.setup>): Promise<HTMLElement> {
  const toggle = screen.queryByRole('button', { name: /Show details of agent\.created/ });
  if (toggle) await user.click(toggle);
  await user.click(screen.getByRole('button', { name: 'Verify inclusion' }));
  return screen.findByTestId('inclusion-result');
}

async function pin(user: ReturnType<typeof userEvent.setup>, key: string) {
  await user.clear(screen.getByLabelText('Audit verifier key to pin'));
  await fill(user, screen.getByLabelText('Audit verifier key to pin'), key);
  await user.click(screen.getByRole('button', { name: 'Pin key' }));
}

const calls = (fetch: ReturnType<typeof server>, path: string) => fetch.mock.calls.filter(([u]) => u.split('?')[0] === path).length;

describe('audit checkpoint signature', () => {
  beforeEach(() => localStorage.clear());

  it("verifies with the server's key when none is pinned; inclusion uses the verified root and names the key", async () => {
    const fetch = server();
    const user = await signIn(fetch);
    const panel = screen.getByTestId('audit-checkpoint');
    expect(await within(panel).findByText("Signature verified only with the key the server serves")).toBeInTheDocument();
    expect(panel).toHaveTextContent('Latest checkpoint (idp.example/audit): 2 events');
    expect(panel).toHaveTextContent('idp.example/audit+8a6ef0a3');
    expect(panel).toHaveTextContent('pin a key to remove server trust');

    const result = await verifyInclusion(user);
    await waitFor(() => expect(result).toHaveTextContent("whose signature verified with the server's key (not pinned) idp.example/audit+8a6ef0a3"));
    expect(result).toHaveTextContent('Included in the checkpoint of 2 events');
  });

  it('verifies with a pinned key, without asking for the server\'s, until it is unpinned', async () => {
    const fetch = server();
    const user = await signIn(fetch);
    const panel = screen.getByTestId('audit-checkpoint');
    await within(panel).findByText('Signature verified only with the key the server serves');
    await pin(user, ` ${AUDIT} `);
    expect(await within(panel).findByText('Signature verified with your pinned key')).toBeInTheDocument();
    expect(screen.getByTestId('pinned-key')).toHaveTextContent(AUDIT);
    expect(localStorage.getItem(PINNED_KEY_STORAGE)).toBe(AUDIT);
    const keyFetches = calls(fetch, '/api/v1/audit/checkpoint/key');
    const result = await verifyInclusion(user);
    await waitFor(() => expect(result).toHaveTextContent('whose signature verified with your pinned key idp.example/audit+8a6ef0a3'));
    // With a key pinned, the server's key is not asked for.
    expect(calls(fetch, '/api/v1/audit/checkpoint/key')).toBe(keyFetches);

    await user.click(screen.getByRole('button', { name: 'Unpin key' }));
    expect(await within(panel).findByText("Signature verified only with the key the server serves")).toBeInTheDocument();
    expect(localStorage.getItem(PINNED_KEY_STORAGE)).toBeNull();
  });

  it("shows a failure for a pinned key of another name or another key, and checks no inclusion against it", async () => {
    localStorage.setItem(PINNED_KEY_STORAGE, PETER);
    const fetch = server();
    const user = await signIn(fetch);
    const panel = screen.getByTestId('audit-checkpoint');
    const alert = await within(panel).findByRole('alert');
    expect(alert).toHaveTextContent('Checkpoint signature not verified');
    expect(alert).toHaveTextContent("Your pinned key is named PeterNeumann, not the checkpoint's origin idp.example/audit");
    const result = await verifyInclusion(user);
    await waitFor(() => expect(result).toHaveTextContent('Your pinned key is named PeterNeumann'));
    expect(calls(fetch, '/api/v1/audit/proof/inclusion')).toBe(0);

    await user.click(screen.getByRole('button', { name: 'Unpin key' }));
    const other = await otherKeySameName();
    await pin(user, other);
    await waitFor(() =>
      expect(within(panel).getByRole('alert')).toHaveTextContent(`Checked with your pinned key: The note carries no signature by the key ${other.split('+').slice(0, 2).join('+')}`),
    );
  });

  it("shows a failure when the checkpoint does not verify with the server's own key", async () => {
    const fetch = server(NOTE.replace('\n2\n', '\n3\n'));
    const user = await signIn(fetch);
    const alert = await within(screen.getByTestId('audit-checkpoint')).findByRole('alert');
    expect(alert).toHaveTextContent("Checked with the server's key: The signature by idp.example/audit+8a6ef0a3 does not verify");
    const result = await verifyInclusion(user);
    await waitFor(() => expect(result).toHaveTextContent('does not verify'));
    expect(calls(fetch, '/api/v1/audit/proof/inclusion')).toBe(0);
  });

  it('refuses to pin a malformed key and stores nothing', async () => {
    const fetch = server();
    const user = await signIn(fetch);
    await pin(user, AUDIT.replace('8a6ef0a3', '8a6ef0a4'));
    expect(await screen.findByText(/key hash does not match/)).toBeInTheDocument();
    await pin(user, 'not a key');
    expect(await screen.findByText(/three parts/)).toBeInTheDocument();
    expect(localStorage.getItem(PINNED_KEY_STORAGE)).toBeNull();
    expect(screen.queryByTestId('pinned-key')).toBeNull();
  });
});
