import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../api';
import { renderWithProviders } from '../test/utils';
import { AuditTable } from './AuditTable';

const A = '0193a000-0000-7000-8000-00000000000a';
const B = '0193a000-0000-7000-8000-00000000000b';
const C = '0193a000-0000-7000-8000-00000000000c';

function event(id: string, action: string, details: unknown): AuditEvent {
  return {
    event_id: id,
    occurred_at: '2026-12-06T10:00:00Z',
    actor_id: A,
    agent_id: A,
    action,
    target_type: 'token',
    target_id: 'f67a4d2f-7c85-47e8-a9b3-130765f34f50',
    outcome: 'success',
    ip: '127.0.0.1',
    user_agent: 'test',
    request_id: `r-${id}`,
    details,
  };
}

describe('audit table', () => {
  it("shows a token.exchanged chain and a delegated caller's actor_chain, each agent linking to its page; none for a plain event", async () => {
    const user = userEvent.setup({ delay: null });
    renderWithProviders(
      <AuditTable
        events={[
          event('e1', 'token.exchanged', { subject: A, actor: C, chain: [A, B, C] }),
          event('e2', 'token.revoked', { via: 'bearer', actor_chain: [A, B, C] }),
          event('e3', 'token.revoked', { via: 'bearer' }),
        ]}
      />,
    );
    const toggles = await screen.findAllByRole('button', { name: /Show details of token\./ });
    for (const t of toggles) await user.click(t);

    const links = (g: HTMLElement) => within(g).getAllByRole('link').map((a) => a.getAttribute('href'));
    const exchanged = screen.getByRole('group', { name: 'Delegation chain' });
    expect(links(exchanged)).toEqual([`/agents/${A}`, `/agents/${B}`, `/agents/${C}`]);
    expect(exchanged).toHaveTextContent('Delegation chain:0193a000…→0193a000…→0193a000…');
    const actor = screen.getByRole('group', { name: 'Actor (delegated)' });
    expect(links(actor)).toEqual([`/agents/${A}`, `/agents/${B}`, `/agents/${C}`]);
    // One of each: the plain event names no chain.
    expect(screen.getAllByRole('group', { name: /Delegation chain|Actor \(delegated\)/ })).toHaveLength(2);
  });
});
