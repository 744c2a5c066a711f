import { Badge } from '@mantine/core';

const AGENT: Record<string, string> = { active: 'teal', suspended: 'yellow', decommissioned: 'gray' };
const CREDENTIAL: Record<string, string> = { active: 'teal', revoked: 'red', expired: 'gray' };
const KEY: Record<string, string> = { pending: 'blue', active: 'teal', retired: 'gray' };

export function AgentStatusBadge({ status }: { status: string }) {
  return (
    <Badge color={AGENT[status] ?? 'gray'} variant="light">
      {status}
    </Badge>
  );
}

export function CredentialStatusBadge({ status }: { status: string }) {
  return (
    <Badge color={CREDENTIAL[status] ?? 'gray'} variant="light">
      {status}
    </Badge>
  );
}

export function KeyStateBadge({ state }: { state: string }) {
  return (
    <Badge color={KEY[state] ?? 'gray'} variant="light">
      {state}
    </Badge>
  );
}

export function OutcomeBadge({ outcome }: { outcome: string }) {
  return (
    <Badge color={outcome === 'success' ? 'teal' : 'red'} variant="dot">
      {outcome}
    </Badge>
  );
}

const ORG: Record<string, string> = { active: 'teal', suspended: 'yellow' };

export function OrgStatusBadge({ status }: { status: string }) {
  return (
    <Badge color={ORG[status] ?? 'gray'} variant="light">
      {status}
    </Badge>
  );
}

const CREDENTIAL_TYPE: Record<string, { color: string; label: string; hint: string }> = {
  secret: { color: 'gray', label: 'secret', hint: 'A client secret (client_secret_basic or client_secret_post)' },
  private_key_jwt: { color: 'indigo', label: 'key', hint: 'private_key_jwt: client assertions signed with a key the agent holds' },
  federated: { color: 'grape', label: 'federated', hint: "A trusted issuer's token for one subject (workload identity)" },
};

export function CredentialTypeBadge({ type }: { type: string }) {
  const t = CREDENTIAL_TYPE[type] ?? { color: 'gray', label: type, hint: type };
  return (
    <Badge color={t.color} variant="outline" tt="none" title={t.hint}>
      {t.label}
    </Badge>
  );
}

/** Marks an agent or API whose tokens must be DPoP-bound (RFC 9449). */
export function DPoPBadge({ size = 'sm' }: { size?: 'xs' | 'sm' | 'md' }) {
  return (
    <Badge color="orange" variant="light" size={size} tt="none" title="Tokens only with a DPoP proof (require_dpop)">
      DPoP required
    </Badge>
  );
}
