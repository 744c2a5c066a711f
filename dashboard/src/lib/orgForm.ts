import type { Org, OrgCreate, OrgPatch } from '../api';
import { formatMetadata, validateMetadata } from './metadata';

export const ORG_NAME_MAX = 128;
export const MAX_AGENTS_MAX = 2147483647;

export interface OrgFormValues {
  name: string;
  /** '' on create: the server's default (AGENTIDP_FREE_TIER_MAX_AGENTS). */
  max_agents: number | '';
  metadata: string;
}

export function orgToValues(o: Org | null): OrgFormValues {
  return {
    name: o?.name ?? '',
    max_agents: o ? o.max_agents : '',
    metadata: formatMetadata(o?.metadata ?? {}),
  };
}

export function validateOrgName(v: string): string | null {
  const t = v.trim();
  if (!t) return 'Name is required';
  if ([...t].length > ORG_NAME_MAX) return `At most ${ORG_NAME_MAX} characters`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(t)) return 'No control characters';
  return null;
}

export function validateMaxAgents(v: number | string, required: boolean): string | null {
  if (v === '' || v === undefined || v === null) return required ? 'A number from 0 to 2147483647' : null;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isInteger(n) && n >= 0 && n <= MAX_AGENTS_MAX ? null : 'A whole number from 0 to 2147483647';
}

/** The request body: the filled fields on create, only the changed ones on edit. */
export function orgValuesToPayload(v: OrgFormValues, initial: Org | null): OrgCreate | OrgPatch {
  const meta = validateMetadata(v.metadata);
  const metadata = meta.ok ? meta.value : {};
  const name = v.name.trim();
  if (!initial) {
    const body: OrgCreate = { name };
    if (v.max_agents !== '') body.max_agents = Number(v.max_agents);
    if (Object.keys(metadata).length) body.metadata = metadata;
    return body;
  }
  const patch: OrgPatch = {};
  if (name !== initial.name) patch.name = name;
  if (v.max_agents !== '' && Number(v.max_agents) !== initial.max_agents) patch.max_agents = Number(v.max_agents);
  if (JSON.stringify(metadata) !== JSON.stringify(initial.metadata ?? {})) patch.metadata = metadata;
  return patch;
}
