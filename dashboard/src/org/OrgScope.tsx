import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import { useQuery } from '@tanstack/react-query';
import { collectPages, ROOT_ORG_ID, type Org } from '../api';
import { useApi, useAuth } from '../auth/AuthContext';
import { ALL_ORGS, listOrgFilter } from '../lib/orgs';

/** Organizations fetched whole for the switcher and pickers (5 pages of 200). */
const ORG_PAGE = 200;
const ORG_PAGES = 5;

export interface OrgScope {
  /** The caller holds orgs:admin: it acts on every organization and may switch. */
  operator: boolean;
  /** The caller's own organization (the token's `org_id` claim; display only). */
  ownOrgId: string;
  /** The switcher's choice: ALL_ORGS or an org_id. Always ALL_ORGS for a non-operator. */
  selected: string;
  setSelected: (orgId: string) => void;
  /** The `org_id` filter lists send (undefined: none). */
  filter: string | undefined;
  /** Every organization, for an operator (empty for anyone else). */
  orgs: Org[];
  /** More organizations exist than were fetched. */
  truncated: boolean;
  orgsLoading: boolean;
  /** A readable name for an org_id: its name when known, else the id shortened. */
  orgName: (orgId: string | null | undefined) => string;
  /** The caller's organization, when it could be read. */
  ownOrg: Org | undefined;
}

const OrgScopeContext = createContext<OrgScope | null>(null);

function shortOrg(id: string): string {
  return id.length > 13 ? `${id.slice(0, 8)}…` : id;
}

function useOrgScopeValue(selected: string, setSelected: (id: string) => void): OrgScope {
  const api = useApi();
  const { session, hasScope } = useAuth();
  const operator = hasScope('orgs:admin');
  const ownOrgId = session?.orgId ?? ROOT_ORG_ID;

  const all = useQuery({
    queryKey: ['orgs', 'all'],
    queryFn: ({ signal }) => collectPages((cursor) => api.listOrgs({ limit: ORG_PAGE, cursor }, signal), ORG_PAGES),
    enabled: operator,
    staleTime: 30_000,
  });
  // Anyone else reads its own organization (agents:read suffices for one's own).
  const own = useQuery({
    queryKey: ['org', ownOrgId],
    queryFn: ({ signal }) => api.getOrg(ownOrgId, signal),
    enabled: !operator && hasScope('agents:read'),
    staleTime: 60_000,
  });

  const orgs = useMemo(() => (operator ? (all.data?.items ?? []) : []), [operator, all.data]);
  const byId = useMemo(() => {
    const m = new Map<string, Org>();
    for (const o of orgs) m.set(o.org_id, o);
    if (own.data) m.set(own.data.org_id, own.data);
    return m;
  }, [orgs, own.data]);
  const orgName = useCallback(
    (id: string | null | undefined) => {
      const key = id ?? ROOT_ORG_ID; // events and agents from before organizations are root's
      return byId.get(key)?.name ?? (key === ROOT_ORG_ID ? 'root' : shortOrg(key));
    },
    [byId],
  );
  const effective = operator ? selected : ALL_ORGS;

  return useMemo(
    () => ({
      operator,
      ownOrgId,
      selected: effective,
      setSelected,
      filter: listOrgFilter(operator, effective),
      orgs,
      truncated: !!all.data?.truncated,
      orgsLoading: operator && all.isPending,
      orgName,
      ownOrg: byId.get(ownOrgId),
    }),
    [operator, ownOrgId, effective, setSelected, orgs, all.data, all.isPending, orgName, byId],
  );
}

/** Holds the operator's organization choice for the session (memory only). */
export function OrgScopeProvider({ children }: { children: ReactNode }) {
  const [selected, setSelected] = useState<string>(ALL_ORGS);
  const value = useOrgScopeValue(selected, setSelected);
  return <OrgScopeContext.Provider value={value}>{children}</OrgScopeContext.Provider>;
}

export function useOrgScope(): OrgScope {
  const ctx = useContext(OrgScopeContext);
  if (!ctx) throw new Error('useOrgScope must be used inside <OrgScopeProvider>');
  return ctx;
}
