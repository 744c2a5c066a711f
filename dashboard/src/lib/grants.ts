import type { Api, Grant } from '../api';

/** The APIs an agent can be granted: its organization's registered ones (not the built-in one). */
export function grantableApis(apis: readonly Api[]): Api[] {
  return apis.filter((a) => !a.builtin);
}

/** The APIs not yet in the draft, for "add a grant". */
export function apisNotGranted(apis: readonly Api[], draft: readonly Grant[]): Api[] {
  const taken = new Set(draft.map((g) => g.audience));
  return grantableApis(apis).filter((a) => !taken.has(a.identifier));
}

export function addGrant(draft: readonly Grant[], api: Api): Grant[] {
  if (draft.some((g) => g.audience === api.identifier)) return [...draft];
  return [...draft, { audience: api.identifier, scopes: [] }];
}

export function removeGrant(draft: readonly Grant[], audience: string): Grant[] {
  return draft.filter((g) => g.audience !== audience);
}

/**
 * Sets the scopes of one grant, in the order the API defines them (scopes it does not
 * define, if any, are kept last so that the server can name them).
 */
export function setGrantScopes(draft: readonly Grant[], audience: string, scopes: readonly string[], api?: Api): Grant[] {
  const order = api ? api.scopes.map((s) => s.value) : [];
  const wanted = new Set(scopes);
  const sorted = [...order.filter((s) => wanted.has(s)), ...scopes.filter((s) => !order.includes(s))];
  return draft.map((g) => (g.audience === audience ? { audience, scopes: [...new Set(sorted)] } : g));
}

/** Same grants, whatever the order of grants and of their scopes. */
export function sameGrants(a: readonly Grant[], b: readonly Grant[]): boolean {
  if (a.length !== b.length) return false;
  const key = (g: Grant) => `${g.audience}\n${[...g.scopes].sort().join(' ')}`;
  const ka = a.map(key).sort();
  const kb = b.map(key).sort();
  return ka.every((k, i) => k === kb[i]);
}

/** A copy of an agent's grants to edit. */
export function draftOf(grants: readonly Grant[] | undefined): Grant[] {
  return (grants ?? []).map((g) => ({ audience: g.audience, scopes: [...g.scopes] }));
}

/** The API a grant is on, by its identifier (grants are answered with audiences as registered). */
export function apiOfGrant(apis: readonly Api[], g: Grant): Api | undefined {
  return apis.find((a) => a.identifier === g.audience);
}
