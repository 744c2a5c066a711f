import { describe, expect, it } from 'vitest';
import { delegationChains } from './auditChain';

const A = '0193a000-0000-7000-8000-00000000000a';
const B = '0193a000-0000-7000-8000-00000000000b';
const C = '0193a000-0000-7000-8000-00000000000c';

describe('delegationChains', () => {
  it("reads token.exchanged's chain and any event's actor_chain, in order", () => {
    expect(delegationChains({ action: 'token.exchanged', details: { chain: [A, B, C], subject: A } })).toEqual([
      { label: 'Delegation chain', ids: [A, B, C] },
    ]);
    expect(delegationChains({ action: 'token.revoked', details: { actor_chain: [A, C], via: 'bearer' } })).toEqual([
      { label: 'Actor (delegated)', ids: [A, C] },
    ]);
    expect(delegationChains({ action: 'token.exchanged', details: { chain: [A, B], actor_chain: [A, C] } })).toHaveLength(2);
  });

  it('ignores anything else', () => {
    expect(delegationChains({ action: 'token.revoked', details: { chain: [A, B] } })).toEqual([]);
    for (const bad of [null, 'x', A, [A], [A, 1], [A, ''], {}]) {
      expect(delegationChains({ action: 'token.exchanged', details: { chain: bad, actor_chain: bad } })).toEqual([]);
    }
    for (const details of [null, 'x', [A, B], {}]) {
      expect(delegationChains({ action: 'token.exchanged', details })).toEqual([]);
    }
  });
});
