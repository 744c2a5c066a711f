/**
 * The delegation chains an audit event names (docs/api.md, "Token exchange"): a
 * `token.exchanged` event's `details.chain` (the subject first, the new actor last), and
 * `details.actor_chain` on any event made with a delegated token (its subject, the event's
 * actor, first, the token's holder last). Only arrays of two or more strings count; anything
 * else in the details is ignored.
 */
export interface DelegationChain {
  label: string;
  ids: string[];
}

function chainAt(details: unknown, key: string): string[] | null {
  if (!details || typeof details !== 'object' || Array.isArray(details)) return null;
  const v = (details as Record<string, unknown>)[key];
  if (!Array.isArray(v) || v.length < 2 || !v.every((x) => typeof x === 'string' && x !== '')) return null;
  return v as string[];
}

export function delegationChains(e: { action: string; details: unknown }): DelegationChain[] {
  const out: DelegationChain[] = [];
  const exchanged = e.action === 'token.exchanged' ? chainAt(e.details, 'chain') : null;
  if (exchanged) out.push({ label: 'Delegation chain', ids: exchanged });
  const actor = chainAt(e.details, 'actor_chain');
  if (actor) out.push({ label: 'Actor (delegated)', ids: actor });
  return out;
}
