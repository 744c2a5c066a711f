import { ROOT_ORG_ID, type Org } from '../api';

/** The switcher's value for "every organization" (no `org_id` filter). */
export const ALL_ORGS = 'all';

export interface OrgOption {
  value: string;
  label: string;
}

/** Root first, then the others by name (case-insensitive); suspended ones say so. */
export function sortOrgs(orgs: readonly Org[]): Org[] {
  return [...orgs].sort((a, b) => {
    if (a.org_id === ROOT_ORG_ID) return -1;
    if (b.org_id === ROOT_ORG_ID) return 1;
    return a.name.localeCompare(b.name, undefined, { sensitivity: 'base' }) || a.org_id.localeCompare(b.org_id);
  });
}

export function orgLabel(o: Org): string {
  return o.status === 'suspended' ? `${o.name} (suspended)` : o.name;
}

/** The options of the organization switcher: "All organizations", then each one. */
export function switcherOptions(orgs: readonly Org[]): OrgOption[] {
  return [{ value: ALL_ORGS, label: 'All organizations' }, ...sortOrgs(orgs).map((o) => ({ value: o.org_id, label: orgLabel(o) }))];
}

/**
 * The options of an organization picker on a create form: active organizations only
 * (a suspended one gets no new agents or APIs), plus `keep` when it is not among them.
 */
export function pickerOptions(orgs: readonly Org[], keep?: string): OrgOption[] {
  const opts = sortOrgs(orgs.filter((o) => o.status === 'active')).map((o) => ({ value: o.org_id, label: o.name }));
  if (keep && !opts.some((o) => o.value === keep)) {
    const known = orgs.find((o) => o.org_id === keep);
    opts.push({ value: keep, label: known ? orgLabel(known) : keep === ROOT_ORG_ID ? 'root' : keep });
  }
  return opts;
}

/**
 * The `org_id` a list should send: the switcher's choice for an operator (nothing for
 * "All organizations"), and nothing for everyone else (the server narrows their lists to
 * their own organization).
 */
export function listOrgFilter(operator: boolean, selected: string): string | undefined {
  return operator && selected !== ALL_ORGS ? selected : undefined;
}

/** The organization a create form starts with: the switcher's one, else the caller's. */
export function defaultOrgForCreate(selected: string, ownOrgId: string): string {
  return selected !== ALL_ORGS ? selected : ownOrgId;
}
